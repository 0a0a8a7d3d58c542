#include "kernels/denormals.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__SSE3__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#define GAPSCOPE_HAS_MXCSR 1
#endif

namespace gapscope {

bool denormals_flush_wanted() {
  static const bool wanted = [] {
    const char* v = std::getenv("GAPSCOPE_FTZ");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return wanted;
}

void set_denormals_flush_this_thread(bool on) {
#ifdef GAPSCOPE_HAS_MXCSR
  _MM_SET_FLUSH_ZERO_MODE(on ? _MM_FLUSH_ZERO_ON : _MM_FLUSH_ZERO_OFF);
  _MM_SET_DENORMALS_ZERO_MODE(on ? _MM_DENORMALS_ZERO_ON : _MM_DENORMALS_ZERO_OFF);
#else
  (void)on;
#endif
}

void flush_denormals_this_thread() { set_denormals_flush_this_thread(denormals_flush_wanted()); }

bool denormals_flushed_this_thread() {
#ifdef GAPSCOPE_HAS_MXCSR
  return _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON && _MM_GET_DENORMALS_ZERO_MODE() == _MM_DENORMALS_ZERO_ON;
#else
  return false;
#endif
}

void flush_denormals_everywhere() {
  flush_denormals_this_thread();
  // libgomp keeps a team's threads between regions: one region of the full team reaches
  // each of them (omp_get_max_threads is what at::set_num_threads last set).
#pragma omp parallel num_threads(omp_get_max_threads())
  flush_denormals_this_thread();
}

}  // namespace gapscope

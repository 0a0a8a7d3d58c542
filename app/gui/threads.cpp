// Thread budgets and priorities. The only file of the lab that includes an ATen header.
#include "threads.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include <ATen/Parallel.h>

namespace gapscope::gui {

void limit_compute_threads(int n) {
  // ATen stores the count globally and applies it lazily on every thread that runs a
  // parallel region; OpenMP-built OpenBLAS follows the same OpenMP setting, and a
  // pthreads OpenBLAS is told directly when its entry point is present.
  at::set_num_threads(n);
  using SetFn = void (*)(int);
  if (auto f = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

void keep_freed_memory_mapped() {
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

void lower_thread_priority(int nice_value) {
  // Linux nice values are per thread, and threads inherit them from their creator.
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  setpriority(PRIO_PROCESS, tid, nice_value);
}

void run_in_background_priority(const std::function<void()>& fn, int nice_value) {
  std::thread([&] {
    lower_thread_priority(nice_value);
    fn();
  }).join();
}

}  // namespace gapscope::gui

// Compiled with -ffast-math (CMakeLists.txt): glibc declares the vector variants of logf,
// cosf and sinf (libmvec) only under __FAST_MATH__, and GCC vectorises the loops below
// only with them. Nothing here depends on IEEE corner cases: every argument is finite,
// u1 is in (0, 1) and the angle in [0, 2 pi).
#include "core/normals.h"

#include <algorithm>
#include <cmath>

#include "core/clones.h"
#include "core/rng.h"

namespace gapscope {
namespace {

constexpr std::size_t kBlock = 256;  // pairs per pass: four arrays of 1 KiB stay in L1

// o[2j], o[2j + 1] = r[j] cos, r[j] sin of ang[j] for j < nb (r null: radius 1). Separate
// loops for the cosine and the sine: in one loop GCC fuses them into sincosf, which it
// does not vectorise. Inlined into each clone below, so it gets their vector width.
inline __attribute__((always_inline)) void polar_block(const float* __restrict ang, const float* __restrict r,
                                                       std::size_t nb, float* __restrict c, float* __restrict s,
                                                       float* __restrict o) {
  for (std::size_t j = 0; j < nb; ++j) c[j] = std::cos(ang[j]);
  for (std::size_t j = 0; j < nb; ++j) s[j] = std::sin(ang[j]);
  if (r)
    for (std::size_t j = 0; j < nb; ++j) o[2 * j] = r[j] * c[j], o[2 * j + 1] = r[j] * s[j];
  else
    for (std::size_t j = 0; j < nb; ++j) o[2 * j] = c[j], o[2 * j + 1] = s[j];
}

// `pairs` pairs into out (interleaved), pair j from the splitmix64 state key + (j + 1) *
// golden, as the j-th call of normal_pair would draw it.
GAPSCOPE_CLONES void normal_pairs(float* __restrict out, std::size_t pairs, std::uint64_t key) {
  float r[kBlock], ang[kBlock], c[kBlock], s[kBlock];
  for (std::size_t j0 = 0; j0 < pairs; j0 += kBlock) {
    const std::size_t nb = std::min(kBlock, pairs - j0);
    for (std::size_t j = 0; j < nb; ++j) {
      std::uint64_t state = key + (j0 + j) * 0x9e3779b97f4a7c15ULL;
      const std::uint64_t bits = splitmix64(state);
      // normal_pair's u1 and u2; through int32 because GCC converts that to float in vectors
      const float u1 = (static_cast<float>(static_cast<std::int32_t>(bits >> 40)) + 0.5f) * 0x1p-24f;
      const float u2 = static_cast<float>(static_cast<std::int32_t>((bits >> 16) & 0xFFFFFF)) * 0x1p-24f;
      r[j] = std::sqrt(-2.f * std::log(u1));
      ang[j] = 6.2831853f * u2;
    }
    polar_block(ang, r, nb, c, s, out + 2 * j0);
  }
}

// n directions into out (interleaved), as circle_directions says.
GAPSCOPE_CLONES void directions(float* __restrict out, std::size_t n, std::uint64_t key) {
  float ang[kBlock], c[kBlock], s[kBlock];
  for (std::size_t j0 = 0; j0 < n; j0 += kBlock) {
    const std::size_t nb = std::min(kBlock, n - j0);
    for (std::size_t j = 0; j < nb; ++j) {
      std::uint64_t state = key + (j0 + j) * 0x9e3779b97f4a7c15ULL;
      const std::uint64_t bits = splitmix64(state);
      ang[j] = 6.2831853f * static_cast<float>(static_cast<std::int32_t>(bits >> 40)) * 0x1p-24f;
    }
    polar_block(ang, nullptr, nb, c, s, out + 2 * j0);
  }
}

}  // namespace

void circle_directions(float* out, std::size_t n, std::uint64_t key) { directions(out, n, key); }

void standard_normals(float* out, std::size_t n, std::uint64_t key) {
  const std::size_t pairs = n / 2;
  normal_pairs(out, pairs, key);
  if (n % 2) {
    std::uint64_t state = key + pairs * 0x9e3779b97f4a7c15ULL;
    float a, b;
    normal_pair(state, a, b);
    out[n - 1] = a;
  }
}

}  // namespace gapscope

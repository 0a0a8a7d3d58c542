#include "kernels/activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/clones.h"

namespace gapscope {
namespace {

// exp(x) for x <= 0 in float, ~2e-7 relative: range reduction by ln 2 and a degree-6
// polynomial in plain arithmetic so that the loops calling it vectorise (the libm call
// was two thirds of the sampler's time). Clamped at -40 (e^x = 4e-18): below, the
// squares in log1p_unit underflow, and float underflow costs a microcode assist per
// lane (measured: 4x slower softplus on a network with many saturated units).
// k = round(x / ln 2) by adding 1.5 * 2^23 + 127: at that magnitude a float's unit in the
// last place is 1, so the sum rounds x / ln 2 to an integer, and its low mantissa bits
// hold k + 127, the biased exponent of 2^k, ready to shift into place. Where an int
// conversion, a rounding and an integer add made k and n, this is one FMA and a
// subtraction: the value-and-slope loop ran 1.12x faster (stand-alone, five rounds). It
// rounds ties to even where the conversion rounded them down: 11 of 2^24 slopes and
// values over beta h in [-60, 60] moved by an ulp or two.
inline __attribute__((always_inline)) float exp_nonpositive(float x) {
  x = x < -40.f ? -40.f : x;
  constexpr float kShift = 12582912.f + 127.f;
  const float shifted = x * 1.44269504f + kShift;
  const float n = shifted - kShift;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  const float p =
      1.f + r * (1.f + r * (0.5f + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720))))));
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  bits <<= 23;  // k + 127 in [87, 127]: the exponent field, the sign bit clear
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// log(1 + e) for e in [0, 1] as e P(e), P the degree-8 Chebyshev interpolant of
// log1p(e) / e on [0, 1] (3.1e-8 relative, largest near e = 1): no cancellation for tiny
// e, and no division, where the atanh series in e / (2 + e) needed one (the value-and-
// slope pass measured 12-19 % faster, in a stand-alone loop and in bench_peak; the same
// numbers to 3e-7 relative).
inline __attribute__((always_inline)) float log1p_unit(float e) {
  constexpr float c[9] = {9.999999705e-01f, -4.999950152e-01f, 3.331927134e-01f, -2.484436989e-01f, 1.911143108e-01f,
                          -1.367476971e-01f, 7.836166802e-02f, -2.958850739e-02f, 5.253457797e-03f};
  float p = c[8];
  for (int k = 7; k >= 0; --k) p = p * e + c[k];
  return e * p;
}

// Everything from e = exp(-|beta h|), branch-free so GCC vectorises it (this file is
// compiled with -fno-trapping-math, which if-conversion of the selects needs), with
// AVX-512 and AVX2 clones picked at run time. The D2/D3 variants are separate loops
// so that the sampler's value-and-slope pass does no extra work.
template <int Order, bool Value = true>
inline __attribute__((always_inline)) void softplus_loop(int64_t m, const float* __restrict h, float* __restrict z,
                                                          float* __restrict D1, float* __restrict D2,
                                                          float* __restrict D3, float beta) {
  const float inv_beta = 1.f / beta;
  // Two vectors per trip: each is one long chain of dependent operations (the two
  // polynomials and the division). bench_peak, median of ten alternating pairs: value and
  // slope 1.08x, slope alone 1.11x, order 2 1.06x, order 3 the same.
#pragma GCC unroll 2
  for (int64_t i = 0; i < m; ++i) {
    const float hi = h[i], bh = beta * hi;
    const float e = exp_nonpositive(-std::fabs(bh));
    const float r = 1.f / (1.f + e);
    const float sig = bh >= 0.f ? r : e * r;
    // torch's linear regime (beta h > 20) needs no select for the value and the slope:
    // there e < e^-20, so log1p(e) / beta < 1e-10 h is below half an ulp of h and the sum
    // rounds to h, and 1 + e rounds to 1, so sig is 1. Without the selects the
    // value-and-slope loop ran 1.05x faster, with every bit the same (2^24 inputs).
    if (Value) z[i] = std::max(hi, 0.f) + log1p_unit(e) * inv_beta;
    if (Order >= 1) D1[i] = sig;
    if (Order >= 2) {
      const bool lin = bh > 20.f;  // the second and third derivatives are 0 there, not tiny
      const float q = e * r * r;  // sigma (1 - sigma), without cancellation
      D2[i] = lin ? 0.f : beta * q;
      if (Order >= 3) D3[i] = lin ? 0.f : beta * beta * q * (1.f - 2.f * sig);
    }
  }
}

GAPSCOPE_CLONES void softplus0(int64_t m, const float* h, float* z, float beta) {
  softplus_loop<0>(m, h, z, nullptr, nullptr, nullptr, beta);
}
GAPSCOPE_CLONES void softplus1(int64_t m, const float* h, float* z, float* D1, float beta) {
  softplus_loop<1>(m, h, z, D1, nullptr, nullptr, beta);
}
GAPSCOPE_CLONES void softplus_slope(int64_t m, const float* h, float* D1, float beta) {
  softplus_loop<1, false>(m, h, nullptr, D1, nullptr, nullptr, beta);
}
GAPSCOPE_CLONES void softplus2(int64_t m, const float* h, float* z, float* D1, float* D2, float beta) {
  softplus_loop<2>(m, h, z, D1, D2, nullptr, beta);
}
GAPSCOPE_CLONES void softplus_slope2(int64_t m, const float* h, float* D1, float* D2, float beta) {
  softplus_loop<2, false>(m, h, nullptr, D1, D2, nullptr, beta);
}
GAPSCOPE_CLONES void softplus3(int64_t m, const float* h, float* z, float* D1, float* D2, float* D3, float beta) {
  softplus_loop<3>(m, h, z, D1, D2, D3, beta);
}

// Generic path (double, tanh, SiLU): libm, one element at a time.
template <typename T>
void activation_scalar(const ModelSpec& s, int64_t m, const T* h, T* z, T* D1, T* D2, T* D3) {
  for (int64_t i = 0; i < m; ++i) {
    const T x = h[i];
    T v, d1, d2, d3;
    switch (s.activation) {
      case Activation::Softplus: {
        const T beta = static_cast<T>(s.softplus_beta), bh = beta * x;
        const T e = std::exp(-std::fabs(bh)), r = T(1) / (T(1) + e);
        const T g = bh >= 0 ? r : e * r, q = e * r * r;
        const bool lin = bh > T(20);
        v = lin ? x : std::max(x, T(0)) + std::log1p(e) / beta;
        d1 = lin ? T(1) : g;
        d2 = lin ? T(0) : beta * q;
        d3 = lin ? T(0) : beta * beta * q * (T(1) - T(2) * g);
        break;
      }
      case Activation::Tanh: {
        const T y = std::tanh(x), q = T(1) - y * y;
        v = y, d1 = q, d2 = T(-2) * y * q, d3 = q * (T(6) * y * y - T(2));
        break;
      }
      case Activation::SiLU:
      default: {
        const T g = T(1) / (T(1) + std::exp(-x)), q = g * (T(1) - g), w = T(1) - T(2) * g;
        v = x * g;
        d1 = g * (T(1) + x * (T(1) - g));
        d2 = q * (T(2) + x * w);
        d3 = q * (w * (T(3) + x * w) - T(2) * x * q);
        break;
      }
    }
    if (z) z[i] = v;
    if (D1) D1[i] = d1;
    if (D2) D2[i] = d2;
    if (D3) D3[i] = d3;
  }
}

}  // namespace

void activation_jet(const ModelSpec& s, int64_t m, const float* h, float* z, float* D1, float* D2, float* D3) {
  if (s.activation != Activation::Softplus) return activation_scalar(s, m, h, z, D1, D2, D3);
  const float beta = static_cast<float>(s.softplus_beta);
  if (!D1) return softplus0(m, h, z, beta);
  if (!D2) return z ? softplus1(m, h, z, D1, beta) : softplus_slope(m, h, D1, beta);
  if (!D3) return z ? softplus2(m, h, z, D1, D2, beta) : softplus_slope2(m, h, D1, D2, beta);
  softplus3(m, h, z, D1, D2, D3, beta);
}

void activation_jet(const ModelSpec& s, int64_t m, const double* h, double* z, double* D1, double* D2, double* D3) {
  activation_scalar(s, m, h, z, D1, D2, D3);
}

}  // namespace gapscope

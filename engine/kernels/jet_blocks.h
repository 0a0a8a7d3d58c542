#pragma once
// The element-wise half of the forward Taylor jets (nn/jet.h), on raw arrays, shared by
// the tensor-level jets (nn/jet.cpp) and the fused CPU kernels (kernels/fused_potential.cpp).
// Layout: a layer's jet is B = 1 + K + Q blocks of n rows x H, block-major: the value,
// then K tangents, then Q second-order blocks. Callers split rows [r0, r1) over threads.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace gapscope {
namespace jet {

constexpr int kMaxTangents = 32;

// Tangent k differentiates along input coordinate dirs[k] (0 = t, 1 + i = x_i).
// Second-order block q is sum over its (a, b) terms of d2/(d dir_a d dir_b).
struct Plan {
  std::vector<int64_t> dirs;
  std::vector<std::vector<std::pair<int, int>>> quads;
  int K() const { return static_cast<int>(dirs.size()); }
  int Q() const { return static_cast<int>(quads.size()); }
  int B() const { return 1 + K() + Q(); }
};

// Simple loops over contiguous rows: restrict-qualified so that the compiler vectorises them.
template <typename T>
inline void vmul(T* __restrict o, const T* __restrict a, const T* __restrict b, int64_t m) {
  for (int64_t i = 0; i < m; ++i) o[i] = a[i] * b[i];
}
template <typename T>
inline void vfma2(T* __restrict o, const T* __restrict a, const T* __restrict b, int64_t m) {
  for (int64_t i = 0; i < m; ++i) o[i] += a[i] * b[i];
}
template <typename T>
inline void vfma3(T* __restrict o, const T* __restrict a, const T* __restrict b, const T* __restrict c, int64_t m) {
  for (int64_t i = 0; i < m; ++i) o[i] += a[i] * b[i] * c[i];
}

// Tangent and second-order blocks of one activation layer, from the derivatives D1, D2
// (the value block is the activation itself, written by the caller).
// Hs == nullptr: layer 0, where tangents are w0[k*H + j] and second-order blocks are zero.
template <typename T>
void activate_blocks(const Plan& p, int64_t n, int64_t H, const T* Hs, const T* w0, const T* D1, const T* D2, T* Z,
                     int64_t r0, int64_t r1) {
  const int K = p.K(), Q = p.Q();
  if (K == 0) return;
  const T* hk[kMaxTangents];
  for (int64_t r = r0; r < r1; ++r) {
    const T *d1 = D1 + r * H, *d2 = D2 + r * H;
    for (int k = 0; k < K; ++k) {
      hk[k] = Hs ? Hs + ((1 + k) * n + r) * H : w0 + k * H;
      vmul(Z + ((1 + k) * n + r) * H, d1, hk[k], H);
    }
    for (int q = 0; q < Q; ++q) {
      T* zq = Z + ((1 + K + q) * n + r) * H;
      if (Hs)
        vmul(zq, d1, Hs + ((1 + K + q) * n + r) * H, H);
      else
        std::fill(zq, zq + H, T(0));
      for (auto& ab : p.quads[q]) vfma3(zq, d2, hk[ab.first], hk[ab.second], H);
    }
  }
}

// Adjoint of activate_blocks and of the activation: Hb (the pre-activation's adjoint,
// all blocks) from Zb (the activation's adjoint). D3 is read only when Q > 0.
template <typename T>
void activate_backward(const Plan& p, int64_t n, int64_t H, const T* Hs, const T* w0, const T* D1, const T* D2,
                       const T* D3, const T* Zb, T* Hb, int64_t r0, int64_t r1) {
  const int K = p.K(), Q = p.Q();
  const T* hk[kMaxTangents];
  std::vector<T> s(Q ? H : 0), quad(Q ? H : 0);
  for (int64_t r = r0; r < r1; ++r) {
    const T *d1 = D1 + r * H, *d2 = D2 + r * H;
    T* hbv = Hb + r * H;
    vmul(hbv, d1, Zb + r * H, H);
    for (int k = 0; k < K; ++k) {
      const int64_t ok = ((1 + k) * n + r) * H;
      hk[k] = Hs ? Hs + ok : w0 + k * H;
      vmul(Hb + ok, d1, Zb + ok, H);
      vfma3(hbv, d2, Zb + ok, hk[k], H);
    }
    for (int q = 0; q < Q; ++q) {
      const int64_t oq = ((1 + K + q) * n + r) * H;
      const T* zq = Zb + oq;
      vmul(Hb + oq, d1, zq, H);
      vmul(s.data(), d2, zq, H);
      std::fill(quad.begin(), quad.end(), T(0));
      for (auto& ab : p.quads[q]) {
        const T *ha = hk[ab.first], *hb = hk[ab.second];
        vfma2(Hb + ((1 + ab.first) * n + r) * H, s.data(), hb, H);
        vfma2(Hb + ((1 + ab.second) * n + r) * H, s.data(), ha, H);
        vfma2(quad.data(), ha, hb, H);
      }
      vfma3(hbv, zq, D3 + r * H, quad.data(), H);
      if (Hs) vfma2(hbv, s.data(), Hs + oq, H);
    }
  }
}

// The plan of a JetSpec-like request in d dimensions: tangents along t (if dt) and every
// x_i (if dx); one Laplacian block, or the d(d+1)/2 Hessian pairs (i <= j).
enum class Second { None, Laplacian, Hessian };
Plan make_plan(bool dt, bool dx, Second second, int d);

// The second-order block of the Hessian pair (i, j) in make_plan's order (i <= j, row-major).
inline int hessian_pair(int d, int i, int j) {
  if (i > j) std::swap(i, j);
  return i * d - i * (i - 1) / 2 + (j - i);
}

}  // namespace jet
}  // namespace gapscope

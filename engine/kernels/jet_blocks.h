#pragma once
// The element-wise half of the forward Taylor jets (nn/jet.h), on raw arrays, shared by
// the tensor-level jets (nn/jet.cpp) and the fused CPU kernels (kernels/fused_potential.cpp).
// Layout: a layer's jet is B = 1 + K + Q blocks of n rows x H, block-major: the value,
// then K tangents, then Q second-order blocks. Callers split rows [r0, r1) over threads.
#include <algorithm>
#include <cstdint>
#include <cstring>
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
//
// One pass per row and chunk of lanes: every block's adjoint of the chunk is built in
// locals (registers, for the plans compiled in below) and stored once. Written as a pass
// per block and term (vmul/vfma over whole rows), the Laplacian plan made 18 passes per
// row that re-read and re-wrote the tangent adjoints; that was 1.2 ms of each thread's 8.5
// ms in the paper's lambda = 1 residual blocks. Each entry sees the same operations in the
// same order as in that form. The chunk is a GCC vector (one 512-bit register, split by
// the compiler on narrower targets): written as loops over 16 lanes, GCC unrolled them
// and left them scalar.
template <typename T>
struct Lanes {
  typedef T V __attribute__((vector_size(64)));
  static constexpr int n = 64 / sizeof(T);
};
// Loads and stores through memcpy (unaligned, no aliasing question); the value is an
// out-parameter because a 512-bit vector returned by value changes the ABI between targets.
template <typename V, typename T>
inline void load_lanes(V& v, const T* p) {
  std::memcpy(&v, p, sizeof(V));
}
template <typename V, typename T>
inline void store_lanes(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// V: Lanes<T>::V, or T itself for the columns past the last full vector.
template <typename T, typename V, int KT, int QT>
inline void activate_backward_chunk(const Plan& p, int K, int Q, int64_t n, int64_t H, int64_t r, int64_t o0,
                                    const T* Hs, const T* const* hk, const T* D1, const T* D2, const T* D3,
                                    const T* Zb, T* Hb) {
  constexpr int KA = KT >= 0 ? (KT > 0 ? KT : 1) : kMaxTangents;
  V d1, d2, zb, hbv, hbk[KA];
  load_lanes(d1, D1 + r * H + o0), load_lanes(d2, D2 + r * H + o0), load_lanes(zb, Zb + r * H + o0);
  hbv = d1 * zb;
  for (int k = 0; k < K; ++k) {
    V zk, h;
    load_lanes(zk, Zb + ((1 + k) * n + r) * H + o0), load_lanes(h, hk[k] + o0);
    hbk[k] = d1 * zk;
    hbv += d2 * zk * h;
  }
  for (int q = 0; q < Q; ++q) {
    const int64_t oq = ((1 + K + q) * n + r) * H + o0;
    V zq, d3, quad = V{};
    load_lanes(zq, Zb + oq);
    const V s = d2 * zq;
    store_lanes(Hb + oq, V(d1 * zq));
    for (auto& ab : p.quads[q]) {
      const int a = ab.first, b = ab.second;
      V ha, hb;
      load_lanes(ha, hk[a] + o0), load_lanes(hb, hk[b] + o0);
      // hbk indexed by the loop's k only, so that it can stay in registers
      for (int k = 0; k < K; ++k) {
        if (k == a) hbk[k] += s * hb;
        if (k == b) hbk[k] += s * ha;
      }
      quad += ha * hb;
    }
    load_lanes(d3, D3 + r * H + o0);
    hbv += zq * d3 * quad;
    if (Hs) {
      V hq;
      load_lanes(hq, Hs + oq);
      hbv += s * hq;
    }
  }
  store_lanes(Hb + r * H + o0, hbv);
  for (int k = 0; k < K; ++k) store_lanes(Hb + ((1 + k) * n + r) * H + o0, hbk[k]);
}

// KT, QT: the plan's K and Q where known at compile time (-1: read from the plan).
template <typename T, int KT, int QT>
void activate_backward_rows(const Plan& p, int64_t n, int64_t H, const T* Hs, const T* w0, const T* D1, const T* D2,
                            const T* D3, const T* Zb, T* Hb, int64_t r0, int64_t r1) {
  constexpr int W = Lanes<T>::n;
  const int K = KT >= 0 ? KT : p.K(), Q = QT >= 0 ? QT : p.Q();
  const T* hk[kMaxTangents];
  for (int64_t r = r0; r < r1; ++r) {
    for (int k = 0; k < K; ++k) hk[k] = Hs ? Hs + ((1 + k) * n + r) * H : w0 + k * H;
    int64_t o0 = 0;
    for (; o0 + W <= H; o0 += W)
      activate_backward_chunk<T, typename Lanes<T>::V, KT, QT>(p, K, Q, n, H, r, o0, Hs, hk, D1, D2, D3, Zb, Hb);
    for (; o0 < H; ++o0) activate_backward_chunk<T, T, KT, QT>(p, K, Q, n, H, r, o0, Hs, hk, D1, D2, D3, Zb, Hb);
  }
}

template <typename T>
void activate_backward(const Plan& p, int64_t n, int64_t H, const T* Hs, const T* w0, const T* D1, const T* D2,
                       const T* D3, const T* Zb, T* Hb, int64_t r0, int64_t r1) {
  // Compiled for the plans of d = 2 (t and x tangents; the Laplacian or the 3 Hessian
  // pairs) and for value-only blocks; any other plan takes the general loop.
  if (p.K() == 3 && p.Q() == 1)
    activate_backward_rows<T, 3, 1>(p, n, H, Hs, w0, D1, D2, D3, Zb, Hb, r0, r1);
  else if (p.K() == 3 && p.Q() == 3)
    activate_backward_rows<T, 3, 3>(p, n, H, Hs, w0, D1, D2, D3, Zb, Hb, r0, r1);
  else if (p.K() == 0 && p.Q() == 0)
    activate_backward_rows<T, 0, 0>(p, n, H, Hs, w0, D1, D2, D3, Zb, Hb, r0, r1);
  else
    activate_backward_rows<T, -1, -1>(p, n, H, Hs, w0, D1, D2, D3, Zb, Hb, r0, r1);
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

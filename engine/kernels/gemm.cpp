#include "kernels/gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace gapscope {
namespace {

// MR rows x NV 16-wide vectors of C live in registers for the whole K loop; B's row k
// is loaded once per k and reused for the MR rows. MR = 4, NV = 5 (80 columns) uses
// 20 accumulators + 5 B vectors of the 32 zmm registers. Full: the last vector lies
// wholly inside C, so B's last vector is a plain load; the masked one reloaded its mask
// from the stack on every k, a tenth load per 20 FMAs in a loop that an Intel Xeon issues
// at two loads a cycle (bench_peak's sampler shape: 1.11x, median of twelve pairs).
template <int MR, int NV, bool Full>
__attribute__((target("avx512f"), always_inline)) inline void tile_avx512(int64_t K, MatA A, const float* B,
                                                                         int64_t ldb, float* C, int64_t ldc,
                                                                         __mmask16 last, bool accumulate,
                                                                         const Epilogue& e) {
  auto mask = [last](int j) { return j == NV - 1 && !Full ? last : static_cast<__mmask16>(0xFFFF); };
  __m512 c[MR][NV];
  const bool product = e.scale_product && e.scale, from_c = accumulate && !product;  // product: C0 after the scale
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j)
      c[i][j] = from_c   ? _mm512_maskz_loadu_ps(mask(j), C + i * ldc + 16 * j)
                : e.bias ? _mm512_maskz_loadu_ps(mask(j), e.bias + 16 * j)
                         : _mm512_setzero_ps();
  if (from_c && e.bias)
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) c[i][j] = _mm512_add_ps(c[i][j], _mm512_maskz_loadu_ps(mask(j), e.bias + 16 * j));
  const float* a = A.p;
  // Two k per trip, so half the loop's own adds and compares per FMA: bench_peak, median
  // of twelve alternating pairs, 1.035x at the sampler's and the training block's shapes
  // and 1.015x for the weight gradient; four per trip measured the same as two.
#pragma GCC unroll 2
  for (int64_t k = 0; k < K; ++k, a += A.col_stride, B += ldb) {
    __m512 b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV - 1; ++j) b[j] = _mm512_loadu_ps(B + 16 * j);
    b[NV - 1] = Full ? _mm512_loadu_ps(B + 16 * (NV - 1)) : _mm512_maskz_loadu_ps(last, B + 16 * (NV - 1));
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * A.row_stride]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) c[i][j] = _mm512_fmadd_ps(ai, b[j], c[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      __m512 v = c[i][j];
      const int64_t side = i * e.ld_scale + 16 * j;
      if (e.out2)
        _mm512_mask_storeu_ps(e.out2 + side, mask(j),
                              e.scale2 ? _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mask(j), e.scale2 + side)) : v);
      if (e.scale) {
        const __m512 s = _mm512_maskz_loadu_ps(mask(j), e.scale + side);
        v = product && accumulate ? _mm512_fmadd_ps(v, s, _mm512_maskz_loadu_ps(mask(j), C + i * ldc + 16 * j))
                                  : _mm512_mul_ps(v, s);
      }
      _mm512_mask_storeu_ps(C + i * ldc + 16 * j, mask(j), v);
    }
}

constexpr int kMR = 4, kNV = 5;
constexpr int64_t kKC = 64;

// All row tiles of one column panel (NV vectors wide): MR-row tiles, then the M % MR
// rows left. One call per panel, where an indirect call per tile, with the tile's
// epilogue built on the stack and passed by value, stalled on store forwarding: 4-5 % of
// the sampler's time in the caller's own instructions (perf annotate).
template <int MR, int NV, bool Full>
__attribute__((target("avx512f"), always_inline)) inline void tile_at(int64_t i0, int64_t K, MatA A, const float* B,
                                                                     int64_t ldb, float* C, int64_t ldc,
                                                                     __mmask16 last, bool accumulate,
                                                                     const Epilogue& e) {
  const int64_t side = i0 * e.ld_scale;
  const Epilogue ei{e.bias, e.scale ? e.scale + side : nullptr, e.ld_scale, e.scale_product,
                    e.scale2 ? e.scale2 + side : nullptr, e.out2 ? e.out2 + side : nullptr};
  tile_avx512<MR, NV, Full>(K, MatA{A.p + i0 * A.row_stride, A.row_stride, A.col_stride}, B, ldb, C + i0 * ldc, ldc,
                            last, accumulate, ei);
}
template <int NV, bool Full>
__attribute__((target("avx512f"))) void panel_avx512(int64_t M, int64_t K, MatA A, const float* B, int64_t ldb,
                                                     float* C, int64_t ldc, __mmask16 last, bool accumulate,
                                                     const Epilogue& e) {
  int64_t i0 = 0;
  for (; i0 + kMR <= M; i0 += kMR) tile_at<kMR, NV, Full>(i0, K, A, B, ldb, C, ldc, last, accumulate, e);
  switch (M - i0) {
    case 3: tile_at<3, NV, Full>(i0, K, A, B, ldb, C, ldc, last, accumulate, e); break;
    case 2: tile_at<2, NV, Full>(i0, K, A, B, ldb, C, ldc, last, accumulate, e); break;
    case 1: tile_at<1, NV, Full>(i0, K, A, B, ldb, C, ldc, last, accumulate, e); break;
    default: break;
  }
}
using PanelFn = void (*)(int64_t, int64_t, MatA, const float*, int64_t, float*, int64_t, __mmask16, bool,
                         const Epilogue&);

__attribute__((target("avx512f"))) void gemm_avx512(int64_t M, int64_t N, int64_t K, MatA A, const float* B,
                                                    int64_t ldb, float* C, int64_t ldc, bool accumulate,
                                                    const Epilogue& e);

// C (M x N) (+)= P^T B with N a few columns: the first layer's weight gradient (N = 1 + d
// inputs, K = the block's rows). As M x N tiles each 4 x N tile is a serial chain of K
// masked FMAs, 13-15 GFLOP/s (a third of a millisecond per paper-sized step on each
// thread); as its transpose C^T = B^T P the M columns fill the vector lanes. C^T starts
// from C, so each entry is the same chain of FMAs as in the direct form.
constexpr int64_t kNarrowN = 4;
__attribute__((target("avx512f"))) void gemm_narrow_tn(int64_t M, int64_t N, int64_t K, MatA A, const float* B,
                                                       int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  thread_local std::vector<float> ct;
  ct.resize(static_cast<std::size_t>(N * M));
  if (accumulate)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) ct[j * M + i] = C[i * ldc + j];
  // C^T(j, i) = sum_k B(k, j) A(i, k): A' = B^T by strides, B' = A^T is row-major (A's row stride is 1).
  gemm_avx512(N, M, K, MatA{B, 1, ldb}, A.p, A.col_stride, ct.data(), M, accumulate, {});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = ct[j * M + i];
}

__attribute__((target("avx512f"))) void gemm_avx512(int64_t M, int64_t N, int64_t K, MatA A, const float* B,
                                                    int64_t ldb, float* C, int64_t ldc, bool accumulate,
                                                    const Epilogue& e) {
  if (N <= kNarrowN && M >= 16 && A.row_stride == 1 && !e.bias && !e.scale && !e.out2)
    return gemm_narrow_tn(M, N, K, A, B, ldb, C, ldc, accumulate);
  static const PanelFn panel[2][kNV] = {
      {&panel_avx512<1, false>, &panel_avx512<2, false>, &panel_avx512<3, false>, &panel_avx512<4, false>,
       &panel_avx512<5, false>},
      {&panel_avx512<1, true>, &panel_avx512<2, true>, &panel_avx512<3, true>, &panel_avx512<4, true>,
       &panel_avx512<5, true>}};
  // Column panels outermost: a panel of B (K x 80) stays in L1 while all row tiles pass.
  for (int64_t j0 = 0; j0 < N; j0 += 16 * kNV) {
    const int64_t w = std::min<int64_t>(16 * kNV, N - j0);
    const int nv = static_cast<int>((w + 15) / 16);
    const int rem = static_cast<int>(w - 16 * (nv - 1));
    const __mmask16 last = static_cast<__mmask16>(rem == 16 ? 0xFFFF : (1u << rem) - 1);
    const Epilogue ej{e.bias ? e.bias + j0 : nullptr, e.scale ? e.scale + j0 : nullptr, e.ld_scale, e.scale_product,
                      e.scale2 ? e.scale2 + j0 : nullptr, e.out2 ? e.out2 + j0 : nullptr};
    const PanelFn f = panel[rem == 16][nv - 1];
    if (K < 2 * kKC || e.scale || e.out2) {
      f(M, K, A, B + j0, ldb, C + j0, ldc, last, accumulate, ej);
      continue;
    }
    // Deep products (the weight gradients: K = 2m = 128 in the DSM blocks, 5m = 320 over
    // the residual's jets) in chunks of depth kKC, each through all row tiles: a tile that
    // streams all of K reads B (128 x 80, 40 KB) and A^T, which together overflow the
    // 48 KB L1 of the current Xeon. Chunked, bench_peak's weight-gradient shape read
    // 176-201 GFLOP/s against 149-159 (six alternating pairs). Only without an element-wise
    // epilogue, which needs the whole sum: each chunk goes on from the C the last one
    // stored, the same FMAs in the same order (test_gemm compares the bits).
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      const Epilogue ek{k0 == 0 ? ej.bias : nullptr};
      f(M, std::min(kKC, K - k0), MatA{A.p + k0 * A.col_stride, A.row_stride, A.col_stride}, B + k0 * ldb + j0, ldb,
        C + j0, ldc, last, accumulate || k0 > 0, ek);
    }
  }
}

}  // namespace

void gemm_portable(int64_t M, int64_t N, int64_t K, MatA A, const float* __restrict B, int64_t ldb,
                   float* __restrict C, int64_t ldc, bool accumulate, const Epilogue& e) {
  std::vector<float> v(static_cast<std::size_t>(N));
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict c = C + i * ldc;
    const bool product = e.scale_product && e.scale, from_c = accumulate && !product;
    for (int64_t j = 0; j < N; ++j) v[j] = from_c ? c[j] : 0.f;
    if (e.bias)
      for (int64_t j = 0; j < N; ++j) v[j] += e.bias[j];
    for (int64_t k = 0; k < K; ++k) {
      const float a = A.p[i * A.row_stride + k * A.col_stride];
      const float* __restrict b = B + k * ldb;
      for (int64_t j = 0; j < N; ++j) v[j] += a * b[j];
    }
    const int64_t side = i * e.ld_scale;
    if (e.out2)
      for (int64_t j = 0; j < N; ++j) e.out2[side + j] = e.scale2 ? v[j] * e.scale2[side + j] : v[j];
    for (int64_t j = 0; j < N; ++j) {
      const float s = e.scale ? e.scale[side + j] : 1.f;
      c[j] = product && accumulate ? c[j] + v[j] * s : v[j] * s;
    }
  }
}

bool gemm_uses_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

void gemm(int64_t M, int64_t N, int64_t K, MatA A, const float* B, int64_t ldb, float* C, int64_t ldc,
          bool accumulate, const Epilogue& e) {
  if (M <= 0 || N <= 0) return;
  if (gemm_uses_avx512() && K > 0)
    gemm_avx512(M, N, K, A, B, ldb, C, ldc, accumulate, e);
  else
    gemm_portable(M, N, K, A, B, ldb, C, ldc, accumulate, e);
}

}  // namespace gapscope

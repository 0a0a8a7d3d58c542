#pragma once
// Single-threaded float GEMM for the network's small matrices (widths of tens to a
// few hundred): C (M x N) = A B, or C += A B. A is addressed by strides, so the same
// kernel serves A (row-major) and A^T (the weight gradient's reduction over rows).
// B is row-major K x N. Callers parallelise over row blocks themselves: at these
// sizes a block of a few hundred rows keeps everything in L1/L2, and splitting
// rows scales where a threaded BLAS call does not (OpenBLAS here: 2 threads slower
// than one on 10 000 x 80 x 80). An AVX-512 register-blocked kernel is picked at
// run time; other CPUs get a plain vectorisable loop.
#include <cstdint>

namespace gapscope {

struct MatA {
  const float* p;
  int64_t row_stride;  // distance between A(i, k) and A(i + 1, k)
  int64_t col_stride;  // distance between A(i, k) and A(i, k + 1)
};
inline MatA rows_of(const float* p, int64_t ld) { return {p, ld, 1}; }        // A row-major
inline MatA transposed(const float* p, int64_t ld) { return {p, 1, ld}; }     // A = P^T, P row-major

// Applied to each tile while it is in registers, so that the element-wise step after a
// GEMM costs no pass of its own. With C0 = C (accumulate) or 0 and v = A B + 1 bias^T:
//   C = (C0 + v) * scale      by default;
//   C = C0 + v * scale        with scale_product and a scale (an adjoint through an
//                             activation, added);
//   out2 = u * scale2         with out2, besides C, where u is C's value before its scale
//                             (C0 + v by default, v with scale_product): two products of one GEMM.
// bias is a row of N; scale, scale2 and out2 are M x N matrices with leading dimension
// ld_scale. All optional (a null scale or scale2 multiplies by 1).
struct Epilogue {
  const float* bias = nullptr;
  const float* scale = nullptr;
  int64_t ld_scale = 0;
  bool scale_product = false;
  const float* scale2 = nullptr;
  float* out2 = nullptr;
};

void gemm(int64_t M, int64_t N, int64_t K, MatA A, const float* B, int64_t ldb, float* C, int64_t ldc,
          bool accumulate, const Epilogue& e = {});

// The plain loop behind gemm() on CPUs without AVX-512 (callable directly for tests).
void gemm_portable(int64_t M, int64_t N, int64_t K, MatA A, const float* B, int64_t ldb, float* C, int64_t ldc,
                   bool accumulate, const Epilogue& e = {});
bool gemm_uses_avx512();

}  // namespace gapscope

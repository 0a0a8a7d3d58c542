// The small-matrix GEMM against a double reference: both kernels (AVX-512 where the CPU
// has it, and the portable loop), row-major and transposed A, overwrite and accumulate,
// shapes that are not multiples of the register tile, with and without the epilogue
// (bias row, element-wise scale before or after C0, a second scaled output), and the narrow transposed products (N <= 4) that the
// AVX-512 kernel computes as their transpose.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/gemm.h"

using namespace gapscope;

namespace {

using GemmFn = void (*)(int64_t, int64_t, int64_t, MatA, const float*, int64_t, float*, int64_t, bool, const Epilogue&);

// epi: bit 0 bias, 1 scale, 2 scale_product, 3 out2, 4 scale2.
void check(GemmFn f, int64_t M, int64_t N, int64_t K, bool transposed_a, bool accumulate, int epi) {
  const bool bias = epi & 1, scale = epi & 2, product = epi & 4, out2 = epi & 8, scale2 = epi & 16;
  std::mt19937_64 rng(M * 1000003 + N * 1009 + K);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t lda = (transposed_a ? M : K) + 3, ldb = N + 5, ldc = N + 2, lds = N + 1;  // padded leading dimensions
  std::vector<float> A((transposed_a ? K : M) * lda), B(K * ldb), C(M * ldc);
  for (auto& e : A) e = u(rng);
  for (auto& e : B) e = u(rng);
  for (auto& e : C) e = u(rng);
  std::vector<float> bv(N), sv(M * lds), s2(M * lds), o2(M * lds, -7.f);
  for (auto& e : bv) e = u(rng);
  for (auto& e : sv) e = u(rng);
  for (auto& e : s2) e = u(rng);
  Epilogue ep;
  ep.ld_scale = lds;
  if (bias) ep.bias = bv.data();
  if (scale) ep.scale = sv.data();
  ep.scale_product = product;
  if (out2) ep.out2 = o2.data();
  if (scale2) ep.scale2 = s2.data();
  auto a = [&](int64_t i, int64_t k) { return transposed_a ? A[k * lda + i] : A[i * lda + k]; };
  std::vector<double> ref(M * N), ref2(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double c0 = accumulate ? C[i * ldc + j] : 0.0;
      double v = 0;
      for (int64_t k = 0; k < K; ++k) v += static_cast<double>(a(i, k)) * B[k * ldb + j];
      if (bias) v += bv[j];
      const bool prod = product && scale;           // scale_product without a scale: the default
      const double before = prod ? v : c0 + v;  // C's value before its scale
      const double s = scale ? sv[i * lds + j] : 1.0;
      ref[i * N + j] = prod ? c0 + v * s : before * s;
      ref2[i * N + j] = before * (scale2 ? s2[i * lds + j] : 1.0);
    }
  const std::vector<float> before = C;
  f(M, N, K, transposed_a ? transposed(A.data(), lda) : rows_of(A.data(), lda), B.data(), ldb, C.data(), ldc,
    accumulate, ep);
  const double tol = 1e-5 * (K + 2);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      ASSERT_NEAR(C[i * ldc + j], ref[i * N + j], tol) << M << "x" << N << "x" << K << " epi " << epi << " at " << i << "," << j;
      if (out2) ASSERT_NEAR(o2[i * lds + j], ref2[i * N + j], tol) << "out2, epi " << epi << " at " << i << "," << j;
    }
    for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(C[i * ldc + j], before[i * ldc + j]) << "wrote past column N";
    for (int64_t j = N; j < lds; ++j) ASSERT_EQ(o2[i * lds + j], -7.f) << "out2: wrote past column N";
    if (!out2)
      for (int64_t j = 0; j < N; ++j) ASSERT_EQ(o2[i * lds + j], -7.f) << "wrote out2 unasked";
  }
}

}  // namespace

TEST(Gemm, MatchesDoubleReference) {
  for (GemmFn f : {&gemm, &gemm_portable})
    for (int64_t M : {1, 2, 3, 4, 5, 6, 17, 80, 160})  // every M % 4 (the row tile), alone and after full tiles
      for (int64_t N : {1, 2, 3, 4, 5, 15, 16, 17, 80, 81, 97})
        for (int64_t K : {1, 3, 80})
          for (bool tr : {false, true})
            for (bool acc : {false, true})
              for (int epi = 0; epi < 32; ++epi)
                if (!(epi & 16) || (epi & 8)) check(f, M, N, K, tr, acc, epi);  // scale2 only with out2
}

TEST(Gemm, EmptyInnerDimension) {
  std::vector<float> C(6, 5.f);
  gemm(2, 3, 0, rows_of(nullptr, 0), nullptr, 3, C.data(), 3, true);
  EXPECT_EQ(C, std::vector<float>(6, 5.f));
  gemm(2, 3, 0, rows_of(nullptr, 0), nullptr, 3, C.data(), 3, false);
  EXPECT_EQ(C, std::vector<float>(6, 0.f));
}

TEST(Gemm, ReportsKernel) {
  EXPECT_EQ(gemm_uses_avx512(), static_cast<bool>(__builtin_cpu_supports("avx512f")));
}

// Deep products (K >= 128: the weight gradients' reduction over a block's rows) run in
// chunks of K, each from the C the last one stored. A scale of ones keeps gemm from
// chunking and changes no bit (v * 1 = v), so the two calls must agree exactly: chunking
// may not change the numbers the fused kernels' reproducibility rests on.
TEST(Gemm, DeepProductsInChunksGiveTheSameNumbers) {
  for (int64_t K : {128, 200, 320})
    for (int64_t M : {5, 80})
      for (int64_t N : {17, 80})
        for (bool tr : {false, true})
          for (bool acc : {false, true})
            for (bool bias : {false, true}) {
              std::mt19937_64 rng(K * 7 + M * 3 + N);
              std::uniform_real_distribution<float> u(-1.f, 1.f);
              std::vector<float> A(M * K), B(K * N), C0(M * N), bv(N), ones(M * N, 1.f);
              for (auto* v : {&A, &B, &C0, &bv})
                for (auto& e : *v) e = u(rng);
              const MatA a = tr ? transposed(A.data(), M) : rows_of(A.data(), K);
              Epilogue plain, whole;
              plain.bias = whole.bias = bias ? bv.data() : nullptr;
              whole.scale = ones.data(), whole.ld_scale = N;
              std::vector<float> chunked = C0, unchunked = C0;
              gemm(M, N, K, a, B.data(), N, chunked.data(), N, acc, plain);
              gemm(M, N, K, a, B.data(), N, unchunked.data(), N, acc, whole);
              ASSERT_EQ(chunked, unchunked) << M << "x" << N << "x" << K << (tr ? " A^T" : "") << (acc ? " +=" : "")
                                            << (bias ? " bias" : "");
              check(&gemm, M, N, K, tr, acc, bias ? 1 : 0);  // and against the double reference
            }
}

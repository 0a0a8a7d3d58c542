// The small-matrix GEMM against a double reference: both kernels (AVX-512 where the CPU
// has it, and the portable loop), row-major and transposed A, overwrite and accumulate,
// shapes that are not multiples of the register tile, with and without the epilogue
// (bias row, element-wise scale), and the narrow transposed products (N <= 4) that the
// AVX-512 kernel computes as their transpose.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/gemm.h"

using namespace gapscope;

namespace {

using GemmFn = void (*)(int64_t, int64_t, int64_t, MatA, const float*, int64_t, float*, int64_t, bool, const Epilogue&);

void check(GemmFn f, int64_t M, int64_t N, int64_t K, bool transposed_a, bool accumulate, bool bias, bool scale) {
  std::mt19937_64 rng(M * 1000003 + N * 1009 + K);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t lda = (transposed_a ? M : K) + 3, ldb = N + 5, ldc = N + 2;  // padded leading dimensions
  std::vector<float> A((transposed_a ? K : M) * lda), B(K * ldb), C(M * ldc);
  for (auto& e : A) e = u(rng);
  for (auto& e : B) e = u(rng);
  for (auto& e : C) e = u(rng);
  std::vector<float> bv(N), sv(M * (N + 1));
  for (auto& e : bv) e = u(rng);
  for (auto& e : sv) e = u(rng);
  Epilogue ep;
  if (bias) ep.bias = bv.data();
  if (scale) ep.scale = sv.data(), ep.ld_scale = N + 1;
  auto a = [&](int64_t i, int64_t k) { return transposed_a ? A[k * lda + i] : A[i * lda + k]; };
  std::vector<double> ref(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = accumulate ? C[i * ldc + j] : 0.0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a(i, k)) * B[k * ldb + j];
      if (bias) s += bv[j];
      if (scale) s *= sv[i * (N + 1) + j];
      ref[i * N + j] = s;
    }
  const std::vector<float> before = C;
  f(M, N, K, transposed_a ? transposed(A.data(), lda) : rows_of(A.data(), lda), B.data(), ldb, C.data(), ldc,
    accumulate, ep);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j)
      ASSERT_NEAR(C[i * ldc + j], ref[i * N + j], 1e-5 * (K + 1)) << M << "x" << N << "x" << K << " at " << i << "," << j;
    for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(C[i * ldc + j], before[i * ldc + j]) << "wrote past column N";
  }
}

}  // namespace

TEST(Gemm, MatchesDoubleReference) {
  for (GemmFn f : {&gemm, &gemm_portable})
    for (int64_t M : {1, 3, 4, 5, 17, 80, 160})
      for (int64_t N : {1, 2, 3, 4, 5, 15, 16, 17, 80, 81, 97})
        for (int64_t K : {1, 3, 80})
          for (bool tr : {false, true})
            for (bool acc : {false, true})
              for (int epi = 0; epi < 4; ++epi) check(f, M, N, K, tr, acc, epi & 1, epi & 2);
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

// The machine's limit and how close the kernels get to it: the fp32 FMA peak of one core
// and of THREADS cores (independent FMA chains, nothing loaded from memory),
// engine/kernels/gemm at the shapes the fused kernels call it with, the Softplus passes
// between those GEMMs (engine/kernels/activation) and the SDE's noise (engine/core/
// normals). scripts/bench reads the GFLOP/s counters and divides each row's GEMM FLOPs by
// its time against this peak; with the Softplus and noise rates it adds up each row's
// floor from its parts.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/normals.h"
#include "core/rng.h"
#include "kernels/activation.h"
#include "kernels/denormals.h"
#include "kernels/gemm.h"

namespace {

// kChains independent accumulators: enough to hide the FMA latency (4 cycles) on two
// FMA pipes, and few enough for the register file (24 + 2 of 32 zmm, 12 + 2 of 16 ymm).
// x = 0.999 a + 0.001 converges to 1: no overflow, no denormals.
constexpr int kChains512 = 24, kChains256 = 12;

// noipa: the calls are pure, and GCC would otherwise hoist them out of the timing loop.
__attribute__((target("avx512f"), noipa)) float fma_avx512(int64_t iters) {
  __m512 acc[kChains512];
  for (int j = 0; j < kChains512; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 24
    for (int j = 0; j < kChains512; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
  for (int j = 1; j < kChains512; ++j) s = _mm512_add_ps(s, acc[j]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"), noipa)) float fma_avx2(int64_t iters) {
  __m256 acc[kChains256];
  for (int j = 0; j < kChains256; ++j) acc[j] = _mm256_set1_ps(static_cast<float>(j));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains256; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  alignas(32) float out[8];
  __m256 s = acc[0];
  for (int j = 1; j < kChains256; ++j) s = _mm256_add_ps(s, acc[j]);
  _mm256_store_ps(out, s);
  float r = 0;
  for (float v : out) r += v;
  return r;
}

// Reduced precision on CPUs that have it, the same way: AVX512-FP16's FMA (32 half lanes,
// accumulating in half) and AVX512-BF16's dot product (pairs of bf16 products added into 16
// float lanes). Measured so that README can say what an fp16 or bf16 GEMM could gain here:
// on the Xeon of the current README, fp16 twice the fp32 peak and bf16 half of it.
__attribute__((target("avx512fp16,avx512vl,avx512bw"), noipa)) float fma_fp16(int64_t iters) {
  __m512h acc[kChains512];
  for (int j = 0; j < kChains512; ++j) acc[j] = _mm512_set1_ph(static_cast<_Float16>(j));
  const __m512h a = _mm512_set1_ph(static_cast<_Float16>(0.999f)), b = _mm512_set1_ph(static_cast<_Float16>(0.001f));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 24
    for (int j = 0; j < kChains512; ++j) acc[j] = _mm512_fmadd_ph(acc[j], a, b);
  }
  __m512h s = acc[0];
  for (int j = 1; j < kChains512; ++j) s = _mm512_add_ph(s, acc[j]);
  return static_cast<float>(_mm512_reduce_add_ph(s));
}

// acc += a . b per pair of lanes with a = (0.5, 0.25), b = (1e-4, 1e-4): grows by 7.5e-5 a
// call, no overflow or denormals in the timed range.
__attribute__((target("avx512bf16,avx512f"), noipa)) float dot_bf16(int64_t iters) {
  __m512 acc[kChains512];
  for (int j = 0; j < kChains512; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j));
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-4f), _mm512_set1_ps(1e-4f));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 24
    for (int j = 0; j < kChains512; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
  for (int j = 1; j < kChains512; ++j) s = _mm512_add_ps(s, acc[j]);
  return _mm512_reduce_add_ps(s);
}

// FLOPs as for fp32: 2 per multiply-add, 32 multiply-adds per instruction for both.
template <float (*Probe)(int64_t)>
void reduced_peak(benchmark::State& st) {
  const int64_t iters = 1 << 19;
  for (auto _ : st) benchmark::DoNotOptimize(Probe(iters));
  st.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(iters) * kChains512 * 32 * 2 * 1e-9 * st.iterations(),
                                             benchmark::Counter::kIsRate);
}

void BM_FmaPeak(benchmark::State& st) {
  const bool wide = __builtin_cpu_supports("avx512f");
  const int64_t iters = 1 << 20;
  const double flop_per_call = static_cast<double>(iters) * (wide ? kChains512 * 16 : kChains256 * 8) * 2;
  for (auto _ : st) benchmark::DoNotOptimize(wide ? fma_avx512(iters) : fma_avx2(iters));
  st.counters["GFLOPs"] = benchmark::Counter(flop_per_call * 1e-9 * st.iterations(), benchmark::Counter::kIsRate);
  st.SetLabel(wide ? "avx512" : "avx2");
}

// gemm.h at the fused kernels' shapes, one thread: the sampler's forward (128 rows),
// the training blocks' forward/backward (64 rows) and the weight gradient (A^T, depth 128).
void gemm_shape(benchmark::State& st, int64_t M, int64_t N, int64_t K, bool transposed_a) {
  std::mt19937 rng(0);
  std::normal_distribution<float> nd;
  std::vector<float> A(M * K), B(K * N), C(M * N);
  for (auto& v : A) v = nd(rng);
  for (auto& v : B) v = nd(rng);
  const gapscope::MatA a = transposed_a ? gapscope::transposed(A.data(), M) : gapscope::rows_of(A.data(), K);
  for (auto _ : st) {
    gapscope::gemm(M, N, K, a, B.data(), N, C.data(), N, transposed_a);
    benchmark::DoNotOptimize(C.data());
  }
  st.counters["GFLOPs"] = benchmark::Counter(2.0 * M * N * K * 1e-9 * st.iterations(), benchmark::Counter::kIsRate);
}
void BM_GemmSampler(benchmark::State& st) { gemm_shape(st, 128, 80, 80, false); }
void BM_GemmTrain(benchmark::State& st) { gemm_shape(st, 64, 80, 80, false); }
void BM_GemmWeightGrad(benchmark::State& st) { gemm_shape(st, 80, 80, 128, true); }

// One sampler block's hidden units (128 rows x 80), pre-activations spread over beta h in
// [-30, 30] (the saturated, the smooth and the linear regime), one thread. The potential's
// sampler takes the value and the slope of every hidden layer but the last, which needs
// only the slope; the training steps add the second (and third) derivative.
void softplus(benchmark::State& st, int order, bool value) {
  gapscope::ModelSpec spec;  // Softplus, beta = 100
  const int64_t m = 128 * 80;
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  std::vector<float> h(m), z(m), d1(m), d2(m), d3(m);
  for (auto& v : h) v = u(rng);
  for (auto _ : st) {
    gapscope::activation_jet(spec, m, h.data(), value ? z.data() : nullptr, d1.data(), order >= 2 ? d2.data() : nullptr,
                             order >= 3 ? d3.data() : nullptr);
    benchmark::DoNotOptimize(d1.data());
  }
  st.counters["Gunits"] = benchmark::Counter(m * 1e-9 * st.iterations(), benchmark::Counter::kIsRate);
}
void BM_SoftplusValueSlope(benchmark::State& st) { softplus(st, 1, true); }
void BM_SoftplusSlope(benchmark::State& st) { softplus(st, 1, false); }
void BM_SoftplusOrder2(benchmark::State& st) { softplus(st, 2, true); }
void BM_SoftplusOrder3(benchmark::State& st) { softplus(st, 3, true); }

// One chunk of the SDE's noise (sample/sample.cpp fill_normal draws 4096 per chunk), one
// thread: the bulk kernel, and normal_pair one pair at a time (what it replaced).
void BM_NormalsBulk(benchmark::State& st) {
  std::vector<float> v(4096);
  std::uint64_t key = 1;
  for (auto _ : st) {
    gapscope::standard_normals(v.data(), v.size(), ++key);
    benchmark::DoNotOptimize(v.data());
  }
  st.counters["Gnormals"] = benchmark::Counter(v.size() * 1e-9 * st.iterations(), benchmark::Counter::kIsRate);
}
void BM_NormalsScalar(benchmark::State& st) {
  std::vector<float> v(4096);
  std::uint64_t key = 1;
  for (auto _ : st) {
    std::uint64_t s = ++key;
    for (std::size_t i = 0; i < v.size(); i += 2) gapscope::normal_pair(s, v[i], v[i + 1]);
    benchmark::DoNotOptimize(v.data());
  }
  st.counters["Gnormals"] = benchmark::Counter(v.size() * 1e-9 * st.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_NormalsBulk)->MinTime(0.5);
BENCHMARK(BM_NormalsScalar)->MinTime(0.5);
BENCHMARK(BM_SoftplusValueSlope)->MinTime(0.5);
BENCHMARK(BM_SoftplusSlope)->MinTime(0.5);
BENCHMARK(BM_SoftplusOrder2)->MinTime(0.5);
BENCHMARK(BM_SoftplusOrder3)->MinTime(0.5);
BENCHMARK(BM_GemmSampler)->MinTime(0.5);
BENCHMARK(BM_GemmTrain)->MinTime(0.5);
BENCHMARK(BM_GemmWeightGrad)->MinTime(0.5);

int main(int argc, char** argv) {
  const char* th = std::getenv("THREADS");  // as bench_train and the PyTorch references
  const int threads = th ? std::max(1, std::atoi(th)) : 2;
  // As gapscope-cli and the lab (kernels/denormals.h): what a user runs; GAPSCOPE_FTZ=0 measures without.
  gapscope::flush_denormals_everywhere();
  benchmark::RegisterBenchmark("BM_FmaPeak", BM_FmaPeak)->MinTime(0.5)->UseRealTime();
  if (threads > 1) benchmark::RegisterBenchmark("BM_FmaPeak", BM_FmaPeak)->MinTime(0.5)->UseRealTime()->Threads(threads);
  // Both or neither, so that scripts/bench prints the two side by side.
  if (__builtin_cpu_supports("avx512fp16") && __builtin_cpu_supports("avx512bf16")) {
    benchmark::RegisterBenchmark("BM_Fp16FmaPeak", reduced_peak<fma_fp16>)->MinTime(0.5)->UseRealTime();
    benchmark::RegisterBenchmark("BM_Bf16DotPeak", reduced_peak<dot_bf16>)->MinTime(0.5)->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

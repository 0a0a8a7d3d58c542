// Denormals flushed in every compute thread, and nothing gapscope computes moves by it.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/sde.h"
#include "kernels/denormals.h"
#include "nn/model.h"
#include "nn/score_function.h"

using namespace gapscope;

namespace {
float product(float a, float b) {
  volatile float x = a, y = b;  // not folded at compile time
  return x * y;
}
}  // namespace

TEST(Denormals, FlushZeroesWhatWouldBeDenormal) {
  set_denormals_flush_this_thread(false);
  EXPECT_FALSE(denormals_flushed_this_thread());
  const float tiny = product(1e-30f, 1e-10f);  // 1e-40: a denormal
  EXPECT_GT(tiny, 0.f);
  EXPECT_LT(tiny, 1.2e-38f);
  set_denormals_flush_this_thread(true);
  if (!denormals_flushed_this_thread()) GTEST_SKIP() << "this CPU has no flush-to-zero mode";
  EXPECT_EQ(product(1e-30f, 1e-10f), 0.f);
}

TEST(Denormals, EveryThreadIsFlushed) {
  set_denormals_flush_this_thread(false);
  flush_denormals_everywhere();
  ASSERT_TRUE(denormals_flushed_this_thread());
  std::atomic<int> unflushed{0}, seen{0};
#pragma omp parallel num_threads(std::max(2, omp_get_max_threads()))
  {
    seen++;
    if (!denormals_flushed_this_thread()) unflushed++;
  }
  EXPECT_GE(seen.load(), 2);
  EXPECT_EQ(unflushed.load(), 0) << "OpenMP threads left unflushed";
  bool child = false;
  std::thread([&] { child = denormals_flushed_this_thread(); }).join();
  EXPECT_TRUE(child) << "a new thread does not inherit its creator's MXCSR";
}

// The paper's network (Softplus β = 100) where its tails make denormals: the score and
// the residual with and without flushing agree to float round-off, on both paths (fused
// potential kernels, LibTorch for a score model).
TEST(Denormals, ResultsDoNotMove) {
  for (bool potential : {true, false}) {
    ModelSpec spec;
    spec.hidden = 80;
    spec.layers = 3;
    spec.softplus_beta = 100;
    spec.potential = potential;
    Network net(spec);
    net.init(7);
    const auto w = std::make_shared<const WeightSnapshot>(net.snapshot());
    const ScoreFunction f(w);
    const int64_t n = 4096;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> U(-3.5f, 3.5f), T(1e-4f, 10.f);
    std::vector<float> t(n), x(2 * n);
    for (auto& v : t) v = T(rng);
    for (auto& v : x) v = U(rng);
    const Sde sde = Sde::from_config(Config{});
    auto run = [&](bool flush, std::vector<float>& s, std::vector<float>& r) {
      set_denormals_flush_this_thread(flush);
      s.assign(2 * n, 0.f);
      r.assign(n, 0.f);
      f.score(n, t.data(), x.data(), s.data());
      f.residual(sde, n, t.data(), x.data(), r.data());
    };
    std::vector<float> s0, r0, s1, r1;
    run(false, s0, r0);
    run(true, s1, r1);
    double ds = 0, dr = 0, ms = 0, mr = 0;
    for (int64_t i = 0; i < 2 * n; ++i) ds = std::max(ds, double(std::fabs(s0[i] - s1[i]))), ms = std::max(ms, double(std::fabs(s0[i])));
    for (int64_t i = 0; i < n; ++i) dr = std::max(dr, double(std::fabs(r0[i] - r1[i]))), mr = std::max(mr, double(std::fabs(r0[i])));
    EXPECT_LE(ds, 1e-6 * ms) << (potential ? "potential" : "score") << " model: score moved by " << ds;
    EXPECT_LE(dr, 1e-6 * mr) << (potential ? "potential" : "score") << " model: residual moved by " << dr;
  }
  flush_denormals_this_thread();
}

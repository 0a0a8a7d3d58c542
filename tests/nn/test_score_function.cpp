// ScoreFunction: the one place that picks the fused CPU kernels or the LibTorch jets.
// Both paths must give the same score and residual, and the choice follows the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "core/config.h"
#include "nn/model.h"
#include "nn/residual.h"
#include "nn/score_function.h"

using namespace gapscope;

namespace {
SnapshotPtr snapshot(const ModelSpec& spec, uint64_t seed) {
  Network net(spec);
  net.init(seed);
  return std::make_shared<const WeightSnapshot>(net.snapshot());
}
}  // namespace

TEST(ScoreFunction, ThePathFollowsTheSpec) {
  ModelSpec pot;
  pot.hidden = 16;
  EXPECT_TRUE(runs_fused(pot));
  EXPECT_FALSE(runs_fused(pot, /*on_cpu=*/false));
  EXPECT_FALSE(runs_fused(pot, true, /*float32=*/false));
  ModelSpec score = pot;
  score.potential = false;
  EXPECT_FALSE(runs_fused(score));
  EXPECT_TRUE(ScoreFunction(snapshot(pot, 1)).fused());
  EXPECT_STREQ(ScoreFunction(snapshot(score, 1)).path_name(), "LibTorch jets");
  EXPECT_THROW(ScoreFunction(nullptr), std::invalid_argument);
}

TEST(ScoreFunction, FusedAndLibTorchPathsAgree) {
  ModelSpec spec;
  spec.hidden = 24;
  spec.softplus_beta = 10;  // smooth enough that float round-off stays small
  const SnapshotPtr w = snapshot(spec, 3);
  const ScoreFunction fused(w);
  ASSERT_TRUE(fused.fused());
  // The same weights through the tensor path: a Network in double on the CPU.
  Network ref(spec, torch::kCPU, torch::kDouble);
  ref.load(*w);
  ASSERT_FALSE(ref.fused());

  const int64_t n = 257;  // not a multiple of any block size
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> U(-2.f, 2.f), T(0.05f, 1.f);
  std::vector<float> t(n), x(n * 2), s(n * 2), r(n);
  for (auto& v : t) v = T(rng);
  for (auto& v : x) v = U(rng);
  fused.score(n, t.data(), x.data(), s.data());
  const Sde sde = Sde::from_config(Config{});
  fused.residual(sde, n, t.data(), x.data(), r.data());

  auto tt = torch::from_blob(t.data(), {n, 1}, torch::kFloat).to(torch::kDouble);
  auto xt = torch::from_blob(x.data(), {n, 2}, torch::kFloat).to(torch::kDouble);
  auto s_ref = ref.score_nograd(tt, xt).contiguous().view({-1});
  for (int64_t i = 0; i < n * 2; ++i)
    ASSERT_NEAR(s[i], s_ref[i].item<double>(), 2e-4 * (1 + std::abs(s[i]))) << i;
  auto r_ref = network_residual(ref, sde, tt, xt).reshape({n});
  double scale = 0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(r_ref[i].item<double>()));
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(r[i], r_ref[i].item<double>(), 1e-3 * (1 + scale)) << i;
}

TEST(ScoreFunction, ScoreModelResidualIsTheNormOfTheVectorResidual) {
  ModelSpec spec;
  spec.potential = false;
  spec.hidden = 16;
  const ScoreFunction f(snapshot(spec, 2));
  const int64_t n = 9000;  // more than one chunk of the tensor path
  std::vector<float> t(n, 0.5f), x(n * 2, 0.25f), s(n * 2), r(n);
  f.score(n, t.data(), x.data(), s.data());
  f.residual(Sde::from_config(Config{}), n, t.data(), x.data(), r.data());
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(std::isfinite(r[i]));
    ASSERT_GE(r[i], 0.f);
    ASSERT_FLOAT_EQ(r[i], r[0]);  // the same point everywhere: the same value in every chunk
  }
  EXPECT_FLOAT_EQ(s[2 * (n - 1)], s[0]);
}

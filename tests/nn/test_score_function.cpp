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
  EXPECT_TRUE(runs_fused(score));
  EXPECT_FALSE(runs_fused(score, /*on_cpu=*/false));
  EXPECT_FALSE(runs_fused(score, true, /*float32=*/false));
  EXPECT_TRUE(ScoreFunction(snapshot(pot, 1)).fused());
  EXPECT_STREQ(ScoreFunction(snapshot(score, 1)).path_name(), "fused CPU kernels");
  // Beyond the jets' 32 input directions the tensor path takes over.
  ModelSpec wide = score;
  wide.d = 40;
  EXPECT_FALSE(runs_fused(wide));
  EXPECT_STREQ(ScoreFunction(snapshot(wide, 1)).path_name(), "LibTorch jets");
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

// The score network: the fused score, |r| and divergence against the tensor path in double.
TEST(ScoreFunction, FusedAndLibTorchPathsAgreeForAScoreNetwork) {
  ModelSpec spec;
  spec.potential = false;
  spec.hidden = 24;
  spec.softplus_beta = 10;
  const SnapshotPtr w = snapshot(spec, 3);
  const ScoreFunction fused(w);
  ASSERT_TRUE(fused.fused());
  Network ref(spec, torch::kCPU, torch::kDouble);
  ref.load(*w);
  ASSERT_FALSE(ref.fused());

  const int64_t n = 257;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> U(-2.f, 2.f), T(0.05f, 1.f);
  std::vector<float> t(n), x(n * 2), s(n * 2), r(n), u(n), s2(n * 2), div(n);
  for (auto& v : t) v = T(rng);
  for (auto& v : x) v = U(rng);
  const Sde sde = Sde::from_config(Config{});
  fused.score(n, t.data(), x.data(), s.data());
  fused.residual(sde, n, t.data(), x.data(), r.data());
  fused.density_terms(n, t.data(), x.data(), u.data(), s2.data(), div.data());

  auto tt = torch::from_blob(t.data(), {n, 1}, torch::kFloat).to(torch::kDouble);
  auto xt = torch::from_blob(x.data(), {n, 2}, torch::kFloat).to(torch::kDouble);
  auto s_ref = ref.score_nograd(tt, xt).contiguous().view({-1});
  for (int64_t i = 0; i < n * 2; ++i) {
    ASSERT_NEAR(s[i], s_ref[i].item<double>(), 2e-4 * (1 + std::abs(s[i]))) << i;
    ASSERT_NEAR(s2[i], s[i], 1e-5 * (1 + std::abs(s[i]))) << i;
  }
  auto r_ref = network_residual(ref, sde, tt, xt).pow(2).sum(1).sqrt();
  const ScoreJet j = score_jet(ref, tt, xt);
  auto div_ref = j.jac.diagonal(0, 1, 2).sum(1);
  double scale = 0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, r_ref[i].item<double>());
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_NEAR(r[i], r_ref[i].item<double>(), 1e-3 * (1 + scale)) << i;
    ASSERT_NEAR(div[i], div_ref[i].item<double>(), 1e-3 * (1 + std::abs(div[i]))) << i;
    ASSERT_TRUE(std::isnan(u[i]));
  }
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

// The change-of-variables terms (u, score, Laplacian) of the fused kernels against the
// tensor jets in double, with and without the prior offset; a score network's divergence
// is the trace of its Jacobian.
TEST(ScoreFunction, DensityTermsOfBothPathsAgree) {
  for (double prior_var : {0.0, 0.5}) {
    ModelSpec spec;
    spec.hidden = 24;
    spec.softplus_beta = 10;
    const SnapshotPtr w = snapshot(spec, 4);
    ModelSpec plain = spec;
    spec.prior_var = prior_var;
    WeightSnapshot ws = *w;
    ws.spec = spec;
    const ScoreFunction fused(std::make_shared<const WeightSnapshot>(ws));
    ASSERT_TRUE(fused.fused());
    Network ref(plain, torch::kCPU, torch::kDouble);
    ref.load(*w);
    const int64_t n = 131;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> U(-2.f, 2.f), T(0.05f, 1.f);
    std::vector<float> t(n), x(n * 2), u(n), s(n * 2), lap(n);
    for (auto& v : t) v = T(rng);
    for (auto& v : x) v = U(rng);
    fused.density_terms(n, t.data(), x.data(), u.data(), s.data(), lap.data());
    auto tt = torch::from_blob(t.data(), {n, 1}, torch::kFloat).to(torch::kDouble);
    auto xt = torch::from_blob(x.data(), {n, 2}, torch::kFloat).to(torch::kDouble);
    const LogDensityJet j = potential_jet(ref, tt, xt);
    for (int64_t i = 0; i < n; ++i) {
      const double x1 = x[2 * i], x2 = x[2 * i + 1], iv = prior_var > 0 ? 1 / prior_var : 0;
      ASSERT_NEAR(u[i], j.u[i][0].item<double>() - 0.5 * iv * (x1 * x1 + x2 * x2), 1e-4) << i;
      ASSERT_NEAR(s[2 * i], j.grad[i][0].item<double>() - iv * x1, 2e-4) << i;
      ASSERT_NEAR(lap[i], j.lap[i][0].item<double>() - 2 * iv, 1e-3 * (1 + std::abs(lap[i]))) << i;
    }
  }
  ModelSpec sc;
  sc.potential = false;
  sc.hidden = 16;
  sc.softplus_beta = 10;
  const SnapshotPtr w = snapshot(sc, 2);
  const ScoreFunction f(w);
  std::vector<float> t = {0.3f, 0.7f}, x = {0.1f, -0.4f, 1.2f, 0.5f}, u(2), s(4), div(2);
  f.density_terms(2, t.data(), x.data(), u.data(), s.data(), div.data());
  EXPECT_TRUE(std::isnan(u[0]));
  // div s by central differences of the score
  for (int i = 0; i < 2; ++i) {
    double fd = 0;
    for (int k = 0; k < 2; ++k) {
      std::vector<float> xp = {x[2 * i], x[2 * i + 1]}, xm = xp, sp(2), sm(2);
      xp[k] += 1e-2f, xm[k] -= 1e-2f;
      f.score(1, &t[i], xp.data(), sp.data());
      f.score(1, &t[i], xm.data(), sm.data());
      fd += (sp[k] - sm[k]) / 2e-2;
    }
    EXPECT_NEAR(div[i], fd, 2e-2 * (1 + std::abs(fd)));
  }
}

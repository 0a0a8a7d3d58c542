// The fused float kernels for the direct score network (model = score, d outputs)
// against nested autograd on the same weights in double: the sampler's score, the
// residual field and divergence, and the training loss with every parameter gradient,
// for every SDE, activation and d = 1, 2, 3, with batches that end in a partial row block;
// and the loss against the tensor path (nn/loss.cpp) it replaces.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>

#include "jet_test_util.h"
#include "kernels/fused_fixture.h"
#include "kernels/fused_potential.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/residual.h"
#include "nn/score_function.h"

using namespace gapscope;
using namespace gapscope::testing;

namespace {

// x_t = m(t) x0 + sigma(t) z and sigma(t) per row, in double.
std::pair<torch::Tensor, torch::Tensor> noised(const Sde& sde, const std::vector<float>& t, const torch::Tensor& X0,
                                               const torch::Tensor& Z) {
  auto T = as_double(t, 1);
  auto m = T.clone(), s = T.clone();
  for (std::size_t i = 0; i < t.size(); ++i) {
    m[i][0] = sde.mean_coef(t[i]);
    s[i][0] = sde.marginal_std(t[i]);
  }
  return {m * X0 + s * Z, s};
}

}  // namespace

TEST(FusedScore, ScoreIsTheNetworkOutput) {
  for (auto act : {Activation::Softplus, Activation::Tanh, Activation::SiLU})
    for (int d : {1, 2, 3}) {
      auto w = random_weights(d, act, 7 + d, 100.0, /*potential=*/false);
      std::mt19937_64 rng(1);
      const int64_t n = 700;  // two full 256-row blocks and a partial one
      auto t = uniform(n, 0.0, 10.0, rng), x = normal(n * d, rng);
      for (auto& e : x) e *= 2.f;
      std::vector<float> s(n * d);
      score_model_score(PotentialWeights::of(w), n, t.data(), x.data(), s.data());
      auto ref = double_net(w).forward(as_double(t, 1), as_double(x, d)).detach();
      EXPECT_LT(rel_err(as_double(s, d), ref), 2e-5) << act_name(act) << " d " << d;
    }
}

TEST(FusedScore, LossAndGradientMatchNestedAutograd) {
  for (auto kind : {Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE})
    for (auto act : {Activation::Softplus, Activation::Tanh, Activation::SiLU})
      for (int d : {1, 2, 3}) {
        const Sde sde = make_sde(kind);
        const std::string tag = case_tag(kind, act, d);
        // beta = 5: with the paper's 100 most units of a random network saturate and the
        // second-order terms would be tested on few of them.
        auto w = random_weights(d, act, 20 + d, 5.0, /*potential=*/false);
        std::mt19937_64 rng(2);
        const int64_t nd = 300, nc = 200, nb = 70;  // neither a multiple of its row block
        auto t = uniform(nd, 0.01, sde.T, rng), x0 = normal(nd * d, rng), z = normal(nd * d, rng);
        auto tc = uniform(nc, 1e-3, sde.T, rng), xc = uniform(nc * d, -1.5, 1.5, rng);
        auto tb = uniform(nb, 1e-3, sde.T, rng), xb = uniform(nb * d, -1.5, 1.5, rng);
        const double lambda = 0.7;
        DsmBatch db;
        db.n = nd, db.t = t.data(), db.x0 = x0.data(), db.z = z.data();
        FpBatch fb;
        fb.n = nc, fb.t = tc.data(), fb.x = xc.data(), fb.nb = nb, fb.tb = tb.data(), fb.xb = xb.data();
        std::vector<std::vector<float>> grad;
        // A boundary weight is ignored: a score network has no boundary term (nn/loss.cpp).
        const auto parts = score_model_loss_grad(PotentialWeights::of(w), sde, db, &fb, LossWeights{lambda, 0.3}, grad);

        auto net = double_net(w);
        auto Z = as_double(z, d);
        auto [xt, s] = noised(sde, t, as_double(x0, d), Z);
        auto dsm = (net.forward(as_double(t, 1), xt) + Z / s).pow(2).mean();
        auto Tc = as_double(tc, 1), Xc = as_double(xc, d);
        auto fp = score_fp_residual(sde, Tc, Xc, score_jet_autograd(net, Tc, Xc)).pow(2).sum(1).mean();
        auto loss = dsm + lambda * fp;
        auto params = net.parameters();
        auto ref = torch::autograd::grad({loss}, params, {}, false, false, /*allow_unused=*/true);

        EXPECT_NEAR(parts.dsm, dsm.item<double>(), 1e-5 * dsm.item<double>()) << tag;
        EXPECT_NEAR(parts.fp, fp.item<double>(), 1e-5 * fp.item<double>()) << tag;
        EXPECT_EQ(parts.bc, 0.0) << tag;
        ASSERT_EQ(grad.size(), params.size());
        for (std::size_t i = 0; i < params.size(); ++i) {
          ASSERT_EQ(static_cast<int64_t>(grad[i].size()), params[i].numel()) << tag << " param " << i;
          auto g = torch::from_blob(grad[i].data(), params[i].sizes(), torch::kFloat).to(torch::kDouble);
          auto r = ref[i].defined() ? ref[i] : torch::zeros_like(params[i]);
          EXPECT_LT(rel_err(g, r), 2e-5) << tag << " param " << i;
        }
      }
}

TEST(FusedScore, ResidualAndDivergenceMatchNestedAutograd) {
  for (auto kind : {Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE})
    for (auto act : {Activation::Softplus, Activation::Tanh, Activation::SiLU})
      for (int d : {1, 2, 3}) {
        const Sde sde = make_sde(kind);
        const std::string tag = case_tag(kind, act, d);
        auto w = random_weights(d, act, 30 + d, 5.0, /*potential=*/false);
        std::mt19937_64 rng(4);
        const int64_t n = 300;
        auto t = uniform(n, 1e-3, sde.T, rng), x = uniform(n * d, -2, 2, rng);
        std::vector<float> r(n * d), s(n * d), div(n);
        score_model_residual(PotentialWeights::of(w), sde, n, t.data(), x.data(), r.data());
        score_model_value_jet(PotentialWeights::of(w), n, t.data(), x.data(), s.data(), div.data());
        auto net = double_net(w);
        auto T = as_double(t, 1), X = as_double(x, d);
        const ScoreJet j = score_jet_autograd(net, T, X);
        EXPECT_LT(rel_err(as_double(r, d), score_fp_residual(sde, T, X, j).detach()), 2e-5) << tag;
        EXPECT_LT(rel_err(as_double(s, d), j.s.detach()), 2e-5) << tag;
        EXPECT_LT(rel_err(as_double(div, 1), j.jac.diagonal(0, 1, 2).sum(1, true).detach()), 2e-5) << tag;
      }
}

// The fused loss is the one the tensor path trains (dsm_loss + lambda fp_loss on a float
// network): the same means, the same gradient up to float round-off.
TEST(FusedScore, LossMatchesTheTensorPath) {
  const Sde sde = make_sde(Sde::Kind::OU);
  const int d = 2;
  auto w = random_weights(d, Activation::Softplus, 50, 100.0, /*potential=*/false);
  std::mt19937_64 rng(8);
  const int64_t nd = 500, nc = 130;
  auto t = uniform(nd, 0.01, sde.T, rng), x0 = normal(nd * d, rng), z = normal(nd * d, rng);
  auto tc = uniform(nc, 1e-3, sde.T, rng), xc = uniform(nc * d, -3, 3, rng);
  DsmBatch db;
  db.n = nd, db.t = t.data(), db.x0 = x0.data(), db.z = z.data();
  FpBatch fb;
  fb.n = nc, fb.t = tc.data(), fb.x = xc.data();
  std::vector<std::vector<float>> grad;
  const auto parts = score_model_loss_grad(PotentialWeights::of(w), sde, db, &fb, LossWeights{1.0, 0.0}, grad);

  Network net(w.spec);  // float on the CPU, through the tensor jets
  net.load(w);
  auto blob = [](std::vector<float>& v, int64_t cols) {
    return torch::from_blob(v.data(), {static_cast<int64_t>(v.size()) / cols, cols}, torch::kFloat);
  };
  auto dsm = dsm_loss(net, sde, blob(x0, d), blob(t, 1), blob(z, d));
  auto none = torch::zeros({0, 1}), none_x = torch::zeros({0, d});
  auto fp = fp_loss(net, sde, blob(tc, 1), blob(xc, d), none, none_x);
  EXPECT_EQ(fp.boundary.item<double>(), 0.0);
  auto loss = dsm + fp.residual;
  auto params = net.parameters();
  auto ref = torch::autograd::grad({loss}, params, {}, false, false, true);
  EXPECT_NEAR(parts.dsm, dsm.item<double>(), 1e-5 * dsm.item<double>());
  EXPECT_NEAR(parts.fp, fp.residual.item<double>(), 1e-4 * fp.residual.item<double>());
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto g = torch::from_blob(grad[i].data(), params[i].sizes(), torch::kFloat).to(torch::kDouble);
    EXPECT_LT(rel_err(g, ref[i].to(torch::kDouble)), 1e-4) << "param " << i;
  }
}

// lambda = 0 or no FP batch: the DSM alone; the output bias sees the DSM (s is the output).
TEST(FusedScore, LambdaZeroIsDsmOnly) {
  auto w = random_weights(2, Activation::Softplus, 5, 100.0, /*potential=*/false);
  Sde sde;
  std::mt19937_64 rng(3);
  const int64_t n = 100;
  auto t = uniform(n, 0.01, 10, rng), x0 = normal(2 * n, rng), z = normal(2 * n, rng);
  auto tc = uniform(n, 0.01, 10, rng), xc = uniform(2 * n, -3, 3, rng);
  DsmBatch db;
  db.n = n, db.t = t.data(), db.x0 = x0.data(), db.z = z.data();
  FpBatch fb;
  fb.n = n, fb.t = tc.data(), fb.x = xc.data();
  std::vector<std::vector<float>> g0, g1, g2;
  auto a = score_model_loss_grad(PotentialWeights::of(w), sde, db, nullptr, LossWeights{1.0, 1.0}, g0);
  auto b = score_model_loss_grad(PotentialWeights::of(w), sde, db, &fb, LossWeights{0.0, 0.0}, g1);
  auto c = score_model_loss_grad(PotentialWeights::of(w), sde, db, &fb, LossWeights{1.0, 0.0}, g2);
  EXPECT_EQ(a.fp, 0.0);
  EXPECT_EQ(b.fp, 0.0);
  EXPECT_GT(c.fp, 0.0);
  EXPECT_EQ(a.dsm, b.dsm);
  EXPECT_EQ(a.dsm, c.dsm);
  EXPECT_EQ(g0, g1);
  EXPECT_NE(g0, g2);
  EXPECT_NE(g0.back()[0], 0.f);
}

// The prior offset is a potential's: a score spec carrying it stays off the fused path,
// as the tensor path (which has no offset) refuses it.
TEST(FusedScore, NoPriorOffsetForAScoreNetwork) {
  ModelSpec spec;
  spec.potential = false;
  EXPECT_TRUE(fused_score_model_supported(spec));
  EXPECT_TRUE(runs_fused(spec));
  spec.prior_var = 0.5;
  EXPECT_FALSE(fused_score_model_supported(spec));
  EXPECT_FALSE(runs_fused(spec));
  EXPECT_THROW(Network{spec}, std::invalid_argument);
  spec.prior_var = 0;
  spec.potential = true;
  EXPECT_FALSE(fused_score_model_supported(spec));
}

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/sde.h"
#include "nn/loss.h"
#include "nn/model.h"

using namespace gapscope;

// The DSM regression target -z/sigma must be grad_{x_t} log p(x_t | x_0), the
// Gaussian transition density: check it against autograd of that log-density.
TEST(Loss, DsmTargetIsScoreOfTransitionDensity) {
  torch::manual_seed(0);
  for (auto kind : {Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE}) {
    Sde sde;
    sde.kind = kind;
    if (kind != Sde::Kind::OU) sde.T = 1.0;
    auto x0 = torch::randn({64, 2}, torch::kDouble);
    auto z = torch::randn({64, 2}, torch::kDouble);
    const double t = 0.37 * sde.T;
    const double m = sde.mean_coef(t), s = sde.marginal_std(t);
    auto xt = (m * x0 + s * z).requires_grad_(true);
    auto logp = (-(xt - m * x0).pow(2).sum(1) / (2 * s * s)).sum();
    auto grad = torch::autograd::grad({logp}, {xt})[0];
    EXPECT_TRUE(torch::allclose(grad, -z / s, 1e-10, 1e-10)) << static_cast<int>(kind);
  }
}

// With the exact score of Gaussian data the DSM loss equals its irreducible floor
// E|z/sigma|^2 - E|score|^2 ... simpler and sharper: a network whose score is
// replaced by the target gives zero, and the loss is the mean over coordinates.
TEST(Loss, DsmIsMeanSquaredErrorAgainstTarget) {
  ModelSpec spec;
  spec.d = 2;
  spec.hidden = 8;
  spec.layers = 2;
  Network net(spec, torch::kCPU, torch::kDouble);
  net.init(1);
  Sde sde;
  auto x0 = torch::randn({32, 2}, torch::kDouble);
  auto z = torch::randn({32, 2}, torch::kDouble);
  auto t = torch::rand({32, 1}, torch::kDouble) * 5 + 0.1;
  auto loss = dsm_loss(net, sde, x0, t, z);
  auto m = torch::exp(-t), s = torch::sqrt(0.5 * (1 - torch::exp(-2 * t)));
  auto expected = (net.score(t, m * x0 + s * z) + z / s).pow(2).mean();
  EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-12);
}

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/model.h"

using namespace gapscope;

class ModelActivations : public ::testing::TestWithParam<Activation> {};

TEST_P(ModelActivations, NoGradScoreEqualsAutogradScore) {
  for (int d : {1, 2}) {
    ModelSpec spec;
    spec.d = d;
    spec.hidden = 16;
    spec.layers = 3;
    spec.activation = GetParam();
    Network net(spec, torch::kCPU, torch::kDouble);
    net.init(3);
    auto t = torch::rand({50, 1}, torch::kDouble) * 10;
    auto x = torch::randn({50, d}, torch::kDouble);
    auto a = net.score(t, x), b = net.score_nograd(t, x);
    EXPECT_TRUE(torch::allclose(a, b, 1e-9, 1e-10)) << (a - b).abs().max().item<double>();
    EXPECT_FALSE(b.requires_grad());
  }
}

TEST_P(ModelActivations, DerivativesOfActivationMatchAutograd) {
  ModelSpec spec;
  spec.activation = GetParam();
  auto h = torch::linspace(-0.3, 0.3, 100, torch::kDouble).requires_grad_(true);
  auto y = activate(spec, h);
  auto d1 = torch::autograd::grad({y.sum()}, {h}, {}, true, true)[0];
  auto d2 = torch::autograd::grad({d1.sum()}, {h})[0];
  EXPECT_TRUE(torch::allclose(d1, activate_d1(spec, h.detach()), 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(d2, activate_d2(spec, h.detach()), 1e-8, 1e-8));
}

INSTANTIATE_TEST_SUITE_P(All, ModelActivations,
                         ::testing::Values(Activation::Softplus, Activation::Tanh, Activation::SiLU),
                         [](const auto& info) {
                           return std::string(info.param == Activation::Softplus ? "softplus"
                                              : info.param == Activation::Tanh   ? "tanh"
                                                                                 : "silu");
                         });

TEST(Model, PaperArchitectureAndSeededInit) {
  ModelSpec spec;  // defaults: (t,x) in R^3 -> 80 -> 80 -> 80 -> 1
  Network a(spec), b(spec);
  a.init(5);
  b.init(5);
  ASSERT_EQ(a.num_layers(), 4);
  EXPECT_EQ(a.weight(0).sizes(), (std::vector<int64_t>{80, 3}));
  EXPECT_EQ(a.weight(3).sizes(), (std::vector<int64_t>{1, 80}));
  for (int l = 0; l < 4; ++l) EXPECT_TRUE(torch::equal(a.weight(l), b.weight(l)));
  b.init(6);
  EXPECT_FALSE(torch::equal(a.weight(0), b.weight(0)));
  // nn.Linear's bound 1/sqrt(fan_in)
  EXPECT_LE(a.weight(1).abs().max().item<double>(), 1 / std::sqrt(80.0) + 1e-7);
}

TEST(Model, ScoreNetworkOutputsDCoordinates) {
  ModelSpec spec;
  spec.potential = false;
  spec.d = 2;
  Network net(spec);
  auto s = net.score_nograd(torch::rand({7, 1}), torch::randn({7, 2}));
  EXPECT_EQ(s.sizes(), (std::vector<int64_t>{7, 2}));
}

TEST(Model, SnapshotRoundTrip) {
  ModelSpec spec;
  Network a(spec), b(spec);
  a.init(11);
  b.load(a.snapshot());
  for (int l = 0; l < a.num_layers(); ++l) EXPECT_TRUE(torch::equal(a.weight(l), b.weight(l)));
}

// The sampler's fused float path (potential + softplus on the CPU) against autograd on the
// same float network: saturated units (|beta h| > 20) take the shortcut branches, so the
// inputs are spread wide enough to hit all three.
TEST(Model, FusedFloatSamplerScoreMatchesAutograd) {
  ModelSpec spec;  // the paper's network
  Network net(spec);
  net.init(17);
  auto t = torch::rand({4000, 1}) * 10;
  auto x = torch::randn({4000, 2}) * 3;
  auto a = net.score(t, x).detach(), b = net.score_nograd(t, x);
  const double scale = a.abs().max().item<double>();
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5 * scale + 1e-6);
}

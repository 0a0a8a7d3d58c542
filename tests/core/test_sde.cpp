#include <gtest/gtest.h>

#include <cmath>

#include "core/sde.h"

using gapscope::Sde;

namespace {

// Integrate dm/dt = -a m, dv/dt = -2 a v + g^2 (mean and variance of X_t | X_0) with
// fine RK4 steps, independently of the closed forms under test.
void moments_ode(const Sde& s, double t_end, double& m, double& v) {
  m = 1, v = 0;
  const int n = 20000;
  const double h = t_end / n;
  auto f = [&](double t, double m_, double v_, double& dm, double& dv) {
    dm = -s.drift_rate(t) * m_;
    dv = -2 * s.drift_rate(t) * v_ + s.diffusion2(t);
  };
  for (int i = 0; i < n; ++i) {
    const double t = i * h;
    double a1, b1, a2, b2, a3, b3, a4, b4;
    f(t, m, v, a1, b1);
    f(t + h / 2, m + h / 2 * a1, v + h / 2 * b1, a2, b2);
    f(t + h / 2, m + h / 2 * a2, v + h / 2 * b2, a3, b3);
    f(t + h, m + h * a3, v + h * b3, a4, b4);
    m += h / 6 * (a1 + 2 * a2 + 2 * a3 + a4);
    v += h / 6 * (b1 + 2 * b2 + 2 * b3 + b4);
  }
}

Sde make(Sde::Kind k) {
  Sde s;
  s.kind = k;
  s.T = k == Sde::Kind::OU ? 10.0 : 1.0;
  s.sigma_min = 0.01;
  s.sigma_max = 5.0;  // VE with a moderate range keeps the ODE check well conditioned
  return s;
}

}  // namespace

class SdeMarginals : public ::testing::TestWithParam<Sde::Kind> {};

TEST_P(SdeMarginals, ClosedFormMatchesMomentOde) {
  const Sde s = make(GetParam());
  for (double frac : {0.01, 0.1, 0.5, 1.0}) {
    const double t = frac * s.T;
    double m, v;
    moments_ode(s, t, m, v);
    EXPECT_NEAR(s.mean_coef(t), m, 1e-7 * std::max(1.0, m)) << "t=" << t;
    const double sd = s.marginal_std(t);
    EXPECT_NEAR(sd * sd, v, 1e-6 * std::max(1.0, v)) << "t=" << t;
  }
}

TEST_P(SdeMarginals, DivergenceIsMinusDTimesRate) {
  const Sde s = make(GetParam());
  for (int d : {1, 2, 5}) EXPECT_DOUBLE_EQ(s.drift_divergence(0.3, d), -d * s.drift_rate(0.3));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, SdeMarginals, ::testing::Values(Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE),
                         [](const auto& info) {
                           return std::string(info.param == Sde::Kind::OU ? "OU" : info.param == Sde::Kind::VP ? "VP" : "VE");
                         });

TEST(Sde, OuMatchesPaperFormulas) {
  Sde s;
  EXPECT_NEAR(s.mean_coef(1.0), std::exp(-1.0), 1e-15);
  EXPECT_NEAR(s.marginal_std(1.0), std::sqrt(0.5 * (1 - std::exp(-2.0))), 1e-15);
  EXPECT_NEAR(s.prior_std(), std::sqrt(0.5), 1e-15);
  EXPECT_DOUBLE_EQ(s.diffusion(3.0), 1.0);
}

TEST(Sde, VePriorIsTerminalMarginal) {
  Sde s = make(Sde::Kind::VE);
  EXPECT_NEAR(s.prior_std(), s.marginal_std(1.0), 1e-12);
  EXPECT_NEAR(s.marginal_std(1.0), std::sqrt(25.0 - 1e-4), 1e-9);
}

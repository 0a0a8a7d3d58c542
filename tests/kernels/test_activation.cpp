// The raw-array activations (engine/activation): the vectorised float Softplus against
// the double reference loop for the value and three derivatives across the regimes
// (saturated both ways, the kink, torch's linear switch at beta h = 20), and NaN
// propagation (a diverged run must stay detectable).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/activation.h"

using namespace gapscope;

TEST(Activation, FloatMatchesDoubleReference) {
  for (auto act : {Activation::Softplus, Activation::Tanh, Activation::SiLU}) {
    ModelSpec s;
    s.activation = act;
    const int m = 4001;  // not a multiple of any vector width
    std::vector<float> h(m), z(m), d1(m), d2(m), d3(m);
    std::vector<double> hd(m), zd(m), e1(m), e2(m), e3(m);
    for (int i = 0; i < m; ++i) hd[i] = h[i] = -1.0f + 2.0f * i / (m - 1);  // beta h in [-100, 100]
    activation_jet(s, m, h.data(), z.data(), d1.data(), d2.data(), d3.data());
    activation_jet(s, m, hd.data(), zd.data(), e1.data(), e2.data(), e3.data());
    const double beta = act == Activation::Softplus ? s.softplus_beta : 1.0;
    for (int i = 0; i < m; ++i) {
      ASSERT_NEAR(z[i], zd[i], 1e-6 * (1 + std::fabs(zd[i]))) << i;
      ASSERT_NEAR(d1[i], e1[i], 1e-6) << i;
      ASSERT_NEAR(d2[i], e2[i], 1e-6 * beta) << i;
      ASSERT_NEAR(d3[i], e3[i], 1e-6 * beta * beta) << i;
    }
    // the value-and-slope and slope-only variants give the same numbers
    std::vector<float> z1(m), s1(m), s0(m);
    activation_jet(s, m, h.data(), z1.data(), s1.data(), nullptr, nullptr);
    activation_jet(s, m, h.data(), nullptr, s0.data(), nullptr, nullptr);
    EXPECT_EQ(z1, z);
    EXPECT_EQ(s1, d1);
    EXPECT_EQ(s0, d1);
    // and so does the value alone (the score network's sampler)
    std::vector<float> v0(m);
    activation_jet(s, m, h.data(), v0.data(), nullptr, nullptr, nullptr);
    EXPECT_EQ(v0, z);
  }
}

// No Softplus loop selects torch's linear regime for the value and the slope (a select
// cost the sampler's pass 5 %, and kept the value-only loop from vectorising): they must
// still come out exactly h and 1 there, for any beta and far into the regime, in every
// variant; the second and third derivatives are selected, exactly 0.
TEST(Activation, SoftplusIsExactlyLinearAboveTheSwitch) {
  for (double beta : {1.0, 5.0, 100.0}) {
    ModelSpec s;
    s.softplus_beta = beta;
    std::vector<float> h;
    for (float bh = -60.f; bh < 60.f; bh += 0.37f) h.push_back(static_cast<float>(bh / beta));
    for (float bh = 19.99f; bh < 20.01f; bh += 0.0003f) h.push_back(static_cast<float>(bh / beta));
    for (float v : {1e3f, 1e6f, 3e30f, INFINITY, -INFINITY}) h.push_back(v);
    const int64_t m = static_cast<int64_t>(h.size());
    std::vector<float> z(m), d1(m), d2(m), d3(m), z1(m), s1(m), s0(m), v0(m);
    activation_jet(s, m, h.data(), z.data(), d1.data(), d2.data(), d3.data());
    activation_jet(s, m, h.data(), z1.data(), s1.data(), nullptr, nullptr);
    activation_jet(s, m, h.data(), nullptr, s0.data(), nullptr, nullptr);
    activation_jet(s, m, h.data(), v0.data(), nullptr, nullptr, nullptr);
    int linear = 0;
    for (int64_t i = 0; i < m; ++i) {
      ASSERT_EQ(v0[i], z[i]) << "beta " << beta << " h " << h[i];
      ASSERT_EQ(z1[i], z[i]) << "beta " << beta << " h " << h[i];
      ASSERT_EQ(s1[i], d1[i]) << "beta " << beta << " h " << h[i];
      ASSERT_EQ(s0[i], d1[i]) << "beta " << beta << " h " << h[i];
      if (beta * h[i] > 20) {
        ++linear;
        ASSERT_EQ(z[i], h[i]) << "beta " << beta << " h " << h[i];
        ASSERT_EQ(d1[i], 1.f) << "beta " << beta << " h " << h[i];
        ASSERT_EQ(d2[i], 0.f) << "beta " << beta << " h " << h[i];
        ASSERT_EQ(d3[i], 0.f) << "beta " << beta << " h " << h[i];
      }
    }
    EXPECT_GT(linear, 100);
  }
}

TEST(Activation, SoftplusFollowsTorchRegimes) {
  ModelSpec s;  // beta = 100
  const std::vector<float> h{0.3f, 0.2001f, -0.5f, 0.f};
  std::vector<float> z(4), d1(4), d2(4), d3(4);
  activation_jet(s, 4, h.data(), z.data(), d1.data(), d2.data(), d3.data());
  EXPECT_EQ(z[0], 0.3f);  // beta h > 20: exactly linear, as torch
  EXPECT_EQ(d1[0], 1.f);
  EXPECT_EQ(d2[0], 0.f);
  EXPECT_EQ(z[1], 0.2001f);
  EXPECT_LT(z[2], 1e-17f);  // far below: tiny, never negative, derivatives ~ 0
  EXPECT_GE(z[2], 0.f);
  EXPECT_LT(d1[2], 1e-17f);
  EXPECT_NEAR(z[3], std::log(2.0) / 100, 1e-9);
  EXPECT_NEAR(d1[3], 0.5, 1e-7);
  EXPECT_NEAR(d2[3], 25.0, 1e-5);
  EXPECT_NEAR(d3[3], 0.0, 1e-3);
}

TEST(Activation, NanPropagates) {
  for (auto act : {Activation::Softplus, Activation::Tanh, Activation::SiLU}) {
    ModelSpec s;
    s.activation = act;
    std::vector<float> h(37, 0.1f), z(37), d1(37), d2(37), d3(37);
    h[20] = NAN;
    activation_jet(s, 37, h.data(), z.data(), d1.data(), d2.data(), d3.data());
    EXPECT_TRUE(std::isnan(z[20]));
    std::vector<float> v0(37);
    activation_jet(s, 37, h.data(), v0.data(), nullptr, nullptr, nullptr);
    EXPECT_TRUE(std::isnan(v0[20]));
    EXPECT_FALSE(std::isnan(v0[19]));
    EXPECT_TRUE(std::isnan(d1[20]));
    EXPECT_FALSE(std::isnan(z[19]));
  }
}

// The ODE-induced density by the instantaneous change of variables: with the exact score of
// closed-form Gaussian-mixture data, log p^ODE at the particles (and at grid nodes
// integrated the other way) is the exact log p_t, with an error that falls at the
// integrator's order as the step count doubles.
#include <gtest/gtest.h>

#include <cmath>

#include "core/config.h"
#include "core/data.h"
#include "mixture_fixture.h"
#include "core/sde.h"
#include "nn/model.h"
#include "sample/density.h"

using namespace gapscope;
using gapscope::testing::two_d_mixture;

namespace {

DensityTermsFn exact_terms(const GaussianMixture& data, const Sde& sde) {
  return [data, sde](double t, const Points& x, Points& s, std::vector<float>& div) {
    const GaussianMixture g = data.at_time(sde, t);
    s.d = x.d;
    s.v.resize(x.v.size());
    div.resize(x.n());
    std::vector<double> xi(x.d), gi(x.d);
    for (std::size_t i = 0; i < x.n(); ++i) {
      for (int k = 0; k < x.d; ++k) xi[k] = x.row(i)[k];
      double lap = 0;
      g.score(xi.data(), gi.data(), &lap);
      for (int k = 0; k < x.d; ++k) s.row(i)[k] = static_cast<float>(gi[k]);
      div[i] = static_cast<float>(lap);
    }
  };
}

// Mean |log p^ODE - log p_eps| over the particles, N uniform steps.
double particle_error(OdeScheme scheme, int steps) {
  const Sde sde = Sde::from_config(Config{});
  const GaussianMixture data = two_d_mixture();
  SamplerOptions o;
  o.scheme = scheme;
  o.steps = steps;
  o.refine = 0;
  o.eps = 1e-3;
  const OdeDensity r = ode_log_density(sde, exact_terms(data, sde), o, prior_sample(sde, 2, 400, 3));
  const GaussianMixture pe = data.at_time(sde, o.eps);
  double err = 0;
  for (std::size_t i = 0; i < r.x.n(); ++i) {
    const double xi[2] = {r.x.row(i)[0], r.x.row(i)[1]};
    err += std::abs(r.log_p[i] - pe.log_density(xi));
  }
  EXPECT_EQ(r.nfe, static_cast<std::size_t>(steps) * (scheme == OdeScheme::Heun ? 2 : 1));
  return err / r.x.n();
}

}  // namespace

TEST(OdeDensity, ExactScoreGivesTheExactLogDensityAtTheIntegratorsOrder) {
  const double e1 = particle_error(OdeScheme::Euler, 100), e2 = particle_error(OdeScheme::Euler, 200);
  const double h1 = particle_error(OdeScheme::Heun, 50), h2 = particle_error(OdeScheme::Heun, 100);
  EXPECT_LT(e2, 0.05);
  EXPECT_LT(h2, 0.02);
  EXPECT_NEAR(e1 / e2, 2.0, 0.5) << e1 << " " << e2;  // first order
  EXPECT_NEAR(h1 / h2, 4.0, 1.0) << h1 << " " << h2;  // second order
}

TEST(OdeDensity, GridNodesIntegratedForwardMatchTheClosedForm) {
  const Sde sde = Sde::from_config(Config{});
  const GaussianMixture data = two_d_mixture();
  SamplerOptions o;
  o.scheme = OdeScheme::RK4;
  o.steps = 100;
  o.refine = 0;
  o.eps = 0.05;
  Points y(2, 0);
  for (double a = -2.5; a <= 2.5; a += 0.5)
    for (double b = -2.5; b <= 2.5; b += 0.5) y.v.push_back(float(a)), y.v.push_back(float(b));
  const auto lp = ode_log_density_at(sde, exact_terms(data, sde), o, y);
  const GaussianMixture pt = data.at_time(sde, o.eps);
  for (std::size_t i = 0; i < y.n(); ++i) {
    const double xi[2] = {y.row(i)[0], y.row(i)[1]};
    ASSERT_NEAR(lp[i], pt.log_density(xi), 1e-3 * (1 + std::abs(lp[i]))) << xi[0] << "," << xi[1];
  }
}

TEST(OdeDensity, NormalisingOnTheGridIntegratesToOne) {
  std::vector<float> u = {0.f, 1.f, 2.f, -INFINITY, 700.f};
  const auto l = normalise_on_grid(u, 0.25);
  double s = 0;
  for (double v : l) s += std::exp(v) * 0.25;
  EXPECT_NEAR(s, 1.0, 1e-12);
}

TEST(OdeDensity, DensityGridOfANetworkHasTheThreeColumnsAndRejectsBadInput) {
  Config c;
  c.dataset = "blob";  // a closed form
  ModelSpec spec;
  spec.hidden = 16;
  Network net(spec);
  net.init(1);
  auto w = std::make_shared<const WeightSnapshot>(net.snapshot());
  SamplerOptions o;
  o.steps = 20;
  o.refine = 0;
  DensityRequest r;
  r.grid = 9;
  r.t = 0.5;
  const DensityGrid g = density_grid(w, c, o, r);
  ASSERT_EQ(g.log_p_ode.size(), 81u);
  ASSERT_EQ(g.log_p_model.size(), 81u);
  ASSERT_EQ(g.log_p_data.size(), 81u);
  EXPECT_EQ(g.data_label, "exact (Gaussian mixture)");
  for (double v : g.log_p_ode) EXPECT_TRUE(std::isfinite(v));
  c.dataset = "circles2";
  EXPECT_NE(density_grid(w, c, o, r).data_label.find("KDE"), std::string::npos);
  r.t = 20;
  EXPECT_THROW(density_grid(w, c, o, r), std::invalid_argument);
}

#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <cmath>

#include "core/config.h"
#include "core/data.h"
#include "mixture_fixture.h"
#include "core/sde.h"
#include "nn/model.h"
#include "sample/sample.h"
#include "transport/w2_triple.h"

#include <random>

using namespace gapscope;
using gapscope::testing::two_d_mixture;

namespace {

ScoreFn exact_score(const GaussianMixture& data, const Sde& sde) {
  return [data, sde](double t, const Points& x, Points& out) {
    const GaussianMixture g = data.at_time(sde, t);
    out.d = x.d;
    out.v.resize(x.v.size());
    std::vector<double> xi(x.d), gi(x.d);
    for (std::size_t i = 0; i < x.n(); ++i) {
      for (int k = 0; k < x.d; ++k) xi[k] = x.row(i)[k];
      g.score(xi.data(), gi.data());
      for (int k = 0; k < x.d; ++k) out.row(i)[k] = static_cast<float>(gi[k]);
    }
  };
}

void empirical(const Points& p, std::vector<double>& mean, std::vector<double>& cov) {
  const int d = p.d;
  mean.assign(d, 0);
  cov.assign(d * d, 0);
  for (std::size_t i = 0; i < p.n(); ++i)
    for (int k = 0; k < d; ++k) mean[k] += p.row(i)[k] / double(p.n());
  for (std::size_t i = 0; i < p.n(); ++i)
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) cov[a * d + b] += (p.row(i)[a] - mean[a]) * (p.row(i)[b] - mean[b]) / double(p.n());
}

GaussianMixture one_d_mixture() {
  GaussianMixture g;
  g.d = 1;
  g.weights = {0.3, 0.5, 0.2};
  g.means = {-2.0, 0.5, 2.5};
  g.stds = {0.3, 0.4, 0.2};
  return g;
}

struct Case {
  SamplerKind kind;
  OdeScheme scheme;
  bool two_d;
};

}  // namespace

class ExactScoreSampling : public ::testing::TestWithParam<Case> {};

// With the exact closed-form score, both samplers at the paper's step count must
// reproduce the data's mean and covariance (up to Monte Carlo and discretisation error).
TEST_P(ExactScoreSampling, ReproducesDataMoments) {
  const Case c = GetParam();
  const GaussianMixture data = c.two_d ? two_d_mixture() : one_d_mixture();
  Sde sde;  // OU, T = 10
  SamplerOptions o;
  o.kind = c.kind;
  o.scheme = c.scheme;
  o.seed = 5;
  const std::size_t n = 20000;
  Points x = sample(sde, exact_score(data, sde), o, prior_sample(sde, data.d, n, 9));
  std::vector<double> m, cov, m0, cov0;
  empirical(x, m, cov);
  data.moments(m0, cov0);
  for (int k = 0; k < data.d; ++k) EXPECT_NEAR(m[k], m0[k], 0.04) << "mean " << k;
  for (int k = 0; k < data.d * data.d; ++k) EXPECT_NEAR(cov[k], cov0[k], 0.05 * std::abs(cov0[0]) + 0.02) << "cov " << k;
}

INSTANTIATE_TEST_SUITE_P(Samplers, ExactScoreSampling,
                         ::testing::Values(Case{SamplerKind::SDE, OdeScheme::Euler, true},
                                           Case{SamplerKind::ODE, OdeScheme::Euler, true},
                                           Case{SamplerKind::ODE, OdeScheme::Heun, true},
                                           Case{SamplerKind::ODE, OdeScheme::RK4, false},
                                           Case{SamplerKind::SDE, OdeScheme::Euler, false},
                                           Case{SamplerKind::ODE, OdeScheme::Euler, false}),
                         [](const auto& info) {
                           const Case& c = info.param;
                           std::string s = c.kind == SamplerKind::SDE ? "sde" : c.scheme == OdeScheme::Euler ? "ode_euler"
                                                                           : c.scheme == OdeScheme::Heun    ? "ode_heun"
                                                                                                            : "ode_rk4";
                           return s + (c.two_d ? "_2d" : "_1d");
                         });

TEST(Sample, WrongScoreIsDetected) {
  // The same check must fail with a wrong score: here, the score of a mixture shifted by +1.
  GaussianMixture data = two_d_mixture(), wrong = data;
  for (auto& m : wrong.means) m += 1.0;
  Sde sde;
  SamplerOptions o;
  Points x = sample(sde, exact_score(wrong, sde), o, prior_sample(sde, 2, 5000, 1));
  std::vector<double> m, cov, m0, cov0;
  empirical(x, m, cov);
  data.moments(m0, cov0);
  EXPECT_GT(std::abs(m[0] - m0[0]), 0.5);
}

TEST(Sample, PaperScheduleHas490Steps) {
  Sde sde;
  SamplerOptions o;  // N = 400, last 10 refined 10x
  auto g = time_grid(sde, o);
  ASSERT_EQ(g.size(), 491u);
  EXPECT_DOUBLE_EQ(g.front(), 10.0);
  EXPECT_DOUBLE_EQ(g.back(), 1e-4);
  const double h = (10.0 - 1e-4) / 400;
  EXPECT_NEAR(g[0] - g[1], h, 1e-12);
  EXPECT_NEAR(g[489] - g[490], h / 10, 1e-12);
  for (std::size_t k = 1; k < g.size(); ++k) EXPECT_LT(g[k], g[k - 1]);
}

TEST(Sample, SharedPriorDrawsAndSeededNoise) {
  Sde sde;
  Points a = prior_sample(sde, 2, 100, 4), b = prior_sample(sde, 2, 100, 4);
  EXPECT_EQ(a.v, b.v);
  auto zero = [](double, const Points& x, Points& out) { out = Points(x.d, x.n()); };
  SamplerOptions o;
  o.kind = SamplerKind::SDE;
  o.steps = 20;
  o.refine = 0;
  o.seed = 1;
  EXPECT_EQ(sample(sde, zero, o, a).v, sample(sde, zero, o, a).v);
  o.seed = 2;
  Points c = sample(sde, zero, o, a);
  o.seed = 1;
  EXPECT_NE(sample(sde, zero, o, a).v, c.v);
}

// The normals come in fixed-size chunks with their own keys: standard moments, and the
// same numbers whatever the thread count.
TEST(Sample, PriorNormalsHaveStandardMomentsOnAnyThreadCount) {
  Sde sde;
  const double sd = sde.prior_std();
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  Points one = prior_sample(sde, 2, 100001, 9);
  at::set_num_threads(2);
  Points two = prior_sample(sde, 2, 100001, 9);
  at::set_num_threads(threads);
  EXPECT_EQ(one.v, two.v);
  double m1 = 0, m2 = 0, m4 = 0;
  for (float v : one.v) {
    const double z = v / sd;
    m1 += z, m2 += z * z, m4 += z * z * z * z;
  }
  const double n = static_cast<double>(one.v.size());
  EXPECT_NEAR(m1 / n, 0.0, 0.01);
  EXPECT_NEAR(m2 / n, 1.0, 0.01);
  EXPECT_NEAR(m4 / n, 3.0, 0.05);
  EXPECT_NE(prior_sample(sde, 2, 10, 9).v, prior_sample(sde, 2, 10, 10).v);
}

// sample() runs the independent schemes as one part of the cloud per thread: the same
// numbers, bit for bit, as the whole cloud stepped by one Integrator on one thread, the
// SDE's noise included (parts cut the noise's 4096-number chunks here), for a closed-form
// score and for networks on both paths (the fused kernels, and LibTorch for a score network
// of d = 40), each called from all threads at once.
TEST(Sample, CloudPartsOnThreadsGiveTheWholeCloudsNumbers) {
  Sde sde;
  auto network = [](int d, bool potential) {
    ModelSpec spec;
    spec.hidden = 16;
    spec.d = d;
    spec.potential = potential;
    Network net(spec);
    net.init(5);
    return network_score(std::make_shared<const WeightSnapshot>(net.snapshot()));
  };
  struct Case {
    const char* name;
    ScoreFn score;
    Points start;
  };
  const std::vector<Case> cases = {{"exact score", exact_score(two_d_mixture(), sde), prior_sample(sde, 2, 3001, 7)},
                                   {"fused network", network(2, true), prior_sample(sde, 2, 3001, 7)},
                                   {"LibTorch network", network(40, false), prior_sample(sde, 40, 601, 7)}};
  const int threads = at::get_num_threads();
  for (const Case& c : cases)
    for (auto [kind, scheme] : {std::pair{SamplerKind::SDE, OdeScheme::Euler}, std::pair{SamplerKind::ODE, OdeScheme::Euler},
                                std::pair{SamplerKind::ODE, OdeScheme::Heun}}) {
      SamplerOptions o;
      o.kind = kind, o.scheme = scheme;
      o.steps = 12, o.refine = 2, o.refine_factor = 3;
      o.seed = 3;
      at::set_num_threads(1);
      Integrator whole(sde, c.score, o, c.start);
      whole.run();
      for (int t : {2, 3}) {
        at::set_num_threads(t);
        std::size_t nfe = 0;
        const Points parts = sample(sde, c.score, o, c.start, &nfe);
        EXPECT_EQ(parts.v, whole.points().v) << t << " threads, " << (kind == SamplerKind::SDE ? "SDE, " : "ODE, ")
                                              << c.name;
        EXPECT_EQ(nfe, whole.nfe());
      }
    }
  at::set_num_threads(threads);
  // A part's noise is the whole cloud's at its coordinates: a part outside the cloud is refused.
  SamplerOptions o;
  o.kind = SamplerKind::SDE;
  EXPECT_THROW(Integrator(sde, cases[0].score, o, Points(2, 10), CloudPart{10, 20}), std::invalid_argument);
}

TEST(Sample, OdeSchemesConvergeAtTheirOrder) {
  // dx/dt = -x - 1/2 s with s = -x / v for Gaussian data; compare step counts against a fine RK4 run.
  GaussianMixture data;
  data.d = 1;
  data.weights = {1};
  data.means = {0.7};
  data.stds = {0.5};
  Sde sde;
  sde.T = 2.0;
  Points start = prior_sample(sde, 1, 16, 3);
  auto run = [&](OdeScheme s, int steps) {
    SamplerOptions o;
    o.scheme = s;
    o.steps = steps;
    o.refine = 0;
    o.eps = 0.05;
    return sample(sde, exact_score(data, sde), o, start);
  };
  Points ref = run(OdeScheme::RK4, 2000);
  auto err = [&](const Points& p) {
    double e = 0;
    for (std::size_t i = 0; i < p.v.size(); ++i) e = std::max(e, double(std::abs(p.v[i] - ref.v[i])));
    return e;
  };
  const double e_euler = err(run(OdeScheme::Euler, 40)), e_heun = err(run(OdeScheme::Heun, 40)),
               e_rk4 = err(run(OdeScheme::RK4, 40));
  EXPECT_LT(e_heun, e_euler / 5);
  EXPECT_LT(e_rk4, e_heun);
}

// RK45 on the OU process with Gaussian data N(mu, s0^2 I) and its exact (linear) score:
// the probability flow is affine, x_t = m_t + (s_t / s_T)(x_T - m_T), so the adaptive
// solver's end points can be checked one by one against it, within its tolerance, and
// a tighter tolerance costs more network evaluations.
TEST(Sample, Rk45ReachesTheExactFlowOfALinearOuWithinItsTolerance) {
  GaussianMixture data;
  data.d = 2;
  data.weights = {1.0};
  data.means = {0.8, -0.4};
  data.stds = {0.3};
  Sde sde;  // OU, T = 10
  SamplerOptions o;
  o.scheme = OdeScheme::RK45;
  o.eps = 1e-3;
  const Points start = prior_sample(sde, 2, 500, 4);
  const GaussianMixture gT = data.at_time(sde, sde.T), ge = data.at_time(sde, o.eps);
  std::size_t last_nfe = 0;
  for (double tol : {1e-3, 1e-5}) {
    o.rtol = o.atol = tol;
    std::size_t nfe = 0;
    const Points x = sample(sde, exact_score(data, sde), o, start, &nfe);
    double worst = 0;
    for (std::size_t i = 0; i < x.n(); ++i)
      for (int k = 0; k < 2; ++k) {
        const double exact = ge.means[k] + ge.stds[0] / gT.stds[0] * (start.row(i)[k] - gT.means[k]);
        worst = std::max(worst, std::abs(x.row(i)[k] - exact) / (tol + tol * std::abs(exact)));
      }
    EXPECT_LT(worst, 1.0) << "rtol = atol = " << tol;
    EXPECT_GT(nfe, last_nfe) << tol;
    EXPECT_EQ(nfe % 6, 1u);  // six per step, first same as last, plus the very first
    last_nfe = nfe;
  }
  EXPECT_EQ(network_evaluations(sde, o), 0u);  // known only after the run
}

// The predictor-corrector sampler (Euler-Maruyama predictor, Langevin corrector) with the
// exact score draws the two-component mixture: W2 to fresh data samples as small as the
// plain reverse SDE's.
TEST(Sample, PredictorCorrectorWithTheExactScoreDrawsTheTarget) {
  const GaussianMixture data = two_d_mixture();
  Sde sde;
  SamplerOptions o;
  o.kind = SamplerKind::SDE;
  o.sde_scheme = SdeScheme::PredictorCorrector;
  o.steps = 200;
  o.refine = 10;
  o.seed = 3;
  const std::size_t n = 2000;
  std::size_t nfe = 0;
  const Points x = sample(sde, exact_score(data, sde), o, prior_sample(sde, 2, n, 8), &nfe);
  EXPECT_EQ(nfe, network_evaluations(sde, o));
  EXPECT_EQ(nfe, 290u + 289u);  // one corrector step on every level but the last
  // data from the closed form, by component
  std::mt19937_64 rng(11);
  std::normal_distribution<double> Z;
  std::uniform_real_distribution<double> U;
  Points y(2, n);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = U(rng) < data.weights[0] ? 0 : 1;
    for (int k = 0; k < 2; ++k) y.row(i)[k] = static_cast<float>(data.means[c * 2 + k] + data.stds[c] * Z(rng));
  }
  W2Spec spec;
  spec.metric = W2Metric::Exact;
  const double w_pc = w2_distance(x, y, spec);
  o.sde_scheme = SdeScheme::EulerMaruyama;
  const double w_em = w2_distance(sample(sde, exact_score(data, sde), o, prior_sample(sde, 2, n, 8)), y, spec);
  EXPECT_LT(w_pc, 0.15);
  EXPECT_LT(w_pc, w_em + 0.05) << w_pc << " vs EM " << w_em;
  // too strong a corrector breaks it: the check can fail
  o.sde_scheme = SdeScheme::PredictorCorrector;
  o.snr = 3.0;
  EXPECT_GT(w2_distance(sample(sde, exact_score(data, sde), o, prior_sample(sde, 2, n, 8)), y, spec), w_pc + 0.05);
}

TEST(Sample, SamplerNamesParseAndAreRefusedInOneLine) {
  EXPECT_EQ(parse_ode_scheme("rk45"), OdeScheme::RK45);
  EXPECT_EQ(parse_sde_scheme("pc"), SdeScheme::PredictorCorrector);
  EXPECT_STREQ(ode_scheme_name(OdeScheme::RK45), "rk45");
  EXPECT_STREQ(sde_scheme_name(SdeScheme::EulerMaruyama), "em");
  try {
    parse_sde_scheme("langevin");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "SDE sampler 'langevin': expected em|pc");
  }
  Config c;
  c.sde_sampler = "pc";
  c.pc_snr = 0.2;
  c.ode_method = "rk45";
  c.ode_rtol = 1e-4;
  const SamplerOptions o = SamplerOptions::from_config(c, SamplerKind::SDE);
  EXPECT_EQ(o.sde_scheme, SdeScheme::PredictorCorrector);
  EXPECT_EQ(o.snr, 0.2);
  EXPECT_EQ(o.scheme, OdeScheme::RK45);
  EXPECT_EQ(o.rtol, 1e-4);
}

// The Fokker-Planck residual: forward jets against the nested-autograd oracle,
// closed-form Gaussian-mixture densities (R = 0), the regularised training, and
// the residual fields.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/config.h"
#include "core/data.h"
#include "core/sde.h"
#include "jet_test_util.h"
#include "nn/jet.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/residual.h"
#include "sample/residual_field.h"
#include "train/train.h"

using namespace gapscope;
using gapscope::testing::make_sde;
using gapscope::testing::rel_err;

namespace {

struct Case {
  Activation act;
  int d;
};

Network random_net(bool potential, int d, Activation act, uint64_t seed, double beta = 100.0) {
  ModelSpec spec;
  spec.potential = potential;
  spec.d = d;
  spec.hidden = 16;
  spec.layers = 3;
  spec.activation = act;
  spec.softplus_beta = beta;
  Network net(spec, torch::kCPU, torch::kDouble);
  net.init(seed);
  // Larger weights than the default init, so the second derivatives are not tiny.
  torch::NoGradGuard ng;
  for (auto& p : net.parameters()) p.mul_(2.0);
  return net;
}

std::vector<torch::Tensor> param_grads(const Network& net, const torch::Tensor& loss) {
  auto params = net.parameters();
  // allow_unused: the score of a potential does not depend on the output bias (its gradient is 0)
  auto g = torch::autograd::grad({loss}, params, {}, /*retain_graph=*/true, /*create_graph=*/false, /*allow_unused=*/true);
  for (std::size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined()) g[i] = torch::zeros_like(params[i]);
  return g;
}

void expect_grads_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (b[i].abs().max().item<double>() == 0.0)
      EXPECT_EQ(a[i].abs().max().item<double>(), 0.0) << what << " param " << i;
    else
      EXPECT_LT(rel_err(a[i], b[i]), 1e-5) << what << " param " << i;
  }
}

const Activation kActs[] = {Activation::Softplus, Activation::Tanh, Activation::SiLU};

}  // namespace

// ---- jets against nested autograd ---------------------------------------------------

TEST(Jet, PotentialJetMatchesNestedAutograd) {
  for (auto act : kActs)
    for (int d : {1, 2}) {
      // beta = 100 puts the softplus kinks where the points are; beta = 5 keeps them smooth.
      for (double beta : {100.0, 5.0}) {
        if (act != Activation::Softplus && beta != 100.0) continue;
        auto net = random_net(true, d, act, 7 + d, beta);
        torch::manual_seed(1);
        auto t = torch::rand({200, 1}, torch::kDouble) * 3;
        auto x = torch::randn({200, d}, torch::kDouble) * 0.3;
        auto o = potential_jet_autograd(net, t, x);
        auto j = potential_jet(net, t, x);
        const std::string tag = "act " + std::to_string(static_cast<int>(act)) + " d " + std::to_string(d);
        EXPECT_LT(rel_err(j.u, o.u), 1e-10) << tag;
        EXPECT_LT(rel_err(j.u_t, o.u_t), 1e-5) << tag;
        EXPECT_LT(rel_err(j.grad, o.grad), 1e-5) << tag;
        EXPECT_LT(rel_err(j.lap, o.lap), 1e-5) << tag;
        EXPECT_GT(o.lap.abs().max().item<double>(), 1e-3) << tag;  // the check is not vacuous
      }
    }
}

TEST(Jet, ScoreJetMatchesNestedAutograd) {
  for (auto act : kActs)
    for (int d : {1, 2, 3}) {
      auto net = random_net(false, d, act, 3 + d, 5.0);
      torch::manual_seed(2);
      auto t = torch::rand({100, 1}, torch::kDouble);
      auto x = torch::randn({100, d}, torch::kDouble) * 0.5;
      auto o = score_jet_autograd(net, t, x);
      auto j = score_jet(net, t, x);
      const std::string tag = "act " + std::to_string(static_cast<int>(act)) + " d " + std::to_string(d);
      EXPECT_LT(rel_err(j.s, o.s), 1e-10) << tag;
      EXPECT_LT(rel_err(j.s_t, o.s_t), 1e-5) << tag;
      EXPECT_LT(rel_err(j.jac, o.jac), 1e-5) << tag;
      EXPECT_LT(rel_err(j.grad_div, o.grad_div), 1e-5) << tag;
      EXPECT_GT(o.grad_div.abs().max().item<double>(), 1e-3) << tag;
    }
}

TEST(Jet, ScoreNoGradMatchesAutogradScore) {
  for (auto act : kActs) {
    auto net = random_net(true, 2, act, 5);
    auto t = torch::rand({64, 1}, torch::kDouble) * 10;
    auto x = torch::randn({64, 2}, torch::kDouble);
    EXPECT_LT(rel_err(net.score_nograd(t, x), net.score(t, x)), 1e-10);
  }
}

// ---- parameter gradients of the losses ------------------------------------------------

TEST(Jet, FpLossGradientsMatchNestedAutograd) {
  for (auto kind : {Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE})
    for (auto act : kActs)
      for (int d : {1, 2}) {
        const Sde sde = make_sde(kind);
        const std::string tag = "sde " + std::to_string(static_cast<int>(kind)) + " act " +
                                std::to_string(static_cast<int>(act)) + " d " + std::to_string(d);
        torch::manual_seed(3);
        auto tc = torch::rand({120, 1}, torch::kDouble) * sde.T;
        auto xc = torch::randn({120, d}, torch::kDouble) * 0.5;
        auto tb = torch::rand({40, 1}, torch::kDouble) * sde.T;
        auto xb = torch::randn({40, d}, torch::kDouble);
        {
          auto net = random_net(true, d, act, 11, 5.0);
          auto fast = fp_loss(net, sde, tc, xc, tb, xb);
          auto oj = potential_jet_autograd(net, tc, xc);
          auto ores = log_fp_residual(sde, tc, xc, oj).pow(2).mean();
          auto obc = torch::softplus(net.forward(tb, xb)).pow(2).mean();
          EXPECT_NEAR(fast.residual.item<double>(), ores.item<double>(), 1e-9 * (1 + ores.item<double>())) << tag;
          EXPECT_NEAR(fast.boundary.item<double>(), obc.item<double>(), 1e-12) << tag;
          expect_grads_close(param_grads(net, fast.residual + fast.boundary), param_grads(net, ores + obc),
                             ("potential " + tag).c_str());
        }
        {
          auto net = random_net(false, d, act, 12, 5.0);
          auto fast = fp_loss(net, sde, tc, xc, tb, xb);
          auto ores = score_fp_residual(sde, tc, xc, score_jet_autograd(net, tc, xc)).pow(2).sum(1).mean();
          EXPECT_NEAR(fast.residual.item<double>(), ores.item<double>(), 1e-9 * (1 + ores.item<double>())) << tag;
          EXPECT_EQ(fast.boundary.item<double>(), 0.0);
          expect_grads_close(param_grads(net, fast.residual), param_grads(net, ores), ("score " + tag).c_str());
        }
      }
}

TEST(Jet, DsmLossGradientsMatchAutograd) {
  for (bool potential : {true, false})
    for (auto act : kActs) {
      auto net = random_net(potential, 2, act, 13, 100.0);
      Sde sde;
      torch::manual_seed(4);
      auto x0 = torch::randn({64, 2}, torch::kDouble);
      auto z = torch::randn({64, 2}, torch::kDouble);
      auto t = torch::rand({64, 1}, torch::kDouble) * 5 + 0.01;
      auto fast = dsm_loss(net, sde, x0, t, z);
      auto m = torch::exp(-t), s = torch::sqrt(0.5 * (1 - torch::exp(-2 * t)));
      auto ref = (net.score(t, m * x0 + s * z) + z / s).pow(2).mean();
      EXPECT_NEAR(fast.item<double>(), ref.item<double>(), 1e-10 * (1 + ref.item<double>()));
      expect_grads_close(param_grads(net, fast), param_grads(net, ref), potential ? "dsm potential" : "dsm score");
    }
}

// ---- closed-form densities ----------------------------------------------------------

namespace {

GaussianMixture test_mixture(int d) {
  GaussianMixture g;
  g.d = d;
  g.weights = {0.3, 0.5, 0.2};
  g.stds = {0.3, 0.5, 0.4};
  if (d == 1)
    g.means = {-1.5, 0.5, 2.0};
  else
    g.means = {-1.5, 0.5, 0.5, 1.0, 1.5, -1.0};
  return g;
}

// 4-point central difference in double (error ~ h^4).
double dt4(const std::function<double(double)>& f, double t, double h) {
  return (-f(t + 2 * h) + 8 * f(t + h) - 8 * f(t - h) + f(t - 2 * h)) / (12 * h);
}

struct GridPoints {
  torch::Tensor t, x;
};

GridPoints grid_points(const Sde& sde, int d) {
  std::vector<double> tv, xv;
  const std::vector<double> ts = {0.02 * sde.T, 0.1 * sde.T, 0.3 * sde.T, 0.6 * sde.T, 0.95 * sde.T};
  const int m = d == 1 ? 41 : 13;
  for (double t : ts) {
    if (d == 1) {
      for (int i = 0; i < m; ++i) tv.push_back(t), xv.push_back(-3.0 + 6.0 * i / (m - 1));
    } else {
      for (int i = 0; i < m; ++i)
        for (int k = 0; k < m; ++k)
          tv.push_back(t), xv.push_back(-3.0 + 6.0 * i / (m - 1)), xv.push_back(-3.0 + 6.0 * k / (m - 1));
    }
  }
  const int64_t n = static_cast<int64_t>(tv.size());
  return {torch::tensor(tv, torch::kDouble).view({n, 1}), torch::tensor(xv, torch::kDouble).view({n, d})};
}

// The closed-form jet of log p_t; `time_scale` != 1 evaluates the mixture at the wrong time.
LogDensityJet mixture_jet(const GaussianMixture& g0, const Sde& sde, const GridPoints& p, double time_scale = 1.0) {
  const int64_t n = p.t.size(0);
  const int d = g0.d;
  LogDensityJet j;
  j.u = torch::empty({n, 1}, torch::kDouble);
  j.u_t = torch::empty({n, 1}, torch::kDouble);
  j.grad = torch::empty({n, d}, torch::kDouble);
  j.lap = torch::empty({n, 1}, torch::kDouble);
  auto tp = p.t.accessor<double, 2>();
  auto xa = p.x.contiguous();
  const double* xp = xa.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const double t = tp[i][0] * time_scale;
    const double* x = xp + i * d;
    auto gt = g0.at_time(sde, t);
    j.u[i][0] = gt.log_density(x);
    std::vector<double> grad(d);
    double lap = 0;
    gt.score(x, grad.data(), &lap);
    for (int k = 0; k < d; ++k) j.grad[i][k] = grad[k];
    j.lap[i][0] = lap;
    j.u_t[i][0] = time_scale * dt4([&](double s) { return g0.at_time(sde, s).log_density(x); }, t, 1e-3 * t);
  }
  return j;
}

// The score jet of the closed form (Jacobian and grad div by 4-point differences of the exact score / Laplacian).
ScoreJet mixture_score_jet(const GaussianMixture& g0, const Sde& sde, const GridPoints& p) {
  const int64_t n = p.t.size(0);
  const int d = g0.d;
  ScoreJet j;
  j.s = torch::empty({n, d}, torch::kDouble);
  j.s_t = torch::empty({n, d}, torch::kDouble);
  j.jac = torch::empty({n, d, d}, torch::kDouble);
  j.grad_div = torch::empty({n, d}, torch::kDouble);
  auto xa = p.x.contiguous();
  for (int64_t i = 0; i < n; ++i) {
    const double t = p.t[i][0].item<double>();
    std::vector<double> x(xa.data_ptr<double>() + i * d, xa.data_ptr<double>() + (i + 1) * d);
    auto gt = g0.at_time(sde, t);
    auto score_at = [&](const GaussianMixture& g, const std::vector<double>& y, int k) {
      std::vector<double> s(d);
      g.score(y.data(), s.data());
      return s[k];
    };
    auto lap_at = [&](const std::vector<double>& y) {
      std::vector<double> s(d);
      double l = 0;
      gt.score(y.data(), s.data(), &l);
      return l;
    };
    for (int k = 0; k < d; ++k) {
      j.s[i][k] = score_at(gt, x, k);
      j.s_t[i][k] = dt4([&](double s) { return score_at(g0.at_time(sde, s), x, k); }, t, 1e-3 * t);
    }
    const double h = 1e-3;
    for (int a = 0; a < d; ++a) {
      auto shifted = [&](double e) {
        auto y = x;
        y[a] += e;
        return y;
      };
      for (int k = 0; k < d; ++k)
        j.jac[i][k][a] = dt4([&](double e) { return score_at(gt, shifted(e), k); }, 0.0, h);
      j.grad_div[i][a] = dt4([&](double e) { return lap_at(shifted(e)); }, 0.0, h);
    }
  }
  return j;
}

}  // namespace

TEST(ClosedForm, MixtureLogDensityHasZeroResidual) {
  for (auto kind : {Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE})
    for (int d : {1, 2}) {
      const Sde sde = make_sde(kind);
      auto g = test_mixture(d);
      auto p = grid_points(sde, d);
      auto R = log_fp_residual(sde, p.t, p.x, mixture_jet(g, sde, p));
      EXPECT_LT(R.abs().max().item<double>(), 1e-4) << "sde " << static_cast<int>(kind) << " d " << d;
      // The same density at the wrong time (or equivalently a wrong law) is far from a solution.
      auto Rw = log_fp_residual(sde, p.t, p.x, mixture_jet(g, sde, p, 1.3));
      EXPECT_GT(Rw.abs().max().item<double>(), 0.1) << "sde " << static_cast<int>(kind) << " d " << d;
    }
}

TEST(ClosedForm, MixtureScoreHasZeroScoreResidual) {
  for (auto kind : {Sde::Kind::OU, Sde::Kind::VP, Sde::Kind::VE})
    for (int d : {1, 2}) {
      const Sde sde = make_sde(kind);
      auto g = test_mixture(d);
      auto p = grid_points(sde, d);
      auto j = mixture_score_jet(g, sde, p);
      auto r = score_fp_residual(sde, p.t, p.x, j);
      EXPECT_LT(r.abs().max().item<double>(), 1e-4) << "sde " << static_cast<int>(kind) << " d " << d;
      j.s_t = j.s_t * 1.3;  // a wrong time derivative
      EXPECT_GT(score_fp_residual(sde, p.t, p.x, j).abs().max().item<double>(), 0.1);
    }
}

TEST(ClosedForm, GaussianUnderOu) {
  // N(mu, s0^2) under OU: u = log N(mu e^-t, v(t)), v = s0^2 e^-2t + (1 - e^-2t)/2, in closed form including u_t.
  Sde sde;
  const double mu = 0.7, s0 = 0.4;
  auto t = torch::linspace(0.01, 5, 50, torch::kDouble).view({50, 1}).repeat({1, 1});
  auto x = torch::linspace(-3, 3, 50, torch::kDouble).view({50, 1});
  auto e2 = torch::exp(-2 * t), m = mu * torch::exp(-t);
  auto v = s0 * s0 * e2 + 0.5 * (1 - e2);
  auto vt = -2 * s0 * s0 * e2 + e2;
  auto mt = -m;
  LogDensityJet j;
  j.u = -0.5 * torch::log(2 * M_PI * v) - (x - m).pow(2) / (2 * v);
  j.u_t = -0.5 * vt / v + (x - m) * mt / v + (x - m).pow(2) * vt / (2 * v * v);
  j.grad = -(x - m) / v;
  j.lap = -1 / v;
  EXPECT_LT(log_fp_residual(sde, t, x, j).abs().max().item<double>(), 1e-12);
}

// ---- the regulariser does its job ---------------------------------------------------------

namespace {

Config small_config(double lambda) {
  Config c;
  c.dataset = "circles2";
  c.hidden = 32;
  c.batch_dsm = 256;
  c.batch_collocation = 512;
  c.batch_boundary = 64;
  c.lambda = lambda;
  c.seed = 3;
  c.lr_schedule = "constant";
  c.lr = 2e-3;
  c.residual_stats_every = 0;
  return c;
}

}  // namespace

TEST(Regularised, LambdaOneReducesMeanResidualTenfold) {
  Sde sde;
  double r[2];
  for (int i = 0; i < 2; ++i) {
    auto c = small_config(i == 0 ? 0.0 : 1.0);
    Trainer tr(c);
    tr.run(400);
    r[i] = residual_stats(*tr.snapshot(), sde, c.box, 4096, 10).mean_sq;
    EXPECT_TRUE(std::isfinite(r[i]));
  }
  std::cout << "mean R^2 after 400 iterations: lambda=0 " << r[0] << ", lambda=1 " << r[1] << "\n";
  EXPECT_LT(r[1] * 10, r[0]);
}

TEST(Regularised, ScoreModelTrainsWithLambda) {
  auto c = small_config(1.0);
  c.model = "score";
  c.residual_stats_every = 5;
  Trainer tr(c);
  tr.run(10);
  auto rows = tr.history().rows();
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_GT(rows.back().fp, 0.0);
  EXPECT_EQ(rows.back().bc, 0.0);
  EXPECT_TRUE(std::isfinite(rows[4].res_mean_sq));
  EXPECT_TRUE(std::isnan(rows[3].res_mean_sq));
  EXPECT_GE(rows[4].res_max_abs, rows[4].res_mean_abs);
  // per-t-slice mean |r|: every slice has points, and the overall mean lies between them
  ASSERT_EQ(rows[4].res_slice_abs.size(), static_cast<std::size_t>(kResidualSlices));
  EXPECT_TRUE(rows[3].res_slice_abs.empty());
  const auto [lo, hi] = std::minmax_element(rows[4].res_slice_abs.begin(), rows[4].res_slice_abs.end());
  EXPECT_TRUE(std::isfinite(*lo) && std::isfinite(*hi));
  EXPECT_LE(*lo, rows[4].res_mean_abs);
  EXPECT_GE(*hi, rows[4].res_mean_abs);
}

TEST(Regularised, LambdaKnobTakesEffectNextIteration) {
  auto c = small_config(0.0);
  c.batch_collocation = 64;
  Trainer tr(c);
  tr.step();
  tr.knobs().lambda = 0.5;
  auto row = tr.step();
  EXPECT_EQ(row.lambda, 0.5);
  EXPECT_GT(row.fp, 0.0);
  EXPECT_EQ(row.bc, 0.0);  // boundary_weight = 0: not evaluated
  EXPECT_NEAR(row.loss, row.dsm + 0.5 * row.fp, 1e-4 * row.loss);
}

// ---- residual fields ---------------------------------------------------------------------

TEST(Field, GridMatchesPointwiseResidual) {
  ModelSpec spec;
  spec.hidden = 16;
  Network net(spec);
  net.init(9);
  auto snap = net.snapshot();
  Sde sde;
  FieldRequest q;
  q.nx = 7, q.ny = 5, q.range = 2.0, q.t = 0.5;
  auto f = residual_field(snap, sde, q);
  ASSERT_EQ(f.values.size(), 35u);
  EXPECT_EQ(f.x_label, "x1");
  EXPECT_EQ(f.y_label, "x2");
  EXPECT_DOUBLE_EQ(f.x_at(6), 2.0);
  EXPECT_DOUBLE_EQ(f.y_at(0), -2.0);
  // node (ix = 3, iy = 4): x = (0, 2) at t = 0.5
  auto R = network_residual(net, sde, torch::full({1, 1}, 0.5f), torch::tensor({{0.f, 2.f}}));
  EXPECT_NEAR(f.values[4 * 7 + 3], R.item<float>(), 1e-5 * (1 + std::fabs(R.item<float>())));

  q.slice = FieldSlice::XT;
  q.x2 = -1.0;
  auto g = residual_field(snap, sde, q);
  EXPECT_EQ(g.y_label, "t");
  EXPECT_DOUBLE_EQ(g.y0, sde.eps);
  EXPECT_DOUBLE_EQ(g.y1, sde.T);
  auto R2 = network_residual(net, sde, torch::full({1, 1}, static_cast<float>(sde.T)), torch::tensor({{-2.f, -1.f}}));
  EXPECT_NEAR(g.values[4 * 7 + 0], R2.item<float>(), 1e-5 * (1 + std::fabs(R2.item<float>())));

  auto st = residual_stats(snap, sde, 3.5, 1000, 5);
  EXPECT_EQ(st.slice_t.size(), 5u);
  EXPECT_GE(st.max_abs, st.mean_abs);
  EXPECT_GE(st.mean_sq, st.mean_abs * st.mean_abs * (1 - 1e-9));
}

TEST(Field, OneDimensionalAndScoreModels) {
  ModelSpec spec;
  spec.d = 1;
  spec.hidden = 8;
  Network net(spec);
  Sde sde;
  FieldRequest q;
  q.nx = q.ny = 4;
  auto f = residual_field(net.snapshot(), sde, q);
  EXPECT_EQ(f.x_label, "x");
  EXPECT_EQ(f.y_label, "t");
  ModelSpec ss;
  ss.potential = false;
  ss.hidden = 8;
  Network sn(ss);
  auto g = residual_field(sn.snapshot(), sde, q);
  EXPECT_FALSE(g.potential);
  for (float v : g.values) EXPECT_GE(v, 0.f);
}

// ---- CLI ---------------------------------------------------------------------------------

#include <fstream>

#include "test_util.h"

TEST(Cli, ResidualWritesGridCsv) {
  auto dir = gapscope::testing::temp_dir("residual");
  for (std::string model : {"potential", "score"}) {
    const auto ck = (dir / model).string();
    auto r = gapscope::testing::run_cli("train --set model=" + model +
                                        " --set hidden=8 --set batch_dsm=64 --set batch_collocation=64"
                                        " --set batch_boundary=8 --set lambda=1 --iterations 3 --threads 1 --out " + ck);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto csv = (dir / (model + ".csv")).string();
    r = gapscope::testing::run_cli("residual --checkpoint " + ck + " --t 0.5 --grid 5,4 --threads 1 --out " + csv);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(model == "potential" ? "mean R^2 = " : "mean |r|^2 = "), std::string::npos) << r.output;
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    EXPECT_EQ(header, model == "potential" ? "t,x1,x2,R" : "t,x1,x2,R,absr");
    int rows = 0;
    while (std::getline(in, line)) ++rows;
    EXPECT_EQ(rows, 20);
    r = gapscope::testing::run_cli("residual --checkpoint " + ck + " --slice xt --grid 3 --t 99 --out " + csv);
    EXPECT_NE(r.status, 0);  // t outside [eps, T]
  }
}

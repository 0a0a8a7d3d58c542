#include "sample/density.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include "core/config.h"
#include "core/data.h"
#include "nn/score_function.h"

namespace gapscope {
namespace {

// Labels only (sample/ stays below style/, whose formats are for figures and views).
std::string num(double v) {
  std::ostringstream o;
  o.precision(4);
  o << v;
  return o.str();
}

// The explicit Runge-Kutta tableaux of the sampler's ODE schemes (sample.cpp steps the
// plain cloud; here the state carries log p, so the stages are written out once, generally).
struct Tableau {
  std::vector<double> c, b;
  std::vector<std::vector<double>> a;  // a[i][j], j < i
};

Tableau tableau(OdeScheme s) {
  switch (s) {
    case OdeScheme::Euler: return {{0}, {1}, {{}}};
    case OdeScheme::Heun: return {{0, 1}, {0.5, 0.5}, {{}, {1}}};
    case OdeScheme::RK4: return {{0, 0.5, 0.5, 1}, {1 / 6., 1 / 3., 1 / 3., 1 / 6.}, {{}, {0.5}, {0, 0.5}, {0, 0, 1}}};
    case OdeScheme::RK45: break;
  }
  throw std::invalid_argument("density: the change of variables runs the fixed-step schemes euler|heun|rk4, not rk45");
}

// Integrates dx/dt = v, dl/dt = -div v over consecutive times of `grid` (either direction).
class AugmentedOde {
 public:
  AugmentedOde(const Sde& sde, const DensityTermsFn& terms, OdeScheme scheme)
      : sde_(sde), terms_(terms), tab_(tableau(scheme)) {}

  std::size_t run(const std::vector<double>& grid, Points& x, std::vector<double>& l) {
    const std::size_t n = x.n(), dn = x.v.size();
    const int d = x.d;
    const std::size_t S = tab_.c.size();
    kx_.assign(S, Points(d, n));
    kl_.assign(S, std::vector<double>(n));
    Points xs(d, n);
    for (std::size_t k = 0; k + 1 < grid.size(); ++k) {
      const double t = grid[k], h = grid[k + 1] - t;
      for (std::size_t i = 0; i < S; ++i) {
        xs.v = x.v;
        for (std::size_t j = 0; j < i; ++j)
          if (tab_.a[i][j] != 0) {
            const float c = static_cast<float>(h * tab_.a[i][j]);
            for (std::size_t q = 0; q < dn; ++q) xs.v[q] += c * kx_[j].v[q];
          }
        rates(t + tab_.c[i] * h, xs, kx_[i], kl_[i]);
      }
      for (std::size_t i = 0; i < S; ++i) {
        const float c = static_cast<float>(h * tab_.b[i]);
        for (std::size_t q = 0; q < dn; ++q) x.v[q] += c * kx_[i].v[q];
        for (std::size_t p = 0; p < n; ++p) l[p] += h * tab_.b[i] * kl_[i][p];
      }
    }
    return (grid.size() - 1) * S;
  }

 private:
  // v = -a x - ½ g² s and -div v = d a + ½ g² div s.
  void rates(double t, const Points& x, Points& v, std::vector<double>& mdiv) {
    terms_(t, x, s_, div_);
    const double a = sde_.drift_rate(t), hg2 = 0.5 * sde_.diffusion2(t);
    const float af = static_cast<float>(a), hf = static_cast<float>(hg2);
    for (std::size_t q = 0; q < x.v.size(); ++q) v.v[q] = -af * x.v[q] - hf * s_.v[q];
    for (std::size_t p = 0; p < x.n(); ++p) mdiv[p] = x.d * a + hg2 * div_[p];
  }

  const Sde& sde_;
  const DensityTermsFn& terms_;
  Tableau tab_;
  std::vector<Points> kx_;
  std::vector<std::vector<double>> kl_;
  Points s_;
  std::vector<float> div_;
};

}  // namespace

DensityTermsFn network_density_terms(SnapshotPtr snapshot) {
  auto f = std::make_shared<const ScoreFunction>(std::move(snapshot));
  return [f](double t, const Points& x, Points& score, std::vector<float>& div) {
    std::vector<float> tv(x.n(), static_cast<float>(t));
    score.d = x.d;
    score.v.resize(x.v.size());
    div.resize(x.n());
    f->density_terms(static_cast<int64_t>(x.n()), tv.data(), x.v.data(), nullptr, score.v.data(), div.data());
  };
}

std::vector<double> prior_log_density(const Sde& sde, const Points& x) {
  const double v = sde.prior_std() * sde.prior_std(), c = -0.5 * x.d * std::log(2 * M_PI * v);
  std::vector<double> out(x.n());
  for (std::size_t i = 0; i < x.n(); ++i) {
    double r2 = 0;
    for (int k = 0; k < x.d; ++k) r2 += double(x.row(i)[k]) * x.row(i)[k];
    out[i] = c - r2 / (2 * v);
  }
  return out;
}

OdeDensity ode_log_density(const Sde& sde, const DensityTermsFn& terms, const SamplerOptions& o, const Points& start) {
  OdeDensity r;
  r.x = start;
  r.log_p = prior_log_density(sde, start);
  AugmentedOde ode(sde, terms, o.scheme);
  r.nfe = ode.run(time_grid(sde, o), r.x, r.log_p);
  return r;
}

std::vector<double> ode_log_density_at(const Sde& sde, const DensityTermsFn& terms, const SamplerOptions& o,
                                       const Points& y) {
  std::vector<double> grid = time_grid(sde, o);
  std::reverse(grid.begin(), grid.end());
  Points x = y;
  std::vector<double> a(y.n(), 0.0);  // integral_t^T (-div v) ds along each path
  AugmentedOde(sde, terms, o.scheme).run(grid, x, a);
  std::vector<double> out = prior_log_density(sde, x);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] -= a[i];
  return out;
}

std::vector<double> normalise_on_grid(const std::vector<float>& u, double cell_volume) {
  double m = -INFINITY;
  for (float v : u)
    if (std::isfinite(v)) m = std::max(m, double(v));
  double z = 0;
  for (float v : u)
    if (std::isfinite(v)) z += std::exp(double(v) - m);
  const double log_z = m + std::log(z * cell_volume);
  std::vector<double> out(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) out[i] = double(u[i]) - log_z;
  return out;
}

namespace {

// log of the Gaussian KDE of `pts` at `nodes` (bandwidth h, per coordinate).
std::vector<double> kde_log_density(const Points& pts, const Points& nodes, double h) {
  const int d = pts.d;
  const std::size_t n = pts.n();
  const double c = -0.5 * d * std::log(2 * M_PI * h * h) - std::log(double(n)), inv = 1 / (2 * h * h);
  std::vector<double> out(nodes.n());
  at::parallel_for(0, static_cast<int64_t>(nodes.n()), 16, [&](int64_t b, int64_t e) {
    std::vector<double> q(n);
    for (int64_t i = b; i < e; ++i) {
      double m = -INFINITY;
      for (std::size_t j = 0; j < n; ++j) {
        double r2 = 0;
        for (int k = 0; k < d; ++k) {
          const double dx = double(nodes.row(i)[k]) - pts.row(j)[k];
          r2 += dx * dx;
        }
        q[j] = -r2 * inv;
        m = std::max(m, q[j]);
      }
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) s += std::exp(q[j] - m);
      out[i] = c + m + std::log(s);
    }
  });
  return out;
}

}  // namespace

DensityGrid density_grid(const SnapshotPtr& w, const Config& c, const SamplerOptions& o, const DensityRequest& r) {
  if (!w) throw std::invalid_argument("density: no weights");
  const int d = w->spec.d;
  if (d < 1 || d > 2) throw std::invalid_argument("density: the grid needs d = 1 or 2, the model has d = " + std::to_string(d));
  if (r.grid < 2) throw std::invalid_argument("density: --grid must be >= 2");
  if (!(r.box > 0)) throw std::invalid_argument("density: --box must be > 0");
  const Sde sde = Sde::from_config(c);
  if (!(r.t > 0 && r.t < sde.T))
    throw std::invalid_argument("density: --t must lie in (0, T) = (0, " + num(sde.T) + ")");
  DensityGrid g;
  g.d = d, g.nx = r.grid, g.ny = d == 2 ? r.grid : 1, g.box = r.box, g.t = r.t;
  const std::size_t N = static_cast<std::size_t>(g.nx) * g.ny;
  Points nodes(d, N);
  const double hstep = 2 * r.box / (r.grid - 1);
  for (int iy = 0; iy < g.ny; ++iy)
    for (int ix = 0; ix < g.nx; ++ix) {
      float* p = nodes.row(static_cast<std::size_t>(iy) * g.nx + ix);
      p[0] = static_cast<float>(-r.box + ix * hstep);
      if (d == 2) p[1] = static_cast<float>(-r.box + iy * hstep);
    }
  g.xs.assign(nodes.v.begin(), nodes.v.end());

  SamplerOptions so = o;
  so.kind = SamplerKind::ODE;
  so.eps = r.t;
  tableau(so.scheme);  // rk45 is refused before any work
  g.log_p_ode = ode_log_density_at(sde, network_density_terms(w), so, nodes);
  g.nfe = network_evaluations(sde, so);

  if (w->spec.potential) {
    const ScoreFunction f(w);
    std::vector<float> tv(N, static_cast<float>(r.t)), u(N);
    f.density_terms(static_cast<int64_t>(N), tv.data(), nodes.v.data(), u.data(), nullptr, nullptr);
    g.log_p_model = normalise_on_grid(u, std::pow(hstep, d));
    g.model_note = "exp(u) normalised over the grid's nodes on [-" + num(r.box) + ", " +
                   num(r.box) + "]^" + std::to_string(d);
  } else {
    g.model_note = "a score network has no potential u";
  }

  const Dataset data(c);
  if (data.is_mixture()) {
    const GaussianMixture m = data.mixture().at_time(sde, r.t);
    g.log_p_data.resize(N);
    std::vector<double> xi(d);
    for (std::size_t i = 0; i < N; ++i) {
      for (int k = 0; k < d; ++k) xi[k] = nodes.row(i)[k];
      g.log_p_data[i] = m.log_density(xi.data());
    }
    g.data_label = "exact (Gaussian mixture)";
  } else {
    // p_t = E N(x; m x0, sigma_t^2 I): a Gaussian KDE of m x0 whose bandwidth^2 is
    // sigma_t^2 plus the sample's own, so the kernel is the forward process's at large t.
    // The sample's part is chosen by the likelihood of fresh held-out points among
    // Scott's rule and its halvings: Scott's rule alone smears thin rings.
    std::mt19937_64 rng(r.seed + 2);
    Points x0 = data.sample(r.kde_n, rng), held = data.sample(std::min<std::size_t>(r.kde_n / 10 + 1, 2000), rng);
    const double m = sde.mean_coef(r.t), s = sde.marginal_std(r.t);
    for (auto& v : x0.v) v = static_cast<float>(v * m);
    for (auto& v : held.v) v = static_cast<float>(v * m);
    double var = 0, mean = 0;
    for (float v : x0.v) mean += v;
    mean /= x0.v.size();
    for (float v : x0.v) var += (v - mean) * (v - mean);
    var /= x0.v.size();
    const double scott = std::sqrt(var) * std::pow(double(x0.n()), -1.0 / (d + 4));
    // the held-out points are data at time 0 pushed by m; add the forward noise so that
    // they follow p_t and the choice is the one for this t
    {
      std::normal_distribution<double> Z;
      for (auto& v : held.v) v = static_cast<float>(v + s * Z(rng));
    }
    double best_h = 0, best_ll = -INFINITY;
    for (double f : {1.0, 0.5, 0.25, 0.125}) {
      const double h = std::sqrt(s * s + f * f * scott * scott);
      const auto ll = kde_log_density(x0, held, h);
      double mean_ll = 0;
      for (double v : ll) mean_ll += v / ll.size();
      if (mean_ll > best_ll) best_ll = mean_ll, best_h = h;
    }
    g.log_p_data = kde_log_density(x0, nodes, best_h);
    g.data_label = "KDE (n = " + std::to_string(x0.n()) + ", bandwidth " + num(best_h) + " by held-out likelihood)";
  }
  return g;
}

}  // namespace gapscope

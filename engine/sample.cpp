#include "sample.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

#include "config.h"
#include "model.h"

namespace gapscope {
namespace {

// Box-Muller on the raw 64-bit generator: several times faster than
// std::normal_distribution, and the SDE draws n*d normals every step.
void fill_normal(float* out, std::size_t n, std::mt19937_64& rng) {
  constexpr double kInv53 = 1.0 / 9007199254740992.0;
  for (std::size_t i = 0; i < n; i += 2) {
    const double u1 = ((rng() >> 11) + 0.5) * kInv53, u2 = (rng() >> 11) * kInv53;
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
    out[i] = static_cast<float>(r * std::cos(a));
    if (i + 1 < n) out[i + 1] = static_cast<float>(r * std::sin(a));
  }
}

}  // namespace

OdeScheme parse_ode_scheme(const std::string& name) {
  if (name == "euler") return OdeScheme::Euler;
  if (name == "heun") return OdeScheme::Heun;
  if (name == "rk4") return OdeScheme::RK4;
  throw std::invalid_argument("ODE method '" + name + "': expected euler|heun|rk4");
}

SamplerOptions SamplerOptions::from_config(const Config& c, SamplerKind kind) {
  SamplerOptions o;
  o.kind = kind;
  o.scheme = parse_ode_scheme(c.ode_method);
  o.steps = c.sample_steps;
  o.refine = c.sample_refine;
  o.refine_factor = c.sample_refine_factor;
  o.eps = c.sample_eps;
  o.seed = c.seed;
  return o;
}

std::vector<double> time_grid(const Sde& sde, const SamplerOptions& o) {
  if (o.steps < 1 || o.refine < 0 || o.refine > o.steps || o.refine_factor < 1 || !(o.eps > 0 && o.eps < sde.T))
    throw std::invalid_argument("sampler: need steps >= 1, 0 <= refine <= steps, refine_factor >= 1, 0 < eps < T");
  const double h = (sde.T - o.eps) / o.steps;
  std::vector<double> g{sde.T};
  for (int k = 1; k <= o.steps - o.refine; ++k) g.push_back(sde.T - k * h);
  const double start = g.back(), hf = h / o.refine_factor;
  const int fine = o.refine * o.refine_factor;
  for (int k = 1; k <= fine; ++k) g.push_back(start - k * hf);
  g.back() = o.eps;  // no rounding drift at the end
  return g;
}

ScoreFn network_score(SnapshotPtr snapshot) {
  auto net = std::make_shared<Network>(snapshot->spec);
  net->load(*snapshot);
  return [net, snapshot](double t, const Points& x, Points& out) {
    torch::NoGradGuard ng;
    const int64_t n = static_cast<int64_t>(x.n());
    auto xt = torch::from_blob(const_cast<float*>(x.v.data()), {n, x.d}, torch::kFloat);
    auto tt = torch::full({n, 1}, static_cast<float>(t), torch::kFloat);
    auto s = net->score_nograd(tt, xt).contiguous();
    out.d = x.d;
    out.v.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  };
}

Points prior_sample(const Sde& sde, int d, std::size_t n, uint64_t seed) {
  Points p(d, n);
  std::mt19937_64 rng(seed);
  fill_normal(p.v.data(), p.v.size(), rng);
  const float s = static_cast<float>(sde.prior_std());
  for (auto& v : p.v) v *= s;
  return p;
}

Integrator::Integrator(const Sde& sde, ScoreFn score, const SamplerOptions& o, Points start)
    : sde_(sde), score_(std::move(score)), o_(o), grid_(time_grid(sde, o)), x_(std::move(start)), rng_(o.seed) {
  for (float v : x_.v)
    if (!std::isfinite(v)) throw std::invalid_argument("sampler: starting points contain NaN/inf");
}

// v = f(x,t) - c g^2 s(x,t) with c = 1 (SDE drift) or 1/2 (probability flow).
void Integrator::velocity(double t, const Points& x, double c, Points& out) {
  score_(t, x, s_);
  const float a = static_cast<float>(sde_.drift_rate(t)), cg2 = static_cast<float>(c * sde_.diffusion2(t));
  out.d = x.d;
  out.v.resize(x.v.size());
  for (std::size_t i = 0; i < x.v.size(); ++i) out.v[i] = -a * x.v[i] - cg2 * s_.v[i];
}

void Integrator::step() {
  if (done()) return;
  const double t = grid_[k_], h = grid_[k_ + 1] - t;  // h < 0
  const float hf = static_cast<float>(h);
  auto axpy = [](Points& y, const Points& x, float a, const Points& k) {
    y.d = x.d;
    y.v.resize(x.v.size());
    for (std::size_t i = 0; i < x.v.size(); ++i) y.v[i] = x.v[i] + a * k.v[i];
  };
  if (o_.kind == SamplerKind::SDE) {
    velocity(t, x_, 1.0, k1_);
    for (std::size_t i = 0; i < x_.v.size(); ++i) x_.v[i] += hf * k1_.v[i];
    if (k_ + 2 < grid_.size()) {  // the final step is noise-free (math.md §5)
      tmp_.v.resize(x_.v.size());
      fill_normal(tmp_.v.data(), tmp_.v.size(), rng_);
      const float sd = static_cast<float>(sde_.diffusion(t) * std::sqrt(-h));
      for (std::size_t i = 0; i < x_.v.size(); ++i) x_.v[i] += sd * tmp_.v[i];
    }
  } else {
    switch (o_.scheme) {
      case OdeScheme::Euler:
        velocity(t, x_, 0.5, k1_);
        for (std::size_t i = 0; i < x_.v.size(); ++i) x_.v[i] += hf * k1_.v[i];
        break;
      case OdeScheme::Heun:
        velocity(t, x_, 0.5, k1_);
        axpy(tmp_, x_, hf, k1_);
        velocity(t + h, tmp_, 0.5, k2_);
        for (std::size_t i = 0; i < x_.v.size(); ++i) x_.v[i] += 0.5f * hf * (k1_.v[i] + k2_.v[i]);
        break;
      case OdeScheme::RK4:
        velocity(t, x_, 0.5, k1_);
        axpy(tmp_, x_, 0.5f * hf, k1_);
        velocity(t + 0.5 * h, tmp_, 0.5, k2_);
        axpy(tmp_, x_, 0.5f * hf, k2_);
        velocity(t + 0.5 * h, tmp_, 0.5, k3_);
        axpy(tmp_, x_, hf, k3_);
        velocity(t + h, tmp_, 0.5, k4_);
        for (std::size_t i = 0; i < x_.v.size(); ++i)
          x_.v[i] += hf / 6.f * (k1_.v[i] + 2.f * k2_.v[i] + 2.f * k3_.v[i] + k4_.v[i]);
        break;
    }
  }
  ++k_;
}

Points sample(const Sde& sde, const ScoreFn& score, const SamplerOptions& o, const Points& start) {
  Integrator it(sde, score, o, start);
  it.run();
  return it.points();
}

}  // namespace gapscope

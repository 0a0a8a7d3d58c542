#include "sample/sample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/config.h"
#include "core/rng.h"
#include "nn/score_function.h"

namespace gapscope {
namespace {

// n standard normals for (seed, stream), by Box-Muller in float. Chunks of a fixed size
// draw from their own key, so the chunks run on all threads and the numbers do not
// depend on the thread count. The SDE draws n*d normals every step (stream = step).
void fill_normal(float* out, std::size_t n, uint64_t seed, uint64_t stream) {
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      uint64_t key = seed * 0x2545f4914f6cdd1dULL ^ (stream + 1) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(c);
      uint64_t st = splitmix64(key);
      const std::size_t i0 = static_cast<std::size_t>(c) * kChunk, i1 = std::min(n, i0 + kChunk);
      for (std::size_t i = i0; i < i1; i += 2) {
        float a, b;
        normal_pair(st, a, b);
        out[i] = a;
        if (i + 1 < i1) out[i + 1] = b;
      }
    }
  });
}

}  // namespace

OdeScheme parse_ode_scheme(const std::string& name) {
  if (name == "euler") return OdeScheme::Euler;
  if (name == "heun") return OdeScheme::Heun;
  if (name == "rk4") return OdeScheme::RK4;
  throw std::invalid_argument("ODE method '" + name + "': expected euler|heun|rk4");
}

const char* ode_scheme_name(OdeScheme s) {
  switch (s) {
    case OdeScheme::Euler: return "euler";
    case OdeScheme::Heun: return "heun";
    case OdeScheme::RK4: return "rk4";
  }
  return "euler";
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

int ode_stages(OdeScheme s) {
  switch (s) {
    case OdeScheme::Euler: return 1;
    case OdeScheme::Heun: return 2;
    case OdeScheme::RK4: return 4;
  }
  return 1;
}

std::size_t network_evaluations(const Sde& sde, const SamplerOptions& o) {
  const std::size_t steps = time_grid(sde, o).size() - 1;
  return o.kind == SamplerKind::SDE ? steps : steps * ode_stages(o.scheme);
}

ScoreFn network_score(SnapshotPtr snapshot) {
  auto f = std::make_shared<const ScoreFunction>(std::move(snapshot));
  return [f](double t, const Points& x, Points& out) {
    std::vector<float> tv(x.n(), static_cast<float>(t));
    out.d = x.d;
    out.v.resize(x.v.size());
    f->score(static_cast<int64_t>(x.n()), tv.data(), x.v.data(), out.v.data());
  };
}

Points prior_sample(const Sde& sde, int d, std::size_t n, uint64_t seed) {
  Points p(d, n);
  fill_normal(p.v.data(), p.v.size(), seed, ~uint64_t{0});
  const float s = static_cast<float>(sde.prior_std());
  for (auto& v : p.v) v *= s;
  return p;
}

Integrator::Integrator(const Sde& sde, ScoreFn score, const SamplerOptions& o, Points start)
    : sde_(sde), score_(std::move(score)), o_(o), grid_(time_grid(sde, o)), x_(std::move(start)) {
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
      fill_normal(tmp_.v.data(), tmp_.v.size(), o_.seed, k_);
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

#include "sample/sample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/config.h"
#include "core/normals.h"
#include "core/rng.h"
#include "nn/score_function.h"

namespace gapscope {
namespace {

// The cloud's standard normals for (seed, stream) at its coordinates [offset, offset + n),
// of `total` in all, by Box-Muller in float (core/normals.h). Chunks of a fixed size draw
// from their own key, so the chunks run on all threads and the numbers depend neither on
// the thread count nor on the part of the cloud a caller steps: a chunk that the part
// cuts is drawn whole, at the length the whole cloud draws it, and the part copied out.
// The SDE draws n*d normals every step (stream = step).
void fill_normal(float* out, std::size_t n, uint64_t seed, uint64_t stream, std::size_t offset, std::size_t total) {
  constexpr std::size_t kChunk = 4096;
  const int64_t c_begin = static_cast<int64_t>(offset / kChunk),
                c_end = static_cast<int64_t>((offset + n + kChunk - 1) / kChunk);
  at::parallel_for(c_begin, c_end, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> cut;
    for (int64_t c = c0; c < c1; ++c) {
      uint64_t key = seed * 0x2545f4914f6cdd1dULL ^ (stream + 1) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(c);
      const std::size_t g0 = static_cast<std::size_t>(c) * kChunk, g1 = std::min(total, g0 + kChunk);
      const std::size_t lo = std::max(g0, offset), hi = std::min(g1, offset + n);
      if (lo == g0 && hi == g1) {
        standard_normals(out + (g0 - offset), g1 - g0, splitmix64(key));
      } else {
        cut.resize(g1 - g0);
        standard_normals(cut.data(), g1 - g0, splitmix64(key));
        std::copy(cut.begin() + (lo - g0), cut.begin() + (hi - g0), out + (lo - offset));
      }
    }
  });
}

// Particles below which a cloud is not split over threads.
constexpr std::size_t kMinPart = 256;

}  // namespace

OdeScheme parse_ode_scheme(const std::string& name) {
  if (name == "euler") return OdeScheme::Euler;
  if (name == "heun") return OdeScheme::Heun;
  if (name == "rk4") return OdeScheme::RK4;
  if (name == "rk45") return OdeScheme::RK45;
  throw std::invalid_argument("ODE method '" + name + "': expected euler|heun|rk4|rk45");
}

SdeScheme parse_sde_scheme(const std::string& name) {
  if (name == "em") return SdeScheme::EulerMaruyama;
  if (name == "pc") return SdeScheme::PredictorCorrector;
  throw std::invalid_argument("SDE sampler '" + name + "': expected em|pc");
}

const char* sde_scheme_name(SdeScheme s) { return s == SdeScheme::PredictorCorrector ? "pc" : "em"; }

const char* ode_scheme_name(OdeScheme s) {
  switch (s) {
    case OdeScheme::Euler: return "euler";
    case OdeScheme::Heun: return "heun";
    case OdeScheme::RK4: return "rk4";
    case OdeScheme::RK45: return "rk45";
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
  o.rtol = c.ode_rtol;
  o.atol = c.ode_atol;
  o.sde_scheme = parse_sde_scheme(c.sde_sampler);
  o.snr = c.pc_snr;
  o.corrector_steps = c.pc_corrector_steps;
  return o;
}

std::vector<double> time_grid(const Sde& sde, const SamplerOptions& o) {
  if (o.steps < 1 || o.refine < 0 || o.refine > o.steps || o.refine_factor < 1 || !(o.eps > 0 && o.eps < sde.T))
    throw std::invalid_argument("sampler: need steps >= 1, 0 <= refine <= steps, refine_factor >= 1, 0 < eps < T");
  if (o.kind == SamplerKind::ODE && o.scheme == OdeScheme::RK45) return {sde.T, o.eps};
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
    case OdeScheme::RK45: return 6;  // per accepted or rejected step (first same as last)
  }
  return 1;
}

std::size_t network_evaluations(const Sde& sde, const SamplerOptions& o) {
  const std::size_t steps = time_grid(sde, o).size() - 1;
  if (o.kind == SamplerKind::SDE)
    return o.sde_scheme == SdeScheme::PredictorCorrector ? steps + (steps - 1) * o.corrector_steps : steps;
  return o.scheme == OdeScheme::RK45 ? 0 : steps * ode_stages(o.scheme);
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
  fill_normal(p.v.data(), p.v.size(), seed, ~uint64_t{0}, 0, p.v.size());
  const float s = static_cast<float>(sde.prior_std());
  for (auto& v : p.v) v *= s;
  return p;
}

Integrator::Integrator(const Sde& sde, ScoreFn score, const SamplerOptions& o, Points start, CloudPart part)
    : sde_(sde), score_(std::move(score)), o_(o), part_(part), grid_(time_grid(sde, o)), x_(std::move(start)) {
  for (float v : x_.v)
    if (!std::isfinite(v)) throw std::invalid_argument("sampler: starting points contain NaN/inf");
  if (part_.total == 0) part_ = CloudPart{0, x_.v.size()};
  if (part_.offset + x_.v.size() > part_.total) throw std::invalid_argument("sampler: the part lies outside its cloud");
}

void Integrator::noise(uint64_t stream, Points& out) const {
  out.d = x_.d;
  out.v.resize(x_.v.size());
  fill_normal(out.v.data(), out.v.size(), o_.seed, stream, part_.offset, part_.total);
}

// v = f(x,t) - c g^2 s(x,t) with c = 1 (SDE drift) or 1/2 (probability flow).
void Integrator::velocity(double t, const Points& x, double c, Points& out) {
  score_(t, x, s_);
  ++nfe_;
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
    if (o_.sde_scheme == SdeScheme::PredictorCorrector && k_ + 2 < grid_.size()) langevin(t);
    velocity(t, x_, 1.0, k1_);
    for (std::size_t i = 0; i < x_.v.size(); ++i) x_.v[i] += hf * k1_.v[i];
    if (k_ + 2 < grid_.size()) {  // the final step is noise-free (math.md §5)
      noise(k_, tmp_);
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
      case OdeScheme::RK45:
        rk45(t + h);
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

// score_sde's LangevinCorrector at one noise level: the score without the drift.
void Integrator::langevin(double t) {
  const std::size_t n = x_.n(), dn = x_.v.size();
  if (n == 0) return;
  for (int j = 0; j < o_.corrector_steps; ++j) {
    score_(t, x_, s_);
    ++nfe_;
    noise((uint64_t{1} << 40) + k_ * 64 + static_cast<uint64_t>(j), tmp_);
    double gn = 0, zn = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double g2 = 0, z2 = 0;
      for (int k = 0; k < x_.d; ++k) {
        const std::size_t q = i * x_.d + k;
        g2 += double(s_.v[q]) * s_.v[q], z2 += double(tmp_.v[q]) * tmp_.v[q];
      }
      gn += std::sqrt(g2), zn += std::sqrt(z2);
    }
    if (!(gn > 0)) return;
    const double r = o_.snr * zn / gn, e = 2 * r * r;
    const float ef = static_cast<float>(e), sf = static_cast<float>(std::sqrt(2 * e));
    for (std::size_t q = 0; q < dn; ++q) x_.v[q] += ef * s_.v[q] + sf * tmp_.v[q];
  }
}

// Dormand-Prince 5(4) from the current time to t_end (< it), first same as last, the
// step size kept between calls. Error: RMS over every coordinate of the cloud of
// err / (atol + rtol max(|y|, |y_new|)), as scipy's solve_ivp.
void Integrator::rk45(double t_end) {
  static constexpr double c[7] = {0, 1 / 5., 3 / 10., 4 / 5., 8 / 9., 1, 1};
  static constexpr double a[7][6] = {{},
                                     {1 / 5.},
                                     {3 / 40., 9 / 40.},
                                     {44 / 45., -56 / 15., 32 / 9.},
                                     {19372 / 6561., -25360 / 2187., 64448 / 6561., -212 / 729.},
                                     {9017 / 3168., -355 / 33., 46732 / 5247., 49 / 176., -5103 / 18656.},
                                     {35 / 384., 0, 500 / 1113., 125 / 192., -2187 / 6784., 11 / 84.}};
  static constexpr double e[7] = {35 / 384. - 5179 / 57600., 0, 500 / 1113. - 7571 / 16695., 125 / 192. - 393 / 640.,
                                  -2187 / 6784. + 92097 / 339200., 11 / 84. - 187 / 2100., -1 / 40.};
  const std::size_t dn = x_.v.size();
  if (dn == 0) return;
  dp_.resize(7);
  double t = grid_[k_];
  velocity(t, x_, 0.5, dp_[0]);
  if (h_ == 0) {  // scipy's first guess: 1 % of |y| / |f|
    double y2 = 0, f2 = 0;
    for (std::size_t q = 0; q < dn; ++q) y2 += double(x_.v[q]) * x_.v[q], f2 += double(dp_[0].v[q]) * dp_[0].v[q];
    const double d0 = std::sqrt(y2 / dn), d1 = std::sqrt(f2 / dn);
    h_ = -std::min(t - t_end, d0 > 1e-5 && d1 > 1e-5 ? 0.01 * d0 / d1 : 1e-6);
  }
  Points y(x_.d, x_.n());
  while (t > t_end) {
    const bool clipped = -h_ >= t - t_end;
    const double h = clipped ? t_end - t : h_;
    for (int i = 1; i < 7; ++i) {
      tmp_.d = x_.d;
      tmp_.v = x_.v;
      for (int j = 0; j < i; ++j)
        if (a[i][j] != 0) {
          const float w = static_cast<float>(h * a[i][j]);
          for (std::size_t q = 0; q < dn; ++q) tmp_.v[q] += w * dp_[j].v[q];
        }
      if (i == 6) y = tmp_;  // the 5th-order solution (row 7 of a is b)
      velocity(t + c[i] * h, tmp_, 0.5, dp_[i]);
    }
    double norm = 0;
    for (std::size_t q = 0; q < dn; ++q) {
      double err = 0;
      for (int i = 0; i < 7; ++i) err += e[i] * dp_[i].v[q];
      const double sc = o_.atol + o_.rtol * std::max(std::abs(double(x_.v[q])), std::abs(double(y.v[q])));
      const double r = h * err / sc;
      norm += r * r;
    }
    norm = std::sqrt(norm / dn);
    if (!std::isfinite(norm)) throw std::runtime_error("rk45: the solution is not finite at t = " + std::to_string(t));
    const double f = norm == 0 ? 5.0 : std::clamp(0.9 * std::pow(norm, -0.2), 0.2, 5.0);
    if (norm <= 1) {
      t += h;
      x_.v.swap(y.v);
      std::swap(dp_[0], dp_[6]);  // first same as last
      const double next = h * f;
      h_ = clipped ? (std::abs(next) > std::abs(h_) ? next : h_) : next;
    } else {
      h_ = h * std::min(f, 1.0);
    }
    if (std::abs(h_) < 1e-12) throw std::runtime_error("rk45: the step size underflowed at t = " + std::to_string(t));
  }
}

Points sample(const Sde& sde, const ScoreFn& score, const SamplerOptions& o, const Points& start, std::size_t* nfe) {
  const bool independent =
      o.kind == SamplerKind::SDE ? o.sde_scheme == SdeScheme::EulerMaruyama : o.scheme != OdeScheme::RK45;
  const std::size_t n = start.n(), d = static_cast<std::size_t>(start.d);
  const std::size_t parts =
      independent ? std::min(static_cast<std::size_t>(std::max(1, at::get_num_threads())), n / kMinPart) : 1;
  if (parts <= 1) {
    Integrator it(sde, score, o, start);
    it.run();
    if (nfe) *nfe = it.nfe();
    return it.points();
  }
  // One fork and join for the run, where stepping the whole cloud made one per score call
  // (490 on the paper's schedule): the paper's ODE sampler took 0.93 of the time (median
  // of six alternating pairs, Intel Xeon, two threads).
  Points out(start.d, n);
  std::vector<std::size_t> used(parts);
  at::parallel_for(0, static_cast<int64_t>(parts), 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const std::size_t i0 = n * p / parts * d, i1 = n * (p + 1) / parts * d;
      Points part(start.d, 0);
      part.v.assign(start.v.begin() + i0, start.v.begin() + i1);
      Integrator it(sde, score, o, std::move(part), CloudPart{i0, start.v.size()});
      it.run();
      std::copy(it.points().v.begin(), it.points().v.end(), out.v.begin() + i0);
      used[p] = it.nfe();
    }
  });
  if (nfe) *nfe = used[0];
  return out;
}

}  // namespace gapscope

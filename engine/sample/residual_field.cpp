#include "sample/residual_field.h"

#include <cmath>
#include <random>
#include <stdexcept>

#include "nn/score_function.h"

namespace gapscope {
namespace {

// Per-point residual magnitude: R (potential, signed) or |r| (score model), float on the host.
std::vector<float> evaluate(const WeightSnapshot& w, const Sde& sde, const std::vector<float>& tv,
                            const std::vector<float>& xv) {
  const ScoreFunction f(std::make_shared<const WeightSnapshot>(w));
  std::vector<float> out(tv.size());
  f.residual(sde, static_cast<int64_t>(tv.size()), tv.data(), xv.data(), out.data());
  return out;
}

}  // namespace

ResidualField residual_field(const WeightSnapshot& w, const Sde& sde, const FieldRequest& q) {
  if (q.nx < 2 || q.ny < 2) throw std::invalid_argument("residual field: need at least 2 x 2 nodes");
  if (!(q.range > 0)) throw std::invalid_argument("residual field: range must be > 0");
  const int d = w.spec.d;
  ResidualField f;
  f.nx = q.nx, f.ny = q.ny, f.potential = w.spec.potential;
  const bool xt = d == 1 || q.slice == FieldSlice::XT;
  const double t0 = q.t0 >= 0 ? q.t0 : sde.eps, t1 = q.t1 >= 0 ? q.t1 : sde.T;
  f.x0 = -q.range, f.x1 = q.range;
  f.x_label = d == 1 ? "x" : "x1";
  if (xt) {
    f.y0 = t0, f.y1 = t1, f.y_label = "t";
  } else {
    f.y0 = -q.range, f.y1 = q.range, f.y_label = "x2";
  }
  const std::size_t n = static_cast<std::size_t>(q.nx) * q.ny;
  std::vector<float> tv(n), xv(n * d, 0.f);
  for (int iy = 0; iy < q.ny; ++iy)
    for (int ix = 0; ix < q.nx; ++ix) {
      const std::size_t k = static_cast<std::size_t>(iy) * q.nx + ix;
      xv[k * d] = static_cast<float>(f.x_at(ix));
      if (xt) {
        tv[k] = static_cast<float>(f.y_at(iy));
        if (d >= 2) xv[k * d + 1] = static_cast<float>(q.x2);
      } else {
        tv[k] = static_cast<float>(q.t);
        xv[k * d + 1] = static_cast<float>(f.y_at(iy));
      }
    }
  f.values = evaluate(w, sde, tv, xv);
  return f;
}

ResidualStats residual_stats(const WeightSnapshot& w, const Sde& sde, double box, int n_points, int n_slices,
                             uint64_t seed) {
  if (n_points < 1 || n_slices < 1) throw std::invalid_argument("residual stats: need points and slices");
  const int d = w.spec.d;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  std::vector<float> tv(n_points), xv(static_cast<std::size_t>(n_points) * d);
  for (auto& t : tv) t = static_cast<float>(sde.eps + (sde.T - sde.eps) * U(rng));
  for (auto& x : xv) x = static_cast<float>(box * (2 * U(rng) - 1));
  auto r = evaluate(w, sde, tv, xv);
  ResidualStats s;
  std::vector<double> sum(n_slices, 0.0), sum_sq(n_slices, 0.0);
  std::vector<int> cnt(n_slices, 0);
  for (int i = 0; i < n_points; ++i) {
    const double a = std::fabs(static_cast<double>(r[i]));
    s.mean_sq += a * a;
    s.mean_abs += a;
    s.max_abs = std::max(s.max_abs, a);
    if (!std::isfinite(a)) s.max_abs = a;
    int k = static_cast<int>((tv[i] - sde.eps) / (sde.T - sde.eps) * n_slices);
    k = std::min(std::max(k, 0), n_slices - 1);
    sum[k] += a;
    sum_sq[k] += a * a;
    ++cnt[k];
  }
  s.mean_sq /= n_points;
  s.mean_abs /= n_points;
  for (int k = 0; k < n_slices; ++k) {
    s.slice_t.push_back(sde.eps + (k + 0.5) * (sde.T - sde.eps) / n_slices);
    s.slice_mean_abs.push_back(cnt[k] ? sum[k] / cnt[k] : NAN);
    s.slice_mean_sq.push_back(cnt[k] ? sum_sq[k] / cnt[k] : NAN);
  }
  return s;
}

}  // namespace gapscope

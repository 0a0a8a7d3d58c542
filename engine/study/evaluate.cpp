#include "study/evaluate.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/config.h"
#include "core/data.h"
#include "core/sde.h"
#include "sample/residual_field.h"
#include "sample/sample.h"
#include "study/residual_gap.h"
#include "train/train.h"

namespace gapscope {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Runs the sampler on the prior in chunks; the SDE noise of chunk k is seeded apart.
Points sample_chunked(const Sde& sde, const ScoreFn& score, SamplerOptions o, const Points& prior,
                      std::size_t chunk, const std::function<void(double)>& progress, std::size_t& nfe) {
  nfe = 0;
  const std::size_t n = prior.n(), d = static_cast<std::size_t>(prior.d);
  chunk = std::max<std::size_t>(chunk, 1);
  Points out(prior.d, n);
  const uint64_t base = o.seed;
  for (std::size_t s = 0, k = 0; s < n; s += chunk, ++k) {
    const std::size_t m = std::min(chunk, n - s);
    Points start(prior.d, m);
    std::copy(prior.v.begin() + static_cast<std::ptrdiff_t>(s * d),
              prior.v.begin() + static_cast<std::ptrdiff_t>((s + m) * d), start.v.begin());
    o.seed = base + 7919 * k;
    std::size_t used = 0;
    Points x = sample(sde, score, o, start, &used);
    nfe = std::max(nfe, used);
    std::copy(x.v.begin(), x.v.end(), out.v.begin() + static_cast<std::ptrdiff_t>(s * d));
    if (progress) progress(static_cast<double>(s + m) / n);
  }
  return out;
}

}  // namespace

SamplerOptions eval_sampler(const Config& c, const EvalOptions& o, SamplerKind kind) {
  SamplerOptions so = SamplerOptions::from_config(c, kind);
  if (o.refine >= 0) so.refine = o.refine;
  if (o.steps > 0) {
    so.steps = o.steps;
    if (so.refine > so.steps) so.refine = 0;
  }
  so.seed = o.seed + 1;
  return so;
}

EvalClouds sample_clouds(const SnapshotPtr& w, const Config& c, const EvalOptions& o, EvalTimes* times,
                         const EvalProgressFn& progress) {
  if (!w) throw std::invalid_argument("evaluate: no weights");
  if (o.n == 0) throw std::invalid_argument("evaluate: n must be positive");
  const Sde sde = Sde::from_config(c);
  const int d = w->spec.d;
  const Points prior = prior_sample(sde, d, o.n, o.seed);
  const ScoreFn score = network_score(w);
  EvalClouds cl;
  for (SamplerKind kind : {SamplerKind::ODE, SamplerKind::SDE}) {
    const SamplerOptions so = eval_sampler(c, o, kind);
    const char* stage = kind == SamplerKind::ODE ? "ode" : "sde";
    const auto t0 = Clock::now();
    std::size_t nfe = 0;
    Points x = sample_chunked(sde, score, so, prior, o.chunk, [&](double f) {
      if (progress) progress(stage, f);
    }, nfe);
    (kind == SamplerKind::ODE ? cl.nfe_ode : cl.nfe_sde) = nfe;
    if (kind == SamplerKind::ODE) {
      cl.ode = std::move(x);
      if (times) times->sample_ode = since(t0);
    } else {
      cl.sde = std::move(x);
      if (times) times->sample_sde = since(t0);
    }
  }
  const auto t0 = Clock::now();
  cl.data = sample_dataset(c, o.n, o.seed + 2);
  if (cl.data.d != d)
    throw std::invalid_argument("evaluate: the data set has d = " + std::to_string(cl.data.d) +
                                " but the model d = " + std::to_string(d));
  if (times) times->data = since(t0);
  if (progress) progress("data", 1.0);
  return cl;
}

OutsideShares outside_shares(const EvalClouds& cl, double box) {
  return {outside_share(cl.ode, box), outside_share(cl.sde, box), outside_share(cl.data, box), box};
}

EvalResult evaluate(const SnapshotPtr& w, const Config& c, const EvalOptions& o, bool keep_clouds,
                    const EvalProgressFn& progress) {
  const auto t_all = Clock::now();
  EvalResult r;
  r.iteration = w ? w->iteration : 0;
  r.n = o.n;
  r.steps = o.steps > 0 ? o.steps : c.sample_steps;
  r.grid_nodes = o.grid;
  r.grid_box = o.box;
  r.grid_clamp = o.clamp;
  EvalClouds cl = sample_clouds(w, c, o, &r.seconds, progress);
  r.nfe_ode = cl.nfe_ode, r.nfe_sde = cl.nfe_sde;
  r.d = cl.ode.d;

  auto t0 = Clock::now();
  W2Spec grid;
  grid.metric = W2Metric::Grid;
  grid.grid = GridMetric{o.grid, o.box, o.clamp};
  r.grid = w2_triple(cl.ode, cl.sde, cl.data, grid, &r.notes);
  r.grid_used = r.grid.used;
  r.outside = outside_shares(cl, o.box);
  r.seconds.w2_grid = since(t0);
  if (progress) progress("w2_grid", 1.0);

  if (o.exact_n > 0) {
    t0 = Clock::now();
    W2Spec exact;
    exact.metric = W2Metric::Exact;
    exact.max_points = o.exact_n;
    r.exact = w2_triple(cl.ode, cl.sde, cl.data, exact, &r.notes);
    r.exact_n = r.d == 1 ? o.n : std::min(o.exact_n, o.n);
    r.seconds.w2_exact = since(t0);
    if (progress) progress("w2_exact", 1.0);
  }

  if (o.residual_points > 0) {
    t0 = Clock::now();
    const ResidualStats st = residual_stats(*w, Sde::from_config(c), c.box, o.residual_points);
    r.res_mean_sq = st.mean_sq;
    r.res_mean_abs = st.mean_abs;
    r.res_max_abs = st.max_abs;
    r.res_time_weighted = time_weighted_residual(Sde::from_config(c), st.slice_t, st.slice_mean_sq);
    r.residual_box = c.box;
    r.seconds.residual = since(t0);
    if (progress) progress("residual", 1.0);
  }
  if (keep_clouds) r.clouds = std::move(cl);
  r.seconds.total = since(t_all);
  return r;
}

EvalResult evaluate(const Trainer& t, const EvalOptions& o, bool keep_clouds, const EvalProgressFn& progress) {
  return evaluate(t.snapshot(), t.config(), o, keep_clouds, progress);
}

nlohmann::json to_json(const EvalResult& r) {
  using nlohmann::json;
  auto v = [](double x) { return std::isfinite(x) ? json(x) : json(nullptr); };
  json j;
  j["iteration"] = r.iteration;
  j["d"] = r.d;
  j["n"] = r.n;
  j["steps"] = r.steps;
  j["nfe"] = {{"ode", r.nfe_ode}, {"sde", r.nfe_sde}};
  j["w2_ode_sde"] = v(r.grid.ode_sde);
  j["w2_ode_data"] = v(r.grid.ode_data);
  j["w2_sde_data"] = v(r.grid.sde_data);
  j["grid"] = {{"w2_ode_sde", v(r.grid.ode_sde)}, {"w2_ode_data", v(r.grid.ode_data)},
               {"w2_sde_data", v(r.grid.sde_data)}, {"used", r.grid_used},
               {"nodes", r.grid_nodes}, {"box", r.grid_box},
               {"metric", r.grid_clamp ? "table" : "validation"}};
  j["exact"] = {{"w2_ode_sde", v(r.exact.ode_sde)}, {"w2_ode_data", v(r.exact.ode_data)},
                {"w2_sde_data", v(r.exact.sde_data)}, {"n", r.exact_n}};
  j["outside"] = {{"ode", v(r.outside.ode)}, {"sde", v(r.outside.sde)}, {"data", v(r.outside.data)},
                  {"box", r.outside.box}};
  j["residual"] = {{"mean_sq", v(r.res_mean_sq)}, {"mean_abs", v(r.res_mean_abs)},
                   {"max_abs", v(r.res_max_abs)}, {"time_weighted", v(r.res_time_weighted)},
                   {"box", r.residual_box}};
  j["seconds"] = {{"sample_ode", r.seconds.sample_ode}, {"sample_sde", r.seconds.sample_sde},
                  {"data", r.seconds.data},             {"w2_grid", r.seconds.w2_grid},
                  {"w2_exact", r.seconds.w2_exact},     {"residual", r.seconds.residual},
                  {"total", r.seconds.total}};
  j["notes"] = r.notes;
  return j;
}

}  // namespace gapscope

#pragma once
// Evaluation of a trained model: ODE and SDE clouds from the SAME prior
// draws, a data cloud, the three W2 distances between them (the paper's grid metric,
// math.md §5, and the exact point-cloud W2 on a subsample), the Fokker-Planck residual
// statistics over the collocation box, and the wall time of each part. No torch in this
// header; the three distances come from transport/w2_triple.h, as in the lab.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/points.h"
#include "core/snapshot.h"
#include "sample/sample.h"
#include "transport/w2_triple.h"

namespace gapscope {

struct Config;
class Trainer;

struct EvalOptions {
  std::size_t n = 100000;       // points per cloud (ODE, SDE, data)
  int grid = 64;                // grid metric: nodes per axis ...
  double box = 4.0;             // ... spanning [-box, box]^d (the paper's validation: 64, 4)
  bool clamp = false;           // true: far samples on border nodes, none dropped (the table: 64, 3.5)
  int steps = -1;               // sampler steps N; < 1: the config's sample_steps
  int refine = -1;              // steps refined at the end; < 0: the config's sample_refine (0: uniform steps)
  uint64_t seed = 0;            // prior draws (shared by ODE and SDE); SDE noise and data derive from it
  std::size_t exact_n = 2000;   // exact W2 on the first exact_n points of each cloud (0: skip; d = 1: all n)
  int residual_points = 4096;   // collocation points for the residual statistics (0: skip)
  std::size_t chunk = 100000;   // sampler batch: bounds memory for millions of points
};

struct EvalClouds {
  Points ode, sde, data;
  std::size_t nfe_ode = 0, nfe_sde = 0;  // network evaluations per particle (the most of any chunk)
};

// Escapes as a measurement of their own: the share of each cloud outside the grid metric's
// box, which the paper's metric silently drops.
struct OutsideShares {
  double ode = NAN, sde = NAN, data = NAN;
  double box = 0;
};
OutsideShares outside_shares(const EvalClouds& cl, double box);

struct EvalTimes {  // wall seconds
  double sample_ode = 0, sample_sde = 0, data = 0, w2_grid = 0, w2_exact = 0, residual = 0, total = 0;
};

struct EvalResult {
  int64_t iteration = 0;
  int d = 2;
  std::size_t n = 0, grid_used = 0, exact_n = 0;
  int steps = 0;
  std::size_t nfe_ode = 0, nfe_sde = 0;  // network evaluations per particle of each sampler
  int grid_nodes = 0;
  double grid_box = 0;
  bool grid_clamp = false;  // the table metric (nothing dropped) rather than the validation one
  W2Triple grid;   // the paper's metric
  W2Triple exact;  // exact W2 between the (sub)sampled clouds; NaN when skipped
  OutsideShares outside;  // share of each cloud outside the grid metric's box
  double res_mean_sq = NAN, res_mean_abs = NAN, res_max_abs = NAN;  // NaN when skipped
  double res_time_weighted = NAN;  // R²_g (study/residual_gap.h) of the same points; NaN when skipped
  double residual_box = 0;
  EvalTimes seconds;
  std::vector<std::string> notes;  // why a value is NaN
  EvalClouds clouds;  // kept only when evaluate(..., keep_clouds = true)
};

// Progress of the long parts: stage is "ode", "sde", "data", "w2_grid", "w2_exact",
// "residual"; fraction in [0, 1] within the stage.
using EvalProgressFn = std::function<void(const std::string& stage, double fraction)>;

// ODE and SDE start from the same prior draws (seed); the SDE noise uses seed + 1,
// the data seed + 2. Sampling runs in chunks of o.chunk points (the SDE noise of
// chunk k is seeded with seed + 1 + 7919 k). times may be null.
EvalClouds sample_clouds(const SnapshotPtr& w, const Config& c, const EvalOptions& o, EvalTimes* times = nullptr,
                         const EvalProgressFn& progress = {});

// The sampler evaluate() runs for `kind`: the config's, with o.steps (refinement dropped
// when it would exceed the steps) and the SDE noise seeded by o.seed + 1.
SamplerOptions eval_sampler(const Config& c, const EvalOptions& o, SamplerKind kind);

EvalResult evaluate(const SnapshotPtr& w, const Config& c, const EvalOptions& o, bool keep_clouds = false,
                    const EvalProgressFn& progress = {});
EvalResult evaluate(const Trainer& t, const EvalOptions& o, bool keep_clouds = false,
                    const EvalProgressFn& progress = {});

// {"iteration", "n", "w2_ode_sde", "w2_ode_data", "w2_sde_data" (grid metric),
//  "grid": {...}, "exact": {...}, "outside": {"ode", "sde", "data", "box"}, "residual": {...},
//  "seconds": {...}, "notes": [...]}; NaN -> null.
nlohmann::json to_json(const EvalResult& r);

}  // namespace gapscope

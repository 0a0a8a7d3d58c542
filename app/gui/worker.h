#pragma once
// The lab's sampling thread: integrates ODE and SDE particle clouds with the newest weight
// snapshot (one time step at a time), measures the W2 gap when a pass ends, and
// refreshes the residual heatmaps at a bounded rate. Everything it hands to the UI
// is an immutable shared_ptr<const ...> swapped under a short lock: the UI never waits.
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/points.h"
#include "core/sde.h"
#include "core/snapshot.h"
#include "sample/residual_field.h"
#include "sample/sample.h"
#include "study/residual_gap.h"
#include "transport/w2_triple.h"

namespace gapscope {
class Trainer;
}

namespace gapscope::gui {

using PointsPtr = std::shared_ptr<const Points>;

// One sampling pass from t = T down to eps. Frames are stored at most 160
// times (evenly over the steps, always including the first and the last).
struct Pass {
  uint64_t id = 0;
  int d = 2;
  int64_t iteration = 0;  // of the weights that drove it
  std::size_t total_steps = 0;
  std::size_t expected_frames = 0;
  bool complete = false;
  std::vector<double> t;                 // time of each stored frame
  std::vector<std::size_t> step;         // step index of each stored frame
  std::vector<PointsPtr> ode, sde;       // one cloud per stored frame
  PointsPtr data;                        // a fresh data sample of the same size
};
using PassPtr = std::shared_ptr<const Pass>;

struct W2Row {
  int64_t iteration = 0;
  double ode_sde = 0, ode_data = 0, sde_data = 0;
  double lambda = 0;
  double ms = 0;  // time of the three solves
  // Share of the final ODE / SDE particles outside [-4, 4]^d, the paper's metric box
  // (escapees the grid metric drops); NaN in rows read from files that lack them.
  double outside_ode = NAN, outside_sde = NAN;
};
constexpr double kMetricBox = 4.0;  // the paper's grid metric: 64 x 64 nodes on [-4, 4]^2

struct SamplerSettings {
  OdeScheme scheme = OdeScheme::Euler;  // rk45: one adaptive solve, the pass shows its first and last frame
  double rtol = 1e-3, atol = 1e-3;
  SdeScheme sde_scheme = SdeScheme::EulerMaruyama;
  double snr = 0.16;
  int corrector_steps = 1;
  int steps = 400, refine = 10, refine_factor = 10;
  double eps = 1e-4;
  int particles = 2000;
  bool shared_prior = true;  // ODE and SDE start from the same prior draws
  W2Metric metric = W2Metric::Grid;  // the paper's: exact W2 is dominated by a few escapees
  int w2_max_points = 2000;  // exact W2 on at most this many particles
  double min_pass_seconds = 2.5;  // pacing: leave the CPU to training when ahead
};
// The lab's W2 metric settings as the engine's one W2 spec (sliced directions from seed).
W2Spec w2_spec(const SamplerSettings& s, uint64_t seed);

struct ResidualSettings {
  bool enabled = true;
  double x2 = 0.0;      // the (x1,t) slice
  double t = 0.5;       // the (x1,x2) field
  int nx = 96, nt = 64, nxy = 64;
  double period_s = 3.0;  // at most one refresh per period
};

// One heatmap: the engine's residual field and how it came about.
struct ResidualGrid {
  ResidualField field;    // values and axes (potential: signed R; score model: |r|)
  int64_t iteration = -1;  // of the weights it was computed with
  uint64_t serial = 0;     // distinct for every computed grid: views redraw when it changes
  double compute_ms = 0;
  std::string error;  // non-empty: no values, and this says why
  bool ok() const { return error.empty() && !field.values.empty(); }
  float at(int ix, int iy) const { return field.values[static_cast<std::size_t>(iy) * field.nx + ix]; }
};
// Computes the field of `request` from the snapshot; failures land in `error`, never throw.
ResidualGrid compute_residual(const SnapshotPtr& snap, const Sde& sde, const FieldRequest& request);

struct ResidualFields {
  ResidualGrid xt, xy;  // (x1, t) at x2 (d = 1: (x, t)); (x1, x2) at t, d = 2 only
  uint64_t version = 0;  // of the snapshot
};
using FieldsPtr = std::shared_ptr<const ResidualFields>;

// Every finished pass of this worker's life as one point of the residual–gap plot: W2(ODE,
// SDE) of the pass and the residual of the weights that drove it (study/residual_gap.h),
// over the same 2 048 fixed collocation points as the training history's statistics. Kept
// across λ changes and new runs (each run its own source, "run 2: circles2").
using GapPointsPtr = std::shared_ptr<const std::vector<ResidualGapPoint>>;

class Worker {
 public:
  Worker();
  ~Worker();
  // The session: a trainer (may be swapped at any time, e.g. reset or load) and its config.
  void set_session(std::shared_ptr<Trainer> trainer, const Config& cfg, std::vector<W2Row> w2 = {});
  void set_sampler(const SamplerSettings& s);  // takes effect at the next pass
  SamplerSettings sampler() const;
  void set_residual(const ResidualSettings& r);  // next refresh (forced soon when slices change)
  ResidualSettings residual() const;
  void restart_pass() { restart_ = true; }

  PassPtr current_pass() const;     // the pass being integrated (grows)
  PassPtr last_complete() const;    // the newest finished pass
  FieldsPtr fields() const;
  std::shared_ptr<const std::vector<W2Row>> w2() const;
  GapPointsPtr gap_points() const;
  void add_gap_points(const std::vector<ResidualGapPoint>& p);  // a saved session's, before the new ones
  std::string error() const;
  double last_pass_seconds() const { return pass_s_.load(); }

 private:
  void loop();
  void run_pass(uint64_t epoch);
  void wait_until(double t, uint64_t epoch) const;  // t in steady-clock seconds; early when the session changes
  // Publishes the finished pass, then its W2 row (unless the session changed meanwhile).
  void finish_pass(uint64_t epoch, const PassPtr& pass, double lambda, const W2Spec& spec, const SnapshotPtr& snap);
  void maybe_refresh_fields(bool force);
  bool session_changed(uint64_t epoch) const { return epoch_.load() != epoch || stop_.load() || restart_.load(); }

  mutable std::mutex m_;  // guards everything below that is not atomic; held only for swaps/copies
  std::shared_ptr<Trainer> trainer_;
  Config cfg_;
  SamplerSettings sampler_;
  ResidualSettings residual_;
  PassPtr current_, complete_;
  FieldsPtr fields_;
  std::shared_ptr<const std::vector<W2Row>> w2_;
  GapPointsPtr gap_;
  int runs_ = 0;  // trainers seen: the gap points' source "run N"
  std::string error_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> stop_{false}, restart_{false}, fields_dirty_{true};
  std::atomic<double> pass_s_{0};
  // The worker thread's own: no lock.
  double last_fields_time_ = -1e9, last_fields_cost_ = 0;
  uint64_t last_fields_version_ = 0;
  uint64_t pass_counter_ = 0, fields_serial_ = 0;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace gapscope::gui

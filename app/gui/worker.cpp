#include "worker.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "core/data.h"
#include "jobs.h"
#include "kernels/denormals.h"
#include "threads.h"
#include "train/train.h"

namespace gapscope::gui {
namespace {

using Clock = std::chrono::steady_clock;
double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

constexpr std::size_t kMaxFrames = 160;

SamplerOptions sampler_options(const SamplerSettings& ss, uint64_t seed) {
  SamplerOptions o;
  o.scheme = ss.scheme;
  o.steps = ss.steps;
  o.refine = ss.refine;
  o.refine_factor = ss.refine_factor;
  o.eps = ss.eps;
  o.seed = seed;
  o.rtol = ss.rtol, o.atol = ss.atol;
  o.sde_scheme = ss.sde_scheme, o.snr = ss.snr, o.corrector_steps = ss.corrector_steps;
  return o;
}

// The W2 gap of a finished pass and the shares of its escapees.
W2Row measure_gap(const Pass& pass, double lambda, const W2Spec& spec) {
  const auto w0 = Clock::now();
  W2Row row;
  row.iteration = pass.iteration;
  row.lambda = lambda;
  const Points& po = *pass.ode.back();
  const Points& ps = *pass.sde.back();
  const W2Triple w2 = w2_triple(po, ps, *pass.data, spec);
  row.ode_sde = w2.ode_sde;
  row.ode_data = w2.ode_data;
  row.sde_data = w2.sde_data;
  row.outside_ode = outside_share(po, kMetricBox);
  row.outside_sde = outside_share(ps, kMetricBox);
  row.ms = std::chrono::duration<double, std::milli>(Clock::now() - w0).count();
  return row;
}

}  // namespace

ResidualGrid compute_residual(const SnapshotPtr& snap, const Sde& sde, const FieldRequest& request) {
  ResidualGrid g;
  const auto t0 = Clock::now();
  try {
    if (!snap) throw std::runtime_error("no weights yet");
    g.field = residual_field(*snap, sde, request);
    g.iteration = snap->iteration;
  } catch (const std::exception& e) {
    g.field.values.clear();
    g.error = first_line(e.what());
  }
  g.compute_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return g;
}

W2Spec w2_spec(const SamplerSettings& s, uint64_t seed) {
  W2Spec w;
  w.metric = s.metric;
  w.grid = GridMetric{64, kMetricBox};
  w.max_points = static_cast<std::size_t>(std::max(10, s.w2_max_points));
  w.seed = seed;
  return w;
}

Worker::Worker()
    : w2_(std::make_shared<std::vector<W2Row>>()), gap_(std::make_shared<std::vector<ResidualGapPoint>>()) { thread_ = std::thread([this] {
    flush_denormals_this_thread();
    loop();
  }); }

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Worker::set_session(std::shared_ptr<Trainer> trainer, const Config& cfg, std::vector<W2Row> w2) {
  {
    std::lock_guard<std::mutex> l(m_);
    if (trainer) ++runs_;
    trainer_ = std::move(trainer);
    cfg_ = cfg;
    current_.reset();
    complete_.reset();
    fields_.reset();
    error_.clear();
    w2_ = std::make_shared<std::vector<W2Row>>(std::move(w2));
    ++epoch_;
    fields_dirty_ = true;
  }
  cv_.notify_all();
}

void Worker::set_sampler(const SamplerSettings& s) {
  std::lock_guard<std::mutex> l(m_);
  sampler_ = s;
}
SamplerSettings Worker::sampler() const {
  std::lock_guard<std::mutex> l(m_);
  return sampler_;
}
void Worker::set_residual(const ResidualSettings& r) {
  std::lock_guard<std::mutex> l(m_);
  const bool slices = r.x2 != residual_.x2 || r.t != residual_.t || r.nx != residual_.nx || r.nt != residual_.nt ||
                      r.nxy != residual_.nxy || (r.enabled && !residual_.enabled);
  residual_ = r;
  if (slices) fields_dirty_ = true;
}
ResidualSettings Worker::residual() const {
  std::lock_guard<std::mutex> l(m_);
  return residual_;
}
PassPtr Worker::current_pass() const {
  std::lock_guard<std::mutex> l(m_);
  return current_;
}
PassPtr Worker::last_complete() const {
  std::lock_guard<std::mutex> l(m_);
  return complete_;
}
FieldsPtr Worker::fields() const {
  std::lock_guard<std::mutex> l(m_);
  return fields_;
}
std::shared_ptr<const std::vector<W2Row>> Worker::w2() const {
  std::lock_guard<std::mutex> l(m_);
  return w2_;
}
std::string Worker::error() const {
  std::lock_guard<std::mutex> l(m_);
  return error_;
}

void Worker::loop() {
  limit_compute_threads(1);
  lower_thread_priority(kComputeNice);
  while (!stop_) {
    uint64_t epoch;
    {
      std::unique_lock<std::mutex> l(m_);
      cv_.wait(l, [&] { return stop_.load() || trainer_ != nullptr; });
      if (stop_) break;
      epoch = epoch_.load();
    }
    try {
      run_pass(epoch);
    } catch (const std::exception& e) {
      {
        std::lock_guard<std::mutex> l(m_);
        error_ = first_line(e.what());
      }
      std::unique_lock<std::mutex> l(m_);
      cv_.wait_for(l, std::chrono::milliseconds(500), [&] { return stop_.load() || epoch_.load() != epoch; });
    }
  }
}

void Worker::maybe_refresh_fields(bool force) {
  ResidualSettings rs;
  std::shared_ptr<Trainer> tr;
  Config cfg;
  {
    std::lock_guard<std::mutex> l(m_);
    rs = residual_;
    tr = trainer_;
    cfg = cfg_;
  }
  if (!rs.enabled || !tr) return;
  const double now = now_s();
  const bool dirty = fields_dirty_.load();
  // At most one refresh per period, and never more than a sixth of this thread's time.
  if (!force && !dirty && now - last_fields_time_ < std::max(rs.period_s, 5 * last_fields_cost_)) return;
  if (dirty && now - last_fields_time_ < 0.3) return;  // slider drags: coalesce
  SnapshotPtr snap = tr->snapshot();
  if (!dirty && snap && snap->version == last_fields_version_ && fields()) return;
  fields_dirty_ = false;
  last_fields_time_ = now;
  last_fields_version_ = snap ? snap->version : 0;
  const uint64_t epoch = epoch_.load();
  const Sde sde = Sde::from_config(cfg);
  auto f = std::make_shared<ResidualFields>();
  FieldRequest xt;
  xt.slice = FieldSlice::XT;
  xt.nx = rs.nx;
  xt.ny = rs.nt;
  xt.range = cfg.box;
  xt.x2 = rs.x2;
  f->xt = compute_residual(snap, sde, xt);
  if (snap && snap->spec.d == 2) {
    FieldRequest xy;
    xy.slice = FieldSlice::XX;
    xy.nx = xy.ny = rs.nxy;
    xy.range = cfg.box;
    xy.t = rs.t;
    f->xy = compute_residual(snap, sde, xy);
  }
  f->version = last_fields_version_;
  f->xt.serial = ++fields_serial_;
  f->xy.serial = ++fields_serial_;
  last_fields_cost_ = now_s() - now;
  std::lock_guard<std::mutex> l(m_);
  if (epoch_.load() == epoch) fields_ = std::move(f);
}

void Worker::run_pass(uint64_t epoch) {
  std::shared_ptr<Trainer> tr;
  Config cfg;
  SamplerSettings ss;
  {
    std::lock_guard<std::mutex> l(m_);
    tr = trainer_;
    cfg = cfg_;
    ss = sampler_;
  }
  restart_ = false;
  if (!tr) return;
  SnapshotPtr snap = tr->snapshot();
  const Sde sde = Sde::from_config(cfg);
  const Dataset data(cfg);
  const int d = data.dim();
  const uint64_t id = ++pass_counter_;
  const std::size_t n = static_cast<std::size_t>(std::max(1, ss.particles));

  const SamplerOptions o = sampler_options(ss, cfg.seed * 1000003ull + id);
  SamplerOptions oo = o, os = o;
  oo.kind = SamplerKind::ODE;
  os.kind = SamplerKind::SDE;
  Points prior = prior_sample(sde, d, n, o.seed * 2 + 1);
  Points prior_sde = ss.shared_prior ? prior : prior_sample(sde, d, n, o.seed * 2 + 2);
  ScoreFn score = network_score(snap);
  Integrator ode(sde, score, oo, prior), sdei(sde, score, os, prior_sde);

  auto pass = std::make_shared<Pass>();
  pass->id = id;
  pass->d = d;
  pass->iteration = snap->iteration;
  pass->total_steps = ode.num_steps();
  const std::size_t stride = std::max<std::size_t>(1, (pass->total_steps + kMaxFrames - 1) / kMaxFrames);
  pass->expected_frames = pass->total_steps / stride + 1 + (pass->total_steps % stride ? 1 : 0);
  {
    std::mt19937_64 rng(o.seed ^ 0x9e3779b97f4a7c15ull);
    pass->data = std::make_shared<const Points>(data.sample(n, rng));
  }
  auto store = [&](bool final) {
    auto p = std::make_shared<Pass>(*pass);
    p->t.push_back(ode.time());
    p->step.push_back(ode.step_index());
    p->ode.push_back(std::make_shared<const Points>(ode.points()));
    p->sde.push_back(std::make_shared<const Points>(sdei.points()));
    p->complete = final;
    pass = p;
    std::lock_guard<std::mutex> l(m_);
    if (epoch_.load() == epoch) current_ = pass;
  };
  store(false);
  const double t0 = now_s();
  while (!ode.done()) {
    if (session_changed(epoch)) return;
    ode.step();
    sdei.step();
    const std::size_t k = ode.step_index();
    if (ode.done() || k % stride == 0) store(ode.done());
    maybe_refresh_fields(false);
    // Pacing: a pass takes at least min_pass_seconds, which leaves the cores to training.
    wait_until(t0 + ss.min_pass_seconds * static_cast<double>(k) / pass->total_steps, epoch);
  }
  pass_s_ = now_s() - t0;
  finish_pass(epoch, pass, tr->knobs().lambda.load(), w2_spec(ss, id), snap);
}

void Worker::wait_until(double t, uint64_t epoch) const {
  while (now_s() < t && !session_changed(epoch))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, static_cast<int>((t - now_s()) * 1000) + 1)));
}

void Worker::finish_pass(uint64_t epoch, const PassPtr& pass, double lambda, const W2Spec& spec,
                         const SnapshotPtr& snap) {
  Config cfg;
  std::string source;
  {
    std::lock_guard<std::mutex> l(m_);
    if (epoch_.load() != epoch) return;
    complete_ = pass;
    error_.clear();
    cfg = cfg_;
    source = "run " + std::to_string(runs_) + ": " + cfg_.dataset;
  }
  if (spec.metric != W2Metric::Grid) source += spec.metric == W2Metric::Exact ? " (exact W2)" : " (sliced W2)";
  const W2Row row = measure_gap(*pass, lambda, spec);
  ResidualGapPoint gp;
  gp.source = source;
  gp.iteration = pass->iteration;
  gp.lambda = lambda;
  gp.w2_ode_sde = row.ode_sde;
  try {
    // The history's points and slices (train.cpp), so the plot and the history agree.
    const Sde sde = Sde::from_config(cfg);
    const ResidualStats st = residual_stats(*snap, sde, cfg.box, 2048, kResidualSlices);
    gp.res_mean_sq = st.mean_sq;
    gp.res_time_weighted = time_weighted_residual(sde, st.slice_t, st.slice_mean_sq);
  } catch (const std::exception&) {
    // No residual for this model: the point keeps NaN, which the plot counts as not drawable.
  }
  std::lock_guard<std::mutex> l(m_);
  if (epoch_.load() != epoch) return;
  auto w = std::make_shared<std::vector<W2Row>>(*w2_);
  w->push_back(row);
  w2_ = std::move(w);
  auto g = std::make_shared<std::vector<ResidualGapPoint>>(*gap_);
  g->push_back(std::move(gp));
  gap_ = std::move(g);
}

GapPointsPtr Worker::gap_points() const {
  std::lock_guard<std::mutex> l(m_);
  return gap_;
}

void Worker::add_gap_points(const std::vector<ResidualGapPoint>& p) {
  std::lock_guard<std::mutex> l(m_);
  auto g = std::make_shared<std::vector<ResidualGapPoint>>(p);
  g->insert(g->end(), gap_->begin(), gap_->end());
  gap_ = std::move(g);
  // A reopened session's runs keep their numbers; this worker's next run counts on from them.
  int most = 0;
  for (const auto& q : p) {
    int n = 0;
    if (std::sscanf(q.source.c_str(), "run %d:", &n) == 1) most = std::max(most, n);
  }
  runs_ += most;
}

}  // namespace gapscope::gui

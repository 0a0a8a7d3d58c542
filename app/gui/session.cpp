#include "session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

#include "core/data.h"
#include "sample/sample.h"
#include "study/import_network.h"
#include "style/format.h"
#include "threads.h"

namespace gapscope::gui {
namespace fs = std::filesystem;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string w2_file(const std::string& dir) { return (fs::path(dir) / "gui_w2.csv").string(); }

// The live sampler: the config's refinement and ε, lighter N and particle counts.
SamplerSettings lab_sampler(const Config& c, const SessionOptions& opt) {
  // The integrator's settings as every sampler reads them from a config (validate() has
  // accepted the config, so the ODE method parses).
  const SamplerOptions o = SamplerOptions::from_config(c, SamplerKind::ODE);
  SamplerSettings s;
  s.scheme = o.scheme;
  s.rtol = o.rtol, s.atol = o.atol;
  s.sde_scheme = o.sde_scheme, s.snr = o.snr, s.corrector_steps = o.corrector_steps;
  s.refine = o.refine;
  s.refine_factor = o.refine_factor;
  s.eps = o.eps;
  s.steps = std::max(opt.steps, o.refine + 1);
  s.particles = opt.particles;
  s.w2_max_points = opt.particles;
  s.min_pass_seconds = opt.min_pass_seconds;
  return s;
}

std::string describe(const Config& c) { return c.dataset + ", " + c.model + ", " + c.sde; }

}  // namespace

Config lab_default_config() {
  Config c;
  c.batch_dsm = kLabBatchDsm;
  c.batch_collocation = kLabBatchCollocation;
  c.potential_prior = true;
  return c;
}

Session::Session(const SessionOptions& opt) : opt_(opt) {
  worker_.add_gap_points(opt.gap_points);
  std::shared_ptr<Trainer> t;
  std::vector<W2Row> w2;
  std::string what;
  try {
    if (!opt.import_file.empty()) {
      t = gapscope::import_network(opt.import_file).trainer;
      if (opt.lambda_given) t->knobs().lambda = opt.config.lambda;
      what = "imported " + opt.import_file + " (" + t->origin() + ")";
    } else if (!opt.checkpoint.empty()) {
      t = Trainer::load(opt.checkpoint);
      if (opt.lambda_given) t->knobs().lambda = opt.config.lambda;
      w2 = read_w2_csv(w2_file(opt.checkpoint));
      what = "resumed checkpoint " + opt.checkpoint;
    } else {
      opt.config.validate();
      t = std::make_shared<Trainer>(opt.config);
      what = "new experiment: " + describe(opt.config);
    }
  } catch (const std::exception& e) {
    const std::string why = !opt.import_file.empty() ? "cannot import " + opt.import_file + ": "
                            : !opt.checkpoint.empty() ? "cannot load checkpoint " + opt.checkpoint + ": "
                                                      : "cannot start this experiment: ";
    report(why + first_line(e.what()), true);
    return;
  }
  worker_.set_sampler(opt.sampler ? *opt.sampler : lab_sampler(t->config(), opt));
  if (opt.residual) worker_.set_residual(*opt.residual);
  t->set_lambda_schedule(opt.lambda_schedule);
  adopt(std::move(t), std::move(w2), what, /*force_pause=*/!opt.import_file.empty());  // an import is looked at first
  schedule_ = opt.lambda_schedule;
  std::stable_sort(schedule_.begin(), schedule_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  lambda_log_ = schedule_;
}

Session::~Session() {
  // What was asked for (an export, a checkpoint save) finishes and is reported; a run
  // loaded meanwhile is not adopted any more.
  jobs_.wait_idle();
  for (auto& r : jobs_.take_results())
    if (!r.adopt) report(r.message, r.error);
  worker_.set_session(nullptr, cfg_);
  retire(std::move(trainer_));
}

void Session::report(const std::string& text, bool error) {
  log_.push_back({text, error});
  if (log_.size() > 50) log_.pop_front();
  if (error) last_error_ = text;
  std::fprintf(stderr, "gapscope: %s%s\n", error ? "error: " : "", text.c_str());
}

RunState Session::state() const {
  if (!trainer_) return RunState::None;
  if (!trainer_->running()) return trainer_->last_error().empty() ? RunState::Stopped : RunState::Failed;
  return trainer_->knobs().paused.load() ? RunState::Paused : RunState::Training;
}

int64_t Session::iteration() const { return trainer_ ? trainer_->iteration() : 0; }

bool Session::busy() const { return jobs_.busy(); }

void Session::wait_jobs() {
  jobs_.wait_idle();
  poll();
}

// ---------------------------------------------------------------- trainers
void Session::retire(std::shared_ptr<Trainer> t) {
  if (!t) return;
  t->knobs().stop = true;  // the old run ends after its current iteration; its destructor joins, off this thread
  jobs_.post("retire", [t = std::move(t)]() mutable {
    t.reset();
    return JobResult{};
  });
}

void Session::adopt(std::shared_ptr<Trainer> t, std::vector<W2Row> w2, const std::string& what, bool force_pause) {
  const bool paused = force_pause || (trainer_ ? trainer_->knobs().paused.load() : !opt_.start_training);
  if (!t->load_notice().empty()) report(t->load_notice());
  retire(std::move(trainer_));
  trainer_ = std::move(t);
  cfg_ = trainer_->config();
  rows_ = trainer_->history().rows();
  schedule_.clear();  // the command line's schedule belongs to the first trainer
  rate_t0_ = now_s();
  rate_it0_ = trainer_->iteration();
  it_per_s_ = 0;
  train_error_seen_.clear();
  last_error_.clear();
  worker_.set_session(trainer_, cfg_, std::move(w2));
  lambda_log_.clear();
  try {
    std::mt19937_64 rng(cfg_.seed);
    preview_ = std::make_shared<const Points>(
        Dataset(cfg_).sample(static_cast<std::size_t>(std::max(1, worker_.sampler().particles)), rng));
  } catch (const std::exception&) {
    preview_.reset();  // the trainer read the same data: this cannot fail but by a race with the file
  }
  trainer_->knobs().paused = paused;
  start_training();
  ++generation_;
  report(what);
}

void Session::start_training() {
  // A fresh run trains for `iterations`; a resumed one that is already past it, for
  // `iterations` more. The training thread inherits nice 10 from the thread that starts it.
  auto t = trainer_;
  const int64_t it = t->iteration();
  const int64_t until = it < cfg_.iterations ? cfg_.iterations : it + std::max<int64_t>(cfg_.iterations, 1);
  run_in_background_priority([&] { t->start(until); }, kComputeNice);
}

std::string Session::reset(const Config& edit, const std::string& overrides) {
  Config c = edit;
  if (c.model != "potential") c.potential_prior = false;  // the offset is a potential's
  if (trainer_) {
    c.lambda = lambda();
    c.lr = lr();
  }
  std::vector<std::string> sets;
  std::istringstream in(overrides);
  for (std::string s; in >> s;) sets.push_back(s);
  std::shared_ptr<Trainer> t;
  try {
    apply_overrides(c, sets);
    c.validate();
    t = std::make_shared<Trainer>(c);
  } catch (const std::exception& e) {
    const std::string err = "settings rejected: " + first_line(e.what());
    report(err, true);
    return err;
  }
  adopt(std::move(t), {}, "new experiment: " + describe(c));
  return "";
}

// ---------------------------------------------------------------- polling
void Session::poll() {
  for (auto& r : jobs_.take_results()) {
    if (r.on_ui) r.on_ui();
    if (r.adopt)
      adopt(std::move(r.adopt), std::move(r.w2), r.message, r.adopt_paused);
    else
      report(r.message, r.error);
  }
  if (trainer_) note_progress();
}

void Session::note_progress() {
  auto more = trainer_->history().rows(rows_.size());
  rows_.insert(rows_.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  // The trainer applies the schedule before the iteration it names; the log says so once
  // the history shows it.
  while (schedule_logged_ < schedule_.size() && !rows_.empty() && rows_.back().iteration > schedule_[schedule_logged_].first) {
    report("schedule: λ = " + style::number(schedule_[schedule_logged_].second) + " from iteration " +
           std::to_string(schedule_[schedule_logged_].first));
    ++schedule_logged_;
  }
  const double now = now_s();
  if (now - rate_t0_ >= 1.0) {
    const int64_t it = trainer_->iteration();
    it_per_s_ = static_cast<double>(it - rate_it0_) / (now - rate_t0_);
    rate_t0_ = now;
    rate_it0_ = it;
  }
  const std::string err = trainer_->last_error();
  if (!err.empty() && err != train_error_seen_) {
    train_error_seen_ = err;
    report("training stopped: " + first_line(err), true);
  }
}

// ---------------------------------------------------------------- run control and knobs
bool Session::paused() const { return trainer_ && trainer_->knobs().paused.load(); }

void Session::set_paused(bool p) {
  if (!trainer_) return;
  trainer_->knobs().paused = p;
  if (!p && !trainer_->running()) start_training();
}

void Session::step() {
  if (!trainer_ || !paused()) return;
  auto t = trainer_;
  jobs_.post("step", [t] {
    t->step();
    return JobResult{};
  });
}

double Session::lambda() const { return trainer_ ? trainer_->knobs().lambda.load() : cfg_.lambda; }

void Session::set_lambda(double v) {
  if (!trainer_) return;
  v = std::max(0.0, v);
  if (v == trainer_->knobs().lambda.load()) return;
  trainer_->knobs().lambda = v;
  // The trainer reads the knob when an iteration starts. Paused, the next iteration is
  // the first with v; training, one is almost always in flight with the old value, so v
  // applies from the one after (exact when paused, at most one off while training).
  // A drag of the slider between two iterations is one change.
  const int64_t it = trainer_->iteration() + (state() == RunState::Training ? 1 : 0);
  if (!lambda_log_.empty() && lambda_log_.back().first == it)
    lambda_log_.back().second = v;
  else
    lambda_log_.emplace_back(it, v);
}

LambdaSchedule Session::lambda_history() const {
  LambdaSchedule h = lambda_log_;
  std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return h;
}

void Session::save_session(const std::string& path, const ViewSettings& view, bool with_weights) {
  if (!trainer_) return;
  SessionFile f;
  f.config = cfg_;
  f.lambda_history = lambda_history();
  f.iteration = trainer_->iteration();
  f.sampler = worker_.sampler();
  f.residual = worker_.residual();
  f.view = view;
  f.gap_points = *worker_.gap_points();
  std::error_code ec;  // a folder that cannot be made fails the write below, naming the file
  if (const fs::path parent = fs::path(path).parent_path(); !parent.empty()) fs::create_directories(parent, ec);
  if (with_weights) save_checkpoint(session_checkpoint_dir(path));
  jobs_.post("save session " + path, [f = std::move(f), path, with_weights]() mutable {
    // The data travels inside the file: a session opened elsewhere needs nothing else.
    if (f.config.dataset == "csv" || f.config.dataset == "file")
      f.data = WeightedCloud::read(f.config.dataset == "csv" ? f.config.data_csv : f.config.data_file);
    write_session_file(path, f, with_weights);
    return JobResult::done("saved session " + path + (with_weights ? " with weights" : "") +
                           "; reopen: gapscope --session " + path);
  });
}

double Session::lr() const { return trainer_ ? trainer_->knobs().lr.load() : cfg_.lr; }

void Session::set_lr(double v) {
  if (trainer_) trainer_->knobs().lr = std::clamp(v, 1e-7, 1.0);
}

// ---------------------------------------------------------------- checkpoints and exports
void Session::save_checkpoint(const std::string& dir) {
  if (!trainer_) return;
  auto t = trainer_;
  auto w2 = worker_.w2();
  jobs_.post("save checkpoint " + dir, [t, w2, dir] {
    t->save(dir);  // waits for the iteration in flight, here and not on the UI thread
    write_w2_csv(w2_file(dir), *w2);
    return JobResult::done("saved checkpoint " + dir + " at iteration " + std::to_string(t->iteration()));
  });
}

void Session::load_checkpoint(const std::string& dir) {
  jobs_.post("load checkpoint " + dir, [dir] {
    JobResult r;
    r.adopt = Trainer::load(dir);
    r.w2 = read_w2_csv(w2_file(dir));
    r.message = "resumed checkpoint " + dir;
    return r;
  });
}

void Session::import_network(const std::string& file) {
  jobs_.post("import " + file, [file] {
    JobResult r;
    ImportedNetwork net = gapscope::import_network(file);
    r.adopt = std::move(net.trainer);
    r.adopt_paused = true;
    r.message = "imported " + file + ": " + net.summary;
    for (const auto& w : net.warnings) r.message += "; " + w;
    return r;
  });
}

// ---------------------------------------------------------------- studies of the current weights
void Session::compute_density(const DensityRequest& req) {
  if (!trainer_) return;
  const SnapshotPtr w = trainer_->snapshot();
  const Config c = cfg_;
  const SamplerSettings ss = worker_.sampler();
  jobs_.post("ODE density", [this, w, c, ss, req] {
    SamplerOptions o = SamplerOptions::from_config(c, SamplerKind::ODE);
    // the change of variables needs a fixed-step scheme: the adaptive sampler's density is RK4's
    o.scheme = ss.scheme == OdeScheme::RK45 ? OdeScheme::RK4 : ss.scheme;
    o.steps = ss.steps, o.refine = std::min(ss.refine, ss.steps);
    o.refine_factor = ss.refine_factor;
    auto g = std::make_shared<const DensityGrid>(density_grid(w, c, o, req));
    JobResult r = JobResult::done("ODE density at t = " + style::number(req.t) + " from the weights of iteration " +
                                  std::to_string(w->iteration) + " (" + std::to_string(g->nfe) +
                                  " network evaluations per node)");
    r.on_ui = [this, g] { density_ = g; };
    return r;
  });
}

void Session::sweep_steps(const SweepOptions& o) {
  if (!trainer_) return;
  const SnapshotPtr w = trainer_->snapshot();
  const Config c = cfg_;
  jobs_.post("step-count sweep", [this, w, c, o] {
    auto rows = std::make_shared<const std::vector<SweepRow>>(gapscope::sweep_steps(w, c, o));
    JobResult r = JobResult::done("step-count sweep of the weights of iteration " + std::to_string(w->iteration) +
                                  ": " + std::to_string(rows->size()) + " step counts");
    const int64_t it = w->iteration;
    r.on_ui = [this, rows, it] { sweep_ = rows, sweep_iteration_ = it; };
    return r;
  });
}

void Session::export_studies(const std::string& dir) {
  const auto g = density_;
  const auto rows = sweep_;
  const std::string title = cfg_.dataset + ", lambda = " + style::number(lambda());
  if (!g && !rows) {
    report("export: no density or sweep computed yet", true);
    return;
  }
  jobs_.post("export studies", [dir, g, rows, title] {
    std::string msg;
    if (g) msg = write_density_files(dir, *g, title);
    if (rows) msg += (msg.empty() ? "" : "; ") + write_sweep_files(dir, *rows, title);
    return JobResult::done(msg);
  });
}

void Session::export_gap(const std::string& dir) {
  const GapPointsPtr pts = worker_.gap_points();
  const std::string title = "Residual over training: " + cfg_.dataset + ", \u03bb = " + style::number(lambda());
  jobs_.post("export residual-gap", [dir, pts, rows = rows_, cfg = cfg_, title] {
    return JobResult::done(write_gap_files(dir, *pts, rows, cfg, title));
  });
}

ExportInput Session::with_data(ExportInput view) const {
  view.rows = rows_;
  view.w2 = worker_.w2();
  if (!view.pass) view.pass = worker_.last_complete();
  if (!view.pass) view.pass = worker_.current_pass();
  return view;
}

void Session::export_figure(const std::string& dir, Figure what, ExportInput view) {
  jobs_.post("figure " + export_name(what), [dir, what, in = with_data(std::move(view))] {
    return JobResult::done(write_figure(dir, what, in));
  });
}

void Session::export_table(const std::string& dir, Table what, ExportInput view) {
  jobs_.post("CSV " + export_name(what), [dir, what, in = with_data(std::move(view))] {
    return JobResult::done(write_table(dir, what, in));
  });
}

}  // namespace gapscope::gui

#pragma once
// One experiment of the lab, without a window: the trainer (training on its own thread),
// the sampling worker, the λ and lr knobs, the λ schedule, reset and apply of a config,
// start/pause/step, checkpoints, exports and the message log. It is driven from one
// thread (the UI thread, or a test); slow work runs as jobs (jobs.h) whose results
// poll() applies on that thread. Nothing here throws at its caller: a rejected config,
// a bad checkpoint or a failed export becomes a one-line error in the log (and, where a
// call can answer at once, its return value).
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "sample/density.h"
#include "study/sweep_steps.h"
#include "exports.h"
#include "jobs.h"
#include "session_file.h"
#include "train/lambda_schedule.h"
#include "train/train.h"
#include "worker.h"

namespace gapscope::gui {

// The lab's batch sizes when no experiment file is given: the paper's objective and lr
// schedule, on batches small enough that iterations come several times a second on the
// one core the lab gives training (the paper's CPU setting: Config{}.batch_dsm /
// batch_collocation).
constexpr int kLabBatchDsm = 4000, kLabBatchCollocation = 1000;
// The lab's experiment without a file: those batches and the prior offset, so that λ can
// be dragged at any moment without emptying the view (README, "Moving λ during a run").
Config lab_default_config();

struct SessionOptions {
  Config config;            // the experiment to start (validated again here)
  std::string checkpoint;   // non-empty: resume this checkpoint instead
  std::string import_file;  // non-empty: start from this PyTorch network (gapscope-cli import's reader)
  bool lambda_given = false;  // with a checkpoint: config.lambda replaces the checkpoint's λ
  LambdaSchedule lambda_schedule;  // handed to the first trainer, which applies it exactly
  bool start_training = true;
  int particles = 1000;  // per sampler
  int steps = 100;       // sampler N
  double min_pass_seconds = 2.4;  // the sampler's pacing
  // A saved session's sampler and residual settings (else the counts above and the defaults).
  std::optional<SamplerSettings> sampler;
  std::optional<ResidualSettings> residual;
  std::vector<ResidualGapPoint> gap_points;  // a saved session's residual–gap points, shown before the new ones
};

struct Message {
  std::string text;
  bool error = false;
};

enum class RunState { None, Training, Paused, Stopped, Failed };

class Session {
 public:
  // Starts the experiment (or resumes the checkpoint) synchronously; on failure the
  // session is not ready() and last_error() says why.
  explicit Session(const SessionOptions& opt);
  ~Session();  // queued jobs (a checkpoint save) finish and are logged; then training stops
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Applies finished jobs, copies new history rows, logs schedule steps and training
  // failures, updates the rate. Once a frame.
  void poll();
  void wait_jobs();   // blocks until every queued job has run, then polls
  bool busy() const;  // a job is queued or running

  bool ready() const { return trainer_ != nullptr; }
  const Config& config() const { return cfg_; }
  uint64_t generation() const { return generation_; }  // +1 whenever another trainer takes over
  RunState state() const;
  int64_t iteration() const;
  const std::vector<TrainRow>& history() const { return rows_; }  // as of the last poll
  std::shared_ptr<const std::vector<W2Row>> w2() const { return worker_.w2(); }
  double it_per_s() const { return it_per_s_; }
  Worker& worker() { return worker_; }  // sampler and residual settings, passes, fields
  const Worker& worker() const { return worker_; }

  // Run control.
  bool paused() const;
  void set_paused(bool paused);  // resuming a run that has ended starts it again
  void step();                   // one iteration (a job); only while paused
  // A new network: `c` plus the key=value words of `overrides`, with the λ and lr in
  // force. Returns "" or the error (logged too); on error the running session stays.
  std::string reset(const Config& c, const std::string& overrides = "");

  // Knobs, read by the trainer at the start of every iteration.
  double lambda() const;
  void set_lambda(double v);  // clamped to >= 0
  double lr() const;
  void set_lr(double v);  // clamped to [1e-7, 1]; holds until the next lr stage

  // Checkpoints (jobs): the engine's checkpoint plus gui_w2.csv of the W2 plot.
  void save_checkpoint(const std::string& dir);
  void load_checkpoint(const std::string& dir);  // the loaded run replaces this one
  // A PyTorch network (a job): its clouds, W2 and residual appear without training; Start
  // fine-tunes it with λ live. The imported run replaces this one.
  void import_network(const std::string& file);

  // The λ in force over this run: the command line's schedule (first run) and every
  // change of the knob since, by the iteration it first applies to; sorted.
  LambdaSchedule lambda_history() const;
  // A sample of the data set, drawn when a run is adopted: what the data view shows
  // before the first sampling pass ends (a loaded file at once, not a pass later).
  PointsPtr data_preview() const { return preview_; }
  // Sessions (jobs): one JSON file (session_file.h) with the config, the λ history, the
  // sampler settings and `view`; with_weights also saves a checkpoint beside it.
  void save_session(const std::string& path, const ViewSettings& view, bool with_weights);
  std::string command() const { return cli_command(cfg_, lambda_history()); }

  // Exports (jobs) into the folder dir. `view` gives what only the views know (the
  // shown pass, the visible square, log axes); the session fills in the history and
  // the W2 rows, and the newest pass when view.pass is empty.
  void export_figure(const std::string& dir, Figure what, ExportInput view = {});
  void export_table(const std::string& dir, Table what, ExportInput view = {});

  // Studies of the current weights (jobs): the ODE's own density beside the model's and
  // the data's at r.t (the sampler's scheme and steps), and the step-count sweep. The
  // newest result of each is kept across λ changes and new runs until the next one.
  void compute_density(const DensityRequest& r);
  void sweep_steps(const SweepOptions& o);
  std::shared_ptr<const DensityGrid> density() const { return density_; }
  std::shared_ptr<const std::vector<SweepRow>> sweep() const { return sweep_; }
  int64_t sweep_iteration() const { return sweep_iteration_; }
  void export_studies(const std::string& dir);  // the kept density and sweep (exports.h), a job
  // The residual–gap points of every finished pass this session (all runs), and their
  // files with the residual over training of this run (exports.h's write_gap_files), a job.
  GapPointsPtr gap_points() const { return worker_.gap_points(); }
  void export_gap(const std::string& dir);

  void report(const std::string& text, bool error = false);  // log (last 50) and stderr
  const std::deque<Message>& log() const { return log_; }
  const std::string& last_error() const { return last_error_; }

 private:
  void adopt(std::shared_ptr<Trainer> t, std::vector<W2Row> w2, const std::string& what, bool force_pause = false);
  void retire(std::shared_ptr<Trainer> t);
  void start_training();
  void note_progress();
  ExportInput with_data(ExportInput view) const;

  SessionOptions opt_;
  Config cfg_;  // the running trainer's
  std::shared_ptr<Trainer> trainer_;
  uint64_t generation_ = 0;
  std::vector<TrainRow> rows_;  // the history, grown by poll()
  LambdaSchedule schedule_;     // the first trainer's, for the log
  std::size_t schedule_logged_ = 0;
  double rate_t0_ = 0, it_per_s_ = 0;
  int64_t rate_it0_ = 0;
  std::string train_error_seen_;
  LambdaSchedule lambda_log_;  // lambda_history()
  PointsPtr preview_;
  std::deque<Message> log_;
  std::string last_error_;
  std::shared_ptr<const DensityGrid> density_;
  std::shared_ptr<const std::vector<SweepRow>> sweep_;
  int64_t sweep_iteration_ = -1;
  Worker worker_;
  // Last member, so it is destroyed first: queued jobs finish while the rest is alive.
  Jobs jobs_;
};

}  // namespace gapscope::gui

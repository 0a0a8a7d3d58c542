#pragma once
// owns: the training loop, its knobs, history, λ schedule and checkpoints.
// must not include: transport/, io/, study/, style/, <imgui, <GL, <cairo (train.h itself stays torch-free: train_state.h holds the tensors)
//
// The training loop as a reusable component: blocking `run` for the CLI, or a
// background thread (`start`) for the GUI. It talks to other threads only through
// Knobs (atomics, read once per iteration, no locks on the hot path), immutable
// WeightSnapshots, the History (which readers copy) and last_error(), each behind its
// own small lock.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/snapshot.h"
#include "train/lambda_schedule.h"

namespace gapscope {

struct TrainRow {
  int64_t iteration = 0;  // 1-based: the row of the iteration that just finished
  double loss = 0, dsm = 0, fp = 0, bc = 0;
  double lambda = 0, lr = 0;
  double seconds = 0;  // wall time of training so far
  // Residual statistics over the collocation box, on the iterations where they were computed (else NaN).
  double res_mean_sq = NAN, res_mean_abs = NAN, res_max_abs = NAN;
  // Mean |R| per time slice (kResidualSlices equal slices of [eps, T]); empty when not computed.
  std::vector<double> res_slice_abs;
};
constexpr int kResidualSlices = 10;

class History {
 public:
  void append(const TrainRow& r);
  std::vector<TrainRow> rows(std::size_t from = 0) const;  // a copy: readers never hold the lock
  std::size_t size() const;
  void clear();
  void write_csv(const std::string& path) const;
  static std::vector<TrainRow> read_csv(const std::string& path);
  void assign(std::vector<TrainRow> rows);

 private:
  mutable std::mutex m_;
  std::vector<TrainRow> rows_;
};

// lr holds the lr in force: the trainer writes the stage's rate at every stage boundary
// of lr_schedule; a value written from outside overrides it until the next boundary.
struct Knobs {
  std::atomic<double> lambda{0.0};
  std::atomic<double> lr{1e-3};
  std::atomic<bool> paused{false};
  std::atomic<bool> stop{false};
};

struct Progress {
  TrainRow row;
  int64_t target = 0;  // iteration the run goes to
  double it_per_s = 0, eta_s = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

class Trainer {
 public:
  explicit Trainer(const Config& c);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  const Config& config() const;
  Knobs& knobs() { return knobs_; }
  History& history() { return history_; }
  const History& history() const { return history_; }
  int64_t iteration() const { return iteration_.load(); }

  // λ from given iterations on: (it, λ) sets the knob before the 0-based iteration `it`
  // runs (entries at or before the current iteration apply at the next step). Sorted here.
  void set_lambda_schedule(LambdaSchedule s);

  TrainRow step();  // one iteration, on the calling thread
  // Runs until `until` iterations are done or knobs().stop is set; honours pause.
  // The progress callback is called every `every` iterations and at the end.
  void run(int64_t until, const ProgressFn& progress = {}, int every = 100);

  // Background thread for the GUI. start() returns at once; stop() joins.
  void start(int64_t until, ProgressFn progress = {}, int every = 100);
  void stop();
  bool running() const { return running_.load(); }
  // Why the background run ended early ("" if it did not fail), e.g. divergence.
  std::string last_error() const;
  // What load() had to assume for a checkpoint written by an older gapscope ("" if nothing).
  const std::string& load_notice() const { return load_notice_; }

  SnapshotPtr snapshot() const;  // newest published weights

  // Weights made elsewhere (an imported PyTorch network): copied into the network, whose
  // config must describe the same architecture (the config's prior offset stays the
  // config's), and training moves to the snapshot's iteration with a fresh Adam at that
  // iteration's lr stage and an empty history.
  void load_weights(const WeightSnapshot& w);
  // Where the weights came from when they were not trained from this config's seed
  // ("" when they were); state.json keeps it across save and load.
  const std::string& origin() const { return origin_; }
  void set_origin(std::string o) { origin_ = std::move(o); }

  // Exact checkpoints: model, optimiser state, RNG state, config, history. save() writes
  // a sibling folder and swaps it in, so the path holds a whole checkpoint at every
  // instant; it refuses a path that holds anything but a gapscope checkpoint (or an empty
  // folder). Both recover what an interrupted save left (recover_checkpoint); save
  // returns that notice ("" normally), load keeps it in load_notice().
  std::string save(const std::string& dir) const;
  static std::unique_ptr<Trainer> load(const std::string& dir);
  // Throws, naming the path, when save(dir) would refuse it: call before long work.
  static void check_save_target(const std::string& dir);
  // Restores dir from a complete sibling left by a killed save when dir is missing and
  // removes the other leftovers; returns a one-line notice of what it did ("" if nothing).
  static std::string recover_checkpoint(const std::string& dir);
  // Tests only: called with each file name before it is written, and with "install"
  // before the swap; throwing there simulates a failed write. Empty: no fault.
  static void set_save_fault_for_testing(std::function<void(const std::string& stage)> fault);

  struct Impl;  // the torch-side state (network, optimiser, RNG), defined in train_state.h

 private:
  void publish();
  std::unique_ptr<Impl> impl_;
  Knobs knobs_;
  History history_;
  std::atomic<int64_t> iteration_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
  mutable std::mutex snap_m_;  // guards only the shared_ptr swap
  SnapshotPtr snap_;
  uint64_t version_ = 0;
  mutable std::mutex step_m_;  // one step at a time (GUI "step" while paused)
  mutable std::mutex err_m_;
  std::string last_error_;
  LambdaSchedule lambda_schedule_;
  std::size_t schedule_next_ = 0;
  std::string load_notice_;
  std::string origin_;
};

}  // namespace gapscope

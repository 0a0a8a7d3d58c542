// gapscope-cli train --config FILE [--set key=value]... --out DIR
#include <ATen/Parallel.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "core/config.h"
#include "progress.h"
#include "train/lambda_schedule.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct TrainArgs {
  std::string config, out, resume, lambda_schedule;
  std::vector<std::string> sets;
  int64_t iterations = -1;
  int64_t seed = -1;
  int threads = 2;
  int every = 0;
  int64_t save_every = 0;  // iterations; 0: every kSaveSeconds of wall time
};

constexpr double kSaveSeconds = 300;

// SIGINT/SIGTERM ask the trainer to stop after the current iteration (a lock-free atomic
// store is async-signal-safe); the run then saves and exits 128 + signal. A second
// signal kills at once.
std::atomic<bool>* g_stop = nullptr;
volatile sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) {
  g_signal = sig;
  if (g_stop) g_stop->store(true);
  ::signal(sig, SIG_DFL);
}

void run_train(const TrainArgs& a) {
  at::set_num_threads(a.threads);
  Trainer::check_save_target(a.out);  // before the work, not after it
  const LambdaSchedule schedule = parse_lambda_schedule(a.lambda_schedule);  // bad entries fail before any work
  std::unique_ptr<Trainer> tr;
  if (!a.resume.empty()) {
    tr = Trainer::load(a.resume);
    if (!tr->load_notice().empty()) std::cerr << "note: " << tr->load_notice() << "\n";
    if (!a.sets.empty() || a.seed >= 0 || !a.config.empty())
      throw std::invalid_argument("--resume: the checkpoint's config is used; drop --config/--set/--seed");
  } else {
    Config c = a.config.empty() ? Config{} : load_config(a.config);
    apply_overrides(c, a.sets);
    if (a.iterations >= 0) c.iterations = a.iterations;
    if (a.seed >= 0) c.seed = static_cast<uint64_t>(a.seed);
    c.validate();
    tr = std::make_unique<Trainer>(c);
  }
  if (!schedule.empty()) tr->set_lambda_schedule(schedule);
  const int64_t until = a.iterations >= 0 && !a.resume.empty() ? tr->iteration() + a.iterations
                                                                 : tr->config().iterations;
  ProgressLine line("train");
  const int every = a.every > 0 ? a.every : std::max(1, tr->config().log_every);
  // Long runs keep their work: a save every save_every iterations (or kSaveSeconds).
  using Clock = std::chrono::steady_clock;
  auto last_save_t = Clock::now();
  int64_t saved_at = -1;
  auto save = [&] {
    const std::string notice = tr->save(a.out);
    if (!notice.empty()) line.finish(), std::cerr << "note: " << notice << "\n";
    saved_at = tr->iteration();
    last_save_t = Clock::now();
  };
  g_stop = &tr->knobs().stop;
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);
  // The latest residual statistics (every residual_stats_every iterations) ride along
  // on the progress line: mean |R| over the box and its range over the time slices.
  std::size_t seen = tr->history().size();
  TrainRow stats;
  auto on_iteration = [&](const Progress& p) {
    const bool due = a.save_every > 0 ? p.row.iteration % a.save_every == 0
                                      : std::chrono::duration<double>(Clock::now() - last_save_t).count() >= kSaveSeconds;
    if (due && p.row.iteration < until) save();
    if (p.row.iteration % every != 0 && p.row.iteration != until) return;
    for (const auto& r : tr->history().rows(seen))
      if (!r.res_slice_abs.empty()) stats = r;
    seen = tr->history().size();
    char buf[320];
    int k = std::snprintf(buf, sizeof buf, "loss %.4g (dsm %.4g fp %.3g bc %.3g) lambda %g lr %.0e", p.row.loss,
                          p.row.dsm, p.row.fp, p.row.bc, p.row.lambda, p.row.lr);
    if (!stats.res_slice_abs.empty()) {
      const auto [lo, hi] = std::minmax_element(stats.res_slice_abs.begin(), stats.res_slice_abs.end());
      std::snprintf(buf + k, sizeof buf - k, "  |R| %.3g (t-slices %.3g..%.3g, it %lld)", stats.res_mean_abs, *lo, *hi,
                    static_cast<long long>(stats.iteration));
    }
    line.update(p.row.iteration, p.target, p.it_per_s, p.eta_s, buf);
  };
  try {
    tr->run(until, on_iteration, 1);
  } catch (const std::runtime_error& e) {  // divergence: the last save is the last good state
    line.finish();
    g_stop = nullptr;
    throw std::runtime_error(std::string(e.what()) + "; " +
                             (saved_at >= 0 ? a.out + " holds iteration " + std::to_string(saved_at) + " (the last save)"
                                            : "nothing saved (no save was due yet; see --save-every)"));
  }
  line.finish();
  save();
  g_stop = nullptr;
  if (g_signal) {
    std::cerr << "interrupted (signal " << g_signal << "): saved checkpoint " << a.out << " at iteration "
              << tr->iteration() << "\n";
    std::exit(128 + g_signal);
  }
  std::cerr << "saved checkpoint " << a.out << " at iteration " << tr->iteration() << "\n";
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<TrainArgs>();
  auto* c = root.add_subcommand("train", "train a score model; writes a checkpoint directory");
  c->add_option("--config", a->config, "experiment JSON (defaults: the paper's circles2 setting)")->check(CLI::ExistingFile);
  c->add_option("--set", a->sets, "override a config key, key=value (repeatable)");
  c->add_option("--out", a->out, "checkpoint directory to write")->required();
  c->add_option("--iterations", a->iterations, "iterations (with --resume: additional iterations)");
  c->add_option("--seed", a->seed, "random seed");
  c->add_option("--resume", a->resume, "continue training from this checkpoint directory");
  c->add_option("--lambda-schedule", a->lambda_schedule,
                 "set lambda from given iterations on: \"it:lambda,it:lambda,...\" (0-based, e.g. \"0:0,1500:1\")");
  c->add_option("--threads", a->threads, "CPU threads for LibTorch")->check(CLI::Range(1, 256));
  c->add_option("--progress-every", a->every, "progress line every N iterations (default: log_every)");
  c->add_option("--save-every", a->save_every,
                "also save the checkpoint every K iterations (default: every 5 minutes); SIGINT/SIGTERM save too")
      ->check(CLI::NonNegativeNumber);
  c->callback([a] { run_train(*a); });
});

}  // namespace
}  // namespace gapscope::cli

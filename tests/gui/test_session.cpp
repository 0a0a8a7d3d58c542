// The lab's session without a window: run control, the λ knob and schedule, config and
// checkpoint errors, checkpoint round trips, exports, and the sampling worker's W2 rows;
// and the command-line checks that stop the lab before it opens a window.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "options.h"
#include "session.h"
#include "session_fixture.h"
#include "study/residual_gap.h"
#include "threads.h"

namespace fs = std::filesystem;
using namespace gapscope;
using namespace gapscope::gui;
using namespace gapscope::gui::fixture;

namespace {

// Polls the session until cond holds or `seconds` pass.
bool eventually(Session& s, const std::function<bool()>& cond, double seconds = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    s.poll();
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

bool logged(const Session& s, const std::string& part) {
  return std::any_of(s.log().begin(), s.log().end(), [&](const Message& m) { return m.text.find(part) != std::string::npos; });
}

std::size_t lines(const fs::path& p) {
  std::ifstream f(p);
  return static_cast<std::size_t>(std::count(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>(), '\n'));
}

}  // namespace

TEST(Session, StartPauseStepAndReset) {
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  EXPECT_TRUE(s.paused());
  EXPECT_EQ(s.iteration(), 0);
  steps(s, 1);
  EXPECT_EQ(s.iteration(), 1);
  ASSERT_EQ(s.history().size(), 1u);
  EXPECT_EQ(s.history()[0].iteration, 1);

  s.set_paused(false);
  EXPECT_TRUE(eventually(s, [&] { return s.iteration() >= 6; }));
  EXPECT_EQ(s.state(), RunState::Training);
  s.set_paused(true);
  EXPECT_EQ(s.state(), RunState::Paused);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the iteration in flight ends
  const int64_t held = s.iteration();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(s.iteration(), held);

  const uint64_t g = s.generation();
  Config c = s.config();
  c.dataset = "moons";
  EXPECT_EQ(s.reset(c), "");
  EXPECT_EQ(s.generation(), g + 1);
  EXPECT_EQ(s.config().dataset, "moons");
  EXPECT_EQ(s.iteration(), 0);
  EXPECT_TRUE(s.history().empty());
  EXPECT_TRUE(s.paused()) << "a reset keeps the run paused";
}

TEST(Session, LambdaKnobReachesTheTrainer) {
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  s.set_lambda(3.5);
  EXPECT_DOUBLE_EQ(s.lambda(), 3.5);
  steps(s, 1);
  ASSERT_EQ(s.history().size(), 1u);
  EXPECT_DOUBLE_EQ(s.history().back().lambda, 3.5);
  s.set_lambda(-1);
  EXPECT_DOUBLE_EQ(s.lambda(), 0.0);
  s.set_lr(5e-4);
  EXPECT_DOUBLE_EQ(s.lr(), 5e-4);
  // A reset carries the λ in force to the new network.
  s.set_lambda(0.75);
  ASSERT_EQ(s.reset(s.config()), "");
  EXPECT_DOUBLE_EQ(s.lambda(), 0.75);
}

TEST(Session, LambdaScheduleAppliesAtItsIteration) {
  SessionOptions o = tiny();
  o.config.lambda = 1.0;
  o.lambda_schedule = {{3, 2.0}, {0, 0.0}};
  Session s(o);
  ASSERT_TRUE(s.ready()) << s.last_error();
  steps(s, 5);
  const auto& rows = s.history();
  ASSERT_EQ(rows.size(), 5u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(rows[k].lambda, 0.0) << "row " << k;
  for (std::size_t k = 3; k < 5; ++k) EXPECT_DOUBLE_EQ(rows[k].lambda, 2.0) << "row " << k;
  EXPECT_TRUE(logged(s, "schedule: λ = 2 from iteration 3"));
}

TEST(Session, BadConfigIsAnErrorAndTheSessionStays) {
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  steps(s, 2);
  const uint64_t g = s.generation();
  for (const char* bad : {"no_such_key=1", "hidden=-3", "dataset=nowhere"}) {
    const std::string err = s.reset(s.config(), bad);
    EXPECT_TRUE(one_line(err)) << bad << ": '" << err << "'";
    EXPECT_EQ(s.last_error(), err);
    EXPECT_EQ(s.generation(), g) << bad;
    EXPECT_EQ(s.iteration(), 2) << bad;
  }
  EXPECT_NE(s.reset(s.config(), "no_such_key=1").find("no_such_key"), std::string::npos);
  // The session goes on.
  steps(s, 1);
  EXPECT_EQ(s.iteration(), 3);
}

TEST(Session, MissingOrGarbageCheckpointIsAOneLineError) {
  const fs::path dir = temp_dir("garbage");
  const fs::path garbage = dir / "ckpt";
  fs::create_directories(garbage);
  for (const char* f : {"config.json", "model.pt", "optimizer.pt", "history.csv", "state.json"})
    std::ofstream(garbage / f) << "not a checkpoint\n";
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  steps(s, 1);
  const uint64_t g = s.generation();
  for (const fs::path& p : {dir / "missing", garbage}) {
    s.load_checkpoint(p.string());
    s.wait_jobs();
    EXPECT_TRUE(one_line(s.last_error())) << s.last_error();
    EXPECT_NE(s.last_error().find(p.string()), std::string::npos) << s.last_error();
    EXPECT_EQ(s.generation(), g);
    EXPECT_EQ(s.iteration(), 1);
  }
  // At start: no session, and the reason in one line.
  SessionOptions o = tiny();
  o.checkpoint = garbage.string();
  Session bad(o);
  EXPECT_FALSE(bad.ready());
  EXPECT_TRUE(one_line(bad.last_error())) << bad.last_error();
  fs::remove_all(dir);
}

TEST(Session, CheckpointSaveLoadRoundTrip) {
  const fs::path dir = temp_dir("ckpt");
  const std::string ckpt = (dir / "checkpoint").string();
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  s.set_lambda(0.25);
  steps(s, 3);
  s.save_checkpoint(ckpt);
  s.wait_jobs();
  EXPECT_TRUE(s.last_error().empty()) << s.last_error();
  for (const char* f : {"state.json", "model.pt", "history.csv", "gui_w2.csv"}) EXPECT_TRUE(fs::exists(dir / "checkpoint" / f)) << f;
  EXPECT_TRUE(logged(s, "saved checkpoint " + ckpt + " at iteration 3"));

  // Resumed at start.
  SessionOptions o = tiny();
  o.checkpoint = ckpt;
  Session r(o);
  ASSERT_TRUE(r.ready()) << r.last_error();
  EXPECT_EQ(r.iteration(), 3);
  EXPECT_DOUBLE_EQ(r.lambda(), 0.25);
  EXPECT_EQ(r.history().size(), 3u);

  // Loaded into a running session, replacing a new network.
  ASSERT_EQ(s.reset(s.config()), "");
  const uint64_t g = s.generation();
  s.load_checkpoint(ckpt);
  s.wait_jobs();
  EXPECT_EQ(s.generation(), g + 1);
  EXPECT_EQ(s.iteration(), 3);
  EXPECT_EQ(s.history().size(), 3u);
  EXPECT_DOUBLE_EQ(s.lambda(), 0.25);
  fs::remove_all(dir);
}

// A PyTorch network opened in the lab: shown paused (its passes and W2 come without any
// training), then fine-tuned by Start; the same through the import job of a running
// session; a file that is not a network is one line and the session stays.
TEST(Session, ImportedNetworkIsShownPausedThenFineTunes) {
  const std::string torch_dir = std::string(GAPSCOPE_SOURCE_DIR) + "/tests/fixtures/torch/";
  SessionOptions o = tiny(/*start_training=*/true);
  o.import_file = torch_dir + "wrapped_model.pt";  // says iteration 77
  Session s(o);
  ASSERT_TRUE(s.ready()) << s.last_error();
  EXPECT_TRUE(s.paused());
  EXPECT_EQ(s.iteration(), 77);
  EXPECT_TRUE(logged(s, "imported " + o.import_file));
  ASSERT_TRUE(eventually(s, [&] { return !s.w2()->empty(); })) << s.worker().error();
  EXPECT_EQ(s.w2()->front().iteration, 77);
  EXPECT_EQ(s.iteration(), 77);  // nothing trained to get there
  s.set_paused(false);
  ASSERT_TRUE(eventually(s, [&] { return s.iteration() > 78; }));

  Session r(tiny());
  ASSERT_TRUE(r.ready());
  const uint64_t g = r.generation();
  r.import_network(torch_dir + "bad_not_torch.pt");
  r.wait_jobs();
  EXPECT_TRUE(one_line(r.last_error())) << r.last_error();
  EXPECT_NE(r.last_error().find("bad_not_torch.pt"), std::string::npos) << r.last_error();
  EXPECT_EQ(r.generation(), g);
  r.import_network(torch_dir + "module_potential.pt");
  r.wait_jobs();
  EXPECT_EQ(r.generation(), g + 1);
  EXPECT_TRUE(r.paused());
  EXPECT_EQ(r.iteration(), 0);
  EXPECT_NE(r.config().hidden, 16);  // the file's architecture, not the running session's
}

TEST(Session, FinishedPassYieldsAW2Row) {
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  ASSERT_TRUE(eventually(s, [&] { return !s.w2()->empty(); })) << s.worker().error();
  const W2Row& w = s.w2()->front();
  EXPECT_EQ(w.iteration, 0);
  EXPECT_GE(w.ode_sde, 0.0);
  EXPECT_GT(w.ode_data, 0.0);
  EXPECT_GT(w.sde_data, 0.0);
  EXPECT_GE(w.outside_ode, 0.0);
  EXPECT_LE(w.outside_ode, 1.0);
  ASSERT_TRUE(s.worker().last_complete());
  EXPECT_TRUE(s.worker().last_complete()->complete);
}

TEST(Session, ExportsAreWrittenWhereAsked) {
  const fs::path dir = temp_dir("export");
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  steps(s, 2);
  ASSERT_TRUE(eventually(s, [&] { return !s.w2()->empty(); })) << s.worker().error();
  const fs::path tables = dir / "a" / "b", figures = dir / "figures";
  s.export_table(tables.string(), Table::History);
  s.export_table(tables.string(), Table::Particles);
  s.export_figure(figures.string(), Figure::W2);
  s.export_figure(figures.string(), Figure::Losses);
  s.export_figure(figures.string(), Figure::Particles);
  s.wait_jobs();
  EXPECT_TRUE(s.last_error().empty()) << s.last_error();
  EXPECT_EQ(lines(tables / "history.csv"), 3u);  // header + two iterations
  EXPECT_GE(lines(tables / "w2.csv"), 2u);
  for (const char* f : {"ode.csv", "sde.csv", "data.csv"}) EXPECT_EQ(lines(tables / f), 65u) << f;  // header + 64 points
  for (const char* f : {"w2.svg", "losses.svg", "particles.svg", "w2.png", "losses.pdf", "particles.pdf"}) EXPECT_GT(fs::file_size(figures / f), 100u) << f;
  EXPECT_TRUE(logged(s, "wrote " + (tables / "history.csv").string()));

  // A folder that cannot be made: an error in the log, nothing thrown.
  const fs::path file = dir / "a-file";
  std::ofstream(file) << "x";
  s.export_table((file / "below").string(), Table::History);
  s.wait_jobs();
  EXPECT_TRUE(one_line(s.last_error())) << s.last_error();
  EXPECT_NE(s.last_error().find("CSV history"), std::string::npos) << s.last_error();
  fs::remove_all(dir);
}

namespace {

struct Parsed {
  std::optional<int> rc;
  LabOptions opt;
  std::string err;
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "gapscope");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  Parsed p;
  testing::internal::CaptureStderr();
  p.rc = parse_options(static_cast<int>(argv.size()), argv.data(), p.opt);
  p.err = testing::internal::GetCapturedStderr();
  return p;
}

}  // namespace

TEST(SessionOptions, CommandLineBuildsTheSession) {
  const Parsed p = parse({"--lambda", "0.5", "--set", "hidden=32", "--lambda-schedule", "0:0,10:1", "--paused",
                          "--frames", "12"});
  ASSERT_FALSE(p.rc) << p.err;
  EXPECT_DOUBLE_EQ(p.opt.session.config.lambda, 0.5);
  EXPECT_EQ(p.opt.session.config.hidden, 32);
  EXPECT_EQ(p.opt.session.config.batch_dsm, kLabBatchDsm);
  EXPECT_TRUE(p.opt.session.config.potential_prior);
  EXPECT_FALSE(p.opt.session.start_training);
  EXPECT_EQ(p.opt.session.lambda_schedule.size(), 2u);
  EXPECT_EQ(p.opt.frames, 12);
}

TEST(SessionOptions, BadArgumentsStopWithOneLine) {
  const fs::path dir = temp_dir("options");
  const fs::path file = dir / "a-file";
  std::ofstream(file) << "x";
  const std::vector<std::vector<std::string>> bad = {
      {"--set", "no_such_key=1"},
      {"--set", "hidden=-3"},
      {"--config", (dir / "missing.json").string()},
      {"--config", file.string()},
      {"--checkpoint", (dir / "missing").string()},
      {"--export-all", file.string()},
      {"--export-all", (file / "below").string()},
      {"--screenshot", dir.string()},
      {"--frames", "-1"},
      {"--fps", "0"},
      {"--fps", "nan"},
      {"--import", (dir / "missing.pt").string()},
      {"--import", dir.string()},
      {"--lambda-schedule", "x:1"},
      {"--no-such-option"},
  };
  for (const auto& args : bad) {
    const Parsed p = parse(args);
    ASSERT_TRUE(p.rc) << args[0];
    EXPECT_NE(*p.rc, 0) << args[0];
    EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << args[0] << ":\n" << p.err;
    EXPECT_EQ(p.err.rfind("gapscope: ", 0), 0u) << p.err;
  }
  fs::remove_all(dir);
}

// The residual panel's studies run as jobs on the weights of the moment, are kept across
// a reset (a new run), and export their tables and figures.
TEST(Session, DensityAndSweepStudiesAreKeptAndExported) {
  Session s(tiny());
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s.density(), nullptr);
  DensityRequest r;
  r.grid = 8;
  r.t = 0.5;
  r.kde_n = 500;
  s.compute_density(r);
  SweepOptions o;
  o.steps = {2, 4};
  o.n = 100;
  s.sweep_steps(o);
  s.wait_jobs();
  ASSERT_NE(s.density(), nullptr);
  EXPECT_EQ(s.density()->log_p_ode.size(), 64u);
  ASSERT_NE(s.sweep(), nullptr);
  EXPECT_EQ(s.sweep()->size(), 2u);
  EXPECT_EQ(s.reset(s.config()), "");
  s.wait_jobs();
  EXPECT_NE(s.density(), nullptr);
  const auto dir = temp_dir("studies");
  s.export_studies(dir.string());
  s.wait_jobs();
  for (const char* f : {"density.csv", "density.png", "density.pdf", "sweep.csv", "sweep.svg"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
}

// The residual–gap plot's points: every finished pass adds one, with the residual of the
// weights it sampled with; λ changes and new runs keep the earlier points, each run its
// own source; Export writes the points (appended) and the residual over training.
TEST(Session, FinishedPassesFeedTheResidualGapPlotAcrossLambdaAndRuns) {
  SessionOptions o = tiny();
  o.config.residual_stats_every = 1;  // the history's slice columns, for residual_history
  Session s(o);
  ASSERT_TRUE(s.ready()) << s.last_error();
  ASSERT_TRUE(eventually(s, [&] { return !s.gap_points()->empty(); })) << s.worker().error();
  {
    const ResidualGapPoint p = s.gap_points()->front();
    EXPECT_EQ(p.source, "run 1: " + s.config().dataset);
    EXPECT_EQ(p.iteration, 0);
    EXPECT_DOUBLE_EQ(p.lambda, s.lambda());
    EXPECT_TRUE(std::isfinite(p.res_mean_sq) && p.res_mean_sq > 0) << p.res_mean_sq;
    EXPECT_TRUE(std::isfinite(p.res_time_weighted) && p.res_time_weighted > 0) << p.res_time_weighted;
    ASSERT_FALSE(s.w2()->empty());
    EXPECT_DOUBLE_EQ(p.w2_ode_sde, s.w2()->front().ode_sde);  // the same pass
  }
  // A λ change: the points before it stay, the next ones carry the new λ.
  steps(s, 2);
  s.set_lambda(2.5);
  const std::size_t before = s.gap_points()->size();
  ASSERT_TRUE(eventually(s, [&] { return s.gap_points()->size() >= before + 2; })) << s.worker().error();
  const auto after_lambda = s.gap_points();
  EXPECT_DOUBLE_EQ(after_lambda->back().lambda, 2.5);
  EXPECT_DOUBLE_EQ(after_lambda->front().lambda, o.config.lambda);
  // A new run (reset): the W2 plot starts over, the residual–gap points do not.
  EXPECT_EQ(s.reset(s.config()), "");
  s.wait_jobs();
  const std::size_t kept = s.gap_points()->size();
  EXPECT_GE(kept, after_lambda->size());
  ASSERT_TRUE(eventually(s, [&] { return s.gap_points()->size() > kept; })) << s.worker().error();
  const auto all = s.gap_points();
  EXPECT_EQ(all->back().source, "run 2: " + s.config().dataset);
  for (std::size_t i = 0; i < after_lambda->size(); ++i) EXPECT_TRUE((*all)[i] == (*after_lambda)[i]) << i;
  // Export: the CSV holds every point, a second export of the same points adds nothing.
  steps(s, 2);
  const auto dir = temp_dir("gap");
  s.export_gap(dir.string());
  s.wait_jobs();
  EXPECT_TRUE(s.last_error().empty()) << s.last_error();
  const std::size_t n1 = read_residual_gap_csv((dir / "residual_gap.csv").string()).size();
  EXPECT_GE(n1, all->size());
  s.export_gap(dir.string());
  s.wait_jobs();
  const auto again = read_residual_gap_csv((dir / "residual_gap.csv").string());
  EXPECT_GE(again.size(), n1);  // only the passes finished in between are new
  // No point twice beyond what the session holds: passes of the same paused weights can
  // legitimately give equal points, a second export of one pass must not.
  const auto now = s.gap_points();
  for (const auto& p : again) {
    const auto in_file = std::count(again.begin(), again.end(), p);
    const auto in_session = std::count(now->begin(), now->end(), p);
    EXPECT_LE(in_file, in_session) << p.source << " iteration " << p.iteration;
  }
  for (const char* f : {"residual_gap.png", "residual_gap.svg", "residual_gap.pdf", "residual_history.png",
                        "residual_history.csv", "residual_history.pdf"})
    EXPECT_GT(fs::file_size(dir / f), 100u) << f;
  EXPECT_GT(lines(dir / "residual_history.csv"), 10u);  // 2 measured iterations x 10 slices, + header
  fs::remove_all(dir);
}

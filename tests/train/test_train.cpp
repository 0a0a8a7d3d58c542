#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "core/config.h"
#include "train/train.h"

using namespace gapscope;

namespace {
Config small_config() {
  Config c;
  c.hidden = 32;
  c.batch_dsm = 256;
  c.batch_collocation = 128;
  c.batch_boundary = 16;
  c.seed = 1;
  return c;
}

// The DSM loss of a batch is heavy-tailed (c = z / sigma at the smallest t): one step in
// a hundred reads 100x the others, so windows are compared by their medians, not means.
double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}
}  // namespace

TEST(Train, DsmLossDecreases) {
  Config c = small_config();
  c.dataset = "mixture1d";
  Trainer tr(c);
  std::vector<double> early, late;
  for (int i = 0; i < 300; ++i) {
    const double l = tr.step().dsm;
    if (i < 20) early.push_back(l);
    if (i >= 280) late.push_back(l);
  }
  EXPECT_LT(median(late), 0.8 * median(early));
}

// The score network trains through the fused kernels too: its DSM falls, lambda weights
// the residual, and a boundary weight adds nothing (a score network has no boundary term).
TEST(Train, ScoreModelTrains) {
  Config c = small_config();
  c.dataset = "mixture1d";
  c.model = "score";
  c.lambda = 0.1;
  c.boundary_weight = 0.5;
  Trainer tr(c);
  std::vector<double> early, late;
  for (int i = 0; i < 300; ++i) {
    const TrainRow r = tr.step();
    ASSERT_EQ(r.bc, 0.0);
    ASSERT_GT(r.fp, 0.0);
    ASSERT_DOUBLE_EQ(r.loss, r.dsm + 0.1 * r.fp);
    if (i < 20) early.push_back(r.dsm);
    if (i >= 280) late.push_back(r.dsm);
  }
  EXPECT_LT(median(late), 0.8 * median(early));
}

// A batch is drawn in chunks on all threads, each chunk from its own engine: the same
// seed draws the same batch on one thread and on two. The first step's losses are those
// of the batch at the initial weights; only the order of the per-thread partial sums
// differs. A batch that depended on the thread count would move them by percents.
TEST(Train, BatchDoesNotDependOnTheThreadCount) {
  Config c = small_config();
  c.batch_dsm = 5000;  // three chunks of the draw
  c.batch_collocation = 3000;
  c.lambda = 1;
  c.boundary_weight = 0.5;
  const int before = at::get_num_threads();
  std::vector<TrainRow> rows;
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    Trainer tr(c);
    rows.push_back(tr.step());
  }
  at::set_num_threads(before);
  for (auto part : {&TrainRow::dsm, &TrainRow::fp, &TrainRow::bc}) {
    ASSERT_GT(rows[0].*part, 0.0);
    EXPECT_NEAR(rows[1].*part, rows[0].*part, 1e-9 * rows[0].*part);
  }
}

TEST(Train, SameSeedSameRun) {
  Config c = small_config();
  Trainer a(c), b(c);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.step().loss, b.step().loss);
}

TEST(Train, LambdaKnobAppliesFromAnotherThreadAndIsRecorded) {
  Config c = small_config();
  Trainer tr(c);
  tr.knobs().paused = true;
  tr.start(1000000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(tr.iteration(), 0);  // paused before the first step
  tr.knobs().paused = false;
  while (tr.iteration() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  tr.knobs().lambda = 0.5;
  const int64_t switched = tr.iteration();
  while (tr.iteration() < switched + 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  tr.stop();
  EXPECT_FALSE(tr.running());
  auto rows = tr.history().rows();
  ASSERT_GE(rows.size(), 10u);
  EXPECT_EQ(rows.front().lambda, 0.0);
  EXPECT_EQ(rows.back().lambda, 0.5);
  EXPECT_GT(rows.back().fp, 0.0);  // the residual term is computed once lambda > 0
  EXPECT_EQ(rows.front().fp, 0.0);
  // every iteration has a row, in order
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].iteration, static_cast<int64_t>(i + 1));
}

TEST(Train, SnapshotsArePublishedAndImmutable) {
  Trainer tr(small_config());
  auto s0 = tr.snapshot();
  auto w0 = s0->weights;
  tr.step();
  auto s1 = tr.snapshot();
  EXPECT_GT(s1->version, s0->version);
  EXPECT_EQ(s1->iteration, 1);
  EXPECT_EQ(s0->weights, w0);  // the old snapshot did not change under the reader
  EXPECT_NE(s1->weights, w0);
}

TEST(Train, RunStopsAtTargetAndReportsProgress) {
  Trainer tr(small_config());
  int calls = 0;
  double rate = 0;
  tr.run(7, [&](const Progress& p) { ++calls, rate = p.it_per_s; }, 3);
  EXPECT_EQ(tr.iteration(), 7);
  EXPECT_EQ(calls, 3);  // at 3, 6 and the end
  EXPECT_GT(rate, 0);
}

// The history CSV keeps the per-t-slice residual statistics, and files written before
// they existed (11 columns) still load.
TEST(Train, HistoryCsvKeepsSliceStatistics) {
  Config c = small_config();
  c.lambda = 1.0;
  c.residual_stats_every = 2;
  Trainer tr(c);
  tr.run(4);
  const auto rows = tr.history().rows();
  ASSERT_EQ(rows[1].res_slice_abs.size(), static_cast<std::size_t>(kResidualSlices));
  const auto dir = std::filesystem::temp_directory_path() / ("gapscope-history-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "history.csv").string();
  tr.history().write_csv(path);
  const auto back = History::read_csv(path);
  ASSERT_EQ(back.size(), rows.size());
  EXPECT_TRUE(back[0].res_slice_abs.empty());
  EXPECT_EQ(back[1].res_slice_abs, rows[1].res_slice_abs);
  EXPECT_EQ(back[3].res_mean_abs, rows[3].res_mean_abs);

  std::ofstream(dir / "old.csv") << "iteration,loss,dsm,fp,bc,lambda,lr,seconds,res_mean_sq,res_mean_abs,res_max_abs\n"
                                 << "1,2,2,0,0,0,0.001,0.1,nan,nan,nan\n";
  EXPECT_EQ(History::read_csv((dir / "old.csv").string()).size(), 1u);
  std::ofstream(dir / "bad.csv") << "iteration,loss,dsm,fp,bc,lambda,lr,seconds,res_mean_sq,res_mean_abs,res_max_abs\n"
                                 << "1,2,2,0,0,0,0.001\n";
  try {
    History::read_csv((dir / "bad.csv").string());
    ADD_FAILURE() << "a short row must be rejected";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:2: expected 11 columns"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// A diverging run stops with a one-line error, and the weights it published stay finite
// (no optimiser step is taken on a non-finite loss or gradient).
TEST(Train, DivergenceStopsBeforeCorruptingWeights) {
  Config c = small_config();
  c.lambda = 1.0;
  c.lr_schedule = "constant";
  c.lr = 1e4;
  Trainer tr(c);
  try {
    for (int i = 0; i < 500; ++i) tr.step();
    ADD_FAILURE() << "lr = 1e4 should diverge";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("training diverged at iteration"), std::string::npos) << e.what();
  }
  auto s = tr.snapshot();
  for (auto& layer : s->weights)
    for (float v : layer) ASSERT_TRUE(std::isfinite(v));
}

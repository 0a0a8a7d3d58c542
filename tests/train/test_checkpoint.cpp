#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/snapshot.h"
#include "test_util.h"
#include "train/train.h"

using namespace gapscope;

namespace {
Config small_config() {
  Config c;
  c.hidden = 16;
  c.batch_dsm = 64;
  c.batch_collocation = 64;
  c.batch_boundary = 8;
  c.seed = 42;
  return c;
}
bool same_weights(const WeightSnapshot& a, const WeightSnapshot& b) {
  return a.weights == b.weights && a.biases == b.biases;
}
}  // namespace

TEST(Checkpoint, RoundTripIsBitIdenticalAndResumesExactly) {
  for (double lambda : {0.0, 1.0}) {
    Config c = small_config();
    c.lambda = lambda;
    Trainer straight(c);
    for (int i = 0; i < 30; ++i) straight.step();

    Trainer first(c);
    for (int i = 0; i < 15; ++i) first.step();
    auto dir = gapscope::testing::temp_dir("ckpt") / "run";
    first.save(dir.string());
    auto resumed = Trainer::load(dir.string());
    EXPECT_TRUE(same_weights(*resumed->snapshot(), *first.snapshot()));
    EXPECT_EQ(resumed->iteration(), 15);
    EXPECT_EQ(resumed->history().size(), 15u);
    EXPECT_DOUBLE_EQ(resumed->knobs().lambda.load(), lambda);

    // identical next step, then identical everything after
    TrainRow a = first.step(), b = resumed->step();
    EXPECT_EQ(a.loss, b.loss);
    for (int i = 0; i < 14; ++i) resumed->step();
    EXPECT_TRUE(same_weights(*resumed->snapshot(), *straight.snapshot())) << "lambda " << lambda;
  }
}

TEST(Checkpoint, SaveReplacesAtomicallyAndKeepsOldOnFailure) {
  Config c = small_config();
  Trainer tr(c);
  tr.step();
  auto root = gapscope::testing::temp_dir("ckpt");
  auto dir = root / "run";
  tr.save(dir.string());
  tr.step();
  tr.save(dir.string());  // overwrite in place
  EXPECT_EQ(Trainer::load(dir.string())->iteration(), 2);
  for (auto& e : std::filesystem::directory_iterator(root))
    EXPECT_EQ(e.path().filename(), "run") << "left-over temporary " << e.path();
  // A target whose parent is a file cannot be written: the error leaves the old checkpoint alone.
  std::ofstream(root / "file") << "x";
  EXPECT_ANY_THROW(tr.save((root / "file" / "sub").string()));
  EXPECT_EQ(Trainer::load(dir.string())->iteration(), 2);
}

TEST(Checkpoint, MissingPiecesAreNamed) {
  auto dir = gapscope::testing::temp_dir("ckpt");
  try {
    Trainer::load(dir.string());
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Trainer::load((dir / "nope").string()), std::runtime_error);
}

// The lr schedule across a checkpoint: saved mid-stage (iteration 15 of the stage [10, 36)
// of 40 iterations), resumed, and carried over the next stage boundary (a fresh Adam at 36),
// the run equals the uninterrupted one bit for bit.
TEST(Checkpoint, ResumeMidStageContinuesTheScheduleExactly) {
  Config c = small_config();
  c.lambda = 1.0;
  c.iterations = 40;
  Trainer straight(c);
  straight.run(40);
  Trainer first(c);
  first.run(15);
  auto dir = gapscope::testing::temp_dir("ckpt") / "run";
  first.save(dir.string());
  auto resumed = Trainer::load(dir.string());
  EXPECT_DOUBLE_EQ(resumed->knobs().lr.load(), 1e-4);
  EXPECT_TRUE(resumed->load_notice().empty()) << resumed->load_notice();
  resumed->run(40);
  EXPECT_TRUE(same_weights(*resumed->snapshot(), *straight.snapshot()));
  const auto rows = resumed->history().rows();
  ASSERT_EQ(rows.size(), 40u);
  EXPECT_DOUBLE_EQ(rows[35].lr, 1e-4);
  EXPECT_DOUBLE_EQ(rows[36].lr, 1e-5);
}

// A checkpoint written before lr_schedule / boundary_weight / lambda_change existed loads
// with the values it was trained with (constant lr, the boundary term weighted by its λ)
// and says so.
TEST(Checkpoint, OldCheckpointLoadsWithTheValuesItWasTrainedWith) {
  Config c = small_config();
  c.lambda = 0.5;
  c.lr_schedule = "constant";
  Trainer tr(c);
  tr.step();
  auto dir = gapscope::testing::temp_dir("ckpt") / "old";
  tr.save(dir.string());
  nlohmann::json j;
  {
    std::ifstream in(dir / "config.json");
    in >> j;
  }
  for (const char* k : {"lr_schedule", "boundary_weight", "lambda_change", "collocation", "terminal_weight",
                        "batch_terminal"})
    j.erase(k);
  std::ofstream(dir / "config.json") << j.dump(2);
  auto old = Trainer::load(dir.string());
  EXPECT_EQ(old->config().lr_schedule, "constant");
  EXPECT_DOUBLE_EQ(old->config().boundary_weight, 0.5);
  EXPECT_EQ(old->config().lambda_change, "keep");
  EXPECT_NE(old->load_notice().find("lr_schedule=constant"), std::string::npos) << old->load_notice();
  EXPECT_NE(old->load_notice().find("boundary_weight=0.5"), std::string::npos) << old->load_notice();
}

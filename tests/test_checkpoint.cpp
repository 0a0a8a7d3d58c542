#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "config.h"
#include "snapshot.h"
#include "test_util.h"
#include "train.h"

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

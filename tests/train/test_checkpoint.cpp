#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
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

using gapscope::testing::error_of;
using gapscope::testing::slurp;

TEST(Checkpoint, NeverReplacesWhatIsNotACheckpoint) {
  namespace fs = std::filesystem;
  Trainer tr(small_config());
  tr.step();
  const fs::path root = gapscope::testing::temp_dir("ckpt-refuse");
  // A folder of the user's own files.
  fs::create_directories(root / "mine");
  std::ofstream(root / "mine" / "thesis.tex") << "years of work";
  const std::string e1 = error_of([&] { tr.save((root / "mine").string()); });
  EXPECT_NE(e1.find("is not a gapscope checkpoint"), std::string::npos) << e1;
  EXPECT_EQ(e1.find('\n'), std::string::npos);
  EXPECT_EQ(slurp(root / "mine" / "thesis.tex"), "years of work");
  EXPECT_THROW(Trainer::check_save_target((root / "mine/").string()), std::runtime_error);
  // A regular file, and a symbolic link to a checkpoint.
  std::ofstream(root / "notes.txt") << "keep";
  EXPECT_NE(error_of([&] { tr.save((root / "notes.txt").string()); }), "");
  EXPECT_EQ(slurp(root / "notes.txt"), "keep");
  tr.save((root / "real").string());
  fs::create_directory_symlink(root / "real", root / "link");
  EXPECT_NE(error_of([&] { tr.save((root / "link").string()); }).find("symbolic link"), std::string::npos);
  EXPECT_TRUE(fs::is_symlink(root / "link"));
  // An empty folder and paths as shells write them are fine: trailing slash, ".", "..".
  fs::create_directories(root / "empty");
  EXPECT_NO_THROW(tr.save((root / "empty/").string()));
  EXPECT_EQ(Trainer::load((root / "empty").string())->iteration(), 1);
  EXPECT_NO_THROW(tr.save((root / "empty" / "." / ".." / "empty" / "").string()));
  EXPECT_NO_THROW(tr.save((root / "sp ace ünï").string()));
  EXPECT_EQ(Trainer::load((root / "sp ace ünï" / "").string())->iteration(), 1);
  for (const auto& e : fs::directory_iterator(root))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(Checkpoint, AFailureAtAnyFileOfTheSaveKeepsTheOldCheckpoint) {
  namespace fs = std::filesystem;
  Trainer tr(small_config());
  tr.step();
  const fs::path root = gapscope::testing::temp_dir("ckpt-fault");
  const fs::path dir = root / "run";
  tr.save(dir.string());
  tr.step();
  for (const char* stage : {"config.json", "model.pt", "optimizer.pt", "history.csv", "state.json", "install"}) {
    Trainer::set_save_fault_for_testing([stage](const std::string& s) {
      if (s == stage) throw std::runtime_error(std::string("injected: disk full at ") + stage);
    });
    const std::string e = error_of([&] { tr.save(dir.string()); });
    Trainer::set_save_fault_for_testing({});
    EXPECT_NE(e.find(stage), std::string::npos) << stage << ": " << e;
    EXPECT_EQ(Trainer::load(dir.string())->iteration(), 1) << stage;
    for (const auto& f : fs::directory_iterator(root))
      EXPECT_EQ(f.path().filename(), "run") << "after a fault at " << stage << ": " << f.path();
  }
  tr.save(dir.string());
  EXPECT_EQ(Trainer::load(dir.string())->iteration(), 2);
}

TEST(Checkpoint, WhatAKilledSaveLeftIsRecoveredWithANotice) {
  namespace fs = std::filesystem;
  Trainer tr(small_config());
  tr.step();
  const fs::path root = gapscope::testing::temp_dir("ckpt-recover");
  const fs::path dir = root / "run";
  // Killed between the two renames of a file system without RENAME_EXCHANGE: the path is
  // gone, the finished new checkpoint waits as run.tmp-PID, the previous one as run.old-PID
  // (999999999 is above any pid_max: that process is gone).
  tr.save((root / "run.old-999999999").string());
  tr.step();
  tr.save((root / "run.tmp-999999999").string());
  auto back = Trainer::load(dir.string());
  EXPECT_EQ(back->iteration(), 2);  // the newer, complete one
  EXPECT_NE(back->load_notice().find("restored from run.tmp-999999999"), std::string::npos) << back->load_notice();
  EXPECT_NE(back->load_notice().find("removed run.old-999999999"), std::string::npos) << back->load_notice();
  EXPECT_FALSE(fs::exists(root / "run.old-999999999"));
  // Killed while writing: an incomplete sibling beside a good checkpoint is removed by the next save.
  fs::create_directories(root / "run.tmp-999999998");
  std::ofstream(root / "run.tmp-999999998" / "config.json") << "{";
  const std::string notice = tr.save(dir.string());
  EXPECT_NE(notice.find("removed run.tmp-999999998"), std::string::npos) << notice;
  EXPECT_FALSE(fs::exists(root / "run.tmp-999999998"));
  // A sibling of a live process (this one's parent, say) is another save in progress: left alone.
  const fs::path live = root / ("run.tmp-" + std::to_string(::getppid()));
  fs::create_directories(live);
  EXPECT_EQ(Trainer::recover_checkpoint(dir.string()), "");
  EXPECT_TRUE(fs::exists(live));
}

TEST(Checkpoint, TruncatedOrForeignFilesAreOneLineNamingTheFile) {
  namespace fs = std::filesystem;
  Trainer tr(small_config());
  tr.step();
  const fs::path root = gapscope::testing::temp_dir("ckpt-corrupt");
  for (const char* file : {"model.pt", "optimizer.pt"})
    for (int mode = 0; mode < 2; ++mode) {
      const fs::path dir = root / (std::string(file) + std::to_string(mode));
      tr.save(dir.string());
      const auto size = fs::file_size(dir / file);
      if (mode == 0) {
        fs::resize_file(dir / file, size / 2);  // truncated
      } else {
        std::ofstream(dir / file, std::ios::trunc) << "not a torch archive at all";
      }
      const std::string e = error_of([&] { Trainer::load(dir.string()); });
      EXPECT_NE(e.find((dir / file).string()), std::string::npos) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
}

TEST(Checkpoint, StateJsonIsValidatedKeyByKey) {
  namespace fs = std::filesystem;
  Trainer tr(small_config());
  tr.step();
  const fs::path root = gapscope::testing::temp_dir("ckpt-state");
  const struct {
    const char* key;
    nlohmann::json value;
  } cases[] = {{"iteration", -5}, {"iteration", 1.5}, {"lambda", -1}, {"lr", 0}, {"seconds", "x"},
               {"rng", "1 2 3"},  {"rng", 7},         {"format", "other"}};
  int k = 0;
  for (const auto& c : cases) {
    const fs::path dir = root / std::to_string(k++);
    tr.save(dir.string());
    nlohmann::json st;
    std::ifstream(dir / "state.json") >> st;
    st[c.key] = c.value;
    std::ofstream(dir / "state.json", std::ios::trunc) << st.dump();
    const std::string e = error_of([&] { Trainer::load(dir.string()); });
    EXPECT_NE(e.find("state.json: key '" + std::string(c.key) + "'"), std::string::npos) << c.key << " " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos);
  }
}

// Mutated checkpoint files — each of the five in turn — either load or give one line
// naming the file; never a crash, a LibTorch backtrace or a resume from garbage state.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/config.h"
#include "test_util.h"
#include "train/train.h"

using namespace gapscope;
namespace fs = std::filesystem;

TEST(CheckpointFuzz, MutatedFilesLoadOrGiveOneLineNamingTheFile) {
  Config c;
  c.hidden = 8;
  c.batch_dsm = 32;
  c.batch_collocation = 32;
  Trainer tr(c);
  tr.step();
  tr.step();
  const fs::path root = gapscope::testing::temp_dir("fuzz-ckpt");
  const fs::path good = root / "good";
  tr.save(good.string());
  std::mt19937_64 rng(99);
  int loaded = 0, refused = 0;
  for (const char* file : {"config.json", "state.json", "history.csv", "model.pt", "optimizer.pt"}) {
    const std::string bytes = gapscope::testing::slurp(good / file);
    for (int i = 0; i < 60; ++i) {
      const fs::path dir = root / "m";
      fs::remove_all(dir);
      fs::copy(good, dir);
      std::string s = bytes;
      const std::size_t n = s.size();
      switch (i % 3) {
        case 0: s.resize(rng() % (n + 1)); break;
        case 1: for (int k = 0; k < 6; ++k) s[rng() % n] ^= static_cast<char>(1 << (rng() % 8)); break;
        default: for (int k = 0; k < 6; ++k) s[rng() % n] = static_cast<char>(rng() % 256);
      }
      { std::ofstream(dir / file, std::ios::binary | std::ios::trunc) << s; }
      try {
        auto back = Trainer::load(dir.string());
        ++loaded;
        EXPECT_GE(back->iteration(), 0);
      } catch (const std::exception& e) {
        ++refused;
        const std::string m = e.what();
        EXPECT_EQ(m.find('\n'), std::string::npos) << file << ": " << m.substr(0, 300);
        EXPECT_NE(m.find(dir.string()), std::string::npos) << file << ": " << m.substr(0, 300);
      }
    }
  }
  EXPECT_GT(refused, 0);
  std::printf("checkpoint fuzz: %d loaded, %d refused with one line\n", loaded, refused);
  fs::remove_all(root);
}

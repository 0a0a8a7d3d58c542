#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "points.h"
#include "test_util.h"

using gapscope::testing::run_cli;

namespace {
int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST(Cli, DataWritesCsvWithHeader) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto out = (dir / "d.csv").string();
  auto r = run_cli("data --dataset circles2 --n 100 --seed 3 --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  auto p = gapscope::read_points_csv(out);
  EXPECT_EQ(p.n(), 100u);
  std::ifstream in(out);
  std::string h;
  std::getline(in, h);
  EXPECT_EQ(h, "x,y");
}

TEST(Cli, TrainThenSampleBothMethods) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto ck = (dir / "ck").string();
  auto r = run_cli("train --set hidden=16 --set batch_dsm=128 --set residual_stats_every=10 --iterations 20 "
                   "--progress-every 10 --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("20/20"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ETA"), std::string::npos) << r.output;
  // the latest residual statistics ride along: mean |R| and the range over time slices
  EXPECT_NE(r.output.find("t-slices"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it 20)"), std::string::npos) << r.output;
  for (const char* m : {"ode", "sde"}) {
    auto out = (dir / (std::string(m) + ".csv")).string();
    r = run_cli(std::string("sample --checkpoint ") + ck + " --method " + m + " --n 50 --steps 20 --out " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    auto p = gapscope::read_points_csv(out);
    EXPECT_EQ(p.n(), 50u);
    for (float v : p.v) EXPECT_TRUE(std::isfinite(v));
  }
  // resume adds iterations on top of the checkpoint
  r = run_cli("train --resume " + ck + " --iterations 5 --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("iteration 25"), std::string::npos) << r.output;
}

TEST(Cli, BadInputGivesOneLineAndNonZeroExit) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto r = run_cli("train --set lamda=1 --out " + (dir / "x").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("unknown key 'lamda'"), std::string::npos) << r.output;

  r = run_cli("sample --checkpoint " + (dir / "none").string() + " --n 5 --out " + (dir / "o.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;

  auto bad = (dir / "bad.csv").string();
  std::ofstream(bad) << "x,y\n1,2\n1,oops\n";
  r = run_cli("data --dataset csv --set data_csv=" + bad + " --n 5 --out " + (dir / "o.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(bad + ":3"), std::string::npos) << r.output;
  EXPECT_EQ(lines(r.output), 1) << r.output;
}

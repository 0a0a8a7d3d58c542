// gapscope-cli import / export: a PyTorch file becomes a checkpoint the other commands use,
// a checkpoint goes back to a state_dict, and every refusal is one line naming the file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "train/train.h"

namespace fs = std::filesystem;
using gapscope::testing::run_cli;
using json = nlohmann::json;

namespace {

const std::string kDir = std::string(GAPSCOPE_FIXTURES) + "/torch/";
const std::string kPaper =
    std::string(GAPSCOPE_SOURCE_DIR) + "/../shared/fixtures/paper/circles2_net__FP_weight_1.0__iteration_100000";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

bool same_bits(const gapscope::WeightSnapshot& a, const gapscope::WeightSnapshot& b) {
  if (a.weights.size() != b.weights.size()) return false;
  for (std::size_t l = 0; l < a.weights.size(); ++l) {
    if (a.weights[l].size() != b.weights[l].size() || a.biases[l].size() != b.biases[l].size()) return false;
    if (std::memcmp(a.weights[l].data(), b.weights[l].data(), a.weights[l].size() * sizeof(float)) ||
        std::memcmp(a.biases[l].data(), b.biases[l].data(), a.biases[l].size() * sizeof(float)))
      return false;
  }
  return true;
}

}  // namespace

TEST(CliTorch, ImportWritesACheckpointThatEvalAndTrainUse) {
  const auto dir = gapscope::testing::temp_dir("cli-import");
  const std::string ck = (dir / "ck").string();
  auto r = run_cli("import " + kDir + "wrapped_model.pt --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("whole module fixture_nets.TinyPotential under 'model'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at iteration 77"), std::string::npos) << r.output;
  const json cfg = read_json(fs::path(ck) / "config.json");
  EXPECT_EQ(cfg["model"], "potential");
  EXPECT_EQ(cfg["hidden"], 8);
  EXPECT_EQ(cfg["layers"], 2);
  EXPECT_EQ(cfg["activation"], "softplus");
  EXPECT_EQ(cfg["softplus_beta"], 2.5);
  const json st = read_json(fs::path(ck) / "state.json");
  EXPECT_EQ(st["iteration"], 77);
  EXPECT_NE(st["origin"].get<std::string>().find("imported from " + fs::path(kDir + "wrapped_model.pt").lexically_normal().string()),
            std::string::npos)
      << st["origin"];
  std::ifstream hist(fs::path(ck) / "history.csv");
  std::string header, row;
  std::getline(hist, header);
  EXPECT_FALSE(std::getline(hist, row)) << "history should be empty, has: " << row;

  r = run_cli("eval --checkpoint " + ck + " --n 300 --steps 20 --exact-n 50 --residual-points 64 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  const json ev = json::parse(r.output);
  EXPECT_EQ(ev["iteration"], 77);
  EXPECT_NE(ev["origin"].get<std::string>().find("wrapped_model.pt"), std::string::npos);

  r = run_cli("train --resume " + ck + " --iterations 2 --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("iteration 79"), std::string::npos) << r.output;
  EXPECT_NE(read_json(fs::path(ck) / "state.json")["origin"].get<std::string>().find("wrapped_model.pt"),
            std::string::npos);  // fine-tuning keeps the record
}

TEST(CliTorch, ImportOfA1DNetworkAndOfAScoreNetwork) {
  const auto dir = gapscope::testing::temp_dir("cli-import-kinds");
  auto r = run_cli("import " + kDir + "potential_1d.pt --out " + (dir / "one").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: " + kDir + "potential_1d.pt: a 1-D network"), std::string::npos) << r.output;
  json cfg = read_json(dir / "one" / "config.json");
  EXPECT_EQ(cfg["dataset"], "mixture1d");
  EXPECT_EQ(cfg["activation"], "silu");
  r = run_cli("import " + kDir + "potential_1d.pt --set model=score --out " + (dir / "one_score").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
  EXPECT_EQ(read_json(dir / "one_score" / "config.json")["model"], "score");

  r = run_cli("import " + kDir + "score_sequential.pt --out " + (dir / "score").string());
  ASSERT_EQ(r.status, 0) << r.output;
  cfg = read_json(dir / "score" / "config.json");
  EXPECT_EQ(cfg["model"], "score");
  EXPECT_EQ(cfg["activation"], "tanh");
  EXPECT_EQ(cfg["layers"], 3);
  r = run_cli("sample --checkpoint " + (dir / "score").string() + " --method sde --n 20 --steps 10 --out " +
              (dir / "s.csv").string());
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(CliTorch, RefusalsAreOneLineNamingTheFile) {
  const auto dir = gapscope::testing::temp_dir("cli-import-bad");
  const std::string out = (dir / "ck").string();
  const std::string cfg = std::string(GAPSCOPE_SOURCE_DIR) + "/assets/experiments/circles2.json";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"import " + kDir + "bad_not_torch.pt --out " + out, kDir + "bad_not_torch.pt: not a torch archive"},
      {"import " + kDir + "bad_conv.pt --out " + out, "(Conv1d) cannot be mapped"},
      {"import " + kDir + "bad_uneven_width.pt --out " + out, "one hidden width"},
      {"import " + kDir + "module_potential.pt --config " + cfg + " --out " + out,
       "does not match --config " + cfg + ": hidden width 8"},
      {"import " + kDir + "module_potential.pt --set hidden=16 --out " + out, "hidden width 8 (--set: 16)"},
      {"import " + kDir + "module_potential.pt --set dataset=mixture1d --out " + out, "d = 2 (--set: 1)"},
      {"import " + kDir + "module_potential.pt --out " + kDir, "is not a gapscope checkpoint"},
  };
  for (const auto& [args, what] : cases) {
    const auto r = run_cli(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_EQ(lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(out));
  // a missing activation is a warning saying what was assumed, not an error
  const auto r = run_cli("import " + kDir + "state_dict.pt --out " + out);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: " + kDir + "state_dict.pt: the file names no activation; assumed Softplus(beta=100)"),
            std::string::npos)
      << r.output;
}

TEST(CliTorch, ExportThenImportGivesTheSameParameters) {
  const auto dir = gapscope::testing::temp_dir("cli-export");
  struct Case {
    std::string sets, first_key;
  };
  const std::vector<Case> cases = {
      {"--set hidden=12", "input.weight"},  // the authors' shape family: their names
      {"--set hidden=6 --set layers=2 --set activation=tanh", "layers.0.weight"},
      {"--set hidden=5 --set model=score", "layers.0.weight"},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const std::string ck = (dir / ("ck" + std::to_string(k))).string(), pt = ck + ".pt", back = ck + "-back";
    auto r = run_cli("train " + cases[k].sets + " --set batch_dsm=64 --set batch_collocation=32 --iterations 3 --out " + ck);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run_cli("export --checkpoint " + ck + " --out " + pt);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("export: " + cases[k].first_key), std::string::npos) << r.output;
    r = run_cli("import " + pt + " --config " + ck + "/config.json --out " + back);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;  // the config says what the state_dict cannot
    const auto a = gapscope::Trainer::load(ck), b = gapscope::Trainer::load(back);
    EXPECT_TRUE(same_bits(*a->snapshot(), *b->snapshot())) << cases[k].sets;
    EXPECT_EQ(b->iteration(), 0);  // a state_dict carries no iteration
  }
}

TEST(CliTorch, TheAuthorsNetworkImportsWithItsIterationAndLambda) {
  if (!fs::exists(kPaper)) GTEST_SKIP() << kPaper << " is absent";
  const auto dir = gapscope::testing::temp_dir("cli-paper");
  const std::string ck = (dir / "ck").string();
  auto r = run_cli("import " + kPaper + " --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  const json cfg = read_json(fs::path(ck) / "config.json");
  EXPECT_EQ(cfg["dataset"], "circles2");
  EXPECT_EQ(cfg["lambda"], 1.0);
  EXPECT_EQ(cfg["hidden"], 80);
  EXPECT_EQ(cfg["layers"], 3);
  EXPECT_EQ(cfg["softplus_beta"], 100.0);
  EXPECT_EQ(read_json(fs::path(ck) / "state.json")["iteration"], 100000);
  // and back to PyTorch under the authors' own names
  r = run_cli("export --checkpoint " + ck + " --out " + ck + ".pt");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("input.weight, input.bias, hidden1.weight"), std::string::npos) << r.output;
}

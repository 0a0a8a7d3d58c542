// gapscope-cli import / export: a PyTorch file becomes a checkpoint the other commands use,
// a checkpoint goes back to a state_dict, and every refusal is one line naming the file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>
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

// reproduce --networks: the authors' layout in, the table and the figure out, no training.
// A network exported by gapscope under the authors' name always runs; the authors' own
// file too where ../shared has it.
TEST(CliTorch, ReproduceFromTheAuthorsLayout) {
  const auto dir = gapscope::testing::temp_dir("cli-repro-nets");
  const fs::path nets = dir / "repo";
  const fs::path w01 = nets / "checkpoints" / "circles2" / "w0.1";
  fs::create_directories(w01);
  auto r = run_cli("train --config " + std::string(GAPSCOPE_SOURCE_DIR) +
                   "/assets/experiments/circles2.json --iterations 0 --out " + (dir / "ck").string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_cli("export --checkpoint " + (dir / "ck").string() + " --out " +
              (w01 / "circles2_net__FP_weight_0.1__iteration_12").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const bool paper = fs::exists(kPaper);
  if (paper) {
    fs::create_directories(nets / "checkpoints" / "circles2" / "w1.0");
    fs::copy_file(kPaper, nets / "checkpoints" / "circles2" / "w1.0" / fs::path(kPaper).filename());
  }
  const std::string out = (dir / "out").string();
  const std::string cmd = "reproduce --networks " + nets.string() + " --samples 3000 --steps 60 --out " + out;
  r = run_cli(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(fs::path(out) / "table.csv");
  std::string header, line;
  std::getline(in, header);
  EXPECT_NE(header.find(",metric,network"), std::string::npos) << header;
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), paper ? 2u : 1u);
  // The untrained export: iteration from its name, the table metric, N = 60 as asked.
  EXPECT_EQ(rows[0].rfind("circles2,0.1,", 0), 0u) << rows[0];
  EXPECT_NE(rows[0].find(",12,"), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find(",3000,64,3.5,60,"), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find(",table," + (w01 / "circles2_net__FP_weight_0.1__iteration_12").string()), std::string::npos)
      << rows[0];
  if (paper) {
    EXPECT_EQ(rows[1].rfind("circles2,1,", 0), 0u) << rows[1];
    EXPECT_NE(rows[1].find(",100000,"), std::string::npos) << rows[1];
    // A trained network is far closer to its data than an untrained one (W2(ODE, data)).
    std::vector<double> a, b;
    for (auto* row : {&rows[0], &rows[1]}) {
      std::stringstream ss(*row);
      std::vector<std::string> f;
      for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
      (row == &rows[0] ? a : b) = {std::stod(f[2]), std::stod(f[3]), std::stod(f[4])};
    }
    EXPECT_LT(b[1], 0.35) << rows[1];
    EXPECT_LT(b[1], a[1] / 2) << rows[0] << "\n" << rows[1];
  }
  EXPECT_TRUE(fs::exists(fs::path(out) / "figure.png"));
  EXPECT_NE(gapscope::testing::slurp(fs::path(out) / "table.md").find("the authors' PyTorch networks"),
            std::string::npos);
  // A rerun finds every cell finished.
  r = run_cli(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 cells ran"), std::string::npos) << r.output;

  // A network that is not the experiment's architecture: one line naming the file.
  const fs::path odd = dir / "odd" / "circles2_net__FP_weight_1__iteration_3";
  fs::create_directories(odd.parent_path());
  fs::copy_file(kDir + "module_potential.pt", odd);
  r = run_cli("reproduce --networks " + odd.parent_path().string() + " --samples 500 --out " + (dir / "o2").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(odd.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("circles2.json"), std::string::npos) << r.output;
}

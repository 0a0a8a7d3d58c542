// PyTorch files in and out: the fixtures scripts/make_torch_fixtures.py wrote with PyTorch
// import with exactly the parameters it recorded and give the scores PyTorch computed; the
// authors' network (when ../shared has it) gives PyTorch's scores; export -> import is
// bit-identical; bad and corrupted files give one-line errors, never a crash.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

#include "io/torch_export.h"
#include "io/torch_import.h"
#include "io/torch_pickle.h"
#include "nn/score_function.h"
#include "test_util.h"

namespace fs = std::filesystem;
using gapscope::Activation;
using gapscope::ModelSpec;
using gapscope::WeightSnapshot;
using json = nlohmann::json;

namespace {

const std::string kDir = std::string(GAPSCOPE_FIXTURES) + "/torch/";
const std::string kPaper =
    std::string(GAPSCOPE_SOURCE_DIR) + "/../shared/fixtures/paper/circles2_net__FP_weight_1.0__iteration_100000";

json expected() {
  std::ifstream in(kDir + "expected.json");
  return json::parse(in);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

void expect_scores(const WeightSnapshot& w, const json& cases, double tol) {
  gapscope::ScoreFunction f(std::make_shared<const WeightSnapshot>(w));
  for (const auto& c : cases) {
    const float t = c["t"].get<float>();
    std::vector<float> x = c["x"].get<std::vector<float>>(), s(x.size());
    f.score(1, &t, x.data(), s.data());
    const auto want = c["score"].get<std::vector<double>>();
    for (std::size_t k = 0; k < s.size(); ++k)
      EXPECT_NEAR(s[k], want[k], tol * (1 + std::abs(want[k]))) << "t = " << t << ", coordinate " << k;
  }
}

// The error of importing `path` ("" when it imports).
std::string import_error(const std::string& path, const gapscope::TorchImportExpect& ex = {}) {
  try {
    gapscope::import_torch(path, nullptr, ex);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

WeightSnapshot random_snapshot(ModelSpec s, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> n(0.f, 1.f);
  WeightSnapshot w;
  w.spec = s;
  for (int l = 0; l <= s.layers; ++l) {
    const int in = l == 0 ? s.in_dim() : s.hidden, out = l == s.layers ? s.out_dim() : s.hidden;
    w.weights.emplace_back(static_cast<std::size_t>(in * out));
    w.biases.emplace_back(static_cast<std::size_t>(out));
    for (auto& v : w.weights.back()) v = n(rng);
    for (auto& v : w.biases.back()) v = n(rng);
  }
  return w;
}

// The records of a torch archive, and an archive written from records (LibTorch's writer
// adds the version record).
std::map<std::string, std::string> records(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader r(path);
  std::map<std::string, std::string> out;
  for (const auto& name : r.getAllRecords()) {
    auto [data, size] = r.getRecord(name);
    out[name] = std::string(static_cast<const char*>(data.get()), size);
  }
  return out;
}

void rezip(const std::string& path, const std::map<std::string, std::string>& recs) {
  caffe2::serialize::PyTorchStreamWriter w(path);
  for (const auto& [name, bytes] : recs)
    if (name != "version" && name != ".data/version") w.writeRecord(name, bytes.data(), bytes.size());
  w.writeEndOfFile();
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t l = 0; l < a.size(); ++l)
    if (a[l].size() != b[l].size() || std::memcmp(a[l].data(), b[l].data(), a[l].size() * sizeof(float)) != 0) return false;
  return true;
}

}  // namespace

TEST(TorchImport, FixturesGiveTheParametersAndScoresPyTorchRecorded) {
  const json ex = expected();
  ASSERT_GE(ex["cases"].size(), 6u);
  for (const auto& c : ex["cases"]) {
    SCOPED_TRACE(c["file"].get<std::string>());
    gapscope::TorchImportReport rep;
    const WeightSnapshot w = gapscope::import_torch(kDir + c["file"].get<std::string>(), &rep);
    const auto& s = c["spec"];
    EXPECT_EQ(w.spec.d, s["d"].get<int>());
    EXPECT_EQ(w.spec.hidden, s["hidden"].get<int>());
    EXPECT_EQ(w.spec.layers, s["layers"].get<int>());
    EXPECT_EQ(w.spec.potential, s["potential"].get<bool>());
    EXPECT_EQ(w.spec.activation, gapscope::parse_activation(s["activation"].get<std::string>()));
    if (w.spec.activation == Activation::Softplus) EXPECT_EQ(w.spec.softplus_beta, s["beta"].get<double>());
    EXPECT_EQ(w.iteration, c["iteration"].get<int64_t>()) << rep.iteration_source;
    EXPECT_EQ(rep.activation_assumed, c.value("assumed_activation", false)) << rep.activation;
    EXPECT_EQ(rep.format.rfind(c["source"] == "module" ? "whole module" : "state_dict", 0), 0u) << rep.format;
    const auto& layers = c["layers"];
    ASSERT_EQ(w.weights.size(), layers.size());
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const auto W = layers[l]["weight"].get<std::vector<double>>(), b = layers[l]["bias"].get<std::vector<double>>();
      ASSERT_EQ(w.weights[l].size(), W.size());
      ASSERT_EQ(w.biases[l].size(), b.size());
      for (std::size_t k = 0; k < W.size(); ++k) ASSERT_EQ(w.weights[l][k], static_cast<float>(W[k])) << l << "," << k;
      for (std::size_t k = 0; k < b.size(); ++k) ASSERT_EQ(w.biases[l][k], static_cast<float>(b[k])) << l << "," << k;
    }
    expect_scores(w, c["scores"], 1e-4);
  }
}

TEST(TorchImport, WhatTheReportSays) {
  gapscope::TorchImportReport rep;
  gapscope::import_torch(kDir + "wrapped_model.pt", &rep);
  EXPECT_EQ(rep.format, "whole module fixture_nets.TinyPotential under 'model'");
  EXPECT_EQ(rep.layers, (std::vector<std::string>{"input", "hidden1", "output"}));
  EXPECT_NE(rep.activation.find("Softplus(beta=2.5) from module 'activation'"), std::string::npos) << rep.activation;
  EXPECT_EQ(rep.iteration_source, "77 (key 'step')");
  EXPECT_EQ(rep.ignored, std::vector<std::string>{"'optimizer'"});
  EXPECT_TRUE(rep.warnings.empty());

  gapscope::import_torch(kDir + "state_dict.pt", &rep);
  ASSERT_EQ(rep.warnings.size(), 1u);
  EXPECT_NE(rep.warnings[0].find("assumed Softplus(beta=100)"), std::string::npos) << rep.warnings[0];

  gapscope::import_torch(kDir + "potential_1d.pt", &rep);
  ASSERT_EQ(rep.warnings.size(), 1u);
  EXPECT_NE(rep.warnings[0].find("assumed a potential"), std::string::npos) << rep.warnings[0];
}

TEST(TorchImport, TheAuthorsNetworkGivesPyTorchsScores) {
  if (!fs::exists(kPaper)) GTEST_SKIP() << kPaper << " is absent";
  const json ex = expected();
  ASSERT_TRUE(ex.contains("paper")) << "run scripts/make_torch_fixtures.py with the file present";
  gapscope::TorchImportReport rep;
  const WeightSnapshot w = gapscope::import_torch(kPaper, &rep);
  EXPECT_EQ(rep.format, "whole module models.Net");
  EXPECT_EQ(rep.layers, (std::vector<std::string>{"input", "hidden1", "hidden2", "output"}));
  EXPECT_TRUE(w.spec.potential);
  EXPECT_EQ(w.spec.d, 2);
  EXPECT_EQ(w.spec.hidden, 80);
  EXPECT_EQ(w.spec.layers, 3);
  EXPECT_EQ(w.spec.activation, Activation::Softplus);
  EXPECT_EQ(w.spec.softplus_beta, 100.0);
  EXPECT_EQ(w.iteration, 100000);
  EXPECT_EQ(rep.name_dataset, "circles2");
  ASSERT_TRUE(rep.name_lambda.has_value());
  EXPECT_EQ(*rep.name_lambda, 1.0);
  const auto first = ex["paper"]["first_weights"].get<std::vector<double>>();
  for (std::size_t k = 0; k < first.size(); ++k) EXPECT_EQ(w.weights[0][k], static_cast<float>(first[k]));
  EXPECT_EQ(w.biases[3][0], static_cast<float>(ex["paper"]["output_bias"].get<double>()));
  expect_scores(w, ex["paper"]["scores"], 1e-4);
}

TEST(TorchImport, BadFilesGiveOneLineNamingTheFileAndWhatWasExpected) {
  const auto dir = gapscope::testing::temp_dir("torch-bad");
  const std::string legacy = (dir / "legacy.pt").string(), zip = (dir / "plain.zip").string();
  const std::string short_data = (dir / "short.pt").string();
  auto recs = records(kDir + "state_dict.pt");
  recs["data/0"].resize(8);  // the first weight's storage cut to two floats
  rezip(short_data, recs);
  spit(legacy, std::string("\x80\x02\x8a\x0a", 4) + "old torch.save");
  {
    caffe2::serialize::PyTorchStreamWriter w(zip);
    w.writeRecord("notes.txt", "hello", 5);
    w.writeEndOfFile();
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {kDir + "bad_not_torch.pt", "not a torch archive"},
      {kDir + "bad_conv.pt", "layer '0' (Conv1d) cannot be mapped"},
      {kDir + "bad_chain.pt", "inconsistent shapes"},
      {kDir + "bad_uneven_width.pt", "one hidden width"},
      {kDir + "bad_no_weights.pt", "no network"},
      {(dir / "missing.pt").string(), "no such file"},
      {legacy, "legacy format"},
      {zip, "without data.pkl"},
      {short_data, "layer 'input' weight: storage record data/0 is shorter than its 24 elements"},
      {dir.string(), "not a file"},
  };
  for (const auto& [path, what] : cases) {
    const std::string e = import_error(path);
    EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(TorchImport, ExpectationsFillWhatTheFileDoesNotSayAndCatchMismatches) {
  gapscope::TorchImportExpect ex;
  ex.from = "--config c.json";
  ex.hidden = 80;
  ex.layers = 3;
  const std::string e = import_error(kDir + "module_potential.pt", ex);
  EXPECT_NE(e.find("does not match --config c.json: hidden width 8 (--config c.json: 80), 2 hidden layers"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);

  gapscope::TorchImportExpect act;
  act.activation = Activation::Tanh;
  gapscope::TorchImportReport rep;
  auto w = gapscope::import_torch(kDir + "state_dict.pt", &rep, act);
  EXPECT_EQ(w.spec.activation, Activation::Tanh);
  EXPECT_FALSE(rep.activation_assumed);
  EXPECT_TRUE(rep.warnings.empty());
  // the module names its activation, so a different one is a mismatch
  EXPECT_NE(import_error(kDir + "module_potential.pt", act).find("activation softplus"), std::string::npos);

  gapscope::TorchImportExpect score;
  score.potential = false;
  w = gapscope::import_torch(kDir + "potential_1d.pt", &rep, score);
  EXPECT_FALSE(w.spec.potential);
  EXPECT_TRUE(rep.warnings.empty());
  EXPECT_NE(import_error(kDir + "module_potential.pt", score).find("a potential network"), std::string::npos);
}

TEST(TorchExport, KeysFollowTheAuthorsNamesForTheirShapeFamilyAndLayersOtherwise) {
  ModelSpec paper;  // the defaults: potential, 3 x 80, Softplus
  EXPECT_EQ(gapscope::torch_export_layer_names(paper), (std::vector<std::string>{"input", "hidden1", "hidden2", "output"}));
  ModelSpec wide = paper;
  wide.hidden = 32;
  wide.d = 1;
  wide.softplus_beta = 10;
  EXPECT_EQ(gapscope::torch_export_layer_names(wide)[0], "input");
  ModelSpec deep = paper;
  deep.layers = 4;
  EXPECT_EQ(gapscope::torch_export_layer_names(deep),
            (std::vector<std::string>{"layers.0", "layers.1", "layers.2", "layers.3", "layers.4"}));
  ModelSpec score = paper;
  score.potential = false;
  EXPECT_EQ(gapscope::torch_export_layer_names(score)[0], "layers.0");
  ModelSpec tanh = paper;
  tanh.activation = Activation::Tanh;
  EXPECT_EQ(gapscope::torch_export_layer_names(tanh)[3], "layers.3");
}

TEST(TorchExport, ExportThenImportIsBitIdentical) {
  const auto dir = gapscope::testing::temp_dir("torch-roundtrip");
  std::vector<ModelSpec> specs(5);
  specs[1].hidden = 16, specs[1].layers = 4, specs[1].activation = Activation::Tanh;
  specs[2].potential = false, specs[2].hidden = 7, specs[2].layers = 2, specs[2].activation = Activation::SiLU;
  specs[3].d = 1, specs[3].hidden = 5, specs[3].layers = 1;
  specs[4].d = 3, specs[4].hidden = 9, specs[4].softplus_beta = 7.5, specs[4].prior_var = 0.5;
  for (std::size_t k = 0; k < specs.size(); ++k) {
    SCOPED_TRACE(k);
    const WeightSnapshot w = random_snapshot(specs[k], k);
    const std::string path = (dir / ("net" + std::to_string(k) + ".pt")).string();
    gapscope::TorchExportReport out;
    gapscope::export_torch(w, path, &out);
    EXPECT_EQ(out.keys.size(), 2 * w.weights.size());
    // the prior offset is no weight: the export says so
    EXPECT_EQ(out.warnings.size(), specs[k].prior_var > 0 ? 1u : 0u);
    if (!out.warnings.empty()) EXPECT_NE(out.warnings[0].find("prior offset"), std::string::npos);
    gapscope::TorchImportExpect ex;  // a state_dict says nothing of the activation or of a 1-D model's kind
    ex.activation = specs[k].activation;
    ex.softplus_beta = specs[k].softplus_beta;
    ex.potential = specs[k].potential;
    gapscope::TorchImportReport rep;
    const WeightSnapshot back = gapscope::import_torch(path, &rep, ex);
    EXPECT_EQ(rep.format, "state_dict");
    EXPECT_EQ(back.spec.d, w.spec.d);
    EXPECT_EQ(back.spec.hidden, w.spec.hidden);
    EXPECT_EQ(back.spec.layers, w.spec.layers);
    EXPECT_EQ(back.spec.potential, w.spec.potential);
    EXPECT_TRUE(same_bits(back.weights, w.weights));
    EXPECT_TRUE(same_bits(back.biases, w.biases));
  }
}

TEST(TorchExport, PythonTorchLoadReadsTheExport) {
  if (std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "no /usr/bin/python3 with torch";
  const auto dir = gapscope::testing::temp_dir("torch-python");
  const std::string pt = (dir / "net.pt").string(), js = (dir / "net.json").string();
  ModelSpec s;
  s.hidden = 6;
  const WeightSnapshot w = random_snapshot(s, 11);
  gapscope::export_torch(w, pt);
  // Python loads the file into a module with the authors' attribute names and writes what it read.
  const std::string py =
      "import json, sys, torch\n"
      "import torch.nn as nn\n"
      "class Net(nn.Module):\n"
      "    def __init__(self):\n"
      "        super().__init__()\n"
      "        self.input = nn.Linear(3, 6); self.hidden1 = nn.Linear(6, 6)\n"
      "        self.hidden2 = nn.Linear(6, 6); self.output = nn.Linear(6, 1)\n"
      "sd = torch.load(sys.argv[1])\n"
      "net = Net(); net.load_state_dict(sd)\n"
      "json.dump({k: [float(x) for x in v.reshape(-1)] for k, v in sd.items()}, open(sys.argv[2], 'w'))\n";
  const std::string script = (dir / "read.py").string();
  spit(script, py);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + pt + " " + js).c_str()), 0);
  std::ifstream in(js);
  const json got = json::parse(in);
  const std::vector<std::string> names = {"input", "hidden1", "hidden2", "output"};
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t l = 0; l < names.size(); ++l) {
    const auto W = got[names[l] + ".weight"].get<std::vector<double>>();
    const auto b = got[names[l] + ".bias"].get<std::vector<double>>();
    ASSERT_EQ(W.size(), w.weights[l].size());
    ASSERT_EQ(b.size(), w.biases[l].size());
    for (std::size_t k = 0; k < W.size(); ++k) EXPECT_EQ(static_cast<float>(W[k]), w.weights[l][k]);
    for (std::size_t k = 0; k < b.size(); ++k) EXPECT_EQ(static_cast<float>(b[k]), w.biases[l][k]);
  }
}

// ---- corrupted input: a one-line std::runtime_error or a successful import, never a crash ----

namespace {

std::string mutate(std::string s, std::mt19937& rng, int kind) {
  if (s.empty()) return s;
  std::uniform_int_distribution<std::size_t> at(0, s.size() - 1);
  switch (kind % 4) {
    case 0: s.resize(at(rng)); break;                                    // truncated
    case 1: s[at(rng)] ^= static_cast<char>(1u << (rng() % 8)); break;  // one bit flipped
    case 2:
      for (int k = 0; k < 8; ++k) s[at(rng)] = static_cast<char>(rng());  // a few bytes replaced
      break;
    default: {  // a slice repeated (stack and memo confusion)
      const std::size_t a = at(rng), n = std::min<std::size_t>(rng() % 40, s.size() - a);
      s.insert(at(rng), s.substr(a, n));
    }
  }
  return s;
}

// Runs an import that must either succeed or throw one line starting with the path.
void survives(const std::string& path, int* errors) {
  try {
    gapscope::import_torch(path);
  } catch (const std::runtime_error& e) {
    ++*errors;
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

}  // namespace

TEST(TorchImportFuzz, CorruptedFilesGiveOneLineErrorsNeverACrash) {
  const auto dir = gapscope::testing::temp_dir("torch-fuzz");
  const std::string path = (dir / "f.pt").string();
  std::mt19937 rng(12);
  int errors = 0, runs = 0;
  for (const char* name : {"module_potential.pt", "wrapped_model.pt", "state_dict.pt"}) {
    const std::string file = slurp(kDir + name);
    const auto recs = records(kDir + name);
    for (int k = 0; k < 200; ++k, ++runs) {  // the whole file: the zip reader's turn
      spit(path, mutate(file, rng, k));
      survives(path, &errors);
    }
    for (int k = 0; k < 200; ++k, ++runs) {  // a valid zip around a corrupted pickle: the pickle reader's turn
      auto r = recs;
      r["data.pkl"] = mutate(r["data.pkl"], rng, k);
      rezip(path, r);
      survives(path, &errors);
    }
  }
  EXPECT_GT(errors, runs / 4);  // the mutations do reach the readers
}

TEST(TorchPickleFuzz, RandomAndMutatedPicklesThrowOrParse) {
  std::mt19937 rng(5);
  const std::string pkl = records(kDir + "wrapped_model.pt")["data.pkl"];
  int errors = 0;
  for (int k = 0; k < 4000; ++k) {
    std::string bytes;
    if (k % 2) {
      bytes = mutate(pkl, rng, k / 2);
    } else {
      bytes.resize(rng() % 300);
      for (auto& c : bytes) c = static_cast<char>(rng());
      if (k % 4 == 0 && bytes.size() > 2) bytes[0] = '\x80', bytes[1] = '\x02';
    }
    try {
      gapscope::pickle::parse(bytes);
    } catch (const std::runtime_error& e) {
      ++errors;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  EXPECT_GT(errors, 2000);
}

TEST(TorchPickle, DeepNestingAndCyclesDoNotOverflowTheStack) {
  using namespace std::string_literals;
  const std::size_t n = 200000;
  std::string deep = "\x80\x02"s + std::string(n, ']') + std::string(n - 1, 'a') + ".";
  auto v = gapscope::pickle::parse(deep);
  ASSERT_EQ(v->kind, gapscope::pickle::Value::Kind::List);
  v.reset();  // the nested lists die without as many nested destructor calls
  // A list appended to itself, a module whose child is itself: parsed, then refused.
  EXPECT_NO_THROW(gapscope::pickle::parse("\x80\x02]q\x00h\x00\x61."s));
  const auto dir = gapscope::testing::temp_dir("torch-cycle");
  const std::string path = (dir / "cycle.pt").string();
  // m = fixture_nets.Loop(); m.__dict__ = {'_parameters': {}, '_modules': {'m': m}}
  const std::string loop = "\x80\x02" "cfixture_nets\nLoop\n)\x81q\x00}(X\x0b\x00\x00\x00_parameters}"
                           "X\x08\x00\x00\x00_modules}X\x01\x00\x00\x00mh\x00su\x62."s;
  rezip(path, {{"data.pkl", loop}});
  const std::string e = import_error(path);
  EXPECT_NE(e.find("nested deeper"), std::string::npos) << e;
}

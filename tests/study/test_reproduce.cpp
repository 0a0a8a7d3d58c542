#include <gtest/gtest.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "study/reproduce.h"
#include "test_util.h"

using namespace gapscope;
namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> r;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) r.push_back(c);
    if (!line.empty() && line.back() == ',') r.push_back("");  // getline drops a last empty field
    rows.push_back(r);
  }
  return rows;
}

using gapscope::testing::slurp;

void expect_valid_png(const fs::path& p) {
  ASSERT_TRUE(fs::exists(p)) << p;
  const std::string b = slurp(p);
  ASSERT_GE(b.size(), 8u);
  EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  int w = 0, h = 0, ch = 0;
  unsigned char* px = stbi_load(p.string().c_str(), &w, &h, &ch, 4);
  ASSERT_NE(px, nullptr) << stbi_failure_reason();
  EXPECT_GT(w, 100);
  EXPECT_GT(h, 100);
  // not blank: some pixels are far from white
  int ink = 0;
  for (int i = 0; i < w * h; ++i) ink += px[4 * i] < 200 || px[4 * i + 2] < 200;
  EXPECT_GT(ink, 500);
  stbi_image_free(px);
}

}  // namespace

TEST(Reproduce, PlanShardAndNames) {
  ReproduceOptions o;  // 3 data sets x 4 weights
  auto all = plan_cells(o);
  ASSERT_EQ(all.size(), 12u);
  EXPECT_EQ(all[0].name, "blob_lambda0");
  EXPECT_EQ(all[1].name, "blob_lambda0.1");
  EXPECT_EQ(all[11].name, "circles2_lambda10");
  o.shard_count = 5;
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    o.shard_index = i;
    for (const auto& c : shard_cells(o)) {
      EXPECT_EQ(c.index % 5, i);
      EXPECT_TRUE(seen.insert(c.name).second) << c.name << " in two shards";
    }
  }
  EXPECT_EQ(seen.size(), 12u);
  int i = -1, n = -1;
  parse_shard("2/5", i, n);
  EXPECT_EQ(i, 2);
  EXPECT_EQ(n, 5);
  for (const char* bad : {"5/5", "-1/3", "1", "a/b", "1/0", "1/2x"}) EXPECT_THROW(parse_shard(bad, i, n), std::invalid_argument) << bad;
  EXPECT_THROW(reproduce_preset("fast"), std::invalid_argument);
  for (const char* p : {"paper", "laptop", "smoke"}) EXPECT_NO_THROW(reproduce_preset(p));
  EXPECT_EQ(reproduce_preset("paper").samples, 3000000u);
  EXPECT_EQ(reproduce_preset("paper").iterations, 100000);
}

TEST(Reproduce, PartialCellResumesFromItsCheckpoint) {
  auto dir = gapscope::testing::temp_dir("repro-resume");
  ReproduceOptions o;
  o.datasets = {"circles2"};
  o.weights = {0.5};
  o.iterations = 20;
  o.save_every = 10;
  o.samples = 1000;
  o.grid = 16;
  o.sample_steps = 5;
  o.figure_points = 100;
  o.overrides = {"hidden=8", "layers=1", "batch_dsm=64", "batch_collocation=64", "batch_boundary=8",
                 "residual_stats_every=0", "T=1"};
  o.out = dir.string();
  std::vector<std::string> events;
  ReproduceEvents ev;
  ev.on_cell = [&](const CellSpec& c, const std::string& w) { events.push_back(c.name + " " + w); };
  auto s = run_reproduce(o, ev);
  EXPECT_EQ(s.ran, 1);
  ASSERT_EQ(s.results.size(), 1u);
  EXPECT_EQ(s.results[0].iterations, 20);
  EXPECT_TRUE(fs::exists(dir / "cells" / "circles2_lambda0.5" / "checkpoint" / "state.json"));
  EXPECT_EQ(events.front(), "circles2_lambda0.5 start");

  // More iterations: the cell is not finished any more and resumes at 20, not at 0.
  o.iterations = 30;
  events.clear();
  int64_t first_it = -1;
  ev.on_iteration = [&](const CellSpec&, int64_t it, int64_t) {
    if (first_it < 0) first_it = it;
  };
  s = run_reproduce(o, ev);
  EXPECT_EQ(s.ran, 1);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "circles2_lambda0.5 resume");
  EXPECT_GT(first_it, 20);
  ASSERT_EQ(s.results.size(), 1u);
  EXPECT_EQ(s.results[0].iterations, 30);

  // A checkpoint trained with another setting is refused, naming the key.
  o.overrides.push_back("lr=0.01");
  o.iterations = 40;
  s = run_reproduce(o, ev);
  EXPECT_EQ(s.failed, 1);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("lr"), std::string::npos) << s.errors[0];
}

TEST(Reproduce, SmokePresetWritesTableFigureAndSkipsOnRerun) {
  auto dir = gapscope::testing::temp_dir("repro");
  const std::string out = (dir / "out").string();
  auto t0 = std::chrono::steady_clock::now();
  auto r = gapscope::testing::run_cli("reproduce --preset smoke --jobs 2 --threads 2 --out " + out);
  const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.status, 0) << r.output;

  auto rows = read_csv(fs::path(out) / "table.csv");
  ASSERT_EQ(rows.size(), 1u + 4u) << slurp(fs::path(out) / "table.csv");  // header + 2 data sets x 2 weights
  const std::vector<std::string> want{"dataset", "lambda", "w2_ode_sde", "w2_ode_data", "w2_sde_data", "iterations",
                                      "seconds"};
  ASSERT_GE(rows[0].size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_EQ(rows[0][k], want[k]);
  std::set<std::string> cells;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size()) << i;
    cells.insert(rows[i][0] + "@" + rows[i][1]);
    for (std::size_t k = 2; k < want.size(); ++k) {
      const double v = std::stod(rows[i][k]);
      EXPECT_TRUE(std::isfinite(v) && v > 0) << rows[0][k] << " = " << rows[i][k] << " in row " << i;
    }
    EXPECT_EQ(std::stoll(rows[i][5]), reproduce_preset("smoke").iterations);
    // The escapees' shares: fractions in [0, 1]; then the metric and no network file.
    const auto col = [&](const char* name) {
      return static_cast<std::size_t>(std::find(rows[0].begin(), rows[0].end(), name) - rows[0].begin());
    };
    for (const char* name : {"outside_ode", "outside_sde"}) {
      ASSERT_LT(col(name), rows[0].size()) << name;
      const double v = std::stod(rows[i][col(name)]);
      EXPECT_TRUE(v >= 0 && v <= 1) << name << " = " << rows[i][col(name)];
    }
    // Every sampler reports its network evaluations per particle beside its W2 (smoke: N = 40
    // with the last 2 refined five-fold, 48 each), and the residual's two functionals.
    for (const char* name : {"nfe_ode", "nfe_sde"}) {
      ASSERT_LT(col(name), rows[0].size()) << name;
      EXPECT_EQ(rows[i][col(name)], "48") << name;
    }
    for (const char* name : {"res_mean_sq", "res_time_weighted"}) {
      ASSERT_LT(col(name), rows[0].size()) << name;
      const double v = std::stod(rows[i][col(name)]);
      EXPECT_TRUE(std::isfinite(v) && v > 0) << name << " = " << rows[i][col(name)];
    }
    EXPECT_LE(std::stod(rows[i][col("res_time_weighted")]), std::stod(rows[i][col("res_mean_sq")]) * 1.05);
    ASSERT_EQ(rows[0].back(), "network");
    EXPECT_EQ(rows[i].back(), "");
    EXPECT_EQ(rows[i][col("metric")], "validation");
  }
  EXPECT_EQ(cells, (std::set<std::string>{"blob@0", "blob@1", "circles2@0", "circles2@1"}));
  expect_valid_png(fs::path(out) / "figure.png");
  // The residual–gap plot of the four cells: its points and its figure in three formats.
  const auto gap = read_csv(fs::path(out) / "residual_gap.csv");
  ASSERT_EQ(gap.size(), 1u + 4u) << slurp(fs::path(out) / "residual_gap.csv");
  EXPECT_EQ(gap[0], (std::vector<std::string>{"source", "iteration", "lambda", "res_mean_sq", "res_time_weighted",
                                              "w2_ode_sde"}));
  for (std::size_t i = 1; i < gap.size(); ++i) {
    EXPECT_TRUE(gap[i][0] == "blob" || gap[i][0] == "circles2") << gap[i][0];
    EXPECT_GT(std::stod(gap[i][5]), 0) << i;
  }
  expect_valid_png(fs::path(out) / "residual_gap.png");
  EXPECT_EQ(slurp(fs::path(out) / "residual_gap.pdf").rfind("%PDF-", 0), 0u);
  EXPECT_EQ(slurp(fs::path(out) / "residual_gap.svg").rfind("<?xml", 0), 0u);
  {
    std::ifstream in(fs::path(out) / "cells" / "blob_lambda1" / "result.json");
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j.at("nfe_ode").get<int>(), 48);
    EXPECT_EQ(j.at("nfe_sde").get<int>(), 48);
    EXPECT_GT(j.at("res_time_weighted").get<double>(), 0);
  }
  // The same figure as vectors: text as glyph outlines (Cairo embeds no text in SVG), the
  // clouds as density images.
  const std::string svg = slurp(fs::path(out) / "figure.svg");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("<symbol"), std::string::npos);
  EXPECT_NE(svg.find("<image"), std::string::npos);
  const std::string pdf = slurp(fs::path(out) / "figure.pdf");
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf.find("DejaVuSans"), std::string::npos);  // the embedded font
  const std::string md = slurp(fs::path(out) / "table.md");
  EXPECT_NE(md.find("| circles2 |"), std::string::npos);
  EXPECT_NE(md.find("| nfe ODE | nfe SDE |"), std::string::npos) << md;
  EXPECT_NE(md.find(" | 48 | 48 | "), std::string::npos) << md;
  for (const char* c : {"blob_lambda0", "blob_lambda1", "circles2_lambda0", "circles2_lambda1"}) {
    EXPECT_TRUE(fs::exists(fs::path(out) / "cells" / c / "result.json")) << c;
    EXPECT_TRUE(fs::exists(fs::path(out) / "cells" / c / "checkpoint" / "state.json")) << c;
  }

  // Re-run: every cell is skipped, quickly, and the output says so.
  t0 = std::chrono::steady_clock::now();
  r = gapscope::testing::run_cli("reproduce --preset smoke --jobs 2 --threads 2 --out " + out);
  const double second = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 cells ran, 4 skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("blob_lambda1: skipped"), std::string::npos) << r.output;
  EXPECT_LT(second, std::max(10.0, first / 2)) << "first " << first << " s, re-run " << second << " s";
  EXPECT_EQ(read_csv(fs::path(out) / "table.csv"), rows);

  // --collect merges cell directories into another output without training.
  const std::string merged = (dir / "merged").string();
  r = gapscope::testing::run_cli("reproduce --collect " + out + " --out " + merged);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_csv(fs::path(merged) / "table.csv"), rows);
  expect_valid_png(fs::path(merged) / "figure.png");
  EXPECT_EQ(read_csv(fs::path(merged) / "residual_gap.csv"), gap);
  EXPECT_EQ(slurp(fs::path(merged) / "figure.pdf").rfind("%PDF-", 0), 0u);
  EXPECT_EQ(slurp(fs::path(merged) / "figure.svg").rfind("<?xml", 0), 0u);

  // Bad input: one line, non-zero exit.
  r = gapscope::testing::run_cli("reproduce --preset smoke --shard 3/2 --out " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--shard"), std::string::npos) << r.output;
  r = gapscope::testing::run_cli("reproduce --preset smoke --datasets nosuch --out " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("nosuch"), std::string::npos) << r.output;
}

// --networks finds the authors' files by name alone (the bytes are read later, by import):
// their repository's layout or loose files, the latest iteration of each cell, plan order.
TEST(Reproduce, FindNetworksReadsTheAuthorsLayout) {
  const auto dir = gapscope::testing::temp_dir("repro-find");
  auto touch = [&](const std::string& rel) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel) << "x";
  };
  touch("checkpoints/circles2/w1.0/circles2_net__FP_weight_1.0__iteration_100000");
  touch("checkpoints/circles2/w1.0/circles2_net__FP_weight_1.0__iteration_50000");
  touch("checkpoints/blob/w0.1/blob_net__FP_weight_0.1__iteration_100000");
  touch("loose/checker_net__FP_weight_10__iteration_7.pt");
  touch("checkpoints/circles2/w1.0/notes.txt");
  touch("checkpoints/blob/w0/blob_net__FP_weight_x__iteration_3");  // no λ in the name
  const auto v = find_networks(dir.string());
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].name, "blob_lambda0.1");
  EXPECT_EQ(v[1].name, "checker_lambda10");
  EXPECT_EQ(v[1].iteration, 7);
  EXPECT_EQ(v[2].name, "circles2_lambda1");
  EXPECT_EQ(v[2].iteration, 100000);
  EXPECT_NE(v[2].network.find("iteration_100000"), std::string::npos);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(v[k].index, k);

  ReproduceOptions o;
  o.networks = dir.string();
  o.datasets = {"circles2", "blob"};
  o.weights = {};
  const auto planned = plan_cells(o);
  ASSERT_EQ(planned.size(), 2u);
  EXPECT_EQ(planned[0].dataset, "blob");
  EXPECT_EQ(planned[1].index, 1);

  const auto empty = gapscope::testing::temp_dir("repro-find-empty");
  try {
    find_networks(empty.string());
    ADD_FAILURE() << "an empty directory was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(empty.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("_net__FP_weight_"), std::string::npos) << e.what();
  }
  EXPECT_THROW(find_networks((dir / "missing").string()), std::invalid_argument);
}

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/config.h"
#include "core/data.h"
#include "study/evaluate.h"
#include "test_util.h"
#include "train/train.h"

using namespace gapscope;

namespace {

Config tiny(const std::string& dataset = "circles2") {
  Config c;
  c.dataset = dataset;
  c.hidden = 16;
  c.layers = 2;
  c.batch_dsm = 256;
  c.batch_collocation = 256;
  c.batch_boundary = 32;
  c.iterations = 30;
  c.T = 1.0;  // an early model on T = 10 sends most ODE points far outside the box
  c.residual_stats_every = 0;
  c.sample_steps = 20;
  c.sample_refine = 2;
  c.sample_refine_factor = 2;
  c.validate();
  return c;
}

EvalOptions small() {
  EvalOptions o;
  o.n = 3000;
  o.grid = 32;
  o.exact_n = 300;
  o.residual_points = 512;
  return o;
}

bool finite_positive(double v) { return std::isfinite(v) && v > 0; }

}  // namespace

TEST(Evaluate, TrainedTinyModelGivesFinitePositiveDistances) {
  Trainer tr(tiny());
  tr.run(30);
  EvalResult r = evaluate(tr, small(), /*keep_clouds=*/true);
  EXPECT_EQ(r.iteration, 30);
  EXPECT_EQ(r.d, 2);
  EXPECT_EQ(r.n, 3000u);
  EXPECT_EQ(r.exact_n, 300u);
  for (double v : {r.grid.ode_sde, r.grid.ode_data, r.grid.sde_data, r.exact.ode_sde, r.exact.ode_data,
                   r.exact.sde_data, r.res_mean_sq, r.res_mean_abs, r.res_max_abs})
    EXPECT_TRUE(finite_positive(v)) << v;
  EXPECT_LE(r.res_mean_abs, r.res_max_abs);
  EXPECT_LE(r.res_mean_abs * r.res_mean_abs, r.res_mean_sq * (1 + 1e-9));  // Jensen
  EXPECT_GT(r.grid_used, 0u);
  EXPECT_LE(r.grid_used, r.n);
  EXPECT_GE(r.seconds.total, r.seconds.sample_ode + r.seconds.sample_sde);
  ASSERT_EQ(r.clouds.ode.n(), 3000u);
  ASSERT_EQ(r.clouds.sde.n(), 3000u);
  ASSERT_EQ(r.clouds.data.n(), 3000u);

  // Deterministic: the same seed gives the same numbers; another seed other numbers.
  EvalOptions o = small();
  o.residual_points = 0;
  o.exact_n = 0;
  EvalResult again = evaluate(tr, o);
  EXPECT_DOUBLE_EQ(again.grid.ode_sde, r.grid.ode_sde);
  EXPECT_TRUE(std::isnan(again.exact.ode_sde));
  EXPECT_TRUE(std::isnan(again.res_mean_abs));
  o.seed = 5;
  EXPECT_NE(evaluate(tr, o).grid.ode_sde, r.grid.ode_sde);

  // JSON carries every key
  auto j = to_json(r);
  for (const char* k : {"w2_ode_sde", "w2_ode_data", "w2_sde_data"}) {
    EXPECT_TRUE(j[k].is_number()) << k;
    EXPECT_TRUE(j["grid"][k].is_number()) << k;
    EXPECT_TRUE(j["exact"][k].is_number()) << k;
  }
  EXPECT_TRUE(to_json(again)["exact"]["w2_ode_sde"].is_null());
}

TEST(Evaluate, SharedPriorAndIdenticalCloudsGiveZero) {
  Trainer tr(tiny());
  EvalOptions o = small();
  o.steps = 5;
  EvalClouds cl = sample_clouds(tr.snapshot(), tr.config(), o);
  ASSERT_EQ(cl.ode.v.size(), cl.sde.v.size());
  EXPECT_NE(cl.ode.v, cl.sde.v);
  EvalClouds same{cl.ode, cl.ode, cl.data};
  W2Spec grid32;
  grid32.grid = GridMetric{32, 4.0};
  W2Spec exact200;
  exact200.metric = W2Metric::Exact;
  exact200.max_points = 200;
  W2Triple g = w2_triple(same.ode, same.sde, same.data, grid32);
  EXPECT_EQ(g.ode_sde, 0.0);
  EXPECT_GT(g.ode_data, 0.0);
  EXPECT_DOUBLE_EQ(g.ode_data, g.sde_data);
  W2Triple e = w2_triple(same.ode, same.sde, same.data, exact200);
  EXPECT_NEAR(e.ode_sde, 0.0, 1e-9);
  EXPECT_GT(e.ode_data, 0.0);

  // A cloud with no point in the box (a diverged model) gives NaN and a note, not an exception.
  EvalClouds far{cl.data, cl.data, cl.data};
  for (auto& v : far.ode.v) v += 100.f;
  std::vector<std::string> notes;
  W2Triple n = w2_triple(far.ode, far.sde, far.data, grid32, &notes);
  const std::size_t used = n.used;
  EXPECT_TRUE(std::isnan(n.ode_sde));
  EXPECT_TRUE(std::isnan(n.ode_data));
  EXPECT_EQ(n.sde_data, 0.0);
  EXPECT_EQ(used, 0u);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("w2_ode_sde"), std::string::npos) << notes[0];

  // Shifting one cloud by a constant vector moves the exact W2 by exactly that length.
  EvalClouds sh{cl.data, cl.data, cl.data};
  for (std::size_t i = 0; i < sh.sde.n(); ++i) sh.sde.row(i)[0] += 0.3f, sh.sde.row(i)[1] -= 0.4f;
  exact200.max_points = 300;
  EXPECT_NEAR(w2_triple(sh.ode, sh.sde, sh.data, exact200).ode_sde, 0.5, 1e-4);

  // Every metric drops a diverged model's non-finite rows (escapes, counted by the outside
  // shares) instead of failing: one policy for the CLI and the lab.
  EvalClouds nanc{cl.data, cl.data, cl.data};
  nanc.ode.v[0] = NAN;
  for (W2Metric m : {W2Metric::Grid, W2Metric::Exact, W2Metric::Sliced}) {
    W2Spec s = grid32;
    s.metric = m;
    std::vector<std::string> none;
    const W2Triple t = w2_triple(nanc.ode, nanc.sde, nanc.data, s, &none);
    EXPECT_TRUE(std::isfinite(t.ode_sde)) << w2_metric_label(s);
    EXPECT_TRUE(none.empty()) << none.front();
  }
  // ... and a cloud with no finite point at all is NaN with a note, under every metric.
  for (auto& v : nanc.sde.v) v = INFINITY;
  for (W2Metric m : {W2Metric::Grid, W2Metric::Exact, W2Metric::Sliced}) {
    W2Spec s = grid32;
    s.metric = m;
    std::vector<std::string> why;
    const W2Triple t = w2_triple(nanc.ode, nanc.sde, nanc.data, s, &why);
    EXPECT_TRUE(std::isnan(t.ode_sde) && std::isnan(t.sde_data)) << w2_metric_label(s);
    EXPECT_TRUE(std::isfinite(t.ode_data));
    ASSERT_EQ(why.size(), 2u);
    EXPECT_NE(why[0].find("w2_ode_sde"), std::string::npos);
  }
}

TEST(Evaluate, OneDimensionalUsesAllPointsAndTheOneDGrid) {
  Config c = tiny("mixture1d");
  Trainer tr(c);
  tr.run(10);
  EvalOptions o = small();
  o.n = 2000;
  o.exact_n = 10;  // ignored in 1-D: the closed form runs on all points
  EvalResult r = evaluate(tr, o);
  EXPECT_EQ(r.d, 1);
  EXPECT_EQ(r.exact_n, 2000u);
  for (double v : {r.grid.ode_sde, r.grid.ode_data, r.exact.ode_sde, r.exact.sde_data})
    EXPECT_TRUE(finite_positive(v)) << v;
}

TEST(Evaluate, CliPrintsOneParseableJsonObject) {
  auto dir = gapscope::testing::temp_dir("eval");
  auto ck = (dir / "ck").string();
  auto r = gapscope::testing::run_cli(
      "train --set T=1 --set hidden=16 --set layers=2 --set batch_dsm=128 --set residual_stats_every=0 --iterations 10 --out " +
      ck);
  ASSERT_EQ(r.status, 0) << r.output;
  // stdout only (stderr has the stage lines)
  std::string cmd = std::string(GAPSCOPE_CLI) + " eval --checkpoint " + ck +
                    " --n 2000 --grid 32 --steps 10 --exact-n 200 --residual-points 256 --seed 3 2>/dev/null";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof buf, f)) out += buf;
  ASSERT_EQ(pclose(f), 0) << out;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(out)) << out;
  ASSERT_TRUE(j.is_object());
  for (const char* k : {"w2_ode_sde", "w2_ode_data", "w2_sde_data"}) {
    ASSERT_TRUE(j[k].is_number()) << k << "\n" << out;
    EXPECT_GT(j[k].get<double>(), 0) << k;
    EXPECT_TRUE(j["exact"][k].is_number()) << k;
  }
  for (const char* k : {"mean_sq", "mean_abs", "max_abs"}) EXPECT_TRUE(j["residual"][k].is_number()) << k;
  // Escapes are reported next to every W2: the share of each cloud outside the metric's box.
  for (const char* k : {"ode", "sde", "data"}) {
    ASSERT_TRUE(j["outside"][k].is_number()) << k << "\n" << out;
    EXPECT_GE(j["outside"][k].get<double>(), 0.0);
    EXPECT_LE(j["outside"][k].get<double>(), 1.0);
  }
  EXPECT_EQ(j["outside"]["box"].get<double>(), 4.0);
  for (const char* k : {"sample_ode", "sample_sde", "data", "w2_grid", "w2_exact", "residual", "total"})
    EXPECT_TRUE(j["seconds"][k].is_number()) << k;
  EXPECT_EQ(j["n"], 2000);
  EXPECT_EQ(j["grid"]["nodes"], 32);
  EXPECT_EQ(j["exact"]["n"], 200);
  EXPECT_EQ(j["iteration"], 10);
  EXPECT_EQ(j["seed"], 3);

  r = gapscope::testing::run_cli("eval --checkpoint " + (dir / "missing").string());
  EXPECT_NE(r.status, 0);
}

// The step-count sweep: one row per N from the same prior draws, the CSV's exact header,
// network evaluations that follow the scheme, and one-line errors for a bad step list.
#include <gtest/gtest.h>

#include "core/config.h"
#include "nn/model.h"
#include "study/density_figure.h"
#include "study/output_file.h"
#include "study/sweep_steps.h"
#include "test_util.h"

using namespace gapscope;

namespace {

Config tiny() {
  Config c;
  c.dataset = "blob";
  c.hidden = 16;
  c.layers = 2;
  c.T = 1.0;
  c.sample_refine = 2;
  c.sample_refine_factor = 2;
  c.validate();
  return c;
}

SnapshotPtr weights(const Config& c) {
  Network net(ModelSpec::from_config(c));
  net.init(2);
  return std::make_shared<const WeightSnapshot>(net.snapshot());
}

}  // namespace

TEST(SweepSteps, OneRowPerStepCountWithTheSchemesEvaluations) {
  const Config c = tiny();
  SweepOptions o;
  o.steps = {1, 4, 8};
  o.n = 500;
  o.method = "heun";
  const auto rows = sweep_steps(weights(c), c, o);
  ASSERT_EQ(rows.size(), 3u);
  // N = 1 < refine: refinement dropped (one step); N = 4: 4 - 2 + 2 * 2 = 6 steps.
  EXPECT_EQ(rows[0].nfe_ode, 2u);
  EXPECT_EQ(rows[0].nfe_sde, 1u);
  EXPECT_EQ(rows[1].nfe_ode, 12u);
  EXPECT_EQ(rows[1].nfe_sde, 6u);
  EXPECT_EQ(rows[2].nfe_sde, 10u);
  for (const auto& r : rows) {
    EXPECT_TRUE(std::isfinite(r.w2.ode_sde));
    EXPECT_GE(r.inside_ode, 0.0);
    EXPECT_LE(r.inside_ode, 1.0);
  }
  const std::string csv = sweep_csv(rows);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "steps,w2_ode_sde,w2_ode_data,w2_sde_data,inside_ode,inside_sde,nfe_ode,nfe_sde");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_EQ(csv.substr(csv.find('\n') + 1, 2), "1,");
  const auto dir = gapscope::testing::temp_dir("sweep");
  write_sweep(rows, (dir / "s.svg").string(), "t", "grid");
  EXPECT_NE(gapscope::testing::slurp(dir / "s.svg").find("<svg"), std::string::npos);
  EXPECT_NE(gapscope::testing::error_of([&] { write_sweep(rows, (dir / "s.txt").string(), "t", "grid"); }).find("s.txt"),
            std::string::npos);
}

TEST(SweepSteps, TheStepListIsCheckedInOneLine) {
  EXPECT_EQ(parse_step_list("25,50,1600"), (std::vector<int>{25, 50, 1600}));
  for (const char* bad : {"", "25,,50", "25,x", "0", "-5", "3.5"})
    EXPECT_NE(gapscope::testing::error_of([&] { parse_step_list(bad); }).find("--steps"), std::string::npos) << bad;
  EXPECT_TRUE(is_csv_path("a/B.CSV"));
  EXPECT_FALSE(is_csv_path("csv"));
}

TEST(DensityFigure, CsvHasOneRowPerNodeAndTheFigureDraws) {
  const Config c = tiny();
  SamplerOptions so = SamplerOptions::from_config(c, SamplerKind::ODE);
  DensityRequest r;
  r.grid = 6;
  r.t = 0.3;
  const DensityGrid g = density_grid(weights(c), c, so, r);
  const std::string csv = density_csv(g);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "x,y,log_p_ode,log_p_model,log_p_data");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 37);
  const fig::Figure f = density_figure(g, "tiny");
  EXPECT_EQ(f.panels.size(), 6u);  // three densities, three log-ratios
  EXPECT_FALSE(fig::render(f, fig::Format::Svg).empty());
}

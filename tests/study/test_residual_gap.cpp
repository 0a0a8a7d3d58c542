// The residual–gap plot and the residual over training: the time-weighted functional on
// cases with a known answer, the points' CSV (round trip, append, one-line errors naming
// file and line), the log–log fit, and both figures rendered to real PNGs.
#include <gtest/gtest.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/sde.h"
#include "study/residual_gap.h"
#include "study/residual_history.h"
#include "test_util.h"

using namespace gapscope;
namespace fs = std::filesystem;

namespace {

std::vector<ResidualGapPoint> some_points() {
  std::vector<ResidualGapPoint> v;
  const double lambdas[] = {0, 0.1, 1, 10};
  for (int k = 0; k < 8; ++k) {
    ResidualGapPoint p;
    p.source = k < 4 ? "blob" : "circles2, \"quoted\"";
    p.iteration = 1000 * (k + 1);
    p.lambda = lambdas[k % 4];
    p.res_mean_sq = 0.02 * std::pow(3.0, k);
    p.res_time_weighted = 0.6 * p.res_mean_sq;
    p.w2_ode_sde = 0.05 * std::pow(1.7, k);
    v.push_back(p);
  }
  v[5].w2_ode_sde = NAN;  // a pass whose W2 could not be measured: kept, not drawn
  return v;
}

// Pixels whose channels differ by more than 60: colour (the λ markers, the colour bar), not grey ink.
int coloured_pixels(const fs::path& png, int* w = nullptr, int* h = nullptr) {
  int ww = 0, hh = 0, ch = 0;
  unsigned char* px = stbi_load(png.string().c_str(), &ww, &hh, &ch, 4);
  if (!px) return -1;
  int n = 0;
  for (int i = 0; i < ww * hh; ++i) {
    const int r = px[4 * i], g = px[4 * i + 1], b = px[4 * i + 2];
    n += std::max({r, g, b}) - std::min({r, g, b}) > 60;
  }
  stbi_image_free(px);
  if (w) *w = ww;
  if (h) *h = hh;
  return n;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST(ResidualGap, TimeWeightedResidualHasTheBoundsWeights) {
  Sde ou;  // g = 1: the square of the mean RMS over the slices
  EXPECT_DOUBLE_EQ(time_weighted_residual(ou, {1, 3, 5, 7}, {1, 4, 9, 16}), 2.5 * 2.5);
  // A residual equally large at every t: the plain mean R².
  EXPECT_DOUBLE_EQ(time_weighted_residual(ou, {1, 3, 5}, {0.7, 0.7, 0.7}), 0.7);
  // Jensen: below the mean of the slices' R² when the RMS varies over t.
  EXPECT_LT(time_weighted_residual(ou, {1, 3, 5, 7}, {1, 4, 9, 16}), (1 + 4 + 9 + 16) / 4.0);
  // VP: g(t)² = β(t) = β_min + t (β_max - β_min) weighs the late slice 15.025 : 5.075.
  Sde vp;
  vp.kind = Sde::Kind::VP;
  vp.T = 1;
  const double w1 = 0.1 + 0.25 * 19.9, w2 = 0.1 + 0.75 * 19.9;
  const double rms = (w1 * 1 + w2 * 3) / (w1 + w2);
  EXPECT_NEAR(time_weighted_residual(vp, {0.25, 0.75}, {1, 9}), rms * rms, 1e-12);
  // An empty slice (NaN) is left out; nothing left, or sizes that differ: NaN.
  EXPECT_DOUBLE_EQ(time_weighted_residual(ou, {1, 3, 5}, {4, NAN, 4}), 4.0);
  EXPECT_TRUE(std::isnan(time_weighted_residual(ou, {1, 3}, {NAN, NAN})));
  EXPECT_TRUE(std::isnan(time_weighted_residual(ou, {1, 3}, {1})));
}

TEST(ResidualGap, CsvRoundTripAndAppendKeepsOldPoints) {
  const auto dir = gapscope::testing::temp_dir("gap-csv");
  const auto pts = some_points();
  const std::string f = (dir / "g.csv").string();
  write_residual_gap_csv(f, pts);
  EXPECT_EQ(gapscope::testing::slurp(f).rfind(std::string(kResidualGapHeader) + "\n", 0), 0u);
  const auto back = read_residual_gap_csv(f);
  ASSERT_EQ(back.size(), pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) EXPECT_TRUE(back[i] == pts[i]) << i;
  EXPECT_EQ(back[4].source, "circles2, \"quoted\"");
  EXPECT_TRUE(std::isnan(back[5].w2_ode_sde));

  // Appending: the file's points stay first, only the new ones are added.
  std::vector<ResidualGapPoint> more{pts[0], pts[1]};
  more[1].iteration = 123456789012LL;
  append_residual_gap_csv(f, more);
  const auto appended = read_residual_gap_csv(f);
  ASSERT_EQ(appended.size(), pts.size() + 1);
  for (std::size_t i = 0; i < pts.size(); ++i) EXPECT_TRUE(appended[i] == pts[i]) << i;
  EXPECT_EQ(appended.back().iteration, 123456789012LL);
  append_residual_gap_csv(f, more);  // the same again: nothing new
  EXPECT_EQ(read_residual_gap_csv(f).size(), pts.size() + 1);
  // A missing file is created.
  append_residual_gap_csv((dir / "new.csv").string(), more);
  EXPECT_EQ(read_residual_gap_csv((dir / "new.csv").string()).size(), 2u);
  fs::remove_all(dir);
}

TEST(ResidualGap, BadLinesAreOneLineNamingFileAndLine) {
  const auto dir = gapscope::testing::temp_dir("gap-bad");
  const std::string h = std::string(kResidualGapHeader) + "\n", ok = "a,10,1,0.5,0.4,0.2\n";
  struct Case {
    std::string text, want;
  };
  const Case cases[] = {
      {"x,y\n" + ok, ":1: expected the header"},
      {"", ":1: empty file"},
      {h + ok + "a,10,1,0.5,0.4\n", ":3: expected 6 fields, got 5"},
      {h + ok + ok + "a,10,1,zero,0.4,0.2\n", ":4: res_mean_sq: expected a number, got 'zero'"},
      {h + "a,-3,1,0.5,0.4,0.2\n", ":2: iteration: expected an integer >= 0"},
      {h + "a,1.5,1,0.5,0.4,0.2\n", ":2: iteration"},
      {h + "a,10,-1,0.5,0.4,0.2\n", ":2: lambda: expected a number >= 0"},
      {h + "\"a,10,1,0.5,0.4,0.2\n", ":2: unclosed quote"},
      {h + "a,10,1,0.5,0.4,0.2x\n", ":2: w2_ode_sde: expected a number, got '0.2x'"},
  };
  int k = 0;
  for (const auto& c : cases) {
    const std::string f = (dir / ("bad" + std::to_string(k++) + ".csv")).string();
    write(f, c.text);
    const std::string e = gapscope::testing::error_of([&] { read_residual_gap_csv(f); });
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(e.rfind(f, 0), 0u) << e;
    EXPECT_NE(e.find(c.want), std::string::npos) << e << "\nwanted: " << c.want;
  }
  const std::string missing = (dir / "missing.csv").string();
  EXPECT_NE(gapscope::testing::error_of([&] { read_residual_gap_csv(missing); }).find(missing), std::string::npos);
  fs::remove_all(dir);
}

TEST(ResidualGap, LogLogFitRecoversAPowerLaw) {
  std::vector<double> x{0.01, 0.1, 1, 10, -1, 0}, y;
  for (double v : x) y.push_back(3 * v * v);
  double slope = 0, icpt = 0;
  int used = 0;
  ASSERT_TRUE(loglog_fit(x, y, slope, icpt, &used));
  EXPECT_EQ(used, 4);  // the non-positive x are left out
  EXPECT_NEAR(slope, 2.0, 1e-12);
  EXPECT_NEAR(icpt, std::log10(3.0), 1e-12);
  EXPECT_FALSE(loglog_fit({1, 2}, {1, 2}, slope, icpt));
  EXPECT_FALSE(loglog_fit({2, 2, 2}, {1, 2, 3}, slope, icpt));
}

TEST(ResidualGap, FigureRendersBothPanelsWithTheColourScale) {
  const auto dir = gapscope::testing::temp_dir("gap-fig");
  const fig::Figure f = residual_gap_figure(some_points(), "test", {"a note"});
  ASSERT_EQ(f.panels.size(), 2u);
  for (const auto& p : f.panels) {
    EXPECT_EQ(p.x.scale, fig::Scale::Log);
    EXPECT_EQ(p.y.scale, fig::Scale::Log);
    ASSERT_TRUE(p.color_scale.has_value());
    EXPECT_EQ(p.scatters.size(), 2u);  // two sources, two shapes
    ASSERT_EQ(p.lines.size(), 1u);     // the fit
    ASSERT_FALSE(p.caption.empty());
    EXPECT_NE(p.caption[0].find("slope"), std::string::npos);
  }
  EXPECT_NE(f.notes.back().find("1 of 8 points not drawn"), std::string::npos) << f.notes.back();
  for (const char* name : {"g.png", "g.svg", "g.pdf"}) fig::write_figure(f, (dir / name).string());
  int w = 0, h = 0;
  const int colour = coloured_pixels(dir / "g.png", &w, &h);
  EXPECT_GT(w, 600);
  EXPECT_GT(h, 300);
  EXPECT_GT(colour, 2000);  // the colour bars and the markers
  EXPECT_GT(fs::file_size(dir / "g.pdf"), 5000u);

  // Only λ = 0 (the zero box, no gradient), a single point, and none at all still draw.
  auto zeros = some_points();
  for (auto& p : zeros) p.lambda = 0;
  fig::write_figure(residual_gap_figure(zeros), (dir / "zeros.png").string());
  fig::write_figure(residual_gap_figure({zeros[0]}), (dir / "one.png").string());
  fig::write_figure(residual_gap_figure({}), (dir / "none.png").string());
  EXPECT_GT(fs::file_size(dir / "none.png"), 1000u);
  fs::remove_all(dir);
}

TEST(ResidualHistory, HeatmapOfTheSliceColumnsWithGapsAndALogScale) {
  std::vector<TrainRow> rows;
  for (int it = 1; it <= 40; ++it) {
    TrainRow r;
    r.iteration = it;
    r.lambda = it <= 20 ? 0 : 1;
    // Measured every 5 iterations, with 10..20 missing (a resumed run): slices spanning decades.
    if (it % 5 == 0 && (it < 10 || it > 20))
      for (int k = 0; k < kResidualSlices; ++k) r.res_slice_abs.push_back(std::pow(10.0, -k / 3.0) * it);
    rows.push_back(r);
  }
  const ResidualHistory h = residual_history(rows, 1e-5, 10);
  ASSERT_EQ(h.iteration.size(), 5u);  // 5, 25, 30, 35, 40
  EXPECT_EQ(h.iteration.front(), 5);
  EXPECT_EQ(h.slices, kResidualSlices);
  ASSERT_EQ(h.lambda_changes.size(), 1u);
  EXPECT_EQ(h.lambda_changes[0].first, 21);
  const std::string csv = residual_history_csv(h);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 5 * kResidualSlices);
  EXPECT_EQ(csv.rfind("iteration,lambda,slice,t0,t1,res_mean_abs\n", 0), 0u);

  const fig::Figure f = residual_history_figure(h, "history");
  ASSERT_EQ(f.panels.size(), 1u);
  ASSERT_TRUE(f.panels[0].heatmap.has_value());
  const fig::Heatmap& m = *f.panels[0].heatmap;
  EXPECT_EQ(m.scale, fig::Scale::Log);  // 3 decades
  EXPECT_EQ(m.ny, kResidualSlices);
  EXPECT_EQ(m.nx, 8);  // iterations 5..40 every 5
  int empty = 0;
  for (int c = 0; c < m.nx; ++c) empty += std::isnan(m.values[c]);
  EXPECT_EQ(empty, 3);  // 10, 15 and 20 were not measured: gaps, not stretched neighbours
  EXPECT_EQ(f.panels[0].marks.size(), 1u);
  const auto dir = gapscope::testing::temp_dir("hist-fig");
  fig::write_figure(f, (dir / "h.png").string());
  EXPECT_GT(coloured_pixels(dir / "h.png"), 3000);
  fig::write_figure(residual_history_figure(residual_history({}, 1e-5, 10)), (dir / "empty.png").string());
  EXPECT_TRUE(fs::exists(dir / "empty.png"));
  fs::remove_all(dir);
}

#include <gtest/gtest.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <signal.h>
#include <stb_image.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "io/figure.h"
#include "style/colormap.h"
#include "style/palette.h"
#include "test_util.h"

using namespace gapscope;
namespace fs = std::filesystem;

namespace {

struct Raster {
  int w = 0, h = 0;
  std::vector<unsigned char> px;  // RGBA
  const unsigned char* at(int x, int y) const { return px.data() + (static_cast<std::size_t>(y) * w + x) * 4; }
};

Raster decode(const std::string& png) {
  Raster im;
  int ch = 0;
  unsigned char* p = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                           static_cast<int>(png.size()), &im.w, &im.h, &ch, 4);
  if (!p) return im;
  im.px.assign(p, p + static_cast<std::size_t>(im.w) * im.h * 4);
  stbi_image_free(p);
  return im;
}

bool near(const unsigned char* p, int r, int g, int b, int tol = 6) {
  return std::abs(p[0] - r) <= tol && std::abs(p[1] - g) <= tol && std::abs(p[2] - b) <= tol;
}
bool near(const unsigned char* p, style::Color c, int tol = 6) { return near(p, c.r, c.g, c.b, tol); }
bool near(const unsigned char* p, style::Rgb c, int tol = 6) {
  return near(p, static_cast<int>(std::lround(c.r * 255)), static_cast<int>(std::lround(c.g * 255)),
              static_cast<int>(std::lround(c.b * 255)), tol);
}

// A plot rectangle in pixels, shrunk by `in` pixels on each side (away from the frame).
struct PxRect {
  int x0, y0, x1, y1;  // inclusive
  bool contains(int x, int y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
};
PxRect pixels(const fig::Rect& r, double scale, int in = 0) {
  return {static_cast<int>(std::ceil(r.x * scale)) + in, static_cast<int>(std::ceil(r.y * scale)) + in,
          static_cast<int>(std::floor((r.x + r.w) * scale)) - 1 - in,
          static_cast<int>(std::floor((r.y + r.h) * scale)) - 1 - in};
}

using gapscope::testing::slurp;

// The message of the E that fn throws; "" when it throws none.
template <class E, class Fn>
std::string thrown(Fn fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

void expect_one_line_naming(const std::string& what, const std::string& path) {
  EXPECT_NE(what.find(path), std::string::npos) << "'" << what << "'";
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

// A cloud on a regular grid filling [-1, 1]^2.
Points grid_cloud(int n) {
  Points p(2, static_cast<std::size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      p.row(static_cast<std::size_t>(i) * n + j)[0] = -1 + 2 * (i + 0.5f) / n;
      p.row(static_cast<std::size_t>(i) * n + j)[1] = -1 + 2 * (j + 0.5f) / n;
    }
  return p;
}

fig::Panel square(double box) {
  fig::Panel p;
  p.x.min = p.y.min = -box;
  p.x.max = p.y.max = box;
  return p;
}

// Everything a figure can hold, once.
fig::Figure gallery() {
  fig::Figure f;
  f.title = "gapscope test figure";
  f.columns = 3;
  f.column_headers = {{"lines", 1}, {"clouds and a map", 2}};
  f.row_headers = {"row one"};
  fig::Panel a;
  a.title = "W2 against iteration";
  a.x.label = "iteration";
  a.y.label = "W\u2082";
  a.y.scale = fig::Scale::Log;
  a.x.grid = a.y.grid = true;
  fig::Line gap{"W\u2082(ODE, SDE)", {}, {}, style::palette::kGap, 1.8, true, {}};
  fig::Line ode{"W\u2082(ODE, data)", {}, {}, style::palette::kOde, 1.2, false, {4, 2}};
  for (int i = 0; i <= 20; ++i) {
    gap.x.push_back(i * 500), gap.y.push_back(0.05 + 2 * std::exp(-i / 4.0));
    ode.x.push_back(i * 500), ode.y.push_back(i == 7 ? NAN : 0.1 + std::exp(-i / 6.0));
  }
  a.lines = {gap, ode};
  a.marks = {{2000, "\u03bb = 1"}, {2300, "\u03bb = 10"}, {7000, "\u03bb = 0"}};
  a.caption = {"caption line one", "and a second, longer caption line"};
  fig::Panel b = square(2);
  b.title = "dots and density";
  fig::Cloud dots;
  dots.name = "dots";
  dots.copy = grid_cloud(40);
  dots.color = style::palette::kSde;
  fig::Cloud dense;
  dense.name = "density";
  dense.copy = grid_cloud(300);
  for (auto& v : dense.copy.v) v = v * 0.5f + 0.6f;
  dense.color = style::palette::kOde;
  dense.density = true;
  b.clouds = {dots, dense};
  fig::Panel c = square(1);
  c.title = "heatmap";
  fig::Heatmap h;
  h.nx = 32, h.ny = 32;
  h.x0 = h.y0 = -1, h.x1 = h.y1 = 1;
  h.map = style::Colormap::Diverging;
  h.label = "residual R";
  for (int j = 0; j < 32; ++j)
    for (int i = 0; i < 32; ++i) h.values.push_back(std::sin(i / 5.0) * std::cos(j / 7.0) * 3);
  c.heatmap = h;
  c.caption = {"a map with its colour bar"};
  f.panels = {a, b, c};
  f.notes = {
      "Notes sit under the whole figure and wrap at its width when they are long enough to need it, "
      "which this one is meant to be."};
  return f;
}

}  // namespace

TEST(Figure, EveryFormatIsAValidFile) {
  const fig::Figure f = gallery();
  const fig::Layout L = fig::layout(f);
  ASSERT_EQ(L.plots.size(), 3u);

  const std::string png = fig::render(f, fig::Format::Png);
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const Raster im = decode(png);
  ASSERT_FALSE(im.px.empty()) << stbi_failure_reason();
  EXPECT_EQ(im.w, static_cast<int>(std::ceil(L.width * f.scale)));
  EXPECT_EQ(im.h, static_cast<int>(std::ceil(L.height * f.scale)));

  const std::string svg = fig::render(f, fig::Format::Svg);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("width=\"" + std::to_string(static_cast<int>(L.width)) + "pt\""), std::string::npos)
      << svg.substr(0, 400);

  const std::string pdf = fig::render(f, fig::Format::Pdf);
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf.find("%%EOF", pdf.size() - 16), std::string::npos);
  EXPECT_NE(pdf.find("gapscope test figure"), std::string::npos);  // the document title

  // write_figure picks the format by extension, any case.
  auto dir = gapscope::testing::temp_dir("figure");
  for (const char* name : {"g.png", "g.svg", "g.pdf", "G.PNG"}) fig::write_figure(f, (dir / name).string());
  EXPECT_EQ(slurp(dir / "g.png").substr(0, 8), png.substr(0, 8));
  EXPECT_EQ(slurp(dir / "G.PNG").substr(0, 8), png.substr(0, 8));
  EXPECT_EQ(slurp(dir / "g.svg").rfind("<?xml", 0), 0u);
  EXPECT_EQ(slurp(dir / "g.pdf").rfind("%PDF-", 0), 0u);
  std::cout << "gallery: " << dir << "/g.{png,svg,pdf}\n";
}

TEST(Figure, ScaleSetsThePngResolutionNotTheLayout) {
  fig::Figure f = gallery();
  f.scale = 1;
  const fig::Layout a = fig::layout(f);
  const Raster one = decode(fig::render(f, fig::Format::Png));
  f.scale = 3;
  const fig::Layout b = fig::layout(f);
  const Raster three = decode(fig::render(f, fig::Format::Png));
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(one.w, static_cast<int>(std::ceil(a.width)));
  EXPECT_EQ(three.w, static_cast<int>(std::ceil(a.width * 3)));
  EXPECT_EQ(three.h, static_cast<int>(std::ceil(a.height * 3)));
}

TEST(Figure, CloudColourShowsInsideItsPanelOnly) {
  for (const bool density : {false, true}) {
    fig::Figure f;
    f.columns = 2;
    fig::Panel left = square(1), right = square(1);
    fig::Cloud c;
    c.copy = grid_cloud(400);
    for (auto& v : c.copy.v) v *= 1.2f;  // past the axes' ends, which clip it
    c.color = style::palette::kOde;
    c.alpha = 1;
    c.radius = 3;
    c.density = density;
    left.clouds = {c};
    f.panels = {left, right};
    const fig::Layout L = fig::layout(f);
    const Raster im = decode(fig::render(f, fig::Format::Png));
    ASSERT_FALSE(im.px.empty());
    const PxRect in = pixels(L.plots[0], f.scale, 2), around = pixels(L.plots[0], f.scale, -2);
    long inside = 0, total = 0, outside = 0;
    for (int y = 0; y < im.h; ++y)
      for (int x = 0; x < im.w; ++x) {
        const bool is = near(im.at(x, y), style::palette::kOde, 10);
        if (in.contains(x, y)) {
          ++total;
          inside += is;
        } else if (!around.contains(x, y)) {
          outside += is;
        }
      }
    EXPECT_GT(inside, total * 9 / 10) << "density " << density;
    EXPECT_EQ(outside, 0) << "density " << density;
  }
}

TEST(Figure, HeatmapShowsTheColourMapEndsInThePlotAndTheColourBar) {
  for (const auto map : {style::Colormap::Sequential, style::Colormap::Diverging}) {
    fig::Figure f;
    fig::Panel p = square(1);
    fig::Heatmap h;
    h.nx = 2, h.ny = 1;
    h.values = {-3, 5};  // the two ends of the map
    h.x0 = h.y0 = -1, h.x1 = h.y1 = 1;
    h.map = map;
    h.label = "value";
    p.heatmap = h;
    f.panels = {p};
    const fig::Layout L = fig::layout(f);
    const Raster im = decode(fig::render(f, fig::Format::Png));
    ASSERT_FALSE(im.px.empty());
    const PxRect r = pixels(L.plots[0], f.scale, 4), edge = pixels(L.plots[0], f.scale, 1);
    const int ym = (r.y0 + r.y1) / 2;
    const style::Rgb lo = style::colormap(map, 0), hi = style::colormap(map, 1);
    EXPECT_TRUE(near(im.at(r.x0 + 2, ym), lo, 3));
    EXPECT_TRUE(near(im.at(r.x1 - 2, ym), hi, 3));
    // The colour bar, right of the plot: the map's top end above, its bottom end below.
    int top = 0, bottom = 0;
    for (int x = r.x1 + 8; x < im.w; ++x) {
      top += near(im.at(x, edge.y0), hi, 8);
      bottom += near(im.at(x, edge.y1), lo, 8);
    }
    EXPECT_GT(top, 4);
    EXPECT_GT(bottom, 4);
  }
}

TEST(Figure, LogAxisPlacesDecadeTicks) {
  auto grid_rows = [](fig::Scale scale) {
    fig::Figure f;
    fig::Panel p;
    p.x.min = 0, p.x.max = 1;
    p.y.min = 1, p.y.max = 1000;
    p.y.scale = scale;
    p.y.grid = true;
    p.legend = fig::Legend::None;
    p.lines = {{"", {0, 0.05}, {2, 500}, style::palette::kOde, 1, false, {}}};
    f.panels = {p};
    const fig::Layout L = fig::layout(f);
    const Raster im = decode(fig::render(f, fig::Format::Png));
    const PxRect r = pixels(L.plots[0], f.scale);
    // The rows of the middle column that carry a grid line, as fractions of the height from the bottom.
    std::vector<double> at;
    const int x = (r.x0 + r.x1) / 2;
    auto inked = [&](int y) { return im.at(x, y)[0] < 250; };  // a grid line, however it is anti-aliased
    for (int y = r.y0 + 3; y <= r.y1 - 3; ++y)
      if (inked(y) && !inked(y - 1)) at.push_back((r.y1 + 1 - (y + 0.5)) / (r.y1 + 1 - r.y0));
    return at;
  };
  const auto log = grid_rows(fig::Scale::Log);
  ASSERT_EQ(log.size(), 2u) << "the inner decades 10 and 100";
  EXPECT_NEAR(log[0], 2.0 / 3, 0.02);  // 100, higher up, comes first from the top
  EXPECT_NEAR(log[1], 1.0 / 3, 0.02);
  const auto lin = grid_rows(fig::Scale::Linear);
  EXPECT_GE(lin.size(), 3u);
  for (double v : lin) EXPECT_GT(std::abs(v - 1.0 / 3), 0.03) << "a linear axis has no tick at 10";
}

TEST(Figure, NonFiniteValuesAreSkippedAndEmptyPanelsSaySo) {
  fig::Figure f;
  f.columns = 3;
  fig::Panel lines;
  lines.lines = {{"", {0, 1, NAN, 3, INFINITY, 5}, {1, NAN, 2, 3, 4, -INFINITY}, style::palette::kSde, 2, true, {}}};
  fig::Panel nan_cloud;
  fig::Cloud c;
  c.copy = Points(2, 100);
  for (auto& v : c.copy.v) v = NAN;
  nan_cloud.clouds = {c};
  fig::Panel nothing;
  f.panels = {lines, nan_cloud, nothing};
  const fig::Layout L = fig::layout(f);
  for (const auto fmt : {fig::Format::Png, fig::Format::Svg, fig::Format::Pdf})
    EXPECT_FALSE(fig::render(f, fmt).empty());
  const Raster im = decode(fig::render(f, fig::Format::Png));
  auto count = [&](std::size_t k, style::Color want, int tol) {
    const PxRect r = pixels(L.plots[k], f.scale, 3);
    int n = 0;
    for (int y = r.y0; y <= r.y1; ++y)
      for (int x = r.x0; x <= r.x1; ++x) n += near(im.at(x, y), want, tol);
    return n;
  };
  EXPECT_GT(count(0, style::palette::kSde, 20), 50);  // the finite part is drawn
  EXPECT_EQ(count(0, style::paper::kMuted, 30), 0);   // and the panel is not "empty"
  EXPECT_GT(count(1, style::paper::kMuted, 30), 10);  // "no points"
  EXPECT_GT(count(2, style::paper::kMuted, 30), 10);  // "no data"
}

TEST(Figure, AutoLegendStaysOffTheData) {
  auto width = [](fig::Legend where, bool everywhere) {
    fig::Figure f;
    fig::Panel p = square(1);
    p.legend = where;
    fig::Cloud c;
    c.name = "cloud";
    c.copy = grid_cloud(everywhere ? 60 : 10);
    if (!everywhere)
      for (auto& v : c.copy.v) v = v * 0.2f - 0.7f;  // bottom-left corner only
    p.clouds = {c};
    f.panels = {p};
    return fig::layout(f).width;
  };
  // A cloud in one corner leaves room inside; one that fills the plot pushes the legend out.
  EXPECT_EQ(width(fig::Legend::Auto, false), width(fig::Legend::None, false));
  EXPECT_GT(width(fig::Legend::Auto, true), width(fig::Legend::None, true));
  EXPECT_EQ(width(fig::Legend::Right, false), width(fig::Legend::Auto, true));
}

TEST(Figure, SharedAxesLabelOnlyTheOuterPanels) {
  fig::Figure f;
  f.columns = 3;
  for (int k = 0; k < 6; ++k) {
    fig::Panel p = square(4);
    p.x.label = "x";
    p.y.label = "y";
    f.panels.push_back(p);
  }
  const fig::Layout own = fig::layout(f);
  f.share_x = f.share_y = true;
  const fig::Layout shared = fig::layout(f);
  EXPECT_LT(shared.width, own.width);
  EXPECT_LT(shared.height, own.height);
  // Panels of a row stay aligned, and so do the panels of a column.
  EXPECT_EQ(shared.plots[0].y, shared.plots[2].y);
  EXPECT_EQ(shared.plots[1].x, shared.plots[4].x);
}

TEST(Figure, UnknownExtensionIsAOneLineError) {
  auto dir = gapscope::testing::temp_dir("figure");
  const fig::Figure f = gallery();
  for (const char* name : {"f.jpg", "f", "f.svg.gz"}) {
    const std::string path = (dir / name).string();
    const std::string what = thrown<std::runtime_error>([&] { fig::write_figure(f, path); });
    expect_one_line_naming(what, path);
    EXPECT_NE(what.find(".png, .svg or .pdf"), std::string::npos) << what;
    EXPECT_FALSE(fs::exists(path));
  }
  fs::remove_all(dir);
}

TEST(Figure, FailedWritesNameTheFileAndLeaveTheOldOne) {
  auto dir = gapscope::testing::temp_dir("figure");
  const fig::Figure f = gallery();

  const std::string missing = (dir / "no" / "such" / "f.png").string();
  expect_one_line_naming(thrown<std::runtime_error>([&] { fig::write_figure(f, missing); }), missing);

  // A read-only folder (root writes anyway, so there only the checks below run).
  const fs::path ro = dir / "ro";
  fs::create_directories(ro);
  const std::string kept = (ro / "f.svg").string();
  { std::ofstream(kept) << "old"; }
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(ro.c_str(), W_OK) != 0) {
    expect_one_line_naming(thrown<std::runtime_error>([&] { fig::write_figure(f, kept); }), kept);
    EXPECT_EQ(slurp(kept), "old");
  }
  fs::permissions(ro, fs::perms::owner_all);

  // A disk that fills up mid-write (a file size limit, which binds root too).
  const std::string target = (dir / "f.pdf").string();
  { std::ofstream(target) << "old"; }
  struct rlimit was {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &was), 0);
  void (*handler)(int) = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = was;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string full = thrown<std::runtime_error>([&] { fig::write_figure(f, target); });
  ::setrlimit(RLIMIT_FSIZE, &was);
  ::signal(SIGXFSZ, handler);
  expect_one_line_naming(full, target);
  EXPECT_EQ(slurp(target), "old");

  // An inconsistent description: one line naming the file, the old file kept.
  fig::Figure bad = f;
  bad.panels[0].lines[0].y.pop_back();
  const std::string what = thrown<std::invalid_argument>([&] { fig::write_figure(bad, target); });
  expect_one_line_naming(what, target);
  EXPECT_NE(what.find("x values"), std::string::npos) << what;
  EXPECT_EQ(slurp(target), "old");
  for (const auto& e : fs::directory_iterator(dir))  // no temporary file left behind
    EXPECT_EQ(e.path().filename().string().rfind(".f.", 0), std::string::npos) << e.path();
  fs::remove_all(dir);
}

TEST(Figure, InconsistentGridsAreRejected) {
  fig::Figure f;
  f.columns = 2;
  f.panels = {fig::Panel{}, fig::Panel{}, fig::Panel{}};
  f.panels[1].caption = {"runs past the row"};
  f.panels[1].caption_span = 2;
  EXPECT_THROW(fig::layout(f), std::invalid_argument);
  f.panels[1].caption_span = 1;
  f.panels[0].caption = {"spans both"};
  f.panels[0].caption_span = 2;
  EXPECT_THROW(fig::layout(f), std::invalid_argument);  // panel 1 has its own caption under it
  f.panels[1].caption.clear();
  EXPECT_NO_THROW(fig::layout(f));
  f.column_headers = {{"a", 2}, {"b", 1}};
  EXPECT_THROW(fig::layout(f), std::invalid_argument);
  f.column_headers = {{"a", 2}};
  f.panels[2].heatmap = fig::Heatmap{};
  f.panels[2].heatmap->nx = 3;
  EXPECT_THROW(fig::layout(f), std::invalid_argument);
  f.panels[2].heatmap.reset();
  f.panels[2].y.scale = fig::Scale::Log;
  f.panels[2].y.min = 0;
  EXPECT_THROW(fig::layout(f), std::invalid_argument);
}

// Markers coloured by a value: sizes must agree, a panel has one colour bar, and a log
// colour scale (its ends, a heatmap's values) takes positive values only.
TEST(Figure, ScattersAndColourScalesAreChecked) {
  fig::Figure f;
  fig::Panel p;
  fig::Scatter sc;
  sc.x = {1, 2, 3};
  sc.y = {1, 2, 3};
  sc.value = {0, 1, 10};
  p.scatters.push_back(sc);
  fig::ColorScale cs;
  cs.scale = fig::Scale::Log;
  p.color_scale = cs;
  f.panels.push_back(p);
  EXPECT_NO_THROW(fig::render(f, fig::Format::Png));
  f.panels[0].scatters[0].value = {1, 2};
  EXPECT_THROW(fig::layout(f), std::invalid_argument);
  f.panels[0].scatters[0].value.clear();  // no values: drawn in the scatter's colour
  EXPECT_NO_THROW(fig::layout(f));
  f.panels[0].color_scale->vmin = 0;
  EXPECT_THROW(fig::layout(f), std::invalid_argument);
  f.panels[0].color_scale->vmin = NAN;
  f.panels[0].heatmap = fig::Heatmap{};
  f.panels[0].heatmap->nx = f.panels[0].heatmap->ny = 1;
  f.panels[0].heatmap->values = {1};
  EXPECT_THROW(fig::layout(f), std::invalid_argument);  // two colour bars in one place
  f.panels[0].color_scale.reset();
  f.panels[0].heatmap->scale = fig::Scale::Log;
  f.panels[0].heatmap->values = {-1};  // nothing drawable on a log colour scale: still renders
  EXPECT_NO_THROW(fig::render(f, fig::Format::Svg));
}

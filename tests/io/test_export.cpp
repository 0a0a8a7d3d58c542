#include <gtest/gtest.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/export.h"
#include "test_util.h"

using namespace gapscope;

namespace {

// A small XML checker: every tag is closed in order, attributes are quoted, the
// document has exactly one root. Returns "" or what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = 0;
  if (s.rfind("<?xml", 0) == 0) i = s.find("?>") + 2;
  while ((i = s.find('<', i)) != std::string::npos) {
    const std::size_t end = s.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = s.substr(i + 1, end - i - 1);
    const std::string between = s.substr(i, end - i);
    int quotes = 0;
    for (char c : tag) quotes += c == '"';
    if (quotes % 2) return "unbalanced quotes in <" + tag + ">";
    if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) return "closing </" + name + "> does not match";
      stack.pop_back();
    } else {
      const bool self = !tag.empty() && tag.back() == '/';
      const std::string name = tag.substr(0, tag.find_first_of(" /"));
      if (stack.empty()) ++roots;
      if (!self) stack.push_back(name);
    }
    i = end + 1;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return "";
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

}  // namespace

TEST(Export, PngRoundTrip) {
  auto dir = gapscope::testing::temp_dir("export");
  const int w = 7, h = 5;
  std::vector<std::uint8_t> px(w * h * 4);
  for (int i = 0; i < w * h * 4; ++i) px[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
  const auto path = (dir / "a.png").string();
  write_png(path, w, h, px);
  int rw = 0, rh = 0, ch = 0;
  unsigned char* back = stbi_load(path.c_str(), &rw, &rh, &ch, 4);
  ASSERT_NE(back, nullptr) << stbi_failure_reason();
  EXPECT_EQ(rw, w);
  EXPECT_EQ(rh, h);
  EXPECT_EQ(std::vector<std::uint8_t>(back, back + w * h * 4), px);
  stbi_image_free(back);

  // flip_y writes the last row first
  write_png(path, w, h, px, /*flip_y=*/true);
  back = stbi_load(path.c_str(), &rw, &rh, &ch, 4);
  ASSERT_NE(back, nullptr);
  for (int y = 0; y < h; ++y)
    for (int k = 0; k < w * 4; ++k) ASSERT_EQ(back[y * w * 4 + k], px[(h - 1 - y) * w * 4 + k]);
  stbi_image_free(back);

  EXPECT_THROW(write_png(path, w, h, std::vector<std::uint8_t>(3)), std::invalid_argument);
  EXPECT_THROW(write_png((dir / "no" / "such" / "dir.png").string(), w, h, px), std::runtime_error);
}

TEST(Export, ImagePrimitivesAndBlending) {
  Image img(20, 10, kWhite);
  img.fill_rect(2, 2, 4, 4, kBlack);
  EXPECT_EQ(img.at(3, 3).r, 0);
  EXPECT_EQ(img.at(5, 3).r, 255);
  img.blend(10, 5, Rgba{0, 0, 0, 128});  // half black over white: mid grey
  EXPECT_NEAR(img.at(10, 5).r, 127, 1);
  EXPECT_EQ(img.at(10, 5).a, 255);
  img.blend(-1, 100, kBlack);  // outside: ignored
  img.line(0, 9, 19, 9, Rgba{255, 0, 0, 255});
  for (int x = 0; x < 20; ++x) EXPECT_EQ(img.at(x, 9).g, 0) << x;
  // The font draws ink inside its box and nowhere else.
  Image t(40, 9, kWhite);
  t.text(1, 1, "W2 0.5", kBlack);
  int ink = 0;
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 40; ++x) {
      const bool dark = t.at(x, y).r < 128;
      ink += dark;
      if (dark) {
        EXPECT_GE(x, 1);
        EXPECT_LT(x, 1 + Image::text_width("W2 0.5"));
        EXPECT_GE(y, 1);
        EXPECT_LT(y, 8);
      }
    }
  EXPECT_GT(ink, 20);
  EXPECT_EQ(Image::text_width("\xCE\xBB=1"), 3 * 6 - 1);  // λ is one glyph
}

TEST(Export, ScatterPutsPixelsWherePointsAre) {
  Image img(100, 100, kWhite);
  Viewport vp;  // [-4,4]^2 onto the whole image
  vp.pw = vp.ph = 100;
  Points p(2, 3);
  const float xy[] = {-2.f, 2.f, 0.f, 0.f, 3.f, -1.f};
  std::copy(xy, xy + 6, p.v.begin());
  draw_scatter(img, p, vp, kBlack);
  int dark = 0;
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 100; ++x) dark += img.at(x, y).r < 128;
  EXPECT_EQ(dark, 3);
  // (-2, 2) -> column 25, row 25; (0,0) -> (50,50); (3,-1) -> (87,62)
  EXPECT_EQ(img.at(25, 25).r, 0);
  EXPECT_EQ(img.at(50, 50).r, 0);
  EXPECT_EQ(img.at(87, 62).r, 0);

  // The density image is darkest where most points are.
  Points q(2, 1000);
  for (std::size_t i = 0; i < q.n(); ++i) {
    q.row(i)[0] = i < 900 ? 1.f : -3.f;
    q.row(i)[1] = i < 900 ? 1.f : -3.f;
  }
  Image d(100, 100, kWhite);
  draw_density(d, q, vp, kBlack);
  EXPECT_LT(d.at(static_cast<int>(vp.to_px(1.0)), static_cast<int>(vp.to_py(1.0))).r,
            d.at(static_cast<int>(vp.to_px(-3.0)), static_cast<int>(vp.to_py(-3.0))).r);
  EXPECT_LT(d.at(static_cast<int>(vp.to_px(-3.0)), static_cast<int>(vp.to_py(-3.0))).r, 255);
  EXPECT_EQ(d.at(10, 90).r, 255);
}

TEST(Export, LinePlotSvgIsWellFormedAndHasTheSeries) {
  LinePlot lp;
  lp.title = "W2 <ODE, SDE> & co";
  lp.xlabel = "iteration";
  lp.ylabel = "W2";
  lp.log_y = true;
  lp.series.push_back({"ode-sde", {0, 1, 2, 3}, {1.0, 0.5, 0.1, 0.05}, "", true, ""});
  lp.series.push_back({"ode-data", {0, 1, 2, 3}, {2.0, 1.0, -1.0, 0.5}, "#ff0000", false, "4,3"});
  const std::string s = lp.svg();
  EXPECT_EQ(xml_problem(s), "") << s;
  EXPECT_NE(s.find("ode-sde"), std::string::npos);
  EXPECT_NE(s.find("ode-data"), std::string::npos);
  EXPECT_NE(s.find("W2 &lt;ODE, SDE&gt; &amp; co"), std::string::npos);
  // first series: one 4-point polyline; second: the non-positive value splits it (log axis)
  EXPECT_EQ(count(s, "<polyline"), 2u);  // the 1-point tail is not a line
  EXPECT_EQ(count(s, "<circle"), 4u);    // markers of series 1
  EXPECT_NE(s.find("1e-2"), std::string::npos);  // a log decade tick

  auto dir = gapscope::testing::temp_dir("export");
  Svg doc(100, 50);
  doc.text(5, 20, "a\"b");
  doc.save((dir / "x.svg").string());
  std::ifstream f(dir / "x.svg");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(xml_problem(ss.str()), "");
  EXPECT_NE(ss.str().find("a&quot;b"), std::string::npos);
}

TEST(Export, ScatterPlotSvg) {
  Points a(2, 10), b(2, 10000);
  for (std::size_t i = 0; i < a.n(); ++i) a.row(i)[0] = a.row(i)[1] = 0.1f * static_cast<float>(i);
  for (std::size_t i = 0; i < b.n(); ++i) b.row(i)[0] = b.row(i)[1] = -0.0001f * static_cast<float>(i);
  a.row(9)[0] = 100.f;  // outside the range: clipped
  ScatterPlot sp;
  sp.title = "clouds";
  sp.clouds.push_back({"ode", &a, svg_color(kOdeColor)});
  ScatterCloud cb{"sde", &b, svg_color(kSdeColor)};
  cb.max_points = 500;
  sp.clouds.push_back(cb);
  const std::string s = sp.svg();
  EXPECT_EQ(xml_problem(s), "") << s.substr(0, 2000);
  EXPECT_NE(s.find("data-name=\"ode\""), std::string::npos);
  EXPECT_NE(s.find("data-name=\"sde\""), std::string::npos);
  // 9 in-range points of a, 500 strided of b, 2 legend markers
  EXPECT_EQ(count(s, "<circle"), 9u + 500u + 2u);
}

TEST(Export, NiceTicksAndNumbers) {
  auto t = nice_ticks(-4, 4, 4);
  ASSERT_FALSE(t.empty());
  EXPECT_DOUBLE_EQ(t.front(), -4);
  EXPECT_DOUBLE_EQ(t.back(), 4);
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], 2.0, 1e-12);
  EXPECT_EQ(fmt_num(0.1), "0.1");
  EXPECT_EQ(fmt_num(2.5e-05), "2.5e-05");
  EXPECT_EQ(fmt_num(1000), "1000");
}

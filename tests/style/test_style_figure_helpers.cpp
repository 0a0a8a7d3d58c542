// The style additions the figure writer and the lab's figure exports rely on.
#include <gtest/gtest.h>

#include "style/palette.h"

using namespace gapscope::style;

namespace {
int luminance(Color c) { return 299 * c.r + 587 * c.g + 114 * c.b; }
}  // namespace

TEST(StyleFigureHelpers, FromAbgrInvertsAbgr) {
  for (const Color c : {palette::kOde, palette::kSde, palette::kGap, palette::cycle(5), Color{1, 2, 3, 4}}) {
    const Color back = Color::from_abgr(c.abgr());
    EXPECT_EQ(back.r, c.r);
    EXPECT_EQ(back.g, c.g);
    EXPECT_EQ(back.b, c.b);
    EXPECT_EQ(back.a, c.a);
  }
  // ImGui's IM_COL32(r, g, b, a) layout: red in the low byte.
  const Color c = Color::from_abgr(0x80332211u);
  EXPECT_EQ(c.r, 0x11);
  EXPECT_EQ(c.g, 0x22);
  EXPECT_EQ(c.b, 0x33);
  EXPECT_EQ(c.a, 0x80);
}

TEST(StyleFigureHelpers, PaperNeutralsKeepTheirOrderOnWhite) {
  // Text darkest, then secondary text, then grid lines, on a white page.
  EXPECT_EQ(luminance(paper::kPage), luminance(Color{255, 255, 255}));
  EXPECT_LT(luminance(paper::kInk), luminance(paper::kMuted));
  EXPECT_LT(luminance(paper::kMuted), luminance(paper::kGrid));
  EXPECT_LT(luminance(paper::kGrid), luminance(paper::kPage));
  // Grid lines stay visible, secondary text stays readable.
  EXPECT_LT(luminance(paper::kGrid), luminance(paper::kPage) * 95 / 100);
  EXPECT_LT(luminance(paper::kMuted), luminance(paper::kPage) / 2);
}

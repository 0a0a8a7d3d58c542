// The visual vocabulary: ticks, number formats, colour maps and the palette that every
// figure and view shares.
#include <gtest/gtest.h>

#include <cmath>

#include "style/style.h"

using namespace gapscope::style;

TEST(Ticks, LinearTicksAreNiceMultiplesInsideTheRange) {
  // The multiple of 1, 2, 5 x 10^k nearest the raw step (range / target).
  const Ticks t = linear_ticks(-3.7, 3.7, 5);  // raw step 1.48
  EXPECT_DOUBLE_EQ(t.step, 1.0);
  EXPECT_EQ(t.values, (std::vector<double>{-3, -2, -1, 0, 1, 2, 3}));
  const Ticks t3 = linear_ticks(-3.7, 3.7, 3);  // raw step 2.47
  EXPECT_DOUBLE_EQ(t3.step, 2.0);
  EXPECT_EQ(t3.values, (std::vector<double>{-2, 0, 2}));
  // Multiples by index: no 0.30000000000000004 creeping into a label.
  const Ticks f = linear_ticks(0.0, 1.0, 10);
  EXPECT_DOUBLE_EQ(f.step, 0.1);
  ASSERT_EQ(f.values.size(), 11u);
  EXPECT_EQ(f.values[3], 3 * 0.1);
  EXPECT_EQ(tick_label(f.values[3], f.step), "0.3");
  // Reversed, degenerate and non-finite ranges.
  EXPECT_EQ(linear_ticks(4, -4, 4).values, (std::vector<double>{-4, -2, 0, 2, 4}));
  EXPECT_EQ(linear_ticks(2.5, 2.5).values, (std::vector<double>{2.5}));
  EXPECT_TRUE(linear_ticks(0, NAN).values.empty());
}

TEST(Ticks, LogTicksAreDecadesOrOneTwoFive) {
  const Ticks d = log_ticks(3e-4, 2.0, 6);
  EXPECT_EQ(d.step, 0.0);
  ASSERT_EQ(d.values.size(), 4u);  // 1e-3, 1e-2, 1e-1, 1
  EXPECT_NEAR(d.values.front(), 1e-3, 1e-15);
  EXPECT_NEAR(d.values.back(), 1.0, 1e-12);
  // Many decades: thinned to about `target`.
  EXPECT_LE(log_ticks(1e-12, 1e12, 5).values.size(), 7u);
  // Less than a decade: the 1-2-5 multiples.
  const Ticks n = log_ticks(0.15, 0.9, 5);
  EXPECT_EQ(n.values.size(), 2u);  // 0.2, 0.5
  EXPECT_NEAR(n.values[0], 0.2, 1e-12);
  EXPECT_TRUE(log_ticks(-1, 10).values.empty());
}

TEST(Format, NumbersAndTickLabels) {
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(2.5e-5), "2.5e-05");
  EXPECT_EQ(number(1000), "1000");
  EXPECT_EQ(number(0.123456, 3), "0.123");
  EXPECT_EQ(number(NAN), "nan");
  EXPECT_EQ(number(-INFINITY), "-inf");
  EXPECT_EQ(tick_label(0, 0.5), "0");
  EXPECT_EQ(tick_label(1.5, 0.5), "1.5");
  EXPECT_EQ(tick_label(2, 1), "2");
  EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
  EXPECT_EQ(tick_label(1e-4, 0), "1e-4");
  EXPECT_EQ(tick_label(2e6, 1e6), "2e6");
  EXPECT_EQ(tick_label(0.01, 0), "0.01");
  // Fine ticks on large values stay distinguishable (an imported network at iteration 1e5).
  EXPECT_EQ(tick_label(100000.2, 0.2), "100000.2");
  EXPECT_EQ(tick_label(99999.8, 0.2), "99999.8");
  EXPECT_EQ(tick_label(100000, 0.2), "100000.0");
  EXPECT_EQ(fixed(0.29), "0.290");
  EXPECT_EQ(fixed(2.0, 1), "2.0");
  EXPECT_EQ(fixed(NAN), "n/a");
  EXPECT_EQ(duration(12.4), "12 s");
  EXPECT_EQ(duration(185), "3 min 05 s");
  EXPECT_EQ(duration(7620), "2 h 07 min");
  EXPECT_EQ(duration(NAN), "?");
}

TEST(Colormap, EndsMiddleAndTheTextureAgree) {
  const auto& div = colormap_stops(Colormap::Diverging);
  const Rgb lo = colormap(Colormap::Diverging, 0), mid = colormap(Colormap::Diverging, 0.5),
            hi = colormap(Colormap::Diverging, 1);
  EXPECT_FLOAT_EQ(lo.b, div.front().b);
  EXPECT_FLOAT_EQ(hi.r, div.back().r);
  EXPECT_GT(mid.r, 0.9f);  // white in the middle: zero residual reads as no colour
  EXPECT_GT(mid.g, 0.9f);
  EXPECT_FLOAT_EQ(colormap(Colormap::Sequential, -3).r, colormap(Colormap::Sequential, 0).r);  // clamped
  // The texture the shaders sample: row m is map m, texel i at s = i / (width - 1).
  const int W = 64;
  const auto lut = colormap_lut(W);
  ASSERT_EQ(lut.size(), static_cast<std::size_t>(kColormapCount * W * 4));
  for (int m = 0; m < kColormapCount; ++m)
    for (int i : {0, 17, W - 1}) {
      const Rgb c = colormap(static_cast<Colormap>(m), static_cast<double>(i) / (W - 1));
      const unsigned char* px = &lut[(static_cast<std::size_t>(m) * W + i) * 4];
      EXPECT_NEAR(px[0], c.r * 255, 0.51);
      EXPECT_NEAR(px[1], c.g * 255, 0.51);
      EXPECT_NEAR(px[2], c.b * 255, 0.51);
      EXPECT_EQ(px[3], 255);
    }
}

TEST(Palette, RolesAreDistinctAndImGuiLayoutIsABGR) {
  using namespace palette;
  auto same = [](Color a, Color b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
  EXPECT_FALSE(same(kOde, kSde));
  EXPECT_FALSE(same(kOde, kData));
  EXPECT_FALSE(same(kSde, kData));
  EXPECT_EQ((Color{1, 2, 3, 4}.abgr()), 0x04030201u);
  EXPECT_EQ(kOde.with_alpha(10).a, 10);
  EXPECT_TRUE(same(cycle(kCycleSize + 1), cycle(1)));
  EXPECT_TRUE(same(cycle(-1), cycle(kCycleSize - 1)));
}

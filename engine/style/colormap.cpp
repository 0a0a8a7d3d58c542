#include "style/colormap.h"

#include <algorithm>
#include <cmath>

namespace gapscope::style {

const std::vector<Rgb>& colormap_stops(Colormap m) {
  static const std::vector<Rgb> diverging = {
      {0.020f, 0.188f, 0.380f}, {0.263f, 0.576f, 0.765f}, {0.969f, 0.969f, 0.969f},
      {0.839f, 0.376f, 0.302f}, {0.404f, 0.000f, 0.122f}};
  static const std::vector<Rgb> sequential = {{0.267f, 0.005f, 0.329f}, {0.253f, 0.265f, 0.530f},
                                              {0.164f, 0.471f, 0.558f}, {0.134f, 0.659f, 0.518f},
                                              {0.478f, 0.821f, 0.318f}, {0.993f, 0.906f, 0.144f}};
  return m == Colormap::Diverging ? diverging : sequential;
}

Rgb colormap(Colormap m, double s) {
  const auto& st = colormap_stops(m);
  const int n = static_cast<int>(st.size());
  const double x = (std::isnan(s) ? 0.0 : std::clamp(s, 0.0, 1.0)) * (n - 1);
  const int i = std::min(n - 2, static_cast<int>(x));
  const float f = static_cast<float>(x - i);
  const Rgb &a = st[i], &b = st[i + 1];
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

std::vector<unsigned char> colormap_lut(int width) {
  width = std::max(width, 2);
  std::vector<unsigned char> lut(static_cast<std::size_t>(kColormapCount) * width * 4);
  auto byte = [](float v) { return static_cast<unsigned char>(std::lround(std::clamp(v, 0.f, 1.f) * 255.f)); };
  for (int m = 0; m < kColormapCount; ++m)
    for (int i = 0; i < width; ++i) {
      const Rgb c = colormap(static_cast<Colormap>(m), static_cast<double>(i) / (width - 1));
      unsigned char* px = &lut[(static_cast<std::size_t>(m) * width + i) * 4];
      px[0] = byte(c.r), px[1] = byte(c.g), px[2] = byte(c.b), px[3] = 255;
    }
  return lut;
}

}  // namespace gapscope::style

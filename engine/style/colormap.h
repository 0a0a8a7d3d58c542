#pragma once
// The colour maps, stored once as data. The CPU samples them here (figures, colour bars);
// the lab uploads colormap_lut() as a texture that the heatmap shader samples, so the GPU
// and the CPU cannot disagree.
#include <array>
#include <vector>

namespace gapscope::style {

enum class Colormap {
  Diverging = 0,   // blue–white–red (RdBu-like), for signed values centred at 0
  Sequential = 1,  // viridis-like, for magnitudes
};
constexpr int kColormapCount = 2;

struct Rgb {
  float r = 0, g = 0, b = 0;  // in [0, 1]
};

// The stops of a map, evenly spaced over [0, 1] and interpolated linearly.
const std::vector<Rgb>& colormap_stops(Colormap m);
// The map at s in [0, 1] (clamped).
Rgb colormap(Colormap m, double s);
// Every map sampled at `width` evenly spaced points, one row per map in enum order:
// kColormapCount * width RGBA8 texels, row-major.
std::vector<unsigned char> colormap_lut(int width = 256);

}  // namespace gapscope::style

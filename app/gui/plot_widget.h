#pragma once
// The one line-plot widget every plot of the lab shares (no ImPlot): axes with nice
// ticks, optional log-y, legend, lines and markers, vertical event marks (λ changes),
// hover read-out of the nearest point. Exported figures come from the engine's figure
// writer (io/figure.h), fed with the same series (see Lab::export_svg).
#include <cmath>
#include <string>
#include <vector>

#include <imgui.h>

namespace gapscope::gui {

struct Series {
  std::string label;
  std::vector<double> x, y;
  ImU32 color = IM_COL32(255, 255, 255, 255);
  bool line = true;
  bool markers = false;
  float thickness = 1.5f;
};

struct Mark {  // a vertical line at x with a short label (e.g. "λ=1")
  double x = 0;
  std::string label;
};

struct PlotSpec {
  std::string x_label, y_label;
  bool log_y = false;
  bool x_from_zero = false;
  // Fixed ranges (NaN = from the data).
  double x_min = NAN, x_max = NAN, y_min = NAN, y_max = NAN;
  std::vector<Mark> marks;
  std::string empty_text = "no data yet";
};

// Draws into the rectangle [p0, p0 + size) of the current window's draw list and handles
// hover. Returns true when the mouse hovers the plot area.
bool plot(const char* id, ImVec2 p0, ImVec2 size, const std::vector<Series>& series, const PlotSpec& spec);

// "Nice" ticks covering [lo, hi] (about `target` of them), and on a log axis the decades.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
std::string tick_label(double v, double step);

}  // namespace gapscope::gui

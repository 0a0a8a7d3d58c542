#pragma once
// The one line-plot widget every plot of the lab shares (no ImPlot): axes with the
// style's ticks, optional log-y, legend, lines and markers, vertical event marks (λ
// changes), hover read-out of the nearest point. What it draws (plot_data.h) is what
// the SVG exports write.
#include <imgui.h>

#include "plot_data.h"

namespace gapscope::gui {

// Draws into the rectangle [p0, p0 + size) of the current window's draw list and handles
// hover. Returns true when the mouse hovers the plot area.
bool plot(const char* id, ImVec2 p0, ImVec2 size, const std::vector<Series>& series, const PlotSpec& spec);

}  // namespace gapscope::gui

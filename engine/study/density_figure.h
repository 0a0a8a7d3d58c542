#pragma once
// The ODE-induced density beside the model's own exp(u) and the data's p_t
// (sample/density.h) as files: a CSV with one row per grid node, and a figure — the three
// densities on one colour scale and their three log-ratios on the diverging map.
#include <string>

#include "io/figure.h"
#include "sample/density.h"

namespace gapscope {

// Header x (d = 1) or x,y, then log_p_ode, log_p_model (potential networks) and
// log_p_data (when known); full precision.
std::string density_csv(const DensityGrid& g);
// d = 2: heatmaps; d = 1: curves. `title` heads the figure (e.g. the checkpoint).
fig::Figure density_figure(const DensityGrid& g, const std::string& title);
// By extension: .csv the table, .png/.svg/.pdf the figure; anything else is one line.
void write_density(const DensityGrid& g, const std::string& path, const std::string& title);

}  // namespace gapscope

#pragma once
// The GUI's one door to the Fokker-Planck residual field R(x,t) (math.md §2), kept
// torch-free so the panels compile fast. Backed by the engine's residual_field
// (engine/residual_field.h); this adapter is the only file that knows that API.
#include <cstdint>
#include <string>
#include <vector>

#include "core/sde.h"
#include "core/snapshot.h"

namespace gapscope::gui {

// Values on a regular grid: v[j * nx + i] at (x = x_min + i*dx, y = y_min + j*dy), node-centred.
struct FieldGrid {
  int nx = 0, ny = 0;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  std::vector<float> v;
  std::string x_label, y_label, title;
  int64_t iteration = -1;
  double compute_ms = 0;
  uint64_t serial = 0;  // distinct for every computed grid (set by the worker)
  std::string error;  // non-empty: v is empty and this says why
  bool signed_values = true;  // false: the score model's |r| (no sign)
  bool ok() const { return error.empty() && !v.empty(); }
  float at(int i, int j) const { return v[static_cast<std::size_t>(j) * nx + i]; }
};

// The residual over (x_1, t) ∈ [-box, box] x [t_min, T]; for d = 2 at the fixed x_2 = `x2`
// (d = 1 ignores it). y runs over t.
FieldGrid residual_xt(const SnapshotPtr& snap, const Sde& sde, double box, int nx, int nt, double x2 = 0.0);
// The residual over (x_1, x_2) ∈ [-box, box]^2 at time t (d = 2 only).
FieldGrid residual_xy(const SnapshotPtr& snap, const Sde& sde, double box, int n, double t);
// Which implementation backs the functions above (shown in the UI).
const char* residual_source_name();

}  // namespace gapscope::gui

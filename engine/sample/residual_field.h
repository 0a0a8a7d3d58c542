#pragma once
// Fokker-Planck residual fields and summary statistics for display and reports.
// Plain data, no torch in this header: the GUI paints `values` as a heatmap.
#include <cstdint>
#include <string>
#include <vector>

#include "core/sde.h"
#include "core/snapshot.h"

namespace gapscope {

// Which plane the grid spans. d = 1: always (x, t). d = 2: XX is (x1, x2) at a given t,
// XT is (x1, t) at a given x2. Higher d: the remaining coordinates are 0.
enum class FieldSlice { XX, XT };

struct FieldRequest {
  FieldSlice slice = FieldSlice::XX;
  int nx = 64, ny = 64;  // nodes along each axis (>= 2)
  double range = 3.5;    // x axes span [-range, range]
  double t = 1.0;        // XX: the time of the slice
  double x2 = 0.0;       // XT (d >= 2): the fixed second coordinate
  double t0 = -1, t1 = -1;  // XT: the t axis; < 0 means [sde.eps, sde.T]
};

struct ResidualField {
  int nx = 0, ny = 0;
  // ny rows of nx nodes, row-major: values[iy * nx + ix] at (x0 + ix (x1-x0)/(nx-1), y0 + iy (y1-y0)/(ny-1)).
  // Potential model: the signed residual R. Score model: |r| (r is a vector).
  std::vector<float> values;
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  std::string x_label, y_label;  // "x", "x1", "x2" or "t"
  bool potential = true;
  double x_at(int ix) const { return nx > 1 ? x0 + ix * (x1 - x0) / (nx - 1) : x0; }
  double y_at(int iy) const { return ny > 1 ? y0 + iy * (y1 - y0) / (ny - 1) : y0; }
};

ResidualField residual_field(const WeightSnapshot& w, const Sde& sde, const FieldRequest& r);

struct ResidualStats {
  double mean_sq = 0, mean_abs = 0, max_abs = 0;  // of R (score model: of |r|) over the collocation box
  std::vector<double> slice_t, slice_mean_abs;     // mean |R| per time slice (slice centres)
  std::vector<double> slice_mean_sq;               // mean R² per time slice (NaN: no point fell in it)
};

// Over n_points collocation points, uniform in [-box, box]^d x [eps, T], drawn from a
// fixed seed (the same points every call, so values are comparable across iterations);
// the time axis is split into n_slices equal slices for the per-slice means.
ResidualStats residual_stats(const WeightSnapshot& w, const Sde& sde, double box, int n_points = 4096,
                             int n_slices = 10, uint64_t seed = 12345);

}  // namespace gapscope

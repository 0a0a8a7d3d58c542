// Adapter from the engine's residual-field API (engine/residual_field.h, torch-free) to
// the grids the heatmaps draw. Potential model: the signed R; score model: |r|.
#include "residual_source.h"

#include <chrono>
#include <stdexcept>

#include "sample/residual_field.h"

namespace gapscope::gui {
namespace {

FieldGrid run(const SnapshotPtr& snap, const Sde& sde, const FieldRequest& q) {
  FieldGrid g;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (!snap) throw std::runtime_error("no weights yet");
    const ResidualField f = residual_field(*snap, sde, q);
    g.nx = f.nx;
    g.ny = f.ny;
    g.x_min = f.x0;
    g.x_max = f.x1;
    g.y_min = f.y0;
    g.y_max = f.y1;
    g.x_label = f.x_label;
    g.y_label = f.y_label;
    g.v = f.values;
    g.signed_values = f.potential;
    g.iteration = snap->iteration;
  } catch (const std::exception& e) {
    g.v.clear();
    g.error = e.what();
  }
  g.compute_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return g;
}

}  // namespace

const char* residual_source_name() { return "engine residual_field (exact network derivatives)"; }

FieldGrid residual_xt(const SnapshotPtr& snap, const Sde& sde, double box, int nx, int nt, double x2) {
  FieldRequest q;
  q.slice = FieldSlice::XT;
  q.nx = nx;
  q.ny = nt;
  q.range = box;
  q.x2 = x2;
  return run(snap, sde, q);
}

FieldGrid residual_xy(const SnapshotPtr& snap, const Sde& sde, double box, int n, double t) {
  FieldRequest q;
  q.slice = FieldSlice::XX;
  q.nx = q.ny = n;
  q.range = box;
  q.t = t;
  return run(snap, sde, q);
}

}  // namespace gapscope::gui

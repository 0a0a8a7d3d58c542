#include "transport/w2_triple.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace gapscope {
namespace {

Points finite_rows(const Points& p) {
  Points out(p.d, 0);
  out.v.reserve(p.v.size());
  for (std::size_t i = 0; i < p.n(); ++i) {
    const float* r = p.row(i);
    bool ok = true;
    for (int k = 0; k < p.d; ++k) ok = ok && std::isfinite(r[k]);
    if (ok) out.v.insert(out.v.end(), r, r + p.d);
  }
  return out;
}

// "4", "3.5": the box as people write it (transport must not depend on style/).
std::string style_free_number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

std::string w2_metric_label(const W2Spec& s) {
  switch (s.metric) {
    case W2Metric::Exact: return "exact (network simplex)";
    case W2Metric::Grid: {
      const std::string g = std::to_string(s.grid.grid), b = style_free_number(s.grid.box);
      const std::string base = "grid " + g + "x" + g + " on [-" + b + "," + b + "]^2";
      if (s.grid.clamp)
        return base + ", far samples on border nodes" +
               (s.grid.grid == 64 && s.grid.box == 3.5 ? " (the paper's table; printed x8/7)" : "");
      return base + (s.grid.grid == 64 && s.grid.box == 4.0 ? " (paper)" : "");
    }
    case W2Metric::Sliced: return "sliced, " + std::to_string(s.directions) + " directions (estimate)";
  }
  return "?";
}

double w2_distance(const Points& a0, const Points& b0, const W2Spec& spec, std::vector<std::string>* notes,
                   const std::string& name, std::size_t* used) {
  if (a0.d != b0.d) throw std::invalid_argument(name + ": clouds of dimension " + std::to_string(a0.d) + " and " +
                                                std::to_string(b0.d));
  const Points a = finite_rows(a0), b = finite_rows(b0);
  auto nan = [&](const std::string& why) {
    if (notes) notes->push_back(name + ": " + why);
    if (used) *used = 0;
    return static_cast<double>(NAN);
  };
  if (a.n() == 0 || b.n() == 0) return nan("a cloud has no finite point");
  switch (spec.metric) {
    case W2Metric::Grid: {
      GridStats st;
      try {
        const double w = w2_grid(a, b, spec.grid, &st);
        if (used) *used = st.used;
        return w;
      } catch (const std::invalid_argument& e) {  // no point inside the box
        return nan(e.what());
      }
    }
    case W2Metric::Sliced:
      if (used) *used = std::min(a.n(), b.n());
      return a.d == 1 ? w2_1d(a, b) : w2_sliced(a, b, spec.directions, spec.seed);
    case W2Metric::Exact:
      break;
  }
  const std::size_t m = spec.max_points == 0 || a.d == 1 ? std::numeric_limits<std::size_t>::max() : spec.max_points;
  const Points ha = head(a, m), hb = head(b, m);
  if (used) *used = std::min(ha.n(), hb.n());
  return w2_exact(ha, hb);
}

W2Triple w2_triple(const Points& ode, const Points& sde, const Points& data, const W2Spec& spec,
                   std::vector<std::string>* notes) {
  W2Triple r;
  std::size_t u0 = 0, u1 = 0, u2 = 0;
  W2Spec s = spec;
  r.ode_sde = w2_distance(ode, sde, s, notes, "w2_ode_sde", &u0);
  s.seed = spec.seed + 1;
  r.ode_data = w2_distance(ode, data, s, notes, "w2_ode_data", &u1);
  s.seed = spec.seed + 2;
  r.sde_data = w2_distance(sde, data, s, notes, "w2_sde_data", &u2);
  r.used = std::min({u0, u1, u2});
  return r;
}

}  // namespace gapscope

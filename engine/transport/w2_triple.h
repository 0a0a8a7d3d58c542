#pragma once
// The three distances every study reports — W2(ODE, SDE), W2(ODE, data), W2(SDE, data) —
// computed by one function under one policy, for the CLI's evaluations, the reproduction
// tables and the lab's running plot alike.
//
// The policy: rows with a non-finite coordinate are escapes and are dropped before any
// metric (the outside shares report them); a pair left with no point to compare (every
// point escaped, or none inside the grid metric's box) is NaN with a note naming the
// pair, never an exception, so a sweep still records the other numbers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/points.h"
#include "transport/transport.h"

namespace gapscope {

enum class W2Metric {
  Exact = 0,   // the network simplex on the first max_points finite points of each cloud
  Grid = 1,    // the paper's: both clouds binned on a G x G grid over [-box, box]^2 (math.md §5)
  Sliced = 2,  // the mean over random directions of the 1-D W2² (an estimate)
};
constexpr int kW2MetricCount = 3;

struct W2Spec {
  W2Metric metric = W2Metric::Grid;
  GridMetric grid{64, 4.0};       // Grid
  std::size_t max_points = 2000;  // Exact: 0 = all points (d = 1 always uses all: closed form)
  int directions = 64;            // Sliced
  std::uint64_t seed = 0;         // Sliced: the pairs use seed, seed + 1, seed + 2
};

// "grid 64x64 on [-4,4]^2 (paper)", "exact (network simplex)", "sliced, 64 directions (estimate)".
std::string w2_metric_label(const W2Spec& spec);

struct W2Triple {
  double ode_sde = NAN, ode_data = NAN, sde_data = NAN;
  std::size_t used = 0;  // the fewest points any pair compared (grid: inside the box)
};

// W2 between two clouds under `spec` and the policy above; NaN (and a note) when a cloud
// has nothing left to compare. `name` labels the note.
double w2_distance(const Points& a, const Points& b, const W2Spec& spec, std::vector<std::string>* notes = nullptr,
                   const std::string& name = "w2", std::size_t* used = nullptr);

W2Triple w2_triple(const Points& ode, const Points& sde, const Points& data, const W2Spec& spec,
                   std::vector<std::string>* notes = nullptr);

}  // namespace gapscope

#pragma once
// Where the ticks of an axis go: one rule for every plot, on screen and on paper.
#include <vector>

namespace gapscope::style {

struct Ticks {
  std::vector<double> values;  // ascending, inside [lo, hi]
  double step = 0;             // the spacing of linear ticks; 0 on a log axis
};

// "Nice" linear ticks (1, 2 or 5 × 10^k apart, the multiple nearest the raw step)
// covering [lo, hi], about `target` of them. A degenerate or non-finite range gives
// one tick (or none).
Ticks linear_ticks(double lo, double hi, int target = 5);
// Ticks of a log10 axis over [lo, hi] (both > 0): the decades inside it; when fewer
// than two decades fall inside, the 1-2-5 multiples instead, and linear ticks when even
// those are fewer than two.
Ticks log_ticks(double lo, double hi, int target = 5);

}  // namespace gapscope::style

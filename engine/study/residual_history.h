#pragma once
// The per-time-slice residual over training: the history's res_slice_* columns (mean |R|
// in each equal slice of [eps, T], every residual_stats_every iterations) as an
// iteration × t map — where in time the residual sits and how training moves it. No
// torch here: the light gapscope-cli (residual-history) draws it from history.csv.
#include <cstdint>
#include <string>
#include <vector>

#include "io/figure.h"
#include "train/train.h"

namespace gapscope {

struct ResidualHistory {
  std::vector<int64_t> iteration;  // the rows that carry slice statistics, in order
  std::vector<double> lambda;      // in force at each of them
  int slices = 0;
  std::vector<double> values;      // iteration.size() x slices, row-major: mean |R| of slice k at row i
  double eps = 0, T = 1;           // the slices tile [eps, T]
  // Every change of λ over the whole history (not only at the rows with statistics).
  std::vector<std::pair<int64_t, double>> lambda_changes;
  double at(std::size_t row, int k) const { return values[row * slices + k]; }
  double slice_t0(int k) const { return eps + k * (T - eps) / slices; }
};

// The rows of `rows` with slice statistics (all of one width: the widest; narrower rows
// are skipped). Empty when none has them.
ResidualHistory residual_history(const std::vector<TrainRow>& rows, double eps, double T);

// Long format, one row per (iteration, slice): "iteration,lambda,slice,t0,t1,res_mean_abs".
std::string residual_history_csv(const ResidualHistory& h);

// The heatmap: iteration across (columns at the smallest spacing between measured
// iterations; a gap where none was measured), t up (one row per slice), the sequential map,
// on a log colour scale when the values span more than a decade; λ changes as marks.
fig::Figure residual_history_figure(const ResidualHistory& h, const std::string& title = "");

}  // namespace gapscope

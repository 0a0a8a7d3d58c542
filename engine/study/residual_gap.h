#pragma once
// The paper's own figure, measured: every finished ODE/SDE pass (a reproduce cell, a pass
// of the lab) is one point, a residual functional of the weights it sampled with against
// the squared gap W2(ODE, SDE)², and a log–log scatter of those points coloured by λ —
// does a smaller Fokker–Planck residual come with a smaller gap, and how steeply? The
// points travel as one CSV (read back with one-line errors), so runs can be pooled.
// No torch here: the light gapscope-cli (residual-gap) draws it.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/sde.h"
#include "io/figure.h"

namespace gapscope {

struct ResidualGapPoint {
  std::string source;        // the run or cell it came from: "circles2" (reproduce), "lab run 2"
  int64_t iteration = 0;     // of the weights
  double lambda = 0;         // in force for those weights
  double res_mean_sq = NAN;  // mean R² over the collocation box x [eps, T]
  double res_time_weighted = NAN;  // time_weighted_residual() of the same points
  double w2_ode_sde = NAN;
  bool operator==(const ResidualGapPoint& o) const;
};

// The residual as the W2 bound weighs it (README, "The residual–gap plot"): the bound
// integrates over t the diffusion g(t)² times a spatial L2 norm of the residual, so
//   R²_g = ( Σ_k g(t_k)² √m_k / Σ_k g(t_k)² )²,
// m_k the mean R² of time slice k and t_k its centre (the midpoint rule over equal
// slices of [eps, T]). The square keeps the units of mean R²: both agree when the RMS
// residual is the same at every t, and R²_g is smaller (Jensen) when it is not. Slices
// without points (NaN) are left out; NaN when none is left or the sizes differ.
double time_weighted_residual(const Sde& sde, const std::vector<double>& slice_t,
                              const std::vector<double>& slice_mean_sq);

// "source,iteration,lambda,res_mean_sq,res_time_weighted,w2_ode_sde", one point a row,
// full precision, NaN as "nan"; a source with a comma or a quote is quoted.
extern const char* const kResidualGapHeader;
std::string residual_gap_csv(const std::vector<ResidualGapPoint>& points);
// Throws std::runtime_error "PATH:LINE: ..." on a bad header, field count or number.
std::vector<ResidualGapPoint> read_residual_gap_csv(const std::string& path);
void write_residual_gap_csv(const std::string& path, const std::vector<ResidualGapPoint>& points);
// The file's points (when it exists) and then those of `points` it does not hold yet,
// written atomically: exporting the same session twice adds nothing, another one adds its own.
void append_residual_gap_csv(const std::string& path, const std::vector<ResidualGapPoint>& points);

// Two panels sharing the y axis W2(ODE, SDE)²: against mean R² and against R²_g, both
// log–log; colour = λ on a log scale with λ = 0 as a white box under the colour bar,
// marker shape = source, a dashed least-squares line in log–log with its slope in the
// caption (three or more drawable points). Points with W2 = 0 or a residual <= 0 cannot
// sit on log axes: the notes count them. `title` and `notes` as in fig::Figure.
fig::Figure residual_gap_figure(const std::vector<ResidualGapPoint>& points, const std::string& title = "",
                                std::vector<std::string> notes = {});

// Least squares of log10 y on log10 x over the pairs with both positive and finite: the
// slope, and the intercept; false when fewer than 3 pairs or all x alike.
bool loglog_fit(const std::vector<double>& x, const std::vector<double>& y, double& slope, double& intercept,
                int* used = nullptr);

}  // namespace gapscope

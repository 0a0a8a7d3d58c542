#include "plot_data.h"

#include <algorithm>

#include "style/format.h"

namespace gapscope::gui {
namespace {

namespace pal = style::palette;

// Averages blocks so a long history draws at most ~`max_points` vertices; with
// skip_lambda0, rows trained with λ = 0 (whose FP terms are not part of the loss) are left out.
void decimate(const std::vector<TrainRow>& rows, double TrainRow::*field, std::size_t max_points, bool skip_lambda0,
              Series& s) {
  const std::size_t n = rows.size(), block = std::max<std::size_t>(1, (n + max_points - 1) / max_points);
  for (std::size_t b = 0; b < n; b += block) {
    double sx = 0, sy = 0;
    int c = 0;
    for (std::size_t i = b; i < std::min(n, b + block); ++i) {
      const double v = rows[i].*field;
      if ((skip_lambda0 && rows[i].lambda <= 0) || !std::isfinite(v)) continue;
      sx += static_cast<double>(rows[i].iteration);
      sy += v;
      ++c;
    }
    s.x.push_back(c ? sx / c : static_cast<double>(rows[b].iteration));
    s.y.push_back(c ? sy / c : NAN);
  }
}

}  // namespace

std::vector<Series> w2_series(const std::vector<W2Row>& rows) {
  Series gap{"W2(ODE, SDE)", {}, {}, pal::kGap, true, true, 2.f};
  Series od{"W2(ODE, data)", {}, {}, pal::kOde, true, true, 1.5f};
  Series sd{"W2(SDE, data)", {}, {}, pal::kSde, true, true, 1.5f};
  // The escapees' shares on the same axis (a fraction, 0..1), thin and without markers.
  Series oo{"share outside [-4,4]² (ODE)", {}, {}, pal::kOde.with_alpha(0x90), true, false, 1.0f};
  Series os{"share outside [-4,4]² (SDE)", {}, {}, pal::kSde.with_alpha(0x90), true, false, 1.0f};
  for (const auto& r : rows) {
    const double x = static_cast<double>(r.iteration);
    gap.x.push_back(x), gap.y.push_back(r.ode_sde);
    od.x.push_back(x), od.y.push_back(r.ode_data);
    sd.x.push_back(x), sd.y.push_back(r.sde_data);
    if (std::isfinite(r.outside_ode)) oo.x.push_back(x), oo.y.push_back(r.outside_ode);
    if (std::isfinite(r.outside_sde)) os.x.push_back(x), os.y.push_back(r.outside_sde);
  }
  std::vector<Series> out{gap, od, sd};
  if (!oo.x.empty()) out.push_back(oo), out.push_back(os);
  return out;
}

std::vector<Series> loss_series(const std::vector<TrainRow>& rows) {
  Series dsm{"DSM", {}, {}, pal::kDsm, true, false, 1.5f};
  decimate(rows, &TrainRow::dsm, 800, false, dsm);
  Series fp{"FP residual", {}, {}, pal::kResidual, true, false, 1.5f};
  decimate(rows, &TrainRow::fp, 800, true, fp);
  Series bc{"boundary", {}, {}, pal::kBoundary, true, false, 1.0f};
  decimate(rows, &TrainRow::bc, 800, true, bc);
  // Not a named role: the first colour of the cycle that no named role resembles.
  Series rs{"mean R² (box)", {}, {}, pal::cycle(4), false, true, 1.0f};
  for (const auto& r : rows)
    if (std::isfinite(r.res_mean_sq)) rs.x.push_back(static_cast<double>(r.iteration)), rs.y.push_back(r.res_mean_sq);
  std::vector<Series> out{std::move(dsm), std::move(fp), std::move(bc)};
  if (!rs.x.empty()) out.push_back(std::move(rs));
  return out;
}

std::vector<Mark> lambda_marks(const std::vector<TrainRow>& rows) {
  std::vector<Mark> m;
  double prev = NAN;
  for (const auto& r : rows)
    if (r.lambda != prev) {
      m.push_back({static_cast<double>(r.iteration), "λ=" + style::number(r.lambda)});
      prev = r.lambda;
    }
  if (m.size() > 30) m.erase(m.begin(), m.end() - 30);
  return m;
}

PlotSpec w2_plot_spec(const std::vector<TrainRow>& rows, bool log_y) {
  PlotSpec s;
  s.x_label = "iteration";
  s.y_label = "W2";
  s.log_y = log_y;
  s.marks = lambda_marks(rows);
  s.empty_text = "the first sampling pass is running…";
  return s;
}

PlotSpec loss_plot_spec(const std::vector<TrainRow>& rows, bool log_y) {
  PlotSpec s = w2_plot_spec(rows, log_y);
  s.y_label = "loss";
  s.empty_text = "waiting for the first iteration…";
  return s;
}

}  // namespace gapscope::gui

#include "study/residual_history.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "style/format.h"
#include "style/palette.h"

namespace gapscope {

ResidualHistory residual_history(const std::vector<TrainRow>& rows, double eps, double T) {
  ResidualHistory h;
  h.eps = eps, h.T = T;
  for (const auto& r : rows) h.slices = std::max(h.slices, static_cast<int>(r.res_slice_abs.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const TrainRow& r = rows[i];
    if (i > 0 && r.lambda != rows[i - 1].lambda) h.lambda_changes.push_back({r.iteration, r.lambda});
    if (h.slices == 0 || static_cast<int>(r.res_slice_abs.size()) != h.slices) continue;
    h.iteration.push_back(r.iteration);
    h.lambda.push_back(r.lambda);
    h.values.insert(h.values.end(), r.res_slice_abs.begin(), r.res_slice_abs.end());
  }
  return h;
}

std::string residual_history_csv(const ResidualHistory& h) {
  std::ostringstream s;
  s << "iteration,lambda,slice,t0,t1,res_mean_abs\n";
  auto num = [](double v) {
    if (std::isnan(v)) return std::string("nan");
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", v);
    return std::string(b);
  };
  for (std::size_t i = 0; i < h.iteration.size(); ++i)
    for (int k = 0; k < h.slices; ++k)
      s << h.iteration[i] << ',' << num(h.lambda[i]) << ',' << k << ',' << num(h.slice_t0(k)) << ','
        << num(h.slice_t0(k + 1)) << ',' << num(h.at(i, k)) << "\n";
  return s.str();
}

fig::Figure residual_history_figure(const ResidualHistory& h, const std::string& title) {
  fig::Figure f;
  f.title = title;
  f.panel_width = 300;
  f.panel_height = 150;
  fig::Panel p;
  p.title = "mean |R| per time slice over training";
  p.x.label = "iteration";
  p.y.label = "t";
  p.legend = fig::Legend::None;
  p.empty_text = "no residual statistics yet (every residual_stats_every iterations)";
  const std::size_t n = h.iteration.size();
  if (n > 0 && h.slices > 0) {
    // Columns at the smallest spacing between measured iterations (at most 2 000 of them),
    // so uneven spacing (a resumed run, a changed residual_stats_every) leaves gaps, not stretches.
    double step = 0;
    for (std::size_t i = 1; i < n; ++i) {
      const double d = static_cast<double>(h.iteration[i] - h.iteration[i - 1]);
      if (d > 0) step = step > 0 ? std::min(step, d) : d;
    }
    const double first = static_cast<double>(h.iteration.front()), last = static_cast<double>(h.iteration.back());
    if (!(step > 0)) step = std::max(1.0, first);
    step = std::max(step, (last - first) / 1999);
    const int nx = static_cast<int>(std::lround((last - first) / step)) + 1;
    fig::Heatmap m;
    m.nx = nx, m.ny = h.slices;
    m.values.assign(static_cast<std::size_t>(nx) * h.slices, NAN);
    m.x0 = first - step / 2, m.x1 = first + (nx - 0.5) * step;
    m.y0 = h.eps, m.y1 = h.T;
    double lo = INFINITY, hi = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const int c = std::clamp(static_cast<int>(std::lround((h.iteration[i] - first) / step)), 0, nx - 1);
      for (int k = 0; k < h.slices; ++k) {
        const double v = h.at(i, k);
        m.values[static_cast<std::size_t>(k) * nx + c] = v;
        if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
      }
    }
    m.map = style::Colormap::Sequential;
    m.scale = hi > 10 * lo ? fig::Scale::Log : fig::Scale::Linear;
    m.label = "mean |R|";
    p.heatmap = std::move(m);
    p.x.min = p.heatmap->x0, p.x.max = p.heatmap->x1;
    p.y.min = h.eps, p.y.max = h.T;
    // λ changes: a dashed ink line over a white one, visible on the map's dark and light ends alike.
    for (const auto& [it, l] : h.lambda_changes) {
      if (p.marks.size() >= 12) break;
      fig::Line under;
      under.x = {static_cast<double>(it), static_cast<double>(it)};
      under.y = {h.eps, h.T};
      under.color = style::paper::kPage;
      under.width = 1.6;
      fig::Line dash = under;
      dash.color = style::paper::kInk;
      dash.width = 0.8;
      dash.dash = {2.5, 2};
      p.lines.push_back(std::move(under));
      p.lines.push_back(std::move(dash));  // the mark's own line lies under the white one
      p.marks.push_back({static_cast<double>(it), "\u03bb=" + style::number(l, 3), style::paper::kInk});
    }
    p.caption = {std::to_string(n) + " measurements, " + std::to_string(h.slices) + " equal slices of [" +
                 style::number(h.eps, 3) + ", " + style::number(h.T, 3) + "]" +
                 (p.heatmap->scale == fig::Scale::Log ? "; log colour scale" : "")};
  }
  f.panels.push_back(std::move(p));
  return f;
}

}  // namespace gapscope

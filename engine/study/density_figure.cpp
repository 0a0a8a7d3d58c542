#include "study/density_figure.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "study/output_file.h"
#include "style/format.h"
#include "style/palette.h"

namespace gapscope {
namespace {

struct Named {
  const char* key;    // CSV column
  const char* label;  // figure
  const std::vector<double>* v;
  style::Color color;
};

std::vector<Named> columns(const DensityGrid& g) {
  std::vector<Named> c{{"log_p_ode", "p ODE (change of variables)", &g.log_p_ode, style::palette::kOde}};
  if (!g.log_p_model.empty()) c.push_back({"log_p_model", "model exp(u)", &g.log_p_model, style::palette::kModel});
  if (!g.log_p_data.empty()) c.push_back({"log_p_data", "data", &g.log_p_data, style::palette::kData});
  return c;
}

// Where neither density carries mass the log-ratio is noise of the tails: not drawn.
constexpr double kMassFloor = 1e-3;
// The log-ratio's colour range: where one density's tail meets the other's mass the
// log-ratio runs to ±10 and a range over every node would wash out the structure in the bulk.
constexpr double kRatioQuantile = 0.95;

}  // namespace

std::string density_csv(const DensityGrid& g) {
  const auto cols = columns(g);
  std::string out = g.d == 1 ? "x" : "x,y";
  for (const auto& c : cols) out += std::string(",") + c.key;
  out += '\n';
  char buf[40];
  const std::size_t n = g.log_p_ode.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < g.d; ++k) {
      std::snprintf(buf, sizeof buf, k ? ",%.9g" : "%.9g", g.xs[i * g.d + k]);
      out += buf;
    }
    for (const auto& c : cols) {
      std::snprintf(buf, sizeof buf, ",%.10g", (*c.v)[i]);
      out += buf;
    }
    out += '\n';
  }
  return out;
}

fig::Figure density_figure(const DensityGrid& g, const std::string& title) {
  const auto cols = columns(g);
  fig::Figure f;
  f.title = title;
  double pmax = 0;
  for (const auto& c : cols)
    for (double v : *c.v)
      if (std::isfinite(v)) pmax = std::max(pmax, std::exp(v));
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t a = 0; a < cols.size(); ++a)
    for (std::size_t b = a + 1; b < cols.size(); ++b) pairs.push_back({a, b});
  auto short_name = [](const Named& c) { return std::string(c.key).substr(6); };  // "ode", "model", "data"
  auto ratio = [&](const Named& a, const Named& b) {
    std::vector<double> r(a.v->size(), NAN);
    for (std::size_t i = 0; i < r.size(); ++i) {
      const double x = (*a.v)[i], y = (*b.v)[i];
      if (std::max(std::exp(x), std::exp(y)) >= kMassFloor * pmax) r[i] = x - y;
    }
    return r;
  };
  const std::string box = "[-" + style::number(g.box) + ", " + style::number(g.box) + "]";

  if (g.d == 2) {
    f.columns = static_cast<int>(cols.size());
    f.panel_width = f.panel_height = 130;
    const double h = 2 * g.box / (g.nx - 1);
    auto heat = [&](std::vector<double> v, style::Colormap m, double lo, double hi, const std::string& label) {
      fig::Heatmap hm;
      hm.nx = g.nx, hm.ny = g.ny, hm.values = std::move(v);
      hm.x0 = hm.y0 = -g.box - h / 2, hm.x1 = hm.y1 = g.box + h / 2;
      hm.map = m, hm.vmin = lo, hm.vmax = hi, hm.label = label;
      return hm;
    };
    for (const auto& c : cols) {
      fig::Panel p;
      p.title = c.label;
      p.x.label = "x1", p.y.label = "x2";
      std::vector<double> d(c.v->size());
      for (std::size_t i = 0; i < d.size(); ++i) d[i] = std::exp((*c.v)[i]);
      p.heatmap = heat(std::move(d), style::Colormap::Sequential, 0, pmax, "density");
      f.panels.push_back(std::move(p));
    }
    for (auto [a, b] : pairs) {
      fig::Panel p;
      p.title = "log p_" + short_name(cols[a]) + " / p_" + short_name(cols[b]);
      p.x.label = "x1", p.y.label = "x2";
      std::vector<double> r = ratio(cols[a], cols[b]), mag;
      for (double v : r)
        if (std::isfinite(v)) mag.push_back(std::abs(v));
      double lim = 0.1;
      if (!mag.empty()) {
        const std::size_t q = static_cast<std::size_t>(kRatioQuantile * (mag.size() - 1));
        std::nth_element(mag.begin(), mag.begin() + static_cast<std::ptrdiff_t>(q), mag.end());
        lim = std::max(lim, mag[q]);
      }
      p.heatmap = heat(std::move(r), style::Colormap::Diverging, -lim, lim, "log-ratio");
      p.empty_text = "no mass on the grid";
      f.panels.push_back(std::move(p));
    }
  } else {
    f.columns = 2;
    f.panel_width = 200, f.panel_height = 130;
    std::vector<double> xs(g.xs.begin(), g.xs.end());
    fig::Panel p;
    p.title = "densities at t = " + style::number(g.t);
    p.x.label = "x", p.y.label = "density";
    for (const auto& c : cols) {
      fig::Line l;
      l.name = c.label, l.x = xs, l.color = c.color;
      for (double v : *c.v) l.y.push_back(std::exp(v));
      p.lines.push_back(std::move(l));
    }
    fig::Panel q;
    q.title = "log-ratios";
    q.x.label = "x", q.y.label = "log-ratio";
    int k = 0;
    for (auto [a, b] : pairs) {
      fig::Line l;
      l.name = "log p_" + short_name(cols[a]) + " / p_" + short_name(cols[b]);
      l.x = xs, l.y = ratio(cols[a], cols[b]), l.color = style::palette::cycle(k++);
      q.lines.push_back(std::move(l));
    }
    f.panels.push_back(std::move(p));
    f.panels.push_back(std::move(q));
  }
  f.notes.push_back("t = " + style::number(g.t) + "; grid " + std::to_string(g.nx) + " nodes per axis on " + box +
                    "; p ODE: log p integrated along each node's ODE path to T (" + std::to_string(g.nfe) +
                    " network evaluations per node)");
  f.notes.push_back("model: " + g.model_note + "; data: " + (g.log_p_data.empty() ? "unknown" : g.data_label) +
                    "; log-ratios not drawn where both densities are below " + style::number(kMassFloor) +
                    " of the largest, colours saturate at their " + style::number(100 * kRatioQuantile) +
                    "th percentile of |log-ratio|");
  return f;
}

void write_density(const DensityGrid& g, const std::string& path, const std::string& title) {
  write_csv_or_figure(path, [&] { return density_csv(g); }, [&] { return density_figure(g, title); });
}

}  // namespace gapscope

// Figures drawn with Cairo: one drawing routine for the image, SVG and PDF surfaces, so
// the three formats differ only where they must (PNG draws every dot of a cloud, SVG and
// PDF the first Cloud::vector_cap). Cairo stays inside this file.
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "io/figure.h"
#include "style/format.h"
#include "style/ticks.h"

namespace gapscope::fig {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr const char* kFace = "DejaVu Sans";
// DejaVu Sans' cap (and digit) height and descent per em: text is placed by its cap
// height so that labels centre on ticks whatever their letters.
constexpr double kCap = 0.73, kDescent = 0.24;
// Keeps far-off data inside Cairo's fixed-point range; the plot is clipped long before.
constexpr double kFar = 1e5;

using style::Color;
namespace paper = style::paper;

// ---- text --------------------------------------------------------------------------------

struct Font {
  double size = 8;
  bool bold = false;
};

void use(cairo_t* cr, Font f) {
  cairo_select_font_face(cr, kFace, CAIRO_FONT_SLANT_NORMAL,
                         f.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, f.size);
}

double text_width(cairo_t* cr, const std::string& s, Font f) {
  if (s.empty()) return 0;
  use(cr, f);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

void source(cairo_t* cr, Color c, double alpha = 1) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0 * alpha);
}

// s with its anchor at (x, y): ax of its width from the left (0, 0.5, 1), ay of its cap
// height above the baseline (0: baseline at y, 0.5: centred, 1: cap top at y), turned by
// `angle` about the anchor. A halo paints a page-coloured outline first, so the label
// stays legible over data.
void text(cairo_t* cr, const std::string& s, Font f, Color c, double x, double y, double ax, double ay,
          double angle = 0, bool halo = false) {
  if (s.empty()) return;
  const double w = text_width(cr, s, f);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -ax * w, ay * kCap * f.size);
  if (halo) {
    cairo_text_path(cr, s.c_str());
    source(cr, paper::kPage);
    cairo_set_line_width(cr, 0.35 * f.size);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke_preserve(cr);
    source(cr, c);
    cairo_fill(cr);
  } else {
    source(cr, c);
    cairo_show_text(cr, s.c_str());
  }
  cairo_restore(cr);
}

// Greedy word wrap to `width`.
std::vector<std::string> wrap(cairo_t* cr, const std::string& s, Font f, double width) {
  std::vector<std::string> out;
  std::string line;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    const std::string word = s.substr(i, j - i);
    const std::string next = line.empty() ? word : line + " " + word;
    if (!line.empty() && text_width(cr, next, f) > width) {
      out.push_back(line);
      line = word;
    } else {
      line = next;
    }
    i = j + 1;
  }
  if (!line.empty() || out.empty()) out.push_back(line);
  return out;
}

// ---- sizes: everything scales with Figure::font_size -------------------------------------

struct Sizes {
  double fs;
  explicit Sizes(double font_size) : fs(font_size) {}
  Font tick() const { return {0.875 * fs, false}; }
  Font label() const { return {fs, false}; }
  Font title() const { return {fs, true}; }
  Font header() const { return {1.15 * fs, true}; }
  Font figure_title() const { return {1.35 * fs, true}; }
  Font caption() const { return {0.95 * fs, false}; }
  Font legend() const { return {0.875 * fs, false}; }
  Font mark() const { return {0.8 * fs, false}; }
  Font note() const { return {0.85 * fs, false}; }
  double margin() const { return 0.8 * fs; }
  double tick_len() const { return 0.35 * fs; }
  double pad() const { return 0.35 * fs; }
  // A colour bar's tick labels stand this far from their ticks: at pad() the tick, level
  // with the label's middle, read as the label's minus sign ("— 0.15", "— −0.2").
  double bar_label_gap() const { return 0.8 * fs; }
  double caption_gap() const { return 0.7 * fs; }  // between the tick labels (or ticks) and a caption
  double col_gap() const { return 0.9 * fs; }
  double group_gap() const { return 1.6 * fs; }
  double row_gap() const { return 1.1 * fs; }
  double line_height(Font f) const { return 1.3 * f.size; }
  double frame() const { return 0.075 * fs; }
};

// ---- axes ---------------------------------------------------------------------------------

// Data -> plot coordinate along one axis; lo/hi are in axis units (log10 on a log axis).
struct Scaler {
  bool log = false;
  double lo = 0, hi = 1;
  double p0 = 0, p1 = 1;  // plot coordinates of lo and hi
  double unit(double v) const { return log ? (v > 0 ? std::log10(v) : NAN) : v; }
  double operator()(double v) const {
    const double u = unit(v);
    return std::clamp(p0 + (u - lo) / (hi - lo) * (p1 - p0), -kFar, kFar);
  }
  bool usable(double v) const { return std::isfinite(v) && (!log || v > 0); }
};

struct Extent {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double u) {
    if (std::isfinite(u)) lo = std::min(lo, u), hi = std::max(hi, u);
  }
  bool valid() const { return lo <= hi; }
};

// The axis' range in axis units: the fixed ends as given, the others from the data with
// a 4 % margin; a range without data is [0, 1] (a decade on a log axis).
void resolve(const Axis& a, const Extent& data, double& lo, double& hi) {
  const bool log = a.scale == Scale::Log;
  auto unit = [&](double v) { return log ? std::log10(v) : v; };
  const bool fix_lo = std::isfinite(a.min), fix_hi = std::isfinite(a.max);
  Extent e = data;
  if (!e.valid()) e.lo = 0, e.hi = 1;
  if (fix_lo) e.lo = std::min(e.lo, unit(a.min));
  if (fix_hi) e.hi = std::max(e.hi, unit(a.max));
  lo = fix_lo ? unit(a.min) : e.lo;
  hi = fix_hi ? unit(a.max) : e.hi;
  if (hi <= lo) {
    const double half = fix_lo || fix_hi || log ? 0.5 : std::max(0.5, 0.1 * std::abs(lo));
    if (!fix_lo) lo = (fix_hi ? hi : lo) - half;
    if (!fix_hi) hi = (fix_lo ? lo : hi) + half;
    if (hi <= lo) lo -= half, hi += half;
  }
  const double m = 0.04 * (hi - lo);
  if (!fix_lo) lo -= m;
  if (!fix_hi) hi += m;
}

style::Ticks ticks_for(const Scaler& s, int target) {
  return s.log ? style::log_ticks(std::pow(10.0, s.lo), std::pow(10.0, s.hi), target)
               : style::linear_ticks(s.lo, s.hi, target);
}

std::vector<std::string> labels_for(const style::Ticks& t) {
  std::vector<std::string> v;
  for (double x : t.values) v.push_back(style::tick_label(x, t.step));
  return v;
}

// The most ticks (starting from `target`) whose labels keep `gap` between each other;
// `extent` is a label's size along the axis.
template <class ExtentFn>
style::Ticks fitted_ticks(const Scaler& s, int target, double gap, ExtentFn extent) {
  style::Ticks best;
  for (int t = target; t >= 2; --t) {
    style::Ticks k = ticks_for(s, t);
    if (k.values.size() < 2 && !best.values.empty()) break;
    best = k;
    bool fits = true;
    const auto lab = labels_for(k);
    for (std::size_t i = 0; i + 1 < k.values.size() && fits; ++i)
      fits = std::abs(s(k.values[i + 1]) - s(k.values[i])) >= (extent(lab[i]) + extent(lab[i + 1])) / 2 + gap;
    if (fits) break;
  }
  return best;
}

// ---- panels -------------------------------------------------------------------------------

struct Entry {  // one legend row
  std::string name;
  const Line* line = nullptr;
  const Cloud* cloud = nullptr;
  const Scatter* scatter = nullptr;
};

struct MarkLabel {
  double x = 0;  // anchor in plot coordinates
  int row = 0;
  bool left = false;  // drawn to the left of its line
  const Mark* mark = nullptr;
};

struct Prepared {
  Scaler sx, sy;  // in the panel's own coordinates: plot area at (0, 0), y down
  style::Ticks xt, yt;
  std::vector<std::string> xl, yl;
  std::vector<std::vector<double>> hist_x, hist_y;  // per cloud: the outline of a d = 1 cloud
  bool empty = false;
  std::string empty_text;
  std::vector<Entry> entries;
  Legend legend = Legend::None;
  double legend_w = 0, legend_h = 0;
  std::vector<MarkLabel> marks;
  // colour bar: of the heatmap or of the colour scale; vmin/vmax in colour units (log10 on a log scale)
  bool bar = false;
  double vmin = 0, vmax = 1;
  bool bar_log = false;
  style::Colormap bar_map = style::Colormap::Sequential;
  std::string bar_label;
  bool gradient = true;   // false: no value on the gradient (every one was <= 0 on a log scale)
  bool zero_box = false;  // the box of the values <= 0 under a log scale's gradient
  Color zero_color;
  std::string zero_label;
  style::Ticks bt;
  std::vector<std::string> bl;
  // Where v lies on the colour range, in [0, 1] unclamped; NaN where the scale has no place for it.
  double color_s(double v) const {
    if (!std::isfinite(v) || (bar_log && v <= 0)) return NAN;
    return ((bar_log ? std::log10(v) : v) - vmin) / (vmax - vmin);
  }
  // The gradient's part of the bar (plot coordinates, y down): all of it, or above the zero box.
  double gradient_top = 0, gradient_bottom = 0, zero_top = 0;
  // space around the plot area
  bool show_x = true, show_y = true;  // tick labels and axis labels
  double left = 0, right = 0, below = 0, above = 0;
  double over_left = 0, over_right = 0;  // how far the outer x tick labels reach past the plot's sides
  double bar_x = 0, legend_x = 0;        // offsets right of the plot area
};


// visit(x, y, joined) for every drawable vertex of a polyline, in plot coordinates;
// `joined` is false after a break (a non-finite value, a non-positive one on a log axis),
// so that no segment bridges a gap in the data.
template <class Visit>
void walk(const Prepared& p, const std::vector<double>& xs, const std::vector<double>& ys, Visit visit) {
  bool joined = false;
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (!p.sx.usable(xs[i]) || !p.sy.usable(ys[i])) {
      joined = false;
      continue;
    }
    visit(p.sx(xs[i]), p.sy(ys[i]), joined);
    joined = true;
  }
}

constexpr int kHistBins = 60;

std::string where(const Figure& f, std::size_t k) {
  return "panel " + std::to_string(k) + " (row " + std::to_string(k / f.columns) + ", column " +
         std::to_string(k % f.columns) + ")";
}

void validate(const Figure& f) {
  auto bad = [](const std::string& s) { throw std::invalid_argument("figure: " + s); };
  auto positive = [](double v, double most) { return std::isfinite(v) && v > 0 && v <= most; };
  if (f.columns < 1) bad("columns must be >= 1");
  if (!positive(f.panel_width, 1e4) || !positive(f.panel_height, 1e4)) bad("panel size must be in (0, 10000] points");
  if (!positive(f.font_size, 200)) bad("font_size must be in (0, 200] points");
  if (!positive(f.scale, 32)) bad("scale must be in (0, 32]");
  const std::size_t rows = (f.panels.size() + f.columns - 1) / f.columns;
  if (f.row_headers.size() > rows)
    bad(std::to_string(f.row_headers.size()) + " row headers for " + std::to_string(rows) + " rows");
  int spanned = 0;
  for (const auto& h : f.column_headers) {
    if (h.span < 1) bad("column header '" + h.text + "': span must be >= 1");
    spanned += h.span;
  }
  if (spanned > f.columns)
    bad("column headers span " + std::to_string(spanned) + " columns of " + std::to_string(f.columns));
  int covered_until = -1;  // panels up to this index sit under an earlier panel's caption
  for (std::size_t k = 0; k < f.panels.size(); ++k) {
    const Panel& p = f.panels[k];
    const int col = static_cast<int>(k % f.columns);
    if (col == 0) covered_until = -1;
    if (static_cast<int>(k) <= covered_until && !p.caption.empty())
      bad(where(f, k) + ": has a caption but lies under the spanning caption of the panel to its left");
    if (p.caption_span < 1 || col + p.caption_span > f.columns)
      bad(where(f, k) + ": caption_span " + std::to_string(p.caption_span) + " runs past the row");
    if (!p.caption.empty()) covered_until = std::max(covered_until, static_cast<int>(k) + p.caption_span - 1);
    for (const Axis* a : {&p.x, &p.y}) {
      const char* name = a == &p.x ? "x" : "y";
      if (a->scale == Scale::Log && ((std::isfinite(a->min) && a->min <= 0) || (std::isfinite(a->max) && a->max <= 0)))
        bad(where(f, k) + ": the log " + name + " axis needs positive ends");
      if (std::isfinite(a->min) && std::isfinite(a->max) && a->min >= a->max)
        bad(where(f, k) + ": " + name + " axis min " + style::number(a->min) + " >= max " + style::number(a->max));
    }
    for (const auto& l : p.lines)
      if (l.x.size() != l.y.size())
        bad(where(f, k) + ", line '" + l.name + "': " + std::to_string(l.x.size()) + " x values, " +
            std::to_string(l.y.size()) + " y values");
    for (const auto& c : p.clouds)
      if (c.data().d < 1) bad(where(f, k) + ", cloud '" + c.name + "': dimension " + std::to_string(c.data().d));
    for (const auto& sc : p.scatters)
      if (sc.x.size() != sc.y.size() || (!sc.value.empty() && sc.value.size() != sc.x.size()))
        bad(where(f, k) + ", scatter '" + sc.name + "': " + std::to_string(sc.x.size()) + " x, " +
            std::to_string(sc.y.size()) + " y, " + std::to_string(sc.value.size()) + " values");
    if (p.color_scale && p.heatmap && p.heatmap->colorbar)
      bad(where(f, k) + ": a colour scale and a heatmap's colour bar would share one place");
    for (auto [scale, lo, hi] : {std::tuple{p.color_scale ? p.color_scale->scale : Scale::Linear,
                                            p.color_scale ? p.color_scale->vmin : NAN,
                                            p.color_scale ? p.color_scale->vmax : NAN},
                                 std::tuple{p.heatmap ? p.heatmap->scale : Scale::Linear,
                                            p.heatmap ? p.heatmap->vmin : NAN, p.heatmap ? p.heatmap->vmax : NAN}})
      if (scale == Scale::Log && ((std::isfinite(lo) && lo <= 0) || (std::isfinite(hi) && hi <= 0)))
        bad(where(f, k) + ": a log colour scale needs positive ends");
    if (p.heatmap) {
      const Heatmap& h = *p.heatmap;
      if (h.nx < 1 || h.ny < 1 || h.values.size() != static_cast<std::size_t>(h.nx) * h.ny)
        bad(where(f, k) + ": heatmap of " + std::to_string(h.nx) + " x " + std::to_string(h.ny) + " cells has " +
            std::to_string(h.values.size()) + " values");
      if (!std::isfinite(h.x0) || !std::isfinite(h.x1) || !std::isfinite(h.y0) || !std::isfinite(h.y1) ||
          h.x0 == h.x1 || h.y0 == h.y1)
        bad(where(f, k) + ": heatmap needs a finite, non-empty rectangle");
      if ((p.x.scale == Scale::Log && (h.x0 <= 0 || h.x1 <= 0)) ||
          (p.y.scale == Scale::Log && (h.y0 <= 0 || h.y1 <= 0)))
        bad(where(f, k) + ": a heatmap on a log axis needs positive corners");
    }
  }
}

// Ranges, ticks, histograms, the legend's rows and the marks' labels of one panel, in
// its own coordinates (the plot area at the origin).
Prepared prepare(cairo_t* cr, const Figure& f, const Panel& p, bool show_x, bool show_y) {
  const Sizes z(f.font_size);
  const double W = f.panel_width, H = f.panel_height;
  Prepared r;
  r.show_x = show_x;
  r.show_y = show_y;
  r.sx.log = p.x.scale == Scale::Log;
  r.sy.log = p.y.scale == Scale::Log;
  r.sx.p0 = 0, r.sx.p1 = W;
  r.sy.p0 = H, r.sy.p1 = 0;

  // x from every source; y of the d = 1 clouds needs their histograms, so after x.
  Extent ex, ey;
  bool any = false;
  for (const auto& l : p.lines)
    for (std::size_t i = 0; i < l.x.size(); ++i)
      if (r.sx.usable(l.x[i]) && r.sy.usable(l.y[i])) ex.add(r.sx.unit(l.x[i])), ey.add(r.sy.unit(l.y[i])), any = true;
  for (const auto& c : p.clouds) {
    const Points& pts = c.data();
    for (std::size_t i = 0; i < pts.n(); ++i) {
      const float* q = pts.row(i);
      if (pts.d == 1) {
        if (r.sx.usable(q[0])) ex.add(r.sx.unit(q[0])), any = true;
      } else if (r.sx.usable(q[0]) && r.sy.usable(q[1])) {
        ex.add(r.sx.unit(q[0])), ey.add(r.sy.unit(q[1])), any = true;
      }
    }
  }
  for (const auto& sc : p.scatters)
    for (std::size_t i = 0; i < sc.x.size(); ++i)
      if (r.sx.usable(sc.x[i]) && r.sy.usable(sc.y[i]))
        ex.add(r.sx.unit(sc.x[i])), ey.add(r.sy.unit(sc.y[i])), any = true;
  // The colour range, in colour units: the given ends, else the values' (positive ones on a log scale).
  auto colour_range = [&](Scale scale, double lo, double hi, const Extent& v) {
    r.bar_log = scale == Scale::Log;
    auto unit = [&](double x) { return r.bar_log ? std::log10(x) : x; };
    r.gradient = v.valid() || std::isfinite(lo) || std::isfinite(hi);
    r.vmin = std::isfinite(lo) ? unit(lo) : (v.valid() ? v.lo : 0);
    r.vmax = std::isfinite(hi) ? unit(hi) : (v.valid() ? v.hi : 1);
    // A constant map: its colour mid-scale (half a decade either side on a log scale).
    if (!(r.vmax > r.vmin)) r.vmin -= 0.5, r.vmax += 0.5;
  };
  if (p.heatmap) {
    const Heatmap& h = *p.heatmap;
    if (r.sx.usable(h.x0) && r.sx.usable(h.x1)) ex.add(r.sx.unit(h.x0)), ex.add(r.sx.unit(h.x1));
    if (r.sy.usable(h.y0) && r.sy.usable(h.y1)) ey.add(r.sy.unit(h.y0)), ey.add(r.sy.unit(h.y1));
    Extent v;
    const bool log = h.scale == Scale::Log;
    for (double x : h.values)
      if (!log || x > 0) v.add(log ? std::log10(x) : x);
    if (v.valid()) any = true;
    colour_range(h.scale, h.vmin, h.vmax, v);
    r.gradient = true;
    r.bar_map = h.map;
    r.bar_label = h.label;
  } else if (p.color_scale) {
    const ColorScale& cs = *p.color_scale;
    Extent v;
    const bool log = cs.scale == Scale::Log;
    bool zero = false;
    for (const auto& sc : p.scatters)
      for (std::size_t i = 0; i < sc.value.size(); ++i) {
        if (!r.sx.usable(sc.x[i]) || !r.sy.usable(sc.y[i])) continue;
        const double x = sc.value[i];
        if (log && x <= 0) zero = true;
        else if (std::isfinite(x)) v.add(log ? std::log10(x) : x);
      }
    colour_range(cs.scale, cs.vmin, cs.vmax, v);
    r.bar_map = cs.map;
    r.bar_label = cs.label;
    r.zero_box = zero;
    r.zero_color = cs.zero_color;
    r.zero_label = cs.zero_label;
  }
  resolve(p.x, ex, r.sx.lo, r.sx.hi);

  r.hist_x.resize(p.clouds.size());
  r.hist_y.resize(p.clouds.size());
  for (std::size_t k = 0; k < p.clouds.size(); ++k) {
    const Points& pts = p.clouds[k].data();
    if (pts.d != 1) continue;
    // Bins equal in axis units over the visible range: a density per unit of x.
    std::vector<double> count(kHistBins, 0);
    double n = 0;
    const double du = (r.sx.hi - r.sx.lo) / kHistBins;
    for (std::size_t i = 0; i < pts.n(); ++i) {
      const double u = r.sx.unit(pts.row(i)[0]);
      if (!std::isfinite(u)) continue;
      n += 1;
      const int b = static_cast<int>(std::floor((u - r.sx.lo) / du));
      if (b >= 0 && b < kHistBins) count[b] += 1;
    }
    if (n == 0) continue;
    auto& hx = r.hist_x[k];
    auto& hy = r.hist_y[k];
    for (int b = 0; b < kHistBins; ++b) {
      const double a = r.sx.lo + b * du, e = a + du;
      const double d = count[b] / (n * du);
      hx.insert(hx.end(), {r.sx.log ? std::pow(10.0, a) : a, r.sx.log ? std::pow(10.0, e) : e});
      hy.insert(hy.end(), {d, d});
      if (r.sy.usable(d)) ey.add(r.sy.unit(d));
    }
    if (!r.sy.log) ey.add(0);
  }
  resolve(p.y, ey, r.sy.lo, r.sy.hi);

  r.empty = !any;
  const bool clouds_only = p.lines.empty() && !p.heatmap && p.scatters.empty();
  r.empty_text = !p.empty_text.empty() ? p.empty_text : clouds_only && !p.clouds.empty() ? "no points" : "no data";

  const Font tf = z.tick();
  r.xt = fitted_ticks(r.sx, std::max(3, static_cast<int>(W / (4.5 * f.font_size))), 0.7 * f.font_size,
                      [&](const std::string& s) { return text_width(cr, s, tf); });
  r.yt = fitted_ticks(r.sy, std::max(3, static_cast<int>(H / (3.2 * f.font_size))), 0.5 * f.font_size,
                      [&](const std::string&) { return kCap * tf.size; });
  r.xl = labels_for(r.xt);
  r.yl = labels_for(r.yt);

  // Marks: labels in up to two rows at the top, skipped where both rows are taken.
  {
    const Font mf = z.mark();
    std::vector<std::pair<double, double>> taken[2];
    for (const auto& m : p.marks) {
      if (!r.sx.usable(m.x)) continue;
      const double px = r.sx(m.x);
      if (px < 0 || px > W || m.label.empty()) continue;
      const double w = text_width(cr, m.label, mf), g = 0.25 * f.font_size;
      const bool left = px + g + w > W;
      const double a = left ? px - g - w : px + g, b = a + w;
      for (int row = 0; row < 2; ++row) {
        bool clash = false;
        for (const auto& t : taken[row]) clash = clash || !(b + g < t.first || a - g > t.second);
        if (!clash) {
          taken[row].push_back({a, b});
          r.marks.push_back({px, row, left, &m});
          break;
        }
      }
    }
  }

  // Legend: its rows, its size and where it goes.
  for (const auto& l : p.lines)
    if (!l.name.empty()) r.entries.push_back({l.name, &l, nullptr});
  for (const auto& c : p.clouds)
    if (!c.name.empty()) r.entries.push_back({c.name, nullptr, &c});
  for (const auto& sc : p.scatters)
    if (!sc.name.empty()) r.entries.push_back({sc.name, nullptr, nullptr, &sc});
  if (!r.entries.empty() && p.legend != Legend::None) {
    const Font lf = z.legend();
    double tw = 0;
    for (const auto& e : r.entries) tw = std::max(tw, text_width(cr, e.name, lf));
    r.legend_w = 2 * z.pad() + 1.8 * f.font_size + 0.4 * f.font_size + tw;
    r.legend_h = 2 * z.pad() + kCap * lf.size + (r.entries.size() - 1) * z.line_height(lf) + kDescent * lf.size;
    r.legend = p.legend;
    if (r.legend == Legend::Auto) {
      // What a legend inside would cover: samples along every line and outline, up to a
      // few thousand points of every cloud, the marks' labels; and, softer, the marks'
      // lines. The first corner free of both wins, else the first free of the data.
      std::vector<std::pair<double, double>> ink, soft;
      auto along = [&](const std::vector<double>& xs, const std::vector<double>& ys) {
        double qx = 0, qy = 0;
        walk(r, xs, ys, [&](double x, double y, bool joined) {
          if (joined) {
            const int steps = std::min(200, 1 + static_cast<int>(std::hypot(x - qx, y - qy) / (0.4 * f.font_size)));
            for (int s = 1; s <= steps; ++s) ink.push_back({qx + (x - qx) * s / steps, qy + (y - qy) * s / steps});
          } else {
            ink.push_back({x, y});
          }
          qx = x, qy = y;
        });
      };
      for (const auto& l : p.lines) along(l.x, l.y);
      for (const auto& sc : p.scatters)
        for (std::size_t i = 0; i < sc.x.size(); ++i)
          if (r.sx.usable(sc.x[i]) && r.sy.usable(sc.y[i])) {
            // A marker's whole disc, not only its centre.
            const double cx = r.sx(sc.x[i]), cy = r.sy(sc.y[i]);
            for (double dx : {-sc.radius, 0.0, sc.radius})
              for (double dy : {-sc.radius, 0.0, sc.radius}) ink.push_back({cx + dx, cy + dy});
          }
      for (std::size_t k = 0; k < p.clouds.size(); ++k) {
        along(r.hist_x[k], r.hist_y[k]);
        const Points& pts = p.clouds[k].data();
        if (pts.d < 2) continue;
        const std::size_t step = std::max<std::size_t>(1, pts.n() / 4000);
        for (std::size_t i = 0; i < pts.n(); i += step)
          if (r.sx.usable(pts.row(i)[0]) && r.sy.usable(pts.row(i)[1]))
            ink.push_back({r.sx(pts.row(i)[0]), r.sy(pts.row(i)[1])});
      }
      const Font mf = z.mark();
      for (const auto& m : r.marks) {
        const double y = z.pad() + m.row * z.line_height(mf) + kCap * mf.size / 2;
        const double w = text_width(cr, m.mark->label, mf);
        for (double t = 0; t <= 1; t += 0.125)
          ink.push_back({m.x + (m.left ? -1 : 1) * (0.25 * f.font_size + t * w), y});
      }
      for (const auto& m : p.marks)
        if (r.sx.usable(m.x))
          for (double y = 0; y <= H; y += 0.5 * f.font_size) soft.push_back({r.sx(m.x), y});
      const double in = 0.4 * f.font_size;
      auto clear = [&](Legend c, const std::vector<std::pair<double, double>>& pts) {
        const double x0 = c == Legend::TopLeft || c == Legend::BottomLeft ? in : W - in - r.legend_w;
        const double y0 = c == Legend::TopLeft || c == Legend::TopRight ? in : H - in - r.legend_h;
        if (x0 < 0 || y0 < 0) return false;
        for (const auto& q : pts)
          if (q.first >= x0 - in && q.first <= x0 + r.legend_w + in && q.second >= y0 - in &&
              q.second <= y0 + r.legend_h + in)
            return false;
        return true;
      };
      const Legend order[] = {Legend::TopRight, Legend::TopLeft, Legend::BottomRight, Legend::BottomLeft};
      r.legend = Legend::Right;
      bool placed = false;
      for (Legend c : order)
        if (!placed && clear(c, ink) && clear(c, soft)) r.legend = c, placed = true;
      for (Legend c : order)
        if (!placed && clear(c, ink)) r.legend = c, placed = true;
    }
  }

  // Colour bar ticks, along the gradient's part of the bar.
  if ((p.heatmap && p.heatmap->colorbar) || p.color_scale) {
    r.bar = true;
    const double zh = 1.1 * f.font_size, gap = 0.5 * f.font_size;
    r.gradient_top = 0;
    r.gradient_bottom = r.zero_box ? (r.gradient ? H - zh - gap : 0) : H;
    r.zero_top = H - zh;
    if (r.gradient) {
      Scaler sb;
      sb.log = r.bar_log;
      sb.lo = r.vmin, sb.hi = r.vmax;
      sb.p0 = r.gradient_bottom, sb.p1 = r.gradient_top;
      r.bt = fitted_ticks(sb, std::max(3, static_cast<int>((sb.p0 - sb.p1) / (3.2 * f.font_size))),
                          0.5 * f.font_size, [&](const std::string&) { return kCap * tf.size; });
      r.bl = labels_for(r.bt);
    }
  }

  // Space around the plot area.
  const double tick_h = kCap * tf.size;
  double ytw = 0;
  for (const auto& s : r.yl) ytw = std::max(ytw, text_width(cr, s, tf));
  r.left = z.tick_len() + (show_y && !r.yl.empty() ? z.pad() + ytw : 0) +
           (show_y && !p.y.label.empty() ? z.pad() + z.label().size * (kCap + kDescent) + 0.2 * f.font_size : 0);
  r.below = z.tick_len() + (show_x && !r.xl.empty() ? z.pad() + tick_h + kDescent * tf.size : 0) +
            (show_x && !p.x.label.empty() ? z.pad() + z.label().size * (1 + kDescent) : 0);
  r.above = p.title.empty() ? 0 : z.line_height(z.title());
  if (show_x && !r.xl.empty()) {
    r.over_left = std::max(0.0, text_width(cr, r.xl.front(), tf) / 2 - r.sx(r.xt.values.front()));
    r.over_right = std::max(0.0, r.sx(r.xt.values.back()) + text_width(cr, r.xl.back(), tf) / 2 - W);
  }
  double right = 0;
  if (r.bar) {
    double bw = 0;
    for (const auto& s : r.bl) bw = std::max(bw, text_width(cr, s, tf));
    if (r.zero_box) bw = std::max(bw, text_width(cr, r.zero_label, tf));
    r.bar_x = 0.8 * f.font_size;
    right = r.bar_x + 0.9 * f.font_size + z.tick_len() + z.bar_label_gap() + bw;
    if (!r.bar_label.empty()) right += z.pad() + z.label().size * (kCap + kDescent);
  }
  if (r.legend == Legend::Right) {
    r.legend_x = right + 0.6 * f.font_size;
    right = r.legend_x + r.legend_w;
  }
  r.right = right;
  return r;
}

// ---- the plan: every panel prepared and placed --------------------------------------------

struct Plan {
  Layout layout;
  std::vector<Prepared> panels;
  std::vector<double> col_x;  // plot area left edge per column
  std::vector<double> row_y;  // plot area top edge per row
  double header_y = 0, title_y = 0, notes_y = 0;
  std::vector<std::string> notes;  // wrapped
};

// Column c starts a new header group (and so a wider gap) when a header begins there.
std::vector<bool> group_starts(const Figure& f) {
  std::vector<bool> s(f.columns, false);
  int c = 0;
  for (const auto& h : f.column_headers) {
    if (c > 0 && c < f.columns) s[c] = true;
    c += h.span;
  }
  if (c > 0 && c < f.columns) s[c] = true;
  return s;
}

Plan plan(cairo_t* cr, const Figure& f) {
  validate(f);
  const Sizes z(f.font_size);
  const int cols = f.columns;
  const int rows = static_cast<int>((f.panels.size() + cols - 1) / cols);
  Plan P;
  for (std::size_t k = 0; k < f.panels.size(); ++k) {
    const int row = static_cast<int>(k) / cols, col = static_cast<int>(k) % cols;
    // With shared axes the labels sit on the outer panels only: the bottom panel of each
    // column (a short last row leaves the row above it bottom there) and the first column.
    const bool bottom = row == rows - 1 || k + cols >= f.panels.size();
    P.panels.push_back(prepare(cr, f, f.panels[k], !f.share_x || bottom, !f.share_y || col == 0));
  }

  std::vector<double> left(cols, 0), right(cols, 0), above(rows, 0), below(rows, 0);
  std::vector<double> over_left(cols, 0), over_right(cols, 0);
  for (std::size_t k = 0; k < P.panels.size(); ++k) {
    const Prepared& p = P.panels[k];
    const int row = static_cast<int>(k) / cols, col = static_cast<int>(k) % cols;
    left[col] = std::max(left[col], p.left);
    right[col] = std::max(right[col], p.right);
    over_left[col] = std::max(over_left[col], p.over_left);
    over_right[col] = std::max(over_right[col], p.over_right);
    above[row] = std::max(above[row], p.above);
    double b = p.below;
    if (!f.panels[k].caption.empty())
      b += z.caption_gap() + kCap * z.caption().size + (f.panels[k].caption.size() - 1) * z.line_height(z.caption()) +
           kDescent * z.caption().size;
    below[row] = std::max(below[row], b);
  }

  bool any_row_header = false;
  for (const auto& h : f.row_headers) any_row_header = any_row_header || !h.empty();
  bool any_col_header = false;
  for (const auto& h : f.column_headers) any_col_header = any_col_header || !h.text.empty();

  const double m = z.margin();
  double x = m + (any_row_header ? z.header().size * (kCap + kDescent) + z.pad() * 2 : 0);
  const auto groups = group_starts(f);
  P.col_x.resize(cols);
  for (int c = 0; c < cols; ++c) {
    if (c > 0) {
      // Neighbours' outer x tick labels ("4" beside "-4") keep a gap between them too.
      const double gap = z.col_gap() + (groups[c] ? z.group_gap() : 0);
      x += std::max(gap, over_right[c - 1] + over_left[c] + 0.8 * f.font_size - right[c - 1] - left[c]);
    } else {
      x += std::max(0.0, over_left[0] - left[0]);
    }
    x += left[c];
    P.col_x[c] = x;
    x += f.panel_width + right[c];
  }
  double width = x + std::max(0.0, over_right[cols - 1] - right[cols - 1]) + m;

  double y = m;
  if (!f.title.empty()) {
    P.title_y = y;
    y += z.line_height(z.figure_title()) + z.pad();
  }
  if (any_col_header) {
    P.header_y = y;
    y += z.line_height(z.header()) + 0.2 * f.font_size;
  }
  P.row_y.resize(rows);
  for (int r = 0; r < rows; ++r) {
    if (r > 0) y += z.row_gap();
    y += above[r];
    P.row_y[r] = y;
    y += f.panel_height + below[r];
  }
  if (!f.notes.empty()) {
    y += z.pad() * 2;
    P.notes_y = y;
    for (const auto& n : f.notes)
      for (auto& l : wrap(cr, n, z.note(), width - 2 * m)) P.notes.push_back(l);
    y += P.notes.size() * z.line_height(z.note());
  }
  P.layout.width = std::ceil(width);
  P.layout.height = std::ceil(y + m);
  for (std::size_t k = 0; k < f.panels.size(); ++k)
    P.layout.plots.push_back({P.col_x[k % cols], P.row_y[k / cols], f.panel_width, f.panel_height});
  return P;
}

// ---- drawing ------------------------------------------------------------------------------

void stroke_line(cairo_t* cr, double x0, double y0, double x1, double y1, Color c, double w) {
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1, y1);
  source(cr, c);
  cairo_set_line_width(cr, w);
  cairo_stroke(cr);
}

// One bin per pixel (Figure::scale pixels per point) over the plot area, its opacity by count.
void draw_density(cairo_t* cr, const Figure& f, const Prepared& p, const Cloud& c, Format format) {
  const Points& pts = c.data();
  const int w = std::max(1, static_cast<int>(std::ceil(f.panel_width * f.scale)));
  const int h = std::max(1, static_cast<int>(std::ceil(f.panel_height * f.scale)));
  std::vector<std::uint32_t> count(static_cast<std::size_t>(w) * h, 0);
  for (std::size_t i = 0; i < pts.n(); ++i) {
    const float* q = pts.row(i);
    if (!p.sx.usable(q[0]) || !p.sy.usable(q[1])) continue;
    const double fx = p.sx(q[0]) * f.scale, fy = p.sy(q[1]) * f.scale;
    if (fx < 0 || fy < 0 || fx >= w || fy >= h) continue;
    ++count[static_cast<std::size_t>(fy) * w + static_cast<std::size_t>(fx)];
  }
  std::vector<std::uint32_t> occupied;
  for (auto n : count)
    if (n) occupied.push_back(n);
  if (occupied.empty()) return;
  const std::size_t k98 = std::min(occupied.size() - 1, static_cast<std::size_t>(0.98 * occupied.size()));
  std::nth_element(occupied.begin(), occupied.begin() + k98, occupied.end());
  const double c98 = std::max<double>(1, occupied[k98]);
  const double alpha = std::clamp(c.alpha, 0.0, 1.0);
  auto opacity = [&](int x, int y) {
    const std::uint32_t n = count[static_cast<std::size_t>(y) * w + x];
    return n ? std::max(alpha, std::min(1.0, std::sqrt(n / c98))) : 0.0;
  };
  // PNG and PDF: the opacities as a mask over the cloud's colour. A coloured image's empty
  // pixels are transparent black, and PDF viewers, which resample colour and alpha apart,
  // blend that black into the dots' edges. SVG: a coloured image all the same, because
  // Cairo 1.16's SVG surface loses a mask's transform, and SVG viewers resample
  // premultiplied, without the fringe.
  const bool colored = format == Format::Svg;
  cairo_surface_t* img = cairo_image_surface_create(colored ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_A8, w, h);
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  const double ca = c.color.a / 255.0;
  for (int y = 0; y < h; ++y) {
    unsigned char* row = data + static_cast<std::size_t>(y) * stride;
    for (int x = 0; x < w; ++x) {
      const double a = opacity(x, y);
      if (!colored) {
        row[x] = static_cast<unsigned char>(std::lround(255 * a));
        continue;
      }
      // Cairo's ARGB32: premultiplied, native-endian 0xAARRGGBB.
      auto ch = [&](std::uint8_t v) { return static_cast<std::uint32_t>(std::lround(v * a * ca)); };
      reinterpret_cast<std::uint32_t*>(row)[x] = static_cast<std::uint32_t>(std::lround(255 * a * ca)) << 24 |
                                                 ch(c.color.r) << 16 | ch(c.color.g) << 8 | ch(c.color.b);
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_scale(cr, 1 / f.scale, 1 / f.scale);
  cairo_pattern_t* pattern = cairo_pattern_create_for_surface(img);
  cairo_pattern_set_filter(pattern, CAIRO_FILTER_NEAREST);
  if (colored) {
    cairo_set_source(cr, pattern);
    cairo_paint(cr);
  } else {
    source(cr, c.color);
    cairo_mask(cr, pattern);
  }
  cairo_pattern_destroy(pattern);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

void draw_dots(cairo_t* cr, const Prepared& p, const Cloud& c, std::size_t cap) {
  const Points& pts = c.data();
  const std::size_t n = std::min(pts.n(), cap);
  const double r = std::max(0.05, c.radius);
  source(cr, c.color, std::clamp(c.alpha, 0.0, 1.0));
  for (std::size_t i = 0; i < n; ++i) {
    const float* q = pts.row(i);
    if (!p.sx.usable(q[0]) || !p.sy.usable(q[1])) continue;
    const double x = p.sx(q[0]), y = p.sy(q[1]);
    if (x < -r || y < -r || x > p.sx.p1 + r || y > p.sy.p0 + r) continue;
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * kPi);
    // One fill per dot: overlapping dots darken each other, which is what shows density.
    cairo_fill(cr);
  }
}

void path_of(cairo_t* cr, const Prepared& p, const std::vector<double>& xs, const std::vector<double>& ys) {
  walk(p, xs, ys, [&](double x, double y, bool joined) { (joined ? cairo_line_to : cairo_move_to)(cr, x, y); });
}

// A marker stays visible on a thin line and on none (width 0).
double marker_radius(const Line& l) { return std::max(1.3, 1.1 * l.width); }

void draw_line(cairo_t* cr, const Prepared& p, const Line& l) {
  if (l.width > 0) {
    cairo_new_path(cr);
    path_of(cr, p, l.x, l.y);
    source(cr, l.color);
    cairo_set_line_width(cr, l.width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (!l.dash.empty()) cairo_set_dash(cr, l.dash.data(), static_cast<int>(l.dash.size()), 0);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
  }
  if (l.markers) {
    source(cr, l.color);
    walk(p, l.x, l.y, [&](double x, double y, bool) {
      cairo_new_sub_path(cr);
      cairo_arc(cr, x, y, marker_radius(l), 0, 2 * kPi);
    });
    cairo_fill(cr);
  }
}

void draw_heatmap(cairo_t* cr, const Figure& f, const Prepared& p, const Heatmap& h) {
  const double xa = p.sx(h.x0), xb = p.sx(h.x1), ya = p.sy(h.y1), yb = p.sy(h.y0);
  // Each cell k x k pixels, about the figure's resolution: SVG viewers smooth images
  // (Cairo 1.16 writes no rendering hint into SVG), and smoothing then blurs only a
  // sliver of each cell's edge instead of the whole map.
  auto factor = [&](double extent, int n) {
    const double want = std::min(std::abs(extent) * f.scale, 4096.0) / n;
    return std::max(1, static_cast<int>(std::ceil(want)));
  };
  const int kx = factor(xb - xa, h.nx), ky = factor(yb - ya, h.ny);
  const int w = h.nx * kx, hh = h.ny * ky;
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, hh);
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  auto ch = [](float x) { return static_cast<std::uint32_t>(std::lround(std::clamp(x, 0.f, 1.f) * 255)); };
  for (int y = 0; y < hh; ++y) {
    // Surface rows run top-down, the values' rows bottom-up.
    const int j = h.ny - 1 - y / ky;
    auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::size_t>(y) * stride);
    for (int x = 0; x < w; ++x) {
      const double v = h.values[static_cast<std::size_t>(j) * h.nx + x / kx];
      if (!std::isfinite(v)) {
        row[x] = 0;
        continue;
      }
      const double s = p.color_s(v);
      if (std::isnan(s)) {  // <= 0 on a log colour scale
        row[x] = 0;
        continue;
      }
      const style::Rgb c = style::colormap(h.map, s);
      row[x] = 0xFF000000u | ch(c.r) << 16 | ch(c.g) << 8 | ch(c.b);
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_translate(cr, xa, ya);
  cairo_scale(cr, (xb - xa) / w, (yb - ya) / hh);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, w, hh);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

// One marker's path centred at (x, y), about as much ink as a circle of radius r.
void marker_path(cairo_t* cr, Marker m, double x, double y, double r) {
  cairo_new_sub_path(cr);
  switch (m) {
    case Marker::Circle:
      cairo_arc(cr, x, y, r, 0, 2 * kPi);
      break;
    case Marker::Square:
      cairo_rectangle(cr, x - 0.89 * r, y - 0.89 * r, 1.78 * r, 1.78 * r);
      break;
    case Marker::Triangle: {
      const double a = 1.3 * r;
      cairo_move_to(cr, x, y - a);
      cairo_line_to(cr, x + 0.866 * a, y + 0.5 * a);
      cairo_line_to(cr, x - 0.866 * a, y + 0.5 * a);
      cairo_close_path(cr);
      break;
    }
    case Marker::Diamond:
      cairo_move_to(cr, x, y - 1.25 * r);
      cairo_line_to(cr, x + 1.0 * r, y);
      cairo_line_to(cr, x, y + 1.25 * r);
      cairo_line_to(cr, x - 1.0 * r, y);
      cairo_close_path(cr);
      break;
  }
}

void draw_marker(cairo_t* cr, Marker m, double x, double y, double r, Color fill) {
  marker_path(cr, m, x, y, r);
  source(cr, fill);
  cairo_fill_preserve(cr);
  source(cr, paper::kInk);
  cairo_set_line_width(cr, std::max(0.35, 0.22 * r));
  cairo_stroke(cr);
}

Color to_color(style::Rgb c) {
  auto ch = [](float v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.f, 1.f) * 255)); };
  return {ch(c.r), ch(c.g), ch(c.b)};
}

void draw_scatter(cairo_t* cr, const Panel& panel, const Prepared& p, const Scatter& sc) {
  for (std::size_t i = 0; i < sc.x.size(); ++i) {
    if (!p.sx.usable(sc.x[i]) || !p.sy.usable(sc.y[i])) continue;
    Color fill = sc.color;
    if (panel.color_scale && !sc.value.empty()) {
      const double v = sc.value[i], s = p.color_s(v);
      if (!std::isnan(s))
        fill = to_color(style::colormap(p.bar_map, s));
      else if (p.bar_log && v <= 0)
        fill = p.zero_color;
    }
    draw_marker(cr, sc.marker, p.sx(sc.x[i]), p.sy(sc.y[i]), sc.radius, fill);
  }
}

// A legend row's sample at (x, y) (its left end, vertically centred), `w` wide.
void draw_swatch(cairo_t* cr, const Entry& e, double x, double y, double w) {
  if (e.line) {
    const Line& l = *e.line;
    if (l.width > 0) {
      if (!l.dash.empty()) cairo_set_dash(cr, l.dash.data(), static_cast<int>(l.dash.size()), 0);
      stroke_line(cr, x, y, x + w, y, l.color, l.width);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    if (l.markers) {
      source(cr, l.color);
      cairo_arc(cr, x + w / 2, y, marker_radius(l), 0, 2 * kPi);
      cairo_fill(cr);
    }
  } else if (e.scatter) {
    draw_marker(cr, e.scatter->marker, x + w / 2, y, std::min(e.scatter->radius, 0.3 * w), paper::kGrid);
  } else if (e.cloud) {
    const Cloud& c = *e.cloud;
    if (c.data().d == 1) {
      stroke_line(cr, x, y, x + w, y, c.color, 1.2);
    } else {
      // A dense dab: what the cloud looks like where it is dense.
      source(cr, c.color, std::max(0.6, std::clamp(c.alpha, 0.0, 1.0)));
      cairo_arc(cr, x + w / 2, y, 0.22 * w, 0, 2 * kPi);
      cairo_fill(cr);
    }
  }
}

void draw_panel(cairo_t* cr, const Figure& f, const Panel& panel, const Prepared& p, Format format) {
  const Sizes z(f.font_size);
  const double W = f.panel_width, H = f.panel_height;
  const Font tf = z.tick();

  if (panel.x.grid)
    for (double v : p.xt.values) stroke_line(cr, p.sx(v), 0, p.sx(v), H, paper::kGrid, 0.5);
  if (panel.y.grid)
    for (double v : p.yt.values) stroke_line(cr, 0, p.sy(v), W, p.sy(v), paper::kGrid, 0.5);

  cairo_save(cr);
  cairo_rectangle(cr, 0, 0, W, H);
  cairo_clip(cr);
  if (panel.heatmap) draw_heatmap(cr, f, p, *panel.heatmap);
  for (std::size_t k = 0; k < panel.clouds.size(); ++k) {
    const Cloud& c = panel.clouds[k];
    if (c.data().d == 1) {
      if (p.hist_x[k].empty()) continue;
      cairo_new_path(cr);
      path_of(cr, p, p.hist_x[k], p.hist_y[k]);
      source(cr, c.color);
      cairo_set_line_width(cr, 1.2);
      cairo_stroke(cr);
    } else if (c.density) {
      draw_density(cr, f, p, c, format);
    } else {
      draw_dots(cr, p, c, format == Format::Png ? std::numeric_limits<std::size_t>::max() : c.vector_cap);
    }
  }
  const double dash[] = {2.5, 2};
  for (const auto& m : panel.marks) {
    if (!p.sx.usable(m.x)) continue;
    cairo_set_dash(cr, dash, 2, 0);
    stroke_line(cr, p.sx(m.x), 0, p.sx(m.x), H, m.color, 0.8);
    cairo_set_dash(cr, nullptr, 0, 0);
  }
  for (const auto& l : panel.lines) draw_line(cr, p, l);
  for (const auto& sc : panel.scatters) draw_scatter(cr, panel, p, sc);
  cairo_restore(cr);

  const Font mf = z.mark();
  for (const auto& m : p.marks) {
    const double g = 0.25 * f.font_size;
    text(cr, m.mark->label, mf, m.mark->color, m.left ? m.x - g : m.x + g, z.pad() + m.row * z.line_height(mf),
         m.left ? 1 : 0, 1, 0, /*halo=*/true);
  }

  // Frame, ticks, tick labels, axis labels, title.
  cairo_rectangle(cr, 0, 0, W, H);
  source(cr, paper::kInk);
  cairo_set_line_width(cr, z.frame());
  cairo_stroke(cr);
  const double tl = z.tick_len();
  for (std::size_t i = 0; i < p.xt.values.size(); ++i) {
    const double x = p.sx(p.xt.values[i]);
    stroke_line(cr, x, H, x, H + tl, paper::kInk, z.frame());
    if (p.show_x) text(cr, p.xl[i], tf, paper::kInk, x, H + tl + z.pad(), 0.5, 1);
  }
  double ytw = 0;
  for (std::size_t i = 0; i < p.yt.values.size(); ++i) {
    const double y = p.sy(p.yt.values[i]);
    stroke_line(cr, 0, y, -tl, y, paper::kInk, z.frame());
    if (p.show_y) {
      text(cr, p.yl[i], tf, paper::kInk, -tl - z.pad(), y, 1, 0.5);
      ytw = std::max(ytw, text_width(cr, p.yl[i], tf));
    }
  }
  const Font lf = z.label();
  if (p.show_x && !panel.x.label.empty()) {
    const double y = H + tl + (p.xl.empty() ? 0 : z.pad() + kCap * tf.size + kDescent * tf.size) + z.pad();
    text(cr, panel.x.label, lf, paper::kInk, W / 2, y, 0.5, 1);
  }
  if (p.show_y && !panel.y.label.empty()) {
    const double x = -tl - (p.yl.empty() ? 0 : z.pad() + ytw) - z.pad() - kDescent * lf.size;
    text(cr, panel.y.label, lf, paper::kInk, x, H / 2, 0.5, 0, -kPi / 2);
  }
  if (!panel.title.empty()) text(cr, panel.title, z.title(), paper::kInk, W / 2, -0.45 * f.font_size, 0.5, 0);
  if (p.empty) text(cr, p.empty_text, z.label(), paper::kMuted, W / 2, H / 2, 0.5, 0.5);

  // Legend.
  if (p.legend != Legend::None && !p.entries.empty()) {
    const double in = 0.4 * f.font_size;
    double x0 = W - in - p.legend_w, y0 = in;
    switch (p.legend) {
      case Legend::TopLeft:
        x0 = in;
        break;
      case Legend::BottomLeft:
        x0 = in, y0 = H - in - p.legend_h;
        break;
      case Legend::BottomRight:
        y0 = H - in - p.legend_h;
        break;
      case Legend::Right:
        x0 = W + p.legend_x, y0 = 0;
        break;
      default:
        break;
    }
    cairo_rectangle(cr, x0, y0, p.legend_w, p.legend_h);
    source(cr, paper::kPage, 0.9);
    cairo_fill_preserve(cr);
    source(cr, paper::kGrid);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
    const Font ef = z.legend();
    const double sw = 1.8 * f.font_size;
    for (std::size_t i = 0; i < p.entries.size(); ++i) {
      const double base = y0 + z.pad() + kCap * ef.size + i * z.line_height(ef);
      draw_swatch(cr, p.entries[i], x0 + z.pad(), base - kCap * ef.size / 2, sw);
      text(cr, p.entries[i].name, ef, paper::kInk, x0 + z.pad() + sw + 0.4 * f.font_size, base, 0, 0);
    }
  }

  // Colour bar: the map as a gradient (vector in every format), its ticks and label, and
  // under it the box of the values a log scale has no place for.
  if (p.bar) {
    const double bx = W + p.bar_x, bw = 0.9 * f.font_size;
    const double top = p.gradient_top, bottom = p.gradient_bottom, gh = bottom - top;
    const double lx = bx + bw + tl + z.bar_label_gap();  // where the tick labels start
    double lw = 0;
    if (p.gradient && gh > 0) {
      cairo_pattern_t* g = cairo_pattern_create_linear(0, bottom, 0, top);
      const auto& stops = style::colormap_stops(p.bar_map);
      for (std::size_t i = 0; i < stops.size(); ++i)
        cairo_pattern_add_color_stop_rgb(g, stops.size() > 1 ? static_cast<double>(i) / (stops.size() - 1) : 0,
                                         stops[i].r, stops[i].g, stops[i].b);
      cairo_rectangle(cr, bx, top, bw, gh);
      cairo_set_source(cr, g);
      cairo_fill(cr);
      cairo_pattern_destroy(g);
      cairo_rectangle(cr, bx, top, bw, gh);
      source(cr, paper::kInk);
      cairo_set_line_width(cr, z.frame());
      cairo_stroke(cr);
      for (std::size_t i = 0; i < p.bt.values.size(); ++i) {
        const double s = p.color_s(p.bt.values[i]);
        const double y = bottom - s * gh;
        stroke_line(cr, bx + bw, y, bx + bw + tl, y, paper::kInk, z.frame());
        text(cr, p.bl[i], tf, paper::kInk, lx, y, 0, 0.5);
        lw = std::max(lw, text_width(cr, p.bl[i], tf));
      }
    }
    if (p.zero_box) {
      const double zt = p.zero_top, zh = H - zt;
      cairo_rectangle(cr, bx, zt, bw, zh);
      source(cr, p.zero_color);
      cairo_fill_preserve(cr);
      source(cr, paper::kInk);
      cairo_set_line_width(cr, z.frame());
      cairo_stroke(cr);
      text(cr, p.zero_label, tf, paper::kInk, lx, zt + zh / 2, 0, 0.5);
      lw = std::max(lw, text_width(cr, p.zero_label, tf));
    }
    if (!p.bar_label.empty())
      text(cr, p.bar_label, lf, paper::kInk, lx + lw + z.pad() + kCap * lf.size, H / 2, 0.5, 0, -kPi / 2);
  }
}

void draw(cairo_t* cr, const Figure& f, const Plan& P, Format format) {
  const Sizes z(f.font_size);
  source(cr, paper::kPage);
  cairo_paint(cr);
  const int cols = f.columns;
  const double m = z.margin();
  if (!f.title.empty())
    text(cr, f.title, z.figure_title(), paper::kInk, P.layout.width / 2, P.title_y + kCap * z.figure_title().size, 0.5,
         0);
  {
    int c = 0;
    for (const auto& h : f.column_headers) {
      const int last = std::min(cols, c + h.span) - 1;
      const double a = P.col_x[c], b = P.col_x[last] + f.panel_width;
      text(cr, h.text, z.header(), paper::kInk, (a + b) / 2, P.header_y + kCap * z.header().size, 0.5, 0);
      c += h.span;
    }
  }
  for (std::size_t r = 0; r < f.row_headers.size(); ++r)
    text(cr, f.row_headers[r], z.header(), paper::kInk, m + z.pad() + kCap * z.header().size / 2,
         P.row_y[r] + f.panel_height / 2, 0.5, 0.5, -kPi / 2);

  for (std::size_t k = 0; k < f.panels.size(); ++k) {
    const Rect& a = P.layout.plots[k];
    cairo_save(cr);
    cairo_translate(cr, a.x, a.y);
    draw_panel(cr, f, f.panels[k], P.panels[k], format);
    cairo_restore(cr);
  }

  // Captions: under the row's lowest tick labels, centred under their span, made smaller
  // where a line would run into the neighbouring caption.
  const int rows = static_cast<int>(P.row_y.size());
  std::vector<double> under(rows, 0);
  for (std::size_t k = 0; k < f.panels.size(); ++k) under[k / cols] = std::max(under[k / cols], P.panels[k].below);
  for (std::size_t k = 0; k < f.panels.size(); ++k) {
    const Panel& p = f.panels[k];
    if (p.caption.empty()) continue;
    const int row = static_cast<int>(k) / cols, col = static_cast<int>(k) % cols;
    const int last = col + p.caption_span - 1;
    const double a = P.col_x[col], b = P.col_x[last] + f.panel_width;
    const double room = b - a + z.col_gap();
    Font cf = z.caption();
    double widest = 0;
    for (const auto& s : p.caption) widest = std::max(widest, text_width(cr, s, cf));
    if (widest > room) cf.size = std::max(0.7 * cf.size, cf.size * room / widest);
    double y = P.row_y[row] + f.panel_height + under[row] + z.caption_gap() + kCap * z.caption().size;
    for (const auto& s : p.caption) {
      text(cr, s, cf, paper::kInk, (a + b) / 2, y, 0.5, 0);
      y += z.line_height(z.caption());
    }
  }

  double y = P.notes_y + kCap * z.note().size;
  for (const auto& n : P.notes) {
    text(cr, n, z.note(), paper::kMuted, m, y, 0, 0);
    y += z.line_height(z.note());
  }
}

// Fonts are measured and drawn unhinted, so the layout is the same on every surface and
// at every PNG scale.
void set_font_options(cairo_t* cr) {
  cairo_font_options_t* o = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(o, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(o, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_antialias(o, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(cr, o);
  cairo_font_options_destroy(o);
}

// A throwaway context for measuring text before the document's size is known.
struct Measure {
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t* cr = cairo_create(s);
  Measure() { set_font_options(cr); }
  ~Measure() {
    cairo_destroy(cr);
    cairo_surface_destroy(s);
  }
};

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

Layout layout(const Figure& f) {
  Measure ms;
  return plan(ms.cr, f).layout;
}

std::string render(const Figure& f, Format format) {
  Plan P;
  {
    Measure ms;
    P = plan(ms.cr, f);
  }
  const double W = P.layout.width, H = P.layout.height;
  std::string out;
  cairo_surface_t* s = nullptr;
  if (format == Format::Png) {
    const double pw = std::ceil(W * f.scale), ph = std::ceil(H * f.scale);
    if (pw > 32767 || ph > 32767)
      throw std::invalid_argument("figure: " + style::number(pw, 6) + " x " + style::number(ph, 6) +
                                  " pixels is more than PNG output allows (32767); lower scale");
    s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(pw), static_cast<int>(ph));
  } else if (format == Format::Svg) {
    s = cairo_svg_surface_create_for_stream(append, &out, W, H);
    cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PT);
  } else {
    s = cairo_pdf_surface_create_for_stream(append, &out, W, H);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "gapscope");
    if (!f.title.empty()) cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, f.title.c_str());
  }
  cairo_t* cr = cairo_create(s);
  set_font_options(cr);
  if (format == Format::Png) cairo_scale(cr, f.scale, f.scale);
  draw(cr, f, P, format);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  if (st == CAIRO_STATUS_SUCCESS && format == Format::Png) st = cairo_surface_write_to_png_stream(s, append, &out);
  cairo_surface_finish(s);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS) throw std::runtime_error(std::string("cairo: ") + cairo_status_to_string(st));
  return out;
}

}  // namespace gapscope::fig

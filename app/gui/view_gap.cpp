// The residual panel's residual–gap tab: every finished pass of the session as one point
// (the residual of its weights against W2(ODE, SDE)², log–log, coloured by λ, one marker
// shape per run) beside the mean |R| per time slice over this run's training (iteration ×
// t). Both are turned into pixels-ready geometry only when their data change (a new pass,
// a new measured history row); a frame only maps that to the panel and emits it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "study/residual_gap.h"
#include "style/colormap.h"
#include "style/format.h"
#include "style/ticks.h"
#include "views.h"
#include "widgets.h"

namespace gapscope::gui {
namespace {

constexpr ImU32 kZeroFill = IM_COL32(255, 255, 255, 255);  // λ = 0: the figure's white box
constexpr ImU32 kRim = IM_COL32(20, 20, 24, 255);

// A log10 range with the figure's 4 % margin; a single value gets half a decade either side.
struct LogRange {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v) && v > 0) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
  }
  bool valid() const { return lo <= hi; }
  void finish() {
    if (!valid()) lo = 0, hi = 1;
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    const double m = 0.04 * (hi - lo);
    lo -= m, hi += m;
  }
};

struct ScatterCache {
  GapPointsPtr src;
  int variant = -1;
  std::vector<double> lx, ly;  // log10 residual, log10 W2², of the drawable points
  std::vector<const ResidualGapPoint*> point;
  std::vector<ImU32> fill;
  std::vector<int> shape;  // index of the point's source, mod 4
  std::vector<std::string> sources;
  LogRange x, y;
  double l0 = -1, l1 = 1;  // log10 λ of the colour bar's ends
  bool lambda_pos = false, lambda_zero = false;
  struct Fit {
    std::string group;
    double slope = 0, icpt = 0, lo = 0, hi = 0;  // lo, hi: log10 of its residual range
  };
  std::vector<Fit> fits;  // one per run with 3 or more points, as the exported figure
  int undrawable = 0;
};

std::string group_of(const std::string& source) {
  const auto k = source.find(": ");
  return k == std::string::npos ? std::string() : source.substr(0, k);
}

void build(ScatterCache& c, const GapPointsPtr& src, int variant) {
  c = ScatterCache{};
  c.src = src, c.variant = variant;
  LogRange lam;
  for (const auto& p : *src) {
    const double r = variant == 0 ? p.res_mean_sq : p.res_time_weighted, w = p.w2_ode_sde * p.w2_ode_sde;
    if (!(std::isfinite(r) && r > 0 && std::isfinite(w) && w > 0)) {
      ++c.undrawable;
      continue;
    }
    auto it = std::find(c.sources.begin(), c.sources.end(), p.source);
    if (it == c.sources.end()) it = c.sources.insert(c.sources.end(), p.source);
    c.shape.push_back(static_cast<int>(it - c.sources.begin()) % 4);
    c.lx.push_back(std::log10(r));
    c.ly.push_back(std::log10(w));
    c.point.push_back(&p);
    c.x.add(r), c.y.add(w);
    if (p.lambda > 0) lam.add(p.lambda), c.lambda_pos = true;
    else c.lambda_zero = true;
  }
  c.x.finish(), c.y.finish();
  if (lam.valid()) {
    c.l0 = lam.lo, c.l1 = lam.hi;
    if (c.l1 - c.l0 < 1e-9) c.l0 -= 0.5, c.l1 += 0.5;
  }
  for (const ResidualGapPoint* p : c.point)
    c.fill.push_back(p->lambda > 0 ? to_u32(style::colormap(style::Colormap::Sequential,
                                                            (std::log10(p->lambda) - c.l0) / (c.l1 - c.l0)))
                                   : kZeroFill);
  std::vector<std::string> groups;
  for (const ResidualGapPoint* p : c.point)
    if (std::find(groups.begin(), groups.end(), group_of(p->source)) == groups.end()) groups.push_back(group_of(p->source));
  for (const auto& g : groups) {
    std::vector<double> xs, ys;
    ScatterCache::Fit f;
    f.group = g, f.lo = INFINITY, f.hi = -INFINITY;
    for (std::size_t i = 0; i < c.point.size(); ++i)
      if (group_of(c.point[i]->source) == g) {
        xs.push_back(std::pow(10.0, c.lx[i])), ys.push_back(std::pow(10.0, c.ly[i]));
        f.lo = std::min(f.lo, c.lx[i]), f.hi = std::max(f.hi, c.lx[i]);
      }
    if (loglog_fit(xs, ys, f.slope, f.icpt)) c.fits.push_back(f);
  }
}

void marker(ImDrawList* dl, int shape, ImVec2 q, float r, ImU32 fill) {
  switch (shape) {
    case 0:
      dl->AddCircleFilled(q, r, fill, 12);
      dl->AddCircle(q, r, kRim, 12, 1.0f);
      break;
    case 1: {
      const float a = 0.89f * r;
      dl->AddRectFilled(ImVec2(q.x - a, q.y - a), ImVec2(q.x + a, q.y + a), fill);
      dl->AddRect(ImVec2(q.x - a, q.y - a), ImVec2(q.x + a, q.y + a), kRim);
      break;
    }
    case 2: {
      const float a = 1.3f * r;
      const ImVec2 p1(q.x, q.y - a), p2(q.x + 0.866f * a, q.y + 0.5f * a), p3(q.x - 0.866f * a, q.y + 0.5f * a);
      dl->AddTriangleFilled(p1, p2, p3, fill);
      dl->AddTriangle(p1, p2, p3, kRim);
      break;
    }
    default: {
      const ImVec2 p1(q.x, q.y - 1.25f * r), p2(q.x + r, q.y), p3(q.x, q.y + 1.25f * r), p4(q.x - r, q.y);
      dl->AddQuadFilled(p1, p2, p3, p4, fill);
      dl->AddQuad(p1, p2, p3, p4, kRim);
      break;
    }
  }
}

// Decade (or 1-2-5) ticks of a log10 range [lo, hi] along one side.
void log_axis(ImDrawList* dl, double lo, double hi, ImVec2 a, ImVec2 b, bool horizontal) {
  const float fs = ImGui::GetFontSize();
  const float len = horizontal ? b.x - a.x : b.y - a.y;
  const style::Ticks t = style::log_ticks(std::pow(10.0, lo), std::pow(10.0, hi),
                                          std::max(2, static_cast<int>(len / (fs * (horizontal ? 4.5f : 2.2f)))));
  for (double v : t.values) {
    const double s = (std::log10(v) - lo) / (hi - lo);
    const std::string lab = style::tick_label(v, t.step);
    const ImVec2 sz = ImGui::CalcTextSize(lab.c_str());
    if (horizontal) {
      const float x = a.x + static_cast<float>(s) * len;
      dl->AddLine(ImVec2(x, a.y), ImVec2(x, b.y), theme::kGrid);
      dl->AddLine(ImVec2(x, b.y), ImVec2(x, b.y + 4), theme::kAxis);
      dl->AddText(ImVec2(x - sz.x / 2, b.y + 4), theme::kText, lab.c_str());
    } else {
      const float y = b.y - static_cast<float>(s) * len;
      dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), theme::kGrid);
      dl->AddLine(ImVec2(a.x - 4, y), ImVec2(a.x, y), theme::kAxis);
      dl->AddText(ImVec2(a.x - 6 - sz.x, y - fs / 2), theme::kText, lab.c_str());
    }
  }
}

// A vertical colour bar at x over [top, bottom]: the sequential map between 10^lo and 10^hi
// (log) or lo and hi (linear), and, when asked, the λ = 0 box under it.
void colour_bar(ImDrawList* dl, float x, float top, float bottom, double lo, double hi, bool log, bool gradient,
                bool zero_box, const char* label) {
  const float fs = ImGui::GetFontSize();
  const float w = fs * 0.9f, zh = fs * 1.1f;
  const float gb = zero_box ? bottom - zh - fs * 0.5f : bottom;
  if (gradient && gb - top > 4) {
    constexpr int kSegments = 32;
    for (int k = 0; k < kSegments; ++k) {
      const float y0 = top + (gb - top) * k / kSegments, y1 = top + (gb - top) * (k + 1) / kSegments;
      const ImU32 c0 = to_u32(style::colormap(style::Colormap::Sequential, 1.0 - static_cast<double>(k) / kSegments));
      const ImU32 c1 = to_u32(style::colormap(style::Colormap::Sequential, 1.0 - static_cast<double>(k + 1) / kSegments));
      dl->AddRectFilledMultiColor(ImVec2(x, y0), ImVec2(x + w, y1 + 0.5f), c0, c0, c1, c1);
    }
    dl->AddRect(ImVec2(x, top), ImVec2(x + w, gb), theme::kAxis);
    const style::Ticks t = log ? style::log_ticks(std::pow(10.0, lo), std::pow(10.0, hi), 4) : style::linear_ticks(lo, hi, 4);
    for (double v : t.values) {
      const double s = log ? (std::log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
      const float y = gb - static_cast<float>(s) * (gb - top);
      dl->AddLine(ImVec2(x + w, y), ImVec2(x + w + 3, y), theme::kAxis);
      dl->AddText(ImVec2(x + w + 4, y - fs / 2), theme::kText, style::tick_label(v, t.step).c_str());
    }
  }
  if (zero_box) {
    dl->AddRectFilled(ImVec2(x, bottom - zh), ImVec2(x + w, bottom), kZeroFill);
    dl->AddRect(ImVec2(x, bottom - zh), ImVec2(x + w, bottom), theme::kAxis);
    dl->AddText(ImVec2(x + w + 4, bottom - zh / 2 - fs / 2), theme::kText, "0");
  }
  dl->AddText(ImVec2(x, top - fs * 1.25f), theme::kText, label);
}

void scatter_view(const ScatterCache& c, ImVec2 p0, ImVec2 size, const char* x_label) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const ImVec2 a(p0.x + fs * 3.6f, p0.y + fs * 1.4f), b(p0.x + size.x - fs * 4.2f, p0.y + size.y - fs * 2.6f);
  if (b.x - a.x < 20 || b.y - a.y < 20) return;
  std::string head = "W2(ODE, SDE)²";
  if (!c.fits.empty()) {
    const auto& f = c.fits.back();
    char s[160];
    std::snprintf(s, sizeof s, "      dashed: least squares per run, log–log slope %.2f%s%s", f.slope,
                  f.group.empty() ? "" : " for ", f.group.c_str());
    head += s;
  }
  dl->AddText(ImVec2(a.x, p0.y), theme::kText, head.c_str());
  dl->AddText(ImVec2((a.x + b.x) / 2 - ImGui::CalcTextSize(x_label).x / 2, b.y + fs * 1.3f), theme::kText, x_label);
  if (c.lx.empty()) {
    dl->AddRect(a, b, theme::kAxis);
    const char* msg = c.undrawable ? "no drawable point yet (W2 = 0 or no residual)"
                                   : "no finished pass yet: every pass adds a point";
    dl->AddText(ImVec2(a.x + 8, (a.y + b.y) / 2 - fs / 2), theme::kText, msg);
    return;
  }
  auto px = [&](double lx) { return a.x + static_cast<float>((lx - c.x.lo) / (c.x.hi - c.x.lo)) * (b.x - a.x); };
  auto py = [&](double ly) { return b.y - static_cast<float>((ly - c.y.lo) / (c.y.hi - c.y.lo)) * (b.y - a.y); };
  log_axis(dl, c.x.lo, c.x.hi, a, b, true);
  log_axis(dl, c.y.lo, c.y.hi, a, b, false);
  dl->PushClipRect(a, b, true);
  for (const auto& f : c.fits) {
    constexpr int kDashes = 24;  // dashed, as in the figure
    for (int k = 0; k < kDashes; ++k) {
      const double u0 = f.lo + (f.hi - f.lo) * k / kDashes, u1 = f.lo + (f.hi - f.lo) * (k + 0.6) / kDashes;
      dl->AddLine(ImVec2(px(u0), py(f.icpt + f.slope * u0)), ImVec2(px(u1), py(f.icpt + f.slope * u1)),
                  IM_COL32(170, 170, 180, 170), 1.0f);
    }
  }
  const float r = c.lx.size() > 200 ? fs * 0.22f : fs * 0.32f;
  for (std::size_t i = 0; i < c.lx.size(); ++i) marker(dl, c.shape[i], ImVec2(px(c.lx[i]), py(c.ly[i])), r, c.fill[i]);
  dl->PopClipRect();
  dl->AddRect(a, b, theme::kAxis);
  colour_bar(dl, b.x + fs * 0.6f, a.y, b.y, c.l0, c.l1, true, c.lambda_pos, c.lambda_zero, "λ");
  // Legend of the runs' shapes (the latest four sources when there are more).
  float ly = a.y + 2 + fs * 1.2f;
  const std::size_t first = c.sources.size() > 4 ? c.sources.size() - 4 : 0;
  for (std::size_t k = first; k < c.sources.size() && c.sources.size() > 1; ++k) {
    marker(dl, static_cast<int>(k % 4), ImVec2(a.x + fs * 0.8f, ly + fs / 2), r, IM_COL32(200, 200, 205, 255));
    dl->AddText(ImVec2(a.x + fs * 1.6f, ly), theme::kText, c.sources[k].c_str());
    ly += fs * 1.2f;
  }
  ImGui::SetCursorScreenPos(a);
  ImGui::InvisibleButton("gap_scatter", ImVec2(b.x - a.x, b.y - a.y));
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetIO().MousePos;
  std::size_t best = c.lx.size();
  float bd = fs * fs;
  for (std::size_t i = 0; i < c.lx.size(); ++i) {
    const float dx = px(c.lx[i]) - m.x, dy = py(c.ly[i]) - m.y;
    if (dx * dx + dy * dy < bd) bd = dx * dx + dy * dy, best = i;
  }
  if (best == c.lx.size()) return;
  const ResidualGapPoint& p = *c.point[best];
  ImGui::SetTooltip("%s, iteration %lld, λ = %s\nmean R² = %s, R²_g = %s\nW2(ODE, SDE) = %s", p.source.c_str(),
                    static_cast<long long>(p.iteration), style::number(p.lambda).c_str(),
                    style::number(p.res_mean_sq, 4).c_str(), style::number(p.res_time_weighted, 4).c_str(),
                    style::number(p.w2_ode_sde, 4).c_str());
}

// The history's measured rows, scanned once each; the cells' colours rebuilt when a new one comes.
struct HistoryCache {
  uint64_t generation = ~0ull;
  std::size_t scanned = 0;
  int slices = 0;
  std::vector<int64_t> it;
  std::vector<double> vals;  // it.size() x slices
  std::vector<std::pair<int64_t, double>> lambda_changes;
  double last_lambda = NAN;
  std::size_t built = ~std::size_t{0};
  // For drawing: columns over [c0, c1] iterations, at most kColumns; a cell holds the last
  // measured row of its column (0: none).
  int cols = 0;
  double c0 = 0, c1 = 1;
  std::vector<ImU32> cell;
  bool log = false;
  double vlo = 0, vhi = 1;  // colour range (log10 when log)
};
constexpr int kColumns = 240;

void update(HistoryCache& h, const std::vector<TrainRow>& rows, uint64_t generation) {
  if (generation != h.generation || rows.size() < h.scanned) {
    h = HistoryCache{};
    h.generation = generation;
  }
  for (; h.scanned < rows.size(); ++h.scanned) {
    const TrainRow& r = rows[h.scanned];
    if (std::isfinite(h.last_lambda) && r.lambda != h.last_lambda) h.lambda_changes.push_back({r.iteration, r.lambda});
    h.last_lambda = r.lambda;
    if (r.res_slice_abs.empty()) continue;
    if (h.slices == 0) h.slices = static_cast<int>(r.res_slice_abs.size());
    if (static_cast<int>(r.res_slice_abs.size()) != h.slices) continue;
    h.it.push_back(r.iteration);
    h.vals.insert(h.vals.end(), r.res_slice_abs.begin(), r.res_slice_abs.end());
  }
  if (h.built == h.it.size() || h.it.empty()) return;
  h.built = h.it.size();
  double lo = INFINITY, hi = 0;
  for (double v : h.vals)
    if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi > 0)) lo = 0, hi = 1;
  h.log = hi > 10 * lo;
  h.vlo = h.log ? std::log10(lo) : 0.0;
  h.vhi = h.log ? std::log10(hi) : hi;
  if (!(h.vhi > h.vlo)) h.vhi = h.vlo + 1;
  const double first = static_cast<double>(h.it.front()), last = static_cast<double>(h.it.back());
  double step = 0;
  for (std::size_t i = 1; i < h.it.size(); ++i) {
    const double d = static_cast<double>(h.it[i] - h.it[i - 1]);
    if (d > 0) step = step > 0 ? std::min(step, d) : d;
  }
  if (!(step > 0)) step = std::max(1.0, first);
  step = std::max(step, (last - first) / (kColumns - 1));
  h.cols = static_cast<int>(std::lround((last - first) / step)) + 1;
  h.c0 = first - step / 2, h.c1 = first + (h.cols - 0.5) * step;
  h.cell.assign(static_cast<std::size_t>(h.cols) * h.slices, 0);
  for (std::size_t i = 0; i < h.it.size(); ++i) {
    const int col = std::clamp(static_cast<int>(std::lround((h.it[i] - first) / step)), 0, h.cols - 1);
    for (int k = 0; k < h.slices; ++k) {
      const double v = h.vals[i * h.slices + k];
      if (!std::isfinite(v) || (h.log && v <= 0)) continue;
      const double s = ((h.log ? std::log10(v) : v) - h.vlo) / (h.vhi - h.vlo);
      h.cell[static_cast<std::size_t>(k) * h.cols + col] = to_u32(style::colormap(style::Colormap::Sequential, s));
    }
  }
}

void history_view(const HistoryCache& h, const Config& cfg, ImVec2 p0, ImVec2 size) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const ImVec2 a(p0.x + fs * 3.0f, p0.y + fs * 1.4f), b(p0.x + size.x - fs * 5.2f, p0.y + size.y - fs * 2.6f);
  if (b.x - a.x < 20 || b.y - a.y < 20) return;
  dl->AddText(ImVec2(a.x, p0.y), theme::kText, "mean |R| per time slice over training");
  dl->AddText(ImVec2((a.x + b.x) / 2 - ImGui::CalcTextSize("iteration").x / 2, b.y + fs * 1.3f), theme::kText,
              "iteration");
  dl->AddText(ImVec2(p0.x, (a.y + b.y) / 2 - fs / 2), theme::kText, "t");
  if (h.it.empty()) {
    dl->AddRect(a, b, theme::kAxis);
    char s[160];
    std::snprintf(s, sizeof s, "no residual statistics yet (every %d iterations)", cfg.residual_stats_every);
    dl->AddText(ImVec2(a.x + 8, (a.y + b.y) / 2 - fs / 2), theme::kText, s);
    return;
  }
  const float cw = (b.x - a.x) / h.cols, ch = (b.y - a.y) / h.slices;
  for (int k = 0; k < h.slices; ++k)
    for (int col = 0; col < h.cols; ++col) {
      const ImU32 c = h.cell[static_cast<std::size_t>(k) * h.cols + col];
      if (!c) continue;
      const float x0 = a.x + col * cw, y1 = b.y - k * ch;
      dl->AddRectFilled(ImVec2(x0, y1 - ch), ImVec2(x0 + cw + 0.5f, y1 + 0.5f), c);
    }
  auto px = [&](double it) { return a.x + static_cast<float>((it - h.c0) / (h.c1 - h.c0)) * (b.x - a.x); };
  for (const auto& [it, l] : h.lambda_changes) {
    const float x = px(static_cast<double>(it));
    if (x < a.x || x > b.x) continue;
    // White under a dashed dark line: visible on the map's dark and light ends alike.
    dl->AddLine(ImVec2(x, a.y), ImVec2(x, b.y), IM_COL32(255, 255, 255, 230), 2.0f);
    for (float y = a.y; y < b.y; y += 6) dl->AddLine(ImVec2(x, y), ImVec2(x, std::min(b.y, y + 3.5f)), kRim, 1.0f);
  }
  dl->AddRect(a, b, theme::kAxis);
  const style::Ticks xt = style::linear_ticks(h.c0, h.c1, std::max(2, static_cast<int>((b.x - a.x) / (fs * 5))));
  for (double v : xt.values) {
    const std::string s = style::tick_label(v, xt.step);
    dl->AddLine(ImVec2(px(v), b.y), ImVec2(px(v), b.y + 4), theme::kAxis);
    dl->AddText(ImVec2(px(v) - ImGui::CalcTextSize(s.c_str()).x / 2, b.y + 4), theme::kText, s.c_str());
  }
  const style::Ticks yt = style::linear_ticks(cfg.eps, cfg.T, std::max(2, static_cast<int>((b.y - a.y) / (fs * 2))));
  for (double v : yt.values) {
    const float y = b.y - static_cast<float>((v - cfg.eps) / (cfg.T - cfg.eps)) * (b.y - a.y);
    const std::string s = style::tick_label(v, yt.step);
    dl->AddLine(ImVec2(a.x - 4, y), ImVec2(a.x, y), theme::kAxis);
    dl->AddText(ImVec2(a.x - 6 - ImGui::CalcTextSize(s.c_str()).x, y - fs / 2), theme::kText, s.c_str());
  }
  colour_bar(dl, b.x + fs * 0.6f, a.y, b.y, h.vlo, h.vhi, h.log, true, false, "mean |R|");
  ImGui::SetCursorScreenPos(a);
  ImGui::InvisibleButton("gap_history", ImVec2(b.x - a.x, b.y - a.y));
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetIO().MousePos;
  const double it = h.c0 + (m.x - a.x) / (b.x - a.x) * (h.c1 - h.c0);
  const int k = std::clamp(static_cast<int>((b.y - m.y) / ch), 0, h.slices - 1);
  // The measured row nearest the pointer's iteration.
  const auto lb = std::lower_bound(h.it.begin(), h.it.end(), static_cast<int64_t>(std::llround(it)));
  std::size_t i = static_cast<std::size_t>(lb - h.it.begin());
  if (i == h.it.size() || (i > 0 && it - h.it[i - 1] < h.it[i] - it)) i = i == 0 ? 0 : i - 1;
  const double t0 = cfg.eps + k * (cfg.T - cfg.eps) / h.slices, t1 = cfg.eps + (k + 1) * (cfg.T - cfg.eps) / h.slices;
  ImGui::SetTooltip("iteration %lld, t in [%s, %s]\nmean |R| = %s", static_cast<long long>(h.it[i]),
                    style::number(t0, 3).c_str(), style::number(t1, 3).c_str(),
                    style::number(h.vals[i * h.slices + k], 4).c_str());
}

}  // namespace

void gap_tab(Session& s, ViewState& ui) {
  static const char* const kVariants[] = {"mean R² over the box", "time-weighted R²_g"};
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
  ImGui::Combo("residual", &ui.gap_variant, kVariants, 2);
  help_marker(
      "Every finished ODE/SDE pass adds a point: the residual of the weights it sampled with (2048 fixed collocation "
      "points) against its W2(ODE, SDE)^2, coloured by lambda (white: 0), one shape per run. R²_g weighs each time "
      "slice's RMS residual by g(t)^2, as the W2 bound does (README). Kept across lambda changes and new runs.");
  const GapPointsPtr pts = s.gap_points();
  static ScatterCache cache;
  if (cache.src != pts || cache.variant != ui.gap_variant) build(cache, pts, ui.gap_variant);
  ImGui::SameLine();
  ImGui::TextDisabled("%zu point%s, %zu run%s", pts->size(), pts->size() == 1 ? "" : "s", cache.sources.size(),
                      cache.sources.size() == 1 ? "" : "s");
  ImGui::SameLine();
  if (ImGui::Button("Export##gap")) s.export_gap(ui.out_dir);
  static HistoryCache hist;
  update(hist, s.history(), s.generation());
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  const float w = avail.x * 0.5f;
  ui.record_panel("residual_gap", p0, ImVec2(w - 4, avail.y));
  scatter_view(cache, p0, ImVec2(w - 4, avail.y), ui.gap_variant == 0 ? "mean R²" : "R²_g");
  ui.record_panel("residual_history", ImVec2(p0.x + w + 4, p0.y), ImVec2(w - 4, avail.y));
  history_view(hist, s.config(), ImVec2(p0.x + w + 4, p0.y), ImVec2(w - 4, avail.y));
}

}  // namespace gapscope::gui

#include "plot_widget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gapscope::gui {
namespace {

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

struct Frame {  // data -> pixels
  double x0, x1, y0, y1;  // y in transformed units (log10 when log_y)
  bool log_y;
  ImVec2 a, b;  // plot area
  float px(double x) const { return a.x + static_cast<float>((x - x0) / (x1 - x0)) * (b.x - a.x); }
  float py(double y) const {
    const double ty = log_y ? std::log10(y) : y;
    return b.y - static_cast<float>((ty - y0) / (y1 - y0)) * (b.y - a.y);
  }
};

bool compute_frame(const std::vector<Series>& series, const PlotSpec& spec, Frame& f) {
  Range rx, ry;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && usable(s.y[i], spec.log_y)) {
        rx.add(s.x[i]);
        ry.add(spec.log_y ? std::log10(s.y[i]) : s.y[i]);
      }
  if (!rx.valid()) return false;  // marks inside the data's x range are drawn; they do not widen it
  if (spec.x_from_zero) rx.lo = std::min(rx.lo, 0.0);
  if (std::isfinite(spec.x_min)) rx.lo = spec.x_min;
  if (std::isfinite(spec.x_max)) rx.hi = spec.x_max;
  if (std::isfinite(spec.y_min)) ry.lo = spec.log_y ? std::log10(spec.y_min) : spec.y_min;
  if (std::isfinite(spec.y_max)) ry.hi = spec.log_y ? std::log10(spec.y_max) : spec.y_max;
  if (rx.hi - rx.lo < 1e-12) rx.lo -= 0.5, rx.hi += 0.5;
  if (ry.hi - ry.lo < 1e-12 * std::max(1.0, std::abs(ry.hi))) {
    const double p = spec.log_y ? 0.5 : std::max(1e-3, std::abs(ry.hi) * 0.1);
    ry.lo -= p;
    ry.hi += p;
  }
  const double pad = 0.06 * (ry.hi - ry.lo);
  f.x0 = rx.lo;
  f.x1 = rx.hi;
  f.y0 = std::isfinite(spec.y_min) ? ry.lo : ry.lo - pad;
  f.y1 = std::isfinite(spec.y_max) ? ry.hi : ry.hi + pad;
  f.log_y = spec.log_y;
  return true;
}

std::vector<double> log_ticks(double lo10, double hi10) {
  std::vector<double> t;
  const int a = static_cast<int>(std::ceil(lo10 - 1e-9)), b = static_cast<int>(std::floor(hi10 + 1e-9));
  if (b - a >= 1) {
    const int stride = std::max(1, (b - a + 1) / 6);
    for (int e = a; e <= b; e += stride) t.push_back(std::pow(10.0, e));
    return t;
  }
  for (double v : nice_ticks(std::pow(10.0, lo10), std::pow(10.0, hi10), 4))
    if (v > 0) t.push_back(v);
  return t;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  const double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

std::string tick_label(double v, double step) {
  char b[32];
  const double a = std::abs(v);
  if (v == 0)
    return "0";
  if (a >= 1e5 || a < 1e-3)
    std::snprintf(b, sizeof b, "%.0e", v);
  else if (step >= 1 || step <= 0)
    std::snprintf(b, sizeof b, "%.0f", v);
  else
    std::snprintf(b, sizeof b, "%.*f", std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))), v);
  return b;
}

bool plot(const char* id, ImVec2 p0, ImVec2 size, const std::vector<Series>& series, const PlotSpec& spec) {
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton(id, ImVec2(std::max(size.x, 1.f), std::max(size.y, 1.f)));
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const ImU32 axis = IM_COL32(170, 170, 180, 255), grid = IM_COL32(255, 255, 255, 22), text = IM_COL32(210, 210, 220, 255);
  Frame f;
  f.a = ImVec2(p0.x + fs * 4.2f, p0.y + fs * 1.3f);
  f.b = ImVec2(p0.x + size.x - fs * 0.6f, p0.y + size.y - fs * 2.6f);
  if (f.b.x - f.a.x < 20 || f.b.y - f.a.y < 20) return hovered;
  if (!compute_frame(series, spec, f)) {
    const ImVec2 ts = ImGui::CalcTextSize(spec.empty_text.c_str());
    dl->AddText(ImVec2((f.a.x + f.b.x - ts.x) / 2, (f.a.y + f.b.y - ts.y) / 2), text, spec.empty_text.c_str());
    dl->AddRect(f.a, f.b, axis);
    return hovered;
  }
  dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
  // Ticks and grid.
  const auto xt = nice_ticks(f.x0, f.x1, std::max(2, static_cast<int>((f.b.x - f.a.x) / (fs * 6))));
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1;
  for (double v : xt) {
    const float x = f.px(v);
    dl->AddLine(ImVec2(x, f.a.y), ImVec2(x, f.b.y), grid);
    dl->AddLine(ImVec2(x, f.b.y), ImVec2(x, f.b.y + 4), axis);
    const std::string s = tick_label(v, xstep);
    const float w = ImGui::CalcTextSize(s.c_str()).x;
    dl->AddText(ImVec2(x - w / 2, f.b.y + 4), text, s.c_str());
  }
  const int ny = std::max(2, static_cast<int>((f.b.y - f.a.y) / (fs * 2.5f)));
  const auto yt = f.log_y ? log_ticks(f.y0, f.y1) : nice_ticks(f.y0, f.y1, ny);
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double v : yt) {
    const float y = f.py(v);
    if (y < f.a.y - 1 || y > f.b.y + 1) continue;
    dl->AddLine(ImVec2(f.a.x, y), ImVec2(f.b.x, y), grid);
    dl->AddLine(ImVec2(f.a.x - 4, y), ImVec2(f.a.x, y), axis);
    const std::string s = f.log_y ? tick_label(v, v / 10) : tick_label(v, ystep);
    const ImVec2 ts = ImGui::CalcTextSize(s.c_str());
    dl->AddText(ImVec2(f.a.x - 6 - ts.x, y - ts.y / 2), text, s.c_str());
  }
  dl->AddRect(f.a, f.b, axis);
  // Axis labels.
  if (!spec.x_label.empty()) {
    const float w = ImGui::CalcTextSize(spec.x_label.c_str()).x;
    dl->AddText(ImVec2((f.a.x + f.b.x - w) / 2, f.b.y + fs * 1.3f), text, spec.x_label.c_str());
  }
  if (!spec.y_label.empty()) dl->AddText(ImVec2(p0.x + 2, p0.y), text, spec.y_label.c_str());
  // Event marks.
  dl->PushClipRect(f.a, f.b, true);
  const Mark* before = nullptr;  // the last mark left of the range: its label goes at the left edge
  for (const auto& m : spec.marks) {
    if (m.x < f.x0) {
      before = &m;
      continue;
    }
    if (m.x > f.x1) continue;
    const float x = f.px(m.x);
    for (float y = f.a.y; y < f.b.y; y += 8) dl->AddLine(ImVec2(x, y), ImVec2(x, std::min(y + 4, f.b.y)), IM_COL32(255, 200, 80, 170));
    dl->AddText(ImVec2(x + 3, f.a.y + 2), IM_COL32(255, 200, 80, 230), m.label.c_str());
  }
  if (before) dl->AddText(ImVec2(f.a.x + 3, f.a.y + 2), IM_COL32(255, 200, 80, 230), before->label.c_str());
  // Lines and markers.
  std::vector<ImVec2> pts;
  for (const auto& s : series) {
    pts.clear();
    auto flush = [&] {
      if (s.line && pts.size() > 1) dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), s.color, 0, s.thickness);
      pts.clear();
    };
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i], spec.log_y)) {
        flush();
        continue;
      }
      pts.emplace_back(f.px(s.x[i]), f.py(s.y[i]));
      if (s.markers) dl->AddCircleFilled(pts.back(), 2.5f, s.color);
    }
    flush();
  }
  dl->PopClipRect();
  // Legend.
  float ly = f.a.y + 4;
  float lw = 0;
  for (const auto& s : series) lw = std::max(lw, ImGui::CalcTextSize(s.label.c_str()).x);
  if (!series.empty() && lw > 0) {
    const float lx = f.b.x - lw - fs * 2.2f;
    dl->AddRectFilled(ImVec2(lx - 4, ly - 2), ImVec2(f.b.x - 4, ly + series.size() * fs * 1.15f + 2), IM_COL32(10, 10, 14, 200));
    for (const auto& s : series) {
      dl->AddLine(ImVec2(lx, ly + fs * 0.55f), ImVec2(lx + fs * 1.2f, ly + fs * 0.55f), s.color, 2.5f);
      dl->AddText(ImVec2(lx + fs * 1.5f, ly), text, s.label.c_str());
      ly += fs * 1.15f;
    }
  }
  // Hover read-out: the nearest point on screen.
  if (hovered) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    double best = 1e30;
    const Series* bs = nullptr;
    std::size_t bi = 0;
    for (const auto& s : series)
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !usable(s.y[i], spec.log_y)) continue;
        const double dx = f.px(s.x[i]) - m.x, dy = f.py(s.y[i]) - m.y, d2 = dx * dx + dy * dy;
        if (d2 < best) best = d2, bs = &s, bi = i;
      }
    if (bs && best < 40 * 40) {
      const ImVec2 q(f.px(bs->x[bi]), f.py(bs->y[bi]));
      dl->AddCircle(q, 5, IM_COL32(255, 255, 255, 255), 12, 1.5f);
      ImGui::BeginTooltip();
      ImGui::Text("%s", bs->label.c_str());
      ImGui::Text("%s = %.6g", spec.x_label.empty() ? "x" : spec.x_label.c_str(), bs->x[bi]);
      ImGui::Text("%s = %.6g", spec.y_label.empty() ? "y" : spec.y_label.c_str(), bs->y[bi]);
      ImGui::EndTooltip();
    }
  }
  dl->PopClipRect();
  return hovered;
}

}  // namespace gapscope::gui

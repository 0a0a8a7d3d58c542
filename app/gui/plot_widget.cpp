#include "plot_widget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "style/format.h"
#include "style/palette.h"
#include "style/ticks.h"
#include "widgets.h"

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

void ticks_and_grid(ImDrawList* dl, const Frame& f) {
  const float fs = ImGui::GetFontSize();
  const style::Ticks xt = style::linear_ticks(f.x0, f.x1, std::max(2, static_cast<int>((f.b.x - f.a.x) / (fs * 6))));
  for (double v : xt.values) {
    const float x = f.px(v);
    dl->AddLine(ImVec2(x, f.a.y), ImVec2(x, f.b.y), theme::kGrid);
    dl->AddLine(ImVec2(x, f.b.y), ImVec2(x, f.b.y + 4), theme::kAxis);
    const std::string s = style::tick_label(v, xt.step);
    const float w = ImGui::CalcTextSize(s.c_str()).x;
    dl->AddText(ImVec2(x - w / 2, f.b.y + 4), theme::kText, s.c_str());
  }
  const int ny = std::max(2, static_cast<int>((f.b.y - f.a.y) / (fs * 2.5f)));
  const style::Ticks yt = f.log_y ? style::log_ticks(std::pow(10.0, f.y0), std::pow(10.0, f.y1), 6)
                                  : style::linear_ticks(f.y0, f.y1, ny);
  for (double v : yt.values) {
    const float y = f.py(v);
    if (y < f.a.y - 1 || y > f.b.y + 1) continue;
    dl->AddLine(ImVec2(f.a.x, y), ImVec2(f.b.x, y), theme::kGrid);
    dl->AddLine(ImVec2(f.a.x - 4, y), ImVec2(f.a.x, y), theme::kAxis);
    const std::string s = style::tick_label(v, yt.step);
    const ImVec2 ts = ImGui::CalcTextSize(s.c_str());
    dl->AddText(ImVec2(f.a.x - 6 - ts.x, y - ts.y / 2), theme::kText, s.c_str());
  }
  dl->AddRect(f.a, f.b, theme::kAxis);
}

void axis_labels(ImDrawList* dl, const Frame& f, const PlotSpec& spec, ImVec2 p0) {
  if (!spec.x_label.empty()) {
    const float w = ImGui::CalcTextSize(spec.x_label.c_str()).x;
    dl->AddText(ImVec2((f.a.x + f.b.x - w) / 2, f.b.y + ImGui::GetFontSize() * 1.3f), theme::kText,
                spec.x_label.c_str());
  }
  if (!spec.y_label.empty()) dl->AddText(ImVec2(p0.x + 2, p0.y), theme::kText, spec.y_label.c_str());
}

// Dashed vertical lines with their labels; the last mark left of the range labels the left edge.
void event_marks(ImDrawList* dl, const Frame& f, const std::vector<Mark>& marks) {
  const ImU32 line = style::palette::kLambdaMark.with_alpha(170).abgr(),
              label = style::palette::kLambdaMark.with_alpha(230).abgr();
  const Mark* before = nullptr;
  for (const auto& m : marks) {
    if (m.x < f.x0) {
      before = &m;
      continue;
    }
    if (m.x > f.x1) continue;
    const float x = f.px(m.x);
    for (float y = f.a.y; y < f.b.y; y += 8) dl->AddLine(ImVec2(x, y), ImVec2(x, std::min(y + 4, f.b.y)), line);
    dl->AddText(ImVec2(x + 3, f.a.y + 2), label, m.label.c_str());
  }
  if (before) dl->AddText(ImVec2(f.a.x + 3, f.a.y + 2), label, before->label.c_str());
}

// Polylines broken at unusable points, and markers.
void lines_and_markers(ImDrawList* dl, const Frame& f, const std::vector<Series>& series) {
  std::vector<ImVec2> pts;
  for (const auto& s : series) {
    const ImU32 c = s.color.abgr();
    auto flush = [&] {
      if (s.line && pts.size() > 1) dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), c, 0, s.thickness);
      pts.clear();
    };
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i], f.log_y)) {
        flush();
        continue;
      }
      pts.emplace_back(f.px(s.x[i]), f.py(s.y[i]));
      if (s.markers) dl->AddCircleFilled(pts.back(), 2.5f, c);
    }
    flush();
  }
}

void legend(ImDrawList* dl, const Frame& f, const std::vector<Series>& series) {
  const float fs = ImGui::GetFontSize();
  float ly = f.a.y + 4, lw = 0;
  for (const auto& s : series) lw = std::max(lw, ImGui::CalcTextSize(s.label.c_str()).x);
  if (series.empty() || lw <= 0) return;
  const float lx = f.b.x - lw - fs * 2.2f;
  dl->AddRectFilled(ImVec2(lx - 4, ly - 2), ImVec2(f.b.x - 4, ly + series.size() * fs * 1.15f + 2), theme::kLegendBg);
  for (const auto& s : series) {
    dl->AddLine(ImVec2(lx, ly + fs * 0.55f), ImVec2(lx + fs * 1.2f, ly + fs * 0.55f), s.color.abgr(), 2.5f);
    dl->AddText(ImVec2(lx + fs * 1.5f, ly), theme::kText, s.label.c_str());
    ly += fs * 1.15f;
  }
}

// The nearest point on screen (within 40 pixels), circled, with its values.
void hover_readout(ImDrawList* dl, const Frame& f, const std::vector<Series>& series, const PlotSpec& spec) {
  const ImVec2 m = ImGui::GetIO().MousePos;
  double best = 1e30;
  const Series* bs = nullptr;
  std::size_t bi = 0;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i], f.log_y)) continue;
      const double dx = f.px(s.x[i]) - m.x, dy = f.py(s.y[i]) - m.y, d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2, bs = &s, bi = i;
    }
  if (!bs || best >= 40 * 40) return;
  dl->AddCircle(ImVec2(f.px(bs->x[bi]), f.py(bs->y[bi])), 5, theme::kHighlight, 12, 1.5f);
  ImGui::BeginTooltip();
  ImGui::Text("%s", bs->label.c_str());
  ImGui::Text("%s = %s", spec.x_label.empty() ? "x" : spec.x_label.c_str(), style::number(bs->x[bi], 6).c_str());
  ImGui::Text("%s = %s", spec.y_label.empty() ? "y" : spec.y_label.c_str(), style::number(bs->y[bi], 6).c_str());
  ImGui::EndTooltip();
}

}  // namespace

bool plot(const char* id, ImVec2 p0, ImVec2 size, const std::vector<Series>& series, const PlotSpec& spec) {
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton(id, ImVec2(std::max(size.x, 1.f), std::max(size.y, 1.f)));
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  Frame f;
  f.a = ImVec2(p0.x + fs * 4.2f, p0.y + fs * 1.3f);
  f.b = ImVec2(p0.x + size.x - fs * 0.6f, p0.y + size.y - fs * 2.6f);
  if (f.b.x - f.a.x < 20 || f.b.y - f.a.y < 20) return hovered;
  if (!compute_frame(series, spec, f)) {
    const ImVec2 ts = ImGui::CalcTextSize(spec.empty_text.c_str());
    dl->AddText(ImVec2((f.a.x + f.b.x - ts.x) / 2, (f.a.y + f.b.y - ts.y) / 2), theme::kText, spec.empty_text.c_str());
    dl->AddRect(f.a, f.b, theme::kAxis);
    return hovered;
  }
  dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
  ticks_and_grid(dl, f);
  axis_labels(dl, f, spec, p0);
  dl->PushClipRect(f.a, f.b, true);
  event_marks(dl, f, spec.marks);
  lines_and_markers(dl, f, series);
  dl->PopClipRect();
  legend(dl, f, series);
  if (hovered) hover_readout(dl, f, series, spec);
  dl->PopClipRect();
  return hovered;
}

}  // namespace gapscope::gui

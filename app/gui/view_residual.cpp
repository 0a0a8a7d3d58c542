// The residual panel: heatmaps of R(x,t) (d = 2: over (x1, t) at a chosen x2 and over
// (x1, x2) at a chosen t; d = 1: over (x, t) with particle trajectories), each with a
// colour bar and a hover read-out.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "style/colormap.h"
#include "style/format.h"
#include "style/palette.h"
#include "style/ticks.h"
#include "views.h"
#include "widgets.h"

namespace gapscope::gui {
namespace {

ImTextureID tex_id(const Target& t) { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.tex)); }

float robust_absmax(const std::vector<float>& v) {
  std::vector<float> a;
  a.reserve(v.size());
  for (float x : v)
    if (std::isfinite(x)) a.push_back(std::abs(x));
  if (a.empty()) return 1.f;
  const std::size_t k = static_cast<std::size_t>(0.99 * static_cast<double>(a.size() - 1));
  std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k), a.end());
  return std::max(a[k], 1e-12f);
}

// A heatmap's plot area [a, b] and how the grid's values are coloured there.
struct HeatFrame {
  ImVec2 a, b;
  const ResidualField* f = nullptr;
  style::Colormap map = style::Colormap::Diverging;
  bool abs_r = false;
  float lo = 0, vmax = 1;  // the colour range
  float px(double x) const { return a.x + static_cast<float>((x - f->x0) / (f->x1 - f->x0)) * (b.x - a.x); }
  float py(double y) const { return b.y - static_cast<float>((y - f->y0) / (f->y1 - f->y0)) * (b.y - a.y); }
};

// ODE (light) and SDE (dark) particles in the (x, t) plane up to the shown frame (d = 1).
void trajectories(ImDrawList* dl, const HeatFrame& h, const Pass& traj, std::size_t frame, int n_traj) {
  namespace pal = style::palette;
  dl->PushClipRect(h.a, h.b, true);
  std::vector<ImVec2> line;
  for (int which = 0; which < 2; ++which) {
    const auto& frames = which == 0 ? traj.ode : traj.sde;
    const ImU32 col = which == 0 ? theme::kTrajectoryLight : theme::kTrajectoryDark;
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(n_traj), frames[0]->n());
    for (std::size_t i = 0; i < n; ++i) {
      line.clear();
      for (std::size_t k = 0; k <= frame && k < frames.size(); ++k) {
        const float x = frames[k]->v[i];
        if (std::isfinite(x)) line.emplace_back(h.px(x), h.py(std::max(traj.t[k], h.f->y0)));
      }
      if (line.size() > 1) dl->AddPolyline(line.data(), static_cast<int>(line.size()), col, 0, 1.0f);
      if (!line.empty()) dl->AddCircleFilled(line.back(), 2.0f, (which == 0 ? pal::kOde : pal::kSde).abgr());
    }
  }
  dl->PopClipRect();
}

void heat_axes(ImDrawList* dl, const HeatFrame& h, ImVec2 p0) {
  const float fs = ImGui::GetFontSize();
  const ResidualField& f = *h.f;
  const style::Ticks xt = style::linear_ticks(f.x0, f.x1, std::max(2, static_cast<int>((h.b.x - h.a.x) / (fs * 4))));
  const style::Ticks yt = style::linear_ticks(f.y0, f.y1, std::max(2, static_cast<int>((h.b.y - h.a.y) / (fs * 2))));
  for (double v : xt.values) {
    const float x = h.px(v);
    const std::string s = style::tick_label(v, xt.step);
    dl->AddLine(ImVec2(x, h.b.y), ImVec2(x, h.b.y + 4), theme::kAxis);
    dl->AddText(ImVec2(x - ImGui::CalcTextSize(s.c_str()).x / 2, h.b.y + 4), theme::kText, s.c_str());
  }
  for (double v : yt.values) {
    const float y = h.py(v);
    const std::string s = style::tick_label(v, yt.step);
    dl->AddLine(ImVec2(h.a.x - 4, y), ImVec2(h.a.x, y), theme::kAxis);
    dl->AddText(ImVec2(h.a.x - 6 - ImGui::CalcTextSize(s.c_str()).x, y - fs / 2), theme::kText, s.c_str());
  }
  dl->AddText(ImVec2((h.a.x + h.b.x) / 2, h.b.y + fs * 1.2f), theme::kText, f.x_label.c_str());
  dl->AddText(ImVec2(p0.x, h.a.y - fs * 1.25f), theme::kText, f.y_label.c_str());
}

// The colour bar right of the plot area: the top is the top of the colour range.
void colour_bar(ImDrawList* dl, const HeatFrame& h) {
  const float fs = ImGui::GetFontSize();
  const float x0 = h.b.x + fs * 0.6f, x1 = x0 + fs * 0.9f, height = h.b.y - h.a.y;
  constexpr int kSegments = 48;
  for (int k = 0; k < kSegments; ++k) {  // k = 0 at the top
    const float y0 = h.a.y + height * k / kSegments, y1 = h.a.y + height * (k + 1) / kSegments;
    const ImU32 top = to_u32(style::colormap(h.map, 1.0 - static_cast<double>(k) / kSegments));
    const ImU32 bottom = to_u32(style::colormap(h.map, 1.0 - static_cast<double>(k + 1) / kSegments));
    dl->AddRectFilledMultiColor(ImVec2(x0, y0), ImVec2(x1, y1 + 0.5f), top, top, bottom, bottom);
  }
  dl->AddRect(ImVec2(x0, h.a.y), ImVec2(x1, h.b.y), theme::kAxis);
  const style::Ticks ct = style::linear_ticks(h.lo, h.vmax, 4);
  for (double v : ct.values) {
    const float y = h.b.y - static_cast<float>((v - h.lo) / (h.vmax - h.lo)) * height;
    dl->AddLine(ImVec2(x1, y), ImVec2(x1 + 3, y), theme::kAxis);
    dl->AddText(ImVec2(x1 + 4, y - fs / 2), theme::kText, style::tick_label(v, ct.step).c_str());
  }
  dl->AddText(ImVec2(x0, h.a.y - fs * 1.25f), theme::kText, !h.f->potential ? "|r|" : h.abs_r ? "|R|" : "R");
}

void hover_readout(const char* id, const HeatFrame& h, const ResidualGrid& g) {
  const ResidualField& f = *h.f;
  ImGui::SetCursorScreenPos(h.a);
  ImGui::InvisibleButton(id, ImVec2(h.b.x - h.a.x, h.b.y - h.a.y));
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetIO().MousePos;
  const double x = f.x0 + (m.x - h.a.x) / (h.b.x - h.a.x) * (f.x1 - f.x0);
  const double y = f.y0 + (h.b.y - m.y) / (h.b.y - h.a.y) * (f.y1 - f.y0);
  const int i = std::clamp(static_cast<int>(std::lround((x - f.x0) / (f.x1 - f.x0) * (f.nx - 1))), 0, f.nx - 1);
  const int j = std::clamp(static_cast<int>(std::lround((y - f.y0) / (f.y1 - f.y0) * (f.ny - 1))), 0, f.ny - 1);
  ImGui::SetTooltip("%s = %s, %s = %s\nR = %s\n(colour range ±%s: 99th percentile of |R|)\n%s", f.x_label.c_str(),
                    style::number(x, 3).c_str(), f.y_label.c_str(), style::number(y, 3).c_str(),
                    style::number(g.at(i, j), 5).c_str(), style::number(h.vmax, 3).c_str(), kTipR);
}

void empty_heatmap(ImDrawList* dl, const ResidualGrid& g, ImVec2 a, ImVec2 b) {
  const float fs = ImGui::GetFontSize();
  dl->AddRect(a, b, theme::kAxis);
  const std::string msg = g.error.empty() ? "computing the residual field…" : g.error;
  dl->PushClipRect(a, b, true);
  dl->AddText(ImGui::GetFont(), fs, ImVec2(a.x + 8, (a.y + b.y) / 2 - fs), theme::kText, msg.c_str(), nullptr,
              b.x - a.x - 16);
  dl->PopClipRect();
}

struct HeatmapArgs {
  const char* id;
  const char* caption;
  const ResidualGrid& grid;
  Target& target;
  const Pass* traj = nullptr;  // d = 1: trajectories up to `frame`
  std::size_t frame = 0;
};

void heatmap(const HeatmapArgs& h, ImVec2 p0, ImVec2 size, Renderer& rr, ViewState& ui) {
  ui.record_panel(std::string("residual_") + h.id, p0, size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  dl->AddText(ImVec2(p0.x + fs * 3.2f, p0.y), theme::kText, h.caption);
  const ImVec2 a(p0.x + fs * 3.2f, p0.y + fs * 1.3f), b(p0.x + size.x - fs * 5.0f, p0.y + size.y - fs * 2.4f);
  if (b.x - a.x < 10 || b.y - a.y < 10) return;
  const ResidualGrid& g = h.grid;
  if (!g.ok()) return empty_heatmap(dl, g, a, b);
  HeatFrame f{a, b, &g.field};
  f.abs_r = ui.show_abs_r || !g.field.potential;
  f.map = f.abs_r ? style::Colormap::Sequential : style::Colormap::Diverging;
  f.vmax = robust_absmax(g.field.values);
  f.lo = f.abs_r ? 0.f : -f.vmax;
  h.target.resize(static_cast<int>((b.x - a.x) * ui.fb_x), static_cast<int>((b.y - a.y) * ui.fb_y));
  const uint64_t key = content_key({g.serial, bits(f.vmax), f.abs_r ? 1u : 0u});
  if (key != h.target.content) {
    h.target.content = key;
    h.target.bind_clear(0, 0, 0, 1);
    rr.draw_field(g.field.values, g.field.nx, g.field.ny, f.map, 0.f, f.vmax, f.abs_r);
  }
  dl->AddImage(tex_id(h.target), a, b, ImVec2(0, 1), ImVec2(1, 0));
  if (h.traj && h.traj->d == 1 && ui.n_traj > 0) trajectories(dl, f, *h.traj, h.frame, ui.n_traj);
  dl->AddRect(a, b, theme::kAxis);
  heat_axes(dl, f, p0);
  colour_bar(dl, f);
  hover_readout(h.id, f, g);
}

// |R|, and for d = 2 the x2 of the (x1, t) slice and the t of the (x1, x2) field.
void slice_controls(Session& s, ViewState& ui, int d, const ResidualFields* f) {
  ImGui::Checkbox("|R|", &ui.show_abs_r);
  help_marker(kTipR);
  const Config& cfg = s.config();
  if (d == 2) {
    ResidualSettings r = s.worker().residual();
    const float box = static_cast<float>(cfg.box);
    float x2 = static_cast<float>(r.x2), t = static_cast<float>(r.t);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    const bool moved_x2 = ImGui::SliderFloat("x2 of the (x1,t) slice", &x2, -box, box, "%.2f");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    const bool moved_t = ImGui::SliderFloat("t of the (x1,x2) field", &t, static_cast<float>(cfg.eps),
                                            static_cast<float>(cfg.T), "%.3f", ImGuiSliderFlags_Logarithmic);
    if (moved_x2 || moved_t) {
      r.x2 = x2;
      r.t = t;
      s.worker().set_residual(r);
    }
  }
  if (f) {
    ImGui::SameLine();
    ImGui::TextDisabled("   weights of iteration %lld · %s ms", static_cast<long long>(f->xt.iteration),
                        style::number(std::round(f->xt.compute_ms + f->xy.compute_ms)).c_str());
  }
}

}  // namespace

void panel_residual(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t, const PanelRect& r) {
  begin_panel("Fokker-Planck residual R(x,t)", "residual", ui, r, kFixedView);
  const FieldsPtr f = s.worker().fields();
  const Pass* shown = ui.playback.shown().get();
  const int d = shown ? shown->d : s.config().dim();
  slice_controls(s, ui, d, f.get());
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  static const ResidualGrid kNone;
  const ResidualGrid& xt = f ? f->xt : kNone;
  char cap[128];
  if (d == 2) {
    const float w = avail.x / 2;
    const ResidualSettings rs = s.worker().residual();
    std::snprintf(cap, sizeof cap, "R over (x1, t) at x2 = %s", style::tick_label(rs.x2, 0.01).c_str());
    heatmap({"xt", cap, xt, t.xt}, p0, ImVec2(w - 4, avail.y), rr, ui);
    std::snprintf(cap, sizeof cap, "R over (x1, x2) at t = %s", style::number(rs.t, 3).c_str());
    heatmap({"xy", cap, f ? f->xy : kNone, t.xy}, ImVec2(p0.x + w + 4, p0.y), ImVec2(w - 4, avail.y), rr, ui);
  } else {
    const bool frames = shown && !shown->ode.empty();
    heatmap({"xt", "R over (x, t) with ODE (white) and SDE (dark) trajectories", xt, t.xt, frames ? shown : nullptr,
             frames ? ui.playback.frame_of(*shown) : 0},
            p0, avail, rr, ui);
  }
  ImGui::End();
}

}  // namespace gapscope::gui

// The particles panel: ODE | SDE | data clouds (d = 2) with shared pan and zoom, or the
// three densities (d = 1), and the playback strip over the time of the shown pass.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "plot_widget.h"
#include "style/format.h"
#include "style/palette.h"
#include "style/ticks.h"
#include "views.h"
#include "widgets.h"

namespace gapscope::gui {
namespace {

namespace pal = style::palette;

ImTextureID tex_id(const Target& t) { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.tex)); }

// The points, drawn into the view's target when anything that shows changed.
void cloud_image(Renderer& rr, const ViewState& ui, const Points* pts, style::Color color, Target& target,
                 ImVec2 size) {
  target.resize(static_cast<int>(size.x * ui.fb_x), static_cast<int>(size.y * ui.fb_y));
  const View2D& v = ui.view;
  const uint64_t key = content_key({reinterpret_cast<uintptr_t>(pts), bits(v.cx), bits(v.cy), bits(v.half),
                                    bits(ui.point_size), bits(ui.point_alpha), ui.density_shading ? 1u : 0u});
  if (key == target.content) return;  // software GL: redraw only what changed
  target.content = key;
  const float* bg = theme::kViewBg;
  target.bind_clear(bg[0], bg[1], bg[2], bg[3]);
  if (!pts || pts->d != 2) return;
  const float rgba[4] = {color.r / 255.f, color.g / 255.f, color.b / 255.f,
                         ui.density_shading ? ui.point_alpha * 0.35f : ui.point_alpha};
  rr.draw_points(pts->v, 2, v, target.w, target.h, ui.point_size * ui.fb_x, rgba, ui.density_shading);
}

// Drag pans, the wheel zooms about the pointer, a double-click resets; the tooltip reads
// the position out.
void pan_zoom(const char* id, ViewState& ui, const Config& cfg, ImVec2 p0, ImVec2 size) {
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton(id, size);
  View2D& v = ui.view;
  const float ppu = std::min(size.x, size.y) / (2 * v.half);  // pixels per world unit
  const ImVec2 c(p0.x + size.x / 2, p0.y + size.y / 2);
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    v.cx -= io.MouseDelta.x / ppu;
    v.cy += io.MouseDelta.y / ppu;
  }
  if (!ImGui::IsItemHovered()) return;
  const float wx = v.cx + (io.MousePos.x - c.x) / ppu, wy = v.cy - (io.MousePos.y - c.y) / ppu;
  if (io.MouseWheel != 0) {
    const float f = std::pow(0.85f, io.MouseWheel);
    v.half = std::clamp(v.half * f, 0.05f, 200.f);
    v.cx = wx - (wx - v.cx) * f;
    v.cy = wy - (wy - v.cy) * f;
  }
  if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) ui.reset_view(cfg);
  ImGui::SetTooltip("(%s, %s)\ndrag: pan · wheel: zoom · double-click: reset", style::number(wx, 3).c_str(),
                    style::number(wy, 3).c_str());
}

// Ticks along the bottom and left edges.
void cloud_axes(ImDrawList* dl, const View2D& v, ImVec2 p0, ImVec2 size) {
  const float fs = ImGui::GetFontSize(), ppu = std::min(size.x, size.y) / (2 * v.half);
  const float hx = size.x / 2 / ppu, hy = size.y / 2 / ppu;
  const ImVec2 c(p0.x + size.x / 2, p0.y + size.y / 2);
  const style::Ticks xt = style::linear_ticks(v.cx - hx, v.cx + hx, 5), yt = style::linear_ticks(v.cy - hy, v.cy + hy, 5);
  for (double t : xt.values) {
    const float x = c.x + static_cast<float>(t - v.cx) * ppu;
    dl->AddLine(ImVec2(x, p0.y + size.y - 5), ImVec2(x, p0.y + size.y), theme::kAxis);
    dl->AddText(ImVec2(x + 2, p0.y + size.y - fs - 4), theme::kAxis, style::tick_label(t, xt.step).c_str());
  }
  for (double t : yt.values) {
    const float y = c.y - static_cast<float>(t - v.cy) * ppu;
    if (y < p0.y + fs * 1.6f || y > p0.y + size.y - fs * 1.6f) continue;
    dl->AddLine(ImVec2(p0.x, y), ImVec2(p0.x + 5, y), theme::kAxis);
    dl->AddText(ImVec2(p0.x + 7, y - fs / 2), theme::kAxis, style::tick_label(t, yt.step).c_str());
  }
}

// Says so when particles are out of sight (e.g. an untrained network).
void off_view_note(ImDrawList* dl, const View2D& v, const Points& pts, ImVec2 p0, ImVec2 size) {
  const float ppu = std::min(size.x, size.y) / (2 * v.half), hx = size.x / 2 / ppu, hy = size.y / 2 / ppu;
  std::size_t out = 0;
  const std::size_t n = pts.n();
  for (std::size_t i = 0; i < n; ++i) {
    const float* r = pts.row(i);
    if (!(std::abs(r[0] - v.cx) <= hx && std::abs(r[1] - v.cy) <= hy)) ++out;
  }
  if (out == 0) return;
  char b[96];
  std::snprintf(b, sizeof b, "%zu/%zu off view (wheel: zoom)", out, n);
  dl->AddText(ImVec2(p0.x + 8, p0.y + 6 + ImGui::GetFontSize() * 1.2f), theme::kWarning, b);
}

// paint: the mouse draws into the canvas (view_data.cpp) instead of panning.
void cloud_view(const char* id, const char* title, ImVec2 p0, ImVec2 size, const Points* pts, style::Color color,
                Target& target, Renderer& rr, ViewState& ui, const Config& cfg, bool paint = false) {
  ui.record_panel(std::string("particles_") + id, p0, size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  cloud_image(rr, ui, pts, color, target, size);
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  dl->AddImage(tex_id(target), p0, p1, ImVec2(0, 1), ImVec2(1, 0));
  if (paint)
    canvas_input(id, ui, p0, size);
  else
    pan_zoom(id, ui, cfg, p0, size);
  dl->PushClipRect(p0, p1, true);
  cloud_axes(dl, ui.view, p0, size);
  dl->AddText(ImVec2(p0.x + 8, p0.y + 6), color.abgr(), title);
  if (pts && pts->d == 2) off_view_note(dl, ui.view, *pts, p0, size);
  dl->PopClipRect();
  dl->AddRect(p0, p1, theme::kFrame);
}

// A normalised histogram of the first coordinate over [lo, hi].
Series density(const Points& p, const char* label, style::Color col, double lo, double hi) {
  constexpr int kBins = 90;
  Series s;
  s.label = label;
  s.color = col;
  s.thickness = 2.f;
  std::vector<double> h(kBins, 0.0);
  std::size_t n = 0;
  for (float v : p.v) {
    if (!std::isfinite(v)) continue;
    ++n;
    const int b = static_cast<int>((v - lo) / (hi - lo) * kBins);
    if (b >= 0 && b < kBins) h[static_cast<std::size_t>(b)] += 1;
  }
  const double w = (hi - lo) / kBins;
  for (int b = 0; b < kBins; ++b) {
    s.x.push_back(lo + (b + 0.5) * w);
    s.y.push_back(n ? h[static_cast<std::size_t>(b)] / (static_cast<double>(n) * w) : 0);
  }
  return s;
}

void density_view(ImVec2 p0, ImVec2 size, const Pass& pass, std::size_t frame, ViewState& ui, const Config& cfg) {
  ui.record_panel("particles_density", p0, size);
  const double lo = -std::max(3.0, cfg.box), hi = -lo;
  const std::vector<Series> ser = {density(*pass.data, "data", pal::kData, lo, hi),
                                   density(*pass.ode[frame], "ODE", pal::kOde, lo, hi),
                                   density(*pass.sde[frame], "SDE", pal::kSde, lo, hi)};
  PlotSpec spec;
  spec.x_label = "x";
  spec.y_label = "density";
  spec.x_min = lo;
  spec.x_max = hi;
  spec.y_min = 0;
  plot("##density", p0, size, ser, spec);
}

// Play/pause, live, and the scrubber over t.
void playback_strip(Playback& pb, const Pass* pass, std::size_t frame) {
  if (ImGui::Button(pb.play ? "||" : " > ")) pb.play = !pb.play;
  ImGui::SameLine();
  ImGui::Checkbox("live", &pb.live);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("follow the pass being integrated instead of replaying finished ones");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.45f);
  if (ImGui::SliderFloat("##scrub", &pb.pos, 0.f, 1.f, "")) {
    pb.play = false;
    pb.live = false;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("time scrubber: T (left) to ε (right)");
  ImGui::SameLine();
  if (!pass) {
    ImGui::TextUnformatted("waiting for the first pass");
    return;
  }
  ImGui::Text("t = %s   (pass %llu, weights of iteration %lld%s)", style::number(pass->t[frame]).c_str(),
              static_cast<unsigned long long>(pass->id), static_cast<long long>(pass->iteration),
              pass->complete ? "" : ", integrating");
}

}  // namespace

void panel_particles(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t, const PanelRect& r) {
  begin_panel("Particles: ODE | SDE | data", "particles", ui, r, kFixedView);
  std::size_t frame = 0;
  const PassPtr pass =
      ui.playback.advance(s.worker().current_pass(), s.worker().last_complete(), ImGui::GetTime(), frame);
  playback_strip(ui.playback, pass.get(), frame);
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  const Config& cfg = s.config();
  // Before the first pass the data view shows the data set at once (a loaded file too);
  // while drawing, the last third is the canvas.
  const PointsPtr preview = s.data_preview();
  const int d = pass ? pass->d : preview ? preview->d : 2;
  const float gap = 6, w = (avail.x - 2 * gap) / 3;
  const ImVec2 sz(w, avail.y), third(p0.x + 2 * (w + gap), p0.y);
  if (d == 2) {
    const Points* ode = pass ? pass->ode[frame].get() : nullptr;
    const Points* sde = pass ? pass->sde[frame].get() : nullptr;
    cloud_view("ode", "probability-flow ODE", p0, sz, ode, pal::kOde, t.ode, rr, ui, cfg);
    cloud_view("sde", "reverse SDE", ImVec2(p0.x + w + gap, p0.y), sz, sde, pal::kSde, t.sde, rr, ui, cfg);
    if (!ui.drawing)
      cloud_view("data", "data", third, sz, pass ? pass->data.get() : preview.get(), pal::kData, t.data, rr, ui, cfg);
  } else if (pass || preview) {
    Pass shown;  // the preview, until a pass exists: the data alone
    if (!pass) {
      shown.data = preview;
      shown.ode = shown.sde = {std::make_shared<const Points>(1, 0)};
      shown.t = {cfg.T};
    }
    density_view(p0, ui.drawing ? ImVec2(2 * w + gap, avail.y) : avail, pass ? *pass : shown, pass ? frame : 0, ui, cfg);
  }
  if (ui.drawing) {
    if (ui.canvas.dim() == 2)
      cloud_view("data", "drawing · drag paints, right-drag erases", third, sz, ui.canvas.points().get(), pal::kData,
                 t.data, rr, ui, cfg, /*paint=*/true);
    else
      canvas_curve_view(ui, third, sz);
  }
  ImGui::End();
}

}  // namespace gapscope::gui

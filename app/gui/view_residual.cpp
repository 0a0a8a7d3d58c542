// The residual panel: heatmaps of R(x,t) (d = 2: over (x1, t) at a chosen x2 and over
// (x1, x2) at a chosen t; d = 1: over (x, t) with particle trajectories), each with a
// colour bar and a hover read-out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "style/colormap.h"
#include "style/format.h"
#include "style/palette.h"
#include "style/ticks.h"
#include "plot_widget.h"
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
  const char* bar_label = nullptr;  // null: the residual's (R, |R| or |r|)
  float px(double x) const { return a.x + static_cast<float>((x - f->x0) / (f->x1 - f->x0)) * (b.x - a.x); }
  float py(double y) const { return b.y - static_cast<float>((y - f->y0) / (f->y1 - f->y0)) * (b.y - a.y); }
};

constexpr float kMinSegmentPx = 3.f;

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
      const std::size_t last = std::min(frame + 1, frames.size());
      for (std::size_t k = 0; k < last; ++k) {
        const float x = frames[k]->v[i];
        if (!std::isfinite(x)) continue;
        const ImVec2 q(h.px(x), h.py(std::max(traj.t[k], h.f->y0)));
        // A point within a few pixels of the last one kept adds triangles (a software
        // rasteriser sets each one up) but nothing visible.
        if (!line.empty() && k + 1 < last && std::fabs(q.x - line.back().x) < kMinSegmentPx &&
            std::fabs(q.y - line.back().y) < kMinSegmentPx)
          continue;
        line.push_back(q);
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
  dl->AddText(ImVec2(x0, h.a.y - fs * 1.25f), theme::kText,
              h.bar_label ? h.bar_label : !h.f->potential ? "|r|" : h.abs_r ? "|R|" : "R");
}

void hover_readout(const char* id, const HeatFrame& h, const ResidualGrid& g, const char* value_label) {
  const ResidualField& f = *h.f;
  ImGui::SetCursorScreenPos(h.a);
  ImGui::InvisibleButton(id, ImVec2(h.b.x - h.a.x, h.b.y - h.a.y));
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetIO().MousePos;
  const double x = f.x0 + (m.x - h.a.x) / (h.b.x - h.a.x) * (f.x1 - f.x0);
  const double y = f.y0 + (h.b.y - m.y) / (h.b.y - h.a.y) * (f.y1 - f.y0);
  const int i = std::clamp(static_cast<int>(std::lround((x - f.x0) / (f.x1 - f.x0) * (f.nx - 1))), 0, f.nx - 1);
  const int j = std::clamp(static_cast<int>(std::lround((y - f.y0) / (f.y1 - f.y0) * (f.ny - 1))), 0, f.ny - 1);
  if (value_label) {
    ImGui::SetTooltip("%s = %s, %s = %s\n%s = %s", f.x_label.c_str(), style::number(x, 3).c_str(), f.y_label.c_str(),
                      style::number(y, 3).c_str(), value_label, style::number(g.at(i, j), 5).c_str());
    return;
  }
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
  // Another quantity than R (the density tab): its name, and a sequential map from 0 to
  // the largest value (magnitudes) or a diverging one (signed); NaN cells are grey.
  const char* value_label = nullptr;
  bool sequential = false;
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
  f.abs_r = h.value_label ? h.sequential : ui.show_abs_r || !g.field.potential;
  f.map = f.abs_r ? style::Colormap::Sequential : style::Colormap::Diverging;
  f.vmax = robust_absmax(g.field.values);
  if (h.value_label && h.sequential)
    for (float v : g.field.values)
      if (std::isfinite(v)) f.vmax = std::max(f.vmax, v);
  f.lo = f.abs_r ? 0.f : -f.vmax;
  f.bar_label = h.value_label;
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
  hover_readout(h.id, f, g, h.value_label);
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

void residual_tab(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t) {
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
}

// The density grid's four maps as the heatmap's fields, made once per result.
struct DensityMaps {
  std::shared_ptr<const DensityGrid> src;
  int ratio = -1;
  ResidualGrid map[4];
  std::string ratio_name;
};

const char* const kRatioNames[] = {"log p_ode / p_model", "log p_ode / p_data", "log p_model / p_data"};

void build_maps(DensityMaps& m, const std::shared_ptr<const DensityGrid>& g, int ratio) {
  static uint64_t serial = 1u << 30;  // apart from the residual fields' serials
  m.src = g, m.ratio = ratio;
  const std::vector<double>* cols[3] = {&g->log_p_ode, &g->log_p_model, &g->log_p_data};
  const int pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
  double pmax = 0;
  for (auto* c : cols)
    for (double v : *c) pmax = std::max(pmax, std::exp(v));
  for (int k = 0; k < 4; ++k) {
    ResidualGrid& r = m.map[k];
    r = ResidualGrid{};
    r.field.nx = g->nx, r.field.ny = g->ny;
    r.field.x0 = r.field.y0 = -g->box, r.field.x1 = r.field.y1 = g->box;
    r.field.x_label = "x1", r.field.y_label = "x2";
    r.serial = ++serial;
    const std::size_t n = g->log_p_ode.size();
    if (k < 3) {
      if (cols[k]->empty()) {
        r.error = k == 1 ? g->model_note : "the data's density is not known";
        continue;
      }
      for (double v : *cols[k]) r.field.values.push_back(static_cast<float>(std::exp(v)));
    } else {
      const auto &a = *cols[pairs[ratio][0]], &b = *cols[pairs[ratio][1]];
      if (a.empty() || b.empty()) {
        r.error = "not known for this model or data set";
        continue;
      }
      for (std::size_t i = 0; i < n; ++i)  // the figure's rule: not drawn where neither has mass
        r.field.values.push_back(std::max(std::exp(a[i]), std::exp(b[i])) >= 1e-3 * pmax
                                     ? static_cast<float>(a[i] - b[i])
                                     : NAN);
    }
  }
}

void density_tab(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t) {
  const Config& cfg = s.config();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  ImGui::SliderFloat("t", &ui.density_t, static_cast<float>(std::max(cfg.sample_eps, 1e-5)),
                     static_cast<float>(cfg.T * 0.99), "%.4f", ImGuiSliderFlags_Logarithmic);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::InputInt("grid", &ui.density_grid, 16);
  ui.density_grid = std::clamp(ui.density_grid, 8, 256);
  ImGui::SameLine();
  if (ImGui::Button("Compute from the current weights")) {
    DensityRequest r;
    r.t = ui.density_t, r.grid = ui.density_grid, r.box = cfg.box;
    s.compute_density(r);
  }
  help_marker(
      "The probability-flow ODE's own density, exactly: every grid node is integrated from t to T on the sampler's "
      "grid with d log p/dt = -div v (div s is the network's Laplacian), so log p = log prior(x(T)) + integral of "
      "div v. Beside it the model's exp(u) normalised over the box, the data's p_t (closed form for mixtures, "
      "a KDE otherwise) and a log-ratio (grey: neither density has mass there).");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 11);
  ImGui::Combo("ratio", &ui.density_ratio, kRatioNames, 3);
  ImGui::SameLine();
  if (ImGui::Button("Export##density")) s.export_studies(ui.out_dir);
  const auto g = s.density();
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  if (!g) {
    ImGui::TextDisabled("no density yet: Compute runs it as a job on the weights of this moment");
    return;
  }
  if (g->d != 2) {
    ImGui::TextDisabled("d = 1: the CLI's density command draws the curves");
    return;
  }
  static DensityMaps maps;
  if (maps.src != g || maps.ratio != ui.density_ratio) build_maps(maps, g, ui.density_ratio);
  const float w = avail.x / 4;
  const char* caps[4] = {"p ODE (change of variables)", "model exp(u), normalised", nullptr, kRatioNames[ui.density_ratio]};
  const std::string data_cap = g->data_label.rfind("KDE", 0) == 0 ? "data p_t (KDE)" : "data p_t (exact)";
  caps[2] = data_cap.c_str();
  for (int k = 0; k < 4; ++k) {
    char id[16];
    std::snprintf(id, sizeof id, "density%d", k);
    HeatmapArgs a{id, caps[k], maps.map[k], t.density[k]};
    a.value_label = k < 3 ? "density" : "log-ratio";
    a.sequential = k < 3;
    heatmap(a, ImVec2(p0.x + k * w, p0.y), ImVec2(w - 4, avail.y), rr, ui);
  }
}

void sweep_tab(Session& s, ViewState& ui) {
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::InputInt("n", &ui.sweep_n, 1000);
  ui.sweep_n = std::clamp(ui.sweep_n, 100, 200000);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s", ui.sweep_list.c_str());
  if (ImGui::InputText("steps N", buf, sizeof buf)) ui.sweep_list = buf;
  ImGui::SameLine();
  if (ImGui::Button("Sweep the current weights")) {
    try {
      SweepOptions o;
      o.steps = parse_step_list(ui.sweep_list);
      o.n = static_cast<std::size_t>(ui.sweep_n);
      o.method = ode_scheme_name(s.worker().sampler().scheme);
      s.sweep_steps(o);
    } catch (const std::exception& e) {
      s.report(e.what(), true);
    }
  }
  help_marker(
      "ODE and SDE from the same prior draws at each step count N (the sampler's ODE scheme, the paper's grid W2 "
      "on [-4,4]^2). The slope as N grows is the integrator's error; the plateau is the model's own gap.");
  ImGui::SameLine();
  if (ImGui::Button("Export##sweep")) s.export_studies(ui.out_dir);
  const auto rows = s.sweep();
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  std::vector<Series> series;
  if (rows) {
    namespace pal = style::palette;
    const std::pair<const char*, double W2Triple::*> m[3] = {
        {"W2(ODE, SDE)", &W2Triple::ode_sde}, {"W2(ODE, data)", &W2Triple::ode_data}, {"W2(SDE, data)", &W2Triple::sde_data}};
    const style::Color col[3] = {pal::kGap, pal::kOde, pal::kSde};
    for (int k = 0; k < 3; ++k) {
      Series se;
      se.label = m[k].first, se.color = col[k], se.markers = true;
      for (const auto& r : *rows) se.x.push_back(std::log10(r.steps)), se.y.push_back(r.w2.*(m[k].second));
      series.push_back(std::move(se));
    }
  }
  PlotSpec spec;
  spec.x_label = "log10 N";
  spec.y_label = rows ? "W2 (weights of iteration " + std::to_string(s.sweep_iteration()) + ")" : "W2";
  spec.log_y = true;
  spec.empty_text = "no sweep yet: it runs as a job on the weights of this moment";
  ui.record_panel("residual_sweep", p0, avail);
  plot("sweep", p0, avail, series, spec);
}

}  // namespace

void panel_residual(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t, const PanelRect& r) {
  begin_panel("Fokker-Planck residual R(x,t)", "residual", ui, r, kFixedView);
  if (ImGui::BeginTabBar("residual_tabs")) {
    auto flags = [&](int k) {
      return ui.select_tab && ui.residual_tab == k ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
    };
    if (ImGui::BeginTabItem("Residual R", nullptr, flags(0))) {
      residual_tab(s, ui, rr, t);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("ODE density", nullptr, flags(1))) {
      density_tab(s, ui, rr, t);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Step sweep", nullptr, flags(2))) {
      sweep_tab(s, ui);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Residual–gap", nullptr, flags(3))) {
      gap_tab(s, ui);
      ImGui::EndTabItem();
    }
    ui.select_tab = false;
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace gapscope::gui

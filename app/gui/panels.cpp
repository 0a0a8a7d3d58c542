// The views: particle clouds (d = 2) or densities (d = 1) with the playback scrubber,
// residual heatmaps with colorbars, and the W2 / loss plots.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "lab.h"

namespace gapscope::gui {

extern const char* kTipLambda;
extern const char* kTipR;
extern const char* kTipW2;

namespace {

const ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoBackground |
                                ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
}  // namespace
// ODE and SDE as in style/palette.h; data lighter than the palette's grey, for the dark
// background (exported figures use the palette's).
const ImU32 kOde = IM_COL32(60, 150, 220, 255), kSde = IM_COL32(230, 60, 55, 255), kData = IM_COL32(190, 190, 190, 255);
namespace {

void rgba(ImU32 c, float a, float out[4]) {
  out[0] = (c & 0xff) / 255.f;
  out[1] = ((c >> 8) & 0xff) / 255.f;
  out[2] = ((c >> 16) & 0xff) / 255.f;
  out[3] = a;
}

ImTextureID tex_id(const Target& t) { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.tex)); }

float robust_absmax(const std::vector<float>& v) {
  std::vector<float> a;
  a.reserve(v.size());
  for (float x : v)
    if (std::isfinite(x)) a.push_back(std::abs(x));
  if (a.empty()) return 1.f;
  const std::size_t k = static_cast<std::size_t>(0.99 * (a.size() - 1));
  std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k), a.end());
  return std::max(a[k], 1e-12f);
}

// Averages blocks so a long history draws at most ~`max_points` vertices.
void decimate(const std::vector<TrainRow>& rows, double TrainRow::*field, std::size_t max_points, bool skip_lambda0,
              std::vector<double>& x, std::vector<double>& y) {
  const std::size_t n = rows.size(), block = std::max<std::size_t>(1, (n + max_points - 1) / max_points);
  for (std::size_t s = 0; s < n; s += block) {
    double sx = 0, sy = 0;
    int c = 0;
    bool gap = false;
    for (std::size_t i = s; i < std::min(n, s + block); ++i) {
      if (skip_lambda0 && rows[i].lambda <= 0) {
        gap = true;
        continue;
      }
      const double v = rows[i].*field;
      if (!std::isfinite(v)) continue;
      sx += static_cast<double>(rows[i].iteration);
      sy += v;
      ++c;
    }
    x.push_back(c ? sx / c : static_cast<double>(rows[s].iteration));
    y.push_back(c && !(gap && c == 0) ? sy / c : NAN);
  }
}

}  // namespace

// ---------------------------------------------------------------- playback
PassPtr Lab::displayed_pass(std::size_t& frame) {
  PassPtr cur = worker_.current_pass(), done = worker_.last_complete();
  const double now = ImGui::GetTime();
  const double dt = std::min(0.1, now - last_time_);
  last_time_ = now;
  if (!cur && !done) {
    shown_.reset();
    return nullptr;
  }
  if (live_) {
    shown_ = cur ? cur : done;
    play_pos_ = 1;
  } else {
    if (!shown_) {
      shown_ = done ? done : cur;
      if (play_) play_pos_ = 0;
    }
    if (!shown_->complete && cur && cur->id == shown_->id) shown_ = cur;  // the first pass, still growing
    if (!play_ && play_pos_ >= 1 && done && done->id != shown_->id) shown_ = done;  // parked at ε: newest finals
    if (play_) {
      if (play_pos_ < 1) {
        play_pos_ = std::min(1.f, play_pos_ + static_cast<float>(dt / anim_seconds_));
        if (play_pos_ >= 1) hold_until_ = now + 1.2;
      } else if (now >= hold_until_ && done && done->id != shown_->id) {
        shown_ = done;  // the newest finished pass, run with newer weights
        play_pos_ = 0;
      }
    }
  }
  const Pass& p = *shown_;
  if (p.ode.empty()) return nullptr;
  const double target = play_pos_ * static_cast<double>(p.total_steps);
  frame = 0;
  while (frame + 1 < p.step.size() && static_cast<double>(p.step[frame + 1]) <= target + 1e-9) ++frame;
  return shown_;
}

// ---------------------------------------------------------------- particles
void Lab::draw_cloud_view(const char* id, const char* title, ImVec2 p0, ImVec2 size, const Points* pts, ImU32 color,
                          Target& target) {
  record_panel(std::string("particles_") + id, p0, size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  target.resize(static_cast<int>(size.x * fbx_), static_cast<int>(size.y * fby_));
  const uint64_t key = content_key({reinterpret_cast<uintptr_t>(pts), bits(view_.cx), bits(view_.cy), bits(view_.half),
                                    bits(point_size_), bits(point_alpha_), density_shading_ ? 1u : 0u});
  if (key != target.content) {  // software GL: redraw only what changed
    target.content = key;
    target.bind_clear(0.055f, 0.06f, 0.075f, 1.f);
    if (pts && pts->d == 2) {
      float c[4];
      rgba(color, density_shading_ ? point_alpha_ * 0.35f : point_alpha_, c);
      rr_.draw_points(pts->v, 2, view_, target.w, target.h, point_size_ * fbx_, c, density_shading_);
    }
  }
  dl->AddImage(tex_id(target), p0, ImVec2(p0.x + size.x, p0.y + size.y), ImVec2(0, 1), ImVec2(1, 0));
  // Pan (drag) and zoom (wheel) shared by the three views; double-click resets.
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton(id, size);
  const float ppu = std::min(size.x, size.y) / (2 * view_.half);  // pixels per world unit
  const ImVec2 c(p0.x + size.x / 2, p0.y + size.y / 2);
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    const ImVec2 d = ImGui::GetIO().MouseDelta;
    view_.cx -= d.x / ppu;
    view_.cy += d.y / ppu;
  }
  if (ImGui::IsItemHovered()) {
    const float wheel = ImGui::GetIO().MouseWheel;
    const ImVec2 m = ImGui::GetIO().MousePos;
    const float wx = view_.cx + (m.x - c.x) / ppu, wy = view_.cy - (m.y - c.y) / ppu;
    if (wheel != 0) {
      const float f = std::pow(0.85f, wheel);
      view_.half = std::clamp(view_.half * f, 0.05f, 200.f);
      view_.cx = wx - (wx - view_.cx) * f;
      view_.cy = wy - (wy - view_.cy) * f;
    }
    if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
      view_ = View2D{};
      view_.half = static_cast<float>(std::max(3.0, cfg_.box + 0.5));
    }
    ImGui::SetTooltip("(%.3f, %.3f)\ndrag: pan · wheel: zoom · double-click: reset", wx, wy);
  }
  // Axes ticks along the bottom and left edges.
  dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
  const ImU32 tc = IM_COL32(150, 150, 160, 200);
  const float hx = size.x / 2 / ppu, hy = size.y / 2 / ppu;
  const auto xt = nice_ticks(view_.cx - hx, view_.cx + hx, 5), yt = nice_ticks(view_.cy - hy, view_.cy + hy, 5);
  const double sx = xt.size() > 1 ? xt[1] - xt[0] : 1, sy = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double v : xt) {
    const float x = c.x + static_cast<float>(v - view_.cx) * ppu;
    dl->AddLine(ImVec2(x, p0.y + size.y - 5), ImVec2(x, p0.y + size.y), tc);
    dl->AddText(ImVec2(x + 2, p0.y + size.y - ImGui::GetFontSize() - 4), tc, tick_label(v, sx).c_str());
  }
  for (double v : yt) {
    const float y = c.y - static_cast<float>(v - view_.cy) * ppu;
    if (y < p0.y + ImGui::GetFontSize() * 1.6f || y > p0.y + size.y - ImGui::GetFontSize() * 1.6f) continue;
    dl->AddLine(ImVec2(p0.x, y), ImVec2(p0.x + 5, y), tc);
    dl->AddText(ImVec2(p0.x + 7, y - ImGui::GetFontSize() / 2), tc, tick_label(v, sy).c_str());
  }
  dl->AddText(ImVec2(p0.x + 8, p0.y + 6), color, title);
  if (pts && pts->d == 2) {  // say so when particles are out of sight (e.g. an untrained network)
    std::size_t out = 0, n = pts->n();
    for (std::size_t i = 0; i < n; ++i) {
      const float* r = pts->row(i);
      if (!(std::abs(r[0] - view_.cx) <= hx && std::abs(r[1] - view_.cy) <= hy)) ++out;
    }
    if (out > 0) {
      char b[96];
      std::snprintf(b, sizeof b, "%zu/%zu off view (wheel: zoom)", out, n);
      dl->AddText(ImVec2(p0.x + 8, p0.y + 6 + ImGui::GetFontSize() * 1.2f), IM_COL32(200, 170, 90, 220), b);
    }
  }
  dl->PopClipRect();
  dl->AddRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), IM_COL32(80, 80, 95, 255));
}

void Lab::draw_density_1d(ImVec2 p0, ImVec2 size, const Pass& pass, std::size_t frame) {
  record_panel("particles_density", p0, size);
  const double lo = -std::max(3.0, cfg_.box), hi = -lo;
  const int bins = 90;
  auto hist = [&](const Points& p, const char* label, ImU32 col) {
    Series s;
    s.label = label;
    s.color = col;
    s.thickness = 2.f;
    std::vector<double> h(bins, 0.0);
    std::size_t n = 0;
    for (float v : p.v) {
      if (!std::isfinite(v)) continue;
      ++n;
      const int b = static_cast<int>((v - lo) / (hi - lo) * bins);
      if (b >= 0 && b < bins) h[b] += 1;
    }
    const double w = (hi - lo) / bins;
    for (int b = 0; b < bins; ++b) {
      s.x.push_back(lo + (b + 0.5) * w);
      s.y.push_back(n ? h[b] / (n * w) : 0);
    }
    return s;
  };
  std::vector<Series> ser = {hist(*pass.data, "data", kData), hist(*pass.ode[frame], "ODE", kOde),
                             hist(*pass.sde[frame], "SDE", kSde)};
  PlotSpec spec;
  spec.x_label = "x";
  spec.y_label = "density";
  spec.x_min = lo;
  spec.x_max = hi;
  spec.y_min = 0;
  plot("##density", p0, size, ser, spec);
}

void Lab::panel_particles() {
  ImGui::SetNextWindowPos(l_particles_.pos);
  ImGui::SetNextWindowSize(l_particles_.size);
  ImGui::Begin("Particles: ODE | SDE | data", nullptr, kFixed);
  record_panel("particles", ImGui::GetWindowPos(), ImGui::GetWindowSize());
  std::size_t frame = 0;
  PassPtr pass = displayed_pass(frame);
  // Playback strip: play/pause, live, scrubber over t.
  if (ImGui::Button(play_ ? "||" : " > ")) play_ = !play_;
  ImGui::SameLine();
  ImGui::Checkbox("live", &live_);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("follow the pass being integrated instead of replaying finished ones");
  ImGui::SameLine();
  char label[128];
  if (pass)
    std::snprintf(label, sizeof label, "t = %.4g   (pass %llu, weights of iteration %lld%s)", pass->t[frame],
                  static_cast<unsigned long long>(pass->id), static_cast<long long>(pass->iteration),
                  pass->complete ? "" : ", integrating");
  else
    std::snprintf(label, sizeof label, "waiting for the first pass");
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.45f);
  if (ImGui::SliderFloat("##scrub", &play_pos_, 0.f, 1.f, "")) {
    play_ = false;
    live_ = false;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("time scrubber: T (left) to ε (right)");
  ImGui::SameLine();
  ImGui::TextUnformatted(label);

  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (!pass) {
    ImGui::TextDisabled("sampling…");
    record_panel("particles_ode", p0, avail);
  } else if (pass->d == 2) {
    const float gap = 6;
    const float w = (avail.x - 2 * gap) / 3;
    const ImVec2 sz(w, avail.y);
    draw_cloud_view("ode", "probability-flow ODE", p0, sz, pass->ode[frame].get(), kOde, t_ode_);
    draw_cloud_view("sde", "reverse SDE", ImVec2(p0.x + w + gap, p0.y), sz, pass->sde[frame].get(), kSde, t_sde_);
    draw_cloud_view("data", "data", ImVec2(p0.x + 2 * (w + gap), p0.y), sz, pass->data.get(), kData, t_data_);
  } else {
    draw_density_1d(p0, avail, *pass, frame);
  }
  ImGui::End();
}

// ---------------------------------------------------------------- heatmaps
void Lab::draw_heatmap(const char* id, const FieldGrid& g, ImVec2 p0, ImVec2 size, Target& target, const Pass* traj,
                       std::size_t frame, const char* caption) {
  record_panel(std::string("residual_") + id, p0, size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const ImU32 text = IM_COL32(210, 210, 220, 255), axis = IM_COL32(160, 160, 170, 255);
  dl->AddText(ImVec2(p0.x + fs * 3.2f, p0.y), text, caption);
  const ImVec2 a(p0.x + fs * 3.2f, p0.y + fs * 1.3f), b(p0.x + size.x - fs * 5.0f, p0.y + size.y - fs * 2.4f);
  if (b.x - a.x < 10 || b.y - a.y < 10) return;
  if (!g.ok()) {
    dl->AddRect(a, b, axis);
    const std::string msg = g.error.empty() ? "computing the residual field…" : g.error;
    dl->PushClipRect(a, b, true);
    dl->AddText(ImGui::GetFont(), fs, ImVec2(a.x + 8, (a.y + b.y) / 2 - fs), IM_COL32(200, 200, 200, 255), msg.c_str(),
                nullptr, b.x - a.x - 16);
    dl->PopClipRect();
    return;
  }
  const bool abs_r = show_abs_r_ || !g.signed_values;
  const float vmax = robust_absmax(g.v);
  const Colormap map = abs_r ? Colormap::Sequential : Colormap::Diverging;
  target.resize(static_cast<int>((b.x - a.x) * fbx_), static_cast<int>((b.y - a.y) * fby_));
  const uint64_t key = content_key({g.serial, bits(vmax), abs_r ? 1u : 0u});
  if (key != target.content) {
    target.content = key;
    target.bind_clear(0, 0, 0, 1);
    rr_.draw_field(g.v, g.nx, g.ny, map, 0.f, vmax, abs_r);
  }
  dl->AddImage(tex_id(target), a, b, ImVec2(0, 1), ImVec2(1, 0));
  auto px = [&](double x) { return a.x + static_cast<float>((x - g.x_min) / (g.x_max - g.x_min)) * (b.x - a.x); };
  auto py = [&](double y) { return b.y - static_cast<float>((y - g.y_min) / (g.y_max - g.y_min)) * (b.y - a.y); };
  // Trajectories in the (x, t) plane (d = 1): ODE and SDE particles up to the shown frame.
  if (traj && traj->d == 1 && n_traj_ > 0) {
    dl->PushClipRect(a, b, true);
    std::vector<ImVec2> line;
    for (int which = 0; which < 2; ++which) {
      const auto& frames = which == 0 ? traj->ode : traj->sde;
      const ImU32 col = which == 0 ? IM_COL32(255, 255, 255, 150) : IM_COL32(30, 30, 30, 150);
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(n_traj_), frames[0]->n());
      for (std::size_t i = 0; i < n; ++i) {
        line.clear();
        for (std::size_t k = 0; k <= frame && k < frames.size(); ++k) {
          const float x = frames[k]->v[i];
          if (std::isfinite(x)) line.emplace_back(px(x), py(std::max(traj->t[k], g.y_min)));
        }
        if (line.size() > 1) dl->AddPolyline(line.data(), static_cast<int>(line.size()), col, 0, 1.0f);
        if (!line.empty()) dl->AddCircleFilled(line.back(), 2.0f, which == 0 ? kOde : kSde);
      }
    }
    dl->PopClipRect();
  }
  dl->AddRect(a, b, axis);
  // Axes.
  const auto xt = nice_ticks(g.x_min, g.x_max, std::max(2, static_cast<int>((b.x - a.x) / (fs * 4)))),
             yt = nice_ticks(g.y_min, g.y_max, std::max(2, static_cast<int>((b.y - a.y) / (fs * 2))));
  const double sx = xt.size() > 1 ? xt[1] - xt[0] : 1, sy = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double v : xt) {
    const float x = px(v);
    dl->AddLine(ImVec2(x, b.y), ImVec2(x, b.y + 4), axis);
    const std::string s = tick_label(v, sx);
    dl->AddText(ImVec2(x - ImGui::CalcTextSize(s.c_str()).x / 2, b.y + 4), text, s.c_str());
  }
  for (double v : yt) {
    const float y = py(v);
    dl->AddLine(ImVec2(a.x - 4, y), ImVec2(a.x, y), axis);
    const std::string s = tick_label(v, sy);
    dl->AddText(ImVec2(a.x - 6 - ImGui::CalcTextSize(s.c_str()).x, y - fs / 2), text, s.c_str());
  }
  dl->AddText(ImVec2((a.x + b.x) / 2, b.y + fs * 1.2f), text, g.x_label.c_str());
  dl->AddText(ImVec2(p0.x, a.y - fs * 1.25f), text, g.y_label.c_str());
  // Colorbar with values.
  const float cb0 = b.x + fs * 0.6f, cb1 = cb0 + fs * 0.9f;
  const int segs = 48;
  const float lo = abs_r ? 0.f : -vmax;
  for (int s = 0; s < segs; ++s) {
    float c0[3], c1[3];
    colormap_rgb(map, static_cast<float>(s + 1) / segs, c0);
    colormap_rgb(map, static_cast<float>(s) / segs, c1);
    const float y0 = a.y + (b.y - a.y) * s / segs, y1 = a.y + (b.y - a.y) * (s + 1) / segs;
    const ImU32 top = ImGui::ColorConvertFloat4ToU32(ImVec4(c0[0], c0[1], c0[2], 1)),
                bot = ImGui::ColorConvertFloat4ToU32(ImVec4(c1[0], c1[1], c1[2], 1));
    dl->AddRectFilledMultiColor(ImVec2(cb0, y0), ImVec2(cb1, y1 + 0.5f), top, top, bot, bot);
  }
  dl->AddRect(ImVec2(cb0, a.y), ImVec2(cb1, b.y), axis);
  const auto ct = nice_ticks(lo, vmax, 4);
  const double cs = ct.size() > 1 ? ct[1] - ct[0] : 1;
  for (double v : ct) {
    const float y = b.y - static_cast<float>((v - lo) / (vmax - lo)) * (b.y - a.y);
    dl->AddLine(ImVec2(cb1, y), ImVec2(cb1 + 3, y), axis);
    dl->AddText(ImVec2(cb1 + 4, y - fs / 2), text, tick_label(v, cs).c_str());
  }
  dl->AddText(ImVec2(cb0, a.y - fs * 1.25f), text, !g.signed_values ? "|r|" : abs_r ? "|R|" : "R");
  // Hover read-out.
  ImGui::SetCursorScreenPos(a);
  ImGui::InvisibleButton(id, ImVec2(b.x - a.x, b.y - a.y));
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const double x = g.x_min + (m.x - a.x) / (b.x - a.x) * (g.x_max - g.x_min);
    const double y = g.y_min + (b.y - m.y) / (b.y - a.y) * (g.y_max - g.y_min);
    const int i = std::clamp(static_cast<int>(std::lround((x - g.x_min) / (g.x_max - g.x_min) * (g.nx - 1))), 0, g.nx - 1);
    const int j = std::clamp(static_cast<int>(std::lround((y - g.y_min) / (g.y_max - g.y_min) * (g.ny - 1))), 0, g.ny - 1);
    ImGui::SetTooltip("%s = %.3f, %s = %.3f\nR = %.5g\n(colour range ±%.3g: 99th percentile of |R|)\n%s",
                      g.x_label.c_str(), x, g.y_label.c_str(), y, g.at(i, j), vmax, kTipR);
  }
}

void Lab::panel_residual() {
  ImGui::SetNextWindowPos(l_residual_.pos);
  ImGui::SetNextWindowSize(l_residual_.size);
  ImGui::Begin("Fokker-Planck residual R(x,t)", nullptr, kFixed);
  record_panel("residual", ImGui::GetWindowPos(), ImGui::GetWindowSize());
  FieldsPtr f = worker_.fields();
  const int d = shown_ ? shown_->d : (cfg_.dim());
  ImGui::Checkbox("|R|", &show_abs_r_);
  help_marker(kTipR);
  const float box = static_cast<float>(cfg_.box);
  if (d == 2) {
    ImGui::SameLine();
    float x2 = static_cast<float>(residual_ui_.x2), t = static_cast<float>(residual_ui_.t);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    if (ImGui::SliderFloat("x2 of the (x1,t) slice", &x2, -box, box, "%.2f")) residual_ui_.x2 = x2;
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    if (ImGui::SliderFloat("t of the (x1,x2) field", &t, static_cast<float>(cfg_.eps), static_cast<float>(cfg_.T), "%.3f",
                           ImGuiSliderFlags_Logarithmic))
      residual_ui_.t = t;
    worker_.set_residual(residual_ui_);
  }
  if (f) {
    ImGui::SameLine();
    ImGui::TextDisabled("   weights of iteration %lld · %.0f ms", static_cast<long long>(f->xt.iteration),
                        f->xt.compute_ms + f->xy.compute_ms);
  }
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  static const FieldGrid empty;
  char cap[128];
  if (d == 2) {
    const float w = avail.x / 2;
    std::snprintf(cap, sizeof cap, "R over (x1, t) at x2 = %.2f", residual_ui_.x2);
    draw_heatmap("xt", f ? f->xt : empty, p0, ImVec2(w - 4, avail.y), t_xt_, nullptr, 0, cap);
    std::snprintf(cap, sizeof cap, "R over (x1, x2) at t = %.3g", residual_ui_.t);
    draw_heatmap("xy", f ? f->xy : empty, ImVec2(p0.x + w + 4, p0.y), ImVec2(w - 4, avail.y), t_xy_, nullptr, 0, cap);
  } else {
    std::size_t frame = 0;
    const Pass* p = shown_.get();
    if (p && !p->ode.empty()) {
      const double target = play_pos_ * static_cast<double>(p->total_steps);
      while (frame + 1 < p->step.size() && static_cast<double>(p->step[frame + 1]) <= target + 1e-9) ++frame;
    }
    draw_heatmap("xt", f ? f->xt : empty, p0, avail, t_xt_, p, frame,
                 "R over (x, t) with ODE (white) and SDE (dark) trajectories");
  }
  ImGui::End();
}

// ---------------------------------------------------------------- plots
std::vector<Mark> Lab::lambda_marks() const {
  std::vector<Mark> m;
  double prev = NAN;
  for (const auto& r : rows_) {
    if (r.lambda != prev) {
      char b[32];
      std::snprintf(b, sizeof b, "λ=%g", r.lambda);
      m.push_back({static_cast<double>(r.iteration), b});
      prev = r.lambda;
    }
  }
  if (m.size() > 30) m.erase(m.begin(), m.end() - 30);
  return m;
}

std::vector<Series> Lab::w2_series() const {
  const auto w = worker_.w2();
  Series a{"W2(ODE, SDE)", {}, {}, IM_COL32(240, 80, 200, 255), true, true, 2.f};
  Series b{"W2(ODE, data)", {}, {}, kOde, true, true, 1.5f};
  Series c{"W2(SDE, data)", {}, {}, kSde, true, true, 1.5f};
  // The escapees' shares on the same axis (a fraction, 0..1), thin and without markers.
  Series oo{"share outside [-4,4]² (ODE)", {}, {}, (kOde & 0x00FFFFFF) | 0x90000000, true, false, 1.0f};
  Series os{"share outside [-4,4]² (SDE)", {}, {}, (kSde & 0x00FFFFFF) | 0x90000000, true, false, 1.0f};
  for (const auto& r : *w) {
    const double x = static_cast<double>(r.iteration);
    a.x.push_back(x), a.y.push_back(r.ode_sde);
    b.x.push_back(x), b.y.push_back(r.ode_data);
    c.x.push_back(x), c.y.push_back(r.sde_data);
    if (std::isfinite(r.outside_ode)) oo.x.push_back(x), oo.y.push_back(r.outside_ode);
    if (std::isfinite(r.outside_sde)) os.x.push_back(x), os.y.push_back(r.outside_sde);
  }
  std::vector<Series> out{a, b, c};
  if (!oo.x.empty()) out.push_back(oo), out.push_back(os);
  return out;
}

PlotSpec Lab::w2_spec() const {
  PlotSpec s;
  s.x_label = "iteration";
  s.y_label = "W2";
  s.log_y = w2_log_;
  s.marks = lambda_marks();
  s.empty_text = "the first sampling pass is running…";
  return s;
}

std::vector<Series> Lab::loss_series() const {
  std::vector<Series> out;
  Series dsm{"DSM", {}, {}, IM_COL32(120, 200, 255, 255), true, false, 1.5f};
  decimate(rows_, &TrainRow::dsm, 800, false, dsm.x, dsm.y);
  Series fp{"FP residual", {}, {}, IM_COL32(255, 120, 90, 255), true, false, 1.5f};
  decimate(rows_, &TrainRow::fp, 800, true, fp.x, fp.y);
  Series bc{"boundary", {}, {}, IM_COL32(180, 180, 90, 255), true, false, 1.0f};
  decimate(rows_, &TrainRow::bc, 800, true, bc.x, bc.y);
  Series rs{"mean R² (box)", {}, {}, IM_COL32(240, 80, 200, 255), false, true, 1.0f};
  for (const auto& r : rows_)
    if (std::isfinite(r.res_mean_sq)) rs.x.push_back(static_cast<double>(r.iteration)), rs.y.push_back(r.res_mean_sq);
  out.push_back(std::move(dsm));
  out.push_back(std::move(fp));
  out.push_back(std::move(bc));
  if (!rs.x.empty()) out.push_back(std::move(rs));
  return out;
}

PlotSpec Lab::loss_spec() const {
  PlotSpec s;
  s.x_label = "iteration";
  s.y_label = "loss";
  s.log_y = loss_log_;
  s.marks = lambda_marks();
  s.empty_text = "waiting for the first iteration…";
  return s;
}

void Lab::panel_plots() {
  ImGui::SetNextWindowPos(l_w2_.pos);
  ImGui::SetNextWindowSize(l_w2_.size);
  ImGui::Begin("W2 gap", nullptr, kFixed);
  record_panel("w2_plot", ImGui::GetWindowPos(), ImGui::GetWindowSize());
  ImGui::Checkbox("log y##w2", &w2_log_);
  help_marker(kTipW2);
  ImGui::SameLine();
  ImGui::TextDisabled("  %s", w2_metric_label(gui::w2_spec(sampler_ui_, 0)).c_str());
  {
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    plot("##w2", p0, ImGui::GetContentRegionAvail(), w2_series(), w2_spec());
  }
  ImGui::End();

  ImGui::SetNextWindowPos(l_loss_.pos);
  ImGui::SetNextWindowSize(l_loss_.size);
  ImGui::Begin("Losses", nullptr, kFixed);
  record_panel("loss_plot", ImGui::GetWindowPos(), ImGui::GetWindowSize());
  ImGui::Checkbox("log y##loss", &loss_log_);
  ImGui::SameLine();
  ImGui::TextDisabled("  dashed: λ changes (%s)", "hover a point for its value");
  {
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    plot("##loss", p0, ImGui::GetContentRegionAvail(), loss_series(), loss_spec());
  }
  ImGui::End();
}

}  // namespace gapscope::gui

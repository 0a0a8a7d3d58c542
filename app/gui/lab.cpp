#include "lab.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "views.h"

namespace gapscope::gui {
namespace {

std::string stamp() {
  char b[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "%Y%m%d-%H%M%S", std::localtime(&t));
  return b;
}

}  // namespace

void ViewState::record_panel(const std::string& name, ImVec2 p0, ImVec2 size) {
  panels[name] = {static_cast<int>(std::lround(p0.x * fb_x)), static_cast<int>(std::lround(p0.y * fb_y)),
                  static_cast<int>(std::lround(size.x * fb_x)), static_cast<int>(std::lround(size.y * fb_y))};
}

void ViewState::reset_view(const Config& c) {
  view = View2D{};
  view.half = static_cast<float>(std::max(3.0, c.box + 0.5));
}

ExportInput ViewState::export_view() const {
  ExportInput in;
  in.pass = playback.shown();
  in.x0 = view.cx - view.half, in.x1 = view.cx + view.half;
  in.y0 = view.cy - view.half, in.y1 = view.cy + view.half;
  in.w2_log = w2_log;
  in.loss_log = loss_log;
  return in;
}

ViewSettings ViewState::settings() const {
  ViewSettings v;
  v.cx = view.cx, v.cy = view.cy, v.half = view.half;
  v.point_size = point_size, v.point_alpha = point_alpha;
  v.density_shading = density_shading;
  v.n_traj = n_traj;
  v.lambda_log = lambda_log, v.show_abs_r = show_abs_r, v.w2_log = w2_log, v.loss_log = loss_log;
  v.playback_seconds = playback.seconds;
  return v;
}

void ViewState::apply(const ViewSettings& v, const Config& c) {
  reset_view(c);
  if (v.half > 0) view = View2D{v.cx, v.cy, v.half};
  point_size = v.point_size, point_alpha = v.point_alpha;
  density_shading = v.density_shading;
  n_traj = v.n_traj;
  lambda_log = v.lambda_log, show_abs_r = v.show_abs_r, w2_log = v.w2_log, loss_log = v.loss_log;
  playback.seconds = v.playback_seconds;
}

void ViewState::start_drawing(int d, const Config& c) {
  if (drawing && canvas.dim() == d && canvas.version() > 0) return;
  drawing = true;
  canvas.start(d, std::max(3.0, c.box), c.seed);
}

std::string stamped_png(const std::string& dir, const std::string& name) {
  return dir + "/" + name + "-" + stamp() + ".png";
}

void begin_panel(const char* title, const char* name, ViewState& ui, const PanelRect& r, ImGuiWindowFlags flags) {
  ImGui::SetNextWindowPos(r.pos);
  ImGui::SetNextWindowSize(r.size);
  ImGui::Begin(title, nullptr, flags);
  ui.record_panel(name, ImGui::GetWindowPos(), ImGui::GetWindowSize());
}

PanelLayout layout(ImVec2 display) {
  const float W = display.x, H = display.y, fs = ImGui::GetFontSize();
  const float cw = std::clamp(W * 0.23f, fs * 22, fs * 30);
  const float rw = W - cw, half = std::floor(rw / 2);
  const float h1 = std::floor(H * 0.42f), h2 = std::floor(H * 0.29f), h3 = H - h1 - h2;
  PanelLayout l;
  l.controls = {ImVec2(0, 0), ImVec2(cw, H)};
  l.particles = {ImVec2(cw, 0), ImVec2(rw, h1)};
  l.residual = {ImVec2(cw, h1), ImVec2(rw, h2)};
  l.w2 = {ImVec2(cw, h1 + h2), ImVec2(half, h3)};
  l.losses = {ImVec2(cw + half, h1 + h2), ImVec2(rw - half, h3)};
  return l;
}

Lab::Lab(Session& session, Renderer& renderer, bool show_final, const std::string& tab)
    : s_(session), rr_(renderer) {
  if (show_final) {
    ui_.playback.play = false;
    ui_.playback.pos = 1;
  }
  ui_.residual_tab = tab == "density" ? 1 : tab == "sweep" ? 2 : tab == "gap" ? 3 : 0;
  ui_.select_tab = ui_.residual_tab != 0;
  if (ui_.residual_tab == 1) {
    DensityRequest r;
    r.t = ui_.density_t, r.grid = ui_.density_grid, r.box = s_.config().box;
    s_.compute_density(r);
  } else if (ui_.residual_tab == 2) {
    SweepOptions o;
    o.steps = parse_step_list(ui_.sweep_list);
    o.n = static_cast<std::size_t>(ui_.sweep_n);
    s_.sweep_steps(o);
  }
}

void Lab::shortcuts() {
  const ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  if (ImGui::IsKeyPressed(GLFW_KEY_SPACE, false)) s_.set_paused(!s_.paused());
  if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_S, false)) s_.save_checkpoint(ui_.ckpt_dir);
  if (ImGui::IsKeyPressed(GLFW_KEY_F12, false)) ui_.shots.push_back({stamped_png(ui_.out_dir, "window"), ""});
}

void Lab::frame(float fbx, float fby) {
  ui_.fb_x = fbx;
  ui_.fb_y = fby;
  s_.poll();
  if (s_.generation() != generation_) {  // a new or loaded run: its settings, its first pass
    generation_ = s_.generation();
    ui_.edit = s_.config();
    ui_.reset_view(s_.config());
    ui_.playback.forget();
    if (pending_view_) ui_.apply(*pending_view_, s_.config());
    pending_view_.reset();
  }
  play_script();
  shortcuts();
  const PanelLayout l = layout(ImGui::GetIO().DisplaySize);
  panel_controls(s_, ui_, l.controls);
  panel_particles(s_, ui_, rr_, targets_, l.particles);
  panel_residual(s_, ui_, rr_, targets_, l.residual);
  panel_w2(s_, ui_, l.w2);
  panel_losses(s_, ui_, l.losses);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void Lab::script_strokes(std::vector<std::vector<std::pair<float, float>>> strokes, int d) {
  script_ = std::move(strokes);
  script_dim_ = d;
  script_stroke_ = script_point_ = 0;
}

void Lab::play_script() {
  if (script_stroke_ >= script_.size()) return;
  ui_.start_drawing(script_dim_, s_.config());
  const auto& stroke = script_[script_stroke_];
  ui_.canvas.stroke_to(stroke[script_point_].first, stroke[script_point_].second, ui_.brush);
  if (++script_point_ < stroke.size()) return;
  ui_.canvas.end_stroke();
  script_point_ = 0;
  if (++script_stroke_ == script_.size()) train_on_drawing(s_, ui_);
}

void Lab::export_all(const std::string& dir) {
  const ExportInput view = ui_.export_view();
  for (Figure f : {Figure::W2, Figure::Losses, Figure::Particles}) s_.export_figure(dir, f, view);
  for (Table t : {Table::History, Table::Particles}) s_.export_table(dir, t, view);
  s_.export_gap(dir);
  ui_.shots.push_back({dir + "/window.png", ""});
  for (const auto& p : ui_.panels) ui_.shots.push_back({dir + "/panel-" + p.first + ".png", p.first});
  s_.save_checkpoint(dir + "/checkpoint");
}

}  // namespace gapscope::gui

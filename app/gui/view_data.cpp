// Data of one's own: the Data section (draw a set, load a CSV or .npy file), the drawing
// views that the particles panel shows while drawing, and the Session section (save a
// session, copy the headless command).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "style/format.h"
#include "style/palette.h"
#include "views.h"
#include "widgets.h"

namespace gapscope::gui {
namespace fs = std::filesystem;

namespace {

Brush brush_for(const ViewState& ui, bool right_button) {
  Brush b = ui.brush;
  b.erase = b.erase || right_button;
  return b;
}

// Feeds the canvas while a button is held on the item just submitted; `to_world` maps the
// pointer to the canvas's coordinates.
template <class ToWorld>
void paint_with_mouse(ViewState& ui, ToWorld to_world) {
  const bool left = ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left);
  const bool right = ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Right);
  // Only a release ends the stroke: the scripted strokes (Lab::play_script) paint while
  // no button is down.
  if (ImGui::IsItemDeactivated()) ui.canvas.end_stroke();
  if (!left && !right) return;
  const ImVec2 w = to_world(ImGui::GetIO().MousePos);
  ui.canvas.stroke_to(w.x, w.y, brush_for(ui, right));
}

}  // namespace

void canvas_input(const char* id, ViewState& ui, ImVec2 p0, ImVec2 size) {
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton(id, size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  const View2D& v = ui.view;
  const float ppu = std::min(size.x, size.y) / (2 * v.half);
  const ImVec2 c(p0.x + size.x / 2, p0.y + size.y / 2);
  paint_with_mouse(ui, [&](ImVec2 m) { return ImVec2(v.cx + (m.x - c.x) / ppu, v.cy - (m.y - c.y) / ppu); });
  if (ImGui::IsItemHovered())
    ImGui::GetWindowDrawList()->AddCircle(ImGui::GetIO().MousePos, ui.brush.radius * ppu,
                                          ui.brush.erase ? theme::kWarning : theme::kHighlight, 32, 1.2f);
}

void canvas_curve_view(ViewState& ui, ImVec2 p0, ImVec2 size) {
  ui.record_panel("particles_canvas", p0, size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  const float* bg = theme::kViewBg;
  dl->AddRectFilled(p0, p1, ImGui::ColorConvertFloat4ToU32(ImVec4(bg[0], bg[1], bg[2], bg[3])));
  // The curve's area: a line of title above, a line of labels below.
  const ImVec2 a0(p0.x + 8, p0.y + fs * 2), a1(p1.x - 8, p1.y - fs * 1.6f);
  const float aw = a1.x - a0.x, ah = a1.y - a0.y;
  const double R = ui.canvas.range();
  const auto& curve = ui.canvas.curve();
  const int K = static_cast<int>(curve.size());
  const style::Color col = style::palette::kData;
  for (int b = 0; b < K; ++b) {
    const float h = curve[static_cast<std::size_t>(b)];
    if (h <= 0) continue;
    const float x0 = a0.x + aw * static_cast<float>(b) / K, x1 = a0.x + aw * static_cast<float>(b + 1) / K;
    dl->AddRectFilled(ImVec2(x0, a1.y - h * ah), ImVec2(x1, a1.y), col.with_alpha(140).abgr());
    dl->AddLine(ImVec2(x0, a1.y - h * ah), ImVec2(x1, a1.y - h * ah), col.abgr(), 2.f);
  }
  dl->AddLine(ImVec2(a0.x, a1.y), ImVec2(a1.x, a1.y), theme::kAxis);
  for (double x : {-R, 0.0, R}) {
    const float sx = a0.x + aw * static_cast<float>((x + R) / (2 * R));
    const std::string label = style::number(x, 3);
    const float tw = ImGui::CalcTextSize(label.c_str()).x;
    dl->AddLine(ImVec2(sx, a1.y), ImVec2(sx, a1.y + 4), theme::kAxis);
    dl->AddText(ImVec2(std::clamp(sx - tw / 2, p0.x + 2, p1.x - tw - 2), a1.y + 4), theme::kAxis, label.c_str());
  }
  dl->AddText(ImVec2(p0.x + 8, p0.y + 6), col.abgr(), "drawing (d = 1) · drag paints the density, right-drag erases");
  dl->AddRect(p0, p1, theme::kFrame);
  ImGui::SetCursorScreenPos(a0);
  ImGui::InvisibleButton("##curve", ImVec2(aw, ah), ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  paint_with_mouse(ui, [&](ImVec2 m) {
    return ImVec2(static_cast<float>(-R + 2 * R * (m.x - a0.x) / aw), std::clamp((a1.y - m.y) / ah, 0.f, 1.f));
  });
}

std::string train_on_drawing(Session& s, ViewState& ui) {
  try {
    const WeightedCloud cloud = ui.canvas.cloud();
    fs::create_directories(ui.out_dir);
    // A file per drawing: the runs (and sessions) trained on earlier drawings keep theirs.
    fs::path path = fs::absolute(fs::path(stamped_png(ui.out_dir, "drawn")).replace_extension(".csv"));
    for (int k = 2; fs::exists(path); ++k)
      path = fs::absolute(fs::path(stamped_png(ui.out_dir, "drawn-" + std::to_string(k))).replace_extension(".csv"));
    cloud.write_csv(path.string());
    Config e = ui.edit;
    e.dataset = "file";
    e.data_file = path.string();
    return s.reset(e, ui.overrides);
  } catch (const std::exception& ex) {
    const std::string err = "cannot train on the drawing: " + first_line(ex.what());
    s.report(err, true);
    return err;
  }
}

void section_data(Session& s, ViewState& ui) {
  if (!ImGui::CollapsingHeader("Data: draw or load", ImGuiTreeNodeFlags_DefaultOpen)) return;
  bool drawing = ui.drawing;
  if (ImGui::Checkbox("draw", &drawing)) {
    const PointsPtr shown = s.data_preview();
    if (drawing)
      ui.start_drawing(ui.canvas.version() ? ui.canvas.dim() : shown && shown->d == 1 ? 1 : 2, s.config());
    else
      ui.drawing = false;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("paint a data set in the last particle view, then train on it");
  if (ui.drawing) {
    for (int d : {1, 2}) {
      ImGui::SameLine();
      if (ImGui::RadioButton(d == 1 ? "d = 1" : "d = 2", ui.canvas.dim() == d) && ui.canvas.dim() != d) {
        ui.drawing = false;
        ui.start_drawing(d, s.config());
      }
    }
    ImGui::SliderFloat("brush radius", &ui.brush.radius, 0.05f, 1.5f, "%.2f");
    if (ui.canvas.dim() == 2) ImGui::SliderInt("brush density", &ui.brush.density, 1, 60, "%d points / dab");
    ImGui::Checkbox("erase", &ui.brush.erase);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("or drag with the right button");
    ImGui::SameLine();
    if (ImGui::Button("Clear")) ui.canvas.clear();
    ImGui::SameLine();
    ImGui::TextDisabled(ui.canvas.dim() == 2 ? "%zu points" : "%zu bins painted", ui.canvas.count());
    ImGui::BeginDisabled(ui.canvas.empty());
    if (ImGui::Button("Train on drawing")) train_on_drawing(s, ui);
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("a new network on the drawing (saved as a CSV in the export folder), as Apply does");
    ImGui::SameLine();
    if (ImGui::Button("Save CSV")) {
      try {
        ui.canvas.cloud().write_csv(ui.drawn_csv);
        s.report("saved the drawing as " + ui.drawn_csv);
      } catch (const std::exception& e) {
        s.report("cannot save the drawing: " + first_line(e.what()), true);
      }
    }
    ImGui::EndDisabled();
    input_string("drawing CSV", ui.drawn_csv);
  }
  input_string("file (CSV, .npy)", ui.edit.data_file);
  if (ImGui::Button("Load file")) {
    Config e = ui.edit;
    e.dataset = "file";
    if (s.reset(e, ui.overrides).empty()) ui.drawing = false;  // the data view shows the file at once
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("train on this file: CSV (1 or 2 columns, header optional) or NumPy .npy");
}

void section_session(Session& s, ViewState& ui) {
  if (!ImGui::CollapsingHeader("Session")) return;
  input_string("session file", ui.session_path);
  if (ImGui::Button("Save session")) s.save_session(ui.session_path, ui.settings(), ui.session_weights);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("one JSON file: the experiment, the λ history, the sampler and the views (and the data); "
                      "reopen it with gapscope --session FILE");
  ImGui::SameLine();
  ImGui::Checkbox("with weights", &ui.session_weights);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("also a checkpoint beside it (%s), so the run resumes where it was",
                      session_checkpoint_dir(ui.session_path).c_str());
  if (ImGui::Button("Copy command")) {
    ui.command = s.command();
    ImGui::SetClipboardText(ui.command.c_str());
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("the gapscope-cli train line that reproduces this experiment headless");
  if (!ui.command.empty()) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", ui.command.c_str());
    ImGui::PopTextWrapPos();
  }
}

}  // namespace gapscope::gui

#include "widgets.h"

#include <cstdio>

namespace gapscope::gui {

const char* const kTipLambda =
    "λ weights the Fokker-Planck penalty against denoising score matching: L = L_DSM + λ (L_FP + L_bc); it is "
    "read by the trainer at the start of every iteration.";
const char* const kTipR =
    "R(x,t) is the log-density Fokker-Planck residual of the learned potential u: where R ≠ 0, the ODE and the SDE "
    "transport different densities.";
const char* const kTipW2 =
    "W2 is the Wasserstein-2 distance between two particle clouds: the root-mean-square distance the particles "
    "must move under the best matching.";

void help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

bool input_string(const char* label, std::string& s, ImGuiInputTextFlags flags) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, "%s", s.c_str());
  if (!ImGui::InputText(label, buf, sizeof buf, flags)) return false;
  s = buf;
  return true;
}

bool combo_string(const char* label, std::string& value, const std::vector<const char*>& items) {
  bool changed = false;
  if (ImGui::BeginCombo(label, value.c_str())) {
    for (const char* item : items)
      if (ImGui::Selectable(item, value == item)) {
        value = item;
        changed = true;
      }
    ImGui::EndCombo();
  }
  return changed;
}

ImU32 to_u32(style::Rgb c, float alpha) { return ImGui::ColorConvertFloat4ToU32(ImVec4(c.r, c.g, c.b, alpha)); }

}  // namespace gapscope::gui

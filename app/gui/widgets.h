#pragma once
// Small ImGui pieces every view uses: the lab's chrome colours (axes, text, frames: not
// roles, so not in the palette), the window flags of the fixed layout, the one-sentence
// tooltips, and a few input helpers.
#include <cstdint>
#include <string>
#include <vector>

#include <imgui.h>

#include "style/colormap.h"

namespace gapscope::gui {

namespace theme {
constexpr ImU32 kText = IM_COL32(210, 210, 220, 255);
constexpr ImU32 kAxis = IM_COL32(165, 165, 175, 255);
constexpr ImU32 kGrid = IM_COL32(255, 255, 255, 22);
constexpr ImU32 kFrame = IM_COL32(80, 80, 95, 255);      // the border of a view
constexpr ImU32 kLegendBg = IM_COL32(10, 10, 14, 200);
constexpr ImU32 kHighlight = IM_COL32(255, 255, 255, 255);  // the hovered point
constexpr ImU32 kWarning = IM_COL32(200, 170, 90, 220);     // "n off view"
constexpr ImU32 kTrajectoryLight = IM_COL32(255, 255, 255, 150);  // ODE paths over a heatmap
constexpr ImU32 kTrajectoryDark = IM_COL32(30, 30, 30, 150);      // SDE paths over a heatmap
inline const ImVec4 kRunning{0.5f, 0.9f, 0.5f, 1}, kIdle{1, 0.75f, 0.3f, 1};  // the state word
inline const ImVec4 kError{1, 0.45f, 0.45f, 1}, kMuted{0.6f, 0.6f, 0.6f, 1}, kAlert{1, 0.6f, 0.3f, 1};
constexpr float kViewBg[4] = {0.055f, 0.06f, 0.075f, 1.f};  // behind the particle clouds
}  // namespace theme

// Panels at fixed places (the layout is recomputed every frame), without backgrounds of
// their own: the window's clear colour shows through.
constexpr ImGuiWindowFlags kFixedPanel = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                         ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings |
                                         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoBackground;
constexpr ImGuiWindowFlags kFixedView = kFixedPanel | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;

extern const char* const kTipLambda;
extern const char* const kTipR;
extern const char* const kTipW2;

void help_marker(const char* text);  // "(?)" after the last item, with a one-sentence tooltip
bool input_string(const char* label, std::string& s, ImGuiInputTextFlags flags = 0);
// A combo over fixed strings; `value` keeps its text when it is none of them.
bool combo_string(const char* label, std::string& value, const std::vector<const char*>& items);
ImU32 to_u32(style::Rgb c, float alpha = 1.f);

}  // namespace gapscope::gui

#pragma once
// The panels. Each is one fixed window at its rectangle that reads the session and the
// view state, and writes the session's knobs and the view state; nothing else.
#include <string>

#include <imgui.h>

#include "lab.h"
#include "renderer.h"
#include "session.h"

namespace gapscope::gui {

struct PanelRect {  // window coordinates
  ImVec2 pos, size;
};
struct PanelLayout {
  PanelRect controls, particles, residual, w2, losses;
};
// Controls on the left; particles, residual, then W2 | losses stacked on the right.
PanelLayout layout(ImVec2 display);
// Begins the fixed window of a panel at r and records its rectangle under `name`.
void begin_panel(const char* title, const char* name, ViewState& ui, const PanelRect& r, ImGuiWindowFlags flags);
// dir/name-YYYYmmdd-HHMMSS.png, for screenshots asked for by hand.
std::string stamped_png(const std::string& dir, const std::string& name);

void panel_controls(Session& s, ViewState& ui, const PanelRect& r);                                       // view_controls.cpp
void panel_particles(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t, const PanelRect& r);       // view_particles.cpp
void panel_residual(Session& s, ViewState& ui, Renderer& rr, ViewTargets& t, const PanelRect& r);        // view_residual.cpp
void panel_w2(const Session& s, ViewState& ui, const PanelRect& r);                                       // view_plots.cpp
void panel_losses(const Session& s, ViewState& ui, const PanelRect& r);                                   // view_plots.cpp
// The residual panel's residual–gap tab (view_gap.cpp): the scatter of every finished pass
// beside the mean |R| per time slice over training.
void gap_tab(Session& s, ViewState& ui);

// view_data.cpp: drawing, loading and sharing data and sessions.
void section_data(Session& s, ViewState& ui);     // the controls' Data section
void section_session(Session& s, ViewState& ui);  // Save session, Copy command
// The mouse over a 2-d drawing view: left paints, right erases (an invisible button at p0).
void canvas_input(const char* id, ViewState& ui, ImVec2 p0, ImVec2 size);
void canvas_curve_view(ViewState& ui, ImVec2 p0, ImVec2 size);  // the d = 1 curve editor
// The canvas as a data file in ui.out_dir, then a new network on it ("" or the error).
std::string train_on_drawing(Session& s, ViewState& ui);

}  // namespace gapscope::gui

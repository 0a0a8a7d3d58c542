// The W2 and loss plots against the iteration, with the λ changes marked.
#include "plot_widget.h"
#include "views.h"
#include "widgets.h"

namespace gapscope::gui {

void panel_w2(const Session& s, ViewState& ui, const PanelRect& r) {
  begin_panel("W2 gap", "w2_plot", ui, r, kFixedView);
  ImGui::Checkbox("log y##w2", &ui.w2_log);
  help_marker(kTipW2);
  ImGui::SameLine();
  ImGui::TextDisabled("  %s", w2_metric_label(w2_spec(s.worker().sampler(), 0)).c_str());
  plot("##w2", ImGui::GetCursorScreenPos(), ImGui::GetContentRegionAvail(), w2_series(*s.w2()),
       w2_plot_spec(s.history(), ui.w2_log));
  ImGui::End();
}

void panel_losses(const Session& s, ViewState& ui, const PanelRect& r) {
  begin_panel("Losses", "loss_plot", ui, r, kFixedView);
  ImGui::Checkbox("log y##loss", &ui.loss_log);
  ImGui::SameLine();
  ImGui::TextDisabled("  dashed: λ changes (hover a point for its value)");
  plot("##loss", ImGui::GetCursorScreenPos(), ImGui::GetContentRegionAvail(), loss_series(s.history()),
       loss_plot_spec(s.history(), ui.loss_log));
  ImGui::End();
}

}  // namespace gapscope::gui

// The controls panel: status, run controls, the live knobs, the experiment editor, the
// sampler and residual settings, exports and checkpoints, and the message log.
#include <algorithm>
#include <vector>

#include "style/format.h"
#include "views.h"
#include "widgets.h"

namespace gapscope::gui {
namespace {

const std::vector<const char*> kDatasets = {"circles2", "blob",      "checker", "moons",
                                            "swissroll", "mixture1d", "mixture", "csv", "file"};
const std::vector<const char*> kModels = {"potential", "score"};
const std::vector<const char*> kSdes = {"ou", "vp", "ve"};
const char* const kSchemes[] = {"euler", "heun", "rk4", "rk45 (adaptive)"};
const char* const kSdeSchemes[] = {"Euler-Maruyama", "predictor-corrector"};
const char* const kMetrics[] = {"exact", "grid 64x64 (paper)", "sliced"};

void text(const std::string& s) { ImGui::TextUnformatted(s.c_str()); }

const char* state_name(RunState st) {
  switch (st) {
    case RunState::Training: return "training";
    case RunState::Paused: return "paused";
    case RunState::Stopped: return "stopped";
    case RunState::Failed: return "FAILED";
    case RunState::None: break;
  }
  return "no session";
}

void section_status(const Session& s) {
  using style::number;
  const RunState st = s.state();
  ImGui::TextColored(st == RunState::Training ? theme::kRunning : theme::kIdle, "%s", state_name(st));
  ImGui::SameLine();
  text("it " + std::to_string(s.iteration()) + "  ·  " + number(s.it_per_s()) + " it/s");
  if (!s.history().empty()) {
    const TrainRow& r = s.history().back();
    text("loss " + number(r.loss) + "  DSM " + number(r.dsm));
    text("FP " + number(r.fp) + "  bc " + number(r.bc, 3) + "  λ " + number(r.lambda, 3));
  } else {
    ImGui::TextDisabled("waiting for the first iteration…");
    ImGui::TextDisabled(" ");
  }
  const auto w2 = s.w2();
  if (w2->empty()) {
    ImGui::TextDisabled("W2: first sampling pass running…");
    return;
  }
  const W2Row& w = w2->back();
  text("W2 ode-sde " + number(w.ode_sde) + " (it " + std::to_string(w.iteration) + ")");
  // Escapees are a measurement of their own: the grid metric drops them silently.
  const bool escaped = w.outside_ode > 0 || w.outside_sde > 0;
  const std::string out = "outside [-4,4]²: ODE " + number(100 * w.outside_ode, 3) + " %  SDE " +
                          number(100 * w.outside_sde, 3) + " %";
  ImGui::TextColored(escaped ? theme::kAlert : theme::kMuted, "%s", out.c_str());
}

void section_run(Session& s, const ViewState& ui) {
  const bool paused = s.paused();
  if (ImGui::Button(paused ? "Start" : "Pause", ImVec2(ImGui::GetFontSize() * 5, 0))) s.set_paused(!paused);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("space");
  ImGui::SameLine();
  ImGui::BeginDisabled(!paused);
  if (ImGui::Button("Step")) s.step();
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Reset")) s.reset(ui.edit);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("new network with the experiment settings below");
}

void section_knobs(Session& s, ViewState& ui) {
  float lam = static_cast<float>(s.lambda());
  if (ImGui::SliderFloat("λ", &lam, 0.0f, 100.0f, "%.4g",
                         ui.lambda_log ? ImGuiSliderFlags_Logarithmic : ImGuiSliderFlags_None))
    s.set_lambda(lam);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kTipLambda);
  double lam_exact = s.lambda();
  if (ImGui::InputDouble("λ exact", &lam_exact, 0, 0, "%.6g", ImGuiInputTextFlags_EnterReturnsTrue))
    s.set_lambda(lam_exact);
  ImGui::Checkbox("logarithmic λ slider", &ui.lambda_log);
  help_marker(kTipLambda);
  // The lr in force (the schedule's stage, or an override typed here until the next stage).
  float lr = static_cast<float>(s.lr());
  if (ImGui::InputFloat("lr", &lr, 0, 0, "%.2e", ImGuiInputTextFlags_EnterReturnsTrue)) s.set_lr(lr);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("the learning rate in force: lr_schedule sets it at each stage (with a fresh Adam); a value "
                      "typed here holds until the next stage");
  const Config& c = s.config();
  const auto stages = c.lr_stages();
  if (stages.size() > 1)
    ImGui::TextDisabled("lr stage %zu/%zu (%s)", c.lr_stage_at(s.iteration()) + 1, stages.size(), c.lr_schedule.c_str());
}

void batch_inputs(Config& e) {
  ImGui::InputInt("DSM batch", &e.batch_dsm, 0);
  ImGui::InputInt("colloc. batch", &e.batch_collocation, 0);
  const Config paper;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("the lab starts with %d / %d so that training is quick to watch; the paper's CPU setting "
                      "(and the experiment files) use %d / %d",
                      kLabBatchDsm, kLabBatchCollocation, paper.batch_dsm, paper.batch_collocation);
  ImGui::TextDisabled("batches: lab %d / %d, paper %d / %d", kLabBatchDsm, kLabBatchCollocation, paper.batch_dsm,
                      paper.batch_collocation);
}

void section_experiment(Session& s, ViewState& ui) {
  if (!ImGui::CollapsingHeader("Experiment (applies with a reset)", ImGuiTreeNodeFlags_DefaultOpen)) return;
  Config& e = ui.edit;
  combo_string("data set", e.dataset, kDatasets);
  if (e.dataset == "csv") input_string("CSV file", e.data_csv);
  if (e.dataset == "file") input_string("data file", e.data_file);
  combo_string("model", e.model, kModels);
  if (combo_string("SDE", e.sde, kSdes)) e.T = e.sde == "ou" ? 10.0 : 1.0;
  batch_inputs(e);
  ImGui::Checkbox("prior offset", &e.potential_prior);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("potential_prior: u = network − |x|²/(2v), the prior's log-density as an offset, so that the "
                      "residual cannot flatten the score to zero and let particles escape (not the paper's network)");
  ImGui::InputDouble("boundary weight", &e.boundary_weight, 0, 0, "%.3g");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("weight of mean softplus(u)² on the box faces (the paper: 0)");
  if (e.boundary_weight > 0) ImGui::InputInt("bdry / side", &e.batch_boundary, 0);
  int seed = static_cast<int>(e.seed);
  if (ImGui::InputInt("seed", &seed, 1)) e.seed = static_cast<uint64_t>(std::max(0, seed));
  input_string("key=value …", ui.overrides);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("any config key, e.g. \"box=5.5 hidden=64 T=1\"");
  if (ImGui::Button("Apply (reset)")) s.reset(e, ui.overrides);
}

void sampler_settings(Session& s, ViewState& ui) {
  const SamplerSettings old = s.worker().sampler();
  SamplerSettings n = old;
  int scheme = static_cast<int>(n.scheme);
  ImGui::Combo("ODE method", &scheme, kSchemes, 4);
  n.scheme = static_cast<OdeScheme>(scheme);
  if (n.scheme == OdeScheme::RK45) {
    float rtol = static_cast<float>(n.rtol);
    ImGui::InputFloat("rtol = atol", &rtol, 0, 0, "%.1e");
    n.rtol = n.atol = std::clamp(static_cast<double>(rtol), 1e-8, 0.5);
  }
  int sde = static_cast<int>(n.sde_scheme);
  ImGui::Combo("SDE sampler", &sde, kSdeSchemes, 2);
  n.sde_scheme = static_cast<SdeScheme>(sde);
  if (n.sde_scheme == SdeScheme::PredictorCorrector) {
    float snr = static_cast<float>(n.snr);
    ImGui::InputFloat("corrector snr", &snr, 0, 0, "%.3f");
    n.snr = std::clamp(static_cast<double>(snr), 1e-4, 10.0);
    ImGui::InputInt("corrector steps", &n.corrector_steps, 1);
    n.corrector_steps = std::clamp(n.corrector_steps, 0, 10);
  }
  ImGui::InputInt("steps N", &n.steps, 0);
  n.steps = std::clamp(n.steps, n.refine + 1, 20000);
  ImGui::InputInt("particles", &n.particles, 0);
  n.particles = std::clamp(n.particles, 10, 50000);
  ImGui::Checkbox("shared prior draws", &n.shared_prior);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("ODE and SDE start from the same noise samples");
  int metric = static_cast<int>(n.metric);
  ImGui::Combo("W2 metric", &metric, kMetrics, 3);
  n.metric = static_cast<W2Metric>(metric);
  help_marker(kTipW2);
  if (n.metric == W2Metric::Exact) {
    ImGui::InputInt("W2 points", &n.w2_max_points, 0);
    n.w2_max_points = std::clamp(n.w2_max_points, 50, 20000);
  }
  ImGui::SliderFloat("anim. seconds", &ui.playback.seconds, 0.5f, 20.f, "%.1f");
  n.min_pass_seconds = ui.playback.seconds * 0.8;  // a pass ends a little before its replay does
  if (n.scheme != old.scheme || n.rtol != old.rtol || n.sde_scheme != old.sde_scheme || n.snr != old.snr ||
      n.corrector_steps != old.corrector_steps || n.steps != old.steps || n.particles != old.particles ||
      n.shared_prior != old.shared_prior || n.metric != old.metric || n.w2_max_points != old.w2_max_points ||
      n.min_pass_seconds != old.min_pass_seconds)
    s.worker().set_sampler(n);
  if (ImGui::Button("Restart pass")) s.worker().restart_pass();
  ImGui::SameLine();
  ImGui::TextDisabled("last pass %s", style::duration(s.worker().last_pass_seconds()).c_str());
}

void display_settings(ViewState& ui) {
  ImGui::SliderFloat("point size", &ui.point_size, 1.f, 10.f, "%.1f px");
  ImGui::SliderFloat("point alpha", &ui.point_alpha, 0.05f, 1.f, "%.2f");
  ImGui::Checkbox("density shading (additive)", &ui.density_shading);
  ImGui::SliderInt("trajectories (d=1)", &ui.n_traj, 0, 300);
}

void section_residual(Session& s, ViewState& ui) {
  if (!ImGui::CollapsingHeader("Residual heatmaps")) return;
  ResidualSettings r = s.worker().residual();
  bool changed = ImGui::Checkbox("refresh", &r.enabled);
  help_marker(kTipR);
  float period = static_cast<float>(r.period_s);
  if (ImGui::SliderFloat("every", &period, 0.5f, 30.f, "%.1f s")) {
    r.period_s = period;
    changed = true;
  }
  ImGui::Checkbox("show |R| (sequential)", &ui.show_abs_r);
  ImGui::TextDisabled("engine residual_field (exact network derivatives)");
  if (changed) s.worker().set_residual(r);
}

void png_buttons(ViewState& ui) {
  if (ImGui::Button("PNG window")) ui.shots.push_back({stamped_png(ui.out_dir, "window"), ""});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("F12");
  if (ui.panels.empty()) return;
  std::vector<std::string> names;
  for (const auto& p : ui.panels) names.push_back(p.first);
  ui.panel_choice = std::clamp(ui.panel_choice, 0, static_cast<int>(names.size()) - 1);
  const std::string& chosen = names[static_cast<std::size_t>(ui.panel_choice)];
  ImGui::SameLine();
  if (ImGui::Button("PNG panel")) ui.shots.push_back({stamped_png(ui.out_dir, chosen), chosen});
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##panel", chosen.c_str())) {
    for (int i = 0; i < static_cast<int>(names.size()); ++i)
      if (ImGui::Selectable(names[static_cast<std::size_t>(i)].c_str(), i == ui.panel_choice)) ui.panel_choice = i;
    ImGui::EndCombo();
  }
}

void section_exports(Session& s, ViewState& ui) {
  if (!ImGui::CollapsingHeader("Export & checkpoints")) return;
  input_string("folder", ui.out_dir);
  png_buttons(ui);
  const ExportInput view = ui.export_view();
  if (ImGui::Button("Figure W2")) s.export_figure(ui.out_dir, Figure::W2, view);
  ImGui::SameLine();
  if (ImGui::Button("Figure losses")) s.export_figure(ui.out_dir, Figure::Losses, view);
  ImGui::SameLine();
  if (ImGui::Button("Figure particles")) s.export_figure(ui.out_dir, Figure::Particles, view);
  if (ImGui::Button("CSV history")) s.export_table(ui.out_dir, Table::History, view);
  ImGui::SameLine();
  if (ImGui::Button("CSV particles")) s.export_table(ui.out_dir, Table::Particles, view);
  ImGui::Separator();
  input_string("checkpoint", ui.ckpt_dir);
  if (ImGui::Button("Save checkpoint")) s.save_checkpoint(ui.ckpt_dir);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Ctrl+S");
  ImGui::SameLine();
  if (ImGui::Button("Load checkpoint")) s.load_checkpoint(ui.ckpt_dir);
  input_string("PyTorch file", ui.import_file);
  if (ImGui::Button("Import network")) s.import_network(ui.import_file);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("a torch.save file of the module or its state_dict; Start fine-tunes it");
}

void section_messages(const Session& s) {
  ImGui::Separator();
  const std::string sampler_error = s.worker().error();
  if (!sampler_error.empty()) ImGui::TextColored(theme::kError, "sampler: %s", sampler_error.c_str());
  if (s.busy()) ImGui::TextDisabled("working in the background…");
  ImGui::PushTextWrapPos(0);
  const auto& log = s.log();
  const std::size_t first = log.size() > 6 ? log.size() - 6 : 0;
  for (std::size_t i = log.size(); i-- > first;) {
    if (log[i].error)
      ImGui::TextColored(theme::kError, "%s", log[i].text.c_str());
    else
      ImGui::TextDisabled("%s", log[i].text.c_str());
  }
  ImGui::PopTextWrapPos();
}

}  // namespace

void panel_controls(Session& s, ViewState& ui, const PanelRect& r) {
  begin_panel("gapscope · controls", "controls", ui, r, kFixedPanel);
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 7.5f);
  if (s.ready()) {
    section_status(s);
    ImGui::Separator();
    section_run(s, ui);
  }
  section_knobs(s, ui);
  section_data(s, ui);
  section_experiment(s, ui);
  if (ImGui::CollapsingHeader("Sampler", ImGuiTreeNodeFlags_DefaultOpen)) {
    sampler_settings(s, ui);
    display_settings(ui);
  }
  section_residual(s, ui);
  section_exports(s, ui);
  section_session(s, ui);
  section_messages(s);
  ImGui::PopItemWidth();
  ImGui::End();
}

}  // namespace gapscope::gui

// The lab's session management (trainer + worker + jobs), the controls panel, exports
// and keyboard shortcuts. The views are in panels.cpp.
#include "lab.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "core/points.h"
#include "io/figure.h"

namespace gapscope::gui {
namespace fs = std::filesystem;

namespace {

const char* kDatasets[] = {"circles2", "blob", "checker", "moons", "swissroll", "mixture1d", "mixture", "csv"};
const char* kModels[] = {"potential", "score"};
const char* kSdes[] = {"ou", "vp", "ve"};
const char* kSchemes[] = {"euler", "heun", "rk4"};
const char* kMetrics[] = {"exact", "grid 64x64 (paper)", "sliced"};

template <std::size_t N>
bool combo_str(const char* label, std::string& value, const char* (&items)[N]) {
  int cur = -1;
  for (std::size_t i = 0; i < N; ++i)
    if (value == items[i]) cur = static_cast<int>(i);
  bool changed = false;
  if (ImGui::BeginCombo(label, value.c_str())) {
    for (std::size_t i = 0; i < N; ++i)
      if (ImGui::Selectable(items[i], cur == static_cast<int>(i))) {
        value = items[i];
        changed = true;
      }
    ImGui::EndCombo();
  }
  return changed;
}

bool input_string(const char* label, std::string& s, ImGuiInputTextFlags flags = 0) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, "%s", s.c_str());
  if (ImGui::InputText(label, buf, sizeof buf, flags)) {
    s = buf;
    return true;
  }
  return false;
}

std::string stamp() {
  char b[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "%Y%m%d-%H%M%S", std::localtime(&t));
  return b;
}

void write_text(const std::string& path, const std::string& text) {
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << text;
  if (!f) throw std::runtime_error("write failed: " + path);
}

// The GUI's W2 rows next to the engine's checkpoint, so plots come back on load.
void write_w2_csv(const std::string& path, const std::vector<W2Row>& rows) {
  std::ostringstream o;
  o << "iteration,w2_ode_sde,w2_ode_data,w2_sde_data,lambda,ms,outside_ode,outside_sde\n";
  o.precision(10);
  for (const auto& r : rows)
    o << r.iteration << ',' << r.ode_sde << ',' << r.ode_data << ',' << r.sde_data << ',' << r.lambda << ',' << r.ms
      << ',' << r.outside_ode << ',' << r.outside_sde << '\n';
  write_text(path, o.str());
}

std::vector<W2Row> read_w2_csv(const std::string& path) {
  std::vector<W2Row> rows;
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return rows;
  while (std::getline(f, line)) {
    W2Row r;
    long long it = 0;
    // Files from before the outside_* columns have six; the shares then stay NaN.
    if (std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &it, &r.ode_sde, &r.ode_data, &r.sde_data,
                    &r.lambda, &r.ms, &r.outside_ode, &r.outside_sde) >= 4) {
      r.iteration = it;
      rows.push_back(r);
    }
  }
  return rows;
}

// The GUI's plot description as a figure panel (io/figure.h), for the exports.
fig::Panel to_figure_panel(const std::string& title, const std::vector<gui::Series>& series, const PlotSpec& spec) {
  fig::Panel p;
  p.title = title;
  p.x.label = spec.x_label;
  p.y.label = spec.y_label;
  p.y.scale = spec.log_y ? fig::Scale::Log : fig::Scale::Linear;
  p.x.min = spec.x_from_zero ? 0.0 : spec.x_min;
  p.x.max = spec.x_max;
  p.y.min = spec.y_min;
  p.y.max = spec.y_max;
  p.x.grid = p.y.grid = true;
  for (const auto& s : series) {
    fig::Line l;
    l.name = s.label;
    l.x = s.x;
    l.y = s.y;
    l.color = style::Color::from_abgr(s.color);
    l.width = s.line ? s.thickness : 0;
    l.markers = s.markers;
    p.lines.push_back(std::move(l));
  }
  for (const auto& m : spec.marks) p.marks.push_back({m.x, m.label});
  return p;
}

}  // namespace

// A "(?)" after the last item whose tooltip explains it (lab and panels share it).
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

const char* kTipLambda =
    "λ weights the Fokker-Planck penalty against denoising score matching: L = L_DSM + λ (L_FP + L_bc); it is "
    "read by the trainer at the start of every iteration.";
const char* kTipR =
    "R(x,t) is the log-density Fokker-Planck residual of the learned potential u: where R ≠ 0, the ODE and the SDE "
    "transport different densities.";
const char* kTipW2 =
    "W2 is the Wasserstein-2 distance between two particle clouds: the root-mean-square distance the particles "
    "must move under the best matching.";

Lab::Lab(const LabOptions& opt, Renderer& renderer) : rr_(renderer), opt_(opt) {
  std::sort(opt_.lambda_schedule.begin(), opt_.lambda_schedule.end());
  Config c;
  // Without an experiment file the lab trains the paper's objective and lr schedule on smaller
  // batches (kLabBatch*), so that iterations come several times a second on one core, and with
  // the prior offset, so that λ can be dragged at any moment without emptying the view (README,
  // "Moving λ during a run").
  c.batch_dsm = kLabBatchDsm;
  c.batch_collocation = kLabBatchCollocation;
  c.potential_prior = true;
  try {
    if (!opt_.config_path.empty()) c = load_config(opt_.config_path);
    apply_overrides(c, opt_.sets);
  } catch (const std::exception& e) {
    report(std::string("config: ") + e.what(), true);
  }
  sampler_ui_.steps = opt_.steps;
  sampler_ui_.particles = opt_.particles;
  sampler_ui_.w2_max_points = opt_.particles;
  sampler_ui_.refine = c.sample_refine;
  sampler_ui_.refine_factor = c.sample_refine_factor;
  sampler_ui_.eps = c.sample_eps;
  try {
    sampler_ui_.scheme = parse_ode_scheme(c.ode_method);
  } catch (...) {
  }
  worker_.set_sampler(sampler_ui_);
  worker_.set_residual(residual_ui_);
  if (opt_.show_final) {
    play_ = false;
    play_pos_ = 1;
  }
  edit_ = c;
  if (!opt_.checkpoint.empty()) {
    try {
      ckpt_dir_ = opt_.checkpoint;
      std::shared_ptr<Trainer> t = Trainer::load(opt_.checkpoint);
      // λ: the checkpoint's, unless the command line set one explicitly.
      for (const auto& s : opt_.sets)
        if (s.rfind("lambda=", 0) == 0) t->knobs().lambda = c.lambda;
      adopt(std::move(t), read_w2_csv((fs::path(opt_.checkpoint) / "gui_w2.csv").string()),
            "resumed checkpoint " + opt_.checkpoint);
      return;
    } catch (const std::exception& e) {
      report(std::string("cannot load checkpoint: ") + e.what(), true);
    }
  }
  reset(c);
}

Lab::~Lab() {
  if (trainer_) trainer_->knobs().stop = true;
  retire(std::move(trainer_));
  worker_.set_session(nullptr, cfg_);
  for (auto& r : graveyard_) r.thread.join();
}

void Lab::report(const std::string& msg, bool error) {
  log_.emplace_back(msg, error);
  if (log_.size() > 50) log_.erase(log_.begin());
  if (error) last_error_ = msg;
  std::fprintf(stderr, "gapscope: %s%s\n", error ? "error: " : "", msg.c_str());
}

int64_t Lab::iteration() const { return trainer_ ? trainer_->iteration() : 0; }

std::vector<W2Row> Lab::w2_rows() const { return *worker_.w2(); }

void Lab::retire(std::shared_ptr<Trainer> t) {
  if (!t) return;
  t->knobs().stop = true;  // the old run ends after its current iteration, off the UI thread
  auto done = std::make_shared<std::atomic<bool>>(false);
  graveyard_.push_back({std::thread([t = std::move(t), done]() mutable {
                          t.reset();
                          *done = true;
                        }),
                        done});
}

bool Lab::reset(const Config& c) {
  std::shared_ptr<Trainer> t;
  try {
    c.validate();
    t = std::make_shared<Trainer>(c);
  } catch (const std::exception& e) {
    report(std::string("cannot start this experiment: ") + e.what(), true);
    return false;
  }
  adopt(std::move(t), {}, "new experiment: " + c.dataset + ", " + c.model + ", " + c.sde);
  return true;
}

void Lab::adopt(std::shared_ptr<Trainer> t, std::vector<W2Row> w2, const std::string& what) {
  const bool paused = trainer_ ? trainer_->knobs().paused.load() : !opt_.start_training;
  if (!t->load_notice().empty()) report(t->load_notice());
  retire(std::move(trainer_));
  trainer_ = std::move(t);
  cfg_ = trainer_->config();
  edit_ = cfg_;
  rows_ = trainer_->history().rows();
  lambda_ui_ = trainer_->knobs().lambda.load();
  lr_ui_ = static_cast<float>(trainer_->knobs().lr.load());
  shown_.reset();
  play_pos_ = play_ ? 0.f : play_pos_;
  rate_t0_ = ImGui::GetTime();
  rate_it0_ = trainer_->iteration();
  it_per_s_ = 0;
  view_ = View2D{};
  view_.half = static_cast<float>(std::max(3.0, cfg_.box + 0.5));
  worker_.set_session(trainer_, cfg_, std::move(w2));
  apply_schedule();
  trainer_->knobs().paused = paused;
  start_training();
  last_error_.clear();
  train_error_seen_.clear();
  report(what);
}

void Lab::start_training() {
  // The training thread runs at a lower priority than the UI (it inherits the nice value
  // of the thread that starts it).
  auto t = trainer_;
  // A fresh run trains for `iterations`; a resumed one that is already past it, for
  // `iterations` more.
  const int64_t it = t->iteration();
  const int64_t until = it < cfg_.iterations ? cfg_.iterations : it + std::max<int64_t>(cfg_.iterations, 1);
  run_in_background_priority([&] { t->start(until); }, 10);
}

void Lab::set_lambda(double v) {
  lambda_ui_ = std::max(0.0, v);
  if (trainer_) trainer_->knobs().lambda = lambda_ui_;
}

void Lab::apply_schedule() {
  if (!trainer_) return;
  const int64_t it = trainer_->iteration();
  while (schedule_next_ < opt_.lambda_schedule.size() && it >= opt_.lambda_schedule[schedule_next_].first) {
    set_lambda(opt_.lambda_schedule[schedule_next_].second);
    char b[96];
    std::snprintf(b, sizeof b, "schedule: λ = %g at iteration %lld", lambda_ui_, static_cast<long long>(it));
    report(b);
    ++schedule_next_;
  }
}

void Lab::poll() {
  for (auto& m : jobs_.take_messages()) report(m.first, m.second);
  {
    std::shared_ptr<Trainer> t;
    std::vector<W2Row> w2;
    std::string what;
    {
      std::lock_guard<std::mutex> l(pending_m_);
      t = std::move(pending_trainer_);
      w2 = std::move(pending_w2_);
      what = pending_what_;
    }
    if (t) adopt(std::move(t), std::move(w2), what);
  }
  if (!trainer_) return;
  auto more = trainer_->history().rows(rows_.size());
  rows_.insert(rows_.end(), more.begin(), more.end());
  apply_schedule();
  const double now = ImGui::GetTime();
  if (now - rate_t0_ >= 1.0) {
    const int64_t it = trainer_->iteration();
    it_per_s_ = (it - rate_it0_) / (now - rate_t0_);
    rate_t0_ = now;
    rate_it0_ = it;
  }
  const std::string err = trainer_->last_error();
  if (!err.empty() && err != train_error_seen_) {
    train_error_seen_ = err;
    report("training stopped: " + err, true);
  }
  // Reap retired trainers whose threads have finished.
  for (auto& r : graveyard_)
    if (r.done->load() && r.thread.joinable()) r.thread.join();
  graveyard_.erase(std::remove_if(graveyard_.begin(), graveyard_.end(), [](const Retired& r) { return !r.thread.joinable(); }),
                   graveyard_.end());
}

void Lab::save_checkpoint(const std::string& dir) {
  if (!trainer_) return;
  auto t = trainer_;
  auto w2 = worker_.w2();
  jobs_.post("save checkpoint", [t, w2, dir] {
    t->save(dir);  // waits for the iteration in flight, here and not on the UI thread
    write_w2_csv((fs::path(dir) / "gui_w2.csv").string(), *w2);
    return "saved checkpoint " + dir + " at iteration " + std::to_string(t->iteration());
  });
}

void Lab::load_checkpoint(const std::string& dir) {
  jobs_.post("load checkpoint", [this, dir] {
    std::shared_ptr<Trainer> t = Trainer::load(dir);
    auto w2 = read_w2_csv((fs::path(dir) / "gui_w2.csv").string());
    std::lock_guard<std::mutex> l(pending_m_);
    pending_trainer_ = std::move(t);
    pending_w2_ = std::move(w2);
    pending_what_ = "resumed checkpoint " + dir;
    return std::string();
  });
}

void Lab::shortcuts() {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  if (ImGui::IsKeyPressed(GLFW_KEY_SPACE, false) && trainer_) {
    trainer_->knobs().paused = !trainer_->knobs().paused.load();
  }
  if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_S, false)) save_checkpoint(ckpt_dir_);
  if (ImGui::IsKeyPressed(GLFW_KEY_F12, false)) shots_.push_back({out_dir_ + "/window-" + stamp() + ".png", ""});
}

void Lab::layout(float W, float H) {
  const float fs = ImGui::GetFontSize();
  const float cw = std::clamp(W * 0.23f, fs * 22, fs * 30);
  const float rx = cw, rw = W - cw;
  const float h1 = std::floor(H * 0.42f), h2 = std::floor(H * 0.29f), h3 = H - h1 - h2;
  l_controls_ = {ImVec2(0, 0), ImVec2(cw, H)};
  l_particles_ = {ImVec2(rx, 0), ImVec2(rw, h1)};
  l_residual_ = {ImVec2(rx, h1), ImVec2(rw, h2)};
  l_w2_ = {ImVec2(rx, h1 + h2), ImVec2(std::floor(rw / 2), h3)};
  l_loss_ = {ImVec2(rx + std::floor(rw / 2), h1 + h2), ImVec2(rw - std::floor(rw / 2), h3)};
}

void Lab::record_panel(const std::string& name, ImVec2 p0, ImVec2 size) {
  PixelRect r;
  r.x = static_cast<int>(std::lround(p0.x * fbx_));
  r.y = static_cast<int>(std::lround(p0.y * fby_));
  r.w = static_cast<int>(std::lround(size.x * fbx_));
  r.h = static_cast<int>(std::lround(size.y * fby_));
  panels_[name] = r;
}

void Lab::frame(float fbx, float fby) {
  fbx_ = fbx;
  fby_ = fby;
  poll();
  shortcuts();
  const ImVec2 ds = ImGui::GetIO().DisplaySize;
  layout(ds.x, ds.y);
  panel_controls();
  panel_particles();
  panel_residual();
  panel_plots();
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void Lab::panel_controls() {
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoBackground;
  ImGui::SetNextWindowPos(l_controls_.pos);
  ImGui::SetNextWindowSize(l_controls_.size);
  ImGui::Begin("gapscope · controls", nullptr, fixed);
  record_panel("controls", ImGui::GetWindowPos(), ImGui::GetWindowSize());
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 7.5f);

  // Status line.
  if (trainer_) {
    const bool running = trainer_->running(), paused = trainer_->knobs().paused.load();
    const char* state = !running ? (trainer_->last_error().empty() ? "stopped" : "FAILED") : paused ? "paused" : "training";
    ImGui::TextColored(running && !paused ? ImVec4(0.5f, 0.9f, 0.5f, 1) : ImVec4(1, 0.75f, 0.3f, 1), "%s", state);
    ImGui::SameLine();
    ImGui::Text("it %lld  ·  %.2f it/s", static_cast<long long>(trainer_->iteration()), it_per_s_);
    if (!rows_.empty()) {
      const TrainRow& r = rows_.back();
      ImGui::Text("loss %.4g  DSM %.4g", r.loss, r.dsm);
      ImGui::Text("FP %.4g  bc %.3g  λ %.3g", r.fp, r.bc, r.lambda);
    } else {
      ImGui::TextDisabled("waiting for the first iteration…");
      ImGui::TextDisabled(" ");
    }
    const auto w2 = worker_.w2();
    if (!w2->empty()) {
      const W2Row& w = w2->back();
      ImGui::Text("W2 ode-sde %.4f (it %lld)", w.ode_sde, static_cast<long long>(w.iteration));
      // Escapees are a measurement of their own: the grid metric drops them silently.
      const bool escaped = w.outside_ode > 0 || w.outside_sde > 0;
      ImGui::TextColored(escaped ? ImVec4(1, 0.6f, 0.3f, 1) : ImVec4(0.6f, 0.6f, 0.6f, 1),
                         "outside [-4,4]²: ODE %.1f %%  SDE %.1f %%", 100 * w.outside_ode, 100 * w.outside_sde);
    } else
      ImGui::TextDisabled("W2: first sampling pass running…");
  }
  ImGui::Separator();

  // Run controls.
  if (trainer_) {
    const bool paused = trainer_->knobs().paused.load();
    if (ImGui::Button(paused ? "Start" : "Pause", ImVec2(ImGui::GetFontSize() * 5, 0))) {
      trainer_->knobs().paused = !paused;
      if (!trainer_->running()) start_training();
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("space");
    ImGui::SameLine();
    ImGui::BeginDisabled(!paused);
    if (ImGui::Button("Step")) {
      auto t = trainer_;
      jobs_.post("step", [t] {
        t->step();
        return std::string();
      });
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Reset")) reset(edit_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("new network with the experiment settings below");
  }

  // λ, live.
  float lam = static_cast<float>(lambda_ui_);
  bool lam_changed = ImGui::SliderFloat("λ", &lam, 0.0f, 100.0f, "%.4g",
                                        lambda_log_ ? ImGuiSliderFlags_Logarithmic : ImGuiSliderFlags_None);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kTipLambda);
  if (lam_changed) set_lambda(lam);
  double lam_d = lambda_ui_;
  if (ImGui::InputDouble("λ exact", &lam_d, 0, 0, "%.6g", ImGuiInputTextFlags_EnterReturnsTrue)) set_lambda(lam_d);
  ImGui::Checkbox("logarithmic λ slider", &lambda_log_);
  help_marker(kTipLambda);
  // The lr in force (the schedule's stage, or an override typed here until the next stage).
  if (trainer_ && !ImGui::IsItemActive()) lr_ui_ = static_cast<float>(trainer_->knobs().lr.load());
  if (ImGui::InputFloat("lr", &lr_ui_, 0, 0, "%.2e", ImGuiInputTextFlags_EnterReturnsTrue) && trainer_) {
    lr_ui_ = std::clamp(lr_ui_, 1e-7f, 1.0f);
    trainer_->knobs().lr = lr_ui_;
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("the learning rate in force: lr_schedule sets it at each stage (with a fresh Adam); a value "
                      "typed here holds until the next stage");
  if (trainer_) {
    const auto st = cfg_.lr_stages();
    const std::size_t k = cfg_.lr_stage_at(trainer_->iteration());
    if (st.size() > 1)
      ImGui::TextDisabled("lr stage %zu/%zu (%s)", k + 1, st.size(), cfg_.lr_schedule.c_str());
  }

  if (ImGui::CollapsingHeader("Experiment (applies with a reset)", ImGuiTreeNodeFlags_DefaultOpen)) {
    combo_str("data set", edit_.dataset, kDatasets);
    if (edit_.dataset == "csv") input_string("CSV file", edit_.data_csv);
    combo_str("model", edit_.model, kModels);
    std::string sde = edit_.sde;
    if (combo_str("SDE", sde, kSdes)) {
      edit_.sde = sde;
      edit_.T = sde == "ou" ? 10.0 : 1.0;
    }
    ImGui::InputInt("DSM batch", &edit_.batch_dsm, 0);
    ImGui::InputInt("colloc. batch", &edit_.batch_collocation, 0);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("the lab starts with %d / %d so that training is quick to watch; the paper's CPU setting "
                        "(and the experiment files) use %d / %d",
                        kLabBatchDsm, kLabBatchCollocation, Config{}.batch_dsm, Config{}.batch_collocation);
    ImGui::TextDisabled("batches: lab %d / %d, paper %d / %d", kLabBatchDsm, kLabBatchCollocation, Config{}.batch_dsm,
                        Config{}.batch_collocation);
    ImGui::Checkbox("prior offset", &edit_.potential_prior);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("potential_prior: u = network − |x|²/(2v), the prior's log-density as an offset, so that the "
                        "residual cannot flatten the score to zero and let particles escape (not the paper's network)");
    ImGui::InputDouble("boundary weight", &edit_.boundary_weight, 0, 0, "%.3g");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("weight of mean softplus(u)² on the box faces (the paper: 0)");
    if (edit_.boundary_weight > 0) ImGui::InputInt("bdry / side", &edit_.batch_boundary, 0);
    int seed = static_cast<int>(edit_.seed);
    if (ImGui::InputInt("seed", &seed, 1)) edit_.seed = static_cast<uint64_t>(std::max(0, seed));
    input_string("key=value …", overrides_text_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("any config key, e.g. \"box=5.5 hidden=64 T=1\"");
    if (ImGui::Button("Apply (reset)")) {
      Config c = edit_;
      if (c.model != "potential") c.potential_prior = false;  // the offset is a potential's
      c.lambda = lambda_ui_;
      c.lr = lr_ui_;
      std::vector<std::string> sets;
      std::istringstream in(overrides_text_);
      for (std::string s; in >> s;) sets.push_back(s);
      try {
        apply_overrides(c, sets);
        reset(c);
      } catch (const std::exception& e) {
        report(std::string("settings rejected: ") + e.what(), true);
      }
    }
  }

  if (ImGui::CollapsingHeader("Sampler", ImGuiTreeNodeFlags_DefaultOpen)) {
    SamplerSettings s = sampler_ui_;
    int scheme = static_cast<int>(s.scheme);
    ImGui::Combo("ODE method", &scheme, kSchemes, 3);
    s.scheme = static_cast<OdeScheme>(scheme);
    ImGui::InputInt("steps N", &s.steps, 0);
    s.steps = std::clamp(s.steps, s.refine + 1, 20000);
    ImGui::InputInt("particles", &s.particles, 0);
    s.particles = std::clamp(s.particles, 10, 50000);
    ImGui::Checkbox("shared prior draws", &s.shared_prior);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("ODE and SDE start from the same noise samples");
    int metric = static_cast<int>(s.metric);
    ImGui::Combo("W2 metric", &metric, kMetrics, 3);
    s.metric = static_cast<W2Metric>(metric);
    help_marker(kTipW2);
    if (s.metric == W2Metric::Exact) {
      ImGui::InputInt("W2 points", &s.w2_max_points, 0);
      s.w2_max_points = std::clamp(s.w2_max_points, 50, 20000);
    }
    ImGui::SliderFloat("anim. seconds", &anim_seconds_, 0.5f, 20.f, "%.1f");
    s.min_pass_seconds = anim_seconds_ * 0.8;
    const bool changed = s.scheme != sampler_ui_.scheme || s.steps != sampler_ui_.steps ||
                         s.particles != sampler_ui_.particles || s.shared_prior != sampler_ui_.shared_prior ||
                         s.metric != sampler_ui_.metric || s.w2_max_points != sampler_ui_.w2_max_points ||
                         s.min_pass_seconds != sampler_ui_.min_pass_seconds;
    if (changed) {
      sampler_ui_ = s;
      worker_.set_sampler(s);
    }
    if (ImGui::Button("Restart pass")) worker_.restart_pass();
    ImGui::SameLine();
    ImGui::TextDisabled("last pass %.1fs", worker_.last_pass_seconds());
    ImGui::SliderFloat("point size", &point_size_, 1.f, 10.f, "%.1f px");
    ImGui::SliderFloat("point alpha", &point_alpha_, 0.05f, 1.f, "%.2f");
    ImGui::Checkbox("density shading (additive)", &density_shading_);
    ImGui::SliderInt("trajectories (d=1)", &n_traj_, 0, 300);
  }

  if (ImGui::CollapsingHeader("Residual heatmaps")) {
    ResidualSettings r = residual_ui_;
    ImGui::Checkbox("refresh", &r.enabled);
    help_marker(kTipR);
    float period = static_cast<float>(r.period_s);
    ImGui::SliderFloat("every", &period, 0.5f, 30.f, "%.1f s");
    r.period_s = period;
    ImGui::Checkbox("show |R| (sequential)", &show_abs_r_);
    ImGui::TextDisabled("%s", residual_source_name());
    residual_ui_.enabled = r.enabled;
    residual_ui_.period_s = r.period_s;
    worker_.set_residual(residual_ui_);
  }

  section_exports();

  // Messages.
  ImGui::Separator();
  if (!worker_.error().empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "sampler: %s", worker_.error().c_str());
  if (jobs_.busy()) ImGui::TextDisabled("working in the background…");
  const std::size_t first = log_.size() > 6 ? log_.size() - 6 : 0;
  ImGui::PushTextWrapPos(0);
  for (std::size_t i = log_.size(); i-- > first;) {
    if (log_[i].second)
      ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", log_[i].first.c_str());
    else
      ImGui::TextDisabled("%s", log_[i].first.c_str());
  }
  ImGui::PopTextWrapPos();
  ImGui::PopItemWidth();
  ImGui::End();
}

void Lab::export_svg(const std::string& base, const std::string& what) {
  fs::create_directories(fs::path(base));
  fig::Figure f;
  if (what == "w2" || what == "losses") {
    f.panel_width = 420, f.panel_height = 240;
    f.panels.push_back(what == "w2" ? to_figure_panel("W2 gap", w2_series(), w2_spec())
                                    : to_figure_panel("losses", loss_series(), loss_spec()));
  } else {
    if (!shown_ || shown_->ode.empty()) throw std::runtime_error("no particles yet");
    const std::size_t k = shown_->ode.size() - 1;
    f.panel_width = f.panel_height = 300;
    fig::Panel p;
    p.title = "final particles, weights of iteration " + std::to_string(shown_->iteration);
    p.x.min = view_.cx - view_.half;
    p.x.max = view_.cx + view_.half;
    p.y.min = view_.cy - view_.half;
    p.y.max = view_.cy + view_.half;
    const std::pair<const char*, const Points*> clouds[] = {
        {"data", shown_->data.get()}, {"ODE", shown_->ode[k].get()}, {"SDE", shown_->sde[k].get()}};
    const style::Color colors[] = {style::palette::kData, style::palette::kOde, style::palette::kSde};
    for (int c = 0; c < 3; ++c) {
      fig::Cloud cl;
      cl.name = clouds[c].first;
      cl.points = clouds[c].second;
      cl.color = colors[c];
      p.clouds.push_back(std::move(cl));
    }
    f.panels.push_back(std::move(p));
  }
  for (const char* ext : {".png", ".svg", ".pdf"}) fig::write_figure(f, base + what + ext);
  report("wrote " + base + what + ".png, .svg and .pdf");
}

void Lab::export_csv(const std::string& base, const std::string& what) {
  fs::create_directories(fs::path(base));
  if (what == "history") {
    if (!trainer_) throw std::runtime_error("no session");
    trainer_->history().write_csv(base + "history.csv");
    write_w2_csv(base + "w2.csv", *worker_.w2());
    report("wrote " + base + "history.csv and w2.csv");
    return;
  }
  if (!shown_ || shown_->ode.empty()) throw std::runtime_error("no particles yet");
  const std::size_t k = shown_->ode.size() - 1;
  write_points_csv(base + "ode.csv", *shown_->ode[k]);
  write_points_csv(base + "sde.csv", *shown_->sde[k]);
  write_points_csv(base + "data.csv", *shown_->data);
  report("wrote " + base + "{ode,sde,data}.csv (pass with the weights of iteration " +
         std::to_string(shown_->iteration) + ")");
}

void Lab::export_all(const std::string& dir) {
  const std::string base = dir + "/";
  for (const char* w : {"w2", "losses", "particles"}) try {
      export_svg(base, w);
    } catch (const std::exception& e) {
      report(std::string("figure ") + w + ": " + e.what(), true);
    }
  for (const char* w : {"history", "particles"}) try {
      export_csv(base, w);
    } catch (const std::exception& e) {
      report(std::string("CSV ") + w + ": " + e.what(), true);
    }
  shots_.push_back({base + "window.png", ""});
  for (const auto& p : panels_) shots_.push_back({base + "panel-" + p.first + ".png", p.first});
  save_checkpoint(base + "checkpoint");
}

void Lab::section_exports() {
  if (!ImGui::CollapsingHeader("Export & checkpoints")) return;
  input_string("folder", out_dir_);
  auto guarded = [&](const char* what, auto&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      report(std::string(what) + ": " + e.what(), true);
    }
  };
  const std::string base = out_dir_ + "/";
  if (ImGui::Button("PNG window")) shots_.push_back({base + "window-" + stamp() + ".png", ""});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("F12");
  ImGui::SameLine();
  std::vector<std::string> names;
  for (const auto& p : panels_) names.push_back(p.first);
  if (!names.empty()) {
    panel_choice_ = std::clamp(panel_choice_, 0, static_cast<int>(names.size()) - 1);
    if (ImGui::Button("PNG panel")) shots_.push_back({base + names[panel_choice_] + "-" + stamp() + ".png", names[panel_choice_]});
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##panel", names[panel_choice_].c_str())) {
      for (int i = 0; i < static_cast<int>(names.size()); ++i)
        if (ImGui::Selectable(names[i].c_str(), i == panel_choice_)) panel_choice_ = i;
      ImGui::EndCombo();
    }
  }
  if (ImGui::Button("Figure W2")) guarded("figure", [&] { export_svg(base, "w2"); });
  ImGui::SameLine();
  if (ImGui::Button("Figure losses")) guarded("figure", [&] { export_svg(base, "losses"); });
  ImGui::SameLine();
  if (ImGui::Button("Figure particles")) guarded("figure", [&] { export_svg(base, "particles"); });
  if (ImGui::Button("CSV history")) guarded("CSV", [&] { export_csv(base, "history"); });
  ImGui::SameLine();
  if (ImGui::Button("CSV particles")) guarded("CSV", [&] { export_csv(base, "particles"); });
  ImGui::Separator();
  input_string("checkpoint", ckpt_dir_);
  if (ImGui::Button("Save checkpoint")) save_checkpoint(ckpt_dir_);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Ctrl+S");
  ImGui::SameLine();
  if (ImGui::Button("Load checkpoint")) load_checkpoint(ckpt_dir_);
}

}  // namespace gapscope::gui

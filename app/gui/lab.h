#pragma once
// The lab: one experiment session (trainer + worker), the UI state, and the panels.
// Layout is computed from the window size every frame (ImGui 1.86 from Debian has no
// docking branch), so it survives resizes and DPI changes.
#include <cstdint>
#include <atomic>
#include <map>
#include <thread>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <imgui.h>

#include "core/config.h"
#include "jobs.h"
#include "plot_widget.h"
#include "renderer.h"
#include "train/train.h"
#include "worker.h"

namespace gapscope::gui {

void help_marker(const char* text);  // "(?)" with a one-sentence tooltip

// Cloud colours shared by all views (panels.cpp).
extern const ImU32 kOde, kSde, kData;

// The lab's batch sizes when no experiment file is given: the paper's objective and lr
// schedule, on batches small enough that iterations come several times a second on the one
// core the lab gives training (the paper's CPU setting: Config{}.batch_dsm / batch_collocation).
constexpr int kLabBatchDsm = 4000, kLabBatchCollocation = 1000;

struct LabOptions {
  std::string config_path;                 // empty: built-in defaults
  std::string checkpoint;                  // non-empty: resume this checkpoint instead
  std::vector<std::string> sets;           // key=value overrides
  std::vector<std::pair<int64_t, double>> lambda_schedule;  // (iteration, λ), applied once each
  bool start_training = true;
  int particles = 1000;  // per sampler
  int steps = 100;       // sampler N for the live views
  bool show_final = false;  // start with playback parked at t = ε (the newest final clouds)
};

struct PixelRect {  // framebuffer pixels, origin top-left
  int x = 0, y = 0, w = 0, h = 0;
};

class Lab {
 public:
  Lab(const LabOptions& opt, Renderer& renderer);
  ~Lab();
  // Builds the whole UI for one frame (GL work for the views happens here too).
  void frame(float fb_scale_x, float fb_scale_y);

  // Screenshots asked for by the UI (F12, export buttons), served by main after rendering.
  struct ShotRequest {
    std::string path;
    std::string panel;  // empty: whole window
  };
  std::vector<ShotRequest> take_shot_requests() { return std::move(shots_); }
  void report(const std::string& msg, bool error = false);
  // Every export at once (PNG of the window and of each panel, SVGs, CSVs, a checkpoint):
  // what the buttons of the Export section write, for scripts and tests.
  void export_all(const std::string& dir);

  const std::map<std::string, PixelRect>& panels() const { return panels_; }
  std::vector<TrainRow> history() const { return rows_; }
  std::vector<W2Row> w2_rows() const;
  int64_t iteration() const;
  std::string last_error() const { return last_error_; }
  bool ready() const { return trainer_ != nullptr; }
  double last_pass_seconds() const { return worker_.last_pass_seconds(); }

 private:
  // session
  bool reset(const Config& c);  // false: the config was rejected (message shown)
  void adopt(std::shared_ptr<Trainer> t, std::vector<W2Row> w2, const std::string& what);
  void retire(std::shared_ptr<Trainer> t);
  void poll();
  void apply_schedule();
  void save_checkpoint(const std::string& dir);
  void load_checkpoint(const std::string& dir);
  void set_lambda(double v);
  void start_training();

  // panels
  void layout(float W, float H);
  void panel_controls();
  void panel_particles();
  void panel_residual();
  void panel_plots();
  void section_exports();
  void export_svg(const std::string& base, const std::string& what);  // w2 | losses | particles, as .png, .svg, .pdf
  void export_csv(const std::string& base, const std::string& what);  // history | particles
  void shortcuts();
  PassPtr displayed_pass(std::size_t& frame);
  void draw_cloud_view(const char* id, const char* title, ImVec2 p0, ImVec2 size, const Points* pts, ImU32 color,
                       Target& target);
  void draw_density_1d(ImVec2 p0, ImVec2 size, const Pass& pass, std::size_t frame);
  void draw_heatmap(const char* id, const FieldGrid& g, ImVec2 p0, ImVec2 size, Target& target, const Pass* traj,
                    std::size_t frame, const char* caption);
  void record_panel(const std::string& name, ImVec2 p0, ImVec2 size);
  std::vector<Series> w2_series() const;
  std::vector<Series> loss_series() const;
  PlotSpec w2_spec() const;
  PlotSpec loss_spec() const;
  std::vector<Mark> lambda_marks() const;

  Renderer& rr_;
  LabOptions opt_;
  Config cfg_;        // the running session's config
  Config edit_;       // what the controls edit; applied by "Apply (reset)"
  std::string overrides_text_;
  std::shared_ptr<Trainer> trainer_;
  Worker worker_;
  struct Retired {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Retired> graveyard_;  // trainers being stopped off the UI thread
  std::vector<TrainRow> rows_;  // history copy, grown incrementally
  std::size_t schedule_next_ = 0;
  std::vector<std::pair<std::string, bool>> log_;
  std::string last_error_, train_error_seen_;
  std::vector<ShotRequest> shots_;
  std::map<std::string, PixelRect> panels_;
  float fbx_ = 1, fby_ = 1;

  // pending results of background jobs, adopted by the UI thread
  std::mutex pending_m_;
  std::shared_ptr<Trainer> pending_trainer_;
  std::vector<W2Row> pending_w2_;
  std::string pending_what_;

  // UI state
  double lambda_ui_ = 1.0;
  bool lambda_log_ = false;
  float lr_ui_ = 1e-3f;
  SamplerSettings sampler_ui_;
  ResidualSettings residual_ui_;
  View2D view_;
  float point_size_ = 3.0f, point_alpha_ = 0.55f;
  bool density_shading_ = false;
  bool w2_log_ = true, loss_log_ = true, show_abs_r_ = false;
  int n_traj_ = 60;
  // playback
  bool play_ = true, live_ = false;
  float play_pos_ = 0;   // 0..1 of the displayed pass
  double hold_until_ = 0;
  uint64_t shown_pass_ = 0;
  PassPtr shown_;
  float anim_seconds_ = 3.0f;
  double last_time_ = 0;
  // rates
  double rate_t0_ = 0;
  int64_t rate_it0_ = 0;
  double it_per_s_ = 0;
  // export paths
  std::string out_dir_ = "gapscope-out";
  std::string ckpt_dir_ = "gapscope-out/checkpoint";
  int panel_choice_ = 0;
  // views' GL targets
  Target t_ode_, t_sde_, t_data_, t_xt_, t_xy_;
  struct Layout {
    ImVec2 pos, size;
  } l_controls_, l_particles_, l_residual_, l_w2_, l_loss_;
  // Last member, so it is destroyed first: queued jobs (a checkpoint save) finish while
  // everything they touch is still alive.
  Jobs jobs_;
};

}  // namespace gapscope::gui

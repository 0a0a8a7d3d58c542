#pragma once
// The lab's window content: a session, what the views remember between frames, and the
// panels. The layout is computed from the window size every frame (ImGui 1.86 from
// Debian has no docking branch), so it follows resizes and DPI changes.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <imgui.h>

#include "canvas.h"
#include "core/config.h"
#include "playback.h"
#include "renderer.h"
#include "session.h"
#include "session_file.h"

namespace gapscope::gui {

struct PixelRect {  // framebuffer pixels, origin top-left
  int x = 0, y = 0, w = 0, h = 0;
};

struct ShotRequest {  // a PNG of the window (panel empty) or of one recorded panel
  std::string path;
  std::string panel;
};

// Everything the panels remember between frames: editors, display options, playback,
// export paths, and what this frame recorded. No session data.
struct ViewState {
  Config edit;            // the experiment editor, applied by Reset / Apply
  std::string overrides;  // its free "key=value …" words
  // The display options start at ViewSettings' defaults (session_file.h), their one place.
  bool lambda_log = ViewSettings{}.lambda_log;
  // particles
  View2D view;
  float point_size = ViewSettings{}.point_size, point_alpha = ViewSettings{}.point_alpha;
  bool density_shading = ViewSettings{}.density_shading;
  int n_traj = ViewSettings{}.n_traj;  // trajectories over the d = 1 heatmap, per sampler
  Playback playback;
  // residual and plots
  bool show_abs_r = ViewSettings{}.show_abs_r, w2_log = ViewSettings{}.w2_log, loss_log = ViewSettings{}.loss_log;
  // the residual panel's tabs: the ODE density and the step-count sweep
  float density_t = 1e-3f;
  int density_grid = 64, density_ratio = 0;  // ratio: 0 ODE/model, 1 ODE/data, 2 model/data
  int sweep_n = 2000;
  std::string sweep_list = "25,50,100,200,400,800";
  int residual_tab = 0;        // 0 residual, 1 ODE density, 2 step sweep, 3 residual–gap
  int gap_variant = 0;         // the residual–gap tab's x axis: 0 mean R², 1 time-weighted R²_g
  bool select_tab = false;     // select residual_tab in the next frame (the command line's --tab)
  // exports
  std::string out_dir = "gapscope-out", ckpt_dir = "gapscope-out/checkpoint", import_file;
  int panel_choice = 0;
  // data: the drawing canvas, its brush, sessions (view_data.cpp)
  DrawCanvas canvas;
  Brush brush;
  bool drawing = false;
  std::string drawn_csv = "gapscope-out/drawn.csv", session_path = "gapscope-out/session.json", command;
  bool session_weights = true;
  // this frame
  float fb_x = 1, fb_y = 1;  // framebuffer pixels per window unit
  std::map<std::string, PixelRect> panels;
  std::vector<ShotRequest> shots;

  void record_panel(const std::string& name, ImVec2 p0, ImVec2 size);
  void reset_view(const Config& c);  // the particle views' square: the collocation box and a margin
  ExportInput export_view() const;   // the shown pass, the visible square, the log axes
  ViewSettings settings() const;     // what a session file keeps of the views
  void apply(const ViewSettings& v, const Config& c);
  // Starts drawing in dimension d (an empty canvas over the views' square) unless it is on.
  void start_drawing(int d, const Config& c);
};

struct ViewTargets {  // the views' off-screen images
  Target ode, sde, data, xt, xy;
  Target density[4];  // the ODE density tab: p ODE, p model, p data, a log-ratio
};

class Lab {
 public:
  Lab(Session& session, Renderer& renderer, bool show_final, const std::string& tab = "residual");
  // Builds the whole UI for one frame (GL work for the views happens here too).
  void frame(float fb_scale_x, float fb_scale_y);
  // Screenshots asked for by the UI (F12, export buttons), served by the caller after rendering.
  std::vector<ShotRequest> take_shot_requests() { return std::move(ui_.shots); }
  const std::map<std::string, PixelRect>& panels() const { return ui_.panels; }
  // Every export at once (PNG of the window and of each panel, SVGs, CSVs, a checkpoint):
  // what the buttons of the Export section write, for scripts and tests.
  void export_all(const std::string& dir);
  // A saved session's views, applied once its run is set up (after the first frame's reset).
  void restore_view(const ViewSettings& v) { pending_view_ = v; }
  // Strokes painted one point a frame, then trained on (--draw-strokes).
  void script_strokes(std::vector<std::vector<std::pair<float, float>>> strokes, int d);

 private:
  void shortcuts();
  void play_script();
  std::optional<ViewSettings> pending_view_;
  std::vector<std::vector<std::pair<float, float>>> script_;
  std::size_t script_stroke_ = 0, script_point_ = 0;
  int script_dim_ = 2;
  Session& s_;
  Renderer& rr_;
  ViewState ui_;
  ViewTargets targets_;
  uint64_t generation_ = 0;  // the session's generation the view state was set up for
};

}  // namespace gapscope::gui

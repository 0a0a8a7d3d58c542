// gapscope: the desktop lab. Window, ImGui set-up, the frame loop, and the scripted mode
// used by the tests: --frames N --screenshot FILE --report-frames FILE.json.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cfloat>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gl.h"  // before GLFW: core-profile prototypes

#include <CLI/CLI.hpp>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <nlohmann/json.hpp>

#include "io/png.h"
#include "lab.h"
#include "train/lambda_schedule.h"
#include "renderer.h"
#include "worker.h"

using namespace gapscope;
using namespace gapscope::gui;

namespace {

const char* kNoDisplay =
    "gapscope: no display (DISPLAY is not set). Run it under a virtual X server, e.g. "
    "xvfb-run -a -s \"-screen 0 1600x1000x24\" gapscope --frames 300 --screenshot lab.png, "
    "or use the headless CLI: gapscope-cli train --config assets/experiments/circles2.json --out runs/c2";

void glfw_error(int code, const char* msg) { std::fprintf(stderr, "gapscope: GLFW error %d: %s\n", code, msg); }

void load_fonts(float scale) {
  ImGuiIO& io = ImGui::GetIO();
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F,
                                   0x2190, 0x21FF, 0x2200, 0x22FF, 0x25A0, 0x25FF, 0};
  const char* candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                              "/usr/share/fonts/TTF/DejaVuSans.ttf"};
  for (const char* f : candidates)
    if (std::filesystem::exists(f)) {
      ImFontConfig cfg;
      cfg.OversampleH = 2;
      if (io.Fonts->AddFontFromFileTTF(f, std::round(14.f * scale), &cfg, ranges)) return;
    }
  ImFontConfig cfg;
  cfg.SizePixels = std::round(13.f * scale);
  io.Fonts->AddFontDefault(&cfg);  // ASCII only: Greek letters show as '?'
}

void style(float scale) {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 0;
  s.FrameRounding = 3;
  s.WindowBorderSize = 1;
  s.WindowPadding = ImVec2(8, 6);
  s.ItemSpacing = ImVec2(6, 4);
  s.Colors[ImGuiCol_WindowBg] = ImVec4(0.085f, 0.09f, 0.105f, 1);
  s.Colors[ImGuiCol_TitleBg] = ImVec4(0.12f, 0.13f, 0.16f, 1);
  s.Colors[ImGuiCol_TitleBgActive] = ImVec4(0.16f, 0.19f, 0.26f, 1);
  s.ScaleAllSizes(scale);
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::ceil(q * (v.size() - 1)))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gapscope: desktop lab for the ODE/SDE gap of score-based diffusion models"};
  std::string config_path, screenshot, report_path, schedule;
  std::vector<std::string> sets;
  int frames = 0, width = 1600, height = 1000;
  double lambda = 1.0, fps = 30;
  bool paused = false;
  app.add_option("--config", config_path, "experiment JSON (default: the built-in circles2 setting)")->check(CLI::ExistingFile);
  std::string checkpoint, export_dir;
  app.add_option("--export-all", export_dir, "after the last frame, write every export (PNGs, SVGs, CSVs, checkpoint) here");
  app.add_option("--checkpoint", checkpoint, "resume a checkpoint directory (gapscope-cli train --out, or Ctrl+S)");
  app.add_option("--set", sets, "override a config key, key=value (repeatable); wins over --lambda");
  app.add_option("--lambda", lambda, "initial λ (the lab's default is 1; a config file's lambda is replaced by it)");
  app.add_option("--lambda-schedule", schedule, "set λ at given iterations: \"it:λ,it:λ\"");
  app.add_option("--frames", frames, "run this many frames, then exit (0: until the window closes)");
  app.add_option("--screenshot", screenshot, "write a PNG of the window after the last frame");
  app.add_option("--report-frames", report_path, "write per-frame times, panel rectangles and the λ history as JSON");
  app.add_option("--size", width, "window width")->check(CLI::Range(400, 8000));
  app.add_option("--height", height, "window height")->check(CLI::Range(300, 8000));
  app.add_option("--fps", fps, "frame-rate cap (software GL is costly: the cap leaves the cores to training)")->check(CLI::Range(5.0, 1000.0));
  app.add_flag("--paused", paused, "open with training paused");
  bool show_final = false;
  app.add_flag("--show-final", show_final, "park the particle playback at t = eps: the newest pass's final clouds");
  int particles = 1000, steps = 100;
  app.add_option("--particles", particles, "particles per sampler (the Sampler panel changes it live)")
      ->check(CLI::Range(10, 50000));
  app.add_option("--steps", steps,
                 "sampler steps N for the live views (lighter than the paper's 400 so that a pass takes seconds; the last 10 are refined ten-fold as in the paper)")
      ->check(CLI::Range(11, 20000));
  LabOptions opt;
  try {
    app.parse(argc, argv);
    try {
      opt.lambda_schedule = parse_lambda_schedule(schedule);
    } catch (const std::invalid_argument& e) {
      throw CLI::ValidationError("--lambda-schedule", e.what());
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  opt.config_path = config_path;
  opt.checkpoint = checkpoint;
  // The lab's default λ is 1 (the paper's baseline files say 0); with --checkpoint the
  // checkpoint's λ stands unless --lambda or --set lambda=... is given.
  if (checkpoint.empty() || app.count("--lambda")) opt.sets.push_back("lambda=" + std::to_string(lambda));
  opt.sets.insert(opt.sets.end(), sets.begin(), sets.end());
  opt.start_training = !paused;
  opt.particles = particles;
  opt.show_final = show_final;
  opt.steps = steps;

  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) {
    std::fprintf(stderr, "%s\n", kNoDisplay);
    return 2;
  }
  // Three busy threads share the cores: UI, training (A), sampling/metrics (B).
  limit_compute_threads(1);

  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) {
    std::fprintf(stderr, "%s\n", kNoDisplay);
    return 2;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GL_TRUE);
  glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
  GLFWwindow* win = glfwCreateWindow(width, height, "gapscope — ODE/SDE gap lab", nullptr, nullptr);
  if (!win) {
    std::fprintf(stderr, "gapscope: cannot create an OpenGL 3.3 core window on this display\n");
    glfwTerminate();
    return 2;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(frames > 0 ? 0 : 1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  float xs = 1, ys = 1;
  glfwGetWindowContentScale(win, &xs, &ys);
  const float scale = std::clamp(std::max(xs, ys), 1.0f, 4.0f);
  load_fonts(scale);
  style(scale);
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  Renderer renderer;
  std::string err;
  if (!renderer.init(find_shader_dir(argv[0]), err)) {
    std::fprintf(stderr, "gapscope: %s\n", err.c_str());
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(win);
    glfwTerminate();
    return 1;
  }

  int rc = 0;
  std::vector<double> frame_ms, interval_ms, ui_ms, gl_ms;
  std::map<std::string, PixelRect> panels;
  std::vector<TrainRow> rows;
  std::vector<W2Row> w2;
  int64_t final_iteration = 0;
  double pass_seconds = 0;
  int last_vtx = 0, last_cmds = 0;
  {
    Lab lab(opt, renderer);
    using Clock = std::chrono::steady_clock;
    auto prev = Clock::now();
    const auto period = std::chrono::duration<double>(1.0 / fps);
    for (int f = 0; !glfwWindowShouldClose(win) && (frames <= 0 || f < frames); ++f) {
      const auto t0 = Clock::now();
      glfwPollEvents();
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      // Scripted runs ignore the (virtual) pointer, so no tooltip lands in a screenshot.
      if (frames > 0) io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
      ImGui::NewFrame();
      lab.frame(io.DisplayFramebufferScale.x, io.DisplayFramebufferScale.y);
      ImGui::Render();
      const auto tu = Clock::now();
      int fw = 0, fh = 0;
      glfwGetFramebufferSize(win, &fw, &fh);
      glBindFramebuffer(GL_FRAMEBUFFER, 0);
      glViewport(0, 0, fw, fh);
      // The panels have no backgrounds of their own (software GL is fill-rate bound): the
      // clear colour is the window background.
      glClearColor(0.085f, 0.09f, 0.105f, 1);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      {
        const ImDrawData* dd = ImGui::GetDrawData();
        last_vtx = dd->TotalVtxCount;
        last_cmds = 0;
        for (int l = 0; l < dd->CmdListsCount; ++l) last_cmds += dd->CmdLists[l]->CmdBuffer.Size;
      }
      glFinish();
      const auto tg = Clock::now();
      if (frames > 0 && f == frames - 1 && !export_dir.empty()) lab.export_all(export_dir);
      auto shots = lab.take_shot_requests();
      if (frames > 0 && f == frames - 1 && !screenshot.empty()) shots.push_back({screenshot, ""});
      for (const auto& s : shots) {
        PixelRect r{0, 0, fw, fh};
        if (!s.panel.empty()) {
          auto it = lab.panels().find(s.panel);
          if (it != lab.panels().end()) r = it->second;
        }
        r.w = std::min(r.w, fw - r.x);
        r.h = std::min(r.h, fh - r.y);
        glReadBuffer(GL_BACK);
        const auto px = read_pixels(r.x, r.y, r.w, r.h, fh);
        try {
          const std::filesystem::path p(s.path);
          if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
          gapscope::write_png(s.path, r.w, r.h, px, /*flip_y=*/true);
          lab.report("wrote " + s.path);
        } catch (const std::exception& e) {
          lab.report(std::string("screenshot: ") + e.what(), true);
          if (s.path == screenshot) rc = 1;
        }
      }
      glfwSwapBuffers(win);
      const auto t1 = Clock::now();
      // Frame time: from the start of the frame until it is presented (the idle wait of the
      // frame-rate cap is not part of it; interval_ms has the full frame-to-frame period).
      frame_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      ui_ms.push_back(std::chrono::duration<double, std::milli>(tu - t0).count());
      gl_ms.push_back(std::chrono::duration<double, std::milli>(tg - tu).count());
      if (t1 - t0 < period) std::this_thread::sleep_for(period - (t1 - t0));
      const auto t2 = Clock::now();
      if (f > 0) interval_ms.push_back(std::chrono::duration<double, std::milli>(t2 - prev).count());
      prev = t2;
    }
    panels = lab.panels();
    rows = lab.history();
    w2 = lab.w2_rows();
    final_iteration = lab.iteration();
    pass_seconds = lab.last_pass_seconds();
  }  // the lab stops training and sampling here

  if (!report_path.empty()) {
    nlohmann::json j;
    j["frame_ms"] = frame_ms;
    j["interval_ms"] = interval_ms;
    j["fps_cap"] = fps;
    j["frame_ms_p95"] = percentile(frame_ms, 0.95);
    j["interval_ms_p95"] = percentile(interval_ms, 0.95);
    j["ui_ms_p95"] = percentile(ui_ms, 0.95);  // building the UI (panels, views' GL commands)
    j["gl_ms_p95"] = percentile(gl_ms, 0.95);  // drawing it (to glFinish)
    j["framebuffer"] = {{"scale", io.DisplayFramebufferScale.x}};
    nlohmann::json pj = nlohmann::json::object();
    for (const auto& [name, r] : panels) pj[name] = {r.x, r.y, r.w, r.h};
    j["panels"] = pj;
    std::vector<double> seen;
    for (const auto& r : rows)
      if (seen.empty() || seen.back() != r.lambda) seen.push_back(r.lambda);
    j["lambda_seen"] = seen;
    j["iterations"] = final_iteration;
    j["w2_rows"] = w2.size();
    j["last_pass_seconds"] = pass_seconds;
    j["draw"] = {{"vertices", last_vtx}, {"commands", last_cmds}};
    if (!w2.empty()) {
      j["w2_last"] = {w2.back().iteration, w2.back().ode_sde, w2.back().ode_data, w2.back().sde_data};
      // The escapees of each pass (share outside [-4, 4]^2), ODE then SDE, in pass order.
      nlohmann::json outside = nlohmann::json::array();
      for (const auto& r : w2) outside.push_back({r.iteration, r.outside_ode, r.outside_sde});
      j["w2_outside"] = outside;
    }
    std::ofstream out(report_path);
    out << j.dump(1) << "\n";
    if (!out) {
      std::fprintf(stderr, "gapscope: cannot write %s\n", report_path.c_str());
      rc = 1;
    }
  }
  renderer.shutdown();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return rc;
}

#include "window.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "gl.h"  // before GLFW: core-profile prototypes

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include "core/atomic_file.h"
#include "io/png.h"

namespace gapscope::gui {

const char* const kNoDisplay =
    "no display (DISPLAY is not set). Run it under a virtual X server, e.g. "
    "xvfb-run -a -s \"-screen 0 1600x1000x24\" gapscope --frames 300 --screenshot lab.png, "
    "or use the headless CLI: gapscope-cli train --config assets/experiments/circles2.json --out runs/c2";

namespace {

constexpr float kBackground[4] = {0.085f, 0.09f, 0.105f, 1};  // the panels have none of their own

void glfw_error(int code, const char* msg) { std::fprintf(stderr, "gapscope: GLFW error %d: %s\n", code, msg); }

void load_fonts(float scale) {
  ImGuiIO& io = ImGui::GetIO();
  // Latin-1, Greek, punctuation, super/subscripts, arrows, maths, shapes.
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F,
                                   0x2190, 0x21FF, 0x2200, 0x22FF, 0x25A0, 0x25FF, 0};
  for (const char* f : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"})
    if (std::filesystem::exists(f)) {
      ImFontConfig cfg;
      cfg.OversampleH = 2;
      if (io.Fonts->AddFontFromFileTTF(f, std::round(14.f * scale), &cfg, ranges)) return;
    }
  ImFontConfig cfg;
  cfg.SizePixels = std::round(13.f * scale);
  io.Fonts->AddFontDefault(&cfg);  // ASCII only: Greek letters show as '?'
}

void lab_style(float scale) {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 0;
  s.FrameRounding = 3;
  s.WindowBorderSize = 1;
  s.WindowPadding = ImVec2(8, 6);
  s.ItemSpacing = ImVec2(6, 4);
  s.Colors[ImGuiCol_WindowBg] = ImVec4(kBackground[0], kBackground[1], kBackground[2], kBackground[3]);
  s.Colors[ImGuiCol_TitleBg] = ImVec4(0.12f, 0.13f, 0.16f, 1);
  s.Colors[ImGuiCol_TitleBgActive] = ImVec4(0.16f, 0.19f, 0.26f, 1);
  s.ScaleAllSizes(scale);
}

}  // namespace

bool has_display() { return std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY"); }

bool Window::open(int width, int height, bool scripted, std::string& error) {
  scripted_ = scripted;
  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) {
    error = kNoDisplay;
    return false;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GL_TRUE);
  glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
  win_ = glfwCreateWindow(width, height, "gapscope — ODE/SDE gap lab", nullptr, nullptr);
  if (!win_) {
    error = "cannot create an OpenGL 3.3 core window on this display";
    return false;
  }
  glfwMakeContextCurrent(win_);
  glfwSwapInterval(scripted ? 0 : 1);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  imgui_ = true;
  ImGui::GetIO().IniFilename = nullptr;
  float xs = 1, ys = 1;
  glfwGetWindowContentScale(win_, &xs, &ys);
  const float scale = std::clamp(std::max(xs, ys), 1.0f, 4.0f);
  load_fonts(scale);
  lab_style(scale);
  ImGui_ImplGlfw_InitForOpenGL(win_, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  return true;
}

Window::~Window() {
  if (imgui_) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  if (win_) glfwDestroyWindow(win_);
  glfwTerminate();
}

bool Window::should_close() const { return glfwWindowShouldClose(win_); }

void Window::begin_frame() {
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  if (scripted_) ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  ImGui::NewFrame();
}

void Window::render() {
  ImGui::Render();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(win_, &fw, &fh);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glViewport(0, 0, fw, fh);
  glClearColor(kBackground[0], kBackground[1], kBackground[2], kBackground[3]);
  glClear(GL_COLOR_BUFFER_BIT);
  const ImDrawData* dd = ImGui::GetDrawData();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  vertices_ = dd->TotalVtxCount;
  commands_ = 0;
  for (int l = 0; l < dd->CmdListsCount; ++l) commands_ += dd->CmdLists[l]->CmdBuffer.Size;
  glFinish();
}

void Window::present() { glfwSwapBuffers(win_); }

float Window::fb_scale_x() const { return ImGui::GetIO().DisplayFramebufferScale.x; }
float Window::fb_scale_y() const { return ImGui::GetIO().DisplayFramebufferScale.y; }

void Window::write_png(const std::string& path, const PixelRect* rect) const {
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(win_, &fw, &fh);
  PixelRect r = rect ? *rect : PixelRect{0, 0, fw, fh};
  r.w = std::min(r.w, fw - r.x);
  r.h = std::min(r.h, fh - r.y);
  glReadBuffer(GL_BACK);
  const auto px = read_pixels(r.x, r.y, r.w, r.h, fh);
  const std::filesystem::path p(path);
  if (p.has_parent_path()) gapscope::make_directories(p.parent_path().string());
  gapscope::write_png(path, r.w, r.h, px, /*flip_y=*/true);
}

bool serve_shots(const Window& w, const std::map<std::string, PixelRect>& panels, Session& s,
                 const std::vector<ShotRequest>& shots) {
  bool ok = true;
  for (const auto& shot : shots) {
    const auto it = shot.panel.empty() ? panels.end() : panels.find(shot.panel);
    try {
      w.write_png(shot.path, it == panels.end() ? nullptr : &it->second);
      s.report("wrote " + shot.path);
    } catch (const std::exception& e) {
      s.report("screenshot: " + first_line(e.what()), true);
      ok = false;
    }
  }
  return ok;
}

}  // namespace gapscope::gui

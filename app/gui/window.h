#pragma once
// The lab's window: GLFW with an OpenGL 3.3 core context, Dear ImGui on it (fonts at the
// monitor's content scale, the lab's dark style), the frame's begin / render / present,
// and PNGs of what was rendered.
#include <map>
#include <string>
#include <vector>

#include "lab.h"

struct GLFWwindow;

namespace gapscope::gui {

// What to do without a display, in one line (after "gapscope: ").
extern const char* const kNoDisplay;
bool has_display();  // DISPLAY or WAYLAND_DISPLAY is set

class Window {
 public:
  Window() = default;
  ~Window();  // shuts ImGui and GLFW down
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  // scripted: no vsync, and the (virtual) pointer is kept off the window so that no
  // tooltip lands in a screenshot. On failure: false and a one-line reason.
  // Call once; the destructor cleans up after a failed open too.
  bool open(int width, int height, bool scripted, std::string& error);
  bool should_close() const;
  void begin_frame();  // events, then a new ImGui frame
  void render();       // clears to the background, draws ImGui's lists, waits for the GPU
  void present();
  float fb_scale_x() const;  // framebuffer pixels per window unit
  float fb_scale_y() const;
  int vertices() const { return vertices_; }  // of the last render
  int commands() const { return commands_; }
  // PNG of the last rendered frame (call before present): the whole window, or `rect`
  // clipped to it. Throws naming the file.
  void write_png(const std::string& path, const PixelRect* rect) const;

 private:
  GLFWwindow* win_ = nullptr;
  bool scripted_ = false, imgui_ = false;
  int vertices_ = 0, commands_ = 0;
};

// Writes the requested PNGs (a panel by its recorded name) and logs each in the session;
// false when any failed.
bool serve_shots(const Window& w, const std::map<std::string, PixelRect>& panels, Session& s,
                 const std::vector<ShotRequest>& shots);

}  // namespace gapscope::gui

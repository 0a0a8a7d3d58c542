#pragma once
// GPU side of the views: shader programs from shaders/, off-screen targets that panels
// show as ImGui images, point clouds, and scalar fields coloured by the style's colour
// maps (uploaded once as a lookup texture). GL calls happen on the UI thread only,
// between ImGui::NewFrame and ImGui::Render.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "gl.h"
#include "style/colormap.h"

namespace gapscope::gui {

// Hash-combines the values that determine a view's pixels.
inline uint64_t content_key(std::initializer_list<uint64_t> parts) {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t p : parts) h = (h ^ p) * 1099511628211ull + 0x9e3779b97f4a7c15ull;
  return h | 1;  // never 0, the key of an empty target
}
inline uint64_t bits(float f) {
  uint32_t u;
  static_assert(sizeof u == sizeof f);
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
}

// Finds the shader directory: $GAPSCOPE_SHADERS, <exe>/../shaders, <exe>/../share/gapscope/shaders,
// <exe>/shaders, then the source tree. Empty string when none holds points.vert.
std::string find_shader_dir(const std::string& exe_path);

struct View2D {  // world -> target: centre and half-extent of the visible square
  float cx = 0, cy = 0, half = 3.0f;
};

struct Target {  // an FBO with one RGBA8 colour texture
  GLuint fbo = 0, tex = 0;
  int w = 0, h = 0;
  uint64_t content = 0;  // what it holds (a hash by the caller): unchanged content is not redrawn
  void resize(int w, int h);
  void bind_clear(float r, float g, float b, float a) const;
  void release();
};

class Renderer {
 public:
  // Compiles the programs and uploads style::colormap_lut(256) as a 256 x 2 RGBA8 texture
  // (row = map); returns false with a message when a shader is missing or broken.
  bool init(const std::string& shader_dir, std::string& error);
  void shutdown();

  // Points (n x d floats, d = 2) into the currently bound target.
  void draw_points(const std::vector<float>& xy, int d, const View2D& view, int target_w, int target_h, float size_px,
                   const float rgba[4], bool additive);
  // A scalar field (nx x ny, row-major, j along y) into the currently bound target, colormapped
  // with value range [vmin, vmax] (diverging: centred at 0 with |v| <= vmax).
  void draw_field(const std::vector<float>& v, int nx, int ny, style::Colormap map, float vmin, float vmax,
                  bool abs_value);

 private:
  GLuint prog_points_ = 0, prog_field_ = 0;
  GLuint vao_ = 0, vbo_ = 0, quad_vao_ = 0, field_tex_ = 0, lut_tex_ = 0;
  std::size_t vbo_cap_ = 0;
};

// Reads a rectangle of the current read framebuffer (x, y from the top-left) as RGBA8 in
// OpenGL's order (bottom row first): hand it to the engine's write_png with flip_y.
std::vector<unsigned char> read_pixels(int x, int y, int w, int h, int fb_h);

}  // namespace gapscope::gui

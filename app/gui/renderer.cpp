#include "renderer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>


namespace gapscope::gui {
namespace fs = std::filesystem;

std::string find_shader_dir(const std::string& exe_path) {
  std::vector<fs::path> c;
  if (const char* e = std::getenv("GAPSCOPE_SHADERS")) c.emplace_back(e);
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(exe_path, ec);
  const fs::path dir = exe.parent_path();
  c.push_back(dir / ".." / "shaders");
  c.push_back(dir / ".." / "share" / "gapscope" / "shaders");
  c.push_back(dir / "shaders");
#ifdef GAPSCOPE_SHADER_DIR
  c.emplace_back(GAPSCOPE_SHADER_DIR);
#endif
  for (const auto& p : c)
    if (fs::exists(p / "points.vert", ec)) return fs::weakly_canonical(p, ec).string();
  return {};
}

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  if (!f) throw std::runtime_error("cannot read shader " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

GLuint compile(GLenum type, const fs::path& p) {
  const std::string src = slurp(p);
  const char* s = src.c_str();
  GLuint sh = glCreateShader(type);
  glShaderSource(sh, 1, &s, nullptr);
  glCompileShader(sh);
  GLint ok = 0;
  glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[2048];
    glGetShaderInfoLog(sh, sizeof log, nullptr, log);
    glDeleteShader(sh);
    throw std::runtime_error(p.filename().string() + ": " + log);
  }
  return sh;
}

GLuint program(const fs::path& vs, const fs::path& fsh) {
  GLuint v = compile(GL_VERTEX_SHADER, vs), f = compile(GL_FRAGMENT_SHADER, fsh);
  GLuint p = glCreateProgram();
  glAttachShader(p, v);
  glAttachShader(p, f);
  glLinkProgram(p);
  glDeleteShader(v);
  glDeleteShader(f);
  GLint ok = 0;
  glGetProgramiv(p, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[2048];
    glGetProgramInfoLog(p, sizeof log, nullptr, log);
    throw std::runtime_error("link " + vs.filename().string() + ": " + log);
  }
  return p;
}

// A new texture, bound, with linear filtering and clamped edges.
GLuint linear_texture() {
  GLuint t = 0;
  glGenTextures(1, &t);
  glBindTexture(GL_TEXTURE_2D, t);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  return t;
}

}  // namespace

void Target::resize(int nw, int nh) {
  nw = std::max(nw, 1);
  nh = std::max(nh, 1);
  if (fbo && nw == w && nh == h) return;
  if (!fbo) {
    glGenFramebuffers(1, &fbo);
    tex = linear_texture();
  }
  w = nw;
  h = nh;
  content = 0;
  glBindTexture(GL_TEXTURE_2D, tex);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex, 0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void Target::bind_clear(float r, float g, float b, float a) const {
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glViewport(0, 0, w, h);
  glDisable(GL_SCISSOR_TEST);
  glClearColor(r, g, b, a);
  glClear(GL_COLOR_BUFFER_BIT);
}

void Target::release() {
  if (tex) glDeleteTextures(1, &tex);
  if (fbo) glDeleteFramebuffers(1, &fbo);
  fbo = tex = 0;
  w = h = 0;
}

bool Renderer::init(const std::string& dir, std::string& error) {
  if (dir.empty()) {
    error = "shaders not found: looked in $GAPSCOPE_SHADERS, <exe>/../shaders, <exe>/../share/gapscope/shaders"
#ifdef GAPSCOPE_SHADER_DIR
            " and " GAPSCOPE_SHADER_DIR
#endif
            "; set GAPSCOPE_SHADERS=/path/to/gapscope/shaders";
    return false;
  }
  try {
    const fs::path d(dir);
    prog_points_ = program(d / "points.vert", d / "points.frag");
    prog_field_ = program(d / "heatmap.vert", d / "heatmap.frag");
  } catch (const std::exception& e) {
    error = std::string("shader error in ") + dir + ": " + e.what();
    return false;
  }
  glGenVertexArrays(1, &vao_);
  glGenBuffers(1, &vbo_);
  glGenVertexArrays(1, &quad_vao_);
  field_tex_ = linear_texture();
  lut_tex_ = linear_texture();
  constexpr int kLutWidth = 256;
  const std::vector<unsigned char> lut = style::colormap_lut(kLutWidth);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, kLutWidth, style::kColormapCount, 0, GL_RGBA, GL_UNSIGNED_BYTE, lut.data());
  return true;
}

void Renderer::shutdown() {
  if (prog_points_) glDeleteProgram(prog_points_);
  if (prog_field_) glDeleteProgram(prog_field_);
  if (vbo_) glDeleteBuffers(1, &vbo_);
  if (vao_) glDeleteVertexArrays(1, &vao_);
  if (quad_vao_) glDeleteVertexArrays(1, &quad_vao_);
  if (field_tex_) glDeleteTextures(1, &field_tex_);
  if (lut_tex_) glDeleteTextures(1, &lut_tex_);
  prog_points_ = prog_field_ = vbo_ = vao_ = quad_vao_ = field_tex_ = lut_tex_ = 0;
}

void Renderer::draw_points(const std::vector<float>& xy, int d, const View2D& view, int tw, int th, float size_px,
                           const float rgba[4], bool additive) {
  if (d != 2 || xy.empty()) return;
  const std::size_t n = xy.size() / 2;
  glBindVertexArray(vao_);
  glBindBuffer(GL_ARRAY_BUFFER, vbo_);
  const std::size_t bytes = xy.size() * sizeof(float);
  if (bytes > vbo_cap_) {
    vbo_cap_ = bytes * 2;
    glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(vbo_cap_), nullptr, GL_STREAM_DRAW);
  }
  glBufferSubData(GL_ARRAY_BUFFER, 0, static_cast<GLsizeiptr>(bytes), xy.data());
  glEnableVertexAttribArray(0);
  glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 2 * sizeof(float), nullptr);
  glUseProgram(prog_points_);
  const float aspect = static_cast<float>(tw) / std::max(th, 1);
  // The square view fits the shorter side.
  float sx = 1.f / view.half, sy = 1.f / view.half;
  if (aspect > 1) sx /= aspect; else sy *= aspect;
  glUniform2f(glGetUniformLocation(prog_points_, "u_center"), view.cx, view.cy);
  glUniform2f(glGetUniformLocation(prog_points_, "u_scale"), sx, sy);
  glUniform1f(glGetUniformLocation(prog_points_, "u_size"), size_px);
  glUniform4f(glGetUniformLocation(prog_points_, "u_color"), rgba[0], rgba[1], rgba[2], rgba[3]);
  glEnable(GL_PROGRAM_POINT_SIZE);
  glEnable(GL_BLEND);
  glBlendEquation(GL_FUNC_ADD);
  if (additive)
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE, GL_ONE, GL_ONE);
  else
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
  glDrawArrays(GL_POINTS, 0, static_cast<GLsizei>(n));
  glDisable(GL_BLEND);
  glBindVertexArray(0);
}

void Renderer::draw_field(const std::vector<float>& v, int nx, int ny, style::Colormap map, float vmin, float vmax,
                          bool abs_value) {
  if (v.empty() || nx < 2 || ny < 2) return;
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, lut_tex_);
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, field_tex_);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, nx, ny, 0, GL_RED, GL_FLOAT, v.data());
  glUseProgram(prog_field_);
  glUniform1i(glGetUniformLocation(prog_field_, "u_field"), 0);
  glUniform1i(glGetUniformLocation(prog_field_, "u_lut"), 1);
  glUniform1i(glGetUniformLocation(prog_field_, "u_map"), static_cast<int>(map));
  glUniform1i(glGetUniformLocation(prog_field_, "u_maps"), style::kColormapCount);
  glUniform1i(glGetUniformLocation(prog_field_, "u_abs"), abs_value ? 1 : 0);
  glUniform1f(glGetUniformLocation(prog_field_, "u_vmin"), vmin);
  glUniform1f(glGetUniformLocation(prog_field_, "u_vmax"), vmax);
  glDisable(GL_BLEND);
  glBindVertexArray(quad_vao_);
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray(0);
}

std::vector<unsigned char> read_pixels(int x, int y, int w, int h, int fb_h) {
  std::vector<unsigned char> px(static_cast<std::size_t>(std::max(w, 0)) * std::max(h, 0) * 4);
  if (w <= 0 || h <= 0) return px;
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(x, fb_h - y - h, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  for (std::size_t i = 3; i < px.size(); i += 4) px[i] = 255;  // the window is opaque
  return px;
}

}  // namespace gapscope::gui

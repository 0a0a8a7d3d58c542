#pragma once
// Figure writers shared by the CLI and the GUI: PNG files, a small software raster
// (an RGBA canvas with alpha-blended points, rectangles, lines and a built-in 5x7 font
// for labels) and an SVG builder for line plots and scatter plots. No torch, no GUI
// library: the GUI hands its own pixels to write_png, the CLI draws with Image.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/points.h"

namespace gapscope {

// ---- PNG -------------------------------------------------------------------------
// 8-bit RGBA, row-major, `width * height * 4` bytes, first row at the top (pass
// flip_y = true for OpenGL read-backs, whose first row is the bottom one).
// Throws std::runtime_error naming the file when it cannot be written.
void write_png(const std::string& path, int width, int height, const std::uint8_t* rgba, bool flip_y = false);
void write_png(const std::string& path, int width, int height, const std::vector<std::uint8_t>& rgba,
               bool flip_y = false);

// ---- raster --------------------------------------------------------------------------
struct Rgba {
  std::uint8_t r = 0, g = 0, b = 0, a = 255;
};
constexpr Rgba kWhite{255, 255, 255, 255};
constexpr Rgba kBlack{0, 0, 0, 255};
// The two sampler colours used in every figure (the GUI uses the same pair).
constexpr Rgba kOdeColor{31, 119, 180, 255};   // blue
constexpr Rgba kSdeColor{214, 39, 40, 255};    // red
constexpr Rgba kDataColor{90, 90, 90, 255};    // grey

class Image {
 public:
  Image() = default;
  Image(int width, int height, Rgba background = kWhite);
  int width() const { return w_; }
  int height() const { return h_; }
  const std::vector<std::uint8_t>& rgba() const { return px_; }
  Rgba at(int x, int y) const;  // (x, y) must be inside

  // "Over" compositing of c (with its alpha) onto the pixel; outside pixels are ignored.
  void blend(int x, int y, Rgba c);
  void set(int x, int y, Rgba c);  // overwrite, no blending
  void fill_rect(int x0, int y0, int x1, int y1, Rgba c);     // inclusive corners, any order, blended
  void rect_outline(int x0, int y0, int x1, int y1, Rgba c);  // 1-pixel border
  void line(int x0, int y0, int x1, int y1, Rgba c);          // Bresenham, 1 pixel wide
  void dot(int x, int y, Rgba c, int radius = 0);             // a filled disc (radius 0: one pixel)
  // Built-in 5x7 font: digits, letters (lower case drawn as upper case), space and
  // . , - + = : / ( ) _ % < > and the UTF-8 letter λ; anything else draws a box.
  // (x, y) is the top-left corner; each glyph is 6*scale wide, 7*scale tall.
  void text(int x, int y, const std::string& s, Rgba c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static int text_height(int scale = 1) { return 7 * scale; }
  void blit(const Image& src, int x, int y);  // src composited over this at (x, y)
  void save_png(const std::string& path) const { write_png(path, w_, h_, px_); }

 private:
  int w_ = 0, h_ = 0;
  std::vector<std::uint8_t> px_;
};

// Maps the data rectangle [x0, x1] x [y0, y1] onto the pixel rectangle with top-left
// (px, py), size pw x ph; y grows upwards in data, downwards in pixels.
struct Viewport {
  double x0 = -4, x1 = 4, y0 = -4, y1 = 4;
  int px = 0, py = 0, pw = 100, ph = 100;
  double to_px(double x) const { return px + (x - x0) / (x1 - x0) * pw; }
  double to_py(double y) const { return py + (y1 - y) / (y1 - y0) * ph; }
};

// One alpha-blended dot per point (at most max_points, evenly strided). d = 1 clouds
// are drawn as a histogram of the first coordinate instead (bars over the viewport).
void draw_scatter(Image& img, const Points& p, const Viewport& vp, Rgba c, int radius = 0,
                  std::size_t max_points = 200000);
// Density image: points are binned into the viewport's pixels; each pixel is c blended
// with opacity sqrt(count / c98) clamped to [0.25, 1], c98 the 98th percentile of
// the occupied pixels' counts, so millions of points stay readable. d = 1:
// a histogram, as draw_scatter.
void draw_density(Image& img, const Points& p, const Viewport& vp, Rgba c);

// ---- SVG ------------------------------------------------------------------------------
// Escapes & < > " ' for text and attribute values.
std::string xml_escape(const std::string& s);
// Compact number formatting for labels: up to `digits` significant digits, no
// trailing zeros ("0.1", "2.5e-05", "1000").
std::string fmt_num(double v, int digits = 4);
// Tick positions: "nice" (1, 2, 5 x 10^k) values covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// A minimal SVG document: elements are appended in drawing order.
class Svg {
 public:
  Svg(double width, double height);
  double width() const { return w_; }
  double height() const { return h_; }
  // colour: any SVG colour ("#1f77b4", "black"); opacity in [0, 1].
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke = "none",
            double opacity = 1.0);
  void line(double x0, double y0, double x1, double y1, const std::string& stroke, double width = 1.0,
            const std::string& dash = "");
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys, const std::string& stroke,
                double width = 1.5, const std::string& dash = "");
  void circle(double cx, double cy, double r, const std::string& fill, double opacity = 1.0);
  // anchor: start|middle|end.
  void text(double x, double y, const std::string& s, double size = 12, const std::string& anchor = "start",
            const std::string& fill = "black", bool bold = false, double rotate = 0);
  void raw(const std::string& element);  // appended verbatim
  std::string str() const;
  void save(const std::string& path) const;  // throws std::runtime_error naming the file

 private:
  double w_, h_;
  std::string body_;
};
std::string svg_color(Rgba c);  // "#rrggbb"

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string color;  // empty: taken from the default palette by index
  bool markers = false;
  std::string dash;  // e.g. "4,3"
};

struct LinePlot {
  std::string title, xlabel, ylabel;
  bool log_y = false;  // non-positive y values are skipped on a log axis
  bool legend = true;
  std::vector<Series> series;
  // Draws into an existing document within the rectangle (x, y, w, h).
  void draw(Svg& svg, double x, double y, double w, double h) const;
  std::string svg(double width = 640, double height = 400) const;
};

struct ScatterCloud {
  std::string name;
  const Points* points = nullptr;  // not owned; d = 2 (d = 1 is drawn as a histogram outline)
  std::string color;
  double radius = 1.2, opacity = 0.35;
  std::size_t max_points = 4000;  // evenly strided subsample: SVGs stay small
};

struct ScatterPlot {
  std::string title;
  double x0 = -4, x1 = 4, y0 = -4, y1 = 4;  // data range (clipped)
  bool axes = true, legend = true;
  std::vector<ScatterCloud> clouds;
  void draw(Svg& svg, double x, double y, double w, double h) const;
  std::string svg(double width = 400, double height = 400) const;
};

}  // namespace gapscope

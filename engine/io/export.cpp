#include "io/export.h"

// Debian's libstb0 ships a compiled libstb.so, but linking it needs a CMake change;
// a private (static) copy of the writer keeps this file self-contained and cannot
// clash with any other copy of stb in the program (e.g. the GUI's).
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gapscope {

// ---- PNG -------------------------------------------------------------------------

void write_png(const std::string& path, int width, int height, const std::uint8_t* rgba, bool flip_y) {
  if (width <= 0 || height <= 0 || !rgba)
    throw std::invalid_argument("write_png " + path + ": empty image (" + std::to_string(width) + "x" +
                                std::to_string(height) + ")");
  const std::uint8_t* data = rgba;
  std::vector<std::uint8_t> flipped;
  const std::size_t stride = static_cast<std::size_t>(width) * 4;
  if (flip_y) {
    flipped.resize(stride * height);
    for (int y = 0; y < height; ++y)
      std::memcpy(flipped.data() + stride * y, rgba + stride * (height - 1 - y), stride);
    data = flipped.data();
  }
  if (!stbi_write_png(path.c_str(), width, height, 4, data, static_cast<int>(stride)))
    throw std::runtime_error("cannot write PNG " + path);
}

void write_png(const std::string& path, int width, int height, const std::vector<std::uint8_t>& rgba, bool flip_y) {
  if (rgba.size() != static_cast<std::size_t>(width) * height * 4)
    throw std::invalid_argument("write_png " + path + ": " + std::to_string(rgba.size()) + " bytes for a " +
                                std::to_string(width) + "x" + std::to_string(height) + " RGBA image");
  write_png(path, width, height, rgba.data(), flip_y);
}

// ---- raster --------------------------------------------------------------------------

namespace {

// 5x7 glyphs, one byte per row (bit 4 = leftmost column).
struct Glyph {
  const char* key;  // UTF-8
  std::uint8_t rows[7];
};
const Glyph kFont[] = {
    {"0", {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {"1", {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {"2", {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {"3", {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {"4", {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {"5", {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {"6", {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {"7", {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {"8", {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {"9", {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {"A", {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}}, {"B", {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {"C", {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {"D", {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {"E", {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {"F", {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {"G", {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {"H", {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {"I", {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {"J", {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {"K", {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {"L", {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {"M", {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {"N", {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {"O", {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {"P", {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {"Q", {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {"R", {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {"S", {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {"T", {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {"U", {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {"V", {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {"W", {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {"X", {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {"Y", {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {"Z", {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {" ", {0, 0, 0, 0, 0, 0, 0}},                     {".", {0, 0, 0, 0, 0, 0x0C, 0x0C}},
    {",", {0, 0, 0, 0, 0x0C, 0x04, 0x08}},            {"-", {0, 0, 0, 0x1F, 0, 0, 0}},
    {"+", {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},      {"=", {0, 0, 0x1F, 0, 0x1F, 0, 0}},
    {":", {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},         {"/", {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},
    {"(", {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {")", {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {"_", {0, 0, 0, 0, 0, 0, 0x1F}},                  {"%", {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {"<", {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}}, {">", {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
    {"\xCE\xBB", {0x08, 0x04, 0x04, 0x0A, 0x0A, 0x11, 0x11}},  // λ
};
const std::uint8_t kUnknown[7] = {0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F};

// Next glyph of s at i (advances i over one UTF-8 character).
const std::uint8_t* next_glyph(const std::string& s, std::size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  len = std::min(len, s.size() - i);
  std::string key = s.substr(i, len);
  i += len;
  if (len == 1) key[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[0])));
  for (const auto& g : kFont)
    if (key == g.key) return g.rows;
  return kUnknown;
}

std::size_t glyph_count(const std::string& s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) next_glyph(s, i);
  return n;
}

}  // namespace

Image::Image(int width, int height, Rgba bg) : w_(width), h_(height) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("Image: size must be positive");
  px_.resize(static_cast<std::size_t>(width) * height * 4);
  for (std::size_t i = 0; i < px_.size(); i += 4) {
    px_[i] = bg.r, px_[i + 1] = bg.g, px_[i + 2] = bg.b, px_[i + 3] = bg.a;
  }
}

Rgba Image::at(int x, int y) const {
  const std::uint8_t* p = &px_[(static_cast<std::size_t>(y) * w_ + x) * 4];
  return {p[0], p[1], p[2], p[3]};
}

void Image::set(int x, int y, Rgba c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  std::uint8_t* p = &px_[(static_cast<std::size_t>(y) * w_ + x) * 4];
  p[0] = c.r, p[1] = c.g, p[2] = c.b, p[3] = c.a;
}

void Image::blend(int x, int y, Rgba c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_ || c.a == 0) return;
  std::uint8_t* p = &px_[(static_cast<std::size_t>(y) * w_ + x) * 4];
  const double a = c.a / 255.0, b = p[3] / 255.0;
  const double out = a + b * (1 - a);
  if (out <= 0) return;
  auto mix = [&](std::uint8_t src, std::uint8_t dst) {
    return static_cast<std::uint8_t>(std::lround((src * a + dst * b * (1 - a)) / out));
  };
  p[0] = mix(c.r, p[0]), p[1] = mix(c.g, p[1]), p[2] = mix(c.b, p[2]);
  p[3] = static_cast<std::uint8_t>(std::lround(out * 255));
}

void Image::fill_rect(int x0, int y0, int x1, int y1, Rgba c) {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, w_ - 1), y1 = std::min(y1, h_ - 1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) blend(x, y, c);
}

void Image::rect_outline(int x0, int y0, int x1, int y1, Rgba c) {
  line(x0, y0, x1, y0, c);
  line(x1, y0 + 1, x1, y1, c);
  line(x1 - 1, y1, x0, y1, c);
  line(x0, y1 - 1, x0, y0 + 1, c);
}

void Image::line(int x0, int y0, int x1, int y1, Rgba c) {
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    blend(x0, y0, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

void Image::dot(int x, int y, Rgba c, int radius) {
  if (radius <= 0) return blend(x, y, c);
  for (int j = -radius; j <= radius; ++j)
    for (int i = -radius; i <= radius; ++i)
      if (i * i + j * j <= radius * radius + radius) blend(x + i, y + j, c);
}

void Image::text(int x, int y, const std::string& s, Rgba c, int scale) {
  scale = std::max(scale, 1);
  int cx = x;
  for (std::size_t i = 0; i < s.size();) {
    const std::uint8_t* g = next_glyph(s, i);
    for (int r = 0; r < 7; ++r)
      for (int col = 0; col < 5; ++col)
        if (g[r] & (0x10 >> col))
          fill_rect(cx + col * scale, y + r * scale, cx + col * scale + scale - 1, y + r * scale + scale - 1, c);
    cx += 6 * scale;
  }
}

int Image::text_width(const std::string& s, int scale) {
  const int n = static_cast<int>(glyph_count(s));
  return n > 0 ? n * 6 * std::max(scale, 1) - std::max(scale, 1) : 0;
}

void Image::blit(const Image& src, int x, int y) {
  for (int j = 0; j < src.h_; ++j)
    for (int i = 0; i < src.w_; ++i) blend(x + i, y + j, src.at(i, j));
}

namespace {

// 1-D cloud: histogram of the first coordinate over [vp.x0, vp.x1] drawn as bars.
void draw_hist1d(Image& img, const Points& p, const Viewport& vp, Rgba c) {
  const int bins = std::max(1, vp.pw);
  std::vector<double> h(bins, 0.0);
  for (std::size_t i = 0; i < p.n(); ++i) {
    const double x = p.row(i)[0];
    const int b = static_cast<int>(std::floor((x - vp.x0) / (vp.x1 - vp.x0) * bins));
    if (std::isfinite(x) && b >= 0 && b < bins) h[b] += 1;
  }
  const double mx = *std::max_element(h.begin(), h.end());
  if (mx <= 0) return;
  for (int b = 0; b < bins; ++b) {
    if (h[b] <= 0) continue;
    const int top = vp.py + vp.ph - static_cast<int>(std::lround(h[b] / mx * (vp.ph - 1)));
    img.fill_rect(vp.px + b, top, vp.px + b, vp.py + vp.ph - 1, c);
  }
}

}  // namespace

void draw_scatter(Image& img, const Points& p, const Viewport& vp, Rgba c, int radius, std::size_t max_points) {
  if (p.d == 1) return draw_hist1d(img, p, vp, c);
  if (p.d < 2) return;
  const std::size_t n = p.n();
  const std::size_t stride = max_points > 0 && n > max_points ? (n + max_points - 1) / max_points : 1;
  for (std::size_t i = 0; i < n; i += stride) {
    const float* r = p.row(i);
    if (!std::isfinite(r[0]) || !std::isfinite(r[1])) continue;
    if (r[0] < vp.x0 || r[0] > vp.x1 || r[1] < vp.y0 || r[1] > vp.y1) continue;
    const int x = std::min(vp.px + vp.pw - 1, static_cast<int>(std::floor(vp.to_px(r[0]))));
    const int y = std::min(vp.py + vp.ph - 1, static_cast<int>(std::floor(vp.to_py(r[1]))));
    img.dot(x, y, c, radius);
  }
}

void draw_density(Image& img, const Points& p, const Viewport& vp, Rgba c) {
  if (p.d == 1) return draw_hist1d(img, p, vp, c);
  if (p.d < 2 || vp.pw <= 0 || vp.ph <= 0) return;
  std::vector<double> h(static_cast<std::size_t>(vp.pw) * vp.ph, 0.0);
  for (std::size_t i = 0; i < p.n(); ++i) {
    const float* r = p.row(i);
    if (!std::isfinite(r[0]) || !std::isfinite(r[1])) continue;
    const int x = static_cast<int>(std::floor((r[0] - vp.x0) / (vp.x1 - vp.x0) * vp.pw));
    const int y = static_cast<int>(std::floor((vp.y1 - r[1]) / (vp.y1 - vp.y0) * vp.ph));
    if (x >= 0 && x < vp.pw && y >= 0 && y < vp.ph) h[static_cast<std::size_t>(y) * vp.pw + x] += 1;
  }
  // Normalise by a high quantile of the occupied pixels, not the maximum: one
  // collapsed pixel must not wash out the rest of the cloud.
  std::vector<double> occ;
  for (double v : h)
    if (v > 0) occ.push_back(v);
  if (occ.empty()) return;
  const std::size_t q = std::min(occ.size() - 1, static_cast<std::size_t>(0.98 * occ.size()));
  std::nth_element(occ.begin(), occ.begin() + static_cast<std::ptrdiff_t>(q), occ.end());
  const double mx = occ[q];
  for (int y = 0; y < vp.ph; ++y)
    for (int x = 0; x < vp.pw; ++x) {
      const double v = h[static_cast<std::size_t>(y) * vp.pw + x];
      if (v <= 0) continue;
      Rgba q = c;
      q.a = static_cast<std::uint8_t>(std::lround(std::max(0.25, std::min(1.0, std::sqrt(v / mx))) * c.a));
      img.blend(vp.px + x, vp.py + y, q);
    }
}

// ---- SVG ------------------------------------------------------------------------------

std::string xml_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default: o += ch;
    }
  }
  return o;
}

std::string fmt_num(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", std::max(1, digits), v);
  return b;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return t;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

std::string svg_color(Rgba c) {
  char b[8];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", c.r, c.g, c.b);
  return b;
}

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  std::string s = b;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}
const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
}  // namespace

Svg::Svg(double width, double height) : w_(width), h_(height) {}

void Svg::rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke,
               double opacity) {
  body_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
           "\" fill=\"" + xml_escape(fill) + "\" stroke=\"" + xml_escape(stroke) + "\"";
  if (opacity < 1) body_ += " fill-opacity=\"" + num(opacity) + "\"";
  body_ += "/>\n";
}

void Svg::line(double x0, double y0, double x1, double y1, const std::string& stroke, double width,
               const std::string& dash) {
  body_ += "<line x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y1) +
           "\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" + num(width) + "\"";
  if (!dash.empty()) body_ += " stroke-dasharray=\"" + xml_escape(dash) + "\"";
  body_ += "/>\n";
}

void Svg::polyline(const std::vector<double>& xs, const std::vector<double>& ys, const std::string& stroke,
                   double width, const std::string& dash) {
  if (xs.empty()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" + num(width) + "\"";
  if (!dash.empty()) body_ += " stroke-dasharray=\"" + xml_escape(dash) + "\"";
  body_ += " points=\"";
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) body_ += (i ? " " : "") + num(xs[i]) + "," + num(ys[i]);
  body_ += "\"/>\n";
}

void Svg::circle(double cx, double cy, double r, const std::string& fill, double opacity) {
  body_ += "<circle cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"" + num(r) + "\" fill=\"" + xml_escape(fill) +
           "\"";
  if (opacity < 1) body_ += " fill-opacity=\"" + num(opacity) + "\"";
  body_ += "/>\n";
}

void Svg::text(double x, double y, const std::string& s, double size, const std::string& anchor,
               const std::string& fill, bool bold, double rotate) {
  body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) +
           "\" font-family=\"sans-serif\" text-anchor=\"" + xml_escape(anchor) + "\" fill=\"" + xml_escape(fill) + "\"";
  if (bold) body_ += " font-weight=\"bold\"";
  if (rotate != 0) body_ += " transform=\"rotate(" + num(rotate) + " " + num(x) + " " + num(y) + ")\"";
  body_ += ">" + xml_escape(s) + "</text>\n";
}

void Svg::raw(const std::string& element) { body_ += element + "\n"; }

std::string Svg::str() const {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(w_) +
         "\" height=\"" + num(h_) + "\" viewBox=\"0 0 " + num(w_) + " " + num(h_) + "\">\n<rect width=\"100%\" " +
         "height=\"100%\" fill=\"white\"/>\n" + body_ + "</svg>\n";
}

void Svg::save(const std::string& path) const {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write SVG " + path);
  f << str();
  if (!f) throw std::runtime_error("cannot write SVG " + path);
}

void LinePlot::draw(Svg& svg, double X, double Y, double W, double H) const {
  const double ml = 62, mr = 12, mt = title.empty() ? 12 : 28, mb = xlabel.empty() ? 30 : 44;
  const double px = X + ml, py = Y + mt, pw = std::max(10.0, W - ml - mr), ph = std::max(10.0, H - mt - mb);
  auto ty = [&](double v) { return log_y ? std::log10(v) : v; };
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) continue;
      xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, ty(s.y[i])), ymax = std::max(ymax, ty(s.y[i]));
    }
  if (!(xmin <= xmax)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (xmax == xmin) xmin -= 0.5, xmax += 0.5;
  if (ymax == ymin) ymin -= 0.5, ymax += 0.5;
  if (log_y) {
    ymin = std::floor(ymin), ymax = std::ceil(ymax);
    if (ymax == ymin) ymax += 1;
  } else {
    const double pad = 0.05 * (ymax - ymin);
    ymin -= pad, ymax += pad;
  }
  auto sx = [&](double v) { return px + (v - xmin) / (xmax - xmin) * pw; };
  auto sy = [&](double v) { return py + (ymax - v) / (ymax - ymin) * ph; };

  if (!title.empty()) svg.text(X + W / 2, Y + 18, title, 14, "middle", "black", true);
  svg.rect(px, py, pw, ph, "none", "black");
  for (double t : nice_ticks(xmin, xmax, 6)) {
    svg.line(sx(t), py + ph, sx(t), py + ph + 4, "black");
    svg.line(sx(t), py, sx(t), py + ph, "#dddddd", 0.5);
    svg.text(sx(t), py + ph + 16, fmt_num(t), 11, "middle");
  }
  std::vector<double> yt;
  if (log_y) {
    const int step = std::max(1, static_cast<int>(std::ceil((ymax - ymin) / 8)));
    for (double e = ymin; e <= ymax + 1e-9; e += step) yt.push_back(e);
  } else {
    yt = nice_ticks(ymin, ymax, 5);
  }
  for (double t : yt) {
    svg.line(px - 4, sy(t), px, sy(t), "black");
    svg.line(px, sy(t), px + pw, sy(t), "#dddddd", 0.5);
    svg.text(px - 6, sy(t) + 4, log_y ? "1e" + fmt_num(t) : fmt_num(t), 11, "end");
  }
  if (!xlabel.empty()) svg.text(px + pw / 2, py + ph + 36, xlabel, 12, "middle");
  if (!ylabel.empty()) svg.text(X + 14, py + ph / 2, ylabel, 12, "middle", "black", false, -90);

  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const std::string col = s.color.empty() ? kPalette[k % 8] : s.color;
    std::vector<double> xs, ys;
    auto flush = [&] {
      if (xs.size() > 1) svg.polyline(xs, ys, col, 1.5, s.dash);
      xs.clear(), ys.clear();
    };
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) {
        flush();
        continue;
      }
      xs.push_back(sx(s.x[i])), ys.push_back(sy(ty(s.y[i])));
      if (s.markers) svg.circle(xs.back(), ys.back(), 2.5, col);
    }
    flush();
  }
  if (legend && !series.empty()) {
    double ly = py + 14;
    for (std::size_t k = 0; k < series.size(); ++k) {
      const std::string col = series[k].color.empty() ? kPalette[k % 8] : series[k].color;
      svg.line(px + pw - 120, ly - 4, px + pw - 100, ly - 4, col, 2, series[k].dash);
      svg.text(px + pw - 95, ly, series[k].name, 11);
      ly += 15;
    }
  }
}

std::string LinePlot::svg(double width, double height) const {
  Svg s(width, height);
  draw(s, 0, 0, width, height);
  return s.str();
}

void ScatterPlot::draw(Svg& svg, double X, double Y, double W, double H) const {
  const double ml = axes ? 34 : 4, mr = 4, mt = title.empty() ? 4 : 20, mb = axes ? 22 : 4;
  const double px = X + ml, py = Y + mt, pw = std::max(10.0, W - ml - mr), ph = std::max(10.0, H - mt - mb);
  auto sx = [&](double v) { return px + (v - x0) / (x1 - x0) * pw; };
  auto sy = [&](double v) { return py + (y1 - v) / (y1 - y0) * ph; };
  if (!title.empty()) svg.text(X + W / 2, Y + 14, title, 12, "middle", "black", true);
  svg.rect(px, py, pw, ph, "none", "#888888");
  if (axes) {
    for (double t : nice_ticks(x0, x1, 4)) {
      svg.line(sx(t), py + ph, sx(t), py + ph + 3, "black");
      svg.text(sx(t), py + ph + 14, fmt_num(t), 10, "middle");
    }
    for (double t : nice_ticks(y0, y1, 4)) {
      svg.line(px - 3, sy(t), px, sy(t), "black");
      svg.text(px - 5, sy(t) + 3, fmt_num(t), 10, "end");
    }
  }
  for (std::size_t k = 0; k < clouds.size(); ++k) {
    const auto& c = clouds[k];
    if (!c.points) continue;
    const std::string col = c.color.empty() ? kPalette[k % 8] : c.color;
    const Points& p = *c.points;
    svg.raw("<g class=\"cloud\" data-name=\"" + xml_escape(c.name) + "\">");
    if (p.d == 1) {  // histogram outline of the first coordinate
      const int bins = 60;
      std::vector<double> h(bins, 0.0);
      for (std::size_t i = 0; i < p.n(); ++i) {
        const int b = static_cast<int>(std::floor((p.row(i)[0] - x0) / (x1 - x0) * bins));
        if (b >= 0 && b < bins) h[b] += 1;
      }
      const double mx = std::max(1.0, *std::max_element(h.begin(), h.end()));
      std::vector<double> xs, ys;
      for (int b = 0; b < bins; ++b) {
        const double hy = py + ph - h[b] / mx * ph * 0.95;
        xs.push_back(px + pw * b / bins), ys.push_back(hy);
        xs.push_back(px + pw * (b + 1) / bins), ys.push_back(hy);
      }
      svg.polyline(xs, ys, col, 1.2);
    } else if (p.d >= 2) {
      const std::size_t n = p.n();
      const std::size_t stride = c.max_points > 0 && n > c.max_points ? (n + c.max_points - 1) / c.max_points : 1;
      for (std::size_t i = 0; i < n; i += stride) {
        const float* r = p.row(i);
        if (!(r[0] >= x0 && r[0] <= x1 && r[1] >= y0 && r[1] <= y1)) continue;
        svg.circle(sx(r[0]), sy(r[1]), c.radius, col, c.opacity);
      }
    }
    svg.raw("</g>");
  }
  if (legend && !clouds.empty()) {
    double ly = py + 12;
    for (std::size_t k = 0; k < clouds.size(); ++k) {
      const std::string col = clouds[k].color.empty() ? kPalette[k % 8] : clouds[k].color;
      svg.circle(px + 8, ly - 4, 4, col);
      svg.text(px + 16, ly, clouds[k].name, 10);
      ly += 13;
    }
  }
}

std::string ScatterPlot::svg(double width, double height) const {
  Svg s(width, height);
  draw(s, 0, 0, width, height);
  return s.str();
}

}  // namespace gapscope

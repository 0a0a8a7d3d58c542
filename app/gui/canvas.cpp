#include "canvas.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace gapscope::gui {

void DrawCanvas::start(int d, double range, uint64_t seed) {
  d_ = d == 1 ? 1 : 2;
  range_ = range;
  rng_.seed(seed);
  xy_.clear();
  curve_.assign(kCurveBins, 0.f);
  in_stroke_ = false;
  changed();
}

void DrawCanvas::clear() {
  xy_.clear();
  curve_.assign(kCurveBins, 0.f);
  in_stroke_ = false;
  changed();
}

void DrawCanvas::changed() {
  ++version_;
  // The view caches its image under the cloud's address: the old cloud stays alive one
  // change longer, so the new one cannot be allocated where the drawn one was.
  previous_ = std::move(shown_);
  auto p = std::make_shared<Points>(2, 0);
  p->v = xy_;
  shown_ = std::move(p);
}

bool DrawCanvas::empty() const { return count() == 0; }

std::size_t DrawCanvas::count() const {
  if (d_ == 2) return xy_.size() / 2;
  return static_cast<std::size_t>(std::count_if(curve_.begin(), curve_.end(), [](float h) { return h > 0; }));
}

void DrawCanvas::dab(float x, float y, const Brush& b) {
  const float r = std::max(b.radius, 1e-3f);
  if (b.erase) {
    std::vector<float> kept;
    kept.reserve(xy_.size());
    for (std::size_t i = 0; i + 1 < xy_.size(); i += 2)
      if (std::hypot(xy_[i] - x, xy_[i + 1] - y) > r) kept.insert(kept.end(), {xy_[i], xy_[i + 1]});
    xy_.swap(kept);
    return;
  }
  // Uniform in the disc: radius r sqrt(u), so the painted density is flat across the brush.
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int k = 0; k < std::max(1, b.density); ++k) {
    const float rr = r * std::sqrt(u(rng_)), th = 6.2831853f * u(rng_);
    const float px = x + rr * std::cos(th), py = y + rr * std::sin(th);
    if (std::abs(px) <= range_ && std::abs(py) <= range_) xy_.insert(xy_.end(), {px, py});
  }
}

void DrawCanvas::set_curve(float x0, float h0, float x1, float h1) {
  auto bin = [&](float x) {
    return std::clamp(static_cast<int>(std::floor((x + range_) / (2 * range_) * kCurveBins)), 0, kCurveBins - 1);
  };
  const int b0 = bin(std::min(x0, x1)), b1 = bin(std::max(x0, x1));
  for (int b = b0; b <= b1; ++b) {
    const float f = b1 == b0 ? 1.f : static_cast<float>(x0 <= x1 ? b - b0 : b1 - b) / static_cast<float>(b1 - b0);
    curve_[static_cast<std::size_t>(b)] = std::clamp(h0 + f * (h1 - h0), 0.f, 1.f);
  }
}

void DrawCanvas::stroke_to(float x, float y, const Brush& b) {
  if (d_ == 1) {
    const float h = b.erase ? 0.f : y;
    if (!in_stroke_) {
      lx_ = x, ly_ = h;
    }
    set_curve(lx_, ly_, x, h);
    lx_ = x, ly_ = h;
    in_stroke_ = true;
    changed();
    return;
  }
  const float step = std::max(b.radius, 1e-3f) / 2;
  if (!in_stroke_) {
    dab(x, y, b);
    lx_ = x, ly_ = y;
    in_stroke_ = true;
    changed();
    return;
  }
  // Dabs every half radius along the segment: the density painted does not depend on
  // how fast the pointer moves or on the frame rate.
  const float len = std::hypot(x - lx_, y - ly_);
  if (len < step) return;
  const int n = static_cast<int>(len / step);
  const float sx = lx_, sy = ly_;
  for (int k = 1; k <= n; ++k) {
    const float f = static_cast<float>(k) * step / len;
    dab(sx + f * (x - sx), sy + f * (y - sy), b);
    lx_ = sx + f * (x - sx), ly_ = sy + f * (y - sy);
  }
  changed();
}

WeightedCloud DrawCanvas::cloud() const {
  if (empty()) throw std::invalid_argument("nothing drawn yet (drag in the drawing view to paint)");
  if (d_ == 2) {
    Points p(2, 0);
    p.v = xy_;
    return WeightedCloud(std::move(p));
  }
  // The curve's bins are coarse enough to paint; the nodes are fine enough that the data
  // histogram and DSM see a density, not atoms.
  Points p(1, kCurveNodes);
  std::vector<double> w(kCurveNodes);
  const double h = 2 * range_ / kCurveNodes, bw = 2 * range_ / kCurveBins;
  for (int i = 0; i < kCurveNodes; ++i) {
    const double x = -range_ + (i + 0.5) * h;
    const double fb = (x + range_) / bw - 0.5;  // position in bin centres
    const int b0 = std::clamp(static_cast<int>(std::floor(fb)), 0, kCurveBins - 1), b1 = std::min(b0 + 1, kCurveBins - 1);
    const double f = std::clamp(fb - b0, 0.0, 1.0);
    p.v[static_cast<std::size_t>(i)] = static_cast<float>(x);
    w[static_cast<std::size_t>(i)] = (1 - f) * curve_[static_cast<std::size_t>(b0)] + f * curve_[static_cast<std::size_t>(b1)];
  }
  return WeightedCloud(std::move(p), std::move(w));
}

std::vector<std::vector<std::pair<float, float>>> parse_strokes(const std::string& text) {
  std::vector<std::vector<std::pair<float, float>>> out;
  std::stringstream strokes(text);
  for (std::string stroke; std::getline(strokes, stroke, ';');) {
    std::istringstream pts(stroke);
    std::vector<std::pair<float, float>> s;
    for (std::string pt; pts >> pt;) {
      const auto comma = pt.find(',');
      float x = 0, y = 0;
      std::size_t ux = 0, uy = 0;
      try {
        if (comma == std::string::npos) throw std::invalid_argument("no comma");
        const std::string a = pt.substr(0, comma), b = pt.substr(comma + 1);
        x = std::stof(a, &ux);
        y = std::stof(b, &uy);
        if (ux != a.size() || uy != b.size() || !std::isfinite(x) || !std::isfinite(y))
          throw std::invalid_argument("trailing characters");
      } catch (const std::exception&) {
        throw std::invalid_argument("bad point '" + pt.substr(0, 40) + "' (expected x,y with points separated by "
                                                                       "spaces and strokes by ';')");
      }
      s.emplace_back(x, y);
    }
    if (!s.empty()) out.push_back(std::move(s));
  }
  if (out.empty()) throw std::invalid_argument("no strokes (expected \"x,y x,y …;x,y …\")");
  return out;
}

}  // namespace gapscope::gui

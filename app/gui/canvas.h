#pragma once
// A data set drawn by hand, without a window: for d = 2 a brush paints (or erases) points
// along strokes, for d = 1 a stroke paints the height of a density curve. What it holds
// becomes training data as a weighted point cloud (core/data.h), which the lab writes as
// CSV and trains on as dataset = file. The views feed it world coordinates; so do the
// scripted strokes of the tests (--draw-strokes), through the same calls.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/data.h"
#include "core/points.h"

namespace gapscope::gui {

struct Brush {
  float radius = 0.3f;  // world units
  int density = 12;     // points per dab (d = 2); dabs are radius / 2 apart along a stroke
  bool erase = false;
};

class DrawCanvas {
 public:
  // The curve's editing bins and the nodes the drawn density is sampled on (d = 1).
  static constexpr int kCurveBins = 140, kCurveNodes = 1400;

  // Empties the canvas for dimension d (1 or 2) over [-range, range]; the brush's
  // scatter comes from `seed`, so the same strokes paint the same points.
  void start(int d, double range, uint64_t seed);
  int dim() const { return d_; }
  double range() const { return range_; }

  // The pointer at world (x, y) with the button held: d = 2 dabs from the stroke's last
  // point to here; d = 1 sets the curve between them to the height y in [0, 1] (0 when
  // erasing). The first call of a stroke dabs once at (x, y).
  void stroke_to(float x, float y, const Brush& b);
  void end_stroke() { in_stroke_ = false; }
  void clear();

  bool empty() const;
  std::size_t count() const;  // painted points (d = 2) or non-zero bins (d = 1)
  // What the views draw, replaced (a new pointer) on every change.
  std::shared_ptr<const Points> points() const { return shown_; }  // d = 2
  const std::vector<float>& curve() const { return curve_; }        // d = 1, heights in [0, 1]
  uint64_t version() const { return version_; }

  // The training data: d = 2 the painted points (weight 1 each); d = 1 the nodes of
  // [-range, range] weighted by the curve (linear between bin centres). Throws
  // std::invalid_argument when nothing has been drawn.
  WeightedCloud cloud() const;

 private:
  void dab(float x, float y, const Brush& b);
  void set_curve(float x0, float h0, float x1, float h1);
  void changed();

  int d_ = 2;
  double range_ = 3.5;
  std::mt19937_64 rng_;
  std::vector<float> xy_;     // d = 2, n*2
  std::vector<float> curve_;  // d = 1, kCurveBins
  bool in_stroke_ = false;
  float lx_ = 0, ly_ = 0;  // the stroke's last point
  std::shared_ptr<const Points> shown_, previous_;
  uint64_t version_ = 0;
};

// Strokes "x,y x,y …;x,y …" (world coordinates; d = 1: x and a height in [0, 1]), as the
// --draw-strokes option takes them. Throws std::invalid_argument naming the bad point.
std::vector<std::vector<std::pair<float, float>>> parse_strokes(const std::string& text);

}  // namespace gapscope::gui

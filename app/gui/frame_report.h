#pragma once
// The frame loop's clock: per-frame times (building the UI, drawing it, the whole frame
// and the frame-to-frame interval), the frame-rate cap, and the JSON report of a
// scripted run (--report-frames) that the tests read.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "lab.h"
#include "session.h"

namespace gapscope::gui {

class FrameClock {
 public:
  explicit FrameClock(double fps) : period_(1.0 / fps) {}
  void start();  // the frame begins
  void ui_built();
  void drawn(int vertices, int commands);
  void finish();  // after present: records the frame, then sleeps to the cap

  // Frame times and their 95th percentiles, panel rectangles, the λ values the history
  // saw, the iteration, the W2 rows and their escapee shares. "" or the error.
  std::string write_report(const std::string& path, const Session& s, const std::map<std::string, PixelRect>& panels,
                           float fb_scale) const;

 private:
  using Clock = std::chrono::steady_clock;
  std::chrono::duration<double> period_;
  Clock::time_point t0_, tu_, tg_, prev_;
  bool first_ = true;
  std::vector<double> frame_ms_, interval_ms_, ui_ms_, gl_ms_;
  int vertices_ = 0, commands_ = 0;
};

}  // namespace gapscope::gui

#pragma once
// Which sampling pass the particle views show, and at which time step: finished passes
// are replayed from t = T to ε over `seconds`, held a moment at ε, then replaced by the
// newest finished pass; "live" follows the pass being integrated instead. Plain logic
// (time comes in as an argument), shared by the particle and residual views.
#include <cstddef>

#include "worker.h"

namespace gapscope::gui {

class Playback {
 public:
  bool play = true, live = false;
  float pos = 0;         // position in the shown pass: 0 at t = T, 1 at t = ε
  float seconds = 3.0f;  // length of one replay

  // Picks the pass to show at time `now` (seconds, any origin) from the worker's pass in
  // progress and its newest finished one, advances the position, and returns the pass
  // (null until one has a frame) with `frame` set to its stored frame at the position.
  PassPtr advance(const PassPtr& current, const PassPtr& complete, double now, std::size_t& frame);
  const PassPtr& shown() const { return shown_; }
  std::size_t frame_of(const Pass& p) const;  // the stored frame at the position
  void forget();                              // another session: start again with its first pass

 private:
  PassPtr shown_;
  double hold_until_ = 0, last_time_ = 0;
};

}  // namespace gapscope::gui

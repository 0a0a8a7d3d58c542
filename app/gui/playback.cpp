#include "playback.h"

#include <algorithm>

namespace gapscope::gui {

std::size_t Playback::frame_of(const Pass& p) const {
  const double target = pos * static_cast<double>(p.total_steps);
  std::size_t frame = 0;
  while (frame + 1 < p.step.size() && static_cast<double>(p.step[frame + 1]) <= target + 1e-9) ++frame;
  return frame;
}

void Playback::forget() {
  shown_.reset();
  if (play) pos = 0;
}

PassPtr Playback::advance(const PassPtr& cur, const PassPtr& done, double now, std::size_t& frame) {
  const double dt = std::min(0.1, now - last_time_);
  last_time_ = now;
  frame = 0;
  if (!cur && !done) {
    shown_.reset();
    return nullptr;
  }
  if (live) {
    shown_ = cur ? cur : done;
    pos = 1;
  } else {
    if (!shown_) {
      shown_ = done ? done : cur;
      if (play) pos = 0;
    }
    if (!shown_->complete && cur && cur->id == shown_->id) shown_ = cur;  // the first pass, still growing
    if (!play && pos >= 1 && done && done->id != shown_->id) shown_ = done;  // parked at ε: newest finals
    if (play) {
      if (pos < 1) {
        pos = std::min(1.f, pos + static_cast<float>(dt / seconds));
        if (pos >= 1) hold_until_ = now + 1.2;
      } else if (now >= hold_until_ && done && done->id != shown_->id) {
        shown_ = done;  // the newest finished pass, run with newer weights
        pos = 0;
      }
    }
  }
  if (shown_->ode.empty()) return nullptr;
  frame = frame_of(*shown_);
  return shown_;
}

}  // namespace gapscope::gui

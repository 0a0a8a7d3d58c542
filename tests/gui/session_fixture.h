#pragma once
// What the window-free lab tests share: a session small enough that an iteration takes
// milliseconds, stepping it, and a scratch folder.
#include <filesystem>
#include <random>
#include <string>

#include "options.h"
#include "session.h"
#include "threads.h"

namespace gapscope::gui::fixture {

inline SessionOptions tiny(bool start_training = false) {
  static const bool once = (limit_compute_threads(1), true);
  (void)once;
  SessionOptions o;
  o.config = lab_default_config();
  o.config.batch_dsm = 256;
  o.config.batch_collocation = 64;
  o.config.hidden = 16;
  o.config.residual_stats_every = 0;
  o.start_training = start_training;
  o.particles = 64;
  o.steps = 20;
  o.min_pass_seconds = 0;
  return o;
}

inline void steps(Session& s, int n) {
  for (int i = 0; i < n; ++i) {
    s.step();
    s.wait_jobs();
  }
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("gapscope-session-" + name + "-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace gapscope::gui::fixture

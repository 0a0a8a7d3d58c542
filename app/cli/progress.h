#pragma once
// One self-overwriting progress line on stderr: iteration, rate, ETA, details.
// On a non-terminal (CI logs) each update is its own line instead.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "style/format.h"

namespace gapscope::cli {

class ProgressLine {
 public:
  // unit names what done/total count ("it": iterations; "samples" for evaluations).
  explicit ProgressLine(std::string label, std::string unit = "it")
      : label_(std::move(label)), unit_(std::move(unit)), tty_(isatty(2)) {}
  void update(int64_t done, int64_t total, double per_s, double eta_s, const std::string& detail) {
    std::fprintf(stderr, "%s[%s] %lld/%lld  %.1f %s/s  ETA %s  %s%s", tty_ ? "\r\033[K" : "", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), per_s, unit_.c_str(),
                 style::duration(eta_s).c_str(), detail.c_str(), tty_ ? "" : "\n");
    std::fflush(stderr);
    dirty_ = tty_;
  }
  void finish() {
    if (dirty_) std::fprintf(stderr, "\n");
    dirty_ = false;
  }
 private:
  std::string label_, unit_;
  bool tty_;
  bool dirty_ = false;
};

}  // namespace gapscope::cli

#include "frame_report.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "jobs.h"

namespace gapscope::gui {
namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size() - 1)))];
}

double ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

void FrameClock::start() { t0_ = Clock::now(); }
void FrameClock::ui_built() { tu_ = Clock::now(); }

void FrameClock::drawn(int vertices, int commands) {
  tg_ = Clock::now();
  vertices_ = vertices;
  commands_ = commands;
}

void FrameClock::finish() {
  const auto t1 = Clock::now();
  // Frame time: from the start of the frame until it is presented (the idle wait of the
  // cap is not part of it; interval_ms has the full frame-to-frame period).
  frame_ms_.push_back(ms(t1 - t0_));
  ui_ms_.push_back(ms(tu_ - t0_));
  gl_ms_.push_back(ms(tg_ - tu_));
  const auto busy = t1 - t0_;
  if (busy < period_) std::this_thread::sleep_for(period_ - busy);
  const auto t2 = Clock::now();
  if (!first_) interval_ms_.push_back(ms(t2 - prev_));
  first_ = false;
  prev_ = t2;
}

std::string FrameClock::write_report(const std::string& path, const Session& s,
                                     const std::map<std::string, PixelRect>& panels, float fb_scale) const {
  nlohmann::json j;
  j["frame_ms"] = frame_ms_;
  j["interval_ms"] = interval_ms_;
  j["fps_cap"] = 1.0 / period_.count();
  j["frame_ms_p95"] = percentile(frame_ms_, 0.95);
  j["interval_ms_p95"] = percentile(interval_ms_, 0.95);
  j["ui_ms_p95"] = percentile(ui_ms_, 0.95);  // building the UI (panels, views' GL commands)
  j["gl_ms_p95"] = percentile(gl_ms_, 0.95);  // drawing it (to glFinish)
  j["framebuffer"] = {{"scale", fb_scale}};
  nlohmann::json pj = nlohmann::json::object();
  for (const auto& [name, r] : panels) pj[name] = {r.x, r.y, r.w, r.h};
  j["panels"] = pj;
  std::vector<double> seen;
  for (const auto& r : s.history())
    if (seen.empty() || seen.back() != r.lambda) seen.push_back(r.lambda);
  j["lambda_seen"] = seen;
  j["iterations"] = s.iteration();
  j["it_per_s"] = s.it_per_s();  // the trainer's rate over the last second (README: the lab's training rate)
  j["dataset"] = s.config().dataset;  // a drawn set trains as dataset = file
  j["data_file"] = s.config().data_file;
  const auto w2 = s.w2();
  j["w2_rows"] = w2->size();
  j["last_pass_seconds"] = s.worker().last_pass_seconds();
  j["draw"] = {{"vertices", vertices_}, {"commands", commands_}};
  if (!w2->empty()) {
    const W2Row& last = w2->back();
    j["w2_last"] = {last.iteration, last.ode_sde, last.ode_data, last.sde_data};
    // The escapees of each pass (share outside [-4, 4]^2), ODE then SDE, in pass order.
    nlohmann::json outside = nlohmann::json::array();
    for (const auto& r : *w2) outside.push_back({r.iteration, r.outside_ode, r.outside_sde});
    j["w2_outside"] = outside;
  }
  try {
    write_file_atomically(path, j.dump(1) + "\n");
  } catch (const std::exception& e) {
    return first_line(e.what());
  }
  return "";
}

}  // namespace gapscope::gui

// gapscope: the desktop lab. Options, a session, a window, and the frame loop; with
// --frames N it runs N frames and exits (the scripted mode the tests use).
#include <csignal>
#include <cstdio>
#include <string>

#include "frame_report.h"
#include "kernels/denormals.h"
#include "lab.h"
#include "options.h"
#include "renderer.h"
#include "session.h"
#include "threads.h"
#include "window.h"

using namespace gapscope::gui;

static int fail(const std::string& why, int code) {
  std::fprintf(stderr, "gapscope: %s\n", why.c_str());
  return code;
}

int main(int argc, char** argv) {
  ::signal(SIGXFSZ, SIG_IGN);  // over `ulimit -f` an export fails in one line instead of killing the lab
  LabOptions opt;
  if (const auto rc = parse_options(argc, argv, opt)) return *rc;
  if (!has_display()) return fail(kNoDisplay, 2);
  limit_compute_threads(1);  // three busy threads share the cores: UI, training, sampling
  keep_freed_memory_mapped();
  gapscope::flush_denormals_everywhere();  // before the session's threads: they inherit it
  Session session(opt.session);
  if (!session.ready()) return 1;  // it has said why, in one line
  Window window;
  std::string err;
  if (!window.open(opt.width, opt.height, opt.frames > 0, err)) return fail(err, 2);
  Renderer renderer;
  if (!renderer.init(find_shader_dir(argv[0]), err)) return fail(err, 1);
  Lab lab(session, renderer, opt.show_final, opt.tab);
  if (opt.view) lab.restore_view(*opt.view);
  if (!opt.strokes.empty()) lab.script_strokes(opt.strokes, opt.draw_dim);
  FrameClock clock(opt.fps);
  int rc = 0;
  for (int f = 0; !window.should_close() && (opt.frames <= 0 || f < opt.frames); ++f) {
    const bool last = f == opt.frames - 1;
    clock.start();
    window.begin_frame();
    lab.frame(window.fb_scale_x(), window.fb_scale_y());
    clock.ui_built();
    window.render();
    clock.drawn(window.vertices(), window.commands());
    if (last && !opt.export_dir.empty()) lab.export_all(opt.export_dir);
    auto shots = lab.take_shot_requests();
    if (last && !opt.screenshot.empty()) shots.push_back({opt.screenshot, ""});
    if (!serve_shots(window, lab.panels(), session, shots) && opt.frames > 0) rc = 1;
    window.present();
    clock.finish();
  }
  if (!opt.report_path.empty()) {
    const std::string why = clock.write_report(opt.report_path, session, lab.panels(), window.fb_scale_x());
    if (!why.empty()) rc = fail(why, 1);
  }
  renderer.shutdown();
  return rc;
}

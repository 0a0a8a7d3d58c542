#pragma once
// The lab's command line. Parsing also checks what can be checked before a window
// opens: the experiment file and every --set (built and validated into the config),
// the λ schedule, that a checkpoint is a folder, and that the output paths can be
// written.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "session.h"
#include "session_file.h"

namespace gapscope::gui {

struct LabOptions {
  SessionOptions session;
  int frames = 0;  // > 0: run this many frames, then exit (the scripted mode of the tests)
  int width = 1600, height = 1000;
  double fps = 30;
  bool show_final = false;  // start with playback parked at t = ε (the newest final clouds)
  std::string screenshot;   // after the last frame
  std::string report_path;  // per-frame times, panels and the λ history as JSON
  std::string export_dir;   // after the last frame: every export
  std::optional<ViewSettings> view;  // --session: the saved views
  // --draw-strokes: painted into the drawing canvas one point per frame (d = draw_dim),
  // then trained on, as a user's strokes would be (the scripted mode of the tests).
  std::vector<std::vector<std::pair<float, float>>> strokes;
  int draw_dim = 2;
  std::string tab = "residual";  // the residual panel's tab at start; density|sweep also start that study
};

// Fills `out`, or returns the exit code when the program is to stop now: 0 after --help,
// non-zero after one line on stderr for a bad argument.
std::optional<int> parse_options(int argc, char** argv, LabOptions& out);

// "" when a file (or, with folder, a folder) can be written at `path`: it is not the
// other kind of thing, and its nearest existing ancestor is a writable folder (the
// folders between are created on write). Otherwise why not.
std::string check_output_path(const std::string& path, bool folder);

}  // namespace gapscope::gui

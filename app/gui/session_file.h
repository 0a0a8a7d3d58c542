#pragma once
// A lab session as one JSON file that travels: the experiment config, the λ history, the
// sampler, residual and view settings, the data set itself when it comes from a file (so
// that another machine needs nothing else), and optionally a checkpoint folder beside it.
// `gapscope --session F` reopens it; cli_command() is the headless line that trains the
// same experiment. Window-free, so the round trip is tested without a display.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/data.h"
#include "train/lambda_schedule.h"
#include "worker.h"

namespace gapscope::gui {

// What the views show, in plain numbers (the lab's ViewState converts).
struct ViewSettings {
  float cx = 0, cy = 0, half = 0;  // the particle views' square; half = 0: the config's default
  float point_size = 3.0f, point_alpha = 0.55f;
  bool density_shading = false;
  int n_traj = 30;  // per sampler: 2 x 30 polylines keep the 1-D lab's frame time low on llvmpipe
  bool lambda_log = false, show_abs_r = false, w2_log = true, loss_log = true;
  float playback_seconds = 3.0f;
  bool operator==(const ViewSettings& o) const;
};

struct SessionFile {
  Config config;                 // the running experiment's, λ the one it started with
  LambdaSchedule lambda_history;  // every change of λ during the run, by iteration
  int64_t iteration = 0;          // where the run was when saved (informational)
  SamplerSettings sampler;
  ResidualSettings residual;
  ViewSettings view;
  std::string checkpoint;               // read: absolute path of the weights' folder, "" when none
  std::optional<WeightedCloud> data;    // dataset csv/file: the cloud, so the file is not needed
  std::vector<ResidualGapPoint> gap_points;  // the residual–gap plot's points of the session so far
  std::string note;  // read: what opening had to give up ("" normally), one line
};

// The checkpoint folder that goes with a session file: "run.json" -> "run-checkpoint".
std::string session_checkpoint_dir(const std::string& session_path);

// Writes atomically; `with_checkpoint` records session_checkpoint_dir(path) (the caller
// saves the weights there). Throws naming the file.
void write_session_file(const std::string& path, const SessionFile& s, bool with_checkpoint);
// Strict: unknown keys and bad values throw one line naming the file and the key. When the
// config's data file is missing here, the embedded cloud is written beside the session
// file ("run-data.csv") and the config points there (an existing file of that name is
// used as it is, never overwritten).
SessionFile read_session_file(const std::string& path);

// "gapscope-cli train --set k=v … [--lambda-schedule …] --threads 1 --out DIR": every key
// that differs from the CLI's defaults, shell-quoted where needed.
std::string cli_command(const Config& c, const LambdaSchedule& history, const std::string& out = "gapscope-out/run");

}  // namespace gapscope::gui

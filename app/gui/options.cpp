#include "options.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "canvas.h"

namespace gapscope::gui {
namespace fs = std::filesystem;

namespace {

struct Raw {  // the command line as typed
  std::string config, checkpoint, import_file, schedule, session, strokes;
  std::vector<std::string> sets;
  double lambda = 1.0;
  bool paused = false;
};

// An integer >= 0, said in words (CLI11's own range message prints the type's limits).
const CLI::Validator kCount(
    [](std::string& v) {
      try {
        std::size_t end = 0;
        if (std::stoll(v, &end) >= 0 && end == v.size()) return std::string();
      } catch (const std::exception&) {
      }
      return "expected a count >= 0, got " + v;
    },
    "COUNT");

void add_options(CLI::App& app, Raw& raw, LabOptions& o) {
  app.add_option("--config", raw.config, "experiment JSON (default: the built-in circles2 setting)")
      ->check(CLI::ExistingFile);
  app.add_option("--checkpoint", raw.checkpoint, "resume a checkpoint directory (gapscope-cli train --out, or Ctrl+S)");
  app.add_option("--import", raw.import_file, "start from a PyTorch network (torch.save of the module or its state_dict)");
  app.add_option("--set", raw.sets, "override a config key, key=value (repeatable); wins over --lambda");
  app.add_option("--lambda", raw.lambda, "initial λ (the lab's default is 1; a config file's lambda is replaced by it)");
  app.add_option("--lambda-schedule", raw.schedule, "set λ at given iterations: \"it:λ,it:λ\"");
  app.add_flag("--paused", raw.paused, "open with training paused");
  app.add_option("--session", raw.session,
                 "reopen a saved session (Save session): its experiment, λ history, sampler and views, and its "
                 "weights when saved with them");
  app.add_option("--draw-strokes", raw.strokes,
                 "paint these strokes \"x,y x,y …;x,y …\" into the drawing canvas (one point a frame), then train "
                 "on the drawing");
  app.add_option("--draw-dim", o.draw_dim, "the drawing canvas's dimension for --draw-strokes (d = 1: x,height)")
      ->check(CLI::Range(1, 2));
  app.add_option("--export-all", o.export_dir,
                 "after the last frame, write every export (PNGs, SVGs, CSVs, checkpoint) here");
  app.add_option("--frames", o.frames, "run this many frames, then exit (0: until the window closes)")
      ->check(kCount);
  app.add_option("--screenshot", o.screenshot, "write a PNG of the window after the last frame");
  app.add_option("--report-frames", o.report_path, "write per-frame times, panel rectangles and the λ history as JSON");
  app.add_option("--size", o.width, "window width")->check(CLI::Range(400, 8000));
  app.add_option("--height", o.height, "window height")->check(CLI::Range(300, 8000));
  app.add_option("--fps", o.fps, "frame-rate cap (software GL is costly: the cap leaves the cores to training)")
      ->check(CLI::Range(5.0, 1000.0));
  app.add_option("--tab", o.tab,
                 "the residual panel's tab at start: residual, density (computes the ODE density of the first weights) "
                 "sweep (runs the step-count sweep on them) or gap (the residual-gap plot of every finished pass "
                 "beside the residual over training)")
      ->check(CLI::IsMember({"residual", "density", "sweep", "gap"}));
  app.add_flag("--show-final", o.show_final, "park the particle playback at t = eps: the newest pass's final clouds");
  app.add_option("--particles", o.session.particles, "particles per sampler (the Sampler panel changes it live)")
      ->check(CLI::Range(10, 50000));
  app.add_option("--steps", o.session.steps,
                 "sampler steps N for the live views (lighter than the paper's 400 so that a pass takes seconds; the "
                 "last 10 are refined ten-fold as in the paper)")
      ->check(CLI::Range(11, 20000));
}

// The session's start from what was typed; throws std::invalid_argument / runtime_error
// with the option in the message.
void build_session(const CLI::App& app, const Raw& raw, SessionOptions& s);

// --session F: the saved run in place of --config / --checkpoint; --set and --lambda
// still apply on top.
void open_session(const CLI::App& app, const Raw& raw, LabOptions& o) {
  if (!raw.config.empty() || !raw.checkpoint.empty() || !raw.import_file.empty() || !raw.schedule.empty())
    throw std::invalid_argument("--session " + raw.session +
                                ": give --session alone, without --config, --checkpoint, --import or --lambda-schedule");
  const SessionFile f = read_session_file(raw.session);  // its errors name the file
  if (!f.note.empty()) std::fprintf(stderr, "gapscope: note: %s\n", f.note.c_str());
  SessionOptions& s = o.session;
  s.config = f.config;
  s.lambda_schedule = f.lambda_history;
  s.checkpoint = f.checkpoint;
  s.sampler = f.sampler;
  s.residual = f.residual;
  s.gap_points = f.gap_points;
  std::vector<std::string> sets = raw.sets;
  if (app.count("--lambda")) sets.insert(sets.begin(), "lambda=" + std::to_string(raw.lambda));
  s.lambda_given = app.count("--lambda") > 0;
  for (const auto& a : raw.sets) s.lambda_given = s.lambda_given || a.rfind("lambda=", 0) == 0;
  apply_overrides(s.config, sets);
  s.start_training = !raw.paused;
  o.view = f.view;
}

void build_session(const CLI::App& app, const Raw& raw, SessionOptions& s) {
  try {
    s.lambda_schedule = parse_lambda_schedule(raw.schedule);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("--lambda-schedule: ") + e.what());
  }
  // The lab's default λ is 1 (the paper's baseline files say 0); with --checkpoint the
  // checkpoint's λ stands unless --lambda or --set lambda=... is given.
  const bool lambda_knob = (raw.checkpoint.empty() && raw.import_file.empty()) || app.count("--lambda");
  s.lambda_given = app.count("--lambda") > 0;
  for (const auto& a : raw.sets) s.lambda_given = s.lambda_given || a.rfind("lambda=", 0) == 0;
  try {
    s.config = raw.config.empty() ? lab_default_config() : load_config(raw.config);
  } catch (const std::exception& e) {
    throw std::invalid_argument("--config " + raw.config + ": " + e.what());
  }
  // --lambda first, then the --set list (which wins), so an error names only what was typed.
  if (lambda_knob) apply_overrides(s.config, {"lambda=" + std::to_string(raw.lambda)});
  apply_overrides(s.config, raw.sets);  // its errors name the --set
  s.config.validate();
  if (!raw.checkpoint.empty() && !fs::is_directory(raw.checkpoint))
    throw std::invalid_argument("--checkpoint " + raw.checkpoint + ": not a folder");
  s.checkpoint = raw.checkpoint;
  if (!raw.import_file.empty() && !raw.checkpoint.empty())
    throw std::invalid_argument("--import " + raw.import_file + ": give either --import or --checkpoint, not both");
  if (!raw.import_file.empty() && !fs::is_regular_file(raw.import_file))
    throw std::invalid_argument("--import " + raw.import_file + ": not a file");
  s.import_file = raw.import_file;
  s.start_training = !raw.paused;
}

void check_outputs(const LabOptions& o) {
  const std::pair<const char*, const std::string*> files[] = {{"--screenshot", &o.screenshot},
                                                              {"--report-frames", &o.report_path}};
  for (const auto& [name, path] : files)
    if (!path->empty())
      if (const std::string why = check_output_path(*path, false); !why.empty())
        throw std::invalid_argument(std::string(name) + " " + *path + ": " + why);
  if (!o.export_dir.empty())
    if (const std::string why = check_output_path(o.export_dir, true); !why.empty())
      throw std::invalid_argument("--export-all " + o.export_dir + ": " + why);
}

}  // namespace

std::string check_output_path(const std::string& path, bool folder) {
  std::error_code ec;
  const fs::path p = fs::absolute(path, ec);
  if (ec) return ec.message();
  fs::path dir;  // the folder that must be writable
  if (fs::exists(p, ec)) {
    if (fs::is_directory(p, ec) != folder) return folder ? "is a file, expected a folder" : "is a folder, expected a file";
    dir = folder ? p : p.parent_path();
  } else {
    dir = p.parent_path();
    while (!fs::exists(dir, ec) && dir != dir.root_path()) dir = dir.parent_path();
    if (!fs::is_directory(dir, ec)) return dir.string() + " is not a folder";
  }
  if (::access(dir.c_str(), W_OK) != 0) return dir.string() + " is not writable";
  return "";
}

std::optional<int> parse_options(int argc, char** argv, LabOptions& out) {
  CLI::App app{"gapscope: desktop lab for the ODE/SDE gap of score-based diffusion models"};
  Raw raw;
  add_options(app, raw, out);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "gapscope: %s\n", first_line(e.what()).c_str());
    return e.get_exit_code() ? e.get_exit_code() : 2;
  }
  try {
    // CLI11's Range lets NaN through (every comparison with it is false).
    if (!(out.fps >= 5.0 && out.fps <= 1000.0)) throw std::invalid_argument("--fps: expected a number in [5, 1000]");
    if (!raw.session.empty())
      open_session(app, raw, out);
    else
      build_session(app, raw, out.session);
    if (!raw.strokes.empty()) {
      try {
        out.strokes = parse_strokes(raw.strokes);
      } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("--draw-strokes: ") + e.what());
      }
    }
    check_outputs(out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gapscope: %s\n", first_line(e.what()).c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace gapscope::gui

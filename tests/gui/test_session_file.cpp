// Bringing one's own data and sharing a session, without a window: the drawing canvas
// (seeded strokes, erase, the d = 1 curve as weights), session files (save -> open gives
// the same config, λ history, sampler and views; weights beside it; the data embedded
// for another machine; strict reading), and the headless command line.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "canvas.h"
#include "options.h"
#include "session.h"
#include "session_file.h"
#include "session_fixture.h"
#include "threads.h"

namespace fs = std::filesystem;
using namespace gapscope;
using namespace gapscope::gui::fixture;
using namespace gapscope::gui;

namespace {

// The lab's command line as main() gets it.
std::optional<int> parse(std::vector<std::string> args, LabOptions& o) {
  args.insert(args.begin(), "gapscope");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data(), o);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

ViewSettings odd_views() {
  ViewSettings v;
  v.cx = 0.75f, v.cy = -1.25f, v.half = 2.5f;
  v.point_size = 5.5f, v.point_alpha = 0.3f;
  v.density_shading = true;
  v.n_traj = 12;
  v.lambda_log = true, v.show_abs_r = true, v.w2_log = false, v.loss_log = false;
  v.playback_seconds = 7.5f;
  return v;
}

// The words of a command that cli_command() quoted for a POSIX shell.
std::vector<std::string> shell_words(const std::string& cmd) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false, escaped = false;
  for (char c : cmd) {
    if (escaped) {
      cur += c;
      escaped = false;
    } else if (c == '\\' && !quoted) {
      escaped = true;
    } else if (c == '\'') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any || !cur.empty()) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
    }
  }
  if (any || !cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

TEST(Canvas, StrokesPaintTheSamePointsFromTheSameSeed) {
  Brush b;
  b.radius = 0.4f;
  b.density = 10;
  auto paint = [&](uint64_t seed) {
    DrawCanvas c;
    c.start(2, 3.5, seed);
    for (float x = -2; x <= 2; x += 0.05f) c.stroke_to(x, 0.5f * x, b);
    c.end_stroke();
    return c;
  };
  const DrawCanvas a = paint(1), again = paint(1), other = paint(2);
  // Dabs every half radius along a segment of length ~4.47: about 22 dabs of 10 points.
  EXPECT_GT(a.count(), 150u);
  EXPECT_LT(a.count(), 260u);
  EXPECT_EQ(a.points()->v, again.points()->v);
  EXPECT_NE(a.points()->v, other.points()->v);
  for (std::size_t i = 0; i < a.points()->n(); ++i) {
    const float* p = a.points()->row(i);
    EXPECT_LE(std::abs(p[1] - 0.5f * p[0]) / std::sqrt(1.25f), 0.4f + 1e-4f) << "a point off the brush's path";
  }
  const WeightedCloud cloud = a.cloud();
  EXPECT_EQ(cloud.size(), a.count());
  EXPECT_TRUE(cloud.weights().empty());
}

TEST(Canvas, EraseRemovesWhatTheBrushCovers) {
  DrawCanvas c;
  c.start(2, 3.5, 0);
  Brush b;
  b.radius = 0.5f;
  b.density = 50;
  c.stroke_to(0, 0, b);
  c.end_stroke();
  c.stroke_to(2, 2, b);
  c.end_stroke();
  const std::size_t before = c.count();
  b.erase = true;
  c.stroke_to(0, 0, b);
  c.end_stroke();
  EXPECT_EQ(c.count(), before - 50);
  for (std::size_t i = 0; i < c.points()->n(); ++i) EXPECT_GT(std::hypot(c.points()->row(i)[0], c.points()->row(i)[1]), 0.5f);
  c.clear();
  EXPECT_TRUE(c.empty());
  EXPECT_NE(error_of([&] { c.cloud(); }).find("nothing drawn"), std::string::npos);
}

TEST(Canvas, OneDimensionalCurveBecomesWeights) {
  DrawCanvas c;
  c.start(1, 3.5, 0);
  Brush b;
  // A step: height 1 on [-2, -1], height 0.25 on [1, 2].
  c.stroke_to(-2, 1, b);
  c.stroke_to(-1, 1, b);
  c.end_stroke();
  c.stroke_to(1, 0.25f, b);
  c.stroke_to(2, 0.25f, b);
  c.end_stroke();
  const WeightedCloud cloud = c.cloud();
  ASSERT_EQ(cloud.dim(), 1);
  ASSERT_EQ(cloud.size(), static_cast<std::size_t>(DrawCanvas::kCurveNodes));
  std::mt19937_64 rng(5);
  const Points s = cloud.sample(40000, rng);
  std::size_t left = 0, right = 0, elsewhere = 0;
  for (float x : s.v) (x > -2.1f && x < -0.9f ? left : x > 0.9f && x < 2.1f ? right : elsewhere)++;
  EXPECT_EQ(elsewhere, 0u);
  EXPECT_NEAR(static_cast<double>(left) / static_cast<double>(right), 4.0, 0.4);
}

TEST(Canvas, StrokesParseOrSayWhichPointIsBad) {
  const auto s = parse_strokes("0,0 1,1;2,2  3,3 4,4;");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].size(), 3u);
  EXPECT_EQ(s[1][2], std::make_pair(4.f, 4.f));
  EXPECT_NE(error_of([] { parse_strokes("0,0 1;2,2"); }).find("bad point '1'"), std::string::npos);
  EXPECT_NE(error_of([] { parse_strokes(" ; "); }).find("no strokes"), std::string::npos);
}

TEST(SessionFile, SaveThenOpenGivesTheSameExperimentAndViews) {
  const fs::path dir = temp_dir("roundtrip");
  SessionOptions o = tiny();
  o.config.seed = 17;
  o.config.dataset = "moons";
  o.lambda_schedule = {{5, 2.0}};
  Session s(o);
  ASSERT_TRUE(s.ready()) << s.last_error();
  steps(s, 2);
  s.set_lambda(0.5);
  steps(s, 2);
  s.set_lambda(4.0);
  SamplerSettings m = s.worker().sampler();
  m.particles = 333;
  m.metric = W2Metric::Sliced;
  s.worker().set_sampler(m);
  const std::string path = (dir / "run.json").string();
  s.save_session(path, odd_views(), false);
  s.wait_jobs();
  ASSERT_TRUE(fs::exists(path)) << s.last_error();
  const LambdaSchedule expected = {{2, 0.5}, {4, 4.0}, {5, 2.0}};
  EXPECT_EQ(s.lambda_history(), expected);

  LabOptions lab;
  ASSERT_FALSE(parse({"--session", path}, lab).has_value());
  EXPECT_EQ(to_json(lab.session.config), to_json(s.config()));
  EXPECT_EQ(lab.session.config.seed, 17u);
  EXPECT_EQ(lab.session.lambda_schedule, expected);
  EXPECT_TRUE(lab.session.checkpoint.empty());
  ASSERT_TRUE(lab.view.has_value());
  EXPECT_TRUE(*lab.view == odd_views());
  ASSERT_TRUE(lab.session.sampler.has_value());
  EXPECT_EQ(lab.session.sampler->particles, 333);
  EXPECT_EQ(lab.session.sampler->metric, W2Metric::Sliced);
  EXPECT_EQ(lab.session.sampler->steps, m.steps);

  // The reopened session is the same run: same seed, same λ history, same first steps.
  lab.session.start_training = false;
  Session again(lab.session);
  ASSERT_TRUE(again.ready()) << again.last_error();
  EXPECT_EQ(again.lambda_history(), expected);
  EXPECT_EQ(again.worker().sampler().particles, 333);
  steps(again, 4);
  ASSERT_EQ(again.history().size(), 4u);
  ASSERT_EQ(s.history().size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(again.history()[k].lambda, s.history()[k].lambda) << "iteration " << k;
    EXPECT_EQ(again.history()[k].loss, s.history()[k].loss) << "iteration " << k;
  }
  fs::remove_all(dir);
}

TEST(SessionFile, WeightsTravelBesideTheFile) {
  const fs::path dir = temp_dir("weights");
  Session s(tiny());
  ASSERT_TRUE(s.ready());
  steps(s, 3);
  const std::string path = (dir / "with.json").string();
  s.save_session(path, ViewSettings{}, true);
  s.wait_jobs();
  ASSERT_TRUE(fs::is_directory(dir / "with-checkpoint")) << s.last_error();
  // Moved elsewhere together, the pair still opens.
  const fs::path moved = temp_dir("weights-moved");
  fs::rename(dir / "with.json", moved / "with.json");
  fs::rename(dir / "with-checkpoint", moved / "with-checkpoint");
  LabOptions lab;
  ASSERT_FALSE(parse({"--session", (moved / "with.json").string(), "--paused"}, lab).has_value());
  EXPECT_EQ(fs::path(lab.session.checkpoint), fs::absolute(moved / "with-checkpoint"));
  Session again(lab.session);
  ASSERT_TRUE(again.ready()) << again.last_error();
  EXPECT_EQ(again.iteration(), 3);
  fs::remove_all(dir);
  fs::remove_all(moved);
}

TEST(SessionFile, TheDataSetTravelsInsideTheFile) {
  const fs::path dir = temp_dir("data");
  const std::string csv = (dir / "mine.csv").string();
  std::ofstream(csv) << "x,y\n0.5,1\n-1,2\n1.5,-0.5\n";
  SessionOptions o = tiny();
  o.config.dataset = "file";
  o.config.data_file = csv;
  Session s(o);
  ASSERT_TRUE(s.ready()) << s.last_error();
  ASSERT_TRUE(s.data_preview());
  EXPECT_EQ(s.data_preview()->d, 2);
  EXPECT_EQ(s.data_preview()->n(), 64u) << "the data view shows the file before any pass";
  const std::string path = (dir / "trip.json").string();
  s.save_session(path, ViewSettings{}, false);
  s.wait_jobs();
  fs::remove(csv);  // another machine: the file is not there
  const SessionFile f = read_session_file(path);
  EXPECT_EQ(f.config.data_file, (dir / "trip-data.csv").string());
  ASSERT_TRUE(f.data.has_value());
  EXPECT_EQ(read_points_csv(f.config.data_file).v, (std::vector<float>{0.5f, 1, -1, 2, 1.5f, -0.5f}));

  // With weights whose own config names the missing file: the run starts anew from the
  // restored data, and says so.
  std::ofstream(csv) << "x,y\n0.5,1\n-1,2\n1.5,-0.5\n";
  const std::string heavy = (dir / "heavy.json").string();
  s.save_session(heavy, ViewSettings{}, true);
  s.wait_jobs();
  ASSERT_TRUE(fs::is_directory(dir / "heavy-checkpoint")) << s.last_error();
  EXPECT_FALSE(read_session_file(heavy).checkpoint.empty());
  fs::remove(csv);
  const SessionFile g = read_session_file(heavy);
  EXPECT_TRUE(g.checkpoint.empty());
  EXPECT_NE(g.note.find("training anew"), std::string::npos) << g.note;
  EXPECT_EQ(g.config.data_file, (dir / "heavy-data.csv").string());
  SessionOptions again = o;
  again.config = g.config;
  Session reopened(again);
  EXPECT_TRUE(reopened.ready()) << reopened.last_error();
  fs::remove_all(dir);
}

TEST(SessionFile, BadFilesAreOneLineNamingTheKey) {
  const fs::path dir = temp_dir("bad");
  const std::string path = (dir / "s.json").string();
  Session s(tiny());
  s.save_session(path, ViewSettings{}, false);
  s.wait_jobs();
  const nlohmann::json good = nlohmann::json::parse(std::ifstream(path));
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](auto& j) { j["colour"] = 1; }, "key 'colour': unknown key"},
      {[](auto& j) { j["view"]["zoom"] = 1; }, "key 'view.zoom': unknown key"},
      {[](auto& j) { j["view"]["half"] = -3; }, "key 'view.half'"},
      {[](auto& j) { j["sampler"]["particles"] = "many"; }, "key 'sampler.particles'"},
      {[](auto& j) { j["sampler"]["w2_metric"] = "best"; }, "key 'sampler.w2_metric'"},
      {[](auto& j) { j["gapscope_session"] = 9; }, "key 'gapscope_session'"},
      {[](auto& j) { j["config"]["hidden"] = "wide"; }, "key 'hidden'"},
      {[](auto& j) { j["lambda_history"] = {{1, -2}}; }, "key 'lambda_history'"},
      {[](auto& j) { j["checkpoint"] = "gone"; }, "key 'checkpoint'"},
      {[](auto& j) { j["residual_gap"] = {{{"source", 1}}}; }, "key 'residual_gap[0].source'"},
      {[](auto& j) { j["residual_gap"] = {{{"source", "a"}, {"lambda", -1}}}; }, "key 'residual_gap'"},
      {[](auto& j) { j["residual_gap"] = {{{"source", "a"}, {"colour", 1}}}; }, "key 'residual_gap[0].colour'"},
  };
  for (const auto& [edit, what] : cases) {
    nlohmann::json j = good;
    edit(j);
    std::ofstream(path) << j.dump();
    const std::string err = error_of([&] { read_session_file(path); });
    EXPECT_EQ(err.rfind(path + ": ", 0), 0u) << err;
    EXPECT_NE(err.find(what), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    LabOptions lab;
    EXPECT_EQ(parse({"--session", path}, lab), std::optional<int>(2));
  }
  LabOptions lab;
  EXPECT_EQ(parse({"--session", path, "--config", path}, lab), std::optional<int>(2));
  fs::remove_all(dir);
}

TEST(SessionFile, CopiedCommandRebuildsTheExperiment) {
  Config c = lab_default_config();
  c.dataset = "file";
  c.data_file = "/tmp/my data/it's.csv";
  c.seed = 3;
  c.lr_schedule = "constant";
  const std::string cmd = cli_command(c, {{0, 1.0}, {250, 0.25}}, "out dir");
  const auto words = shell_words(cmd);
  ASSERT_GE(words.size(), 4u);
  EXPECT_EQ(words[0], "gapscope-cli");
  EXPECT_EQ(words[1], "train");
  std::vector<std::string> sets;
  std::string schedule, out, threads;
  for (std::size_t i = 2; i + 1 < words.size(); i += 2) {
    if (words[i] == "--set") sets.push_back(words[i + 1]);
    if (words[i] == "--lambda-schedule") schedule = words[i + 1];
    if (words[i] == "--out") out = words[i + 1];
    if (words[i] == "--threads") threads = words[i + 1];
  }
  Config rebuilt;
  ASSERT_NO_THROW(apply_overrides(rebuilt, sets)) << cmd;
  EXPECT_EQ(to_json(rebuilt), to_json(c)) << cmd;
  EXPECT_EQ(parse_lambda_schedule(schedule), (LambdaSchedule{{0, 1.0}, {250, 0.25}}));
  EXPECT_EQ(out, "out dir");
  EXPECT_EQ(threads, "1");
  EXPECT_EQ(cmd.find("--set hidden"), std::string::npos) << "defaults are left out: " << cmd;
}

// The residual–gap plot's points travel in the session file and come back first in the
// reopened session, before the points of its own passes.
TEST(SessionFile, ResidualGapPointsTravelWithTheSession) {
  const fs::path dir = temp_dir("gap");
  Session s(tiny());
  ASSERT_TRUE(s.ready()) << s.last_error();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (s.gap_points()->size() < 2 && std::chrono::steady_clock::now() < end) {
    s.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto saved = s.gap_points();
  ASSERT_GE(saved->size(), 2u) << s.worker().error();
  const std::string path = (dir / "run.json").string();
  s.save_session(path, ViewSettings{}, false);
  s.wait_jobs();
  LabOptions lab;
  ASSERT_FALSE(parse({"--session", path}, lab).has_value());
  ASSERT_EQ(lab.session.gap_points.size(), saved->size());
  for (std::size_t i = 0; i < saved->size(); ++i) EXPECT_TRUE(lab.session.gap_points[i] == (*saved)[i]) << i;
  lab.session.start_training = false;
  Session again(lab.session);
  ASSERT_TRUE(again.ready()) << again.last_error();
  ASSERT_GE(again.gap_points()->size(), saved->size());
  for (std::size_t i = 0; i < saved->size(); ++i) EXPECT_TRUE((*again.gap_points())[i] == (*saved)[i]) << i;
  fs::remove_all(dir);
}

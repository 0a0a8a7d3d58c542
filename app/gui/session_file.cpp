#include "session_file.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"

namespace gapscope::gui {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kVersion = 1;
const char* const kSchemes[] = {"euler", "heun", "rk4"};
const char* const kMetrics[] = {"exact", "grid", "sliced"};

// One section of the file: typed reads by key, and at the end no key left unread.
class Section {
 public:
  Section(const json& j, std::string name, const std::string& file) : j_(j), name_(std::move(name)), file_(file) {
    if (!j_.is_object()) fail(name_, "expected an object");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw std::invalid_argument(file_ + ": key '" + key + "': " + why);
  }
  std::string key(const char* k) const { return name_.empty() ? k : name_ + "." + k; }
  const json* find(const char* k) {
    seen_.insert(k);
    auto it = j_.find(k);
    return it == j_.end() ? nullptr : &*it;
  }
  template <class T>
  void get(const char* k, T& out) {
    const json* v = find(k);
    if (!v) return;  // absent: the default stands (a file written by an older lab)
    bool ok;
    if constexpr (std::is_same_v<T, bool>) ok = v->is_boolean();
    else if constexpr (std::is_integral_v<T>) ok = v->is_number_integer();
    else if constexpr (std::is_floating_point_v<T>) ok = v->is_number();
    else ok = v->is_string();
    if (!ok) fail(key(k), v->dump().substr(0, 40) + ": expected " + expected<T>());
    out = v->get<T>();
    if constexpr (std::is_floating_point_v<T>)
      if (!std::isfinite(out)) fail(key(k), "expected a finite number");
  }
  template <std::size_t N>
  void choice(const char* k, const char* const (&names)[N], int& out) {
    std::string s = names[out];
    get(k, s);
    for (std::size_t i = 0; i < N; ++i)
      if (s == names[i]) return void(out = static_cast<int>(i));
    std::string list;
    for (const char* n : names) list += (list.empty() ? "" : "|") + std::string(n);
    fail(key(k), "\"" + s.substr(0, 20) + "\": expected one of " + list);
  }
  void done() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key())) fail(key(it.key().c_str()), "unknown key");
  }

 private:
  template <class T>
  static const char* expected() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_integral_v<T>) return "an integer";
    else if constexpr (std::is_floating_point_v<T>) return "a number";
    else return "a string";
  }
  const json& j_;
  std::string name_;
  const std::string& file_;
  std::set<std::string> seen_;
};

json view_json(const ViewSettings& v) {
  return {{"center", {v.cx, v.cy}},         {"half", v.half},
          {"point_size", v.point_size},     {"point_alpha", v.point_alpha},
          {"density_shading", v.density_shading}, {"trajectories", v.n_traj},
          {"lambda_log", v.lambda_log},     {"abs_r", v.show_abs_r},
          {"w2_log", v.w2_log},             {"loss_log", v.loss_log},
          {"animation_seconds", v.playback_seconds}};
}

json data_json(const WeightedCloud& c) {
  return {{"d", c.dim()}, {"points", c.points().v}, {"weights", c.weights()}};
}

WeightedCloud read_data(const json& j, const std::string& file) {
  Section s(j, "data", file);
  int d = 0;
  s.get("d", d);
  if (d < 1) s.fail("data.d", "expected an integer >= 1");
  Points p(d, 0);
  std::vector<double> w;
  try {
    if (const json* v = s.find("points")) p.v = v->get<std::vector<float>>();
    if (const json* v = s.find("weights")) w = v->get<std::vector<double>>();
  } catch (const json::exception&) {
    s.fail("data.points", "expected lists of numbers");
  }
  s.done();
  if (p.v.size() % static_cast<std::size_t>(d)) s.fail("data.points", "expected a multiple of d values");
  try {
    return WeightedCloud(std::move(p), std::move(w));
  } catch (const std::invalid_argument& e) {
    s.fail("data", e.what());
  }
}

// The data file to restore the embedded cloud to: beside the session file.
std::string restored_data_path(const std::string& session_path) {
  const fs::path p(session_path);
  return (p.parent_path() / (p.stem().string() + "-data.csv")).string();
}

// A word the shell passes through unchanged, or the word in single quotes.
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                       "0123456789_./:,+-=@%") == std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

bool ViewSettings::operator==(const ViewSettings& o) const {
  return cx == o.cx && cy == o.cy && half == o.half && point_size == o.point_size && point_alpha == o.point_alpha &&
         density_shading == o.density_shading && n_traj == o.n_traj && lambda_log == o.lambda_log &&
         show_abs_r == o.show_abs_r && w2_log == o.w2_log && loss_log == o.loss_log &&
         playback_seconds == o.playback_seconds;
}

std::string session_checkpoint_dir(const std::string& session_path) {
  const fs::path p(session_path);
  return (p.parent_path() / (p.stem().string() + "-checkpoint")).string();
}

void write_session_file(const std::string& path, const SessionFile& s, bool with_checkpoint) {
  json j;
  j["gapscope_session"] = kVersion;
  j["config"] = to_json(s.config);
  json hist = json::array();
  for (const auto& [it, lam] : s.lambda_history) hist.push_back({it, lam});
  j["lambda_history"] = hist;
  j["iteration"] = s.iteration;
  const SamplerSettings& m = s.sampler;
  j["sampler"] = {{"ode_method", kSchemes[static_cast<int>(m.scheme)]},
                  {"steps", m.steps},
                  {"particles", m.particles},
                  {"shared_prior", m.shared_prior},
                  {"w2_metric", kMetrics[static_cast<int>(m.metric)]},
                  {"w2_points", m.w2_max_points}};
  j["residual"] = {{"enabled", s.residual.enabled}, {"period_s", s.residual.period_s}};
  j["view"] = view_json(s.view);
  // Relative to the session file, so the pair can be moved together.
  if (with_checkpoint) j["checkpoint"] = fs::path(session_checkpoint_dir(path)).filename().string();
  if (s.data) j["data"] = data_json(*s.data);
  if (!s.gap_points.empty()) {
    auto v = [](double x) { return std::isfinite(x) ? json(x) : json(nullptr); };
    json g = json::array();
    for (const auto& p : s.gap_points)
      g.push_back({{"source", p.source}, {"iteration", p.iteration}, {"lambda", p.lambda},
                   {"res_mean_sq", v(p.res_mean_sq)}, {"res_time_weighted", v(p.res_time_weighted)},
                   {"w2_ode_sde", v(p.w2_ode_sde)}});
    j["residual_gap"] = g;
  }
  write_file_atomically(path, j.dump(1) + "\n");
}

SessionFile read_session_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open session file");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(path + ": invalid JSON (" + std::string(e.what()).substr(0, 120) + ")");
  }
  Section top(j, "", path);
  int version = 0;
  top.get("gapscope_session", version);
  if (version != kVersion) top.fail("gapscope_session", "expected " + std::to_string(kVersion) + " (a gapscope session file)");
  SessionFile s;
  const json* cfg = top.find("config");
  if (!cfg) top.fail("config", "missing");
  // The embedded cloud replaces a data file this machine lacks, before the config is
  // validated (dim() reads the file).
  json cj = *cfg;
  if (const json* d = top.find("data")) {
    s.data = read_data(*d, path);
    const char* key = cj.value("dataset", "") == "csv" ? "data_csv" : "data_file";
    const std::string file = cj.value(key, "");
    if (file.empty() || !fs::exists(file)) {
      const std::string restored = restored_data_path(path);
      if (!fs::exists(restored)) s.data->write_csv(restored);
      cj[key] = restored;
    }
  }
  s.config = config_from_json(cj, path);
  if (const json* h = top.find("lambda_history")) {
    if (!h->is_array()) top.fail("lambda_history", "expected a list of [iteration, λ] pairs");
    for (const auto& e : *h) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || e[0].get<int64_t>() < 0 || !e[1].is_number() ||
          !(e[1].get<double>() >= 0))
        top.fail("lambda_history", e.dump().substr(0, 40) + ": expected [iteration >= 0, λ >= 0]");
      s.lambda_history.emplace_back(e[0].get<int64_t>(), e[1].get<double>());
    }
  }
  top.get("iteration", s.iteration);
  if (const json* m = top.find("sampler")) {
    Section sec(*m, "sampler", path);
    int scheme = static_cast<int>(s.sampler.scheme), metric = static_cast<int>(s.sampler.metric);
    sec.choice("ode_method", kSchemes, scheme);
    sec.choice("w2_metric", kMetrics, metric);
    s.sampler.scheme = static_cast<OdeScheme>(scheme);
    s.sampler.metric = static_cast<W2Metric>(metric);
    sec.get("steps", s.sampler.steps);
    sec.get("particles", s.sampler.particles);
    sec.get("shared_prior", s.sampler.shared_prior);
    sec.get("w2_points", s.sampler.w2_max_points);
    sec.done();
    if (s.sampler.steps < 11 || s.sampler.steps > 20000) sec.fail("sampler.steps", "expected an integer in [11, 20000]");
    if (s.sampler.particles < 10 || s.sampler.particles > 50000)
      sec.fail("sampler.particles", "expected an integer in [10, 50000]");
    if (s.sampler.w2_max_points < 50 || s.sampler.w2_max_points > 20000)
      sec.fail("sampler.w2_points", "expected an integer in [50, 20000]");
  }
  if (const json* r = top.find("residual")) {
    Section sec(*r, "residual", path);
    sec.get("enabled", s.residual.enabled);
    sec.get("period_s", s.residual.period_s);
    sec.done();
    if (!(s.residual.period_s >= 0.5 && s.residual.period_s <= 30)) sec.fail("residual.period_s", "expected a number in [0.5, 30]");
  }
  if (const json* g = top.find("residual_gap")) {
    if (!g->is_array()) top.fail("residual_gap", "expected a list of points");
    for (const auto& e : *g) {
      if (!e.is_object()) top.fail("residual_gap", e.dump().substr(0, 40) + ": expected a point object");
      Section sec(e, "residual_gap[" + std::to_string(s.gap_points.size()) + "]", path);
      ResidualGapPoint p;
      sec.get("source", p.source);
      sec.get("iteration", p.iteration);
      sec.get("lambda", p.lambda);
      // null: a value the pass could not measure (NaN), as the CSV's "nan".
      for (auto [k, out] : {std::pair{"res_mean_sq", &p.res_mean_sq}, std::pair{"res_time_weighted", &p.res_time_weighted},
                            std::pair{"w2_ode_sde", &p.w2_ode_sde}})
        if (const json* x = sec.find(k); x && !x->is_null()) sec.get(k, *out);
      sec.done();
      if (p.iteration < 0 || !(p.lambda >= 0)) sec.fail("residual_gap", "expected iteration >= 0 and λ >= 0");
      s.gap_points.push_back(std::move(p));
    }
  }
  if (const json* v = top.find("view")) {
    Section sec(*v, "view", path);
    ViewSettings& w = s.view;
    if (const json* c = sec.find("center")) {
      if (!c->is_array() || c->size() != 2 || !(*c)[0].is_number() || !(*c)[1].is_number())
        sec.fail("view.center", "expected [x, y]");
      w.cx = (*c)[0].get<float>();
      w.cy = (*c)[1].get<float>();
    }
    sec.get("half", w.half);
    sec.get("point_size", w.point_size);
    sec.get("point_alpha", w.point_alpha);
    sec.get("density_shading", w.density_shading);
    sec.get("trajectories", w.n_traj);
    sec.get("lambda_log", w.lambda_log);
    sec.get("abs_r", w.show_abs_r);
    sec.get("w2_log", w.w2_log);
    sec.get("loss_log", w.loss_log);
    sec.get("animation_seconds", w.playback_seconds);
    sec.done();
    if (!(w.half == 0 || (w.half >= 0.05f && w.half <= 200.f))) sec.fail("view.half", "expected 0 or a number in [0.05, 200]");
    if (!(std::abs(w.cx) < 1e6f && std::abs(w.cy) < 1e6f)) sec.fail("view.center", "expected a finite centre");
    w.point_size = std::clamp(w.point_size, 1.f, 10.f);
    w.point_alpha = std::clamp(w.point_alpha, 0.05f, 1.f);
    w.n_traj = std::clamp(w.n_traj, 0, 300);
    w.playback_seconds = std::clamp(w.playback_seconds, 0.5f, 20.f);
  }
  std::string ckpt;
  top.get("checkpoint", ckpt);
  if (!ckpt.empty()) {
    const fs::path dir = fs::path(path).parent_path() / ckpt;
    if (!fs::is_directory(dir)) top.fail("checkpoint", "\"" + ckpt.substr(0, 60) + "\": no such folder beside the session file");
    s.checkpoint = fs::absolute(dir).string();
    // The weights' own config names the data file where it was saved; where that file is
    // missing the checkpoint cannot load, and the run starts anew from the session's config.
    try {
      const json cc = read_config_json((dir / "config.json").string());
      const std::string data = cc.value("dataset", "") == "csv"    ? cc.value("data_csv", "")
                               : cc.value("dataset", "") == "file" ? cc.value("data_file", "")
                                                                   : "";
      if (!data.empty() && !fs::exists(data)) {
        s.note = path + ": the weights' data file " + data + " is not here: training anew from the session's config";
        s.checkpoint.clear();
      }
    } catch (const std::exception&) {
      // An unreadable checkpoint says so itself when the session loads it.
    }
  }
  top.done();
  return s;
}

std::string cli_command(const Config& c, const LambdaSchedule& history, const std::string& out) {
  const json now = to_json(c), defaults = to_json(Config{});
  std::string cmd = "gapscope-cli train";
  for (auto it = now.begin(); it != now.end(); ++it) {
    if (defaults.at(it.key()) == it.value()) continue;
    std::string value;
    if (it.value().is_string()) {
      // A string that would parse as JSON (a number, a list) goes quoted, so --set keeps it a string.
      value = it.value().get<std::string>();
      if (json::accept(value)) value = it.value().dump();
    } else {
      value = it.value().dump();
    }
    cmd += " --set " + shell_word(it.key() + "=" + value);
  }
  if (!history.empty()) {
    std::string s;
    for (const auto& [i, lam] : history) s += (s.empty() ? "" : ",") + std::to_string(i) + ":" + json(lam).dump();
    cmd += " --lambda-schedule " + shell_word(s);
  }
  // The lab trains on one thread; so does this, for the same numbers.
  return cmd + " --threads 1 --out " + shell_word(out);
}

}  // namespace gapscope::gui

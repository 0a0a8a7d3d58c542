#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/points.h"

namespace gapscope {
namespace {

using json = nlohmann::json;

// One table drives reading, writing and key validation, so the three never drift apart.
struct Field {
  std::function<json(const Config&)> get;
  std::function<void(Config&, const json&)> set;
};

// Integers are range-checked before they are narrowed: nlohmann's get<int> of
// 4294967312 is 16, and a network of width 16 would train without a word.
template <class T>
T checked(const json& v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const bool fits = v.is_number_unsigned()
                          ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                          : v.get<std::int64_t>() >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                                (v.get<std::int64_t>() < 0 ||
                                 static_cast<std::uint64_t>(v.get<std::int64_t>()) <=
                                     static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
    if (!fits)
      throw std::out_of_range(v.dump() + ": expected an integer in [" + std::to_string(std::numeric_limits<T>::min()) +
                              ", " + std::to_string(std::numeric_limits<T>::max()) + "]");
  }
  return v.get<T>();
}

template <class T>
Field field(T Config::*m) {
  return {[m](const Config& c) { return json(c.*m); }, [m](Config& c, const json& v) { c.*m = checked<T>(v); }};
}

const std::map<std::string, Field>& fields() {
  static const std::map<std::string, Field> f = {
      {"dataset", field(&Config::dataset)},
      {"data_csv", field(&Config::data_csv)},
      {"data_file", field(&Config::data_file)},
      {"mixture_means", field(&Config::mixture_means)},
      {"mixture_weights", field(&Config::mixture_weights)},
      {"mixture_widths", field(&Config::mixture_widths)},
      {"mixture_dim", field(&Config::mixture_dim)},
      {"sde", field(&Config::sde)},
      {"T", field(&Config::T)},
      {"eps", field(&Config::eps)},
      {"beta_min", field(&Config::beta_min)},
      {"beta_max", field(&Config::beta_max)},
      {"sigma_min", field(&Config::sigma_min)},
      {"sigma_max", field(&Config::sigma_max)},
      {"model", field(&Config::model)},
      {"hidden", field(&Config::hidden)},
      {"layers", field(&Config::layers)},
      {"activation", field(&Config::activation)},
      {"softplus_beta", field(&Config::softplus_beta)},
      {"iterations", field(&Config::iterations)},
      {"lr", field(&Config::lr)},
      {"lr_schedule", field(&Config::lr_schedule)},
      {"boundary_weight", field(&Config::boundary_weight)},
      {"lambda_change", field(&Config::lambda_change)},
      {"collocation", field(&Config::collocation)},
      {"potential_prior", field(&Config::potential_prior)},
      {"batch_dsm", field(&Config::batch_dsm)},
      {"batch_collocation", field(&Config::batch_collocation)},
      {"batch_boundary", field(&Config::batch_boundary)},
      {"box", field(&Config::box)},
      {"lambda", field(&Config::lambda)},
      {"seed", field(&Config::seed)},
      {"device", field(&Config::device)},
      {"log_every", field(&Config::log_every)},
      {"residual_stats_every", field(&Config::residual_stats_every)},
      {"sample_steps", field(&Config::sample_steps)},
      {"sample_refine", field(&Config::sample_refine)},
      {"sample_refine_factor", field(&Config::sample_refine_factor)},
      {"sample_eps", field(&Config::sample_eps)},
      {"ode_method", field(&Config::ode_method)},
      {"ode_rtol", field(&Config::ode_rtol)},
      {"ode_atol", field(&Config::ode_atol)},
      {"sde_sampler", field(&Config::sde_sampler)},
      {"pc_snr", field(&Config::pc_snr)},
      {"pc_corrector_steps", field(&Config::pc_corrector_steps)},
  };
  return f;
}

const char* type_name(const json& v) { return v.type_name(); }

bool type_matches(const json& expected, const json& v) {
  if (expected.is_number_integer()) return v.is_number_integer();
  if (expected.is_number()) return v.is_number();
  if (expected.is_string()) return v.is_string();
  if (expected.is_array()) {
    if (!v.is_array()) return false;
    for (auto& e : v)
      if (!e.is_number()) return false;
    return true;
  }
  return expected.type() == v.type();
}

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& expected) {
  throw std::invalid_argument("key '" + key + "' = " + value + ": expected " + expected);
}

template <class T>
std::string str(const T& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

constexpr int kMaxHidden = 1 << 14, kMaxLayers = 256, kMaxBatch = 1 << 26;
constexpr double kMaxStepBytes = 16e9;

int Config::dim() const {
  if (dataset == "mixture1d") return 1;
  if (dataset == "mixture") return mixture_dim;
  std::vector<double> weights;  // a weight column is not a coordinate
  if (dataset == "csv") return read_points_csv(data_csv, &weights).d;
  if (dataset == "file") return read_points_file(data_file, &weights).d;
  return 2;
}

void Config::validate() const {
  static const std::vector<std::string> datasets = {"blob", "checker", "circles2", "mixture1d", "mixture",
                                                    "moons", "swissroll", "csv", "file"};
  auto one_of = [](const std::string& key, const std::string& v, const std::vector<std::string>& options) {
    for (auto& o : options)
      if (o == v) return;
    std::string list;
    for (auto& o : options) list += (list.empty() ? "" : "|") + o;
    bad(key, "\"" + v + "\"", "one of " + list);
  };
  one_of("dataset", dataset, datasets);
  if (dataset == "csv" && data_csv.empty()) bad("data_csv", "\"\"", "a CSV file path when dataset = csv");
  if (dataset == "file" && data_file.empty())
    bad("data_file", "\"\"", "a data file path (CSV, or NumPy .npy) when dataset = file");
  if (dataset == "mixture" || dataset == "mixture1d") {
    const int d = dataset == "mixture1d" ? 1 : mixture_dim;
    if (d < 1) bad("mixture_dim", str(mixture_dim), "an integer >= 1");
    const std::size_t k = mixture_weights.size();
    if (k == 0) bad("mixture_weights", "[]", "at least one weight");
    if (mixture_means.size() != k * d)
      bad("mixture_means", str(mixture_means.size()) + " values", str(k * d) + " values (d * number of weights)");
    if (mixture_widths.size() != k)
      bad("mixture_widths", str(mixture_widths.size()) + " values", str(k) + " values (one per weight)");
    for (double w : mixture_weights)
      if (!(w >= 0)) bad("mixture_weights", str(w), "non-negative weights");
    for (double w : mixture_widths)
      if (!(w > 0)) bad("mixture_widths", str(w), "positive widths");
  }
  one_of("sde", sde, {"ou", "vp", "ve"});
  if (!(T > 0)) bad("T", str(T), "a positive number");
  // VP and VE are parametrised on [0, 1] (math.md §1); T = 10 would mean beta or sigma far outside the schedule.
  if (sde != "ou" && T > 1.0) bad("T", str(T), "T <= 1 for sde = " + sde + " (set T=1)");
  if (!(eps > 0 && eps < T)) bad("eps", str(eps), "0 < eps < T");
  if (!(beta_min > 0 && beta_max >= beta_min)) bad("beta_max", str(beta_max), "0 < beta_min <= beta_max");
  if (!(sigma_min > 0 && sigma_max > sigma_min)) bad("sigma_max", str(sigma_max), "0 < sigma_min < sigma_max");
  one_of("model", model, {"potential", "score"});
  if (hidden < 1 || hidden > kMaxHidden) bad("hidden", str(hidden), "an integer in [1, " + str(kMaxHidden) + "]");
  if (layers < 1 || layers > kMaxLayers) bad("layers", str(layers), "an integer in [1, " + str(kMaxLayers) + "]");
  one_of("activation", activation, {"softplus", "tanh", "silu"});
  if (!(softplus_beta > 0)) bad("softplus_beta", str(softplus_beta), "a positive number");
  if (iterations < 0) bad("iterations", str(iterations), "an integer >= 0");
  if (!(lr > 0)) bad("lr", str(lr), "a positive number");
  lr_stages();  // throws naming lr_schedule
  if (!(boundary_weight >= 0)) bad("boundary_weight", str(boundary_weight), "a number >= 0");
  one_of("lambda_change", lambda_change, {"keep", "reset_adam"});
  one_of("collocation", collocation, {"box", "forward"});
  if (potential_prior && model != "potential") bad("potential_prior", "true", "false unless model = potential");
  if (batch_dsm < 1 || batch_dsm > kMaxBatch) bad("batch_dsm", str(batch_dsm), "an integer in [1, " + str(kMaxBatch) + "]");
  if (batch_collocation < 1 || batch_collocation > kMaxBatch)
    bad("batch_collocation", str(batch_collocation), "an integer in [1, " + str(kMaxBatch) + "]");
  if (batch_boundary < 0 || batch_boundary > kMaxBatch)
    bad("batch_boundary", str(batch_boundary), "an integer in [0, " + str(kMaxBatch) + "]");
  // What a step would allocate, before anything does: the parameters with Adam's two
  // moments, and the jets of the largest batch (value, d + 1 tangents and the Laplacian
  // per unit, forward and adjoint).
  const double d = dataset == "mixture" ? mixture_dim : 2, h = hidden;
  const double params = (d + 1) * h + (layers - 1) * h * h + h * (model == "score" ? d : 1) + layers * h + d;
  const double batch = std::max({static_cast<double>(batch_dsm), static_cast<double>(batch_collocation),
                                 4.0 * static_cast<double>(batch_boundary)});
  const double bytes = 4 * (3 * params + 2 * batch * h * layers * (d + 3));
  if (bytes > kMaxStepBytes) {
    std::ostringstream gb;
    gb.precision(3);
    gb << bytes / 1e9;
    bad("hidden", str(hidden), "a network and batches that fit in memory: width " + str(hidden) + ", " + str(layers) +
                                   " layers and batches of " + str(static_cast<int64_t>(batch)) + " need about " +
                                   gb.str() + " GB per step (at most " + str(kMaxStepBytes / 1e9) + " GB)");
  }
  if (!(box > 0)) bad("box", str(box), "a positive number");
  if (!(lambda >= 0)) bad("lambda", str(lambda), "a number >= 0");
  one_of("device", device.substr(0, 4), {"cpu", "cuda"});
  if (log_every < 1) bad("log_every", str(log_every), "an integer >= 1");
  if (residual_stats_every < 0) bad("residual_stats_every", str(residual_stats_every), "an integer >= 0");
  if (sample_steps < 1) bad("sample_steps", str(sample_steps), "an integer >= 1");
  if (sample_refine < 0 || sample_refine > sample_steps)
    bad("sample_refine", str(sample_refine), "0 <= sample_refine <= sample_steps");
  if (sample_refine_factor < 1) bad("sample_refine_factor", str(sample_refine_factor), "an integer >= 1");
  if (!(sample_eps > 0 && sample_eps < T)) bad("sample_eps", str(sample_eps), "0 < sample_eps < T");
  one_of("ode_method", ode_method, {"euler", "heun", "rk4", "rk45"});
  if (!(ode_rtol > 0 && ode_rtol < 1)) bad("ode_rtol", str(ode_rtol), "0 < ode_rtol < 1");
  if (!(ode_atol > 0)) bad("ode_atol", str(ode_atol), "a number > 0");
  one_of("sde_sampler", sde_sampler, {"em", "pc"});
  if (!(pc_snr > 0)) bad("pc_snr", str(pc_snr), "a number > 0");
  if (pc_corrector_steps < 0) bad("pc_corrector_steps", str(pc_corrector_steps), "an integer >= 0");
}

std::vector<Config::LrStage> Config::lr_stages() const {
  constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
  if (lr_schedule == "constant") return {{lr, 0, kForever}};
  const std::string expected = "\"constant\" or lr:fraction stages such as \"1e-3:0.25,1e-4:0.65,1e-5:0.10\"";
  std::vector<LrStage> st;
  double cum = 0;
  std::stringstream ss(lr_schedule);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    double r = 0, f = 0;
    std::size_t used_r = 0, used_f = 0;
    try {
      if (colon == std::string::npos) throw std::invalid_argument("no colon");
      const std::string a = item.substr(0, colon), b = item.substr(colon + 1);
      r = std::stod(a, &used_r);
      f = std::stod(b, &used_f);
      if (used_r != a.size() || used_f != b.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      bad("lr_schedule", "\"" + lr_schedule + "\"", expected + " (bad stage '" + item + "')");
    }
    if (!(r > 0) || !(f > 0)) bad("lr_schedule", "\"" + lr_schedule + "\"", "positive learning rates and fractions");
    const int64_t begin = st.empty() ? 0 : st.back().end;
    cum += f;
    st.push_back({r, begin, std::max(begin, static_cast<int64_t>(std::llround(cum * static_cast<double>(iterations))))});
  }
  if (st.empty()) bad("lr_schedule", "\"" + lr_schedule + "\"", expected);
  if (std::abs(cum - 1.0) > 1e-6) bad("lr_schedule", "\"" + lr_schedule + "\"", "fractions that add up to 1 (they add up to " + str(cum) + ")");
  st.back().end = kForever;
  return st;
}

std::size_t Config::lr_stage_at(int64_t iteration) const { return lr_stage_at(lr_stages(), iteration); }

std::size_t Config::lr_stage_at(const std::vector<LrStage>& st, int64_t iteration) {
  std::size_t k = 0;
  while (k + 1 < st.size() && iteration >= st[k].end) ++k;
  return k;
}

json to_json(const Config& c) {
  json j = json::object();
  for (auto& [k, f] : fields()) j[k] = f.get(c);
  return j;
}

Config config_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": expected a JSON object, got " + type_name(j));
  Config c;
  const json defaults = to_json(c);
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto f = fields().find(it.key());
    if (f == fields().end()) throw std::invalid_argument(where + ": unknown key '" + it.key() + "'");
    const json& expected = defaults.at(it.key());
    if (!type_matches(expected, it.value()))
      throw std::invalid_argument(where + ": key '" + it.key() + "' = " + it.value().dump() + ": expected " +
                                  (expected.is_number_integer() ? "an integer"
                                   : expected.is_number()       ? "a number"
                                   : expected.is_array()        ? "a list of numbers"
                                                                : std::string("a ") + type_name(expected)));
    if (it.key() == "seed" && it.value().is_number_integer() && it.value().get<int64_t>() < 0)
      throw std::invalid_argument(where + ": key 'seed' = " + it.value().dump() + ": expected an integer >= 0");
    try {
      f->second.set(c, it.value());
    } catch (const std::out_of_range& e) {
      throw std::invalid_argument(where + ": key '" + it.key() + "' = " + e.what());
    }
  }
  try {
    c.validate();
  } catch (const std::exception& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  return c;
}

json read_config_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open config file");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

Config load_config(const std::string& path) { return config_from_json(read_config_json(path), path); }

void save_config(const Config& c, const std::string& path) {
  write_file_atomically(path, to_json(c).dump(2) + "\n");
}

void apply_override(Config& c, const std::string& assignment) { apply_overrides(c, {assignment}); }

void apply_overrides(Config& c, const std::vector<std::string>& assignments) {
  json j = to_json(c);
  std::string all;
  for (auto& assignment : assignments) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--set '" + assignment + "': expected key=value");
    const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
    json value;
    try {
      value = json::parse(text);
    } catch (const json::parse_error&) {
      value = text;  // a bare word such as circles2 is a string
    }
    if (!j.contains(key)) throw std::invalid_argument("--set: unknown key '" + key + "'");
    j[key] = value;
    all += (all.empty() ? "" : " ") + assignment;
  }
  if (!assignments.empty()) c = config_from_json(j, "--set " + all);
}

}  // namespace gapscope

#pragma once
// The experiment description: one flat JSON object whose defaults are the paper's
// CPU setting (math.md §5). Flat keys keep `--set key=value` and sweep scripts simple.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gapscope {

struct Config {
  // data
  std::string dataset = "circles2";  // blob|checker|circles2|mixture1d|mixture|moons|swissroll|csv
  std::string data_csv;              // for dataset = csv
  std::vector<double> mixture_means{-2.0, 1.0};   // mixture: d*K values, mode k at [k*d, k*d+d)
  std::vector<double> mixture_weights{0.3, 0.7};  // K, normalised on use
  std::vector<double> mixture_widths{0.3, 0.5};   // K isotropic standard deviations
  int mixture_dim = 1;                            // d of the "mixture" data set (mixture1d forces 1)

  // forward SDE (math.md §1)
  std::string sde = "ou";  // ou|vp|ve
  double T = 10.0;
  double eps = 1e-5;
  double beta_min = 0.1, beta_max = 20.0;   // vp
  double sigma_min = 0.01, sigma_max = 50;  // ve

  // model
  std::string model = "potential";  // potential (u_theta, score = grad u) | score (s_theta directly)
  int hidden = 80;
  int layers = 3;
  std::string activation = "softplus";  // softplus|tanh|silu
  double softplus_beta = 100.0;

  // training (math.md §4)
  int64_t iterations = 100000;
  double lr = 1e-3;
  int batch_dsm = 1998;
  int batch_collocation = 5000;
  int batch_boundary = 1000;  // per side of the collocation box
  double box = 3.5;           // collocation box [-box, box]^d
  double lambda = 0.0;        // weight of the Fokker-Planck terms
  uint64_t seed = 0;
  std::string device = "cpu";
  int log_every = 100;             // history row every N iterations
  int residual_stats_every = 500;  // residual statistics every N iterations (0: never)

  // sampling (math.md §5)
  int sample_steps = 400;
  int sample_refine = 10;     // last sample_refine steps are split into sample_refine_factor each
  int sample_refine_factor = 10;
  double sample_eps = 1e-4;
  std::string ode_method = "euler";  // euler|heun|rk4

  int dim() const;  // dimension of the data (1 for mixture1d / 1-column CSV ...)
  void validate() const;  // throws std::invalid_argument naming key and value
};

nlohmann::json to_json(const Config& c);
// Strict: unknown keys and wrongly typed values throw, naming key and value; `where`
// (a file name) prefixes the message.
Config config_from_json(const nlohmann::json& j, const std::string& where = "config");
Config load_config(const std::string& path);
void save_config(const Config& c, const std::string& path);
// "key=value"; value parsed as JSON when it parses (numbers, lists), else as a string.
// Several are applied together and validated once, so "dataset=csv" may precede "data_csv=...".
void apply_override(Config& c, const std::string& assignment);
void apply_overrides(Config& c, const std::vector<std::string>& assignments);

}  // namespace gapscope

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
  std::string dataset = "circles2";  // blob|checker|circles2|mixture1d|mixture|moons|swissroll|csv|file
  std::string data_csv;              // for dataset = csv
  std::string data_file;             // for dataset = file: CSV, or NumPy .npy by extension
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
  double lr = 1e-3;  // the learning rate when lr_schedule = "constant"
  // "lr:fraction,..." stages as fractions of `iterations`, a fresh Adam at each stage
  // boundary (the paper: 25 % at 1e-3, 65 % at 1e-4, 10 % at 1e-5); "constant": lr throughout.
  std::string lr_schedule = "1e-3:0.25,1e-4:0.65,1e-5:0.10";
  int batch_dsm = 20000;        // the paper's CPU size (its GPU runs: 200 000)
  int batch_collocation = 5000;  // the paper's CPU size (GPU: 50 000)
  int batch_boundary = 1000;     // per side of the collocation box; drawn only when boundary_weight > 0
  double box = 3.5;              // collocation box [-box, box]^d
  double lambda = 0.0;           // weight of the Fokker-Planck residual term
  // Weight of the box-face term mean softplus(u)^2 (not scaled by lambda). The paper's runs
  // weight their exp(u)^2 term by zero; softplus(u)^2 equals exp(u)^2 where u << 0 and
  // grows only quadratically where u is large, so it cannot overflow.
  double boundary_weight = 0.0;
  // What a change of lambda during a run does to the optimiser: "keep" its state (plain
  // Adam, as a script that edits the weight would), or "reset_adam" (a fresh Adam state: the
  // second moments of the old lambda's gradients otherwise scale the first hundreds of steps
  // after a jump; measured in README, "Moving λ during a run"). Fixed-lambda runs are the same.
  std::string lambda_change = "reset_adam";
  // Where the residual is enforced: "box" (the paper: x uniform in the box, t uniform in
  // [eps, T]) or "forward" (x_t = m(t) x0 + sigma(t) z from fresh data, t uniform: where the
  // forward process, and so the samplers, put mass). "forward" changes the objective.
  std::string collocation = "box";
  // The potential as network + the prior's log-density, u = NN(t,x) - |x|^2 / (2 v), v the
  // prior's variance: the residual's zero-curvature solution (NN flat) is then the prior,
  // whose score contracts, instead of u = d t + c, whose zero score lets particles escape.
  // Not the paper's network (false there); potential model on the fused CPU path only.
  bool potential_prior = false;
  uint64_t seed = 0;
  std::string device = "cpu";
  int log_every = 100;             // history row every N iterations
  int residual_stats_every = 500;  // residual statistics every N iterations (0: never)

  // sampling (math.md §5)
  int sample_steps = 400;
  int sample_refine = 10;     // last sample_refine steps are split into sample_refine_factor each
  int sample_refine_factor = 10;
  double sample_eps = 1e-4;
  std::string ode_method = "euler";  // euler|heun|rk4|rk45 (rk45: adaptive Dormand-Prince)
  double ode_rtol = 1e-3, ode_atol = 1e-3;  // rk45's tolerances
  std::string sde_sampler = "em";    // em (Euler-Maruyama) | pc (predictor-corrector, Langevin corrector)
  double pc_snr = 0.16;              // pc: the corrector's signal-to-noise ratio (score_sde's default)
  int pc_corrector_steps = 1;        // pc: Langevin steps per noise level

  int dim() const;  // dimension of the data (1 for mixture1d / 1-column CSV ...)
  // The learning-rate stages of lr_schedule over [0, iterations); the last stage extends
  // past `iterations` (a resumed run continues in it). "constant": one stage at lr.
  struct LrStage {
    double lr;
    int64_t begin, end;  // iterations [begin, end)
  };
  std::vector<LrStage> lr_stages() const;
  std::size_t lr_stage_at(int64_t iteration) const;  // index into lr_stages() of 0-based iteration
  static std::size_t lr_stage_at(const std::vector<LrStage>& stages, int64_t iteration);
  void validate() const;  // throws std::invalid_argument naming key and value
};

nlohmann::json to_json(const Config& c);
// Strict: unknown keys and wrongly typed values throw, naming key and value; `where`
// (a file name) prefixes the message.
Config config_from_json(const nlohmann::json& j, const std::string& where = "config");
Config load_config(const std::string& path);
// The JSON of a config file, not yet validated (a checkpoint fills keys older files lack);
// an unreadable file or invalid JSON throws naming the path.
nlohmann::json read_config_json(const std::string& path);
void save_config(const Config& c, const std::string& path);
// "key=value"; value parsed as JSON when it parses (numbers, lists), else as a string.
// Several are applied together and validated once, so "dataset=csv" may precede "data_csv=...".
void apply_override(Config& c, const std::string& assignment);
void apply_overrides(Config& c, const std::vector<std::string>& assignments);

}  // namespace gapscope

#pragma once
// Forward SDEs with linear drift f(x,t) = -a(t) x and scalar diffusion g(t) (math.md §1).
// All three of the paper's processes have this form, which is what lets the
// residual, the samplers and the closed-form Gaussian checks share one interface.
#include <string>

namespace gapscope {

struct Config;

struct Sde {
  enum class Kind { OU, VP, VE };
  Kind kind = Kind::OU;
  double T = 10.0, eps = 1e-5;
  double beta_min = 0.1, beta_max = 20.0;
  double sigma_min = 0.01, sigma_max = 50.0;

  static Sde from_config(const Config& c);
  static Kind parse_kind(const std::string& name);

  double drift_rate(double t) const;       // a(t): f(x,t) = -a(t) x
  double diffusion(double t) const;        // g(t)
  double diffusion2(double t) const { double g = diffusion(t); return g * g; }
  double drift_divergence(double t, int d) const { return -d * drift_rate(t); }
  double mean_coef(double t) const;        // m(t): E[X_t | X_0] = m(t) X_0
  double marginal_std(double t) const;     // sigma(t): Std[X_t | X_0]
  double prior_std() const;                // the Gaussian the samplers start from
};

}  // namespace gapscope

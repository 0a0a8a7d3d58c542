#include "core/sde.h"

#include <cmath>
#include <stdexcept>

#include "core/config.h"

namespace gapscope {

Sde::Kind Sde::parse_kind(const std::string& name) {
  if (name == "ou") return Kind::OU;
  if (name == "vp") return Kind::VP;
  if (name == "ve") return Kind::VE;
  throw std::invalid_argument("sde '" + name + "': expected ou|vp|ve");
}

Sde Sde::from_config(const Config& c) {
  Sde s;
  s.kind = parse_kind(c.sde);
  s.T = c.T;
  s.eps = c.eps;
  s.beta_min = c.beta_min;
  s.beta_max = c.beta_max;
  s.sigma_min = c.sigma_min;
  s.sigma_max = c.sigma_max;
  return s;
}

double Sde::drift_rate(double t) const {
  switch (kind) {
    case Kind::OU: return 1.0;
    case Kind::VP: return 0.5 * (beta_min + t * (beta_max - beta_min));
    case Kind::VE: return 0.0;
  }
  return 0.0;
}

double Sde::diffusion(double t) const {
  switch (kind) {
    case Kind::OU: return 1.0;
    case Kind::VP: return std::sqrt(beta_min + t * (beta_max - beta_min));
    case Kind::VE: {
      const double r = sigma_max / sigma_min;
      return sigma_min * std::pow(r, t) * std::sqrt(2.0 * std::log(r));
    }
  }
  return 0.0;
}

double Sde::mean_coef(double t) const {
  switch (kind) {
    case Kind::OU: return std::exp(-t);
    case Kind::VP: return std::exp(-0.5 * (beta_min * t + 0.5 * t * t * (beta_max - beta_min)));
    case Kind::VE: return 1.0;
  }
  return 1.0;
}

double Sde::marginal_std(double t) const {
  switch (kind) {
    case Kind::OU: return std::sqrt(0.5 * -std::expm1(-2.0 * t));
    case Kind::VP: return std::sqrt(-std::expm1(-(beta_min * t + 0.5 * t * t * (beta_max - beta_min))));
    case Kind::VE: {
      const double s = sigma_min * std::pow(sigma_max / sigma_min, t);
      return std::sqrt(s * s - sigma_min * sigma_min);
    }
  }
  return 1.0;
}

double Sde::prior_std() const {
  switch (kind) {
    case Kind::OU: return std::sqrt(0.5);  // stationary law, as the paper samples
    case Kind::VP: return 1.0;
    case Kind::VE: return marginal_std(T);
  }
  return 1.0;
}

}  // namespace gapscope

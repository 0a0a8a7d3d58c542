#pragma once
// Data sets (math.md §5) as seeded samplers of point clouds. A Gaussian mixture is
// also kept in closed form, because under any of our SDEs it stays one: that gives
// exact scores and log-densities for tests and for the residual's sanity checks.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/points.h"

namespace gapscope {

struct Config;
struct Sde;

// Isotropic Gaussian mixture: weights (normalised), means d*K, std per component.
struct GaussianMixture {
  int d = 1;
  std::vector<double> weights, means, stds;

  std::size_t components() const { return weights.size(); }
  // The law of X_t when X_0 follows this mixture: N(m mu_k, (m^2 s_k^2 + sigma^2) I).
  GaussianMixture at_time(const Sde& sde, double t) const;
  double log_density(const double* x) const;
  // grad log p and Laplacian of log p at x (d values / one value).
  void score(const double* x, double* grad, double* laplacian = nullptr) const;
  // mean (d) and covariance (d*d, row-major) of the mixture.
  void moments(std::vector<double>& mean, std::vector<double>& cov) const;
};

class Dataset {
 public:
  explicit Dataset(const Config& c);  // loads a CSV data set once
  int dim() const { return d_; }
  const std::string& name() const { return name_; }
  Points sample(std::size_t n, std::mt19937_64& rng) const;
  // The closed form, for data sets that are Gaussian mixtures (blob, mixture, mixture1d).
  bool is_mixture() const { return !mix_.weights.empty(); }
  const GaussianMixture& mixture() const { return mix_; }

 private:
  std::string name_;
  int d_ = 2;
  GaussianMixture mix_;
  Points cloud_;  // csv: resampled with replacement
};

// Convenience for the CLI: n seeded samples of the configured data set.
Points sample_dataset(const Config& c, std::size_t n, uint64_t seed);

}  // namespace gapscope

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

// A point cloud with a weight per point: a data file (CSV, .npy) or a set drawn in the
// lab. Sampling draws points with replacement, point i with probability w_i / sum w, from
// the caller's seeded generator; without weights every point is equally likely (and the
// draws are those of the plain CSV data set before weights existed).
class WeightedCloud {
 public:
  WeightedCloud() = default;
  // Throws std::invalid_argument when the weights are not one per point, finite and >= 0
  // with a positive total, or the cloud is empty.
  explicit WeightedCloud(Points p, std::vector<double> weights = {});
  static WeightedCloud read(const std::string& path);  // read_points_file; throws naming the file
  void write_csv(const std::string& path) const;      // the weight column only when weighted

  int dim() const { return p_.d; }
  std::size_t size() const { return p_.n(); }
  const Points& points() const { return p_; }
  const std::vector<double>& weights() const { return w_; }  // empty: uniform
  Points sample(std::size_t n, std::mt19937_64& rng) const;

 private:
  Points p_;
  std::vector<double> w_, cdf_;  // cdf_: running sums of w_
};

class Dataset {
 public:
  explicit Dataset(const Config& c);  // loads a file data set (csv, file) once
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
  WeightedCloud cloud_;  // csv, file: resampled with replacement
};

// Convenience for the CLI: n seeded samples of the configured data set.
Points sample_dataset(const Config& c, std::size_t n, uint64_t seed);

}  // namespace gapscope

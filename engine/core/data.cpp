#include "core/data.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/config.h"
#include "core/normals.h"
#include "core/rng.h"
#include "core/sde.h"

namespace gapscope {
namespace {

constexpr double kTwoPi = 6.283185307179586;

GaussianMixture blob_mixture() {
  // 9 Gaussians, covariance 0.2 I, then everything x 0.65 (math.md §5).
  GaussianMixture g;
  g.d = 2;
  const double c[9][2] = {{2, -2}, {-2, 2}, {2, 2}, {-2, -2}, {0, 0}, {4, 0}, {-4, 0}, {0, 4}, {0, -4}};
  for (auto& m : c) {
    g.weights.push_back(1.0 / 9);
    g.means.push_back(0.65 * m[0]);
    g.means.push_back(0.65 * m[1]);
    g.stds.push_back(0.65 * std::sqrt(0.2));
  }
  return g;
}

GaussianMixture config_mixture(const Config& c, int d) {
  GaussianMixture g;
  g.d = d;
  g.means = c.mixture_means;
  g.stds = c.mixture_widths;
  double total = 0;
  for (double w : c.mixture_weights) total += w;
  if (!(total > 0)) throw std::invalid_argument("key 'mixture_weights': expected a positive total weight");
  for (double w : c.mixture_weights) g.weights.push_back(w / total);
  return g;
}

std::size_t pick(const std::vector<double>& w, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double r = u(rng), acc = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    acc += w[k];
    if (r < acc) return k;
  }
  return w.size() - 1;
}

}  // namespace

GaussianMixture GaussianMixture::at_time(const Sde& sde, double t) const {
  GaussianMixture g = *this;
  const double m = sde.mean_coef(t), s = sde.marginal_std(t);
  for (auto& mu : g.means) mu *= m;
  for (auto& sd : g.stds) sd = std::sqrt(m * m * sd * sd + s * s);
  return g;
}

// log(w_k N(x; mu_k, s_k^2 I)) for every component, and their maximum (for log-sum-exp).
static double component_logs(const GaussianMixture& g, const double* x, std::vector<double>& lk) {
  lk.resize(g.components());
  double mx = -INFINITY;
  for (std::size_t k = 0; k < g.components(); ++k) {
    double r2 = 0;
    for (int i = 0; i < g.d; ++i) r2 += (x[i] - g.means[k * g.d + i]) * (x[i] - g.means[k * g.d + i]);
    const double v = g.stds[k] * g.stds[k];
    lk[k] = std::log(g.weights[k]) - 0.5 * r2 / v - 0.5 * g.d * std::log(kTwoPi * v);
    mx = std::max(mx, lk[k]);
  }
  return mx;
}

double GaussianMixture::log_density(const double* x) const {
  std::vector<double> lk;
  const double mx = component_logs(*this, x, lk);  // log-sum-exp: stable far from the modes
  double s = 0;
  for (double l : lk) s += std::exp(l - mx);
  return mx + std::log(s);
}

void GaussianMixture::score(const double* x, double* grad, double* laplacian) const {
  // Posterior responsibilities r_k; score = sum r_k g_k with g_k = -(x - mu_k)/v_k;
  // Laplacian of log p = sum r_k (|g_k|^2 - d/v_k) - |score|^2.
  const std::size_t K = components();
  std::vector<double> lk;
  const double mx = component_logs(*this, x, lk);
  double z = 0;
  for (auto& l : lk) z += (l = std::exp(l - mx));
  for (int i = 0; i < d; ++i) grad[i] = 0;
  double second = 0;
  for (std::size_t k = 0; k < K; ++k) {
    const double r = lk[k] / z, v = stds[k] * stds[k];
    double g2 = 0;
    for (int i = 0; i < d; ++i) {
      const double gi = -(x[i] - means[k * d + i]) / v;
      grad[i] += r * gi;
      g2 += gi * gi;
    }
    second += r * (g2 - d / v);
  }
  if (laplacian) {
    double s2 = 0;
    for (int i = 0; i < d; ++i) s2 += grad[i] * grad[i];
    *laplacian = second - s2;
  }
}

void GaussianMixture::moments(std::vector<double>& mean, std::vector<double>& cov) const {
  mean.assign(d, 0.0);
  cov.assign(static_cast<std::size_t>(d) * d, 0.0);
  for (std::size_t k = 0; k < components(); ++k)
    for (int i = 0; i < d; ++i) mean[i] += weights[k] * means[k * d + i];
  for (std::size_t k = 0; k < components(); ++k)
    for (int i = 0; i < d; ++i) {
      cov[i * d + i] += weights[k] * stds[k] * stds[k];
      for (int j = 0; j < d; ++j)
        cov[i * d + j] += weights[k] * (means[k * d + i] - mean[i]) * (means[k * d + j] - mean[j]);
    }
}

Dataset::Dataset(const Config& c) : name_(c.dataset) {
  if (name_ == "blob") {
    mix_ = blob_mixture();
  } else if (name_ == "mixture1d") {
    mix_ = config_mixture(c, 1);
  } else if (name_ == "mixture") {
    mix_ = config_mixture(c, c.mixture_dim);
  } else if (name_ == "csv" || name_ == "file") {
    cloud_ = WeightedCloud::read(name_ == "csv" ? c.data_csv : c.data_file);
  } else if (name_ != "checker" && name_ != "circles2" && name_ != "moons" && name_ != "swissroll") {
    throw std::invalid_argument("key 'dataset' = \"" + name_ + "\": unknown data set");
  }
  d_ = is_mixture() ? mix_.d : cloud_.size() ? cloud_.dim() : 2;
}

Points Dataset::sample(std::size_t n, std::mt19937_64& rng) const {
  Points p(d_, n);
  std::normal_distribution<double> N(0.0, 1.0);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  if (is_mixture()) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = pick(mix_.weights, rng);
      for (int j = 0; j < d_; ++j) p.row(i)[j] = static_cast<float>(mix_.means[k * d_ + j] + mix_.stds[k] * N(rng));
    }
  } else if (name_ == "checker") {
    // 8 squares of side 0.25 on [-0.5,0.5]^2, then x 6 (math.md §5).
    static const double shift[8][2] = {{0, 0},       {0.5, 0},    {0.25, 0.25}, {0.75, 0.25},
                                       {0, 0.5},     {0.5, 0.5},  {0.25, 0.75}, {0.75, 0.75}};
    std::uniform_int_distribution<int> sq(0, 7);
    for (std::size_t i = 0; i < n; ++i) {
      const int k = sq(rng);
      const double x = -0.5 + shift[k][0] + 0.25 * U(rng), y = -0.5 + shift[k][1] + 0.25 * U(rng);
      p.row(i)[0] = static_cast<float>(6 * x);
      p.row(i)[1] = static_cast<float>(6 * y);
    }
  } else if (name_ == "circles2") {
    // Exactly half the samples on each ring, as the paper's sampler, but in random order:
    // anything that keeps a prefix (exact-W2 and figure subsamples) must not see only
    // the inner ring. In float, from bulk normals and directions (core/normals.h) and a
    // splitmix64 shuffle: each training step draws 20 000 of these, and with std's
    // distributions in double (normal, uniform angle, sincos, uniform_int shuffle) they
    // took 76-86 ns a point, 0.8 ms of the paper's 13 ms step on two threads (6-7 ns now).
    std::vector<float> noise(n), dir(2 * n);
    standard_normals(noise.data(), n, rng());
    circle_directions(dir.data(), n, rng());
    for (std::size_t i = 0; i < n; ++i) {
      const float r = 2.f * ((i < n / 2 ? 0.65f : 1.4f) + 0.1f * noise[i]);
      p.v[2 * i] = r * dir[2 * i];
      p.v[2 * i + 1] = r * dir[2 * i + 1];
    }
    std::uint64_t state = rng();
    for (std::size_t i = n; i > 1; --i) {
      const std::size_t j = uniform_index(state, i);
      std::swap(p.v[2 * (i - 1)], p.v[2 * j]);
      std::swap(p.v[2 * (i - 1) + 1], p.v[2 * j + 1]);
    }
  } else if (name_ == "moons") {
    // Two interleaved half circles, noise 0.1, centred and scaled to the paper's range.
    for (std::size_t i = 0; i < n; ++i) {
      const double th = M_PI * U(rng);
      double x, y;
      if (i % 2 == 0) {
        x = std::cos(th);
        y = std::sin(th);
      } else {
        x = 1 - std::cos(th);
        y = 0.5 - std::sin(th);
      }
      p.row(i)[0] = static_cast<float>(2 * (x - 0.5 + 0.1 * N(rng)));
      p.row(i)[1] = static_cast<float>(2 * (y - 0.25 + 0.1 * N(rng)));
    }
  } else if (name_ == "swissroll") {
    for (std::size_t i = 0; i < n; ++i) {
      const double s = 1.5 * M_PI * (1 + 2 * U(rng));
      p.row(i)[0] = static_cast<float>((s * std::cos(s) + 0.5 * N(rng)) / 5.0);
      p.row(i)[1] = static_cast<float>((s * std::sin(s) + 0.5 * N(rng)) / 5.0);
    }
  } else {  // csv, file
    p = cloud_.sample(n, rng);
  }
  return p;
}

WeightedCloud::WeightedCloud(Points p, std::vector<double> weights) : p_(std::move(p)), w_(std::move(weights)) {
  if (p_.n() == 0) throw std::invalid_argument("an empty point cloud (expected at least one point)");
  if (w_.empty()) return;
  if (w_.size() != p_.n())
    throw std::invalid_argument(std::to_string(w_.size()) + " weights for " + std::to_string(p_.n()) +
                                " points (expected one per point)");
  double total = 0;
  cdf_.reserve(w_.size());
  for (double w : w_) {
    if (!(w >= 0) || !std::isfinite(w)) throw std::invalid_argument("a weight of " + std::to_string(w) + " (expected finite weights >= 0)");
    cdf_.push_back(total += w);
  }
  if (!(total > 0)) throw std::invalid_argument("weights that add up to 0 (expected a positive total)");
}

WeightedCloud WeightedCloud::read(const std::string& path) {
  std::vector<double> w;
  Points p = read_points_file(path, &w);
  try {
    return WeightedCloud(std::move(p), std::move(w));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

void WeightedCloud::write_csv(const std::string& path) const { write_points_csv(path, p_, w_); }

Points WeightedCloud::sample(std::size_t n, std::mt19937_64& rng) const {
  Points out(p_.d, n);
  if (p_.n() == 0) return Points(p_.d, 0);
  const int d = p_.d;
  if (cdf_.empty()) {
    std::uniform_int_distribution<std::size_t> idx(0, p_.n() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const float* src = p_.row(idx(rng));
      std::copy(src, src + d, out.row(i));
    }
    return out;
  }
  // Inverse CDF: the first running sum above u * total (zero-weight points are never drawn).
  std::uniform_real_distribution<double> u(0.0, cdf_.back());
  for (std::size_t i = 0; i < n; ++i) {
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u(rng));
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), cdf_.size() - 1);
    const float* src = p_.row(k);
    std::copy(src, src + d, out.row(i));
  }
  return out;
}

Points sample_dataset(const Config& c, std::size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return Dataset(c).sample(n, rng);
}

}  // namespace gapscope

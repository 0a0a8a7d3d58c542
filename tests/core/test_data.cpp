#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/config.h"
#include "core/data.h"
#include "core/sde.h"
#include "test_util.h"

using namespace gapscope;

namespace {
Config with(const std::string& dataset) {
  Config c;
  c.dataset = dataset;
  return c;
}
}  // namespace

TEST(Data, SeededAndReproducible) {
  for (const char* name : {"blob", "checker", "circles2", "mixture1d", "moons", "swissroll"}) {
    Points a = sample_dataset(with(name), 500, 7), b = sample_dataset(with(name), 500, 7),
           c = sample_dataset(with(name), 500, 8);
    EXPECT_EQ(a.v, b.v) << name;
    EXPECT_NE(a.v, c.v) << name;
    for (float v : a.v) ASSERT_TRUE(std::isfinite(v)) << name;
  }
}

TEST(Data, Circles2RadiiHalvesAndNoOrder) {
  Points p = sample_dataset(with("circles2"), 20000, 1);
  double inner = 0, outer = 0;
  std::size_t n_inner = 0, first_half_inner = 0;
  for (std::size_t i = 0; i < p.n(); ++i) {
    const double r = std::hypot(p.row(i)[0], p.row(i)[1]);
    const bool in = r < 2.05;  // the rings are 6 sigma apart at radius 2.05
    (in ? inner : outer) += r;
    n_inner += in;
    first_half_inner += in && i < p.n() / 2;
  }
  EXPECT_EQ(n_inner, 10000u);  // exactly half each (no sample crosses 2.05 at this seed)
  EXPECT_NEAR(inner / n_inner, 1.3, 0.01);
  EXPECT_NEAR(outer / (p.n() - n_inner), 2.8, 0.01);
  // shuffled: a prefix (as the grid metric's truncation keeps) holds both rings
  EXPECT_NEAR(first_half_inner, 5000.0, 300.0);
}

TEST(Data, CheckerLivesOnItsEightSquares) {
  Points p = sample_dataset(with("checker"), 20000, 2);
  int counts[4][4] = {};
  for (std::size_t i = 0; i < p.n(); ++i) {
    const double x = p.row(i)[0] / 6 + 0.5, y = p.row(i)[1] / 6 + 0.5;  // back to [0,1]^2
    ASSERT_GE(x, 0);
    ASSERT_LE(x, 1);
    counts[std::min(3, int(x * 4))][std::min(3, int(y * 4))]++;
  }
  // Squares with lower-left corners at (i/4, j/4) for i+j even.
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      if ((i + j) % 2 == 0)
        EXPECT_NEAR(counts[i][j], 2500, 250) << i << "," << j;
      else
        EXPECT_EQ(counts[i][j], 0) << i << "," << j;
    }
}

TEST(Data, BlobMatchesItsClosedFormMoments) {
  Dataset ds(with("blob"));
  ASSERT_TRUE(ds.is_mixture());
  std::vector<double> mean, cov;
  ds.mixture().moments(mean, cov);
  // 9 centres x 0.65: E x^2 = (4*4 + 2*16)/9 * 0.65^2 + 0.2 * 0.65^2
  EXPECT_NEAR(cov[0], (48.0 / 9 + 0.2) * 0.4225, 1e-12);
  std::mt19937_64 rng(3);
  Points p = ds.sample(100000, rng);
  double sx = 0, sxx = 0;
  for (std::size_t i = 0; i < p.n(); ++i) {
    sx += p.row(i)[0];
    sxx += p.row(i)[0] * p.row(i)[0];
  }
  EXPECT_NEAR(sx / p.n(), 0.0, 0.02);
  EXPECT_NEAR(sxx / p.n(), cov[0], 0.03);
}

TEST(Data, MixtureScoreMatchesFiniteDifferenceOfLogDensity) {
  Config c = with("mixture");
  c.mixture_dim = 2;
  c.mixture_weights = {0.4, 0.6};
  c.mixture_means = {-1, 0.5, 1.5, -0.2};
  c.mixture_widths = {0.5, 0.8};
  Sde sde;
  GaussianMixture g = Dataset(c).mixture().at_time(sde, 0.3);
  const double x[2] = {0.3, -0.4}, h = 1e-4;
  double grad[2], lap;
  g.score(x, grad, &lap);
  double fd_lap = 0;
  for (int i = 0; i < 2; ++i) {
    double xp[2] = {x[0], x[1]}, xm[2] = {x[0], x[1]};
    xp[i] += h;
    xm[i] -= h;
    EXPECT_NEAR(grad[i], (g.log_density(xp) - g.log_density(xm)) / (2 * h), 1e-6);
    fd_lap += (g.log_density(xp) - 2 * g.log_density(x) + g.log_density(xm)) / (h * h);
  }
  EXPECT_NEAR(lap, fd_lap, 1e-4);
}

TEST(Data, CsvDataSetResamplesTheFile) {
  auto dir = gapscope::testing::temp_dir("data");
  auto path = (dir / "cloud.csv").string();
  std::ofstream(path) << "x,y\n1,2\n3,4\n";
  Config c = with("csv");
  c.data_csv = path;
  Points p = sample_dataset(c, 100, 0);
  EXPECT_EQ(p.d, 2);
  for (std::size_t i = 0; i < p.n(); ++i) EXPECT_TRUE(p.row(i)[0] == 1.f || p.row(i)[0] == 3.f);
}

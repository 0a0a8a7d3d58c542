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
  double inner = 0, outer = 0, inner2 = 0, outer2 = 0;
  std::size_t n_inner = 0, first_half_inner = 0;
  for (std::size_t i = 0; i < p.n(); ++i) {
    const double r = std::hypot(p.row(i)[0], p.row(i)[1]);
    const bool in = r < 2.05;  // half way between the rings, 3.75 noise sd from each
    (in ? inner : outer) += r;
    (in ? inner2 : outer2) += r * r;
    n_inner += in;
    first_half_inner += in && i < p.n() / 2;
  }
  // Exactly half on each ring up to the ~2 points expected past 2.05 (the exact split is
  // checked below); a ring drawn per point would be off by 70 (one sd).
  EXPECT_NEAR(static_cast<double>(n_inner), 10000.0, 10.0);
  const double n_outer = static_cast<double>(p.n() - n_inner);
  EXPECT_NEAR(inner / n_inner, 1.3, 0.01);
  EXPECT_NEAR(outer / n_outer, 2.8, 0.01);
  // radial noise 0.1 before the factor 2
  EXPECT_NEAR(std::sqrt(inner2 / n_inner - std::pow(inner / n_inner, 2)), 0.2, 0.01);
  EXPECT_NEAR(std::sqrt(outer2 / n_outer - std::pow(outer / n_outer, 2)), 0.2, 0.01);
  // shuffled: a prefix (as the grid metric's truncation keeps) holds both rings
  EXPECT_NEAR(first_half_inner, 5000.0, 300.0);
}

TEST(Data, Circles2PairsHoldOnePointOfEachRingInEitherOrder) {
  // Two points: one per ring, always (a ring per point would put both on one ring half of
  // the time), the inner one first in about half of the seeds (the shuffle).
  int same_ring = 0, inner_first = 0;
  const int seeds = 1000;
  for (int seed = 1; seed <= seeds; ++seed) {
    Points p = sample_dataset(with("circles2"), 2, seed);
    const bool in0 = std::hypot(p.row(0)[0], p.row(0)[1]) < 2.05, in1 = std::hypot(p.row(1)[0], p.row(1)[1]) < 2.05;
    same_ring += in0 == in1;
    inner_first += in0 && !in1;
  }
  EXPECT_LE(same_ring, 3);  // 0.2 expected from the noise's tails
  EXPECT_NEAR(inner_first, seeds / 2.0, 80.0);
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

TEST(Data, WeightedCloudDrawsByWeightFromTheSeededGenerator) {
  Points p(2, 3);
  p.v = {0, 0, 1, 1, 2, 2};
  const WeightedCloud cloud(p, {1.0, 3.0, 0.0});
  std::mt19937_64 rng(7);
  const Points s = cloud.sample(40000, rng);
  ASSERT_EQ(s.n(), 40000u);
  std::size_t ones = 0;
  for (std::size_t i = 0; i < s.n(); ++i) {
    EXPECT_NE(s.row(i)[0], 2.f) << "a zero-weight point was drawn";
    EXPECT_EQ(s.row(i)[0], s.row(i)[1]);
    ones += s.row(i)[0] == 1.f;
  }
  EXPECT_NEAR(static_cast<double>(ones) / 40000, 0.75, 0.01);
  std::mt19937_64 again(7), other(8);
  EXPECT_EQ(cloud.sample(40000, again).v, s.v);
  EXPECT_NE(cloud.sample(40000, other).v, s.v);
}

TEST(Data, WeightedCloudRefusesBadWeights) {
  Points p(1, 2);
  EXPECT_NE(gapscope::testing::error_of([&] { WeightedCloud(p, {1.0}); }).find("one per point"), std::string::npos);
  EXPECT_NE(gapscope::testing::error_of([&] { WeightedCloud(p, {1.0, -1.0}); }).find(">= 0"), std::string::npos);
  EXPECT_NE(gapscope::testing::error_of([&] { WeightedCloud(p, {0.0, 0.0}); }).find("positive total"), std::string::npos);
  EXPECT_NE(gapscope::testing::error_of([&] { WeightedCloud(Points(2, 0)); }).find("empty"), std::string::npos);
}

TEST(Data, FileDataSetKeepsItsWeightColumn) {
  auto dir = gapscope::testing::temp_dir("data-file");
  Points p(1, 2);
  p.v = {-1.f, 2.f};
  const std::string path = (dir / "drawn.csv").string();
  WeightedCloud(p, {0.25, 0.75}).write_csv(path);
  EXPECT_EQ(gapscope::testing::slurp(path), "x,weight\n-1,0.25\n2,0.75\n");
  Config c = with("file");
  c.data_file = path;
  c.validate();
  EXPECT_EQ(c.dim(), 1);
  const Points s = sample_dataset(c, 20000, 3);
  ASSERT_EQ(s.d, 1);
  std::size_t twos = 0;
  for (float v : s.v) twos += v == 2.f;
  EXPECT_NEAR(static_cast<double>(twos) / 20000, 0.75, 0.015);
  c.data_file.clear();
  EXPECT_NE(gapscope::testing::error_of([&] { c.validate(); }).find("key 'data_file'"), std::string::npos);
}

TEST(Data, UnweightedFileDrawsAsTheCsvDataSet) {
  auto dir = gapscope::testing::temp_dir("data-file");
  const std::string path = (dir / "cloud.csv").string();
  std::ofstream(path) << "x,y\n1,2\n3,4\n5,6\n";
  Config a = with("csv"), b = with("file");
  a.data_csv = b.data_file = path;
  EXPECT_EQ(sample_dataset(a, 500, 11).v, sample_dataset(b, 500, 11).v);
}

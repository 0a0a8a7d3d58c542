// The bulk normals (core/normals.h) are normal_pair's stream (core/rng.h), value for
// value, and standard normal; the bulk directions are the same stream's angles, uniform
// on the circle.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/normals.h"
#include "core/rng.h"

using namespace gapscope;

namespace {
std::vector<float> scalar_stream(std::size_t n, std::uint64_t key) {
  std::vector<float> v(n);
  std::uint64_t s = key;
  for (std::size_t i = 0; i < n; i += 2) {
    float a, b;
    normal_pair(s, a, b);
    v[i] = a;
    if (i + 1 < n) v[i + 1] = b;
  }
  return v;
}
}  // namespace

TEST(Normals, AreNormalPairsStreamToAFewUlps) {
  // Sizes around the 256-pair block and odd ones (the last value is a pair's first).
  for (std::size_t n : {0, 1, 2, 3, 511, 512, 513, 1000, 4097}) {
    for (std::uint64_t key : {std::uint64_t{0}, std::uint64_t{7}, ~std::uint64_t{0} - 3}) {
      const auto want = scalar_stream(n, key);
      std::vector<float> got(n + 1, -99.f);  // the extra entry must stay untouched
      standard_normals(got.data(), n, key);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_NEAR(got[i], want[i], 4e-6f * (1.f + std::fabs(want[i]))) << "n " << n << " key " << key << " i " << i;
      EXPECT_EQ(got[n], -99.f) << "n " << n;
    }
  }
}

TEST(Normals, HaveStandardNormalMomentsAndTails) {
  const std::size_t n = 400000;
  std::vector<float> v(n);
  standard_normals(v.data(), n, 12345);
  double m1 = 0, m2 = 0, m4 = 0, cross = 0, tail = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = v[i];
    m1 += x, m2 += x * x, m4 += x * x * x * x, tail += std::fabs(x) > 2.5758;
    if (i % 2) cross += x * v[i - 1];
  }
  EXPECT_NEAR(m1 / n, 0.0, 0.006);
  EXPECT_NEAR(m2 / n, 1.0, 0.01);
  EXPECT_NEAR(m4 / n, 3.0, 0.05);
  EXPECT_NEAR(cross / (n / 2), 0.0, 0.008);  // the two of a pair are uncorrelated
  EXPECT_NEAR(tail / n, 0.01, 0.0012);        // P(|z| > 2.5758) = 1 %
}

TEST(Normals, DifferentKeysGiveDifferentNumbers) {
  std::vector<float> a(64), b(64);
  standard_normals(a.data(), a.size(), 1);
  standard_normals(b.data(), b.size(), 2);
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  EXPECT_EQ(same, 0);
}

TEST(CircleDirections, AreTheStreamsAnglesOnTheUnitCircle) {
  for (std::size_t n : {0, 1, 255, 256, 257, 1001}) {
    std::vector<float> got(2 * n + 1, -99.f);
    circle_directions(got.data(), n, 42);
    std::uint64_t s = 42;
    for (std::size_t j = 0; j < n; ++j) {
      const double ang = 6.283185307179586 * static_cast<double>(splitmix64(s) >> 40) * 0x1p-24;
      ASSERT_NEAR(got[2 * j], std::cos(ang), 2e-6) << "n " << n << " j " << j;
      ASSERT_NEAR(got[2 * j + 1], std::sin(ang), 2e-6) << "n " << n << " j " << j;
    }
    EXPECT_EQ(got[2 * n], -99.f) << "n " << n;
  }
}

TEST(CircleDirections, AreUniformInAngle) {
  const std::size_t n = 160000;
  std::vector<float> v(2 * n);
  circle_directions(v.data(), n, 9);
  int bins[16] = {};
  for (std::size_t j = 0; j < n; ++j) {
    const double a = std::atan2(v[2 * j + 1], v[2 * j]) + M_PI;  // [0, 2 pi]
    bins[std::min(15, static_cast<int>(a / (2 * M_PI) * 16))]++;
  }
  for (int b = 0; b < 16; ++b) EXPECT_NEAR(bins[b], n / 16.0, 5 * std::sqrt(n / 16.0)) << "bin " << b;
}

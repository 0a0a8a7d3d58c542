// The counter-based RNG behind the sampler's noise and the sliced-W2 directions.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/rng.h"

using namespace gapscope;

TEST(Rng, SplitmixIsDeterministicAndMatchesTheReferenceSequence) {
  // splitmix64 from state 0: the published first outputs.
  std::uint64_t s = 0;
  EXPECT_EQ(splitmix64(s), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(s), 0x6e789e6aa1b965f4ULL);
  std::uint64_t a = 42, b = 42;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(splitmix64(a), splitmix64(b));
}

TEST(Rng, UniformsAreInsideTheOpenIntervalAndNormalsHaveUnitMoments) {
  std::uint64_t s = 7;
  for (int i = 0; i < 10000; ++i) {
    const double u = uniform01(s);
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  const int n = 200000;
  double m1f = 0, m2f = 0, m1d = 0, m2d = 0, cross = 0;
  for (int i = 0; i < n / 2; ++i) {
    float a, b;
    normal_pair(s, a, b);
    ASSERT_TRUE(std::isfinite(a) && std::isfinite(b));
    m1f += a + b, m2f += a * a + b * b, cross += static_cast<double>(a) * b;
    double c, d;
    normal_pair(s, c, d);
    m1d += c + d, m2d += c * c + d * d;
  }
  EXPECT_NEAR(m1f / n, 0.0, 0.01);
  EXPECT_NEAR(m2f / n, 1.0, 0.015);
  EXPECT_NEAR(cross / (n / 2), 0.0, 0.015);  // the pair is uncorrelated
  EXPECT_NEAR(m1d / n, 0.0, 0.01);
  EXPECT_NEAR(m2d / n, 1.0, 0.015);
}

TEST(Rng, UniformIndexCoversItsRangeEvenly) {
  std::uint64_t s = 3;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(uniform_index(s, 1), 0u);
  const std::uint64_t n = 7;
  const int draws = 70000;
  int count[n] = {};
  for (int i = 0; i < draws; ++i) {
    const std::uint64_t k = uniform_index(s, n);
    ASSERT_LT(k, n);
    count[k]++;
  }
  for (std::uint64_t k = 0; k < n; ++k) EXPECT_NEAR(count[k], draws / n, 5 * std::sqrt(draws / n)) << k;
  // n near 2^64: the rejection path (2^64 mod n is large) still lands in range
  const std::uint64_t big = (std::uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(uniform_index(s, big), big);
}

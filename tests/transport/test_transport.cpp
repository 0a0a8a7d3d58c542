// Tests of the transport module: POT reference values, brute force, closed forms,
// degenerate input, and the `gapscope-cli w2` command.
#include "transport/transport.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <lemon/list_graph.h>
#include <lemon/network_simplex.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/points.h"

namespace fs = std::filesystem;
using gapscope::Points;

namespace {

Points cloud(int d, std::size_t n, std::mt19937_64& rng, double mean = 0, double sd = 1) {
  std::normal_distribution<double> g(mean, sd);
  Points p(d, n);
  for (float& x : p.v) x = static_cast<float>(g(rng));
  return p;
}

double sqdist(const Points& a, std::size_t i, const Points& b, std::size_t j) {
  double s = 0;
  for (int k = 0; k < a.d; ++k) {
    const double t = static_cast<double>(a.row(i)[k]) - b.row(j)[k];
    s += t * t;
  }
  return s;
}

// Independent exact reference for assignment: the O(n³) Hungarian algorithm with
// potentials (shortest augmenting paths), in doubles.
double hungarian_mean_cost(const Points& a, const Points& b) {
  const int n = static_cast<int>(a.n());
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<int> p(n + 1, 0), way(n + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<char> used(n + 1, false);
    do {
      used[j0] = true;
      const int i0 = p[j0];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = sqdist(a, i0 - 1, b, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j])
          u[p[j]] += delta, v[j] -= delta;
        else
          minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  double s = 0;
  for (int j = 1; j <= n; ++j) s += sqdist(a, p[j] - 1, b, j - 1);
  return s / n;
}

Points from_json(const nlohmann::json& rows, int d) {
  Points p(d, rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (int k = 0; k < d; ++k) p.row(i)[k] = static_cast<float>(rows[i][k].get<double>());
  return p;
}

Points from_json_q(const nlohmann::json& rows, int d, double q) {
  Points p(d, rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (int k = 0; k < d; ++k) p.row(i)[k] = static_cast<float>(rows[i][k].get<long long>() / q);
  return p;
}

// 2×2 matrices, enough for the closed-form Gaussian W2.
struct M2 {
  double a, b, c, d;  // [[a, b], [c, d]]
};
M2 mul(M2 x, M2 y) {
  return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c, x.c * y.b + x.d * y.d};
}
// Square root of a symmetric positive definite 2×2 matrix: (M + √det·I) / √(tr + 2√det).
M2 sqrtm(M2 m) {
  const double s = std::sqrt(m.a * m.d - m.b * m.c), t = std::sqrt(m.a + m.d + 2 * s);
  return {(m.a + s) / t, m.b / t, m.c / t, (m.d + s) / t};
}

}  // namespace

// ---- POT reference values ------------------------------------------------------------

TEST(Transport, MatchesPotFixtures) {
  const fs::path dir = GAPSCOPE_FIXTURES;
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("pot_", 0) != 0 || entry.path().extension() != ".json") continue;
    SCOPED_TRACE(name);
    std::ifstream in(entry.path());
    const auto j = nlohmann::json::parse(in);
    const double want = j.at("emd2").get<double>();
    const int d = j.at("d").get<int>();
    ++seen;
    if (j.at("kind") == "emd") {
      const Points xa = from_json(j.at("xa"), d), xb = from_json(j.at("xb"), d);
      const auto wa = j.at("wa").get<std::vector<double>>(), wb = j.at("wb").get<std::vector<double>>();
      const auto r = gapscope::emd(wa, xa, wb, xb, true);
      EXPECT_NEAR(r.cost, want, 1e-9 * want);
      EXPECT_NEAR(r.w2 * r.w2, want, 1e-9 * want);
      double planned = 0, mass = 0;
      for (const auto& e : r.plan) planned += e.mass * sqdist(xa, e.i, xb, e.j), mass += e.mass;
      EXPECT_NEAR(planned, want, 1e-9 * want);
      EXPECT_NEAR(mass, 1.0, 1e-12);
      if (j.at("uniform").get<bool>()) {
        const double w = gapscope::w2_exact(xa, xb);
        EXPECT_NEAR(w * w, want, 1e-9 * want);
      }
      if (d == 1) {
        std::vector<double> a(xa.v.begin(), xa.v.end()), b(xb.v.begin(), xb.v.end());
        const double w = gapscope::w2_1d(a, wa, b, wb);
        EXPECT_NEAR(w * w, want, 1e-9 * want);
      }
    } else {
      ASSERT_EQ(j.at("kind"), "grid");
      const double q = j.at("q").get<double>();
      const Points xa = from_json_q(j.at("xa_q"), d, q), xb = from_json_q(j.at("xb_q"), d, q);
      gapscope::GridStats st;
      const double w = gapscope::w2_grid(xa, xb, {j.at("grid").get<int>(), j.at("box").get<double>()}, &st);
      EXPECT_NEAR(w * w, want, 1e-9 * want);
      EXPECT_EQ(st.used, j.at("used").get<std::size_t>());
    }
  }
  EXPECT_GE(seen, 12) << "fixtures missing from " << dir << "; run scripts/make_pot_fixtures.py";
}

// ---- exact solver against independent exact references --------------------------------

TEST(Transport, ExactEqualsBruteForcePermutations) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const int n = 1 + trial % 7, d = 1 + trial % 3;
    const Points a = cloud(d, n, rng), b = cloud(d, n, rng, 0.5, 1.5);
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    double best = std::numeric_limits<double>::infinity();
    do {
      double s = 0;
      for (int i = 0; i < n; ++i) s += sqdist(a, i, b, perm[i]);
      best = std::min(best, s / n);
    } while (std::next_permutation(perm.begin(), perm.end()));
    const double w = gapscope::w2_exact(a, b);
    EXPECT_NEAR(w * w, best, 1e-12 * best) << "trial " << trial << " n = " << n << " d = " << d;
    const auto r = gapscope::emd(std::vector<double>(n, 1.0), a, std::vector<double>(n, 1.0), b);
    EXPECT_NEAR(r.cost, best, 1e-12 * best) << "trial " << trial;
  }
}

// Sizes above the dense threshold go through the sparse arc set with pricing rounds.
TEST(Transport, SparsePathEqualsHungarian) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    const int n = 120 + 60 * trial;
    const Points a = cloud(2, n, rng), b = cloud(2, n, rng, 0.2 * trial, 1 + 0.3 * trial);
    const double want = hungarian_mean_cost(a, b);
    const double w = gapscope::w2_exact(a, b);
    EXPECT_NEAR(w * w, want, 1e-11 * want) << "n = " << n;
  }
  // Far apart: no first-round neighbour is the right partner, pricing must find them.
  const Points a = cloud(3, 150, rng), b = cloud(3, 150, rng, 6.0, 0.5);
  const double want = hungarian_mean_cost(a, b);
  const double w = gapscope::w2_exact(a, b);
  EXPECT_NEAR(w * w, want, 1e-11 * want);
}

// An independent oracle: LEMON's own NetworkSimplex on the full bipartite graph, with
// integer supplies (so its answer is exact) and double costs.
TEST(Transport, EqualsLemonNetworkSimplex) {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int> mass(1, 20);
  std::normal_distribution<double> N(0.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    const int na = 5 + trial * 3, nb = 4 + trial * 2, d = 1 + trial % 3;
    Points xa(d, na), xb(d, nb);
    for (auto& v : xa.v) v = static_cast<float>(N(rng));
    for (auto& v : xb.v) v = static_cast<float>(N(rng) + 0.7);
    std::vector<long long> sa(na), sb(nb);
    long long ta = 0, tb = 0;
    for (auto& m : sa) ta += (m = mass(rng));
    for (auto& m : sb) tb += (m = mass(rng));
    sb.back() += ta - tb;  // equal totals (the last weight may grow, never below 1 here)
    if (sb.back() < 1) continue;

    lemon::ListDigraph g;
    std::vector<lemon::ListDigraph::Node> a(na), b(nb);
    for (auto& v : a) v = g.addNode();
    for (auto& v : b) v = g.addNode();
    lemon::ListDigraph::ArcMap<double> cost(g);
    lemon::ListDigraph::NodeMap<long long> supply(g);
    for (int i = 0; i < na; ++i) supply[a[i]] = sa[i];
    for (int j = 0; j < nb; ++j) supply[b[j]] = -sb[j];
    for (int i = 0; i < na; ++i)
      for (int j = 0; j < nb; ++j) {
        double c = 0;
        for (int k = 0; k < d; ++k) c += std::pow(double(xa.row(i)[k]) - double(xb.row(j)[k]), 2);
        cost[g.addArc(a[i], b[j])] = c;
      }
    using Simplex = lemon::NetworkSimplex<lemon::ListDigraph, long long, double>;
    Simplex ns(g);
    ns.costMap(cost).supplyMap(supply);
    ASSERT_EQ(ns.run(), Simplex::OPTIMAL);
    const double lemon_cost = ns.totalCost<double>() / static_cast<double>(ta);

    std::vector<double> wa(sa.begin(), sa.end()), wb(sb.begin(), sb.end());
    const double ours = gapscope::emd(wa, xa, wb, xb).cost;
    EXPECT_NEAR(ours, lemon_cost, 1e-9 * lemon_cost) << "trial " << trial;
  }
}

TEST(Transport, TranslatedCloudIsMovedRigidly) {
  // Coordinates on a 2^-10 lattice, so a + t is exact in float and W2 = |t| exactly.
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> k(-2048, 2048);
  Points a(2, 500), b(2, 500);
  for (std::size_t i = 0; i < a.n(); ++i) {
    a.row(i)[0] = k(rng) / 1024.f, a.row(i)[1] = k(rng) / 1024.f;
    b.row(i)[0] = a.row(i)[0] + 0.375f, b.row(i)[1] = a.row(i)[1] - 0.5f;
  }
  EXPECT_DOUBLE_EQ(gapscope::w2_exact(a, b), std::sqrt(0.375 * 0.375 + 0.25));
  EXPECT_DOUBLE_EQ(gapscope::w2_exact(a, a), 0.0);
}

TEST(Transport, EmdIsSymmetricAndPlanHasTheMarginals) {
  std::mt19937_64 rng(5);
  const Points a = cloud(2, 90, rng), b = cloud(2, 70, rng, 1.0);
  std::uniform_real_distribution<double> u(0.1, 2.0);
  std::vector<double> wa(90), wb(70);
  for (double& w : wa) w = u(rng);
  for (double& w : wb) w = u(rng);
  const auto ab = gapscope::emd(wa, a, wb, b, true), ba = gapscope::emd(wb, b, wa, a);
  EXPECT_NEAR(ab.cost, ba.cost, 1e-12 * ab.cost);
  const double sa = std::accumulate(wa.begin(), wa.end(), 0.0), sb = std::accumulate(wb.begin(), wb.end(), 0.0);
  std::vector<double> ma(90, 0), mb(70, 0);
  for (const auto& e : ab.plan) ma[e.i] += e.mass, mb[e.j] += e.mass;
  for (int i = 0; i < 90; ++i) EXPECT_NEAR(ma[i], wa[i] / sa, 1e-15);
  for (int j = 0; j < 70; ++j) EXPECT_NEAR(mb[j], wb[j] / sb, 1e-15);
  EXPECT_LE(ab.plan.size(), 90u + 70u - 1u);  // a basic solution
}

// ---- closed forms (math.md §6) ------------------------------------------------------------

TEST(Transport, GaussianClosedFormWithinSamplingError) {
  // W2² = |μ1 − μ2|² + tr(Σ1 + Σ2 − 2 (Σ2^½ Σ1 Σ2^½)^½)
  const M2 s1{1.0, 0.0, 0.0, 0.25}, s2{0.5, 0.2, 0.2, 0.8};
  const double mu1[2] = {0, 0}, mu2[2] = {1.0, -0.5};
  const M2 r2 = sqrtm(s2), mid = sqrtm(mul(mul(r2, s1), r2));
  const double w2sq = (mu1[0] - mu2[0]) * (mu1[0] - mu2[0]) + (mu1[1] - mu2[1]) * (mu1[1] - mu2[1]) + s1.a + s1.d +
                      s2.a + s2.d - 2 * (mid.a + mid.d);
  EXPECT_NEAR(std::sqrt(w2sq), 1.2327405038375772, 1e-12);  // scipy.linalg.sqrtm gives the same
  auto sample = [](std::size_t n, const double* mu, M2 s, std::mt19937_64& rng) {
    const double l11 = std::sqrt(s.a), l21 = s.b / l11, l22 = std::sqrt(s.d - l21 * l21);  // Cholesky
    std::normal_distribution<double> g;
    Points p(2, n);
    for (std::size_t i = 0; i < n; ++i) {
      const double z1 = g(rng), z2 = g(rng);
      p.row(i)[0] = static_cast<float>(mu[0] + l11 * z1);
      p.row(i)[1] = static_cast<float>(mu[1] + l21 * z1 + l22 * z2);
    }
    return p;
  };
  std::mt19937_64 rng(42);
  const Points a = sample(2000, mu1, s1, rng), b = sample(2000, mu2, s2, rng);
  // Two empirical measures of 2 000 points: over 20 seeds the plug-in W2 was off by
  // +0.002 on average with 0.018 rms (W2 = 1.233), so 0.06 is over three sigma — and far
  // below what a wrong cost (|x−y| instead of |x−y|², a missing sqrt) would give.
  EXPECT_NEAR(gapscope::w2_exact(a, b), std::sqrt(w2sq), 0.06);
  EXPECT_NEAR(gapscope::w2_1d(std::vector<double>{0.0}, std::vector<double>{2.5}), 2.5, 1e-15);

  // 1-D: W2² = (μ1 − μ2)² + (σ1 − σ2)², sharp with 200 000 samples.
  std::normal_distribution<double> g1(0.3, 1.2), g2(-0.4, 0.7);
  std::vector<double> x(200000), y(150000);
  for (double& v : x) v = g1(rng);
  for (double& v : y) v = g2(rng);
  EXPECT_NEAR(gapscope::w2_1d(x, y), std::sqrt(0.7 * 0.7 + 0.5 * 0.5), 0.01);

  // Sliced, isotropic: E_θ[(θ·Δμ)²] + (s1 − s2)² = |Δμ|²/2 + (s1 − s2)² in 2-D.
  const Points c = cloud(2, 20000, rng, 0.0, 1.0);
  Points e = cloud(2, 20000, rng, 0.0, 0.6);
  for (std::size_t i = 0; i < e.n(); ++i) e.row(i)[0] += 1.0f;
  const double want = std::sqrt(0.5 + 0.16);
  EXPECT_NEAR(gapscope::w2_sliced(c, e, 256, 1), want, 0.03 * want);
  EXPECT_EQ(gapscope::w2_sliced(c, e, 16, 9), gapscope::w2_sliced(c, e, 16, 9));  // seeded
  EXPECT_NE(gapscope::w2_sliced(c, e, 16, 9), gapscope::w2_sliced(c, e, 16, 10));
  // Projections are 1-Lipschitz, so sliced W2 never exceeds W2 — for samples too.
  const Points s1c = cloud(2, 300, rng), s2c = cloud(2, 300, rng, 0.5, 0.8);
  EXPECT_LE(gapscope::w2_sliced(s1c, s2c, 64, 3), gapscope::w2_exact(s1c, s2c));
}

TEST(Transport, OneDimensionalIsTheSortedSampleFormula) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> a(1000), b(1000);
  for (double& v : a) v = g(rng);
  for (double& v : b) v = 0.5 + 2 * g(rng);
  std::vector<double> sa = a, sb = b;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  double s = 0;
  for (std::size_t k = 0; k < sa.size(); ++k) s += (sa[k] - sb[k]) * (sa[k] - sb[k]);
  const double want = std::sqrt(s / sa.size());
  EXPECT_NEAR(gapscope::w2_1d(a, b), want, 1e-13 * want);

  // Unequal sizes n, m: the quantile coupling equals the sorted formula on the samples
  // repeated m and n times.
  std::vector<double> x = {0.3, -1.2, 2.0}, y = {1.0, 0.1, -0.7, 4.0};
  std::vector<double> xr, yr;
  for (double v : x) xr.insert(xr.end(), y.size(), v);
  for (double v : y) yr.insert(yr.end(), x.size(), v);
  EXPECT_NEAR(gapscope::w2_1d(x, y), gapscope::w2_1d(xr, yr), 1e-14);
  std::sort(xr.begin(), xr.end());
  std::sort(yr.begin(), yr.end());
  double t = 0;
  for (std::size_t k = 0; k < xr.size(); ++k) t += (xr[k] - yr[k]) * (xr[k] - yr[k]);
  EXPECT_NEAR(gapscope::w2_1d(x, y), std::sqrt(t / xr.size()), 1e-14);

  // And the network simplex agrees with the closed form on the line.
  Points px(1, x.size()), py(1, y.size());
  for (std::size_t k = 0; k < x.size(); ++k) px.v[k] = static_cast<float>(x[k]);
  for (std::size_t k = 0; k < y.size(); ++k) py.v[k] = static_cast<float>(y[k]);
  const auto r = gapscope::emd(std::vector<double>(3, 1.0), px, std::vector<double>(4, 1.0), py);
  EXPECT_NEAR(r.w2, gapscope::w2_1d(px, py), 1e-12);
  EXPECT_NEAR(gapscope::w2_exact(px, py), gapscope::w2_1d(px, py), 1e-15);
}

// ---- grid metric ---------------------------------------------------------------------------

TEST(Transport, GridMetricOnKnownConfigurations) {
  // All mass in one bin on each side: W2 is the distance between the two nodes.
  Points a(2, 3), b(2, 2);
  a.v = {0.01f, 0.0f, -0.02f, 0.03f, 0.0f, 0.0f};  // all round to the node at (0, 0)...
  b.v = {1.0f, 1.0f, 1.02f, 0.98f};
  const gapscope::GridMetric g{9, 4.0};  // nodes every 1.0
  gapscope::GridStats st;
  EXPECT_DOUBLE_EQ(gapscope::w2_grid(a, b, g, &st), std::sqrt(2.0));
  EXPECT_EQ(st.used, 2u);  // the smaller in-box count
  EXPECT_EQ(st.used_a, 3u);
  EXPECT_EQ(st.used_b, 2u);
  EXPECT_EQ(st.bins_a, 1u);
  EXPECT_EQ(st.bins_b, 1u);
  EXPECT_DOUBLE_EQ(gapscope::w2_grid(a, a, g), 0.0);
  // A point outside the box is dropped.
  Points c(2, 3);
  c.v = {9.0f, 0.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  EXPECT_DOUBLE_EQ(gapscope::w2_grid(a, c, g, &st), std::sqrt(2.0));
  EXPECT_EQ(st.used, 2u);
  // One point each.
  Points p(2, 1), q(2, 1);
  p.v = {-4.0f, -4.0f};
  q.v = {4.0f, 4.0f};
  EXPECT_DOUBLE_EQ(gapscope::w2_grid(p, q, g), std::sqrt(128.0));
  // d = 1: two nodes apart.
  Points x(1, 2), y(1, 2);
  x.v = {0.1f, -0.1f};
  y.v = {2.05f, 1.95f};
  EXPECT_DOUBLE_EQ(gapscope::w2_grid(x, y, g), 2.0);
}

TEST(Transport, GridMetricEqualsEmdOfTheHistograms) {
  // Defaults (64 × 64 on [-4, 4]²) against emd() on the occupied nodes with counts.
  std::mt19937_64 rng(21);
  const Points a = cloud(2, 4000, rng, 0.0, 1.0), b = cloud(2, 4000, rng, 0.3, 1.2);
  gapscope::GridStats st;
  const double w = gapscope::w2_grid(a, b, {}, &st);
  const double h = 8.0 / 63;
  auto hist = [&](const Points& p, Points& nodes, std::vector<double>& w) {
    std::vector<double> count(64 * 64, 0);
    std::size_t used = 0;
    for (std::size_t i = 0; i < p.n(); ++i) {
      const double x = p.row(i)[0], y = p.row(i)[1];
      if (std::fabs(x) > 4 || std::fabs(y) > 4) continue;
      ++used;
      count[static_cast<int>(std::floor((y + 4) / h + 0.5)) * 64 + static_cast<int>(std::floor((x + 4) / h + 0.5))] += 1;
    }
    for (int c = 0; c < 64 * 64; ++c)
      if (count[c] > 0) {
        nodes.v.push_back(static_cast<float>(-4 + (c % 64) * h));
        nodes.v.push_back(static_cast<float>(-4 + (c / 64) * h));
        w.push_back(count[c]);
      }
  };
  Points na(2, 0), nb(2, 0);
  std::vector<double> wa, wb;
  hist(a, na, wa);
  hist(b, nb, wb);
  EXPECT_EQ(na.n(), st.bins_a);
  // Node coordinates are rounded to float here, so agreement is to float precision.
  EXPECT_NEAR(gapscope::emd(wa, na, wb, nb).w2, w, 1e-6 * w);
}

TEST(Transport, GridMetricDoesNotDependOnTheOrderOfThePoints) {
  // Unequal in-box counts (b is wider, so more of it leaves the box): a cloud sorted by x,
  // by bin, or reversed gives the same answer, bit for bit, because every in-box point
  // weighs and each histogram has mass 1 (a prefix truncation would keep other points).
  std::mt19937_64 rng(33);
  const Points a = cloud(2, 3000, rng, 0.0, 1.0), b = cloud(2, 2600, rng, 0.5, 1.8);
  gapscope::GridStats st;
  const double w = gapscope::w2_grid(a, b, {}, &st);
  ASSERT_NE(st.used_a, st.used_b);
  auto reordered = [](const Points& p, auto less) {
    std::vector<std::size_t> idx(p.n());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t i, std::size_t j) { return less(p.row(i), p.row(j)); });
    Points q(p.d, p.n());
    for (std::size_t k = 0; k < idx.size(); ++k)
      std::copy(p.row(idx[k]), p.row(idx[k]) + p.d, q.v.begin() + static_cast<std::ptrdiff_t>(k * p.d));
    return q;
  };
  const auto by_x = [](const float* u, const float* v) { return u[0] < v[0]; };
  const auto by_norm = [](const float* u, const float* v) { return u[0] * u[0] + u[1] * u[1] > v[0] * v[0] + v[1] * v[1]; };
  EXPECT_EQ(gapscope::w2_grid(reordered(a, by_x), b), w);
  EXPECT_EQ(gapscope::w2_grid(a, reordered(b, by_x)), w);
  EXPECT_EQ(gapscope::w2_grid(reordered(a, by_norm), reordered(b, by_norm)), w);
  // 1-D likewise.
  const Points x = cloud(1, 2000, rng, 0.0, 2.0), y = cloud(1, 1500, rng, 0.3, 2.5);
  const double w1 = gapscope::w2_grid(x, y);
  EXPECT_EQ(gapscope::w2_grid(reordered(x, by_x), reordered(y, by_x)), w1);
  // Unequal counts weigh each point 1/n: a cloud against itself doubled is at distance 0.
  Points aa(2, 2 * a.n());
  std::copy(a.v.begin(), a.v.end(), aa.v.begin());
  std::copy(a.v.begin(), a.v.end(), aa.v.begin() + static_cast<std::ptrdiff_t>(a.v.size()));
  EXPECT_EQ(gapscope::w2_grid(a, aa), 0.0);
}

TEST(Transport, GridMetricCountsAPointOnTheBordersAsInside) {
  Points a(2, 2), b(2, 2);
  a.v = {4.0f, -4.0f, 0.0f, 0.0f};
  b.v = {0.0f, 0.0f, 4.0f, -4.0f};
  gapscope::GridStats st;
  EXPECT_EQ(gapscope::w2_grid(a, b, {9, 4.0}, &st), 0.0);
  EXPECT_EQ(st.used_a, 2u);
  EXPECT_EQ(st.used_b, 2u);
  Points c(1, 1), e(1, 1);
  c.v = {-2.0f};
  e.v = {2.0f};
  EXPECT_DOUBLE_EQ(gapscope::w2_grid(c, e, {5, 2.0}, &st), 4.0);
  EXPECT_EQ(st.used, 1u);
}

// The published table's metric: nothing discarded, a far sample on its nearest border node.
TEST(Transport, TableMetricPutsFarSamplesOnTheBorderNodes) {
  using gapscope::GridMetric;
  Points a(2, 1), b(2, 1);
  a.v = {0.0f, 0.0f};
  b.v = {100.0f, 0.0f};  // far outside [-3.5, 3.5]^2
  EXPECT_THROW(gapscope::w2_grid(a, b, GridMetric::validation()), std::invalid_argument);  // dropped: nothing left
  const GridMetric t = GridMetric::table();
  EXPECT_EQ(t.grid, 64);
  EXPECT_EQ(t.box, 3.5);
  EXPECT_TRUE(t.clamp);
  // 0 snaps to node 32 of linspace(-3.5, 3.5, 64) (at +3.5/63), 100 to the last node (3.5).
  gapscope::GridStats st;
  const double h = 7.0 / 63;
  EXPECT_NEAR(gapscope::w2_grid(a, b, t, &st), 3.5 - (32 * h - 3.5), 1e-12);
  EXPECT_EQ(st.used_b, 1u);
  // Inside the box both metrics bin alike; the table's box is smaller, so far fewer are dropped.
  EXPECT_EQ(GridMetric::named("validation").box, 4.0);
  EXPECT_THROW(GridMetric::named("printed"), std::invalid_argument);
}

// ---- degenerate input ----------------------------------------------------------------------

TEST(Transport, DegenerateInputIsRejected) {
  using gapscope::emd;
  using gapscope::w2_1d;
  using gapscope::w2_exact;
  using gapscope::w2_grid;
  using gapscope::w2_sliced;
  std::mt19937_64 rng(1);
  const Points a = cloud(2, 5, rng), b = cloud(2, 6, rng), empty(2, 0), c3 = cloud(3, 5, rng);
  Points nan = a, inf = a, ragged = a;
  nan.v[3] = std::numeric_limits<float>::quiet_NaN();
  inf.v[0] = std::numeric_limits<float>::infinity();
  ragged.v.push_back(1.0f);
  const std::vector<double> w5(5, 1.0), w6(6, 1.0);
  for (const Points* bad : std::vector<const Points*>{&empty, &nan, &inf, &ragged, &c3}) {
    EXPECT_THROW(w2_exact(a, *bad), std::invalid_argument);
    EXPECT_THROW(w2_exact(*bad, a), std::invalid_argument);
    EXPECT_THROW(w2_grid(a, *bad), std::invalid_argument);
    EXPECT_THROW(w2_sliced(*bad, a, 8, 0), std::invalid_argument);
    EXPECT_THROW(emd(std::vector<double>(bad->n(), 1.0), *bad, w5, a), std::invalid_argument);
  }
  EXPECT_THROW(emd(w6, a, w6, b), std::invalid_argument);  // weight count
  EXPECT_THROW(emd({1, 1, -1, 1, 1}, a, w6, b), std::invalid_argument);
  EXPECT_THROW(emd({0, 0, 0, 0, 0}, a, w6, b), std::invalid_argument);
  EXPECT_THROW(emd({1, 1, std::nan(""), 1, 1}, a, w6, b), std::invalid_argument);
  EXPECT_THROW(w2_1d(a, b), std::invalid_argument);  // d = 2
  EXPECT_THROW(w2_1d(std::vector<double>{}, std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_THROW(w2_1d(std::vector<double>{1.0, NAN}, std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_THROW(w2_grid(c3, c3), std::invalid_argument);  // d = 3
  EXPECT_THROW(w2_grid(a, b, {1, 4.0}), std::invalid_argument);
  EXPECT_THROW(w2_grid(a, b, {64, 0.0}), std::invalid_argument);
  Points far = a;
  for (float& x : far.v) x += 100.0f;
  EXPECT_THROW(w2_grid(a, far), std::invalid_argument);  // nothing inside the box
  EXPECT_THROW(w2_sliced(a, b, 0, 0), std::invalid_argument);
  try {
    w2_exact(a, c3);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("dimension mismatch"), std::string::npos) << e.what();
  }

  // One point each: the distance itself; mass concentrated on one point likewise.
  Points p(2, 1), q(2, 1);
  p.v = {1.0f, 2.0f};
  q.v = {4.0f, 6.0f};
  EXPECT_DOUBLE_EQ(w2_exact(p, q), 5.0);
  EXPECT_DOUBLE_EQ(emd({1.0}, p, {3.0}, q).w2, 5.0);
  EXPECT_NEAR(emd({1.0, 0.0, 0.0, 0.0, 0.0}, a, {2.0}, q).w2, std::sqrt(sqdist(a, 0, q, 0)), 1e-14);
}

// ---- the CLI command -----------------------------------------------------------------------

TEST(Transport, CliPrintsOneJsonLine) {
  const fs::path cli = GAPSCOPE_CLI;
  if (!fs::exists(cli)) GTEST_SKIP() << "gapscope-cli not built at " << cli;
  const fs::path dir = fs::temp_directory_path() / ("gapscope_w2_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::mt19937_64 rng(17);
  const Points a = cloud(2, 300, rng), b = cloud(2, 250, rng, 0.4);
  gapscope::write_points_csv((dir / "a.csv").string(), a);
  gapscope::write_points_csv((dir / "b.csv").string(), b);
  const Points ra = gapscope::read_points_csv((dir / "a.csv").string());
  const Points rb = gapscope::read_points_csv((dir / "b.csv").string());
  auto run = [&](const std::string& args, int& status) {
    const std::string cmd = "\"" + cli.string() + "\" w2 \"" + (dir / "a.csv").string() + "\" \"" +
                            (dir / "b.csv").string() + "\" " + args + " 2>/dev/null";
    FILE* f = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (f && fgets(buf, sizeof buf, f)) out += buf;
    status = f ? pclose(f) : -1;
    return out;
  };
  int status = 0;
  auto j = nlohmann::json::parse(run("--method exact", status));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(j.at("method"), "exact");
  EXPECT_NEAR(j.at("w2").get<double>(), gapscope::w2_exact(ra, rb), 1e-12);
  EXPECT_EQ(j.at("n_a").get<int>(), 300);
  EXPECT_EQ(j.at("n_b").get<int>(), 250);
  EXPECT_GE(j.at("seconds").get<double>(), 0.0);

  j = nlohmann::json::parse(run("--method grid --grid 32 --box 3", status));
  EXPECT_EQ(j.at("method"), "grid");
  EXPECT_NEAR(j.at("w2").get<double>(), gapscope::w2_grid(ra, rb, {32, 3.0}), 1e-12);

  j = nlohmann::json::parse(run("--method sliced --directions 20 --seed 4", status));
  EXPECT_EQ(j.at("method"), "sliced");
  EXPECT_NEAR(j.at("w2").get<double>(), gapscope::w2_sliced(ra, rb, 20, 4), 1e-12);

  // 1-D method on 2-D input, and a missing file: exit status 1, nothing on stdout.
  EXPECT_EQ(run("--method 1d", status), "");
  EXPECT_NE(status, 0);
  const std::string cmd = "\"" + cli.string() + "\" w2 \"" + (dir / "missing.csv").string() + "\" \"" +
                          (dir / "b.csv").string() + "\" 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  std::string err;
  char buf[4096];
  while (f && fgets(buf, sizeof buf, f)) err += buf;
  const int st = f ? pclose(f) : -1;
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) << err;
  EXPECT_NE(err.find("missing.csv"), std::string::npos) << err;
  fs::remove_all(dir);
}

// Benchmarks of the transport module on the two cases of POT's reference run (pot_w2.py):
// the paper's 64×64 grid metric between 300 000-sample ring clouds (scales 2.0 and
// 2.1), and exact W2 between 2 000 vs 2 000 ring points. The data are drawn the same
// way (two rings, radii N(0.65, 0.1²) and N(1.4, 0.1²), uniform angle, times the scale)
// but from std::mt19937_64, so the values differ slightly from POT's run of the script.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "core/points.h"
#include "transport/transport.h"

namespace {

gapscope::Points rings(std::size_t n, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> inner(0.65, 0.1), outer(1.4, 0.1);
  std::uniform_real_distribution<double> angle(0, 2 * M_PI);
  gapscope::Points p(2, n);
  for (std::size_t i = 0; i < n; ++i) {
    const double r = (i < n / 2 ? inner(rng) : outer(rng)) * scale, t = angle(rng);
    p.row(i)[0] = static_cast<float>(r * std::cos(t));
    p.row(i)[1] = static_cast<float>(r * std::sin(t));
  }
  return p;
}

struct Data {
  gapscope::Points grid_a, grid_b, cloud_a, cloud_b;
  Data() {
    std::mt19937_64 rng(0);
    grid_a = rings(300000, 2.0, rng);
    grid_b = rings(300000, 2.1, rng);
    cloud_a = rings(2000, 2.0, rng);
    cloud_b = rings(2000, 2.1, rng);
  }
};

// Results go to a plain double: benchmark 1.7.1's DoNotOptimize on a double handed
// back garbage here (GCC 12, -O3); the solver calls cannot be elided anyway.
const Data& data() {
  static const Data d;
  return d;
}

void BM_GridRings64(benchmark::State& state) {
  const Data& d = data();
  const gapscope::GridMetric g{static_cast<int>(state.range(0)), 4.0};
  double w = 0;
  for (auto _ : state) w = gapscope::w2_grid(d.grid_a, d.grid_b, g), benchmark::ClobberMemory();
  state.counters["W2"] = w;
}
BENCHMARK(BM_GridRings64)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_ExactClouds2000(benchmark::State& state) {
  const Data& d = data();
  double w = 0;
  for (auto _ : state) w = gapscope::w2_exact(d.cloud_a, d.cloud_b), benchmark::ClobberMemory();
  state.counters["W2"] = w;
}
BENCHMARK(BM_ExactClouds2000)->Unit(benchmark::kMillisecond);

// The same clouds through the weighted entry point (masses rounded to 2^53 per side).
void BM_EmdWeighted2000(benchmark::State& state) {
  const Data& d = data();
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  std::vector<double> wa(d.cloud_a.n()), wb(d.cloud_b.n());
  for (double& w : wa) w = u(rng);
  for (double& w : wb) w = u(rng);
  double w = 0;
  for (auto _ : state) w = gapscope::emd(wa, d.cloud_a, wb, d.cloud_b).w2, benchmark::ClobberMemory();
  state.counters["W2"] = w;
}
BENCHMARK(BM_EmdWeighted2000)->Unit(benchmark::kMillisecond);

void BM_Sliced300k(benchmark::State& state) {
  const Data& d = data();
  double w = 0;
  for (auto _ : state) w = gapscope::w2_sliced(d.grid_a, d.grid_b, 64, 0), benchmark::ClobberMemory();
  state.counters["W2"] = w;
}
BENCHMARK(BM_Sliced300k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

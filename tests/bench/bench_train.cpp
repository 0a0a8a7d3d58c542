// Training-step and sampler timings at Config's defaults, the paper's CPU setting
// (docs/math.md §5): 20 000 DSM samples, 5 000 collocation points, no boundary term,
// d = 2, the 80-80-80 softplus(beta = 100) potential network, float32. scripts/bench
// runs these and the paper's PyTorch step and sampler in one run.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "core/config.h"
#include "core/sde.h"
#include "kernels/denormals.h"
#include "sample/sample.h"
#include "train/train.h"

using namespace gapscope;

namespace {

// GEMM FLOPs (2 per multiply-add) of the fused kernels (engine/kernels/fused_potential.cpp)
// at config c, per point: scripts/bench divides them by the measured time and reads the
// result against bench_peak's FMA peak. Only the H x H layers count; layer 0 (in = 1 + d)
// and the output layer add under 2 %.
double hh_gemm(const Config& c) { return 2.0 * c.hidden * c.hidden * (c.layers - 1); }
double dsm_flop_per_point(const Config& c) { return 6 * hh_gemm(c); }  // forward over reverse
double fp_flop_per_point(const Config& c) {
  const int blocks = 3 + c.dim();  // u, u_t, grad_x u, lap u
  return 3 * blocks * hh_gemm(c);  // forward, backward input adjoint, weight gradient
}
double sampler_flop_per_point_step(const Config& c) { return 2 * hh_gemm(c); }  // forward + reverse
// The score model (output s in R^d): DSM is first order (forward, backward, weight
// gradient); the residual needs the t and x tangents and the d(d+1)/2 Hessian pairs.
double score_dsm_flop_per_point(const Config& c) { return 3 * hh_gemm(c); }
double score_fp_flop_per_point(const Config& c) {
  const int d = c.dim(), blocks = 2 + d + d * (d + 1) / 2;
  return 3 * blocks * hh_gemm(c);
}

void train_step(benchmark::State& st, double lambda, const char* model) {
  Config c;  // the paper's defaults: circles2, OU, T = 10, 80-80-80 softplus(100), batch sizes as above
  c.lambda = lambda;
  c.model = model;
  c.residual_stats_every = 0;
  Trainer tr(c);
  for (int i = 0; i < 3; ++i) tr.step();  // warm-up
  for (auto _ : st) tr.step();
  const bool potential = c.model == "potential";
  st.counters["GFLOP"] = 1e-9 * (c.batch_dsm * (potential ? dsm_flop_per_point(c) : score_dsm_flop_per_point(c)) +
                                 (lambda != 0 ? c.batch_collocation * (potential ? fp_flop_per_point(c) : score_fp_flop_per_point(c)) : 0));
  // Softplus units per step, by the bench_peak pass that times them (scripts/bench's floor):
  // the potential's DSM forward takes value, slope and curvature of every hidden layer but
  // the last, whose slope and curvature are counted at the slope-only rate (a lower bound
  // of their cost); the residual's jets take the third derivative of every layer.
  if (potential) {
    st.counters["units_order2"] = static_cast<double>(c.batch_dsm) * c.hidden * (c.layers - 1);
    st.counters["units_slope"] = static_cast<double>(c.batch_dsm) * c.hidden;
    st.counters["units_order3"] = lambda != 0 ? static_cast<double>(c.batch_collocation) * c.hidden * c.layers : 0;
  }
}

void BM_TrainStepLambda0(benchmark::State& st) { train_step(st, 0.0, "potential"); }
void BM_TrainStepLambda1(benchmark::State& st) { train_step(st, 1.0, "potential"); }
void BM_TrainStepScoreModelLambda1(benchmark::State& st) { train_step(st, 1.0, "score"); }

// One full run of the paper's sampler: 10 000 particles, 400 steps with the last 10
// refined 10x (490 score evaluations), Euler for the ODE, Euler-Maruyama for the SDE.
void sampler(benchmark::State& st, SamplerKind kind, const char* model = "potential") {
  Config c;
  c.model = model;
  Trainer tr(c);  // untrained weights: the cost does not depend on them
  const Sde sde = Sde::from_config(c);
  auto o = SamplerOptions::from_config(c, kind);
  o.eps = 1e-5;
  constexpr int kParticles = 10000;
  auto start = prior_sample(sde, c.dim(), kParticles, 1);
  auto score = network_score(tr.snapshot());
  std::size_t steps = 0;
  for (auto _ : st) {  // as gapscope-cli sample runs it
    std::size_t nfe = 0;
    const Points x = sample(sde, score, o, start, &nfe);
    steps += nfe;
    benchmark::DoNotOptimize(x.v.data());
  }
  const bool potential = c.model == "potential";
  const double per_step = potential ? sampler_flop_per_point_step(c) : hh_gemm(c);  // score: forward only
  st.counters["GFLOP"] = 1e-9 * kParticles * static_cast<double>(steps / st.iterations()) * per_step;
  st.counters["steps"] = static_cast<double>(steps / st.iterations());
  // Softplus units per point and step, by kind (bench_peak times each kind): the
  // potential's score takes the value and slope of every hidden layer but the last, whose
  // value feeds only u; the score network takes values alone.
  st.counters["units_value_slope"] = potential ? (c.layers - 1) * c.hidden : 0;
  st.counters["units_slope"] = potential ? c.hidden : 0;
  st.counters["points"] = kParticles;
  st.counters["normals"] = kind == SamplerKind::SDE ? c.dim() : 0;  // per point and step
}

void BM_SampleODE10k(benchmark::State& st) { sampler(st, SamplerKind::ODE); }
void BM_SampleSDE10k(benchmark::State& st) { sampler(st, SamplerKind::SDE); }
void BM_SampleScoreModelODE10k(benchmark::State& st) { sampler(st, SamplerKind::ODE, "score"); }

}  // namespace

BENCHMARK(BM_TrainStepLambda0)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_TrainStepLambda1)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();
BENCHMARK(BM_TrainStepScoreModelLambda1)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_SampleODE10k)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SampleSDE10k)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SampleScoreModelODE10k)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

int main(int argc, char** argv) {
  const char* th = std::getenv("THREADS");  // as paper_step.py: THREADS=2 by default
  at::set_num_threads(th ? std::atoi(th) : 2);
  // As gapscope-cli and the lab (kernels/denormals.h): what a user runs; GAPSCOPE_FTZ=0 measures without.
  gapscope::flush_denormals_everywhere();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

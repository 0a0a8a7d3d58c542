// gapscope-cli sample --checkpoint DIR --method ode|sde --n N [--steps K] [--seed S] [--ode-scheme S]
//                     [--rtol R --atol A] [--sde-sampler em|pc --snr R --corrector-steps K] --out FILE.csv
#include <ATen/Parallel.h>

#include <chrono>
#include <iostream>

#include "commands.h"
#include "core/points.h"
#include "sampler_flags.h"
#include "core/config.h"
#include "sample/sample.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct SampleArgs {
  std::string checkpoint, method = "ode", out;
  SamplerFlags flags;
  std::size_t n = 10000;
  int steps = -1;
  uint64_t seed = 0;
  int threads = 2;
};

void run_sample(const SampleArgs& a) {
  at::set_num_threads(a.threads);
  auto tr = Trainer::load(a.checkpoint);
  const Config c = a.flags.apply(tr->config());
  const Sde sde = Sde::from_config(c);
  auto o = SamplerOptions::from_config(c, a.method == "sde" ? SamplerKind::SDE : SamplerKind::ODE);
  if (a.steps > 0) {
    o.steps = a.steps;
    if (o.refine > o.steps) o.refine = 0;
  }
  o.seed = a.seed + 1;  // noise stream distinct from the prior's
  // The prior, the result, the sampler's working copies and the CSV text.
  check_points_fit(a.n, tr->snapshot()->spec.d, 4 * 4 + 20, "--n");
  auto t0 = std::chrono::steady_clock::now();
  std::size_t nfe = 0;
  Points x = sample(sde, network_score(tr->snapshot()), o, prior_sample(sde, tr->snapshot()->spec.d, a.n, a.seed),
                    &nfe);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_points_csv(a.out, x);
  const std::string how = a.method == "ode" ? c.ode_method : c.sde_sampler;
  std::cerr << "sampled " << a.n << " points by " << a.method << " (" << how << ", " << nfe
            << " network evaluations per point) in " << s << " s -> " << a.out << "\n";
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<SampleArgs>();
  auto* c = root.add_subcommand("sample", "sample a trained model by the reverse SDE or the probability-flow ODE");
  c->add_option("--checkpoint", a->checkpoint, "checkpoint directory")->required();
  c->add_option("--method", a->method, "ode or sde")->check(CLI::IsMember({"ode", "sde"}));
  a->flags.add_to(c);
  c->add_option("--n", a->n, "number of samples")->check(CLI::PositiveNumber);
  c->add_option("--steps", a->steps, "step count N (default: the config's sample_steps)")->check(CLI::PositiveNumber);
  c->add_option("--seed", a->seed, "seed of the prior draws (ODE and SDE with one seed share them)");
  c->add_option("--threads", a->threads, "CPU threads for LibTorch")->check(CLI::Range(1, 256));
  c->add_option("--out", a->out, "output CSV")->required();
  c->callback([a] { run_sample(*a); });
});

}  // namespace
}  // namespace gapscope::cli

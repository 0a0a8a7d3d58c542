// gapscope-cli sweep-steps --checkpoint DIR [--steps 25,50,...] [--n N] [--method euler|heun|rk4]
//                          [--metric validation|table] [--refine K] [--seed S] --out FILE.csv|.png|.svg|.pdf [--figure F]
// Discretisation or model: ODE and SDE from the same prior draws at each step count N,
// the three W2 distances, the shares inside the metric's box and the network
// evaluations per particle, one row per N.
#include <ATen/Parallel.h>

#include <iostream>

#include "commands.h"
#include "sampler_flags.h"
#include "core/config.h"
#include "study/sweep_steps.h"
#include "style/format.h"
#include "train/train.h"
#include "transport/w2_triple.h"

namespace gapscope::cli {
namespace {

struct SweepArgs {
  std::string checkpoint, steps = "25,50,100,200,400,800,1600", metric = "validation";
  std::vector<std::string> out;
  std::string figure;
  SweepOptions o;
  SamplerFlags flags;
  int threads = 2;
};

void run_sweep(SweepArgs a) {
  at::set_num_threads(a.threads);
  a.o.steps = parse_step_list(a.steps);
  if (!a.figure.empty()) a.out.push_back(a.figure);
  a.o.metric = GridMetric::named(a.metric);
  auto tr = Trainer::load(a.checkpoint);
  if (!a.o.method.empty()) a.flags.ode_scheme = a.o.method;
  a.o.method.clear();
  const Config c = a.flags.apply(tr->config());
  const std::string scheme = c.ode_method + ", SDE " + c.sde_sampler;
  const auto rows = sweep_steps(tr->snapshot(), c, a.o, [](const SweepRow& r, std::size_t i, std::size_t k) {
    std::cerr << "sweep-steps " << i + 1 << "/" << k << ": N = " << r.steps
              << "  W2(ODE,SDE) " << style::number(r.w2.ode_sde) << "  W2(ODE,data) " << style::number(r.w2.ode_data)
              << "  W2(SDE,data) " << style::number(r.w2.sde_data) << "  nfe " << r.nfe_ode << "/" << r.nfe_sde
              << "  (" << style::duration(r.seconds) << ")\n";
  });
  W2Spec spec;
  spec.grid = a.o.metric;
  const std::string title = c.dataset + ", \u03bb = " + style::number(c.lambda) + ", ODE " + scheme + ", n = " +
                            std::to_string(a.o.n);
  for (const auto& path : a.out) {
    write_sweep(rows, path, title, w2_metric_label(spec));
    std::cerr << "sweep-steps -> " << path << "\n";
  }
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<SweepArgs>();
  auto* c = root.add_subcommand("sweep-steps", "W2 of ODE and SDE against the step count: discretisation or model?");
  c->add_option("--checkpoint", a->checkpoint, "checkpoint directory")->required();
  c->add_option("--steps", a->steps, "step counts N, comma-separated")->capture_default_str();
  c->add_option("--n", a->o.n, "points per cloud (ODE, SDE, data)")->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--method", a->o.method, "ODE scheme euler, heun, rk4 or rk45 (the same as --ode-scheme)")
      ->check(CLI::IsMember({"euler", "heun", "rk4", "rk45"}));
  a->flags.add_to(c);
  c->add_option("--metric", a->metric, "validation (64 nodes on [-4,4]^2) or table (64 on [-3.5,3.5]^2, clamped)")
      ->check(CLI::IsMember({"validation", "table"}))
      ->capture_default_str();
  c->add_option("--refine", a->o.refine,
                 "steps at the end refined ten-fold (default: the config's sample_refine, the paper's 10); 0: uniform "
                 "steps, so the integrator's order shows")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--seed", a->o.seed, "seed of the shared prior draws")->capture_default_str();
  c->add_option("--threads", a->threads, "CPU threads for LibTorch")->check(CLI::Range(1, 256));
  c->add_option("--out", a->out, "output: .csv (one row per N) or a figure .png/.svg/.pdf; repeatable")->required();
  c->add_option("--figure", a->figure, "a further output, as --out (e.g. --out s.csv --figure s.png)");
  c->callback([a] { run_sweep(*a); });
});

}  // namespace
}  // namespace gapscope::cli

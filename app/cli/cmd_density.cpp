// gapscope-cli density --checkpoint DIR [--t T] [--grid G] [--box L] [--steps N] [--ode-scheme S]
//                      --out FILE.csv|.png|.svg|.pdf [--out ...]
// The probability-flow ODE's own density at time t (exact change of variables, every
// grid node integrated to T), the model's normalised exp(u_theta(., t)) and the data's
// p_t, per grid node as CSV and as a figure with their log-ratios.
#include <ATen/Parallel.h>

#include <iostream>

#include "commands.h"
#include "core/config.h"
#include "sample/density.h"
#include "study/density_figure.h"
#include "style/format.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct DensityArgs {
  std::string checkpoint, scheme;
  std::vector<std::string> out;
  DensityRequest r;
  int steps = -1;
  int threads = 2;
};

void run_density(DensityArgs a, const CLI::App& c) {
  at::set_num_threads(a.threads);
  auto tr = Trainer::load(a.checkpoint);
  const Config& cfg = tr->config();
  if (!c.count("--box")) a.r.box = cfg.box;
  auto o = SamplerOptions::from_config(cfg, SamplerKind::ODE);
  if (a.steps > 0) {
    o.steps = a.steps;
    if (o.refine > o.steps) o.refine = 0;
  }
  if (!a.scheme.empty()) o.scheme = parse_ode_scheme(a.scheme);
  const DensityGrid g = density_grid(tr->snapshot(), cfg, o, a.r);
  const std::string title = cfg.dataset + ", \u03bb = " + style::number(cfg.lambda) + ", iteration " +
                            std::to_string(tr->snapshot()->iteration);
  for (const auto& path : a.out) {
    write_density(g, path, title);
    std::cerr << "density at t = " << a.r.t << " on " << g.nx << (g.d == 2 ? "x" + std::to_string(g.ny) : "")
              << " nodes -> " << path << "\n";
  }
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<DensityArgs>();
  auto* c = root.add_subcommand("density", "the ODE's own density, the model's exp(u) and the data's on a grid");
  c->add_option("--checkpoint", a->checkpoint, "checkpoint directory")->required();
  c->add_option("--t", a->r.t, "time of the slice: the ODE runs from T down to t")->capture_default_str();
  c->add_option("--grid", a->r.grid, "nodes per axis")->check(CLI::Range(2, 1024))->capture_default_str();
  c->add_option("--box", a->r.box, "the grid spans [-box, box]^d (default: the config's box)")
      ->check(CLI::PositiveNumber);
  c->add_option("--steps", a->steps, "ODE steps N (default: the config's sample_steps)")->check(CLI::PositiveNumber);
  c->add_option("--ode-scheme", a->scheme, "euler, heun or rk4 (default: the config's ode_method)")
      ->check(CLI::IsMember({"euler", "heun", "rk4"}));
  c->add_option("--kde-n", a->r.kde_n, "data samples for the KDE when the data set has no closed form")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--seed", a->r.seed, "seed of the KDE's data samples")->capture_default_str();
  c->add_option("--threads", a->threads, "CPU threads for LibTorch")->check(CLI::Range(1, 256));
  c->add_option("--out", a->out, "output: .csv (one row per node) or a figure .png/.svg/.pdf; repeatable")
      ->required();
  c->callback([a, c] { run_density(*a, *c); });
});

}  // namespace
}  // namespace gapscope::cli

#pragma once
// The sampler choices every sampling sub-command takes (sample, eval, sweep-steps), as
// overrides of the experiment's config keys, so that they reach the engine by the same
// road as the experiment file (SamplerOptions::from_config).
#include <CLI/CLI.hpp>

#include <string>

#include "core/config.h"

namespace gapscope::cli {

struct SamplerFlags {
  std::string ode_scheme, sde_sampler;
  double rtol = -1, atol = -1, snr = -1;
  int corrector_steps = -1;

  void add_to(CLI::App* c) {
    c->add_option("--ode-scheme", ode_scheme, "euler, heun, rk4 or rk45 (adaptive) (default: the config's ode_method)")
        ->check(CLI::IsMember({"euler", "heun", "rk4", "rk45"}));
    c->add_option("--rtol", rtol, "rk45: relative tolerance (default: the config's ode_rtol)")->check(CLI::PositiveNumber);
    c->add_option("--atol", atol, "rk45: absolute tolerance (default: the config's ode_atol)")->check(CLI::PositiveNumber);
    c->add_option("--sde-sampler", sde_sampler, "em (Euler-Maruyama) or pc (predictor-corrector) (default: the config's)")
        ->check(CLI::IsMember({"em", "pc"}));
    c->add_option("--snr", snr, "pc: the Langevin corrector's signal-to-noise ratio (default: the config's pc_snr)")
        ->check(CLI::PositiveNumber);
    c->add_option("--corrector-steps", corrector_steps, "pc: Langevin steps per noise level (default: the config's)")
        ->check(CLI::NonNegativeNumber);
  }
  // The config with the given flags in place of its keys, validated again.
  Config apply(Config c) const {
    if (!ode_scheme.empty()) c.ode_method = ode_scheme;
    if (!sde_sampler.empty()) c.sde_sampler = sde_sampler;
    if (rtol > 0) c.ode_rtol = rtol;
    if (atol > 0) c.ode_atol = atol;
    if (snr > 0) c.pc_snr = snr;
    if (corrector_steps >= 0) c.pc_corrector_steps = corrector_steps;
    c.validate();
    return c;
  }
};

}  // namespace gapscope::cli

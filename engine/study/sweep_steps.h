#pragma once
// Discretisation or model? The ODE and the SDE sampled from the same prior draws at a
// list of step counts N, each scored by the three W2 distances (study/evaluate.h): as N
// grows the integrator's error falls at its order and what remains is the model's gap.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "io/figure.h"
#include "study/evaluate.h"
#include "transport/transport.h"

namespace gapscope {

struct Config;

struct SweepOptions {
  std::vector<int> steps{25, 50, 100, 200, 400, 800, 1600};
  std::size_t n = 20000;         // points per cloud
  std::string method;            // ODE scheme euler|heun|rk4; empty: the config's
  int refine = -1;               // the paper's refined last steps: < 0 the config's, 0 uniform steps
  GridMetric metric{64, 4.0};    // the W2 metric (validation by default)
  uint64_t seed = 0;
};

struct SweepRow {
  int steps = 0;
  W2Triple w2;
  double inside_ode = NAN, inside_sde = NAN;  // share of the cloud inside the metric's box
  std::size_t nfe_ode = 0, nfe_sde = 0;       // network evaluations per particle
  double seconds = 0;
};

// "25,50,100" -> {25, 50, 100}; a bad entry is one line naming --steps.
std::vector<int> parse_step_list(const std::string& s);

using SweepProgressFn = std::function<void(const SweepRow& done, std::size_t index, std::size_t count)>;
std::vector<SweepRow> sweep_steps(const SnapshotPtr& w, const Config& c, const SweepOptions& o,
                                  const SweepProgressFn& progress = {});

// Header exactly steps,w2_ode_sde,w2_ode_data,w2_sde_data,inside_ode,inside_sde,nfe_ode,nfe_sde.
std::string sweep_csv(const std::vector<SweepRow>& rows);
// W2 against N, both axes logarithmic.
fig::Figure sweep_figure(const std::vector<SweepRow>& rows, const std::string& title, const std::string& metric);
// By extension: .csv the table, .png/.svg/.pdf the figure.
void write_sweep(const std::vector<SweepRow>& rows, const std::string& path, const std::string& title,
                 const std::string& metric);

}  // namespace gapscope

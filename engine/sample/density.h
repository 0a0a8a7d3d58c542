#pragma once
// The density the probability-flow ODE induces, exactly (no histogram, no KDE): along a
// trajectory of dx/dt = v = f - ½ g² s, the log-density obeys the instantaneous change of
// variables d log p/dt = -div v = d a(t) + ½ g² div s (f = -a(t) x, so div f = -d a), and
// div s is the network's Laplacian of u from the jets. Beside it, on a grid: the model's own
// density exp(u_theta(., t)) normalised over the grid's box, and the data's density p_t
// (closed form for Gaussian-mixture data, a labelled Gaussian KDE otherwise). Plain data.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/points.h"
#include "core/sde.h"
#include "core/snapshot.h"
#include "sample/sample.h"

namespace gapscope {

struct Config;

// score (n x d) = s(x, t) and div (n) = div_x s(x, t) at the points of x.
using DensityTermsFn = std::function<void(double t, const Points& x, Points& score, std::vector<float>& div)>;
DensityTermsFn network_density_terms(SnapshotPtr snapshot);

struct OdeDensity {
  Points x;                   // the particles at the end of the run
  std::vector<double> log_p;  // log p^ODE at each particle (the prior's log-density at the start)
  std::size_t nfe = 0;        // network evaluations (score + divergence together)
};

// The ODE sampler of `o` (its scheme and time grid; o.kind is ignored) run on `start`
// drawn from the prior, with log p integrated alongside by the same scheme, so log p has
// the integrator's order.
OdeDensity ode_log_density(const Sde& sde, const DensityTermsFn& terms, const SamplerOptions& o, const Points& start);

// log p^ODE(y, t) at fixed points y: each y is integrated forward in time, t -> T, on the
// sampler's own time grid (o.eps = t) traversed backwards, and log p = log prior(x(T)) +
// integral_t^T div v ds. Exact at every node (up to the integrator), unlike interpolating
// scattered particles, and costs one ODE solve per node.
std::vector<double> ode_log_density_at(const Sde& sde, const DensityTermsFn& terms, const SamplerOptions& o,
                                       const Points& y);

// log N(x; 0, prior_var I) of each row.
std::vector<double> prior_log_density(const Sde& sde, const Points& x);

struct DensityRequest {
  double t = 1e-4;     // the time of the slice (sampling runs T -> t)
  int grid = 64;       // nodes per axis
  double box = 3.5;    // the grid spans [-box, box]^d (d = 1 or 2)
  std::size_t kde_n = 20000;  // data samples for the KDE when the data set has no closed form
  uint64_t seed = 0;
};

struct DensityGrid {
  int d = 2, nx = 0, ny = 1;  // d = 1: ny = 1
  double box = 0, t = 0;
  std::vector<double> xs;  // nx * ny * d node coordinates, row-major, x1 fastest
  std::vector<double> log_p_ode, log_p_model, log_p_data;  // per node; log_p_model empty for a score network,
                                                           // log_p_data empty when the data cannot be sampled
  std::string data_label;   // "exact (Gaussian mixture)" or "KDE (n = …, bandwidth …)"
  std::string model_note;   // how exp(u) was normalised
  std::size_t nfe = 0;      // network evaluations per node of the ODE run
};

// The three log-densities on a grid over [-box, box]^d at time r.t, for a trained model
// and its experiment config (SDE, data set, sampler scheme and steps).
DensityGrid density_grid(const SnapshotPtr& w, const Config& c, const SamplerOptions& o, const DensityRequest& r);

// log of exp(u) / (sum over nodes of exp(u) * cell volume): the normalisation on the grid.
std::vector<double> normalise_on_grid(const std::vector<float>& u, double cell_volume);

}  // namespace gapscope

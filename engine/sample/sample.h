#pragma once
// owns: the samplers (reverse SDE, probability-flow ODE) and what consumes a snapshot on a grid — residual fields and statistics, the ODE-induced density.
// must not include: transport/, train/, io/, study/, style/, <torch/, <imgui, <GL, <cairo
//
// Reverse-time samplers (math.md §1, §5): Euler-Maruyama for the reverse SDE and
// Euler / Heun / RK4 for the probability-flow ODE, on the paper's step schedule.
// The score is a plain callback on point clouds, so the same integrators run a
// network snapshot, a closed-form score in the tests, or anything else.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/points.h"
#include "core/sde.h"
#include "core/snapshot.h"

namespace gapscope {

struct Config;

enum class SamplerKind { SDE, ODE };
enum class OdeScheme { Euler, Heun, RK4 };
OdeScheme parse_ode_scheme(const std::string& name);  // euler|heun|rk4
const char* ode_scheme_name(OdeScheme s);              // its inverse

struct SamplerOptions {
  SamplerKind kind = SamplerKind::ODE;
  OdeScheme scheme = OdeScheme::Euler;
  int steps = 400;         // N
  int refine = 10;         // the last `refine` steps ...
  int refine_factor = 10;  // ... are replaced by refine*refine_factor steps of 1/refine_factor the size
  double eps = 1e-4;       // integrate from T down to eps
  uint64_t seed = 0;       // SDE noise

  static SamplerOptions from_config(const Config& c, SamplerKind kind);
};

// Network evaluations per particle of a whole run: K steps times the scheme's stages
// (Euler and Euler-Maruyama 1, Heun 2, RK4 4).
int ode_stages(OdeScheme s);
std::size_t network_evaluations(const Sde& sde, const SamplerOptions& o);

// t_0 = T > t_1 > ... > t_K = eps (K = steps - refine + refine * refine_factor).
std::vector<double> time_grid(const Sde& sde, const SamplerOptions& o);

// score(t, x, out): out (same shape as x) = s(x, t).
using ScoreFn = std::function<void(double t, const Points& x, Points& out)>;
ScoreFn network_score(SnapshotPtr snapshot);  // evaluates without an autograd graph

Points prior_sample(const Sde& sde, int d, std::size_t n, uint64_t seed);

// Steps a cloud through the time grid one step at a time, so the GUI can animate it
// and the CLI can run it to the end. The SDE's last step adds no noise.
class Integrator {
 public:
  Integrator(const Sde& sde, ScoreFn score, const SamplerOptions& o, Points start);
  bool done() const { return k_ + 1 >= grid_.size(); }
  double time() const { return grid_[k_]; }
  std::size_t step_index() const { return k_; }
  std::size_t num_steps() const { return grid_.size() - 1; }
  const Points& points() const { return x_; }
  void step();
  void run() { while (!done()) step(); }

 private:
  void velocity(double t, const Points& x, double score_scale, Points& out);
  Sde sde_;
  ScoreFn score_;
  SamplerOptions o_;
  std::vector<double> grid_;
  std::size_t k_ = 0;
  Points x_, s_, k1_, k2_, k3_, k4_, tmp_;
};

Points sample(const Sde& sde, const ScoreFn& score, const SamplerOptions& o, const Points& start);

}  // namespace gapscope

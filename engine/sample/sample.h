#pragma once
// owns: the samplers (reverse SDE, probability-flow ODE) and what consumes a snapshot on a grid — residual fields and statistics, the ODE-induced density.
// must not include: transport/, train/, io/, study/, style/, <torch/, <imgui, <GL, <cairo
//
// Reverse-time samplers (math.md §1, §5): Euler-Maruyama for the reverse SDE, or score_sde's
// predictor-corrector (that predictor, then Langevin corrector steps at each noise level);
// Euler / Heun / RK4 for the probability-flow ODE on the paper's step schedule, or the
// adaptive embedded Dormand-Prince RK45 with rtol/atol, which picks its own steps from T
// to eps (the schedule's N and refinement do not apply to it). Every run counts its
// network evaluations per particle.
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
enum class OdeScheme { Euler, Heun, RK4, RK45 };
OdeScheme parse_ode_scheme(const std::string& name);  // euler|heun|rk4|rk45
const char* ode_scheme_name(OdeScheme s);              // its inverse

enum class SdeScheme { EulerMaruyama, PredictorCorrector };
SdeScheme parse_sde_scheme(const std::string& name);  // em|pc
const char* sde_scheme_name(SdeScheme s);

struct SamplerOptions {
  SamplerKind kind = SamplerKind::ODE;
  OdeScheme scheme = OdeScheme::Euler;
  int steps = 400;         // N
  int refine = 10;         // the last `refine` steps ...
  int refine_factor = 10;  // ... are replaced by refine*refine_factor steps of 1/refine_factor the size
  double eps = 1e-4;       // integrate from T down to eps
  uint64_t seed = 0;       // SDE noise
  double rtol = 1e-3, atol = 1e-3;  // RK45: per-step error tolerance, RMS over the cloud
  SdeScheme sde_scheme = SdeScheme::EulerMaruyama;
  // PC: Langevin steps x += e s + sqrt(2e) z before each predictor step, with score_sde's
  // step e = 2 (snr |z| / |s|)^2 (norms averaged over the cloud; alpha = 1). None before
  // the final, noise-free step.
  double snr = 0.16;
  int corrector_steps = 1;

  static SamplerOptions from_config(const Config& c, SamplerKind kind);
};

// Network evaluations per particle of a whole run with a fixed schedule: K steps times the
// scheme's stages (Euler and Euler-Maruyama 1, Heun 2, RK4 4; PC 1 + corrector steps
// except on the last step). RK45's count is known only after the run (Integrator::nfe).
int ode_stages(OdeScheme s);
std::size_t network_evaluations(const Sde& sde, const SamplerOptions& o);

// t_0 = T > t_1 > ... > t_K = eps (K = steps - refine + refine * refine_factor); RK45: {T, eps}.
std::vector<double> time_grid(const Sde& sde, const SamplerOptions& o);

// score(t, x, out): out (same shape as x) = s(x, t).
using ScoreFn = std::function<void(double t, const Points& x, Points& out)>;
ScoreFn network_score(SnapshotPtr snapshot);  // evaluates without an autograd graph

Points prior_sample(const Sde& sde, int d, std::size_t n, uint64_t seed);

// The coordinates of a larger cloud that an Integrator steps (its start is those n x d
// floats of the cloud, from `offset`): the SDE draws the whole cloud's noise at them, so a
// cloud stepped in parts gets the same numbers as stepped whole. total 0: start is the
// whole cloud.
struct CloudPart {
  std::size_t offset = 0;
  std::size_t total = 0;
};

// Steps a cloud through the time grid one step at a time, so the GUI can animate it
// and the CLI can run it to the end. The SDE's last step adds no noise.
class Integrator {
 public:
  Integrator(const Sde& sde, ScoreFn score, const SamplerOptions& o, Points start, CloudPart part = {});
  bool done() const { return k_ + 1 >= grid_.size(); }
  double time() const { return grid_[k_]; }
  std::size_t step_index() const { return k_; }
  std::size_t num_steps() const { return grid_.size() - 1; }
  const Points& points() const { return x_; }
  std::size_t nfe() const { return nfe_; }  // network evaluations per particle so far
  void step();
  void run() { while (!done()) step(); }

 private:
  void velocity(double t, const Points& x, double score_scale, Points& out);
  void rk45(double t_end);
  void langevin(double t);
  void noise(uint64_t stream, Points& out) const;
  Sde sde_;
  ScoreFn score_;
  SamplerOptions o_;
  CloudPart part_;
  std::vector<double> grid_;
  std::size_t k_ = 0, nfe_ = 0;
  double h_ = 0;  // RK45: the step size it carries on
  Points x_, s_, k1_, k2_, k3_, k4_, tmp_;
  std::vector<Points> dp_;  // RK45: its seven stages
};

// A whole run; nfe (may be null): its network evaluations per particle. The schemes whose
// particles move independently (Euler, Heun, RK4, Euler-Maruyama) run the cloud as one
// part per ATen thread, each part through all its steps with no join between steps: the
// score is then called from those threads at once, on disjoint points, and must allow it
// (network_score and closed forms do). PC and RK45 take norms over the whole cloud and
// step it whole. The result does not depend on the thread count.
Points sample(const Sde& sde, const ScoreFn& score, const SamplerOptions& o, const Points& start,
              std::size_t* nfe = nullptr);

}  // namespace gapscope

#pragma once
// The learned score and residual of a weight snapshot, evaluated on raw float arrays.
// This is the one place that chooses between the fused CPU kernels (kernels/) and the
// LibTorch reference path (nn/ jets): samplers, residual fields, metrics and views ask a
// ScoreFunction and never decide for themselves. Torch-free header.
#include <cstdint>
#include <memory>

#include "core/sde.h"
#include "core/snapshot.h"

namespace gapscope {

// Whether a network of this spec, stored in float on the CPU, runs the fused kernels.
// (Network::fused() and the trainer's choice of loss path read the same rule.)
bool runs_fused(const ModelSpec& spec, bool on_cpu = true, bool float32 = true);

class ScoreFunction {
 public:
  explicit ScoreFunction(SnapshotPtr weights);

  bool fused() const { return fused_; }
  const char* path_name() const;  // "fused CPU kernels" or "LibTorch jets", for the UI and reports
  const WeightSnapshot& weights() const { return *w_; }
  int d() const { return w_->spec.d; }

  // out (n x d) = s_theta(x, t) at n points; t has n entries, x is n x d row-major.
  void score(int64_t n, const float* t, const float* x, float* out) const;
  // out (n) = the Fokker–Planck residual R(x, t) of a potential network (signed), or |r|
  // of a score network (r is a vector there). Work is chunked, so big grids stay bounded.
  void residual(const Sde& sde, int64_t n, const float* t, const float* x, float* out) const;
  // What the ODE's change of variables needs (sample/density.h), exact from the jets:
  // u (n) the potential (NaN for a score network, which has none), score (n x d) and
  // div (n) = div_x s_theta (the Laplacian of u for a potential network). Any may be null.
  void density_terms(int64_t n, const float* t, const float* x, float* u, float* score, float* div) const;

 private:
  struct Torch;  // the LibTorch network, built only when the fused path cannot run
  SnapshotPtr w_;
  bool fused_;
  std::shared_ptr<const Torch> torch_;
};

}  // namespace gapscope

#pragma once
// Fused CPU kernels for the potential network u_theta(x,t) (the paper's model, float)
// and for the direct score network s_theta(x,t) (model = score, d outputs): the
// sampler's score and the whole training loss with its parameter gradient.
// Points are processed in blocks of a few dozen rows that stay in cache: forward jets
// through every layer (gemm.h + jet_blocks.h), the per-point loss and its adjoint in
// closed form, the reverse pass, parameter gradients accumulated per thread and summed
// in thread order (so a run is reproducible for a given thread count). No autograd
// and no tensors in the loop; torch keeps the parameters and the optimiser.
// The tensor-level path (loss.h over jet.h) computes the same numbers and stays the
// reference in the tests.
#include <cstdint>
#include <vector>

#include "core/sde.h"
#include "core/snapshot.h"

namespace gapscope {

// Views of float weights, layer l: W[l] is out x in row-major, b[l] has out entries.
// Either kind of network (spec.potential): the output layer has spec.out_dim() rows.
struct PotentialWeights {
  ModelSpec spec;
  std::vector<const float*> W, b;
  static PotentialWeights of(const WeightSnapshot& s);
};

bool fused_potential_supported(const ModelSpec& spec);  // potential model, any activation, d < 32
bool fused_score_model_supported(const ModelSpec& spec);  // score model, any activation, d < 32, no prior offset

// grad_x u at n points (t: n, x: n x d) into out (n x d). Row blocks over the ATen threads.
void potential_score(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* out);

// The Fokker-Planck residual R (math.md §2) at n points into out (n), no gradient: the
// residual fields and statistics of a potential network.
void potential_residual(const PotentialWeights& w, const Sde& sde, int64_t n, const float* t, const float* x,
                        float* out);

// u, grad_x u and the Laplacian of u at n points (u: n, grad: n x d, lap: n; any may be
// null), no gradient: the probability-flow ODE's change of variables (sample/density.h)
// and the model's own density exp(u).
void potential_value_jet(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* u, float* grad,
                         float* lap);

// Denoising score matching batch: x_t = m(t) x0 + sigma(t) z.
struct DsmBatch {
  int64_t n = 0;
  const float *t = nullptr, *x0 = nullptr, *z = nullptr;  // n, n x d, n x d
};
// Fokker-Planck batch: collocation points and box-boundary points.
struct FpBatch {
  int64_t n = 0, nb = 0;
  const float *t = nullptr, *x = nullptr;    // n, n x d
  const float *tb = nullptr, *xb = nullptr;  // nb, nb x d
};
struct LossParts {
  double dsm = 0, fp = 0, bc = 0;  // L = dsm + lambda fp + boundary bc
};
struct LossWeights {
  double lambda = 0;    // the Fokker-Planck residual term
  double boundary = 0;  // the box-face term (the paper: 0)
};

// The loss of math.md §4 (DSM mean over points and coordinates; mean R^2 over the
// collocation points; mean softplus(u)^2 over the box-face points, see Config::boundary_weight)
// and its gradient: grad[2l] = dL/dW_l, grad[2l+1] = dL/db_l (resized here).
// A term whose weight is 0 (or fp == nullptr) is not evaluated and reads 0.
LossParts potential_loss_grad(const PotentialWeights& w, const Sde& sde, const DsmBatch& dsm, const FpBatch* fp,
                              const LossWeights& weights, std::vector<std::vector<float>>& grad);

// ---- The score network (model = score): the output s_theta (n x d) is the score ----

// s_theta at n points into out (n x d): values only, one GEMM per layer.
void score_model_score(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* out);

// The vector residual r (math.md §2, nn/residual.h score_fp_residual) at n points into
// out (n x d), no gradient.
void score_model_residual(const PotentialWeights& w, const Sde& sde, int64_t n, const float* t, const float* x,
                          float* out);

// s (n x d) and div_x s (n) at n points (either may be null), no gradient: the ODE's
// change of variables for a score network.
void score_model_value_jet(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* s,
                           float* div);

// The score network's loss (nn/loss.cpp dsm_loss + lambda fp_loss): DSM mean over points
// and coordinates of (s + z / sigma)^2, lambda times the mean over collocation points of
// |r|^2, and no boundary term (bc reads 0 whatever weights.boundary). Gradient as above.
LossParts score_model_loss_grad(const PotentialWeights& w, const Sde& sde, const DsmBatch& dsm, const FpBatch* fp,
                                const LossWeights& weights, std::vector<std::vector<float>>& grad);

}  // namespace gapscope

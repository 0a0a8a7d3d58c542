#pragma once
// Training objectives (math.md §4): denoising score matching and the
// Fokker-Planck regulariser (collocation residual + boundary term).
#include <torch/types.h>

#include "core/sde.h"

namespace gapscope {

class Network;

// E |s(x_t,t) + z / sigma(t)|^2 with x_t = m(t) x0 + sigma(t) z.
torch::Tensor dsm_loss(const Network& net, const Sde& sde, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z);

struct FpLoss {
  torch::Tensor residual;  // mean R^2 over the collocation points (score model: mean |r|^2)
  torch::Tensor boundary;  // mean softplus(u)^2 over the boundary points (score model: 0, see loss.cpp)
};
// Either set of points may be empty: that term is then 0 and not evaluated.
// Both losses use the forward jets of nn/jet.h and one hand-written reverse pass.
FpLoss fp_loss(const Network& net, const Sde& sde, const torch::Tensor& tc, const torch::Tensor& xc,
               const torch::Tensor& tb, const torch::Tensor& xb);

}  // namespace gapscope

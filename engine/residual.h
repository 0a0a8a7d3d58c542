#pragma once
// The Fokker-Planck residual (math.md §2), built from the derivatives ("jet") of a
// log-density u(x,t). Any source of jets - the network, or a closed-form density in
// the tests - goes through the same residual code.
#include <torch/types.h>

#include "sde.h"

namespace gapscope {

class Network;

struct LogDensityJet {
  torch::Tensor u;     // n x 1
  torch::Tensor u_t;   // n x 1
  torch::Tensor grad;  // n x d
  torch::Tensor lap;   // n x 1
};

// Per-row SDE coefficients as tensors (n x 1) so VP/VE time dependence vectorises.
torch::Tensor drift_rate(const Sde& sde, const torch::Tensor& t);
torch::Tensor diffusion2(const Sde& sde, const torch::Tensor& t);

// R = u_t + div f + f . grad u - 1/2 g^2 (lap u + |grad u|^2),  f = -a(t) x.
torch::Tensor log_fp_residual(const Sde& sde, const torch::Tensor& t, const torch::Tensor& x, const LogDensityJet& j);

// Jet of the potential network by nested autograd (grad of grad): the test oracle.
LogDensityJet potential_jet_autograd(const Network& net, const torch::Tensor& t, const torch::Tensor& x);

}  // namespace gapscope

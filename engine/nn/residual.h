#pragma once
// The Fokker-Planck residual (math.md §2), built from the derivatives ("jet") of a
// log-density u(x,t). Any source of jets - the network, or a closed-form density in
// the tests - goes through the same residual code.
#include <torch/types.h>

#include <functional>

#include "core/sde.h"

namespace gapscope {

class Network;

struct LogDensityJet {
  torch::Tensor u;     // n x 1
  torch::Tensor u_t;   // n x 1
  torch::Tensor grad;  // n x d
  torch::Tensor lap;   // n x 1
};

// f(t) per row of t (n x 1), from the scalar Sde formulas, on t's device and dtype.
torch::Tensor per_row(const torch::Tensor& t, const std::function<double(double)>& f);
// The SDE coefficients a(t) and g(t)^2 per row.
torch::Tensor drift_rate(const Sde& sde, const torch::Tensor& t);
torch::Tensor diffusion2(const Sde& sde, const torch::Tensor& t);

// R = u_t + div f + f . grad u - 1/2 g^2 (lap u + |grad u|^2),  f = -a(t) x.
torch::Tensor log_fp_residual(const Sde& sde, const torch::Tensor& t, const torch::Tensor& x, const LogDensityJet& j);

// Jet of the potential network by nested autograd (grad of grad): the test oracle.
LogDensityJet potential_jet_autograd(const Network& net, const torch::Tensor& t, const torch::Tensor& x);
// The same jet by forward Taylor propagation (nn/jet.h): one pass, then one
// hand-written reverse pass for the parameter gradient. This is the training path.
LogDensityJet potential_jet(const Network& net, const torch::Tensor& t, const torch::Tensor& x);

// What the score residual needs of a vector field s(x,t) (n x d).
struct ScoreJet {
  torch::Tensor s;         // n x d
  torch::Tensor s_t;       // n x d
  torch::Tensor jac;       // n x d x d, jac[:, j, i] = d s_j / d x_i
  torch::Tensor grad_div;  // n x d, d/dx_i (div s) = sum_j d2 s_j / dx_i dx_j
};

// r = d_t s - grad_x[-div f - f.s + 1/2 g^2 (div s + |s|^2)]  (math.md §2), n x d. With
// f = -a(t) x: r_i = d_t s_i - a (s_i + sum_j x_j d_i s_j) - 1/2 g^2 (d_i div s + 2 sum_j s_j d_i s_j).
torch::Tensor score_fp_residual(const Sde& sde, const torch::Tensor& t, const torch::Tensor& x, const ScoreJet& j);

// Score-network jets (model = score): forward Taylor jets, and nested autograd as the oracle.
ScoreJet score_jet(const Network& net, const torch::Tensor& t, const torch::Tensor& x);
ScoreJet score_jet_autograd(const Network& net, const torch::Tensor& t, const torch::Tensor& x);

// Residual of a network of either kind, no graph: potential -> R (n x 1); score -> r (n x d).
torch::Tensor network_residual(const Network& net, const Sde& sde, const torch::Tensor& t, const torch::Tensor& x);

}  // namespace gapscope

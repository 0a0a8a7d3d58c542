#pragma once
// Exact input derivatives of the MLP by forward-mode Taylor jets ("forward
// Laplacian"): value, first derivatives along t / x_i and second-order blocks
// (the Laplacian, or the full x-Hessian) are pushed through the layers in one
// pass, stacked so that each linear layer is a single GEMM over all blocks.
// The parameter gradient of anything computed from the jet comes from one
// hand-written reverse pass (a torch::autograd::Function), never from nested
// autograd. Element-wise work is fused into plain loops; GEMMs go to BLAS via ATen.
//
// Layer 0 is special-cased: the input tangents are unit vectors, so the layer-0
// tangents are columns of W0 and the second-order blocks are zero before the
// first activation. The t-tangent carries no second-order terms.
#include <torch/types.h>

namespace gapscope {

class Network;

struct JetSpec {
  bool dt = false;  // tangent along t
  bool dx = false;  // tangents along each x_i
  enum class Second { None, Laplacian, Hessian };
  Second second = Second::None;  // needs dx. Laplacian: one block sum_i d2/dx_i^2; Hessian: i <= j pairs
};

// Blocks of the network output y (out = 1 for the potential, d for the score model).
struct NetworkJet {
  torch::Tensor y;      // n x out
  torch::Tensor y_t;    // n x out                      (dt)
  torch::Tensor y_x;    // d x n x out, y_x[i] = dy/dx_i  (dx)
  torch::Tensor y_lap;  // n x out                      (Laplacian)
  torch::Tensor y_xx;   // P x n x out, P = d(d+1)/2, pairs (i <= j) in row-major order (Hessian)
};
int hessian_pair(int d, int i, int j);  // index of the pair (min, max) in y_xx

// Differentiable in the network parameters (when grad mode is on and they require
// grad), not in t and x. Without grad mode nothing is taped: that is the sampler's path.
NetworkJet network_jet(const Network& net, const torch::Tensor& t, const torch::Tensor& x, const JetSpec& spec);

}  // namespace gapscope

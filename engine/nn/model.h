#pragma once
// The score model in LibTorch: an MLP on (t, x), either the paper's potential
// network u_theta (score = grad_x u) or a direct score network. Parameters are kept
// as plain tensors (not torch::nn modules) so the jets, the optimiser and the
// checkpoint all see the same flat list in the same order.
#include <torch/types.h>

#include <vector>

#include "core/snapshot.h"
#include "kernels/fused_potential.h"

namespace gapscope {

class Network {
 public:
  Network(const ModelSpec& spec, torch::Device device = torch::kCPU, torch::Dtype dtype = torch::kFloat);

  // PyTorch's nn.Linear initialisation, drawn from our own seeded generator so a
  // seed gives the same network on any device.
  void init(uint64_t seed);

  const ModelSpec& spec() const { return spec_; }
  torch::Device device() const { return device_; }
  torch::Dtype dtype() const { return dtype_; }
  int num_layers() const { return static_cast<int>(W_.size()); }  // hidden layers + output
  const torch::Tensor& weight(int l) const { return W_[l]; }
  const torch::Tensor& bias(int l) const { return b_[l]; }
  std::vector<torch::Tensor> parameters() const;  // W0, b0, W1, b1, ...

  // Network output (n x out_dim) on t (n x 1), x (n x d); differentiable.
  torch::Tensor forward(const torch::Tensor& t, const torch::Tensor& x) const;
  // Score s_theta(x,t) (n x d), differentiable in the parameters (for the DSM loss).
  torch::Tensor score(const torch::Tensor& t, const torch::Tensor& x) const;
  // Score for sampling: no autograd graph (fused_potential.h for a float network on the CPU).
  torch::Tensor score_nograd(const torch::Tensor& t, const torch::Tensor& x) const;

  // A float network of either kind on the CPU runs the fused kernels (kernels/fused_potential.h)
  // on views of its parameter storage; the rule is runs_fused (nn/score_function.h).
  bool fused() const;
  PotentialWeights fused_weights() const;

  WeightSnapshot snapshot() const;
  void load(const WeightSnapshot& s);  // copies values; spec must match

 private:
  ModelSpec spec_;
  torch::Device device_;
  torch::Dtype dtype_;
  std::vector<torch::Tensor> W_, b_;
};

// Activation and its first two derivatives, shared by forward passes and jets.
torch::Tensor activate(const ModelSpec& s, const torch::Tensor& h);
torch::Tensor activate_d1(const ModelSpec& s, const torch::Tensor& h);
torch::Tensor activate_d2(const ModelSpec& s, const torch::Tensor& h);

}  // namespace gapscope

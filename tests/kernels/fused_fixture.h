#pragma once
// What the fused-kernel tests (test_fused_potential, test_fused_score) share: random
// weights large enough for second derivatives to matter, their double twin for the
// autograd oracle, and random float inputs.
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/sde.h"
#include "core/snapshot.h"
#include "nn/model.h"

namespace gapscope::testing {

inline WeightSnapshot random_weights(int d, Activation act, uint64_t seed, double beta, bool potential = true) {
  ModelSpec spec;
  spec.potential = potential;
  spec.d = d;
  spec.hidden = 24;
  spec.layers = 3;
  spec.activation = act;
  spec.softplus_beta = beta;
  Network net(spec);
  net.init(seed);
  {
    torch::NoGradGuard ng;  // larger than the default init, so second derivatives are not tiny
    for (auto& p : net.parameters()) p.mul_(2.0);
  }
  return net.snapshot();
}

inline Network double_net(const WeightSnapshot& s) {
  Network net(s.spec, torch::kCPU, torch::kDouble);
  net.load(s);
  return net;
}

inline std::vector<float> uniform(std::size_t n, double lo, double hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = static_cast<float>(u(rng));
  return v;
}
inline std::vector<float> normal(std::size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  std::vector<float> v(n);
  for (auto& e : v) e = static_cast<float>(g(rng));
  return v;
}
inline torch::Tensor as_double(const std::vector<float>& v, int64_t cols) {
  return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size()) / cols, cols}, torch::kFloat)
      .to(torch::kDouble);
}

inline const char* act_name(Activation a) {
  return a == Activation::Softplus ? "softplus" : a == Activation::Tanh ? "tanh" : "silu";
}

// The case a failure message names: "sde <kind> <activation> d <d>".
inline std::string case_tag(Sde::Kind kind, Activation act, int d) {
  return "sde " + std::to_string(static_cast<int>(kind)) + " " + act_name(act) + " d " + std::to_string(d);
}

}  // namespace gapscope::testing

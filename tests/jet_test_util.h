#pragma once
// Helpers of the tests that compare derivative engines against nested autograd
// (test_residual, test_fused_potential).
#include <torch/types.h>

#include "core/sde.h"

namespace gapscope::testing {

// max |a - b| / max |b|: relative to the scale of the reference.
inline double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / (b.abs().max().item<double>() + 1e-300);
}

// OU keeps the paper's T = 10; VP and VE run on their usual horizon [0, 1].
inline Sde make_sde(Sde::Kind k) {
  Sde s;
  s.kind = k;
  if (k != Sde::Kind::OU) s.T = 1.0;
  return s;
}

}  // namespace gapscope::testing

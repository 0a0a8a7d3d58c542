#pragma once
// A 2-D Gaussian mixture with a closed-form score and density: the exact reference the
// sampler and density tests integrate against.
#include "core/data.h"

namespace gapscope::testing {

inline GaussianMixture two_d_mixture() {
  GaussianMixture g;
  g.d = 2;
  g.weights = {0.25, 0.75};
  g.means = {-1.5, 0.5, 1.0, -0.5};
  g.stds = {0.4, 0.6};
  return g;
}

}  // namespace gapscope::testing

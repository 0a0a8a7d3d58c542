#pragma once
// The activation functions and their first three derivatives on raw arrays, for the
// jets and the fused kernels (model.h has the tensor versions for autograd). Softplus
// follows torch exactly in the regime switch: linear above beta*h > 20.
#include <cstdint>

#include "core/snapshot.h"

namespace gapscope {

// z = act(h); D1..D3 = act', act'', act''' at h. D2 and D3 may be null (not computed),
// and so may z unless D3 is asked for, or D1 when D2 and D3 are (the value alone: the
// score network's sampler); z must not alias h.
void activation_jet(const ModelSpec& s, int64_t m, const float* h, float* z, float* D1, float* D2, float* D3);
void activation_jet(const ModelSpec& s, int64_t m, const double* h, double* z, double* D1, double* D2, double* D3);

}  // namespace gapscope

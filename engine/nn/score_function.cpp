#include "nn/score_function.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "kernels/fused_potential.h"
#include "nn/model.h"
#include "nn/residual.h"

namespace gapscope {

bool runs_fused(const ModelSpec& spec, bool on_cpu, bool float32) {
  return (fused_potential_supported(spec) || fused_score_model_supported(spec)) && on_cpu && float32;
}

struct ScoreFunction::Torch {
  explicit Torch(const WeightSnapshot& w) : net(w.spec) { net.load(w); }
  Network net;
};

ScoreFunction::ScoreFunction(SnapshotPtr weights) : w_(std::move(weights)) {
  if (!w_) throw std::invalid_argument("score function: no weights");
  // Snapshots hold float weights on the host, so the spec alone decides.
  fused_ = runs_fused(w_->spec);
  if (!fused_) torch_ = std::make_shared<const Torch>(*w_);
}

const char* ScoreFunction::path_name() const { return fused_ ? "fused CPU kernels" : "LibTorch jets"; }

void ScoreFunction::score(int64_t n, const float* t, const float* x, float* out) const {
  if (n <= 0) return;
  if (fused_) {
    // The snapshot's float vectors are the weights: no tensors, no copies.
    if (w_->spec.potential)
      potential_score(PotentialWeights::of(*w_), n, t, x, out);
    else
      score_model_score(PotentialWeights::of(*w_), n, t, x, out);
    return;
  }
  const int64_t d = w_->spec.d;
  auto tt = torch::from_blob(const_cast<float*>(t), {n, 1}, torch::kFloat);
  auto xt = torch::from_blob(const_cast<float*>(x), {n, d}, torch::kFloat);
  auto s = torch_->net.score_nograd(tt, xt).to(torch::kFloat).contiguous();
  std::copy(s.data_ptr<float>(), s.data_ptr<float>() + n * d, out);
}

void ScoreFunction::residual(const Sde& sde, int64_t n, const float* t, const float* x, float* out) const {
  if (n <= 0) return;
  const int64_t d = w_->spec.d;
  if (fused_ && w_->spec.potential) {
    potential_residual(PotentialWeights::of(*w_), sde, n, t, x, out);
    return;
  }
  if (fused_) {
    const int64_t chunk = 8192;  // bounds the vector residual's buffer on big grids
    std::vector<float> r(static_cast<std::size_t>(std::min(chunk, n) * d));
    for (int64_t i = 0; i < n; i += chunk) {
      const int64_t m = std::min(chunk, n - i);
      score_model_residual(PotentialWeights::of(*w_), sde, m, t + i, x + i * d, r.data());
      for (int64_t k = 0; k < m; ++k) {
        float s2 = 0;
        for (int64_t j = 0; j < d; ++j) s2 += r[k * d + j] * r[k * d + j];
        out[i + k] = std::sqrt(s2);
      }
    }
    return;
  }
  auto tt = torch::from_blob(const_cast<float*>(t), {n, 1}, torch::kFloat);
  auto xt = torch::from_blob(const_cast<float*>(x), {n, d}, torch::kFloat);
  const int64_t chunk = 8192;  // bounds the jet's memory on big grids
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t m = std::min(chunk, n - i);
    auto r = network_residual(torch_->net, sde, tt.narrow(0, i, m), xt.narrow(0, i, m));
    if (!w_->spec.potential) r = r.pow(2).sum(1).sqrt();
    r = r.reshape({m}).to(torch::kFloat).contiguous();
    std::copy(r.data_ptr<float>(), r.data_ptr<float>() + m, out + i);
  }
}

}  // namespace gapscope

namespace gapscope {

void ScoreFunction::density_terms(int64_t n, const float* t, const float* x, float* u, float* score,
                                  float* div) const {
  if (n <= 0) return;
  if (fused_ && w_->spec.potential) {
    potential_value_jet(PotentialWeights::of(*w_), n, t, x, u, score, div);
    return;
  }
  if (fused_) {
    if (u) std::fill(u, u + n, NAN);
    score_model_value_jet(PotentialWeights::of(*w_), n, t, x, score, div);
    return;
  }
  torch::NoGradGuard no_grad;
  const int64_t d = w_->spec.d;
  auto tt = torch::from_blob(const_cast<float*>(t), {n, 1}, torch::kFloat);
  auto xt = torch::from_blob(const_cast<float*>(x), {n, d}, torch::kFloat);
  auto put = [](const torch::Tensor& v, float* out, int64_t at) {
    if (!out) return;
    auto c = v.to(torch::kFloat).contiguous();
    std::copy(c.data_ptr<float>(), c.data_ptr<float>() + c.numel(), out + at);
  };
  const int64_t chunk = 8192;  // bounds the jet's memory on big grids
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t m = std::min(chunk, n - i);
    auto ti = tt.narrow(0, i, m), xi = xt.narrow(0, i, m);
    if (w_->spec.potential) {
      const LogDensityJet j = potential_jet(torch_->net, ti, xi);
      put(j.u.reshape({m}), u, i);
      put(j.grad, score, i * d);
      put(j.lap.reshape({m}), div, i);
    } else {
      const ScoreJet j = score_jet(torch_->net, ti, xi);
      if (u) std::fill(u + i, u + i + m, NAN);
      put(j.s, score, i * d);
      put(j.jac.diagonal(0, 1, 2).sum(1), div, i);
    }
  }
}

}  // namespace gapscope

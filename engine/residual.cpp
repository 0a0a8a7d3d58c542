#include "residual.h"

#include <torch/torch.h>

#include <cmath>

#include "model.h"

namespace gapscope {

torch::Tensor drift_rate(const Sde& sde, const torch::Tensor& t) {
  switch (sde.kind) {
    case Sde::Kind::OU: return torch::ones_like(t);
    case Sde::Kind::VP: return 0.5 * (sde.beta_min + t * (sde.beta_max - sde.beta_min));
    case Sde::Kind::VE: return torch::zeros_like(t);
  }
  return torch::zeros_like(t);
}

torch::Tensor diffusion2(const Sde& sde, const torch::Tensor& t) {
  switch (sde.kind) {
    case Sde::Kind::OU: return torch::ones_like(t);
    case Sde::Kind::VP: return sde.beta_min + t * (sde.beta_max - sde.beta_min);
    case Sde::Kind::VE: {
      const double lr = std::log(sde.sigma_max / sde.sigma_min);
      return sde.sigma_min * sde.sigma_min * 2.0 * lr * torch::exp(2.0 * lr * t);
    }
  }
  return torch::ones_like(t);
}

torch::Tensor log_fp_residual(const Sde& sde, const torch::Tensor& t, const torch::Tensor& x, const LogDensityJet& j) {
  const int64_t d = x.size(1);
  auto a = drift_rate(sde, t);
  auto g2 = diffusion2(sde, t);
  auto x_dot_grad = (x * j.grad).sum(1, true);
  auto grad2 = (j.grad * j.grad).sum(1, true);
  return j.u_t - static_cast<double>(d) * a - a * x_dot_grad - 0.5 * g2 * (j.lap + grad2);
}

LogDensityJet potential_jet_autograd(const Network& net, const torch::Tensor& t, const torch::Tensor& x) {
  auto tg = t.detach().requires_grad_(true);
  auto xg = x.detach().requires_grad_(true);
  LogDensityJet j;
  j.u = net.forward(tg, xg);
  auto ones = torch::ones_like(j.u);
  auto g = torch::autograd::grad({j.u}, {tg, xg}, {ones}, true, true);
  j.u_t = g[0];
  j.grad = g[1];
  j.lap = torch::zeros_like(j.u);
  for (int64_t i = 0; i < x.size(1); ++i) {
    auto gi = j.grad.select(1, i);
    auto hii = torch::autograd::grad({gi}, {xg}, {torch::ones_like(gi)}, true, true)[0].select(1, i);
    j.lap = j.lap + hii.unsqueeze(1);
  }
  return j;
}

}  // namespace gapscope

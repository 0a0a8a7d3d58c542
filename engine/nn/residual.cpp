#include "nn/residual.h"

#include <torch/torch.h>

#include <functional>

#include "nn/jet.h"
#include "nn/model.h"

namespace gapscope {

torch::Tensor per_row(const torch::Tensor& t, const std::function<double(double)>& f) {
  // The scalar formulas of engine/sde are the only ones: evaluated in double on the
  // host, then moved to t's device and dtype (the batches are small).
  auto tc = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  auto out = torch::empty_like(tc);
  const double* tp = tc.data_ptr<double>();
  double* op = out.data_ptr<double>();
  for (int64_t i = 0; i < tc.numel(); ++i) op[i] = f(tp[i]);
  return out.to(t.options());
}

torch::Tensor drift_rate(const Sde& sde, const torch::Tensor& t) {
  return per_row(t, [&](double s) { return sde.drift_rate(s); });
}

torch::Tensor diffusion2(const Sde& sde, const torch::Tensor& t) {
  return per_row(t, [&](double s) { return sde.diffusion2(s); });
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

namespace gapscope {

LogDensityJet potential_jet(const Network& net, const torch::Tensor& t, const torch::Tensor& x) {
  JetSpec s;
  s.dt = s.dx = true;
  s.second = JetSpec::Second::Laplacian;
  auto nj = network_jet(net, t, x, s);
  LogDensityJet j;
  j.u = nj.y;
  j.u_t = nj.y_t;
  j.grad = nj.y_x.squeeze(2).t();  // d x n x 1 -> n x d
  j.lap = nj.y_lap;
  return j;
}

ScoreJet score_jet(const Network& net, const torch::Tensor& t, const torch::Tensor& x) {
  const int d = static_cast<int>(x.size(1));
  JetSpec s;
  s.dt = s.dx = true;
  s.second = JetSpec::Second::Hessian;
  auto nj = network_jet(net, t, x, s);
  ScoreJet j;
  j.s = nj.y;
  j.s_t = nj.y_t;
  j.jac = nj.y_x.permute({1, 2, 0});  // (i, n, j) -> (n, j, i)
  std::vector<torch::Tensor> gd;
  for (int i = 0; i < d; ++i) {
    torch::Tensor acc;
    for (int k = 0; k < d; ++k) {
      auto term = nj.y_xx[hessian_pair(d, i, k)].select(1, k);
      acc = acc.defined() ? acc + term : term;
    }
    gd.push_back(acc);
  }
  j.grad_div = torch::stack(gd, 1);
  return j;
}

ScoreJet score_jet_autograd(const Network& net, const torch::Tensor& t, const torch::Tensor& x) {
  const int64_t d = x.size(1);
  auto tg = t.detach().requires_grad_(true);
  auto xg = x.detach().requires_grad_(true);
  ScoreJet j;
  j.s = net.forward(tg, xg);
  std::vector<torch::Tensor> st, rows;
  torch::Tensor div;
  for (int64_t k = 0; k < d; ++k) {
    auto sk = j.s.select(1, k);
    auto g = torch::autograd::grad({sk}, {tg, xg}, {torch::ones_like(sk)}, true, true);
    st.push_back(g[0].squeeze(1));
    rows.push_back(g[1]);  // d s_k / dx (n x d)
    auto dk = g[1].select(1, k);
    div = div.defined() ? div + dk : dk;
  }
  j.s_t = torch::stack(st, 1);
  j.jac = torch::stack(rows, 1);  // n x k x i
  j.grad_div = torch::autograd::grad({div}, {xg}, {torch::ones_like(div)}, true, true)[0];
  return j;
}

torch::Tensor score_fp_residual(const Sde& sde, const torch::Tensor& t, const torch::Tensor& x, const ScoreJet& j) {
  auto a = drift_rate(sde, t);
  auto g2 = diffusion2(sde, t);
  // sum_j x_j d_i s_j and sum_j s_j d_i s_j: contract jac (n, j, i) over j
  auto x_jac = (j.jac * x.unsqueeze(2)).sum(1);
  auto s_jac = (j.jac * j.s.unsqueeze(2)).sum(1);
  return j.s_t - a * (j.s + x_jac) - 0.5 * g2 * (j.grad_div + 2.0 * s_jac);
}

torch::Tensor network_residual(const Network& net, const Sde& sde, const torch::Tensor& t, const torch::Tensor& x) {
  torch::NoGradGuard ng;
  if (net.spec().potential) return log_fp_residual(sde, t, x, potential_jet(net, t, x));
  return score_fp_residual(sde, t, x, score_jet(net, t, x));
}

}  // namespace gapscope

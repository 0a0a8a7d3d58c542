#include "loss.h"

#include <torch/torch.h>

#include <stdexcept>

#include "model.h"
#include "residual.h"

namespace gapscope {

torch::Tensor dsm_loss(const Network& net, const Sde& sde, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z) {
  auto opts = x0.options();
  // m(t), sigma(t) per row; computed on the host in double, then moved: the batch is small.
  auto tc = t.to(torch::kCPU, torch::kDouble).contiguous();
  auto m = torch::empty_like(tc), s = torch::empty_like(tc);
  const double* tp = tc.data_ptr<double>();
  double *mp = m.data_ptr<double>(), *sp = s.data_ptr<double>();
  for (int64_t i = 0; i < tc.numel(); ++i) {
    mp[i] = sde.mean_coef(tp[i]);
    sp[i] = sde.marginal_std(tp[i]);
  }
  auto mt = m.to(opts), st = s.to(opts);
  auto xt = x0 * mt + st * z;
  auto score = net.score(t, xt);
  // Mean over points and coordinates, as the paper's code does: this fixes the scale lambda is relative to.
  return (score + z / st).pow(2).mean();
}

FpLoss fp_loss(const Network& net, const Sde& sde, const torch::Tensor& tc, const torch::Tensor& xc,
               const torch::Tensor& tb, const torch::Tensor& xb) {
  if (!net.spec().potential)
    throw std::invalid_argument("lambda > 0 needs model = potential (the score-model residual is not wired in yet)");
  FpLoss l;
  auto jet = potential_jet_autograd(net, tc, xc);
  l.residual = log_fp_residual(sde, tc, xc, jet).pow(2).mean();
  l.boundary = xb.size(0) > 0 ? torch::exp(net.forward(tb, xb)).pow(2).mean() : torch::zeros({}, xc.options());
  return l;
}

}  // namespace gapscope

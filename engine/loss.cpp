#include "loss.h"

#include <torch/torch.h>

#include <stdexcept>

#include "jet.h"
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
  // Score by forward tangents along x (potential) or the plain output (score model):
  // differentiable in the parameters through the jet's hand-written reverse pass.
  JetSpec js;
  js.dx = net.spec().potential;
  auto nj = network_jet(net, t, xt, js);
  auto score = net.spec().potential ? nj.y_x.squeeze(2).t() : nj.y;
  // Mean over points and coordinates, as the paper's code does: this fixes the scale lambda is relative to.
  return (score + z / st).pow(2).mean();
}

FpLoss fp_loss(const Network& net, const Sde& sde, const torch::Tensor& tc, const torch::Tensor& xc,
               const torch::Tensor& tb, const torch::Tensor& xb) {
  FpLoss l;
  if (net.spec().potential) {
    l.residual = log_fp_residual(sde, tc, xc, potential_jet(net, tc, xc)).pow(2).mean();
    l.boundary = xb.size(0) > 0 ? torch::exp(network_jet(net, tb, xb, JetSpec{}).y).pow(2).mean()
                                : torch::zeros({}, xc.options());
  } else {
    // Score model: mean over points of |r|^2 (sum over the d components). No boundary
    // term: exp(u)^2 on the box faces keeps the potential's unnormalised density from
    // putting mass at the box edge, but a score field has no density value to penalise
    // (r is blind to the additive constant anyway), so the term is identically zero.
    l.residual = score_fp_residual(sde, tc, xc, score_jet(net, tc, xc)).pow(2).sum(1).mean();
    l.boundary = torch::zeros({}, xc.options());
  }
  return l;
}

}  // namespace gapscope

#include "nn/loss.h"

#include <torch/torch.h>

#include <stdexcept>

#include "nn/jet.h"
#include "nn/model.h"
#include "nn/residual.h"

namespace gapscope {

torch::Tensor dsm_loss(const Network& net, const Sde& sde, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z) {
  auto mt = per_row(t, [&](double s) { return sde.mean_coef(s); }).to(x0.options());
  auto st = per_row(t, [&](double s) { return sde.marginal_std(s); }).to(x0.options());
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
  const auto zero = torch::zeros({}, xc.options());
  if (net.spec().potential) {
    l.residual = xc.size(0) > 0 ? log_fp_residual(sde, tc, xc, potential_jet(net, tc, xc)).pow(2).mean() : zero;
    // softplus(u)^2 rather than exp(u)^2: the same where u << 0, quadratic where u is large (Config::boundary_weight).
    l.boundary = xb.size(0) > 0 ? torch::softplus(network_jet(net, tb, xb, JetSpec{}).y).pow(2).mean() : zero;
  } else {
    // Score model: mean over points of |r|^2 (sum over the d components). No boundary
    // term: exp(u)^2 on the box faces keeps the potential's unnormalised density from
    // putting mass at the box edge, but a score field has no density value to penalise
    // (r is blind to the additive constant anyway), so the term is identically zero.
    l.residual = xc.size(0) > 0 ? score_fp_residual(sde, tc, xc, score_jet(net, tc, xc)).pow(2).sum(1).mean() : zero;
    l.boundary = zero;
  }
  return l;
}

}  // namespace gapscope

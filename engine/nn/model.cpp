#include "nn/model.h"

#include <torch/torch.h>

#include <cstdint>

#include <cmath>
#include <random>
#include <stdexcept>

#include "core/config.h"
#include "kernels/fused_potential.h"
#include "nn/jet.h"
#include "nn/score_function.h"

namespace gapscope {

Activation parse_activation(const std::string& name) {
  if (name == "softplus") return Activation::Softplus;
  if (name == "tanh") return Activation::Tanh;
  if (name == "silu") return Activation::SiLU;
  throw std::invalid_argument("activation '" + name + "': expected softplus|tanh|silu");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Softplus: return "softplus";
    case Activation::Tanh: return "tanh";
    case Activation::SiLU: return "silu";
  }
  return "softplus";
}

ModelSpec ModelSpec::from_config(const Config& c) {
  ModelSpec s;
  s.potential = c.model == "potential";
  s.d = c.dim();
  s.hidden = c.hidden;
  s.layers = c.layers;
  s.activation = parse_activation(c.activation);
  s.softplus_beta = c.softplus_beta;
  if (c.potential_prior) {
    const double sd = Sde::from_config(c).prior_std();
    s.prior_var = sd * sd;
  }
  return s;
}

torch::Tensor activate(const ModelSpec& s, const torch::Tensor& h) {
  switch (s.activation) {
    case Activation::Softplus: return torch::softplus(h, s.softplus_beta, 20.0);
    case Activation::Tanh: return torch::tanh(h);
    case Activation::SiLU: return torch::silu(h);
  }
  return h;
}

torch::Tensor activate_d1(const ModelSpec& s, const torch::Tensor& h) {
  switch (s.activation) {
    // torch's softplus is linear above beta*h > 20; the derivatives follow it exactly.
    case Activation::Softplus: {
      auto bh = h * s.softplus_beta;
      return torch::where(bh > 20.0, torch::ones_like(h), torch::sigmoid(bh));
    }
    case Activation::Tanh: {
      auto y = torch::tanh(h);
      return 1 - y * y;
    }
    case Activation::SiLU: {
      auto g = torch::sigmoid(h);
      return g * (1 + h * (1 - g));
    }
  }
  return torch::ones_like(h);
}

torch::Tensor activate_d2(const ModelSpec& s, const torch::Tensor& h) {
  switch (s.activation) {
    case Activation::Softplus: {
      auto bh = h * s.softplus_beta;
      auto g = torch::sigmoid(bh);
      return torch::where(bh > 20.0, torch::zeros_like(h), s.softplus_beta * g * (1 - g));
    }
    case Activation::Tanh: {
      auto y = torch::tanh(h);
      return -2 * y * (1 - y * y);
    }
    case Activation::SiLU: {
      auto g = torch::sigmoid(h);
      return g * (1 - g) * (2 + h * (1 - 2 * g));
    }
  }
  return torch::zeros_like(h);
}

Network::Network(const ModelSpec& spec, torch::Device device, torch::Dtype dtype)
    : spec_(spec), device_(device), dtype_(dtype) {
  if (spec.d < 1 || spec.hidden < 1 || spec.layers < 1) throw std::invalid_argument("model: bad architecture");
  // The prior offset lives in the fused kernels only; the tensor-level jets do not add it.
  if (spec.prior_var > 0 && !runs_fused(spec, device.is_cpu(), dtype == torch::kFloat))
    throw std::invalid_argument(
        "key 'potential_prior' = true: needs the fused CPU path (a float potential network on the CPU, d < 32)");
  int in = spec.in_dim();
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  for (int l = 0; l <= spec.layers; ++l) {
    const int out = l == spec.layers ? spec.out_dim() : spec.hidden;
    W_.push_back(torch::zeros({out, in}, opts).requires_grad_(true));
    b_.push_back(torch::zeros({out}, opts).requires_grad_(true));
    in = out;
  }
  init(0);
}

void Network::init(uint64_t seed) {
  std::mt19937_64 rng(seed);
  torch::NoGradGuard ng;
  for (std::size_t l = 0; l < W_.size(); ++l) {
    // kaiming_uniform(a = sqrt 5) for W and U(+-1/sqrt(fan_in)) for b: both bound 1/sqrt(fan_in).
    const double bound = 1.0 / std::sqrt(static_cast<double>(W_[l].size(1)));
    std::uniform_real_distribution<double> u(-bound, bound);
    auto fill = [&](torch::Tensor& p) {
      std::vector<float> v(p.numel());
      for (auto& e : v) e = static_cast<float>(u(rng));
      p.copy_(torch::from_blob(v.data(), p.sizes(), torch::kFloat).to(p.options()));
    };
    fill(W_[l]);
    fill(b_[l]);
  }
}

std::vector<torch::Tensor> Network::parameters() const {
  std::vector<torch::Tensor> p;
  for (std::size_t l = 0; l < W_.size(); ++l) {
    p.push_back(W_[l]);
    p.push_back(b_[l]);
  }
  return p;
}

torch::Tensor Network::forward(const torch::Tensor& t, const torch::Tensor& x) const {
  auto h = torch::cat({t, x}, 1);
  for (std::size_t l = 0; l + 1 < W_.size(); ++l) h = activate(spec_, torch::addmm(b_[l], h, W_[l].t()));
  return torch::addmm(b_.back(), h, W_.back().t());
}

torch::Tensor Network::score(const torch::Tensor& t, const torch::Tensor& x) const {
  if (!spec_.potential) return forward(t, x);
  auto xg = x.detach().requires_grad_(true);
  auto u = forward(t, xg);
  return torch::autograd::grad({u}, {xg}, {torch::ones_like(u)}, /*retain_graph=*/true, /*create_graph=*/true)[0];
}

PotentialWeights Network::fused_weights() const {
  if (!fused()) throw std::invalid_argument("model: fused kernels need a float network on the CPU");
  PotentialWeights w;
  w.spec = spec_;
  for (std::size_t l = 0; l < W_.size(); ++l) {
    w.W.push_back(W_[l].data_ptr<float>());
    w.b.push_back(b_[l].data_ptr<float>());
  }
  return w;
}

bool Network::fused() const { return runs_fused(spec_, device_.is_cpu(), dtype_ == torch::kFloat); }

torch::Tensor Network::score_nograd(const torch::Tensor& t, const torch::Tensor& x) const {
  torch::NoGradGuard ng;
  if (fused()) {
    auto tc = t.to(torch::kFloat).contiguous(), xc = x.to(torch::kFloat).contiguous();
    auto out = torch::empty({xc.size(0), spec_.d}, xc.options());
    if (spec_.potential)
      potential_score(fused_weights(), xc.size(0), tc.data_ptr<float>(), xc.data_ptr<float>(), out.data_ptr<float>());
    else
      score_model_score(fused_weights(), xc.size(0), tc.data_ptr<float>(), xc.data_ptr<float>(), out.data_ptr<float>());
    return out;
  }
  // Forward tangents along x with fused element-wise loops (nn/jet.h), no graph.
  JetSpec js;
  js.dx = spec_.potential;
  auto j = network_jet(*this, t, x, js);
  return spec_.potential ? j.y_x.squeeze(2).t() : j.y;
}

WeightSnapshot Network::snapshot() const {
  WeightSnapshot s;
  s.spec = spec_;
  auto copy = [](const torch::Tensor& p) {
    auto c = p.detach().to(torch::kCPU, torch::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  for (std::size_t l = 0; l < W_.size(); ++l) {
    s.weights.push_back(copy(W_[l]));
    s.biases.push_back(copy(b_[l]));
  }
  return s;
}

void Network::load(const WeightSnapshot& s) {
  if (s.weights.size() != W_.size() || s.spec.d != spec_.d || s.spec.hidden != spec_.hidden ||
      s.spec.potential != spec_.potential)
    throw std::invalid_argument("model: snapshot architecture does not match the network");
  torch::NoGradGuard ng;
  for (std::size_t l = 0; l < W_.size(); ++l) {
    auto put = [](torch::Tensor& p, const std::vector<float>& v) {
      if (static_cast<int64_t>(v.size()) != p.numel()) throw std::invalid_argument("model: snapshot layer size mismatch");
      p.copy_(torch::from_blob(const_cast<float*>(v.data()), p.sizes(), torch::kFloat).to(p.options()));
    };
    put(W_[l], s.weights[l]);
    put(b_[l], s.biases[l]);
  }
}

}  // namespace gapscope

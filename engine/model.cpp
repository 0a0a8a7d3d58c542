#include "model.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <cmath>
#include <random>
#include <stdexcept>

#include "config.h"
#include "jet.h"

namespace gapscope {

Activation parse_activation(const std::string& name) {
  if (name == "softplus") return Activation::Softplus;
  if (name == "tanh") return Activation::Tanh;
  if (name == "silu") return Activation::SiLU;
  throw std::invalid_argument("activation '" + name + "': expected softplus|tanh|silu");
}

ModelSpec ModelSpec::from_config(const Config& c) {
  ModelSpec s;
  s.potential = c.model == "potential";
  s.d = c.dim();
  s.hidden = c.hidden;
  s.layers = c.layers;
  s.activation = parse_activation(c.activation);
  s.softplus_beta = c.softplus_beta;
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

namespace {

// exp(x) for x <= 0 in float, ~2e-7 relative: range reduction by ln 2 and a degree-6
// polynomial, written with plain arithmetic so GCC vectorises the loops that call it
// (the scalar libm call was two thirds of the sampler's time).
inline __attribute__((always_inline)) float exp_nonpositive(float x) {
  x = x < -80.f ? -80.f : x;
  const int k = static_cast<int>(x * 1.44269504f - 0.5f);  // round to nearest (x <= 0)
  const float n = static_cast<float>(k);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  const float p =
      1.f + r * (1.f + r * (0.5f + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720))))));
  const int32_t bits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// log(1 + e) for e in [0, 1] by the atanh series in u = e / (2 + e) <= 1/3: no
// cancellation for tiny e, ~1e-8 relative.
inline __attribute__((always_inline)) float log1p_unit(float e) {
  const float u = e / (2.f + e), u2 = u * u;
  return 2.f * u *
         (1.f + u2 * (1.f / 3 + u2 * (1.f / 5 + u2 * (1.f / 7 + u2 * (1.f / 9 + u2 * (1.f / 11 + u2 * (1.f / 13)))))));
}

// In place: h <- softplus_beta(h), s <- sigmoid(beta h), both from e = exp(-|beta h|).
// Branch-free so it vectorises (CMake compiles this file with -fno-trapping-math, which
// GCC needs to if-convert the selects), with an AVX2 clone picked at run time. Above
// beta h = 20 torch's softplus is exactly h; this adds log1p(e)/beta < 2e-11 there.
__attribute__((target_clones("avx2,fma", "default"))) void softplus_and_slope(float* __restrict hp,
                                                                            float* __restrict sp, int64_t n,
                                                                            float beta, float inv_beta) {
  for (int64_t i = 0; i < n; ++i) {
    const float bh = beta * hp[i];
    const float e = exp_nonpositive(-std::fabs(bh));
    const float r = 1.f / (1.f + e);
    sp[i] = bh >= 0.f ? r : e * r;
    hp[i] = std::max(hp[i], 0.f) + log1p_unit(e) * inv_beta;
  }
}

// The sampler's score for the paper's network (potential, softplus, float, CPU):
// one forward pass keeping sigma'(h), then the reverse pass grad_z u = W0^T (s0 * W1^T (s1 * ...)).
// Reverse mode needs two GEMM passes where forward tangents need d + 1, and the
// transcendental work is skipped where beta*h saturates (|beta h| > 20: below, e^{beta h} < 2e-9).
torch::Tensor softplus_potential_score(const ModelSpec& spec, const std::vector<torch::Tensor>& W,
                                       const std::vector<torch::Tensor>& b, const torch::Tensor& t,
                                       const torch::Tensor& x) {
  const int64_t n = x.size(0);
  const float beta = static_cast<float>(spec.softplus_beta), inv_beta = 1.f / beta;
  const std::size_t L = W.size() - 1;  // hidden layers
  std::vector<torch::Tensor> slope(L);
  auto z = torch::cat({t, x}, 1);
  for (std::size_t l = 0; l < L; ++l) {
    auto h = torch::addmm(b[l], z, W[l].t());
    auto s = torch::empty_like(h);
    float* hp = h.data_ptr<float>();  // becomes the activation in place
    float* sp = s.data_ptr<float>();
    at::parallel_for(0, h.numel(), 4096,
                     [&](int64_t lo, int64_t hi) { softplus_and_slope(hp + lo, sp + lo, hi - lo, beta, inv_beta); });
    slope[l] = s;
    z = h;
  }
  auto delta = slope[L - 1] * W[L];  // (n x H) * (1 x H): the output layer's row
  for (std::size_t l = L - 1; l > 0; --l) delta = torch::mm(delta, W[l]).mul_(slope[l - 1]);
  return torch::mm(delta, W[0].slice(1, 1));  // only the x columns of layer 0
}

}  // namespace

torch::Tensor Network::score_nograd(const torch::Tensor& t, const torch::Tensor& x) const {
  torch::NoGradGuard ng;
  if (spec_.potential && spec_.activation == Activation::Softplus && dtype_ == torch::kFloat && device_.is_cpu())
    return softplus_potential_score(spec_, W_, b_, t.contiguous(), x.contiguous());
  // Forward tangents along x with fused element-wise loops (engine/jet.h), no graph.
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

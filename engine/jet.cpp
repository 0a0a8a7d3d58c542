#include "jet.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <malloc.h>

#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "model.h"

namespace gapscope {
namespace {

constexpr int kMaxTangents = 32;

// Tangent k differentiates along input coordinate dirs[k] (0 = t, 1 + i = x_i).
// Second-order block q is sum over its (a, b) terms of d2/(d dir_a d dir_b).
struct Plan {
  std::vector<int64_t> dirs;
  std::vector<std::vector<std::pair<int, int>>> quads;
  int K() const { return static_cast<int>(dirs.size()); }
  int Q() const { return static_cast<int>(quads.size()); }
  int B() const { return 1 + K() + Q(); }

  // Flat encoding for ctx->saved_data: [K, dirs..., Q, (nterms, a, b, a, b, ...) per quad].
  std::vector<int64_t> encode() const {
    std::vector<int64_t> c{K()};
    c.insert(c.end(), dirs.begin(), dirs.end());
    c.push_back(Q());
    for (auto& q : quads) {
      c.push_back(static_cast<int64_t>(q.size()));
      for (auto& ab : q) c.push_back(ab.first), c.push_back(ab.second);
    }
    return c;
  }
  static Plan decode(const std::vector<int64_t>& c) {
    Plan p;
    std::size_t i = 0;
    const int64_t K = c[i++];
    for (int64_t k = 0; k < K; ++k) p.dirs.push_back(c[i++]);
    const int64_t Q = c[i++];
    for (int64_t q = 0; q < Q; ++q) {
      const int64_t m = c[i++];
      std::vector<std::pair<int, int>> terms;
      for (int64_t s = 0; s < m; ++s, i += 2) terms.emplace_back(static_cast<int>(c[i]), static_cast<int>(c[i + 1]));
      p.quads.push_back(std::move(terms));
    }
    return p;
  }
};

// Simple loops over contiguous rows: restrict-qualified so that the compiler vectorises them.
template <typename T>
inline void vmul(T* __restrict o, const T* __restrict a, const T* __restrict b, int64_t m) {
  for (int64_t i = 0; i < m; ++i) o[i] = a[i] * b[i];
}
template <typename T>
inline void vfma2(T* __restrict o, const T* __restrict a, const T* __restrict b, int64_t m) {
  for (int64_t i = 0; i < m; ++i) o[i] += a[i] * b[i];
}
template <typename T>
inline void vfma3(T* __restrict o, const T* __restrict a, const T* __restrict b, const T* __restrict c, int64_t m) {
  for (int64_t i = 0; i < m; ++i) o[i] += a[i] * b[i] * c[i];
}

// Value of the activation into Zv (n x H) and its first three derivatives into D1..D3
// (D3 may be null). The transcendental functions run through ATen's vectorised kernels;
// the derivatives are then plain arithmetic. torch's softplus is linear above beta*h > 20,
// and the derivatives follow it exactly. Below beta*h < -30 the exponential is clamped:
// derivatives of size < 1e-13 instead of denormal numbers (which are very slow).
template <typename T>
void activation_values(const ModelSpec& spec, const at::Tensor& Hv, at::Tensor Zv, T* D1, T* D2, T* D3) {
  const int64_t m = Hv.numel();
  switch (spec.activation) {
    case Activation::Softplus: {
      const T beta = static_cast<T>(spec.softplus_beta);
      at::softplus_out(Zv, Hv, spec.softplus_beta, 20.0);
      auto E = (Hv * spec.softplus_beta).clamp_(-30.0, 20.0).exp_();
      const T* e = E.data_ptr<T>();
      const T* h = Hv.data_ptr<T>();
      at::parallel_for(0, m, 16384, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const bool lin = beta * h[i] > T(20);
          const T g = e[i] / (T(1) + e[i]), q = g * (T(1) - g);
          D1[i] = lin ? T(1) : g;
          D2[i] = lin ? T(0) : beta * q;
          if (D3) D3[i] = lin ? T(0) : beta * beta * q * (T(1) - T(2) * g);
        }
      });
      return;
    }
    case Activation::Tanh: {
      at::tanh_out(Zv, Hv);
      const T* y = Zv.data_ptr<T>();
      at::parallel_for(0, m, 16384, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const T s = T(1) - y[i] * y[i];
          D1[i] = s;
          D2[i] = T(-2) * y[i] * s;
          if (D3) D3[i] = s * (T(6) * y[i] * y[i] - T(2));
        }
      });
      return;
    }
    case Activation::SiLU: {
      auto G = at::sigmoid(Hv);
      at::mul_out(Zv, Hv, G);
      const T* gp = G.data_ptr<T>();
      const T* h = Hv.data_ptr<T>();
      at::parallel_for(0, m, 16384, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const T g = gp[i], q = g * (T(1) - g), w = T(1) - T(2) * g;
          D1[i] = g * (T(1) + h[i] * (T(1) - g));
          D2[i] = q * (T(2) + h[i] * w);
          if (D3) D3[i] = q * (w * (T(3) + h[i] * w) - T(2) * h[i] * q);
        }
      });
      return;
    }
  }
}

struct LayerTape {
  at::Tensor S;           // input of the linear layer: stacked B*n x in (layer 0: z0, n x in)
  at::Tensor Hs;          // pre-activation, stacked B*n x H (undefined for layer 0: its tangents are W0 columns)
  at::Tensor D1, D2, D3;  // activation derivatives at the value, n x H (D3 only with second-order blocks)
};

struct Tape {
  std::vector<LayerTape> hidden;
  at::Tensor S_out;  // input of the output layer, B*n x H
};

// Tangent and second-order blocks of one activation layer, from the derivatives D1, D2.
// Hs == nullptr: layer 0, where tangents are w0[k*H + j] and second-order blocks are zero.
template <typename T>
void activate_blocks(const Plan& p, int64_t n, int64_t H, const T* Hs, const T* w0, const T* D1, const T* D2, T* Z) {
  const int K = p.K(), Q = p.Q();
  if (K == 0) return;
  at::parallel_for(0, n, 64, [&](int64_t r0, int64_t r1) {
    const T* hk[kMaxTangents];
    for (int64_t r = r0; r < r1; ++r) {
      const T *d1 = D1 + r * H, *d2 = D2 + r * H;
      for (int k = 0; k < K; ++k) {
        hk[k] = Hs ? Hs + ((1 + k) * n + r) * H : w0 + k * H;
        vmul(Z + ((1 + k) * n + r) * H, d1, hk[k], H);
      }
      for (int q = 0; q < Q; ++q) {
        T* zq = Z + ((1 + K + q) * n + r) * H;
        if (Hs)
          vmul(zq, d1, Hs + ((1 + K + q) * n + r) * H, H);
        else
          std::fill(zq, zq + H, T(0));
        for (auto& ab : p.quads[q]) vfma3(zq, d2, hk[ab.first], hk[ab.second], H);
      }
    }
  });
}

template <typename T>
void activate_backward(const Plan& p, int64_t n, int64_t H, const T* Hs, const T* w0, const T* D1, const T* D2,
                       const T* D3, const T* Zb, T* Hb) {
  const int K = p.K(), Q = p.Q();
  at::parallel_for(0, n, 64, [&](int64_t r0, int64_t r1) {
    const T* hk[kMaxTangents];
    std::vector<T> s(H), quad(H);
    for (int64_t r = r0; r < r1; ++r) {
      const T *d1 = D1 + r * H, *d2 = D2 + r * H;
      T* hbv = Hb + r * H;
      vmul(hbv, d1, Zb + r * H, H);
      for (int k = 0; k < K; ++k) {
        const int64_t ok = ((1 + k) * n + r) * H;
        hk[k] = Hs ? Hs + ok : w0 + k * H;
        vmul(Hb + ok, d1, Zb + ok, H);
        vfma3(hbv, d2, Zb + ok, hk[k], H);
      }
      for (int q = 0; q < Q; ++q) {
        const int64_t oq = ((1 + K + q) * n + r) * H;
        const T* zq = Zb + oq;
        vmul(Hb + oq, d1, zq, H);
        vmul(s.data(), d2, zq, H);
        std::fill(quad.begin(), quad.end(), T(0));
        for (auto& ab : p.quads[q]) {
          const T *ha = hk[ab.first], *hb = hk[ab.second];
          vfma2(Hb + ((1 + ab.first) * n + r) * H, s.data(), hb, H);
          vfma2(Hb + ((1 + ab.second) * n + r) * H, s.data(), ha, H);
          vfma2(quad.data(), ha, hb, H);
        }
        vfma3(hbv, zq, D3 + r * H, quad.data(), H);
        if (Hs) vfma2(hbv, s.data(), Hs + oq, H);
      }
    }
  });
}

// W0 columns of the tangent directions, K x H contiguous.
at::Tensor layer0_tangents(const Plan& p, const at::Tensor& W0) {
  if (p.K() == 0) return at::empty({0}, W0.options());
  auto idx = at::tensor(p.dirs, at::TensorOptions().dtype(at::kLong));
  return W0.index_select(1, idx.to(W0.device())).t().contiguous();
}

// params: W0, b0, W1, b1, ... (detached or not: no autograd here). Returns B*n x out.
at::Tensor jet_forward(const Plan& p, const ModelSpec& spec, const at::Tensor& z0, const std::vector<at::Tensor>& params,
                       Tape* tape) {
  const int64_t n = z0.size(0), B = p.B();
  const int L = static_cast<int>(params.size() / 2) - 1;  // hidden layers
  if (p.K() > kMaxTangents) throw std::invalid_argument("jet: too many input dimensions");
  if (tape) tape->hidden.resize(L);
  at::Tensor Z;
  AT_DISPATCH_FLOATING_TYPES(z0.scalar_type(), "jet_forward", [&] {
    for (int l = 0; l < L; ++l) {
      const auto& W = params[2 * l];
      const auto& b = params[2 * l + 1];
      const int64_t H = W.size(0);
      at::Tensor Hv, Hs, w0;
      if (l == 0) {
        Hv = at::addmm(b, z0, W.t());
        w0 = layer0_tangents(p, W);
      } else {
        Hs = at::mm(Z, W.t());
        Hs.narrow(0, 0, n).add_(b);
        Hv = Hs;
      }
      auto Znew = at::empty({B * n, H}, z0.options());
      // D1, D2 are always needed (tangent blocks, and the backward pass); D3 only with second-order blocks.
      at::Tensor D1 = at::empty({n, H}, z0.options()), D2 = at::empty({n, H}, z0.options()), D3;
      if (tape && p.Q() > 0) D3 = at::empty({n, H}, z0.options());
      if (tape) {
        auto& lt = tape->hidden[l];
        lt.S = l == 0 ? z0 : Z;
        lt.Hs = Hs;
        lt.D1 = D1, lt.D2 = D2, lt.D3 = D3;
      }
      activation_values<scalar_t>(spec, l == 0 ? Hv : Hv.narrow(0, 0, n), Znew.narrow(0, 0, n),
                                  D1.data_ptr<scalar_t>(), D2.data_ptr<scalar_t>(),
                                  D3.defined() ? D3.data_ptr<scalar_t>() : nullptr);
      activate_blocks<scalar_t>(p, n, H, l == 0 ? nullptr : Hs.data_ptr<scalar_t>(),
                                l == 0 && w0.numel() ? w0.data_ptr<scalar_t>() : nullptr, D1.data_ptr<scalar_t>(),
                                D2.data_ptr<scalar_t>(), Znew.data_ptr<scalar_t>());
      Z = Znew;
    }
  });
  auto Y = at::mm(Z, params[2 * L].t());
  Y.narrow(0, 0, n).add_(params[2 * L + 1]);
  if (tape) tape->S_out = Z;
  return Y;
}

// Parameter gradients (W0, b0, ...) from the adjoint of the stacked output.
std::vector<at::Tensor> jet_backward(const Plan& p, const Tape& tape, const std::vector<at::Tensor>& params,
                                     const at::Tensor& Yb_in) {
  const int L = static_cast<int>(tape.hidden.size());
  const int64_t n = tape.hidden[0].S.size(0);
  auto Yb = Yb_in.contiguous();
  std::vector<at::Tensor> g(params.size());
  g[2 * L] = at::mm(Yb.t(), tape.S_out);
  g[2 * L + 1] = Yb.narrow(0, 0, n).sum(0);
  auto Zb = at::mm(Yb, params[2 * L]);
  AT_DISPATCH_FLOATING_TYPES(Yb.scalar_type(), "jet_backward", [&] {
    for (int l = L - 1; l >= 0; --l) {
      const auto& lt = tape.hidden[l];
      const auto& W = params[2 * l];
      const int64_t H = W.size(0);
      at::Tensor w0 = l == 0 ? layer0_tangents(p, W) : at::Tensor();
      auto Hb = at::empty_like(Zb);
      activate_backward<scalar_t>(p, n, H, l == 0 ? nullptr : lt.Hs.data_ptr<scalar_t>(),
                                  w0.defined() && w0.numel() ? w0.data_ptr<scalar_t>() : nullptr,
                                  lt.D1.data_ptr<scalar_t>(), lt.D2.data_ptr<scalar_t>(),
                                  lt.D3.defined() ? lt.D3.data_ptr<scalar_t>() : nullptr, Zb.data_ptr<scalar_t>(),
                                  Hb.data_ptr<scalar_t>());
      auto Hbv = Hb.narrow(0, 0, n);
      g[2 * l + 1] = Hbv.sum(0);
      if (l > 0) {
        g[2 * l] = at::mm(Hb.t(), lt.S);
        Zb = at::mm(Hb, W);
      } else {
        g[0] = at::mm(Hbv.t(), lt.S);
        if (p.K() > 0) {
          // tangent k enters as the constant column W0[:, dirs[k]]
          auto colsum = Hb.narrow(0, n, p.K() * n).view({p.K(), n, H}).sum(1);  // K x H
          for (int k = 0; k < p.K(); ++k) g[0].select(1, p.dirs[k]).add_(colsum[k]);
        }
      }
    }
  });
  return g;
}

class JetFunction : public torch::autograd::Function<JetFunction> {
 public:
  // inputs: z0, W0, b0, W1, b1, ...
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, at::TensorList inputs,
                                                std::vector<int64_t> code, ModelSpec spec) {
    Plan p = Plan::decode(code);
    std::vector<at::Tensor> params;
    for (std::size_t i = 1; i < inputs.size(); ++i) params.push_back(inputs[i].detach());
    Tape tape;
    auto Y = jet_forward(p, spec, inputs[0].detach().contiguous(), params, &tape);
    std::vector<at::Tensor> saved(params);
    saved.push_back(tape.S_out);
    for (auto& lt : tape.hidden) {
      saved.push_back(lt.S);
      saved.push_back(lt.Hs.defined() ? lt.Hs : at::Tensor());
      saved.push_back(lt.D1);
      saved.push_back(lt.D2);
      saved.push_back(lt.D3.defined() ? lt.D3 : at::Tensor());
    }
    ctx->saved_data["plan"] = c10::IValue(code);
    ctx->saved_data["np"] = static_cast<int64_t>(params.size());
    ctx->saved_data["tape"] = c10::IValue(c10::List<c10::optional<at::Tensor>>(
        std::vector<c10::optional<at::Tensor>>(saved.begin(), saved.end())));
    return {Y};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    Plan p = Plan::decode(ctx->saved_data["plan"].toIntVector());
    const int64_t np = ctx->saved_data["np"].toInt();
    auto list = ctx->saved_data["tape"].toOptionalTensorList();
    std::vector<at::Tensor> saved;
    for (std::size_t i = 0; i < list.size(); ++i) {
      c10::optional<at::Tensor> o = list.get(i);
      saved.push_back(o.has_value() ? *o : at::Tensor());
    }
    std::vector<at::Tensor> params(saved.begin(), saved.begin() + np);
    Tape tape;
    std::size_t i = np;
    tape.S_out = saved[i++];
    const int L = static_cast<int>(np / 2) - 1;
    for (int l = 0; l < L; ++l) {
      LayerTape lt;
      lt.S = saved[i++];
      lt.Hs = saved[i++];
      lt.D1 = saved[i++];
      lt.D2 = saved[i++];
      lt.D3 = saved[i++];
      tape.hidden.push_back(lt);
    }
    auto g = jet_backward(p, tape, params, grad_out[0]);
    torch::autograd::variable_list out{at::Tensor()};  // z0
    for (auto& gi : g) out.push_back(gi);
    out.push_back(at::Tensor());  // code
    out.push_back(at::Tensor());  // spec
    return out;
  }
};

Plan make_plan(const JetSpec& s, int d) {
  Plan p;
  if (s.dt) p.dirs.push_back(0);
  const int x0 = p.K();
  if (s.dx)
    for (int i = 0; i < d; ++i) p.dirs.push_back(1 + i);
  if (s.second != JetSpec::Second::None && !s.dx) throw std::invalid_argument("jet: second derivatives need dx");
  if (s.second == JetSpec::Second::Laplacian) {
    std::vector<std::pair<int, int>> lap;
    for (int i = 0; i < d; ++i) lap.emplace_back(x0 + i, x0 + i);
    p.quads.push_back(lap);
  } else if (s.second == JetSpec::Second::Hessian) {
    for (int i = 0; i < d; ++i)
      for (int j = i; j < d; ++j) p.quads.push_back({{x0 + i, x0 + j}});
  }
  return p;
}

// The jets allocate a few tensors of several MB per call. glibc serves those by mmap
// and returns them on free, so every call page-faults fresh zeroed pages (measured: a
// third of the step time, inside the first GEMM touching its output). Keeping blocks up
// to 32 MB in the heap, and not trimming it, makes them reusable. Process-wide, once.
void tune_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  });
}

}  // namespace

int hessian_pair(int d, int i, int j) {
  if (i > j) std::swap(i, j);
  return i * d - i * (i - 1) / 2 + (j - i);
}

NetworkJet network_jet(const Network& net, const torch::Tensor& t, const torch::Tensor& x, const JetSpec& spec) {
  const int d = static_cast<int>(x.size(1));
  const int64_t n = x.size(0);
  if (!net.device().is_cpu())
    throw std::invalid_argument("jets: the fused kernels run on the CPU (this network is on " + net.device().str() + ")");
  tune_allocator();
  Plan p = make_plan(spec, d);
  auto z0 = at::cat({t.detach(), x.detach()}, 1).to(net.dtype()).contiguous();
  auto params = net.parameters();
  bool taped = torch::GradMode::is_enabled();
  if (taped) {
    taped = false;
    for (auto& q : params) taped = taped || q.requires_grad();
  }
  at::Tensor Y;
  if (taped) {
    std::vector<at::Tensor> inputs{z0};
    inputs.insert(inputs.end(), params.begin(), params.end());
    Y = JetFunction::apply(at::TensorList(inputs), p.encode(), net.spec())[0];
  } else {
    torch::NoGradGuard ng;
    std::vector<at::Tensor> det;
    for (auto& q : params) det.push_back(q.detach());
    Y = jet_forward(p, net.spec(), z0, det, nullptr);
  }
  const int64_t out = Y.size(1);
  auto Yb = Y.view({p.B(), n, out});
  NetworkJet j;
  j.y = Yb[0];
  int b = 1;
  if (spec.dt) j.y_t = Yb[b++];
  if (spec.dx) {
    j.y_x = Yb.narrow(0, b, d);
    b += d;
  }
  if (spec.second == JetSpec::Second::Laplacian) j.y_lap = Yb[b++];
  if (spec.second == JetSpec::Second::Hessian) j.y_xx = Yb.narrow(0, b, p.Q());
  return j;
}

}  // namespace gapscope

#include "nn/jet.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <malloc.h>

#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/jet_blocks.h"
#include "nn/model.h"

namespace gapscope {
namespace {

using jet::Plan;

// Flat encoding of a plan for ctx->saved_data: [K, dirs..., Q, (nterms, a, b, a, b, ...) per quad].
std::vector<int64_t> encode(const Plan& p) {
  std::vector<int64_t> c{p.K()};
  c.insert(c.end(), p.dirs.begin(), p.dirs.end());
  c.push_back(p.Q());
  for (auto& q : p.quads) {
    c.push_back(static_cast<int64_t>(q.size()));
    for (auto& ab : q) c.push_back(ab.first), c.push_back(ab.second);
  }
  return c;
}
Plan decode(const std::vector<int64_t>& c) {
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

// Value of the activation into Zv (n x H) and its first three derivatives into D1..D3
// (D3 may be null), rows split over threads.
template <typename T>
void activation_values(const ModelSpec& spec, const at::Tensor& Hv, at::Tensor Zv, T* D1, T* D2, T* D3) {
  const int64_t m = Hv.numel();
  const T* h = Hv.data_ptr<T>();
  T* z = Zv.data_ptr<T>();
  at::parallel_for(0, m, 16384, [&](int64_t i0, int64_t i1) {
    activation_jet(spec, i1 - i0, h + i0, z + i0, D1 + i0, D2 + i0, D3 ? D3 + i0 : nullptr);
  });
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
  if (p.K() > jet::kMaxTangents) throw std::invalid_argument("jet: too many input dimensions");
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
      const scalar_t* hs = l == 0 ? nullptr : Hs.data_ptr<scalar_t>();
      const scalar_t* w0p = l == 0 && w0.numel() ? w0.data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, n, 64, [&](int64_t r0, int64_t r1) {
        jet::activate_blocks<scalar_t>(p, n, H, hs, w0p, D1.data_ptr<scalar_t>(), D2.data_ptr<scalar_t>(),
                                       Znew.data_ptr<scalar_t>(), r0, r1);
      });
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
      const scalar_t* hs = l == 0 ? nullptr : lt.Hs.data_ptr<scalar_t>();
      const scalar_t* w0p = w0.defined() && w0.numel() ? w0.data_ptr<scalar_t>() : nullptr;
      const scalar_t* d3 = lt.D3.defined() ? lt.D3.data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, n, 64, [&](int64_t r0, int64_t r1) {
        jet::activate_backward<scalar_t>(p, n, H, hs, w0p, lt.D1.data_ptr<scalar_t>(), lt.D2.data_ptr<scalar_t>(), d3,
                                         Zb.data_ptr<scalar_t>(), Hb.data_ptr<scalar_t>(), r0, r1);
      });
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
    Plan p = decode(code);
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
    Plan p = decode(ctx->saved_data["plan"].toIntVector());
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
  const jet::Second second = s.second == JetSpec::Second::Laplacian ? jet::Second::Laplacian
                             : s.second == JetSpec::Second::Hessian ? jet::Second::Hessian
                                                                    : jet::Second::None;
  return jet::make_plan(s.dt, s.dx, second, d);
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

jet::Plan jet::make_plan(bool dt, bool dx, Second second, int d) {
  Plan p;
  if (dt) p.dirs.push_back(0);
  const int x0 = p.K();
  if (dx)
    for (int i = 0; i < d; ++i) p.dirs.push_back(1 + i);
  if (second != Second::None && !dx) throw std::invalid_argument("jet: second derivatives need dx");
  if (second == Second::Laplacian) {
    std::vector<std::pair<int, int>> lap;
    for (int i = 0; i < d; ++i) lap.emplace_back(x0 + i, x0 + i);
    p.quads.push_back(lap);
  } else if (second == Second::Hessian) {
    for (int i = 0; i < d; ++i)
      for (int j = i; j < d; ++j) p.quads.push_back({{x0 + i, x0 + j}});
  }
  return p;
}

int hessian_pair(int d, int i, int j) { return jet::hessian_pair(d, i, j); }

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
    Y = JetFunction::apply(at::TensorList(inputs), encode(p), net.spec())[0];
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

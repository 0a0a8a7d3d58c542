#include "kernels/fused_potential.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/clones.h"
#include "kernels/activation.h"
#include "kernels/gemm.h"
#include "kernels/jet_blocks.h"

namespace gapscope {
namespace {

using jet::Plan;

// Rows per block. FP blocks carry 5 jet blocks per layer (d = 2): 64 rows keep a
// block's whole tape (~0.9 MB for 80-wide layers) inside a 1 MB L2.
constexpr int64_t kTrainRows = 64;
// The score's blocks keep ten m x H arrays (~0.4 MB at 128 rows): 128 measured 1.8 % faster
// than 256 and 64 0.8 % (median of ten rounds of the paper's ODE sampler, each round the
// three binaries back to back).
constexpr int64_t kScoreRows = 128;
constexpr int64_t kDsmRows = 64;
// The top layer's D1, D2, delta and E are made 16 rows at a time (4 x 5 KB at H = 80), so
// that the delta and E pass reads D1 and D2 from L1, where one pass each over the whole
// block (4 x 20 KB) read them back from L2. With layer 0's gbar and hbar made row by row,
// the lambda = 0 step took a median 0.979 of its time (eight alternating pairs); the loads
// right after the stores in those two loops are still dsm_block's hottest instructions.
constexpr int64_t kDsmChunkRows = 16;
// The score network's FP blocks carry 7 jet blocks (d = 2: s, s_t, 2 x-tangents, 3
// Hessian pairs); its DSM blocks only the value, so they can be larger.
constexpr int64_t kScoreFpRows = 48;
constexpr int64_t kScoreDsmRows = 256;

// Weights prepared once per call: transposes for the forward GEMMs (B operand in x out).
// O outputs: 1 for the potential u, d for the score network s.
struct Net {
  const PotentialWeights& w;
  int L, H, d, in0, O;
  float iv;  // 1 / prior_var, 0 without the prior offset: u = NN - iv |x|^2 / 2
  std::vector<std::vector<float>> WT;
  std::vector<float> W0x;  // the x columns of W0, transposed: d x H
  explicit Net(const PotentialWeights& pw) : w(pw) {
    const ModelSpec& s = pw.spec;
    L = s.layers, H = s.hidden, d = s.d, in0 = s.in_dim(), O = s.out_dim();
    iv = s.prior_var > 0 ? static_cast<float>(1.0 / s.prior_var) : 0.f;
    if (static_cast<int>(pw.W.size()) != L + 1) throw std::invalid_argument("fused: weight list does not match spec");
    for (int l = 0; l < L; ++l) {
      const int in = l == 0 ? in0 : H;
      std::vector<float> t(static_cast<std::size_t>(in) * H);
      for (int o = 0; o < H; ++o)
        for (int i = 0; i < in; ++i) t[static_cast<std::size_t>(i) * H + o] = pw.W[l][o * in + i];
      WT.push_back(std::move(t));
    }
    W0x.resize(static_cast<std::size_t>(d) * H);
    for (int i = 0; i < d; ++i)
      for (int o = 0; o < H; ++o) W0x[static_cast<std::size_t>(i) * H + o] = pw.W[0][o * in0 + 1 + i];
  }
  int in(int l) const { return l == 0 ? in0 : H; }
};

// One thread's buffers, reused across calls (the ATen/OpenMP threads persist). The output
// blocks Y, Yb are B*m rows of O: entry (block b, row r, output o) at (b*m + r)*O + o.
struct Workspace {
  std::vector<float> z0, Y, Yb, Zb, Hb, w0, col;
  std::vector<std::vector<float>> Z, Hs, D1, D2, D3;
  void reserve(const Net& net, const Plan& p, int64_t rows) {
    const std::size_t B = p.B(), H = net.H, m = rows;
    z0.resize(m * net.in0);
    Y.resize(B * m * net.O), Yb.resize(B * m * net.O);
    Zb.resize(B * m * H), Hb.resize(B * m * H), col.resize(H);
    Z.resize(net.L), Hs.resize(net.L), D1.resize(net.L), D2.resize(net.L), D3.resize(net.L);
    for (int l = 0; l < net.L; ++l) {
      Z[l].resize(B * m * H), Hs[l].resize(B * m * H);
      D1[l].resize(m * H), D2[l].resize(m * H), D3[l].resize(m * H);
    }
    // Layer 0's tangents are constant: the W0 columns of the tangent directions.
    w0.resize(static_cast<std::size_t>(p.K()) * H);
    for (int k = 0; k < p.K(); ++k)
      for (int o = 0; o < net.H; ++o) w0[k * H + o] = net.w.W[0][o * net.in0 + p.dirs[k]];
  }
};
Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

// Dot product in 16 partial sums: vectorises without reassociation (a plain sum is
// one serial chain of FMA latencies, 80 x 4 cycles per row of the output layer). The
// partial sums are a GCC vector (jet_blocks.h) folded in halves, 16 -> 8 -> 4 -> 2 -> 1:
// four shuffles and adds, where adding them one by one into a float (and GCC's own
// vectorisation of a fold written as loops) was 16 extracts and a serial chain of 16
// scalar adds per dot, 2-3 % of the sampler's time.
inline float dot(const float* a, const float* b, int64_t n) {
  using V = jet::Lanes<float>::V;
  V acc = {};
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    V u, v;
    jet::load_lanes(u, a + k), jet::load_lanes(v, b + k);
    acc += u * v;
  }
  float s = 0;
  for (; k < n; ++k) s += a[k] * b[k];
  acc += __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  acc += __builtin_shufflevector(acc, acc, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3);
  acc += __builtin_shufflevector(acc, acc, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1);
  acc += __builtin_shufflevector(acc, acc, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
  return acc[0] + s;
}

// sum[o] += a[r, o] over the m rows, in row order (bias and first-layer tangent gradients).
inline void add_column_sums(int64_t m, int64_t H, const float* __restrict a, float* __restrict sum) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t o = 0; o < H; ++o) sum[o] += a[r * H + o];
}

// The per-block kernels are compiled for AVX-512, AVX2 and baseline x86-64 and picked at
// run time; flatten inlines the jet loops (jet_blocks.h) so they get the wide vectors too.
#define GAPSCOPE_VECTOR_CLONES GAPSCOPE_CLONES __attribute__((flatten))

// Forward jets of m points through all layers; Y (B*m x O) holds the output blocks.
// D2 is needed by tangents (forward and reverse), D3 only by the reverse pass of
// second-order blocks.
GAPSCOPE_VECTOR_CLONES void forward(const Net& net, const Plan& p, Workspace& ws, int64_t m, const float* t, const float* x) {
  const int64_t H = net.H, B = p.B(), d = net.d, in0 = net.in0;
  for (int64_t r = 0; r < m; ++r) {
    ws.z0[r * in0] = t[r];
    for (int64_t i = 0; i < d; ++i) ws.z0[r * in0 + 1 + i] = x[r * d + i];
  }
  for (int l = 0; l < net.L; ++l) {
    const float* S = l == 0 ? ws.z0.data() : ws.Z[l - 1].data();
    const int64_t rows = l == 0 ? m : B * m;
    float* Hs = ws.Hs[l].data();
    // the bias enters the value block only
    gemm(m, H, net.in(l), rows_of(S, net.in(l)), net.WT[l].data(), H, Hs, H, false, {net.w.b[l]});
    gemm(rows - m, H, net.in(l), rows_of(S + m * net.in(l), net.in(l)), net.WT[l].data(), H, Hs + m * H, H, false);
    float *D1 = ws.D1[l].data(), *D2 = ws.D2[l].data();
    activation_jet(net.w.spec, m * H, Hs, ws.Z[l].data(), D1, p.K() ? D2 : nullptr, p.Q() ? ws.D3[l].data() : nullptr);
    jet::activate_blocks<float>(p, m, H, l == 0 ? nullptr : Hs, ws.w0.data(), D1, D2, ws.Z[l].data(), 0, m);
  }
  const float *wo = net.w.W[net.L], *bo = net.w.b[net.L];
  const float* ZL = ws.Z[net.L - 1].data();
  const int64_t O = net.O;
  for (int64_t r = 0; r < B * m; ++r)
    for (int64_t o = 0; o < O; ++o) ws.Y[r * O + o] = dot(ZL + r * H, wo + o * H, H) + (r < m ? bo[o] : 0.f);
}

// Reverse pass from the output adjoint Yb: parameter gradients added into g (flat:
// W0, b0, W1, b1, ... at offsets off[2l], off[2l+1]).
GAPSCOPE_VECTOR_CLONES void backward(const Net& net, const Plan& p, Workspace& ws, int64_t m, float* g, const std::vector<int64_t>& off) {
  const int64_t H = net.H, B = p.B(), rows = B * m, in0 = net.in0;
  const int L = net.L;
  {
    const int64_t O = net.O;
    float* gW = g + off[2 * L];
    const float* ZL = ws.Z[L - 1].data();
    const float* wo = net.w.W[L];
    float gb[jet::kMaxTangents] = {};  // O <= d < kMaxTangents
    for (int64_t r = 0; r < rows; ++r) {
      float* zb = ws.Zb.data() + r * H;
      const float* zl = ZL + r * H;
      for (int64_t j = 0; j < O; ++j) {
        const float yb = ws.Yb[r * O + j];
        if (r < m) gb[j] += yb;
        float* gWj = gW + j * H;
        const float* wj = wo + j * H;
        // the first output assigns zb, the others add (O = 1: the potential's one pass)
        if (j == 0)
          for (int64_t o = 0; o < H; ++o) {
            gWj[o] += yb * zl[o];
            zb[o] = yb * wj[o];
          }
        else
          for (int64_t o = 0; o < H; ++o) {
            gWj[o] += yb * zl[o];
            zb[o] += yb * wj[o];
          }
      }
    }
    for (int64_t j = 0; j < O; ++j) g[off[2 * L + 1] + j] += gb[j];
  }
  for (int l = L - 1; l >= 0; --l) {
    float* Hb = ws.Hb.data();
    jet::activate_backward<float>(p, m, H, l == 0 ? nullptr : ws.Hs[l].data(), ws.w0.data(), ws.D1[l].data(),
                                  ws.D2[l].data(), ws.D3[l].data(), ws.Zb.data(), Hb, 0, m);
    add_column_sums(m, H, Hb, g + off[2 * l + 1]);
    float* gW = g + off[2 * l];
    if (l > 0) {
      // dW (out x in) += Hb^T S over all jet rows; the input's adjoint Zb = Hb W.
      gemm(H, H, rows, transposed(Hb, H), ws.Z[l - 1].data(), H, gW, H, true);
      gemm(rows, H, H, rows_of(Hb, H), net.w.W[l], H, ws.Zb.data(), H, false);
    } else {
      gemm(H, in0, m, transposed(Hb, H), ws.z0.data(), in0, gW, in0, true);
      // Tangent k entered layer 0 as the constant column W0[:, dirs[k]]: its adjoint is the
      // column sum of its block. Summed in a contiguous row (added into W0's strided column
      // entry by entry, the loop was scalar), starting from the column, in the same order.
      float* col = ws.col.data();
      for (int k = 0; k < p.K(); ++k) {
        const float* hk = Hb + (1 + k) * m * H;
        for (int64_t o = 0; o < H; ++o) col[o] = gW[o * in0 + p.dirs[k]];
        add_column_sums(m, H, hk, col);
        for (int64_t o = 0; o < H; ++o) gW[o * in0 + p.dirs[k]] = col[o];
      }
    }
  }
}

// grad_x u for one block of m points.
GAPSCOPE_VECTOR_CLONES void score_block(const Net& net, Workspace& ws, int64_t m, const float* t, const float* x,
                                        float* out) {
  const PotentialWeights& w = net.w;
  const int64_t H = net.H, d = net.d, in0 = net.in0;
  // Forward keeping act'(h) only, then the reverse pass
  // grad_z u = W0^T (D1_0 * W1^T (D1_1 * ... (D1_{L-1} * w_out))): two GEMMs per
  // hidden layer, where forward tangents would need d + 1.
  for (int64_t r = 0; r < m; ++r) {
    ws.z0[r * in0] = t[r];
    for (int64_t i = 0; i < d; ++i) ws.z0[r * in0 + 1 + i] = x[r * d + i];
  }
  for (int l = 0; l < net.L; ++l) {
    const float* S = l == 0 ? ws.z0.data() : ws.Z[l - 1].data();
    float* Hs = ws.Hs[l].data();
    gemm(m, H, net.in(l), rows_of(S, net.in(l)), net.WT[l].data(), H, Hs, H, false, {w.b[l]});
    // the last layer's value only feeds u, which the score does not need
    activation_jet(w.spec, m * H, Hs, l + 1 < net.L ? ws.Z[l].data() : nullptr, ws.D1[l].data(), nullptr, nullptr);
  }
  float *delta = ws.Zb.data(), *tmp = ws.Hb.data();
  const float* wo = w.W[net.L];
  const float* D = ws.D1[net.L - 1].data();
  for (int64_t r = 0; r < m; ++r)
    for (int64_t o = 0; o < H; ++o) delta[r * H + o] = D[r * H + o] * wo[o];
  for (int l = net.L - 1; l > 0; --l) {
    gemm(m, H, H, rows_of(delta, H), w.W[l], H, tmp, H, false, {nullptr, ws.D1[l - 1].data(), H});
    std::swap(delta, tmp);
  }
  // grad_x u = delta W0[:, x]: d dot products of length H per row (a GEMM tile would be
  // nearly empty at N = d).
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < d; ++i) out[r * d + i] = dot(delta + r * H, net.W0x.data() + i * H, H) - net.iv * x[r * d + i];
}

// The score network's output s (m x O) for one block: values only, one GEMM per layer
// and no reverse pass (the potential's score needs one more GEMM per hidden layer).
GAPSCOPE_VECTOR_CLONES void value_block(const Net& net, Workspace& ws, int64_t m, const float* t, const float* x,
                                        float* out) {
  const PotentialWeights& w = net.w;
  const int64_t H = net.H, d = net.d, in0 = net.in0, O = net.O;
  for (int64_t r = 0; r < m; ++r) {
    ws.z0[r * in0] = t[r];
    for (int64_t i = 0; i < d; ++i) ws.z0[r * in0 + 1 + i] = x[r * d + i];
  }
  for (int l = 0; l < net.L; ++l) {
    const float* S = l == 0 ? ws.z0.data() : ws.Z[l - 1].data();
    float* Hs = ws.Hs[l].data();
    gemm(m, H, net.in(l), rows_of(S, net.in(l)), net.WT[l].data(), H, Hs, H, false, {w.b[l]});
    activation_jet(w.spec, m * H, Hs, ws.Z[l].data(), nullptr, nullptr, nullptr);
  }
  const float *wo = w.W[net.L], *bo = w.b[net.L];
  const float* ZL = ws.Z[net.L - 1].data();
  for (int64_t r = 0; r < m; ++r)
    for (int64_t o = 0; o < O; ++o) out[r * O + o] = dot(ZL + r * H, wo + o * H, H) + bo[o];
}

// The DSM term "forward over reverse": the score s = grad_x u is one reverse pass through
// the network, and the loss's parameter gradient differentiates that reverse pass once
// more (its tangent runs upward, then an ordinary backward runs down). Per hidden layer of
// width H that is 6 m x H x H GEMMs (forward, score, the score's tangent, the backward's
// input adjoint, and the two weight-gradient products fused into one of depth 2m), where
// the forward jets of u and its d tangents take 3 (d + 1): 9 at d = 2, measured 1.4x
// slower per step at the paper's 20 000 DSM points.
// Layer l keeps: D1 = act'(h_l), D2 = act''(h_l), E = D2 * g_l with g_l the reverse pass's
// adjoint of z_l (w_out at the top, delta_{l+1} W_{l+1} below), P = [delta_l; hbar_l] with
// delta_l = D1 * g_l, and Q = [gbar_l; z_l], so that dW_l += P_l^T Q_{l-1} is one GEMM.
// g itself is never stored, and most element-wise steps are GEMM epilogues (kernels/gemm.h):
// the GEMM that makes g writes delta and E, the tangent's GEMM writes gbar and hbar, and the
// backward's GEMM adds D1 zbar into hbar. As passes of their own they were half of
// dsm_block's own samples in a line-by-line profile of the paper's lambda = 0 step; moved
// into the epilogues, dsm_block's share of the step's samples fell from 11.4 to 7.7 % (perf,
// the step 16.0 -> 15.2 ms under it). Every entry is the same arithmetic as in that form.
struct DsmWorkspace {
  std::vector<std::vector<float>> D1, D2, E, P, Q;
  std::vector<float> z0, h, vb, acc0, sb;  // vb: one row of deltabar_0
  void reserve(const Net& net, int64_t m) {
    const std::size_t H = net.H, n = m;
    for (auto* v : {&D1, &D2, &E}) {
      v->resize(net.L);
      for (auto& e : *v) e.resize(n * H);
    }
    for (auto* v : {&P, &Q}) {
      v->resize(net.L);
      for (auto& e : *v) e.resize(2 * n * H);
    }
    z0.resize(n * net.in0), h.resize(n * H), vb.resize(H), sb.resize(n * net.d);
    acc0.resize(static_cast<std::size_t>(net.d) * H);
  }
};
DsmWorkspace& dsm_workspace() {
  thread_local DsmWorkspace ws;
  return ws;
}

// One block of m DSM points at x (n x d): e = s(x) + c with c = z / sigma, the loss sum
// over points and coordinates returned, its gradient times `scale` added into g.
GAPSCOPE_VECTOR_CLONES double dsm_block(const Net& net, DsmWorkspace& ws, int64_t m, const float* t, const float* x,
                                        const float* c, float scale, float* g, const std::vector<int64_t>& off) {
  const PotentialWeights& w = net.w;
  const int64_t H = net.H, d = net.d, in0 = net.in0, mH = m * H;
  const int L = net.L;
  for (int64_t r = 0; r < m; ++r) {
    ws.z0[r * in0] = t[r];
    for (int64_t i = 0; i < d; ++i) ws.z0[r * in0 + 1 + i] = x[r * d + i];
  }
  // Forward; z_l goes to the second half of Q_l (the top layer's value feeds only u).
  // The score's reverse pass starts at the top layer with g = w_out on every row:
  // delta = D1 g and E = D2 g, made a few rows at a time right after their D1 and D2, so
  // that both are read back from L1 (see kDsmChunkRows); below, the GEMM
  // g_{l-1} = delta_l W_l writes delta_{l-1} = D1 g and E = D2 g.
  const float* wo = w.W[L];
  for (int l = 0; l < L; ++l) {
    const float* S = l == 0 ? ws.z0.data() : ws.Q[l - 1].data() + mH;
    gemm(m, H, net.in(l), rows_of(S, net.in(l)), net.WT[l].data(), H, ws.h.data(), H, false, {w.b[l]});
    if (l + 1 < L) {
      activation_jet(w.spec, mH, ws.h.data(), ws.Q[l].data() + mH, ws.D1[l].data(), ws.D2[l].data(), nullptr);
      continue;
    }
    float *D1 = ws.D1[l].data(), *D2 = ws.D2[l].data(), *P = ws.P[l].data(), *E = ws.E[l].data();
    for (int64_t r0 = 0; r0 < m; r0 += kDsmChunkRows) {
      const int64_t k0 = r0 * H, k1 = std::min(m, r0 + kDsmChunkRows) * H;
      activation_jet(w.spec, k1 - k0, ws.h.data() + k0, nullptr, D1 + k0, D2 + k0, nullptr);
      for (int64_t k = k0; k < k1; k += H)
        for (int64_t o = 0; o < H; ++o) {
          P[k + o] = D1[k + o] * wo[o];
          E[k + o] = D2[k + o] * wo[o];
        }
    }
  }
  for (int l = L - 1; l > 0; --l) {
    Epilogue ep;
    ep.scale = ws.D1[l - 1].data(), ep.ld_scale = H, ep.scale2 = ws.D2[l - 1].data(), ep.out2 = ws.E[l - 1].data();
    gemm(m, H, H, rows_of(ws.P[l].data(), H), w.W[l], H, ws.P[l - 1].data(), H, false, ep);
  }
  // s = delta_0 W0[:, x] - iv x; the loss and its adjoint sb.
  const float* delta0 = ws.P[0].data();
  double sum = 0;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < d; ++i) {
      const float e = dot(delta0 + r * H, net.W0x.data() + i * H, H) - net.iv * x[r * d + i] + c[r * d + i];
      sum += static_cast<double>(e) * e;
      ws.sb[r * d + i] = 2.f * e * scale;
    }
  // Adjoint of s = delta_0 W0x: vb = delta0bar = sb W0x^T, and dW0[:, x] += delta_0^T sb.
  // The reverse pass's tangent, upward: gbar_l = D1 * deltabar_l, hbar_l = D2 * g_l *
  // deltabar_l = E deltabar_l (the part through act'), deltabar_{l+1} = gbar_l W_{l+1}^T.
  // Layer 0's row by row from vb's row while it is in registers and L1 (an m x H pass of
  // its own was one of dsm_block's two hottest loops); above, in the epilogue of the GEMM
  // that makes deltabar.
  float* vr = ws.vb.data();
  {
    const float *d1 = ws.D1[0].data(), *e0 = ws.E[0].data();
    float *gbar = ws.Q[0].data(), *hbar = ws.P[0].data() + mH;
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t i = 0; i < d; ++i) {
        const float si = ws.sb[r * d + i];
        const float* wi = net.W0x.data() + i * H;
        if (i == 0)
          for (int64_t o = 0; o < H; ++o) vr[o] = si * wi[o];
        else
          for (int64_t o = 0; o < H; ++o) vr[o] += si * wi[o];
      }
      const int64_t k = r * H;
      for (int64_t o = 0; o < H; ++o) {
        gbar[k + o] = d1[k + o] * vr[o];
        hbar[k + o] = e0[k + o] * vr[o];
      }
    }
  }
  // delta_0^T sb (H x d) as a GEMM, whose narrow form keeps the sums in registers: added
  // row by row into an H x d array in memory, each row's FMAs waited on the previous
  // row's stores (a tenth of dsm_block's own samples). The same FMAs in the same order.
  gemm(H, d, m, transposed(delta0, H), ws.sb.data(), d, ws.acc0.data(), d, false);
  float* gW0 = g + off[0];
  for (int64_t o = 0; o < H; ++o)
    for (int64_t i = 0; i < d; ++i) gW0[o * in0 + 1 + i] += ws.acc0[o * d + i];
  for (int l = 1; l < L; ++l) {
    Epilogue ep;
    ep.scale = ws.D1[l].data(), ep.ld_scale = H, ep.scale2 = ws.E[l].data(), ep.out2 = ws.P[l].data() + mH;
    gemm(m, H, H, rows_of(ws.Q[l - 1].data(), H), net.WT[l].data(), H, ws.Q[l].data(), H, false, ep);
  }
  // The top layer's gbar and hbar are complete (u is not in the loss, so no ordinary
  // backward reaches them): their column sums are gwo and its bias's gradient.
  add_column_sums(m, H, ws.Q[L - 1].data(), g + off[2 * L]);
  add_column_sums(m, H, ws.P[L - 1].data() + mH, g + off[2 * (L - 1) + 1]);
  // The ordinary backward, downward: the GEMM zbar_{l-1} = hbar_l W_l adds D1 zbar into
  // hbar_{l-1} in its epilogue, which completes it.
  for (int l = L - 1; l >= 0; --l) {
    float* hbar = ws.P[l].data() + mH;
    if (l + 1 < L) add_column_sums(m, H, hbar, g + off[2 * l + 1]);
    if (l > 0) {
      gemm(H, H, 2 * m, transposed(ws.P[l].data(), H), ws.Q[l - 1].data(), H, g + off[2 * l], H, true);
      Epilogue ep;
      ep.scale = ws.D1[l - 1].data(), ep.ld_scale = H, ep.scale_product = true;
      gemm(m, H, H, rows_of(hbar, H), w.W[l], H, ws.P[l - 1].data() + mH, H, true, ep);
    } else {
      gemm(H, in0, m, transposed(hbar, H), ws.z0.data(), in0, gW0, in0, true);
    }
  }
  return sum;
}

// R at row r of a block of m jets laid out u, u_t, u_x1..u_xd, lap u (Plan dt, dx, Laplacian):
// R = u_t - d a - a x.grad u - g^2/2 (lap u + |grad u|^2). iv: the prior offset's 1 / v
// (grad u = grad NN - iv x, lap u = lap NN - d iv).
inline float fp_residual(float a, float g2, const float* x, int d, const float* Y, int64_t m, int64_t r, float iv) {
  float xg = 0, gg = 0;
  for (int i = 0; i < d; ++i) {
    const float ui = Y[(2 + i) * m + r] - iv * x[i];
    xg += x[i] * ui, gg += ui * ui;
  }
  return Y[m + r] - d * a - a * xg - 0.5f * g2 * (Y[(2 + d) * m + r] - d * iv + gg);
}
inline float fp_residual(const Sde& sde, float t, const float* x, int d, const float* Y, int64_t m, int64_t r,
                         float iv) {
  return fp_residual(static_cast<float>(sde.drift_rate(t)), static_cast<float>(sde.diffusion2(t)), x, d, Y, m, r, iv);
}

// The score network's residual r (d entries, math.md §2) at row r of a block of m jets
// laid out s, s_t, d_x1 s .. d_xd s, then the Hessian pairs (Plan dt, dx, Hessian; O = d):
// r_i = d_t s_i - a (s_i + sum_j x_j d_i s_j) - g^2/2 (d_i div s + 2 sum_j s_j d_i s_j),
// as nn/residual.h score_fp_residual.
inline void score_fp_residual(float a, float g2, const float* x, int d, const float* Y, int64_t m, int64_t r,
                              float* res) {
  const auto at = [&](int b, int j) { return Y[(b * m + r) * d + j]; };
  for (int i = 0; i < d; ++i) {
    float xj = 0, sj = 0, gdiv = 0;
    for (int j = 0; j < d; ++j) {
      const float J = at(2 + i, j);  // d_i s_j
      xj += x[j] * J, sj += at(0, j) * J;
      gdiv += at(2 + d + jet::hessian_pair(d, i, j), j);
    }
    res[i] = at(1, i) - a * (at(0, i) + xj) - 0.5f * g2 * (gdiv + 2.f * sj);
  }
}

struct Accumulators {
  std::vector<std::vector<float>> grad;  // per thread, flat
  std::vector<double> loss;              // per thread
};

// Row blocks of at most `rows` points spread over the ATen threads, each block handed with
// its thread's workspace (what prepare() returns, once per thread's range): f(ws, r0, m)
// for the points [r0, r0 + m). The block count is a multiple of the thread count and the
// blocks are of equal size: 10 000 sampler points in blocks of 256 were 39 full blocks and
// one of 16, which left one of two threads idle for 5 % of every call.
template <class Prepare, class F>
void for_each_row_block(int64_t n, int64_t rows, Prepare&& prepare, F&& f) {
  if (n <= 0) return;
  const int64_t threads = std::max(1, at::get_num_threads());
  const int64_t even = ((n + rows - 1) / rows + threads - 1) / threads * threads;
  const int64_t m = (n + even - 1) / even, blocks = (n + m - 1) / m;
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    auto& ws = prepare();
    for (int64_t b = b0; b < b1; ++b) f(ws, b * m, std::min(m, n - b * m));
  });
}

// The jets' workspace, sized for plan p.
template <class F>
void for_each_block(const Net& net, const Plan& p, int64_t n, int64_t rows, F&& f) {
  for_each_row_block(n, rows, [&]() -> Workspace& {
    Workspace& ws = workspace();
    ws.reserve(net, p, rows);
    return ws;
  }, f);
}

// Runs forward -> point loss -> backward over all n points in row blocks. point_loss(r0,
// m, Y, Yb) returns the block's loss sum and writes the output adjoint.
template <class PointLoss>
void run_blocks(const Net& net, const Plan& p, int64_t n, const float* t, const float* x, PointLoss&& point_loss,
                Accumulators& acc, const std::vector<int64_t>& off, int64_t rows = kTrainRows) {
  for_each_block(net, p, n, rows, [&](Workspace& ws, int64_t r0, int64_t m) {
    const std::size_t tid = std::min<std::size_t>(at::get_thread_num(), acc.grad.size() - 1);
    forward(net, p, ws, m, t + r0, x + r0 * net.d);
    acc.loss[tid] += point_loss(r0, m, ws.Y.data(), ws.Yb.data());
    backward(net, p, ws, m, acc.grad[tid].data(), off);
  });
}

double reduce(std::vector<double>& v) {
  double s = 0;
  for (double& e : v) s += e, e = 0;
  return s;
}

// Offsets of W0, b0, W1, b1, ... in the flat per-thread gradient; their total in `total`.
std::vector<int64_t> param_offsets(const Net& net, int64_t& total) {
  std::vector<int64_t> off;
  total = 0;
  for (int l = 0; l <= net.L; ++l) {
    const int64_t out = l == net.L ? net.O : net.H;
    off.push_back(total), total += out * net.in(l);
    off.push_back(total), total += out;
  }
  return off;
}

Accumulators accumulators(int64_t total) {
  Accumulators acc;
  const int nt = std::max(1, at::get_num_threads());
  acc.grad.assign(nt, std::vector<float>(total, 0.f));
  acc.loss.assign(nt, 0.0);
  return acc;
}

// Thread partial sums, added in thread order, into grad[2l] = dL/dW_l, grad[2l+1] = dL/db_l.
void gather(const Net& net, const std::vector<int64_t>& off, int64_t total, const Accumulators& acc,
            std::vector<std::vector<float>>& grad) {
  grad.assign(2 * (net.L + 1), {});
  for (int l = 0; l <= net.L; ++l)
    for (int k = 0; k < 2; ++k) {
      const int64_t lo = off[2 * l + k], hi = 2 * l + k + 1 < static_cast<int>(off.size()) ? off[2 * l + k + 1] : total;
      auto& gi = grad[2 * l + k];
      gi.assign(hi - lo, 0.f);
      for (auto& tg : acc.grad)
        for (int64_t i = lo; i < hi; ++i) gi[i - lo] += tg[i];
    }
}

// x_t = m(t) x0 + sigma(t) z and c = z / sigma(t) of a DSM batch (the loss's e = s(x_t) + c).
void dsm_targets(const Sde& sde, const DsmBatch& dsm, int d, std::vector<float>& xt, std::vector<float>& c) {
  const int64_t n = dsm.n;
  xt.resize(n * d), c.resize(n * d);
  // on all threads: m(t) and sigma(t) in double took 0.29 ms of the paper's step on one
  at::parallel_for(0, n, 2048, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float m = static_cast<float>(sde.mean_coef(dsm.t[r])), s = static_cast<float>(sde.marginal_std(dsm.t[r]));
      for (int i = 0; i < d; ++i) {
        xt[r * d + i] = dsm.x0[r * d + i] * m + s * dsm.z[r * d + i];
        c[r * d + i] = dsm.z[r * d + i] * (1.f / s);
      }
    }
  });
}

}  // namespace

PotentialWeights PotentialWeights::of(const WeightSnapshot& s) {
  PotentialWeights w;
  w.spec = s.spec;
  for (std::size_t l = 0; l < s.weights.size(); ++l) {
    w.W.push_back(s.weights[l].data());
    w.b.push_back(s.biases[l].data());
  }
  return w;
}

bool fused_potential_supported(const ModelSpec& spec) {
  return spec.potential && spec.layers >= 1 && spec.in_dim() <= jet::kMaxTangents;
}

bool fused_score_model_supported(const ModelSpec& spec) {
  // The prior offset is a potential's (Config refuses it for a score network, and the
  // tensor path has none for one): a score spec that carries it does not run here.
  return !spec.potential && spec.layers >= 1 && spec.in_dim() <= jet::kMaxTangents && spec.prior_var == 0;
}

void potential_score(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* out) {
  const Net net(w);
  const int64_t d = net.d;
  for_each_block(net, Plan{}, n, kScoreRows, [&](Workspace& ws, int64_t r0, int64_t m) {
    score_block(net, ws, m, t + r0, x + r0 * d, out + r0 * d);
  });
}

void potential_residual(const PotentialWeights& w, const Sde& sde, int64_t n, const float* t, const float* x,
                        float* out) {
  const Net net(w);
  const int d = net.d;
  const Plan p = jet::make_plan(true, true, jet::Second::Laplacian, d);
  for_each_block(net, p, n, kTrainRows, [&](Workspace& ws, int64_t r0, int64_t m) {
    forward(net, p, ws, m, t + r0, x + r0 * d);
    const float* Y = ws.Y.data();
    for (int64_t r = 0; r < m; ++r) out[r0 + r] = fp_residual(sde, t[r0 + r], x + (r0 + r) * d, d, Y, m, r, net.iv);
  });
}

void potential_value_jet(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* u, float* grad,
                         float* lap) {
  const Net net(w);
  const int d = net.d;
  const Plan p = jet::make_plan(false, true, jet::Second::Laplacian, d);  // u, u_x1..u_xd, lap u
  for_each_block(net, p, n, kTrainRows, [&](Workspace& ws, int64_t r0, int64_t m) {
    forward(net, p, ws, m, t + r0, x + r0 * d);
    const float* Y = ws.Y.data();
    for (int64_t r = 0; r < m; ++r) {
      const float* xr = x + (r0 + r) * d;
      float x2 = 0;
      for (int i = 0; i < d; ++i) {
        x2 += xr[i] * xr[i];
        if (grad) grad[(r0 + r) * d + i] = Y[(1 + i) * m + r] - net.iv * xr[i];
      }
      if (u) u[r0 + r] = Y[r] - 0.5f * net.iv * x2;
      if (lap) lap[r0 + r] = Y[(1 + d) * m + r] - d * net.iv;
    }
  });
}

LossParts potential_loss_grad(const PotentialWeights& w, const Sde& sde, const DsmBatch& dsm, const FpBatch* fp,
                              const LossWeights& weights, std::vector<std::vector<float>>& grad) {
  if (!fused_potential_supported(w.spec)) throw std::invalid_argument("fused: not a potential network");
  const Net net(w);
  const int d = net.d;
  int64_t total = 0;
  const std::vector<int64_t> off = param_offsets(net, total);
  Accumulators acc = accumulators(total);
  LossParts parts;

  // DSM: s = grad_x u against -z / sigma; mean over points and coordinates.
  {
    const int64_t n = dsm.n;
    std::vector<float> xt, c;
    dsm_targets(sde, dsm, d, xt, c);
    const float scale = static_cast<float>(1.0 / (static_cast<double>(n) * d));
    auto prepare = [&]() -> DsmWorkspace& {
      DsmWorkspace& ws = dsm_workspace();
      ws.reserve(net, kDsmRows);
      return ws;
    };
    for_each_row_block(n, kDsmRows, prepare, [&](DsmWorkspace& ws, int64_t r0, int64_t m) {
      const std::size_t tid = std::min<std::size_t>(at::get_thread_num(), acc.grad.size() - 1);
      acc.loss[tid] += dsm_block(net, ws, m, dsm.t + r0, xt.data() + r0 * d, c.data() + r0 * d, scale,
                                 acc.grad[tid].data(), off);
    });
    parts.dsm = reduce(acc.loss) / (static_cast<double>(n) * d);
  }

  if (fp && weights.lambda != 0 && fp->n > 0) {
    const double lambda = weights.lambda;
    const int64_t n = fp->n;
    std::vector<float> a(n), g2(n);
    for (int64_t r = 0; r < n; ++r) a[r] = static_cast<float>(sde.drift_rate(fp->t[r])), g2[r] = static_cast<float>(sde.diffusion2(fp->t[r]));
    const Plan p = jet::make_plan(true, true, jet::Second::Laplacian, d);
    const float scale = static_cast<float>(lambda / static_cast<double>(n));
    run_blocks(net, p, n, fp->t, fp->x, [&](int64_t r0, int64_t m, const float* Y, float* Yb) {
      double sum = 0;
      for (int64_t r = 0; r < m; ++r) {
        const float ar = a[r0 + r], g = g2[r0 + r];
        const float* xr = fp->x + (r0 + r) * d;
        const float R = fp_residual(ar, g, xr, d, Y, m, r, net.iv);
        sum += static_cast<double>(R) * R;
        const float c = 2.f * R * scale;
        Yb[r] = 0;
        Yb[m + r] = c;
        for (int i = 0; i < d; ++i) Yb[(2 + i) * m + r] = c * (-ar * xr[i] - g * (Y[(2 + i) * m + r] - net.iv * xr[i]));
        Yb[(2 + d) * m + r] = -0.5f * g * c;
      }
      return sum;
    }, acc, off);
    parts.fp = reduce(acc.loss) / static_cast<double>(n);
  }

  // Boundary: mean over face points of softplus(u)^2, d/du = 2 softplus(u) sigmoid(u).
  if (fp && weights.boundary != 0 && fp->nb > 0) {
    const Plan value_only;
    const float sb = static_cast<float>(weights.boundary / static_cast<double>(fp->nb));
    run_blocks(net, value_only, fp->nb, fp->tb, fp->xb, [&](int64_t r0, int64_t m, const float* Y, float* Yb) {
      double sum = 0;
      for (int64_t r = 0; r < m; ++r) {
        double x2 = 0;
        for (int i = 0; i < d; ++i) x2 += static_cast<double>(fp->xb[(r0 + r) * d + i]) * fp->xb[(r0 + r) * d + i];
        const double u = Y[r] - 0.5 * net.iv * x2, sp = std::max(u, 0.0) + std::log1p(std::exp(-std::abs(u)));
        const double sig = u >= 0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u));
        sum += sp * sp;
        Yb[r] = static_cast<float>(2.0 * sp * sig) * sb;
      }
      return sum;
    }, acc, off);
    parts.bc = reduce(acc.loss) / static_cast<double>(fp->nb);
  }

  gather(net, off, total, acc, grad);
  return parts;
}

void score_model_score(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* out) {
  const Net net(w);
  const int64_t d = net.d;
  for_each_block(net, Plan{}, n, kScoreRows, [&](Workspace& ws, int64_t r0, int64_t m) {
    value_block(net, ws, m, t + r0, x + r0 * d, out + r0 * d);
  });
}

void score_model_residual(const PotentialWeights& w, const Sde& sde, int64_t n, const float* t, const float* x,
                          float* out) {
  const Net net(w);
  const int d = net.d;
  const Plan p = jet::make_plan(true, true, jet::Second::Hessian, d);
  for_each_block(net, p, n, kScoreFpRows, [&](Workspace& ws, int64_t r0, int64_t m) {
    forward(net, p, ws, m, t + r0, x + r0 * d);
    for (int64_t r = 0; r < m; ++r) {
      const float tr = t[r0 + r];
      score_fp_residual(static_cast<float>(sde.drift_rate(tr)), static_cast<float>(sde.diffusion2(tr)),
                        x + (r0 + r) * d, d, ws.Y.data(), m, r, out + (r0 + r) * d);
    }
  });
}

void score_model_value_jet(const PotentialWeights& w, int64_t n, const float* t, const float* x, float* s,
                           float* div) {
  const Net net(w);
  const int d = net.d;
  const Plan p = jet::make_plan(false, true, jet::Second::None, d);  // s, d_x1 s .. d_xd s
  for_each_block(net, p, n, kTrainRows, [&](Workspace& ws, int64_t r0, int64_t m) {
    forward(net, p, ws, m, t + r0, x + r0 * d);
    const float* Y = ws.Y.data();
    for (int64_t r = 0; r < m; ++r) {
      float dv = 0;
      for (int i = 0; i < d; ++i) {
        if (s) s[(r0 + r) * d + i] = Y[r * d + i];
        dv += Y[((1 + i) * m + r) * d + i];
      }
      if (div) div[r0 + r] = dv;
    }
  });
}

LossParts score_model_loss_grad(const PotentialWeights& w, const Sde& sde, const DsmBatch& dsm, const FpBatch* fp,
                                const LossWeights& weights, std::vector<std::vector<float>>& grad) {
  if (!fused_score_model_supported(w.spec)) throw std::invalid_argument("fused: not a score network without offset");
  const Net net(w);
  const int d = net.d;
  int64_t total = 0;
  const std::vector<int64_t> off = param_offsets(net, total);
  Accumulators acc = accumulators(total);
  LossParts parts;

  // DSM: the output itself against -z / sigma, mean over points and coordinates; its
  // gradient is one ordinary backward from the value block.
  {
    const int64_t n = dsm.n;
    std::vector<float> xt, c;
    dsm_targets(sde, dsm, d, xt, c);
    const float scale = static_cast<float>(1.0 / (static_cast<double>(n) * d));
    run_blocks(net, Plan{}, n, dsm.t, xt.data(), [&](int64_t r0, int64_t m, const float* Y, float* Yb) {
      double sum = 0;
      for (int64_t k = 0; k < m * d; ++k) {
        const float e = Y[k] + c[r0 * d + k];
        sum += static_cast<double>(e) * e;
        Yb[k] = 2.f * e * scale;
      }
      return sum;
    }, acc, off, kScoreDsmRows);
    parts.dsm = n > 0 ? reduce(acc.loss) / (static_cast<double>(n) * d) : 0.0;
  }

  // FP: mean over points of |r|^2 from the jets s, s_t, d_x s and the Hessian pairs; the
  // adjoint of r into those output blocks, then the jets' backward.
  if (fp && weights.lambda != 0 && fp->n > 0) {
    const int64_t n = fp->n;
    std::vector<float> a(n), g2(n);
    for (int64_t r = 0; r < n; ++r) a[r] = static_cast<float>(sde.drift_rate(fp->t[r])), g2[r] = static_cast<float>(sde.diffusion2(fp->t[r]));
    const Plan p = jet::make_plan(true, true, jet::Second::Hessian, d);
    const float scale = static_cast<float>(weights.lambda / static_cast<double>(n));
    run_blocks(net, p, n, fp->t, fp->x, [&](int64_t r0, int64_t m, const float* Y, float* Yb) {
      const auto at = [&](int b, int64_t r, int j) { return Y[(b * m + r) * d + j]; };
      const auto bar = [&](int b, int64_t r, int j) -> float& { return Yb[(b * m + r) * d + j]; };
      std::fill(Yb, Yb + static_cast<int64_t>(p.B()) * m * d, 0.f);
      float res[jet::kMaxTangents], c[jet::kMaxTangents];
      double sum = 0;
      for (int64_t r = 0; r < m; ++r) {
        const float ar = a[r0 + r], g = g2[r0 + r];
        const float* xr = fp->x + (r0 + r) * d;
        score_fp_residual(ar, g, xr, d, Y, m, r, res);
        for (int i = 0; i < d; ++i) sum += static_cast<double>(res[i]) * res[i], c[i] = 2.f * res[i] * scale;
        for (int i = 0; i < d; ++i) {
          bar(1, r, i) = c[i];
          bar(0, r, i) += -ar * c[i];
          for (int j = 0; j < d; ++j) {
            const float J = at(2 + i, r, j);  // d_i s_j
            bar(0, r, j) += -g * c[i] * J;
            bar(2 + i, r, j) = -c[i] * (ar * xr[j] + g * at(0, r, j));
            bar(2 + d + jet::hessian_pair(d, i, j), r, j) += -0.5f * g * c[i];
          }
        }
      }
      return sum;
    }, acc, off, kScoreFpRows);
    parts.fp = reduce(acc.loss) / static_cast<double>(n);
  }
  // No boundary term for a score network (nn/loss.cpp fp_loss): parts.bc stays 0.

  gather(net, off, total, acc, grad);
  return parts;
}

}  // namespace gapscope

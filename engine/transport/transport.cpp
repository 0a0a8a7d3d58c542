#include "transport/transport.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.h"

namespace gapscope {
namespace {

using i64 = std::int64_t;

// ---- input checks ------------------------------------------------------------------

void check_cloud(const Points& p, const char* fn, const char* name) {
  const std::string where = std::string(fn) + ": cloud " + name;
  if (p.d <= 0) throw std::invalid_argument(where + " has dimension " + std::to_string(p.d) + ", expected >= 1");
  if (p.v.size() % static_cast<std::size_t>(p.d) != 0)
    throw std::invalid_argument(where + " has " + std::to_string(p.v.size()) + " values, not a multiple of d = " +
                                std::to_string(p.d));
  if (p.n() == 0) throw std::invalid_argument(where + " is empty");
  for (std::size_t k = 0; k < p.v.size(); ++k)
    if (!std::isfinite(p.v[k]))
      throw std::invalid_argument(where + " has a non-finite coordinate at point " + std::to_string(k / p.d));
}

void check_pair(const Points& a, const Points& b, const char* fn) {
  check_cloud(a, fn, "a");
  check_cloud(b, fn, "b");
  if (a.d != b.d)
    throw std::invalid_argument(std::string(fn) + ": dimension mismatch, a has d = " + std::to_string(a.d) +
                                " and b has d = " + std::to_string(b.d));
}

void check_values(const std::vector<double>& x, const char* fn, const char* name) {
  if (x.empty()) throw std::invalid_argument(std::string(fn) + ": " + name + " is empty");
  for (std::size_t k = 0; k < x.size(); ++k)
    if (!std::isfinite(x[k]))
      throw std::invalid_argument(std::string(fn) + ": " + name + " has a non-finite value at index " +
                                  std::to_string(k));
}

void check_weights(const std::vector<double>& w, std::size_t n, const char* fn, const char* name) {
  if (w.size() != n)
    throw std::invalid_argument(std::string(fn) + ": " + name + " has " + std::to_string(w.size()) +
                                " weights for " + std::to_string(n) + " points");
  double s = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (!std::isfinite(w[k]) || w[k] < 0)
      throw std::invalid_argument(std::string(fn) + ": " + name + " weight " + std::to_string(k) +
                                  " is negative or not finite");
    s += w[k];
  }
  if (!(s > 0) || !std::isfinite(s))
    throw std::invalid_argument(std::string(fn) + ": " + name + " weights do not have a positive finite sum");
}

// ---- exact min-cost flow on a column-generated bipartite graph ------------------------
//
// A dense bipartite graph has n_a·n_b arcs, but an optimal basis uses fewer than
// n_a + n_b of them, nearly all between near neighbours. So the network simplex runs on
// a sparse arc set (nearest neighbours both ways plus a feasible north-west-corner
// plan); its potentials price every missing pair in one O(n_a·n_b) sweep, and pairs with
// negative reduced cost join the arc set. The simplex then continues from its current
// basis rather than from scratch — the reason this is a small simplex of our own and
// not LEMON's NetworkSimplex, which cannot be warm-started (re-solving from scratch
// each round cost 6–8 LEMON solves of 50–90 ms on the benchmark cases). When a sweep
// finds no negative reduced cost, the sparse optimum is optimal for the dense problem
// (LP duality), so the answer is exact. All data are integers, so the duality check is
// exact as well.

struct Flow {
  int i;
  int j;
  i64 f;
};

// Primal network simplex for the uncapacitated transportation problem, in LEMON's
// formulation: an artificial root joined to every node, big-M artificial costs, a
// strongly feasible spanning tree (Cunningham's leaving-arc rule, which rules out
// cycling on the very degenerate assignment problems), block-search pricing.
// Reduced cost of arc e: cost + π(source) − π(target); tree arcs have 0.
class TransportSimplex {
 public:
  // cmax bounds every cost that will ever be added; it sizes the big-M.
  TransportSimplex(const std::vector<i64>& sa, const std::vector<i64>& sb, i64 cmax)
      : na_(static_cast<int>(sa.size())), nb_(static_cast<int>(sb.size())), root_(na_ + nb_) {
    const int nodes = root_ + 1;
    parent_.assign(nodes, -1);
    pred_.assign(nodes, -1);
    depth_.assign(nodes, 0);
    up_.assign(nodes, 0);
    pi_.assign(nodes, 0);
    adj_.assign(nodes, {});
    const i64 art = (cmax + 1) * (root_ + 1);
    // Artificial arc u (one per node) carries the node's whole supply to or from the root,
    // so the first tree is feasible and, all flows being positive, strongly feasible.
    for (int u = 0; u < root_; ++u) {
      const bool supply = u < na_;
      push_arc(supply ? u : root_, supply ? root_ : u, supply ? 0 : art);
      flow_[u] = supply ? sa[u] : sb[u - na_];
      parent_[u] = root_;
      pred_[u] = u;
      up_[u] = supply;
      depth_[u] = 1;
      pi_[u] = supply ? 0 : art;
      link(u);
    }
    next_ = root_;
  }

  // New arcs are priced first by the next run(): they are why it runs again.
  void add_arc(int i, int j, i64 c) {
    if (started_ && !fresh_) next_ = static_cast<int>(src_.size()), fresh_ = true;
    push_arc(i, na_ + j, c);
  }
  std::size_t arcs() const { return src_.size() - root_; }
  i64 pa(int i) const { return pi_[i]; }
  i64 pb(int j) const { return pi_[na_ + j]; }

  void run() {
    if (!started_) {
      started_ = true;
      initial_pivots();
    }
    fresh_ = false;
    int e = -1;
    while (find_entering(e)) pivot(e);
  }

  std::vector<Flow> flows() const {
    for (int u = 0; u < root_; ++u)
      if (flow_[u] != 0) throw std::logic_error("transport: artificial flow left at the optimum");
    std::vector<Flow> out;
    for (std::size_t e = root_; e < src_.size(); ++e)
      if (flow_[e] > 0) out.push_back({src_[e], tgt_[e] - na_, flow_[e]});
    return out;
  }

 private:
  void push_arc(int s, int t, i64 c) {
    src_.push_back(s);
    tgt_.push_back(t);
    cost_.push_back(c);
    flow_.push_back(0);
    pos_s_.push_back(-1);
    pos_t_.push_back(-1);
  }
  // Tree adjacency with O(1) removal: each tree arc knows its slot at both ends. An
  // entry carries the neighbour and the arc's direction, so walking a subtree never
  // touches the (large, cold) arc arrays.
  struct Adj {
    int e;
    int other;     // the neighbour
    bool out;      // the arc points from this node to the neighbour
  };
  void link(int e) {
    const int s = src_[e], t = tgt_[e];
    pos_s_[e] = static_cast<int>(adj_[s].size());
    adj_[s].push_back({e, t, true});
    pos_t_[e] = static_cast<int>(adj_[t].size());
    adj_[t].push_back({e, s, false});
  }
  void unlink_end(int node, int slot) {
    auto& a = adj_[node];
    const Adj moved = a.back();
    a[slot] = moved;
    a.pop_back();
    if (slot < static_cast<int>(a.size())) (moved.out ? pos_s_[moved.e] : pos_t_[moved.e]) = slot;
  }
  void unlink(int e) {
    unlink_end(src_[e], pos_s_[e]);
    unlink_end(tgt_[e], pos_t_[e]);
  }

  // LEMON's start-up heuristic: bring each demand node's cheapest arc into the tree
  // first, which replaces most big-M artificial arcs in cheap, short pivots.
  void initial_pivots() {
    std::vector<int> best(root_, -1);
    for (int e = root_; e < static_cast<int>(src_.size()); ++e) {
      const int t = tgt_[e];
      if (best[t] < 0 || cost_[e] < cost_[best[t]]) best[t] = e;
    }
    for (int t = na_; t < root_; ++t) {
      const int e = best[t];
      if (e >= 0 && cost_[e] + pi_[src_[e]] - pi_[tgt_[e]] < 0) pivot(e);
    }
  }

  // Block search: scan `block` arcs from where the last search stopped and take the
  // most negative reduced cost among them, or continue while none is negative.
  bool find_entering(int& e_in) {
    const int m = static_cast<int>(src_.size()) - root_;
    if (m <= 0) return false;
    const int block = std::max(10, static_cast<int>(std::sqrt(static_cast<double>(m))));
    const int end = static_cast<int>(src_.size());
    const int* src = src_.data();
    const int* tgt = tgt_.data();
    const i64* cost = cost_.data();
    const i64* pi = pi_.data();
    i64 best = 0;
    int left = m;
    while (left > 0) {
      const int stop = std::min({end, next_ + block, next_ + left});
      for (int e = next_; e < stop; ++e) {
        const i64 rc = cost[e] + pi[src[e]] - pi[tgt[e]];
        if (rc < best) best = rc, e_in = e;
      }
      left -= stop - next_;
      next_ = stop == end ? root_ : stop;
      if (best < 0) return true;
    }
    return false;
  }

  void pivot(int e_in) {
    const int first = src_[e_in], second = tgt_[e_in];
    int u = first, v = second;
    while (u != v) {
      if (depth_[u] >= depth_[v])
        u = parent_[u];
      else
        v = parent_[v];
    }
    const int join = u;
    // Flow goes first → second along e_in and back to first through the tree. Only arcs
    // traversed against their direction can block (all arcs are uncapacitated); ties go
    // to the last blocking arc of the cycle, which keeps the tree strongly feasible.
    i64 delta = std::numeric_limits<i64>::max();
    int u_out = -1;
    bool out_first = true;
    for (int w = first; w != join; w = parent_[w])
      if (up_[w] && flow_[pred_[w]] < delta) delta = flow_[pred_[w]], u_out = w;
    for (int w = second; w != join; w = parent_[w])
      if (!up_[w] && flow_[pred_[w]] <= delta) delta = flow_[pred_[w]], u_out = w, out_first = false;
    if (u_out < 0) throw std::logic_error("transport: unbounded cycle in the network simplex");

    if (delta > 0) {
      flow_[e_in] += delta;
      for (int w = first; w != join; w = parent_[w]) flow_[pred_[w]] += up_[w] ? -delta : delta;
      for (int w = second; w != join; w = parent_[w]) flow_[pred_[w]] += up_[w] ? delta : -delta;
    }

    // Cut the leaving arc; the side hanging below it (it holds `first` or `second`) is
    // re-hung from e_in, its potentials shifted so that e_in gets reduced cost 0.
    unlink(pred_[u_out]);
    link(e_in);
    const int r = out_first ? first : second, p = out_first ? second : first;
    const i64 sigma = out_first ? pi_[second] - cost_[e_in] - pi_[first] : cost_[e_in] + pi_[first] - pi_[second];
    parent_[r] = p;
    pred_[r] = e_in;
    up_[r] = src_[e_in] == r;
    depth_[r] = depth_[p] + 1;
    pi_[r] += sigma;
    stack_.clear();
    stack_.push_back(r);
    while (!stack_.empty()) {
      const int x = stack_.back();
      stack_.pop_back();
      const int px = pred_[x];
      for (const Adj& a : adj_[x]) {
        if (a.e == px) continue;
        const int y = a.other;
        parent_[y] = x;
        pred_[y] = a.e;
        up_[y] = !a.out;
        depth_[y] = depth_[x] + 1;
        pi_[y] += sigma;
        stack_.push_back(y);
      }
    }
  }

  int na_, nb_, root_;
  std::vector<int> src_, tgt_, pos_s_, pos_t_;
  std::vector<i64> cost_, flow_;
  std::vector<int> parent_, pred_, depth_;
  std::vector<char> up_;  // tree arc of u points u → parent (else parent → u)
  std::vector<i64> pi_;
  std::vector<std::vector<Adj>> adj_;
  std::vector<int> stack_;
  int next_ = 0;
  bool started_ = false;
  bool fresh_ = false;
};

constexpr int kNearest = 32;  // neighbours per node in the first arc set
constexpr int kAdd = 16;      // most negative reduced costs added per row and sweep
constexpr std::size_t kDense = 4096;  // below this many pairs, just use all of them

// Bounded max-heap of the k cheapest (cost, index) pairs seen so far.
struct Cheapest {
  std::pair<double, int>* h;
  int size = 0;
  int k;
  double top() const { return size < k ? std::numeric_limits<double>::infinity() : h[0].first; }
  void offer(double c, int idx) {
    if (size < k) {
      h[size++] = {c, idx};
      std::push_heap(h, h + size);
    } else if (c < h[0].first) {
      std::pop_heap(h, h + size);
      h[size - 1] = {c, idx};
      std::push_heap(h, h + size);
    }
  }
};

// Each node's kNearest cheapest partners, both ways, in one sweep over all pairs.
// Cost functions provide row(i, out): the scaled costs of row i as doubles, in a loop
// the compiler vectorises; the selection only needs them approximately.
template <class CostFn>
void add_nearest(int na, int nb, const CostFn& cost, std::vector<std::pair<int, int>>& arcs) {
  const int ka = std::min(kNearest, nb), kb = std::min(kNearest, na);
  std::vector<std::pair<double, int>> row(ka), cols(static_cast<std::size_t>(nb) * kb);
  std::vector<Cheapest> col(nb);
  std::vector<double> c(nb), col_top(nb, std::numeric_limits<double>::infinity());
  for (int j = 0; j < nb; ++j) col[j] = Cheapest{cols.data() + static_cast<std::size_t>(j) * kb, 0, kb};
  for (int i = 0; i < na; ++i) {
    cost.row(i, c.data());
    Cheapest r{row.data(), 0, ka};
    for (int j = 0; j < nb; ++j) {
      if (c[j] < r.top()) r.offer(c[j], j);
      if (c[j] < col_top[j]) {
        col[j].offer(c[j], i);
        col_top[j] = col[j].top();
      }
    }
    for (int k = 0; k < r.size; ++k) arcs.emplace_back(i, row[k].second);
  }
  for (int j = 0; j < nb; ++j)
    for (int k = 0; k < col[j].size; ++k) arcs.emplace_back(col[j].h[k].second, j);
}

constexpr int kMinDegree = 4;
constexpr int kGridRadius = 2;  // grid nodes; first arcs of the grid metric

template <class CostFn>
void nearest_of_row(int i, int nb, const CostFn& cost, std::vector<std::pair<int, int>>& arcs) {
  std::pair<double, int> h[kMinDegree];
  Cheapest r{h, 0, std::min(kMinDegree, nb)};
  for (int j = 0; j < nb; ++j) r.offer(static_cast<double>(cost(i, j)), j);
  for (int k = 0; k < r.size; ++k) arcs.emplace_back(i, h[k].second);
}

template <class CostFn>
void nearest_of_col(int j, int na, const CostFn& cost, std::vector<std::pair<int, int>>& arcs) {
  std::pair<double, int> h[kMinDegree];
  Cheapest r{h, 0, std::min(kMinDegree, na)};
  for (int i = 0; i < na; ++i) r.offer(static_cast<double>(cost(i, j)), i);
  for (int k = 0; k < r.size; ++k) arcs.emplace_back(h[k].second, j);
}

// The arcs of the north-west-corner plan along the given orders: fewer than n_a + n_b
// arcs that carry a feasible flow, so the sparse problem never needs artificial flow.
void add_northwest(const std::vector<i64>& sa, const std::vector<i64>& sb, const std::vector<int>& oa,
                   const std::vector<int>& ob, std::vector<std::pair<int, int>>& arcs) {
  std::size_t p = 0, q = 0;
  i64 ra = sa[oa[0]], rb = sb[ob[0]];
  while (p < oa.size() && q < ob.size()) {
    arcs.emplace_back(oa[p], ob[q]);
    const i64 m = std::min(ra, rb);
    ra -= m;
    rb -= m;
    if (ra == 0 && ++p < oa.size()) ra = sa[oa[p]];
    if (rb == 0 && ++q < ob.size()) rb = sb[ob[q]];
  }
}

// `arcs` is the first sparse arc set; it must contain a feasible plan's arcs (a
// north-west corner). Small problems ignore it and go dense at once.
template <class CostFn>
std::vector<Flow> solve(const std::vector<i64>& sa, const std::vector<i64>& sb, const CostFn& cost, i64 cmax,
                        std::vector<std::pair<int, int>> arcs, int& rounds) {
  const int na = static_cast<int>(sa.size()), nb = static_cast<int>(sb.size());
  TransportSimplex ts(sa, sb, cmax);
  const bool dense = static_cast<std::size_t>(na) * static_cast<std::size_t>(nb) <= kDense;
  if (dense) {
    arcs.clear();
    for (int i = 0; i < na; ++i)
      for (int j = 0; j < nb; ++j) arcs.emplace_back(i, j);
  } else {
    std::sort(arcs.begin(), arcs.end());
    arcs.erase(std::unique(arcs.begin(), arcs.end()), arcs.end());
  }
  // Interleave rows (LEMON's "arc mixing"), so that each pricing block sees many nodes.
  const std::size_t m = arcs.size(), skip = std::max<std::size_t>(3, m / (na + nb));
  for (std::size_t s = 0; s < skip; ++s)
    for (std::size_t k = s; k < m; k += skip)
      ts.add_arc(arcs[k].first, arcs[k].second, cost(arcs[k].first, arcs[k].second));
  std::vector<std::pair<i64, int>> neg;
  std::vector<double> c(nb), pbd(nb);
  rounds = 0;
  for (;;) {
    ++rounds;
    ts.run();
    if (dense) break;
    // The sweep filters in floating point (vectorised) with a margin that covers the
    // rounding of potentials to double, and decides on the exact integers.
    double big = 1;
    for (int u = 0; u < na; ++u) big = std::max(big, std::fabs(static_cast<double>(ts.pa(u))));
    for (int j = 0; j < nb; ++j) pbd[j] = static_cast<double>(ts.pb(j)), big = std::max(big, std::fabs(pbd[j]));
    const double margin = 2 + std::ldexp(8.0, std::ilogb(big) - 52);
    std::size_t added = 0;
    for (int i = 0; i < na; ++i) {
      neg.clear();
      const i64 p = ts.pa(i);
      const double pd = static_cast<double>(p);
      cost.row(i, c.data());
      for (int j = 0; j < nb; ++j) c[j] += pd - pbd[j];
      for (int j = 0; j < nb; ++j) {
        if (c[j] >= margin) continue;
        const i64 rc = cost(i, j) + p - ts.pb(j);
        if (rc < 0) neg.emplace_back(rc, j);
      }
      if (neg.size() > static_cast<std::size_t>(kAdd)) {
        std::nth_element(neg.begin(), neg.begin() + (kAdd - 1), neg.end());
        neg.resize(kAdd);
      }
      for (auto& e : neg) ts.add_arc(i, e.second, e.first - p + ts.pb(e.second));
      added += neg.size();
    }
    if (added == 0) break;
  }
  return ts.flows();
}

// Costs between real points are doubles; the simplex gets them rounded to integers on a
// scale that keeps every potential (a sum of at most `nodes` costs, plus the big-M of
// about `nodes`·max cost) well inside int64. Each rounded cost is off by at most
// 2^-(bits+1)·cmax, so a plan optimal for the rounded costs costs at most 2^-bits·cmax
// (per unit mass) more than the true optimum; cmax bounds every pair's cost, and the
// reported value is the true cost of that plan (docs/transport.md).
struct PointCost {
  const double* a;  // row-major, n × d
  const double* b;
  int nb;
  int d;
  double scale;
  double exact(int i, int j) const {
    const double* x = a + static_cast<std::size_t>(i) * d;
    const double* y = b + static_cast<std::size_t>(j) * d;
    double s = 0;
    for (int k = 0; k < d; ++k) {
      const double t = x[k] - y[k];
      s += t * t;
    }
    return s;
  }
  i64 operator()(int i, int j) const { return static_cast<i64>(exact(i, j) * scale + 0.5); }
  void row(int i, double* out) const {
    for (int j = 0; j < nb; ++j) out[j] = exact(i, j) * scale;
  }
};

// Same for the plane, which is what gapscope mostly measures, with coordinates split
// into x and y arrays so that row() vectorises.
struct PointCost2 {
  const double *ax, *ay, *bx, *by;
  int nb;
  double scale;
  double exact(int i, int j) const {
    const double dx = ax[i] - bx[j], dy = ay[i] - by[j];
    return dx * dx + dy * dy;
  }
  i64 operator()(int i, int j) const { return static_cast<i64>(exact(i, j) * scale + 0.5); }
  void row(int i, double* out) const {
    const double x = ax[i], y = ay[i];
    for (int j = 0; j < nb; ++j) {
      const double dx = x - bx[j], dy = y - by[j];
      out[j] = (dx * dx + dy * dy) * scale;
    }
  }
};

struct Scale {
  double scale;  // integer cost = round(cost · scale)
  i64 cmax;      // bound on every integer cost
};

Scale cost_scale(const Points& a, const Points& b, std::size_t nodes) {
  double cmax = 0;
  for (int k = 0; k < a.d; ++k) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Points* p : {&a, &b})
      for (std::size_t i = 0; i < p->n(); ++i) {
        const double x = p->row(i)[k];
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    cmax += (hi - lo) * (hi - lo);
  }
  int lg = 0;
  while ((std::size_t{1} << lg) < nodes + 1) ++lg;
  // (nodes + 1)·2^bits ≤ 2^59 leaves a factor 16 for the sums in reduced costs.
  const int bits = std::min(52, 59 - lg);
  return {cmax > 0 ? std::ldexp(1.0, bits) / cmax : 1.0, (i64{1} << bits) + 1};
}

// Ground cost between grid cells in units of the node spacing squared: exact integers.
struct GridCost {
  const int *ax, *ay, *bx, *by;
  int nb;
  i64 operator()(int i, int j) const {
    const i64 dx = ax[i] - bx[j], dy = ay[i] - by[j];
    return dx * dx + dy * dy;
  }
  void row(int i, double* out) const {
    const int x = ax[i], y = ay[i];
    for (int j = 0; j < nb; ++j) {
      const double dx = x - bx[j], dy = y - by[j];
      out[j] = dx * dx + dy * dy;
    }
  }
};

std::vector<int> order_by_first_coordinate(const std::vector<double>& x, int d) {
  std::vector<int> o(x.size() / d);
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](int p, int q) { return x[p * d] < x[q * d]; });
  return o;
}

// Transport between point supports with integer masses of equal total; returns the
// cost per unit mass, filling the plan on request (indices into the given supports).
TransportResult solve_points(const std::vector<i64>& sa, const std::vector<double>& xa,
                             const std::vector<i64>& sb, const std::vector<double>& xb, int d, Scale sc,
                             bool want_plan, const std::vector<int>& ia, const std::vector<int>& ib) {
  TransportResult r;
  const i64 total = std::accumulate(sa.begin(), sa.end(), i64{0});
  const auto oa = order_by_first_coordinate(xa, d), ob = order_by_first_coordinate(xb, d);
  std::vector<Flow> flows;
  long double sum = 0;
  auto finish = [&](const auto& cost) {
    std::vector<std::pair<int, int>> arcs;
    if (sa.size() * sb.size() > kDense) {
      add_nearest(static_cast<int>(sa.size()), static_cast<int>(sb.size()), cost, arcs);
      add_northwest(sa, sb, oa, ob, arcs);
    }
    flows = solve(sa, sb, cost, sc.cmax, std::move(arcs), r.rounds);
    for (const Flow& f : flows) sum += static_cast<long double>(f.f) * cost.exact(f.i, f.j);
  };
  const int nb = static_cast<int>(sb.size());
  if (d == 2) {
    std::vector<double> ax, ay, bx, by;
    for (std::size_t i = 0; i < xa.size(); i += 2) ax.push_back(xa[i]), ay.push_back(xa[i + 1]);
    for (std::size_t j = 0; j < xb.size(); j += 2) bx.push_back(xb[j]), by.push_back(xb[j + 1]);
    finish(PointCost2{ax.data(), ay.data(), bx.data(), by.data(), nb, sc.scale});
  } else {
    finish(PointCost{xa.data(), xb.data(), nb, d, sc.scale});
  }
  r.cost = static_cast<double>(sum / total);
  r.w2 = std::sqrt(r.cost);
  if (want_plan) {
    r.plan.reserve(flows.size());
    for (const Flow& f : flows) r.plan.push_back({ia[f.i], ib[f.j], static_cast<double>(f.f) / total});
  }
  return r;
}

// Largest-remainder rounding of w/Σw to integers summing to exactly `total`, so both
// sides of the problem carry the same integer mass.
std::vector<i64> integer_masses(const std::vector<double>& w, i64 total) {
  long double s = 0;
  for (double x : w) s += x;
  std::vector<i64> q(w.size());
  std::vector<std::pair<long double, std::size_t>> rem;
  rem.reserve(w.size());
  i64 assigned = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    const long double x = static_cast<long double>(w[k]) / s * static_cast<long double>(total);
    const long double f = std::floor(x);
    q[k] = static_cast<i64>(f);
    assigned += q[k];
    if (w[k] > 0) rem.emplace_back(x - f, k);
  }
  i64 deficit = total - assigned;
  std::sort(rem.begin(), rem.end(), [](const auto& p, const auto& r) { return p.first > r.first; });
  for (std::size_t k = 0; deficit > 0; k = (k + 1) % rem.size(), --deficit) ++q[rem[k].second];
  for (std::size_t k = rem.size(); deficit < 0;) {  // only if floor() overshot by rounding
    k = (k == 0 ? rem.size() : k) - 1;
    if (q[rem[k].second] > 0) {
      --q[rem[k].second];
      ++deficit;
    }
  }
  return q;
}

// Keep the points with positive mass; returns coordinates as doubles and original indices.
void support(const Points& p, const std::vector<i64>& mass, std::vector<i64>& s, std::vector<double>& x,
             std::vector<int>& idx) {
  for (std::size_t i = 0; i < p.n(); ++i) {
    if (mass[i] <= 0) continue;
    s.push_back(mass[i]);
    idx.push_back(static_cast<int>(i));
    for (int k = 0; k < p.d; ++k) x.push_back(p.row(i)[k]);
  }
}

// ---- 1-D ---------------------------------------------------------------------------

// Both sorted; the k-th of n a-samples owns the quantile interval [k·m, (k+1)·m) in units
// of 1/(n·m), the l-th of m b-samples [l·n, (l+1)·n): integer overlaps, exact weights.
double w2sq_sorted(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = a.size(), m = b.size();
  if (n == m) {
    long double s = 0;
    for (std::size_t k = 0; k < n; ++k) s += static_cast<long double>(a[k] - b[k]) * (a[k] - b[k]);
    return static_cast<double>(s / n);
  }
  long double s = 0;
  std::size_t k = 0, l = 0;
  unsigned long long ea = m, eb = n, pos = 0;  // ends of the current intervals
  while (k < n && l < m) {
    const unsigned long long e = std::min(ea, eb);
    const double t = a[k] - b[l];
    s += static_cast<long double>(e - pos) * t * t;
    pos = e;
    if (ea == e) ea += m, ++k;
    if (eb == e) eb += n, ++l;
  }
  return static_cast<double>(s / (static_cast<long double>(n) * m));
}

// Weighted quantile coupling: masses normalised, x sorted ascending. Cumulative sums
// are clamped and end at exactly 1 on both sides, so rounding never strands mass.
double w2sq_weighted_sorted(const std::vector<std::pair<double, double>>& a,
                            const std::vector<std::pair<double, double>>& b) {
  auto cumulative = [](const std::vector<std::pair<double, double>>& x) {
    std::vector<double> c(x.size());
    long double s = 0;
    for (std::size_t k = 0; k < x.size(); ++k) c[k] = std::min(1.0, static_cast<double>(s += x[k].second));
    c.back() = 1.0;
    return c;
  };
  const std::vector<double> ca = cumulative(a), cb = cumulative(b);
  long double s = 0;
  double pos = 0;
  std::size_t k = 0, l = 0;
  while (k < a.size() && l < b.size()) {
    const double e = std::min(ca[k], cb[l]);
    if (e > pos) {
      const double t = a[k].first - b[l].first;
      s += static_cast<long double>(e - pos) * t * t;
      pos = e;
    }
    if (ca[k] <= e) ++k;
    if (cb[l] <= e) ++l;
  }
  return static_cast<double>(s);
}

std::vector<std::pair<double, double>> normalised_sorted(const std::vector<double>& x, const std::vector<double>& w) {
  long double total = 0;
  for (double v : w) total += v;
  std::vector<std::pair<double, double>> out;
  for (std::size_t k = 0; k < x.size(); ++k)
    if (w[k] > 0) out.emplace_back(x[k], static_cast<double>(w[k] / total));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ---- public API -----------------------------------------------------------------------

TransportResult emd(const std::vector<double>& wa, const Points& xa, const std::vector<double>& wb,
                    const Points& xb, bool want_plan) {
  check_pair(xa, xb, "emd");
  check_weights(wa, xa.n(), "emd", "a");
  check_weights(wb, xb.n(), "emd", "b");
  const i64 total = i64{1} << 53;
  const auto ma = integer_masses(wa, total), mb = integer_masses(wb, total);
  std::vector<i64> sa, sb;
  std::vector<double> pa, pb;
  std::vector<int> ia, ib;
  support(xa, ma, sa, pa, ia);
  support(xb, mb, sb, pb, ib);
  return solve_points(sa, pa, sb, pb, xa.d, cost_scale(xa, xb, sa.size() + sb.size()), want_plan, ia, ib);
}

double w2_exact(const Points& a, const Points& b) {
  check_pair(a, b, "w2_exact");
  if (a.d == 1) return w2_1d(a, b);
  const std::size_t na = a.n(), nb = b.n();
  if (std::max(na, nb) > static_cast<std::size_t>(std::numeric_limits<int>::max() / 2))
    throw std::invalid_argument("w2_exact: clouds too large for int indices");
  // Uniform weights as exact integers: n_b per a-point, n_a per b-point.
  const i64 g = static_cast<i64>(std::gcd(na, nb));
  std::vector<i64> ma(na, static_cast<i64>(nb) / g), mb(nb, static_cast<i64>(na) / g);
  std::vector<i64> sa, sb;
  std::vector<double> pa, pb;
  std::vector<int> ia, ib;
  support(a, ma, sa, pa, ia);
  support(b, mb, sb, pb, ib);
  return solve_points(sa, pa, sb, pb, a.d, cost_scale(a, b, na + nb), false, ia, ib).w2;
}

GridMetric GridMetric::named(const std::string& name) {
  if (name == "validation") return validation();
  if (name == "table") return table();
  throw std::invalid_argument("metric '" + name + "': expected table (the paper's published table: 64 nodes on [-3.5, "
                              "3.5]^2, nothing discarded) or validation (64 nodes on [-4, 4]^2, outside dropped)");
}

double w2_grid(const Points& a, const Points& b, GridMetric opts, GridStats* stats) {
  check_pair(a, b, "w2_grid");
  if (a.d != 1 && a.d != 2)
    throw std::invalid_argument("w2_grid: needs d = 1 or 2, got d = " + std::to_string(a.d));
  // 16384 keeps (cells + 1)·(largest cost) — the big-M and every potential — far below 2^63.
  if (opts.grid < 2 || opts.grid > 16384)
    throw std::invalid_argument("w2_grid: grid must be in [2, 16384] nodes per axis, got " +
                                std::to_string(opts.grid));
  if (!(opts.box > 0) || !std::isfinite(opts.box))
    throw std::invalid_argument("w2_grid: box half-width must be positive and finite");
  const int G = opts.grid, d = a.d;
  const double L = opts.box, h = 2 * L / (G - 1);

  auto bins = [&](const Points& p) {
    std::vector<int> out;
    out.reserve(p.n());
    for (std::size_t i = 0; i < p.n(); ++i) {
      const float* x = p.row(i);
      bool in = true;  // check_pair has rejected non-finite coordinates
      for (int k = 0; k < d; ++k) in = in && std::fabs(static_cast<double>(x[k])) <= L;
      if (!in && !opts.clamp) continue;
      int idx = 0;
      for (int k = d - 1; k >= 0; --k) {  // row-major: y·G + x, as POT's meshgrid ravel
        const double t = std::floor((static_cast<double>(x[k]) + L) / h + 0.5);
        const int c = std::clamp(static_cast<int>(t), 0, G - 1);
        idx = idx * G + c;
      }
      out.push_back(idx);
    }
    return out;
  };
  std::vector<int> ba = bins(a), bb = bins(b);
  if (ba.empty() || bb.empty())
    throw std::invalid_argument(std::string("w2_grid: cloud ") + (ba.empty() ? "a" : "b") +
                                " has no points inside the box [-" + std::to_string(L) + ", " + std::to_string(L) +
                                "]^" + std::to_string(d));
  // Equal total masses without dropping any in-box point: a point of a weighs n_b/g and a
  // point of b n_a/g (g = gcd), integers, so the solve stays exact. Truncating both clouds
  // to the first min(n_a, n_b) points instead would make the answer depend on their order.
  const std::size_t na = ba.size(), nb = bb.size(), g = std::gcd(na, nb);
  const i64 wa = static_cast<i64>(nb / g), wb = static_cast<i64>(na / g);
  const long double mass = static_cast<long double>(na) * static_cast<long double>(wa);
  const std::size_t cells = d == 1 ? G : static_cast<std::size_t>(G) * G;
  std::vector<i64> ha(cells, 0), hb(cells, 0);
  for (int c : ba) ha[c] += wa;
  for (int c : bb) hb[c] += wb;

  GridStats st;
  st.used_a = na;
  st.used_b = nb;
  st.used = std::min(na, nb);
  long double total = 0;  // Σ flow · (index distance)², an integer
  if (d == 1) {
    // The monotone coupling is optimal on the line: walk both histograms in order.
    std::size_t p = 0, q = 0;
    i64 ra = 0, rb = 0;
    for (std::size_t c = 0; c < cells; ++c) st.bins_a += ha[c] > 0, st.bins_b += hb[c] > 0;
    while (true) {
      while (ra == 0 && p < cells) ra = ha[p++];
      while (rb == 0 && q < cells) rb = hb[q++];
      if (ra == 0 || rb == 0) break;
      const i64 m = std::min(ra, rb);
      const i64 t = static_cast<i64>(p) - static_cast<i64>(q);
      total += static_cast<long double>(m) * (t * t);
      ra -= m;
      rb -= m;
    }
  } else {
    std::vector<i64> sa, sb;
    std::vector<int> xa, ya, xb, yb;
    for (std::size_t c = 0; c < cells; ++c) {
      const int cx = static_cast<int>(c % G), cy = static_cast<int>(c / G);
      if (ha[c] > 0) sa.push_back(ha[c]), xa.push_back(cx), ya.push_back(cy);
      if (hb[c] > 0) sb.push_back(hb[c]), xb.push_back(cx), yb.push_back(cy);
    }
    st.bins_a = sa.size();
    st.bins_b = sb.size();
    const GridCost cost{xa.data(), ya.data(), xb.data(), yb.data(), static_cast<int>(sb.size())};
    // First arcs: every pair of occupied cells within kGridRadius nodes of each other,
    // found through the cell table instead of a sweep over all pairs; cells left with
    // few partners (isolated tail cells) get their nearest ones by a sweep.
    std::vector<std::pair<int, int>> arcs;
    if (sa.size() * sb.size() > kDense) {
      std::vector<int> cell_b(cells, -1);
      for (std::size_t j = 0; j < sb.size(); ++j)
        cell_b[static_cast<std::size_t>(yb[j]) * G + xb[j]] = static_cast<int>(j);
      std::vector<int> deg_b(sb.size(), 0);
      const int R = kGridRadius;
      for (int i = 0; i < static_cast<int>(sa.size()); ++i) {
        int deg = 0;
        for (int dy = -R; dy <= R; ++dy) {
          const int y = ya[i] + dy;
          if (y < 0 || y >= G) continue;
          for (int dx = -R; dx <= R; ++dx) {
            const int x = xa[i] + dx;
            if (x < 0 || x >= G || dx * dx + dy * dy > R * R) continue;
            const int j = cell_b[static_cast<std::size_t>(y) * G + x];
            if (j < 0) continue;
            arcs.emplace_back(i, j);
            ++deg, ++deg_b[j];
          }
        }
        if (deg < kMinDegree) nearest_of_row(i, static_cast<int>(sb.size()), cost, arcs);
      }
      for (int j = 0; j < static_cast<int>(sb.size()); ++j)
        if (deg_b[j] < kMinDegree) nearest_of_col(j, static_cast<int>(sa.size()), cost, arcs);
      // Cells are in row-major order, a fine north-west order.
      std::vector<int> oa(sa.size()), ob(sb.size());
      std::iota(oa.begin(), oa.end(), 0);
      std::iota(ob.begin(), ob.end(), 0);
      add_northwest(sa, sb, oa, ob, arcs);
    }
    int rounds = 0;
    for (const Flow& f : solve(sa, sb, cost, i64{2} * (G - 1) * (G - 1), std::move(arcs), rounds))
      total += static_cast<long double>(f.f) * cost(f.i, f.j);
  }
  if (stats) *stats = st;
  return std::sqrt(static_cast<double>(total / mass) * h * h);
}

double w2_1d(std::vector<double> a, std::vector<double> b) {
  check_values(a, "w2_1d", "a");
  check_values(b, "w2_1d", "b");
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return std::sqrt(w2sq_sorted(a, b));
}

double w2_1d(const Points& a, const Points& b) {
  check_pair(a, b, "w2_1d");
  if (a.d != 1) throw std::invalid_argument("w2_1d: needs d = 1, got d = " + std::to_string(a.d));
  return w2_1d(std::vector<double>(a.v.begin(), a.v.end()), std::vector<double>(b.v.begin(), b.v.end()));
}

double w2_1d(const std::vector<double>& xa, const std::vector<double>& wa, const std::vector<double>& xb,
             const std::vector<double>& wb) {
  check_values(xa, "w2_1d", "a");
  check_values(xb, "w2_1d", "b");
  check_weights(wa, xa.size(), "w2_1d", "a");
  check_weights(wb, xb.size(), "w2_1d", "b");
  return std::sqrt(w2sq_weighted_sorted(normalised_sorted(xa, wa), normalised_sorted(xb, wb)));
}

double w2_sliced(const Points& a, const Points& b, int directions, std::uint64_t seed) {
  check_pair(a, b, "w2_sliced");
  if (directions < 1)
    throw std::invalid_argument("w2_sliced: directions must be >= 1, got " + std::to_string(directions));
  const int d = a.d;
  std::uint64_t s = seed;
  std::vector<double> theta(d), pa(a.n()), pb(b.n());
  long double acc = 0;
  for (int r = 0; r < directions; ++r) {
    double norm = 0;
    do {
      norm = 0;
      for (int k = 0; k < d; k += 2) {  // Box–Muller gives normals in pairs
        double a, b;
        normal_pair(s, a, b);
        theta[k] = a;
        if (k + 1 < d) theta[k + 1] = b;
      }
      for (double t : theta) norm += t * t;
    } while (!(norm > 1e-300));
    norm = std::sqrt(norm);
    for (double& t : theta) t /= norm;
    auto project = [&](const Points& p, std::vector<double>& out) {
      for (std::size_t i = 0; i < p.n(); ++i) {
        double x = 0;
        for (int k = 0; k < d; ++k) x += theta[k] * p.row(i)[k];
        out[i] = x;
      }
      std::sort(out.begin(), out.end());
    };
    project(a, pa);
    project(b, pb);
    acc += w2sq_sorted(pa, pb);
  }
  return std::sqrt(static_cast<double>(acc / directions));
}

}  // namespace gapscope

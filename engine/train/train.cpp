#include "train/train.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/normals.h"
#include "core/rng.h"
#include "kernels/denormals.h"
#include "kernels/fused_potential.h"
#include "nn/loss.h"
#include "nn/residual.h"
#include "sample/residual_field.h"
#include "train/train_state.h"

namespace gapscope {
namespace {

torch::Device parse_device(const std::string& name) {
  try {
    return torch::Device(name);
  } catch (const std::exception&) {
    throw std::invalid_argument("key 'device' = \"" + name + "\": expected cpu or cuda[:N]");
  }
}

torch::Tensor host_tensor(std::vector<float>& v, int64_t rows, int64_t cols, const torch::Device& dev) {
  return torch::from_blob(v.data(), {rows, cols}, torch::kFloat).to(dev, /*non_blocking=*/false, /*copy=*/true);
}

// A batch is drawn in chunks of kBatchChunk points, each from its own engine seeded with
// (this draw's key, the chunk): the chunks run on all threads and the numbers depend on
// the trainer's engine alone (one key per draw), not on the thread count. Drawn serially
// from one engine, the batches took 3.1 ms of the 15-27 ms paper-sized steps (bench_train's
// three training rows, timed apart) while the other thread waited. f(engine, i0, i1)
// fills the points [i0, i1).
constexpr std::size_t kBatchChunk = 2048;
template <class F>
void draw_chunks(std::size_t n, std::mt19937_64& rng, F&& f) {
  if (n == 0) return;
  const uint64_t key = rng();
  const int64_t chunks = static_cast<int64_t>((n + kBatchChunk - 1) / kBatchChunk);
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      uint64_t state = key ^ static_cast<uint64_t>(c) * 0x9e3779b97f4a7c15ULL;
      std::mt19937_64 eng(splitmix64(state));
      const std::size_t i0 = static_cast<std::size_t>(c) * kBatchChunk;
      f(eng, i0, std::min(n, i0 + kBatchChunk));
    }
  });
}

// n points of the data set into rows [i0, i0 + n) of `to`.
void sample_into(const Dataset& data, std::size_t i0, std::size_t n, std::mt19937_64& eng, Points& to) {
  const Points part = data.sample(n, eng);
  std::copy(part.v.begin(), part.v.end(), to.v.begin() + static_cast<std::ptrdiff_t>(i0 * to.d));
}

}  // namespace

Trainer::Impl::Impl(const Config& c)
    : cfg(c), sde(Sde::from_config(c)), data(c), net(ModelSpec::from_config(c), parse_device(c.device)), rng(c.seed) {
  if (net.device().is_cuda() && !torch::cuda::is_available())
    throw std::invalid_argument("key 'device' = \"" + c.device + "\": this LibTorch build has no CUDA device");
  net.init(c.seed);
  stages = c.lr_stages();
  last_lambda = c.lambda;
  fresh_adam(stages.front().lr);
}

void Trainer::Impl::set_lr(double lr) {
  for (auto& g : opt->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

void Trainer::Impl::fresh_adam(double lr) {
  opt = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(lr));
}

// ---- Trainer ---------------------------------------------------------------------

Trainer::Trainer(const Config& c) : impl_(std::make_unique<Impl>(c)) {
  knobs_.lambda = c.lambda;
  knobs_.lr = impl_->stages.front().lr;
  publish();
}

void Trainer::set_lambda_schedule(LambdaSchedule sched) {
  std::lock_guard<std::mutex> guard(step_m_);
  std::stable_sort(sched.begin(), sched.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  lambda_schedule_ = std::move(sched);
  schedule_next_ = 0;
}

Trainer::~Trainer() { stop(); }

const Config& Trainer::config() const { return impl_->cfg; }

void Trainer::publish() {
  auto s = std::make_shared<WeightSnapshot>(impl_->net.snapshot());
  s->iteration = iteration_.load();
  s->version = ++version_;
  std::lock_guard<std::mutex> l(snap_m_);
  snap_ = std::move(s);
}

SnapshotPtr Trainer::snapshot() const {
  std::lock_guard<std::mutex> l(snap_m_);
  return snap_;
}

TrainRow Trainer::step() {
  std::lock_guard<std::mutex> guard(step_m_);
  auto t0 = std::chrono::steady_clock::now();
  Impl& s = *impl_;
  const Config& c = s.cfg;
  const int d = s.data.dim();
  const auto dev = s.net.device();
  const int64_t it = iteration_.load();
  // The λ schedule and the lr stages write the knobs before they are read.
  while (schedule_next_ < lambda_schedule_.size() && lambda_schedule_[schedule_next_].first <= it)
    knobs_.lambda = lambda_schedule_[schedule_next_++].second;
  const std::size_t stage = Config::lr_stage_at(s.stages, it);
  if (stage != s.stage) {
    // The paper restarts Adam at each stage of its schedule.
    s.stage = stage;
    knobs_.lr = s.stages[stage].lr;
    s.fresh_adam(s.stages[stage].lr);
  }
  // Knobs are read once, here: a change from another thread lands on the next iteration.
  const double lambda = knobs_.lambda.load(std::memory_order_relaxed);
  const double lr = knobs_.lr.load(std::memory_order_relaxed);
  if (lambda != s.last_lambda && c.lambda_change == "reset_adam") s.fresh_adam(lr);
  s.last_lambda = lambda;
  s.set_lr(lr);

  using U = std::uniform_real_distribution<double>;

  // Denoising score matching batch: t = eps + T * Beta(1, 2) (inverse CDF of Beta(1,2) is 1 - sqrt(1-u)).
  const std::size_t ndsm = static_cast<std::size_t>(c.batch_dsm);
  Points x0(d, ndsm);
  std::vector<float> tv(ndsm), zv(ndsm * d);
  draw_chunks(ndsm, s.rng, [&](std::mt19937_64& eng, std::size_t i0, std::size_t i1) {
    sample_into(s.data, i0, i1 - i0, eng, x0);
    U u(0.0, 1.0);
    for (std::size_t i = i0; i < i1; ++i) tv[i] = static_cast<float>(c.eps + c.T * (1.0 - std::sqrt(1.0 - u(eng))));
    standard_normals(zv.data() + i0 * d, (i1 - i0) * d, eng());
  });

  // Collocation points uniform in box x [eps, T]; boundary points on each face of the box.
  // Each set is drawn only when its term has weight, so a term weighted by 0 costs nothing.
  const double wb = c.boundary_weight;
  const int nc = lambda > 0 ? c.batch_collocation : 0, faces = 2 * d;
  const int64_t nb = wb > 0 ? static_cast<int64_t>(c.batch_boundary) * faces : 0;
  std::vector<float> tc(nc), xc(static_cast<std::size_t>(nc) * d), tb(nb), xb(nb * d);
  const bool forward = c.collocation == "forward";
  Points y0(d, forward ? nc : 0);
  draw_chunks(static_cast<std::size_t>(nc), s.rng, [&](std::mt19937_64& eng, std::size_t i0, std::size_t i1) {
    U u(0.0, 1.0);
    for (std::size_t r = i0; r < i1; ++r) tc[r] = static_cast<float>(c.eps + (c.T - c.eps) * u(eng));
    if (!forward) {
      for (std::size_t i = i0 * d; i < i1 * d; ++i) xc[i] = static_cast<float>(c.box * (2 * u(eng) - 1));
      return;
    }
    sample_into(s.data, i0, i1 - i0, eng, y0);
    standard_normals(xc.data() + i0 * d, (i1 - i0) * d, eng());  // z, then x = m y0 + sd z in place
    for (std::size_t r = i0; r < i1; ++r) {
      const double m = s.sde.mean_coef(tc[r]), sd = s.sde.marginal_std(tc[r]);
      for (int k = 0; k < d; ++k) xc[r * d + k] = static_cast<float>(m * y0.v[r * d + k] + sd * xc[r * d + k]);
    }
  });
  // Face f = 2k + side holds coordinate k at -box or +box.
  draw_chunks(static_cast<std::size_t>(nb), s.rng, [&](std::mt19937_64& eng, std::size_t i0, std::size_t i1) {
    U u(0.0, 1.0);
    for (std::size_t r = i0; r < i1; ++r) {
      const int f = static_cast<int>(r / static_cast<std::size_t>(c.batch_boundary));
      for (int k = 0; k < d; ++k) xb[r * d + k] = static_cast<float>(c.box * (2 * u(eng) - 1));
      xb[r * d + f / 2] = static_cast<float>(f % 2 ? c.box : -c.box);
      tb[r] = static_cast<float>(c.eps + (c.T - c.eps) * u(eng));
    }
  });

  TrainRow row;
  if (s.net.fused()) {
    // A float network on the CPU: loss and gradient in one fused pass (kernels/fused_potential.h).
    DsmBatch db;
    db.n = c.batch_dsm, db.t = tv.data(), db.x0 = x0.v.data(), db.z = zv.data();
    FpBatch fb;
    fb.n = nc, fb.t = tc.data(), fb.x = xc.data(), fb.nb = nb, fb.tb = tb.data(), fb.xb = xb.data();
    const LossWeights lw{lambda, wb};
    auto parts = s.net.spec().potential ? potential_loss_grad(s.net.fused_weights(), s.sde, db, &fb, lw, s.grad)
                                        : score_model_loss_grad(s.net.fused_weights(), s.sde, db, &fb, lw, s.grad);
    auto params = s.net.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& g = params[i].mutable_grad();
      if (!g.defined()) g = torch::zeros_like(params[i]);
      std::copy(s.grad[i].begin(), s.grad[i].end(), g.data_ptr<float>());
    }
    row.dsm = parts.dsm, row.fp = parts.fp, row.bc = parts.bc;
    row.loss = parts.dsm + lambda * parts.fp + wb * parts.bc;
    // The loss sums in double, the gradient is float: a term can overflow in the gradient
    // alone. Adam would turn that into NaN weights, so it counts as divergence, before the step.
    for (const auto& g : s.grad)
      for (float v : g)
        if (!std::isfinite(v)) row.loss = INFINITY;
  } else {
    s.opt->zero_grad();
    auto dsm = dsm_loss(s.net, s.sde, host_tensor(x0.v, c.batch_dsm, d, dev), host_tensor(tv, c.batch_dsm, 1, dev),
                        host_tensor(zv, c.batch_dsm, d, dev));
    auto loss = dsm;
    if (nc > 0 || nb > 0) {
      auto fp = fp_loss(s.net, s.sde, host_tensor(tc, nc, 1, dev), host_tensor(xc, nc, d, dev),
                        host_tensor(tb, nb, 1, dev), host_tensor(xb, nb, d, dev));
      loss = loss + lambda * fp.residual + wb * fp.boundary;
      row.fp = fp.residual.item<double>();
      row.bc = fp.boundary.item<double>();
    }
    loss.backward();
    row.dsm = dsm.item<double>();
    row.loss = loss.item<double>();
  }
  if (std::isfinite(row.loss)) s.opt->step();

  s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  row.iteration = ++iteration_;
  row.lambda = lambda;
  row.lr = lr;
  row.seconds = s.seconds;
  if (!std::isfinite(row.loss))
    throw std::runtime_error("training diverged at iteration " + std::to_string(row.iteration) +
                             " (loss or gradient is not finite); lower lr or lambda");
  publish();
  if (c.residual_stats_every > 0 && row.iteration % c.residual_stats_every == 0) {
    // Fixed evaluation points (their own seed): the stats never touch the training RNG.
    auto st = residual_stats(*snapshot(), s.sde, c.box, 2048, kResidualSlices);
    row.res_mean_sq = st.mean_sq;
    row.res_mean_abs = st.mean_abs;
    row.res_max_abs = st.max_abs;
    row.res_slice_abs = st.slice_mean_abs;
  }
  history_.append(row);
  return row;
}

void Trainer::run(int64_t until, const ProgressFn& progress, int every) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t first = iteration();
  TrainRow last;
  auto report = [&] {
    if (!progress) return;
    Progress p;
    p.row = last;
    p.target = until;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t done = iteration() - first;
    p.it_per_s = el > 0 ? done / el : 0;
    p.eta_s = p.it_per_s > 0 ? (until - iteration()) / p.it_per_s : 0;
    progress(p);
  };
  while (iteration() < until && !knobs_.stop.load()) {
    if (knobs_.paused.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    last = step();
    if (every > 0 && last.iteration % every == 0) report();
  }
  if (iteration() > first && (every <= 0 || last.iteration % every != 0)) report();  // the end, once
}

void Trainer::start(int64_t until, ProgressFn progress, int every) {
  stop();
  knobs_.stop = false;
  running_ = true;
  thread_ = std::thread([this, until, progress = std::move(progress), every] {
    flush_denormals_this_thread();
    try {
      run(until, progress, every);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> l(err_m_);
      last_error_ = e.what();
    }
    running_ = false;
  });
}

std::string Trainer::last_error() const {
  std::lock_guard<std::mutex> l(err_m_);
  return last_error_;
}

void Trainer::stop() {
  knobs_.stop = true;
  if (thread_.joinable()) thread_.join();
  knobs_.stop = false;
}

}  // namespace gapscope

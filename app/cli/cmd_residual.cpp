// gapscope-cli residual --checkpoint DIR [--t T] [--x2 X] [--slice xt|xx] [--grid N | --grid NX,NY]
//                       [--range L] --out FILE.csv
// Evaluates the Fokker-Planck residual of a trained model on a grid (math.md §2) and
// prints its summary statistics over the collocation box.
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/sde.h"
#include "sample/residual_field.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct ResidualArgs {
  std::string checkpoint, out, slice = "xx", grid = "64";
  double t = 1.0, x2 = 0.0, range = -1;
  int threads = 2;
};

void parse_grid(const std::string& g, int& nx, int& ny) {
  auto comma = g.find(',');
  try {
    std::size_t used = 0;
    if (comma == std::string::npos) {
      nx = ny = std::stoi(g, &used);
      if (used != g.size()) throw std::invalid_argument("");
    } else {
      nx = std::stoi(g.substr(0, comma), &used);
      ny = std::stoi(g.substr(comma + 1));
    }
  } catch (const std::exception&) {
    throw std::invalid_argument("--grid '" + g + "': expected N or NX,NY");
  }
  if (nx < 2 || ny < 2 || nx > 4096 || ny > 4096) throw std::invalid_argument("--grid '" + g + "': each side in [2, 4096]");
}

void run_residual(const ResidualArgs& a) {
  at::set_num_threads(a.threads);
  auto tr = Trainer::load(a.checkpoint);
  const Config& c = tr->config();
  const Sde sde = Sde::from_config(c);
  auto snap = tr->snapshot();
  FieldRequest q;
  q.slice = a.slice == "xt" ? FieldSlice::XT : FieldSlice::XX;
  parse_grid(a.grid, q.nx, q.ny);
  q.range = a.range > 0 ? a.range : c.box;
  q.t = a.t;
  q.x2 = a.x2;
  if (!(a.t >= sde.eps && a.t <= sde.T))
    throw std::invalid_argument("--t " + std::to_string(a.t) + ": must lie in [eps, T] = [" + std::to_string(sde.eps) +
                                ", " + std::to_string(sde.T) + "]");
  auto f = residual_field(*snap, sde, q);

  std::ostringstream out;
  const int d = snap->spec.d;
  const bool xt = f.y_label == "t";
  // Columns: t, then the x coordinates, then R (score model: R = |r|, and absr = |r|).
  out << "t";
  if (d == 1) out << ",x";
  else out << ",x1,x2";
  out << ",R" << (f.potential ? "" : ",absr") << "\n";
  out.precision(9);
  for (int iy = 0; iy < f.ny; ++iy)
    for (int ix = 0; ix < f.nx; ++ix) {
      const double v = f.values[static_cast<std::size_t>(iy) * f.nx + ix];
      const double t = xt ? f.y_at(iy) : q.t;
      out << t << ',' << f.x_at(ix);
      if (d >= 2) out << ',' << (xt ? q.x2 : f.y_at(iy));
      out << ',' << v;
      if (!f.potential) out << ',' << v;
      out << "\n";
    }
  write_file_atomically(a.out, out.str());

  auto st = residual_stats(*snap, sde, c.box, 8192, 10);
  const char* sq = f.potential ? "R^2" : "|r|^2";
  const char* ab = f.potential ? "|R|" : "|r|";
  std::printf("residual of %s model at iteration %lld over [-%g, %g]^%d x [%g, %g] (8192 points):\n",
              f.potential ? "potential" : "score", static_cast<long long>(snap->iteration), c.box, c.box, d, sde.eps,
              sde.T);
  std::printf("  mean %s = %.6g   mean %s = %.6g   max %s = %.6g\n", sq, st.mean_sq, ab, st.mean_abs, ab, st.max_abs);
  std::printf("  mean %s per t slice:", ab);
  for (std::size_t k = 0; k < st.slice_t.size(); ++k) std::printf(" t=%.3g:%.4g", st.slice_t[k], st.slice_mean_abs[k]);
  std::printf("\n  grid %dx%d (%s, %s) -> %s\n", f.nx, f.ny, f.x_label.c_str(), f.y_label.c_str(), a.out.c_str());
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<ResidualArgs>();
  auto* c = root.add_subcommand("residual", "Fokker-Planck residual of a trained model on a grid, with summary stats");
  c->add_option("--checkpoint", a->checkpoint, "checkpoint directory")->required();
  c->add_option("--t", a->t, "time of the (x1, x2) slice (default 1)");
  c->add_option("--x2", a->x2, "second coordinate of the (x1, t) slice (default 0)");
  c->add_option("--slice", a->slice, "xx: (x1, x2) at --t; xt: (x1, t) at --x2 (d = 1 is always x, t)")
      ->check(CLI::IsMember({"xx", "xt"}));
  c->add_option("--grid", a->grid, "N or NX,NY grid nodes (default 64)");
  c->add_option("--range", a->range, "x axes span [-L, L] (default: the config's box)")->check(CLI::PositiveNumber);
  c->add_option("--threads", a->threads, "CPU threads for LibTorch")->check(CLI::Range(1, 256));
  c->add_option("--out", a->out, "output CSV")->required();
  c->callback([a] { run_residual(*a); });
});

}  // namespace
}  // namespace gapscope::cli

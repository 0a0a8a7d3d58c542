#include "study/sweep_steps.h"

#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "core/config.h"
#include "sample/sample.h"
#include "study/output_file.h"
#include "style/format.h"
#include "style/palette.h"

namespace gapscope {

std::vector<int> parse_step_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string tok; std::getline(in, tok, ',');) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != tok.size() || v < 1)
      throw std::invalid_argument("--steps '" + s + "': expected positive integers separated by commas, e.g. 25,50,100");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--steps '': expected positive integers separated by commas");
  return out;
}

std::vector<SweepRow> sweep_steps(const SnapshotPtr& w, const Config& c, const SweepOptions& o,
                                  const SweepProgressFn& progress) {
  Config cfg = c;
  if (!o.method.empty()) {
    parse_ode_scheme(o.method);  // rejects a bad name in one line before any sampling
    cfg.ode_method = o.method;
  }
  std::vector<SweepRow> rows;
  for (std::size_t i = 0; i < o.steps.size(); ++i) {
    EvalOptions e;
    e.n = o.n;
    e.steps = o.steps[i];
    e.refine = o.refine;
    e.seed = o.seed;  // the same prior draws at every N
    e.grid = o.metric.grid, e.box = o.metric.box, e.clamp = o.metric.clamp;
    e.exact_n = 0;
    e.residual_points = 0;
    const EvalResult r = evaluate(w, cfg, e);
    SweepRow row;
    row.steps = o.steps[i];
    row.w2 = r.grid;
    row.inside_ode = 1 - r.outside.ode, row.inside_sde = 1 - r.outside.sde;
    row.nfe_ode = r.nfe_ode, row.nfe_sde = r.nfe_sde;
    row.seconds = r.seconds.total;
    rows.push_back(row);
    if (progress) progress(row, i, o.steps.size());
  }
  return rows;
}

std::string sweep_csv(const std::vector<SweepRow>& rows) {
  std::string out = "steps,w2_ode_sde,w2_ode_data,w2_sde_data,inside_ode,inside_sde,nfe_ode,nfe_sde\n";
  char buf[256];
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%zu,%zu\n", r.steps, r.w2.ode_sde, r.w2.ode_data,
                  r.w2.sde_data, r.inside_ode, r.inside_sde, r.nfe_ode, r.nfe_sde);
    out += buf;
  }
  return out;
}

fig::Figure sweep_figure(const std::vector<SweepRow>& rows, const std::string& title, const std::string& metric) {
  fig::Figure f;
  f.title = title;
  f.panel_width = 220, f.panel_height = 150;
  fig::Panel p;
  p.title = "W2 against the step count";
  p.x = {"steps N", fig::Scale::Log, NAN, NAN, true};
  p.y = {"W2", fig::Scale::Log, NAN, NAN, true};
  auto line = [&](const char* name, double W2Triple::*m, style::Color col) {
    fig::Line l;
    l.name = name, l.color = col, l.markers = true;
    for (const auto& r : rows) l.x.push_back(r.steps), l.y.push_back(r.w2.*m);
    p.lines.push_back(std::move(l));
  };
  line("W2(ODE, SDE)", &W2Triple::ode_sde, style::palette::kGap);
  line("W2(ODE, data)", &W2Triple::ode_data, style::palette::kOde);
  line("W2(SDE, data)", &W2Triple::sde_data, style::palette::kSde);
  p.legend = fig::Legend::Right;
  f.panels.push_back(std::move(p));
  std::string nfe;
  for (const auto& r : rows)
    nfe += (nfe.empty() ? "" : ", ") + std::to_string(r.steps) + ": " + std::to_string(r.nfe_ode) + "/" +
           std::to_string(r.nfe_sde);
  f.notes.push_back("metric: " + metric + "; the same prior draws at every N");
  f.notes.push_back("network evaluations per particle, ODE/SDE: " + nfe);
  return f;
}

void write_sweep(const std::vector<SweepRow>& rows, const std::string& path, const std::string& title,
                 const std::string& metric) {
  write_csv_or_figure(path, [&] { return sweep_csv(rows); }, [&] { return sweep_figure(rows, title, metric); });
}

}  // namespace gapscope

#include "exports.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "io/figure.h"
#include "plot_data.h"
#include "study/density_figure.h"
#include "study/residual_history.h"
#include "style/palette.h"

namespace gapscope::gui {
namespace fs = std::filesystem;

namespace {

// The lab's plot description as a figure panel: the same series and axes as on screen.
fig::Panel to_panel(const std::string& title, const std::vector<Series>& series, const PlotSpec& spec) {
  fig::Panel p;
  p.title = title;
  p.x.label = spec.x_label;
  p.y.label = spec.y_label;
  p.y.scale = spec.log_y ? fig::Scale::Log : fig::Scale::Linear;
  p.x.min = spec.x_from_zero ? 0.0 : spec.x_min;
  p.x.max = spec.x_max;
  p.y.min = spec.y_min;
  p.y.max = spec.y_max;
  p.x.grid = p.y.grid = true;
  for (const auto& s : series) {
    fig::Line l;
    l.name = s.label;
    l.x = s.x;
    l.y = s.y;
    l.color = s.color;
    l.width = s.line ? s.thickness : 0;
    l.markers = s.markers;
    p.lines.push_back(std::move(l));
  }
  for (const auto& m : spec.marks) p.marks.push_back({m.x, m.label});
  return p;
}

const Pass& pass_with_particles(const ExportInput& in) {
  if (!in.pass || in.pass->ode.empty()) throw std::runtime_error("no particles yet");
  return *in.pass;
}

std::string join(const std::string& dir, const char* file) { return (fs::path(dir) / file).string(); }

}  // namespace

std::string export_name(Figure what) {
  return what == Figure::W2 ? "w2" : what == Figure::Losses ? "losses" : "particles";
}

std::string export_name(Table what) { return what == Table::History ? "history" : "particles"; }

std::string write_figure(const std::string& dir, Figure what, const ExportInput& in) {
  make_directories(dir);
  const std::vector<W2Row> none;
  const std::vector<W2Row>& w2 = in.w2 ? *in.w2 : none;
  fig::Figure f;
  if (what == Figure::W2 || what == Figure::Losses) {
    f.panel_width = 420, f.panel_height = 240;
    f.panels.push_back(what == Figure::W2 ? to_panel("W2 gap", w2_series(w2), w2_plot_spec(in.rows, in.w2_log))
                                          : to_panel("losses", loss_series(in.rows), loss_plot_spec(in.rows, in.loss_log)));
  } else {
    const Pass& p = pass_with_particles(in);
    const std::size_t k = p.ode.size() - 1;
    f.panel_width = f.panel_height = 300;
    fig::Panel panel;
    panel.title = "final particles, weights of iteration " + std::to_string(p.iteration);
    panel.x.min = in.x0, panel.x.max = in.x1, panel.y.min = in.y0, panel.y.max = in.y1;
    namespace pal = style::palette;
    const std::pair<const char*, const Points*> clouds[] = {{"data", p.data.get()}, {"ODE", p.ode[k].get()},
                                                            {"SDE", p.sde[k].get()}};
    const style::Color colors[] = {pal::kData, pal::kOde, pal::kSde};
    for (int c = 0; c < 3; ++c) {
      fig::Cloud cl;
      cl.name = clouds[c].first;
      cl.points = clouds[c].second;
      cl.color = colors[c];
      panel.clouds.push_back(std::move(cl));
    }
    f.panels.push_back(std::move(panel));
  }
  // One description, three files.
  const std::string base = (fs::path(dir) / export_name(what)).string();
  for (const char* ext : {".png", ".svg", ".pdf"}) fig::write_figure(f, base + ext);
  return "wrote " + base + ".png, .svg and .pdf";
}

std::string write_table(const std::string& dir, Table what, const ExportInput& in) {
  make_directories(dir);
  if (what == Table::History) {
    History h;
    h.assign(in.rows);
    h.write_csv(join(dir, "history.csv"));
    write_w2_csv(join(dir, "w2.csv"), in.w2 ? *in.w2 : std::vector<W2Row>{});
    return "wrote " + join(dir, "history.csv") + " and w2.csv";
  }
  const Pass& p = pass_with_particles(in);
  const std::size_t k = p.ode.size() - 1;
  write_points_csv(join(dir, "ode.csv"), *p.ode[k]);
  write_points_csv(join(dir, "sde.csv"), *p.sde[k]);
  write_points_csv(join(dir, "data.csv"), *p.data);
  return "wrote " + join(dir, "{ode,sde,data}.csv") + " (pass with the weights of iteration " +
         std::to_string(p.iteration) + ")";
}

std::string write_density_files(const std::string& dir, const DensityGrid& g, const std::string& title) {
  std::filesystem::create_directories(dir);
  for (const char* ext : {".csv", ".png", ".svg", ".pdf"}) write_density(g, dir + "/density" + ext, title);
  return "wrote " + dir + "/density.{csv,png,svg,pdf}";
}

std::string write_sweep_files(const std::string& dir, const std::vector<SweepRow>& rows, const std::string& title) {
  std::filesystem::create_directories(dir);
  W2Spec spec;  // the sweep's metric: the paper's validation grid
  for (const char* ext : {".csv", ".png", ".svg", ".pdf"})
    write_sweep(rows, dir + "/sweep" + ext, title, w2_metric_label(spec));
  return "wrote " + dir + "/sweep.{csv,png,svg,pdf}";
}

std::string write_gap_files(const std::string& dir, const std::vector<ResidualGapPoint>& points,
                            const std::vector<TrainRow>& rows, const Config& cfg, const std::string& title) {
  std::filesystem::create_directories(dir);
  const std::string csv = dir + "/residual_gap.csv";
  append_residual_gap_csv(csv, points);
  const auto all = read_residual_gap_csv(csv);
  const fig::Figure g = residual_gap_figure(
      all, "Residual against the ODE\u2013SDE gap: the lab",
      {"Lab passes (" + std::to_string(all.size()) + " points in " + csv +
       "): W\u2082 of each finished pass's final clouds by the lab's metric; residual over 2048 fixed collocation points."});
  for (const char* ext : {".png", ".svg", ".pdf"}) fig::write_figure(g, dir + "/residual_gap" + ext);
  const ResidualHistory h = residual_history(rows, cfg.eps, cfg.T);
  write_file_atomically(dir + "/residual_history.csv", residual_history_csv(h));
  const fig::Figure hf = residual_history_figure(h, title);
  for (const char* ext : {".png", ".svg", ".pdf"}) fig::write_figure(hf, dir + "/residual_history" + ext);
  return "wrote " + dir + "/residual_gap.{csv,png,svg,pdf} (" + std::to_string(all.size()) + " points) and " +
         "residual_history.{csv,png,svg,pdf}";
}

void write_w2_csv(const std::string& path, const std::vector<W2Row>& rows) {
  std::ostringstream o;
  o << "iteration,w2_ode_sde,w2_ode_data,w2_sde_data,lambda,ms,outside_ode,outside_sde\n";
  o.precision(10);
  for (const auto& r : rows)
    o << r.iteration << ',' << r.ode_sde << ',' << r.ode_data << ',' << r.sde_data << ',' << r.lambda << ',' << r.ms
      << ',' << r.outside_ode << ',' << r.outside_sde << '\n';
  write_file_atomically(path, o.str());
}

std::vector<W2Row> read_w2_csv(const std::string& path) {
  std::vector<W2Row> rows;
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return rows;
  while (std::getline(f, line)) {
    W2Row r;
    long long it = 0;
    if (std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &it, &r.ode_sde, &r.ode_data, &r.sde_data,
                    &r.lambda, &r.ms, &r.outside_ode, &r.outside_sde) >= 4) {
      r.iteration = it;
      rows.push_back(r);
    }
  }
  return rows;
}

}  // namespace gapscope::gui

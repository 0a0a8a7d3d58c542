#include "exports.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "io/export.h"
#include "plot_data.h"
#include "style/palette.h"

namespace gapscope::gui {
namespace fs = std::filesystem;

namespace {

std::string svg_rgb(style::Color c) { return svg_color(Rgba{c.r, c.g, c.b, 255}); }

// The lab's plot as the engine's SVG line plot.
LinePlot to_svg_plot(const std::string& title, const std::vector<Series>& series, const PlotSpec& spec) {
  LinePlot p;
  p.title = title;
  p.xlabel = spec.x_label;
  p.ylabel = spec.y_label;
  p.log_y = spec.log_y;
  for (const auto& s : series) {
    gapscope::Series e;
    e.name = s.label;
    e.x = s.x;
    e.y = s.y;
    e.markers = s.markers;
    e.color = svg_rgb(s.color);
    p.series.push_back(std::move(e));
  }
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
  fs::create_directories(dir);
  const std::vector<W2Row> none;
  const std::vector<W2Row>& w2 = in.w2 ? *in.w2 : none;
  if (what == Figure::W2) {
    const std::string path = join(dir, "w2.svg");
    write_file_atomically(path, to_svg_plot("W2 gap", w2_series(w2), w2_plot_spec(in.rows, in.w2_log)).svg(800, 480));
    return "wrote " + path;
  }
  if (what == Figure::Losses) {
    const std::string path = join(dir, "losses.svg");
    write_file_atomically(path,
                          to_svg_plot("losses", loss_series(in.rows), loss_plot_spec(in.rows, in.loss_log)).svg(800, 480));
    return "wrote " + path;
  }
  const Pass& p = pass_with_particles(in);
  const std::size_t k = p.ode.size() - 1;
  ScatterPlot sp;
  sp.title = "final particles, weights of iteration " + std::to_string(p.iteration);
  sp.x0 = in.x0, sp.x1 = in.x1, sp.y0 = in.y0, sp.y1 = in.y1;
  namespace pal = style::palette;
  sp.clouds = {{"data", p.data.get(), svg_rgb(pal::kData)},
               {"ODE", p.ode[k].get(), svg_rgb(pal::kOde)},
               {"SDE", p.sde[k].get(), svg_rgb(pal::kSde)}};
  const std::string path = join(dir, "particles.svg");
  write_file_atomically(path, sp.svg(520, 520));
  return "wrote " + path;
}

std::string write_table(const std::string& dir, Table what, const ExportInput& in) {
  fs::create_directories(dir);
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

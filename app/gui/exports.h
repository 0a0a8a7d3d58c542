#pragma once
// The lab's figure and table files, from plain copies of the session's data (so they can
// be written on the jobs thread): the W2 plot, the loss plot and the particles as one
// figure description each, written as PNG, SVG and PDF (io/figure.h); CSV of the history
// with the W2 rows, and of the particles. The only file of the lab that calls the
// engine's figure API. Every file is written atomically.
#include <memory>
#include <string>
#include <vector>

#include "sample/density.h"
#include "study/residual_gap.h"
#include "study/sweep_steps.h"
#include "train/train.h"
#include "worker.h"

namespace gapscope::gui {

enum class Figure { W2, Losses, Particles };  // w2.*, losses.*, particles.* (png, svg, pdf)
enum class Table { History, Particles };       // history.csv + w2.csv; ode.csv, sde.csv, data.csv

std::string export_name(Figure what);  // "w2", "losses", "particles"
std::string export_name(Table what);   // "history", "particles"

struct ExportInput {
  std::vector<TrainRow> rows;
  std::shared_ptr<const std::vector<W2Row>> w2;
  PassPtr pass;  // Particles: its newest frame
  double x0 = -4, x1 = 4, y0 = -4, y1 = 4;  // Particles SVG: the visible square
  bool w2_log = true, loss_log = true;
};

// Write into the folder `dir` (created if missing) and return what they wrote, for the
// log; throw std::runtime_error on failure (e.g. "no particles yet").
std::string write_figure(const std::string& dir, Figure what, const ExportInput& in);
std::string write_table(const std::string& dir, Table what, const ExportInput& in);

// The studies of the residual panel's tabs: density.csv + density.{png,svg,pdf}, and
// sweep.csv + sweep.{png,svg,pdf}; `title` heads the figures.
std::string write_density_files(const std::string& dir, const DensityGrid& g, const std::string& title);
std::string write_sweep_files(const std::string& dir, const std::vector<SweepRow>& rows, const std::string& title);
// The residual–gap tab: residual_gap.csv (appended to: points already in the file stay,
// this session's are added once) and residual_gap.{png,svg,pdf} of the file's points after
// the append; residual_history.csv + residual_history.{png,svg,pdf} of `rows`.
std::string write_gap_files(const std::string& dir, const std::vector<ResidualGapPoint>& points,
                            const std::vector<TrainRow>& rows, const Config& cfg, const std::string& title);

// The W2 rows beside a checkpoint (gui_w2.csv), so the plot comes back on load. Reading
// a missing file gives no rows; files from before the outside_* columns load with NaN there.
void write_w2_csv(const std::string& path, const std::vector<W2Row>& rows);
std::vector<W2Row> read_w2_csv(const std::string& path);

}  // namespace gapscope::gui

#pragma once
// What the lab's plots show, free of any drawing library: the series of the W2 and loss
// plots, their axes and the λ marks. The ImGui plot widget draws them on screen and the
// exports write them as SVG, so the two cannot drift apart.
#include <cmath>
#include <string>
#include <vector>

#include "style/palette.h"
#include "train/train.h"
#include "worker.h"

namespace gapscope::gui {

struct Series {
  std::string label;
  std::vector<double> x, y;
  style::Color color{255, 255, 255};
  bool line = true;
  bool markers = false;
  float thickness = 1.5f;
};

struct Mark {  // a vertical line at x with a short label (e.g. "λ=1")
  double x = 0;
  std::string label;
};

struct PlotSpec {
  std::string x_label, y_label;
  bool log_y = false;
  bool x_from_zero = false;
  // Fixed ranges (NaN = from the data).
  double x_min = NAN, x_max = NAN, y_min = NAN, y_max = NAN;
  std::vector<Mark> marks;
  std::string empty_text = "no data yet";
};

// The three distances of every finished pass, and the shares of escapees when known.
std::vector<Series> w2_series(const std::vector<W2Row>& rows);
// DSM, FP residual and boundary terms (block averages of at most 800 points), and the
// mean R² over the box on the iterations that measured it.
std::vector<Series> loss_series(const std::vector<TrainRow>& rows);
// One mark per change of λ in the history (the last 30).
std::vector<Mark> lambda_marks(const std::vector<TrainRow>& rows);
PlotSpec w2_plot_spec(const std::vector<TrainRow>& rows, bool log_y);
PlotSpec loss_plot_spec(const std::vector<TrainRow>& rows, bool log_y);

}  // namespace gapscope::gui

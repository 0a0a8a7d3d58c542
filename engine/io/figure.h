#pragma once
// A figure as plain data — panels in a grid with optional row and column headers, each
// panel with its axes, line series, point clouds, an optional heatmap with its colour
// bar, vertical marks, a legend and caption lines — and one writer that draws it with
// Cairo as PNG, SVG or PDF, chosen by the file's extension. One description per figure,
// so the raster and the vector files cannot say different things. The reproduction
// figure (study/reproduce) and the lab's exports are built from it.
//
// Colours, colour maps, ticks and number formats come from engine/style. All lengths are
// in points (1/72 in); text is DejaVu Sans.
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/points.h"
#include "style/colormap.h"
#include "style/palette.h"

namespace gapscope::fig {

enum class Scale { Linear, Log };

struct Axis {
  std::string label;
  Scale scale = Scale::Linear;  // Log: values <= 0 are skipped
  double min = NAN, max = NAN;  // NaN: that end from the data
  bool grid = false;            // light lines across the plot at the ticks
};

struct Line {
  std::string name;          // its legend entry; empty: none
  std::vector<double> x, y;  // a non-finite (or, on a log axis, non-positive) pair breaks the line
  style::Color color = style::palette::cycle(0);
  double width = 1.5;        // 0: markers only
  bool markers = false;      // a dot at every vertex
  std::vector<double> dash;  // on/off lengths; empty: solid
};

struct Cloud {
  std::string name;                // its legend entry; empty: none
  const Points* points = nullptr;  // not owned, must outlive the write; null: `copy` is drawn
  Points copy;                     // x = column 0, y = column 1; d = 1: a histogram of column 0
  style::Color color = style::palette::kData;
  double alpha = 0.35;  // of each dot; with `density`, of a bin holding a single point
  double radius = 0.8;  // of each dot
  // A density image instead of dots, for big clouds: the points are counted per pixel
  // (Figure::scale pixels per point, in every format) and each occupied pixel gets an
  // opacity from `alpha` (one point) to 1 (the 98th percentile of the counts and above).
  // SVG and PDF embed that image, so their size does not grow with the cloud.
  bool density = false;
  // SVG and PDF draw at most this many dots, the first ones (the clouds are i.i.d.
  // samples; core/points.h's head() is the subsample every figure keeps): a dot costs
  // about 300 bytes of SVG and 40 of PDF. PNG draws them all.
  std::size_t vector_cap = 2000;
  const Points& data() const { return points ? *points : copy; }
};

struct Heatmap {
  int nx = 0, ny = 0;
  std::vector<double> values;             // nx * ny, row-major, row 0 at y0 (the bottom); non-finite: not drawn
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // the cells tile [x0, x1] x [y0, y1]
  style::Colormap map = style::Colormap::Sequential;
  Scale scale = Scale::Linear;    // of the colours; Log: values <= 0 are not drawn, the bar has decade ticks
  double vmin = NAN, vmax = NAN;  // NaN: the values' range
  bool colorbar = true;           // to the right of the panel, with ticks and `label`
  std::string label;
};

// How a panel's Scatter values become colours, with a colour bar right of the panel (a
// panel has this or a heatmap's bar, not both). On a log scale the values <= 0 — λ = 0
// among λ = 0.1, 1, 10 — cannot sit on the gradient: they are drawn in `zero_color` and
// the bar gets a separate box of that colour under the gradient, labelled `zero_label`.
struct ColorScale {
  style::Colormap map = style::Colormap::Sequential;
  Scale scale = Scale::Linear;
  double vmin = NAN, vmax = NAN;  // NaN: the range of the scatters' (positive, on Log) values
  std::string label;
  style::Color zero_color{255, 255, 255};
  std::string zero_label = "0";
};

enum class Marker { Circle, Square, Triangle, Diamond };

// Markers coloured one by one through the panel's color_scale (runs coloured by λ), each
// with a thin ink rim so that light colours read on the page. The legend shows the shape.
struct Scatter {
  std::string name;                 // its legend entry; empty: none
  std::vector<double> x, y, value;  // value: empty, or one per point (non-finite: drawn in `color`)
  style::Color color = style::paper::kMuted;  // without a value or a colour scale
  Marker marker = Marker::Circle;
  double radius = 2.6;
};

struct Mark {  // a dashed vertical line across the plot, its label at the top (e.g. a λ change)
  double x = 0;
  std::string label;
  style::Color color = style::palette::kLambdaMark;
};

enum class Legend {
  None,
  Auto,  // the inside corner that covers no data, else to the right of the panel
  TopLeft,
  TopRight,
  BottomLeft,
  BottomRight,
  Right,  // outside, to the right of the panel
};

struct Panel {
  std::string title;
  Axis x, y;
  std::vector<Line> lines;
  std::vector<Cloud> clouds;  // drawn in order, over the heatmap, under the lines
  std::vector<Scatter> scatters;  // over the lines
  std::optional<ColorScale> color_scale;  // of the scatters' values
  std::optional<Heatmap> heatmap;
  std::vector<Mark> marks;
  Legend legend = Legend::Auto;      // lists the named lines and clouds
  std::vector<std::string> caption;  // lines centred under the panel
  int caption_span = 1;              // the caption is centred under this and the next span-1 panels of the row
  std::string empty_text;            // when nothing is drawable; empty: "no points" (clouds only) or "no data"
};

struct Header {
  std::string text;
  int span = 1;  // columns it stands over; a wider gap separates neighbouring headers' columns
};

struct Figure {
  std::string title;
  int columns = 1;  // panels fill the grid row by row
  std::vector<Panel> panels;
  std::vector<std::string> row_headers;          // at the left of each row, rotated
  std::vector<Header> column_headers;            // above the first row, left to right
  bool share_x = false;                          // x tick labels and x labels only under the bottom row
  bool share_y = false;                          // y tick labels and y labels only left of the first column
  double panel_width = 160, panel_height = 120;  // the plot area
  double font_size = 8;                          // ticks, captions; titles and headers a little larger
  double scale = 2;                              // PNG pixels per point (2: 144 dpi); density images in every format
  std::vector<std::string> notes;                // small lines under the whole figure
};

// Where things land (points, origin at the top left): the document's size and each
// panel's plot area, in panel order.
struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
};
struct Layout {
  double width = 0, height = 0;
  std::vector<Rect> plots;
};
Layout layout(const Figure& f);

enum class Format { Png, Svg, Pdf };
// By the path's extension (case-insensitive); anything else throws std::runtime_error
// "PATH: ... (expected .png, .svg or .pdf)".
Format format_of(const std::string& path);
// The file's bytes. Throws std::invalid_argument for an inconsistent description.
std::string render(const Figure& f, Format format);
// render() to path's format, written atomically (core/atomic_file.h). Every error is one
// line naming the file; on any failure an existing file at path is left as it was.
void write_figure(const Figure& f, const std::string& path);

}  // namespace gapscope::fig

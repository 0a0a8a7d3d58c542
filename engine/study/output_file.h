#pragma once
// One output path, two kinds of file: a study's table when the path ends in .csv, its
// figure (PNG, SVG or PDF by extension, io/figure.h) otherwise — so one --out option of a
// sub-command serves both, and a bad extension is figure.h's one-line error.
#include <functional>
#include <string>

#include "io/figure.h"

namespace gapscope {

bool is_csv_path(const std::string& path);  // case-insensitive ".csv"
void write_csv_or_figure(const std::string& path, const std::function<std::string()>& csv,
                         const std::function<fig::Figure()>& figure);

}  // namespace gapscope

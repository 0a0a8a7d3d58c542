#pragma once
// NumPy's .npy format (format versions 1.0 to 3.0), read into a point cloud: the data
// files people already have from Python. Only what a point cloud can be is accepted —
// little-endian float32 or float64, shape (n,) or (n, d), C or Fortran order — and every
// header is checked before any data is read, so a damaged or foreign file is one line.
#include <string>

#include "core/points.h"

namespace gapscope {

// Shape (n,) is n points in d = 1. Throws std::runtime_error "PATH: what was expected".
Points read_points_npy(const std::string& path);

}  // namespace gapscope

#pragma once
// A cloud of n points in R^d, row-major. The one plain-data currency that data
// sets, samplers, transport, exports and views exchange, so none of them needs torch.
#include <cstddef>
#include <string>
#include <vector>

namespace gapscope {

struct Points {
  int d = 2;
  std::vector<float> v;  // n*d values, point i at v[i*d .. i*d+d)

  Points() = default;
  Points(int dim, std::size_t n) : d(dim), v(n * static_cast<std::size_t>(dim), 0.f) {}
  std::size_t n() const { return d > 0 ? v.size() / static_cast<std::size_t>(d) : 0; }
  float* row(std::size_t i) { return v.data() + i * d; }
  const float* row(std::size_t i) const { return v.data() + i * d; }
};

// The first n points (all of them when n >= p.n()): the prefix exact-W2 subsamples and
// figure subsamples keep.
Points head(const Points& p, std::size_t n);

// The share of points outside [-box, box]^d (a non-finite coordinate counts as outside):
// the escapees that the paper's grid metric drops. 0 for an empty cloud.
double outside_share(const Points& p, double box);

// Refuses, before anything is allocated, a point count whose clouds would not fit in this
// machine's memory: throws std::invalid_argument "<what> N: … need about X GB, this machine
// has Y GB". bytes_per_value is the caller's estimate of what one coordinate costs in all
// (every copy it keeps, its CSV text).
void check_points_fit(std::size_t n, int d, double bytes_per_value, const std::string& what);

// CSV with one point per row, d columns. A header row (any non-numeric first row)
// is optional on read; on write it is "x" for d = 1, "x,y" for d = 2, "x1,...,xd" above.
// Errors throw std::runtime_error naming the file, the line and what was expected.
Points read_points_csv(const std::string& path);
void write_points_csv(const std::string& path, const Points& p);
// With `weights`: a header whose last column is named "weight" makes that column the
// points' weights (not a coordinate); without such a header `weights` is left empty.
Points read_points_csv(const std::string& path, std::vector<double>* weights);
// Weights (one per point, or none) as a last column "weight".
void write_points_csv(const std::string& path, const Points& p, const std::vector<double>& weights);

// A data file by its extension: ".npy" is NumPy (core/npy.h), anything else CSV (with
// the weight column above).
Points read_points_file(const std::string& path, std::vector<double>* weights = nullptr);

}  // namespace gapscope

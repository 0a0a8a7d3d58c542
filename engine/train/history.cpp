// The training history and its CSV file, apart from the trainer: no LibTorch here, so
// the light gapscope-cli (residual-history) reads a checkpoint's history.csv without it.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "train/train.h"

namespace gapscope {

void History::append(const TrainRow& r) {
  std::lock_guard<std::mutex> l(m_);
  rows_.push_back(r);
}
std::vector<TrainRow> History::rows(std::size_t from) const {
  std::lock_guard<std::mutex> l(m_);
  if (from >= rows_.size()) return {};
  return std::vector<TrainRow>(rows_.begin() + static_cast<std::ptrdiff_t>(from), rows_.end());
}
std::size_t History::size() const {
  std::lock_guard<std::mutex> l(m_);
  return rows_.size();
}
void History::clear() {
  std::lock_guard<std::mutex> l(m_);
  rows_.clear();
}
void History::assign(std::vector<TrainRow> rows) {
  std::lock_guard<std::mutex> l(m_);
  rows_ = std::move(rows);
}

static const char* kHistoryHeader = "iteration,loss,dsm,fp,bc,lambda,lr,seconds,res_mean_sq,res_mean_abs,res_max_abs";
constexpr std::size_t kHistoryColumns = 11;

// After the fixed columns, one column res_slice_<k> per time slice (mean |R| in slice k
// of [eps, T]), present when any row has slice statistics; files without them load too.
void History::write_csv(const std::string& path) const {
  auto rs = rows();
  std::size_t slices = 0;
  for (auto& r : rs) slices = std::max(slices, r.res_slice_abs.size());
  std::ostringstream out;
  out << kHistoryHeader;
  for (std::size_t k = 0; k < slices; ++k) out << ",res_slice_" << k;
  out << "\n";
  out.precision(17);
  for (auto& r : rs) {
    out << r.iteration << ',' << r.loss << ',' << r.dsm << ',' << r.fp << ',' << r.bc << ',' << r.lambda << ','
        << r.lr << ',' << r.seconds << ',' << r.res_mean_sq << ',' << r.res_mean_abs << ',' << r.res_max_abs;
    for (std::size_t k = 0; k < slices; ++k) out << ',' << (k < r.res_slice_abs.size() ? r.res_slice_abs[k] : NAN);
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

std::vector<TrainRow> History::read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open history");
  std::string line;
  std::getline(in, line);
  if (line.rfind(kHistoryHeader, 0) != 0)
    throw std::runtime_error(path + ":1: expected header '" + std::string(kHistoryHeader) + "[,res_slice_0,...]'");
  const std::size_t columns = static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
  std::vector<TrainRow> rows;
  std::size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::vector<double> v;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) {
      try {
        v.push_back(f == "nan" || f == "-nan" ? NAN : std::stod(f));
      } catch (const std::exception&) {
        throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected a number, got '" +
                                 (f.size() > 40 ? f.substr(0, 40) + "..." : f) + "'");
      }
    }
    if (v.size() != columns)
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected " + std::to_string(columns) + " columns");
    // Range-checked before the cast: a float-to-integer conversion out of range is undefined.
    if (!(v[0] >= 0 && v[0] < 9.2e18) || v[0] != std::floor(v[0]))
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected an iteration (an integer >= 0) first");
    TrainRow r;
    r.iteration = static_cast<int64_t>(v[0]);
    r.loss = v[1], r.dsm = v[2], r.fp = v[3], r.bc = v[4], r.lambda = v[5], r.lr = v[6], r.seconds = v[7];
    r.res_mean_sq = v[8], r.res_mean_abs = v[9], r.res_max_abs = v[10];
    if (!std::isnan(r.res_mean_sq)) r.res_slice_abs.assign(v.begin() + kHistoryColumns, v.end());
    rows.push_back(r);
  }
  return rows;
}

}  // namespace gapscope

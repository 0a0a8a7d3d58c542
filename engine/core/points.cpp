#include "core/points.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/npy.h"

namespace gapscope {

void check_points_fit(std::size_t n, int d, double bytes_per_value, const std::string& what) {
  const double need = static_cast<double>(n) * std::max(d, 1) * bytes_per_value;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  const double have = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 16e9;
  if (need <= have) return;
  char msg[256];
  std::snprintf(msg, sizeof msg, "%s %zu: %zu points of d = %d need about %.3g GB, this machine has %.3g GB of memory",
                what.c_str(), n, n, d, need / 1e9, have / 1e9);
  throw std::invalid_argument(msg);
}

namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',' || c == ';' || c == '\t') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool parse_float(const std::string& s, float& out) {
  std::size_t b = s.find_first_not_of(" \t");
  std::size_t e = s.find_last_not_of(" \t");
  if (b == std::string::npos) return false;
  std::string t = s.substr(b, e - b + 1);
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE) return false;
  out = static_cast<float>(v);
  return true;
}

// A line as an error message quotes it: at most 60 characters and no control bytes, so a
// binary file or a megabyte-long line still gives one short line.
std::string excerpt(const std::string& line) {
  std::string out;
  for (char c : line.substr(0, 60)) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  return line.size() > 60 ? out + "..." : out;
}

}  // namespace

Points head(const Points& p, std::size_t n) {
  if (n >= p.n()) return p;
  Points q(p.d, n);
  std::copy(p.v.begin(), p.v.begin() + static_cast<std::ptrdiff_t>(n * p.d), q.v.begin());
  return q;
}

double outside_share(const Points& p, double box) {
  const std::size_t n = p.n();
  if (n == 0) return 0.0;
  std::size_t out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* r = p.row(i);
    for (int k = 0; k < p.d; ++k)
      if (!(std::abs(r[k]) <= box)) {  // NaN fails the comparison: outside
        ++out;
        break;
      }
  }
  return static_cast<double>(out) / static_cast<double>(n);
}

Points read_points_csv(const std::string& path) { return read_points_csv(path, nullptr); }

Points read_points_csv(const std::string& path, std::vector<double>* weights) {
  if (weights) weights->clear();
  bool weighted = false;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open for reading");
  Points p;
  p.d = 0;
  std::string line;
  std::size_t lineno = 0;
  bool first_content = true;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto fields = split_fields(line);
    std::vector<float> vals(fields.size());
    bool numeric = true;
    for (std::size_t k = 0; k < fields.size(); ++k) numeric = numeric && parse_float(fields[k], vals[k]);
    if (first_content) {
      first_content = false;
      if (!numeric) {  // header row
        p.d = static_cast<int>(fields.size());
        std::string last = fields.back();
        last.erase(std::remove_if(last.begin(), last.end(), [](char c) { return c == ' ' || c == '\t'; }), last.end());
        weighted = weights && p.d > 1 && last == "weight";
        continue;
      }
    }
    if (p.d == 0) p.d = static_cast<int>(fields.size());
    if (static_cast<int>(fields.size()) != p.d)
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected " + std::to_string(p.d) +
                               " columns, got " + std::to_string(fields.size()));
    if (!numeric)
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected numbers, got '" + excerpt(line) + "'");
    for (float v : vals)
      if (!std::isfinite(v))
        throw std::runtime_error(path + ":" + std::to_string(lineno) + ": non-finite value in '" + excerpt(line) + "'");
    if (weighted) {
      if (!(vals.back() >= 0))
        throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected a weight >= 0, got '" +
                                 excerpt(fields.back()) + "'");
      weights->push_back(vals.back());
      vals.pop_back();
    }
    p.v.insert(p.v.end(), vals.begin(), vals.end());
  }
  if (weighted) --p.d;
  if (p.n() == 0) throw std::runtime_error(path + ": no data rows");
  return p;
}

Points read_points_file(const std::string& path, std::vector<double>* weights) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".npy") return read_points_csv(path, weights);
  if (weights) weights->clear();
  return read_points_npy(path);
}

void write_points_csv(const std::string& path, const Points& p) { write_points_csv(path, p, {}); }

void write_points_csv(const std::string& path, const Points& p, const std::vector<double>& weights) {
  if (!weights.empty() && weights.size() != p.n())
    throw std::invalid_argument(path + ": " + std::to_string(weights.size()) + " weights for " + std::to_string(p.n()) +
                                " points");
  std::string out;
  out.reserve(p.v.size() * 12 + 16);
  if (p.d == 1) {
    out += "x\n";
  } else if (p.d == 2) {
    out += "x,y\n";
  } else {
    for (int k = 0; k < p.d; ++k) out += (k ? ",x" : "x") + std::to_string(k + 1);
    out += "\n";
  }
  if (!weights.empty()) out.insert(out.size() - 1, ",weight");
  char buf[32];
  for (std::size_t i = 0; i < p.n(); ++i) {
    for (int k = 0; k < p.d; ++k) {
      std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(p.row(i)[k]));
      if (k) out += ',';
      out += buf;
    }
    if (!weights.empty()) {
      std::snprintf(buf, sizeof buf, ",%.9g", weights[i]);
      out += buf;
    }
    out += '\n';
  }
  write_file_atomically(path, out);
}

}  // namespace gapscope

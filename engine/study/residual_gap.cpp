#include "study/residual_gap.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "style/format.h"
#include "style/palette.h"

namespace gapscope {

const char* const kResidualGapHeader = "source,iteration,lambda,res_mean_sq,res_time_weighted,w2_ode_sde";

namespace {

// Equal as the CSV stores them: NaN equals NaN.
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

std::string quoted(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string q = "\"";
  for (char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// One CSV line into fields ("a,\"b,c\"" -> a | b,c); false on an unclosed quote.
bool split(const std::string& line, std::vector<std::string>& out) {
  out.clear();
  std::string f;
  bool in_quotes = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (in_quotes) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') f += '"', ++i;
      else if (ch == '"') in_quotes = false;
      else f += ch;
    } else if (ch == '"' && f.empty() && !was_quoted) {
      in_quotes = was_quoted = true;
    } else if (ch == ',') {
      out.push_back(f);
      f.clear();
      was_quoted = false;
    } else {
      f += ch;
    }
  }
  out.push_back(f);
  return !in_quotes;
}

// The part of a source before ": " ("run 2" of "run 2: circles2"), or "" when it has none.
std::string group_of(const std::string& source) {
  const auto k = source.find(": ");
  return k == std::string::npos ? std::string() : source.substr(0, k);
}

}  // namespace

bool ResidualGapPoint::operator==(const ResidualGapPoint& o) const {
  return source == o.source && iteration == o.iteration && same(lambda, o.lambda) &&
         same(res_mean_sq, o.res_mean_sq) && same(res_time_weighted, o.res_time_weighted) &&
         same(w2_ode_sde, o.w2_ode_sde);
}

double time_weighted_residual(const Sde& sde, const std::vector<double>& slice_t,
                              const std::vector<double>& slice_mean_sq) {
  if (slice_t.size() != slice_mean_sq.size()) return NAN;
  double num = 0, den = 0;
  for (std::size_t k = 0; k < slice_t.size(); ++k) {
    const double m = slice_mean_sq[k];
    if (!std::isfinite(m) || m < 0) continue;
    const double w = sde.diffusion2(slice_t[k]);
    num += w * std::sqrt(m);
    den += w;
  }
  if (!(den > 0)) return NAN;
  const double rms = num / den;
  return rms * rms;
}

std::string residual_gap_csv(const std::vector<ResidualGapPoint>& points) {
  std::ostringstream s;
  s << kResidualGapHeader << "\n";
  for (const auto& p : points)
    s << quoted(p.source) << ',' << p.iteration << ',' << num(p.lambda) << ',' << num(p.res_mean_sq) << ','
      << num(p.res_time_weighted) << ',' << num(p.w2_ode_sde) << "\n";
  return s.str();
}

std::vector<ResidualGapPoint> read_residual_gap_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the residual-gap points");
  std::string line;
  std::size_t lineno = 1;
  if (!std::getline(in, line)) throw std::runtime_error(path + ":1: empty file, expected the header " + kResidualGapHeader);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != kResidualGapHeader)
    throw std::runtime_error(path + ":1: expected the header '" + std::string(kResidualGapHeader) + "'");
  std::vector<ResidualGapPoint> out;
  std::vector<std::string> f;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string at = path + ":" + std::to_string(lineno) + ": ";
    if (!split(line, f)) throw std::runtime_error(at + "unclosed quote");
    if (f.size() != 6) throw std::runtime_error(at + "expected 6 fields, got " + std::to_string(f.size()));
    auto number = [&](std::size_t k, const char* name) {
      const std::string& v = f[k];
      char* end = nullptr;
      errno = 0;
      const double x = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || errno == ERANGE)
        throw std::runtime_error(at + name + ": expected a number, got '" + (v.size() > 40 ? v.substr(0, 40) + "..." : v) +
                                 "'");
      return x;
    };
    ResidualGapPoint p;
    p.source = f[0];
    const double it = number(1, "iteration");
    // Range-checked before the cast: a float-to-integer conversion out of range is undefined.
    if (!(it >= 0 && it < 9.2e18) || it != std::floor(it))
      throw std::runtime_error(at + "iteration: expected an integer >= 0, got '" + f[1] + "'");
    p.iteration = static_cast<int64_t>(it);
    p.lambda = number(2, "lambda");
    if (!(p.lambda >= 0)) throw std::runtime_error(at + "lambda: expected a number >= 0, got '" + f[2] + "'");
    p.res_mean_sq = number(3, "res_mean_sq");
    p.res_time_weighted = number(4, "res_time_weighted");
    p.w2_ode_sde = number(5, "w2_ode_sde");
    out.push_back(std::move(p));
  }
  return out;
}

void write_residual_gap_csv(const std::string& path, const std::vector<ResidualGapPoint>& points) {
  write_file_atomically(path, residual_gap_csv(points));
}

void append_residual_gap_csv(const std::string& path, const std::vector<ResidualGapPoint>& points) {
  std::vector<ResidualGapPoint> all;
  if (std::filesystem::exists(path)) all = read_residual_gap_csv(path);
  const std::size_t old = all.size();
  for (const auto& p : points)
    if (std::find(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(old), p) == all.begin() + static_cast<std::ptrdiff_t>(old))
      all.push_back(p);
  write_residual_gap_csv(path, all);
}

bool loglog_fit(const std::vector<double>& x, const std::vector<double>& y, double& slope, double& intercept,
                int* used) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int n = 0;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!(std::isfinite(x[i]) && std::isfinite(y[i]) && x[i] > 0 && y[i] > 0)) continue;
    const double a = std::log10(x[i]), b = std::log10(y[i]);
    sx += a, sy += b, sxx += a * a, sxy += a * b;
    ++n;
  }
  if (used) *used = n;
  if (n < 3) return false;
  const double den = n * sxx - sx * sx;
  if (!(std::abs(den) > 1e-12 * std::max(1.0, n * sxx))) return false;
  slope = (n * sxy - sx * sy) / den;
  intercept = (sy - slope * sx) / n;
  return true;
}

fig::Figure residual_gap_figure(const std::vector<ResidualGapPoint>& points, const std::string& title,
                                std::vector<std::string> notes) {
  fig::Figure f;
  f.title = title;
  f.columns = 2;
  f.share_y = true;
  f.panel_width = 190;
  f.panel_height = 150;
  // The sources in order of first appearance, one marker shape each (four shapes, then again).
  std::vector<std::string> sources;
  for (const auto& p : points)
    if (std::find(sources.begin(), sources.end(), p.source) == sources.end()) sources.push_back(p.source);
  const fig::Marker shapes[] = {fig::Marker::Circle, fig::Marker::Square, fig::Marker::Triangle, fig::Marker::Diamond};
  const std::string w2sq = "W\u2082(ODE, SDE)\u00b2";
  bool several_groups = false;
  for (const auto& p : points) several_groups = several_groups || group_of(p.source) != group_of(points[0].source);
  int undrawable = 0;
  for (const auto& p : points)
    if (!(p.w2_ode_sde > 0) || !(p.res_mean_sq > 0)) ++undrawable;
  for (int k = 0; k < 2; ++k) {
    fig::Panel q;
    q.title = k == 0 ? "mean R\u00b2 over the box" : "time-weighted R\u00b2_g (g\u00b2-weighted RMS over t)";
    q.x.label = k == 0 ? "mean R\u00b2" : "R\u00b2_g";
    q.y.label = w2sq;
    q.x.scale = q.y.scale = fig::Scale::Log;
    q.x.grid = q.y.grid = true;
    fig::ColorScale cs;
    cs.scale = fig::Scale::Log;
    cs.label = "\u03bb";
    cs.zero_label = "0";
    q.color_scale = cs;
    q.empty_text = "no finished pass yet";
    std::vector<double> all_x, all_y;
    for (std::size_t s = 0; s < sources.size(); ++s) {
      fig::Scatter sc;
      sc.name = sources.size() > 1 ? sources[s] : "";
      sc.marker = shapes[s % 4];
      sc.radius = points.size() > 200 ? 1.8 : 2.6;
      for (const auto& p : points) {
        if (p.source != sources[s]) continue;
        sc.x.push_back(k == 0 ? p.res_mean_sq : p.res_time_weighted);
        sc.y.push_back(p.w2_ode_sde * p.w2_ode_sde);
        sc.value.push_back(p.lambda);
      }
      all_x.insert(all_x.end(), sc.x.begin(), sc.x.end());
      all_y.insert(all_y.end(), sc.y.begin(), sc.y.end());
      q.scatters.push_back(std::move(sc));
    }
    // One least-squares line per group (the runs of the lab, the labels of pooled inputs;
    // reproduce's data sets share one): a trend across λ within one kind of model.
    std::vector<std::string> groups;
    for (const auto& p : points)
      if (std::find(groups.begin(), groups.end(), group_of(p.source)) == groups.end()) groups.push_back(group_of(p.source));
    std::vector<std::string> slopes;
    int fitted = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::vector<double> gx, gy;
      for (const auto& p : points)
        if (group_of(p.source) == groups[g]) {
          gx.push_back(k == 0 ? p.res_mean_sq : p.res_time_weighted);
          gy.push_back(p.w2_ode_sde * p.w2_ode_sde);
        }
      double slope = 0, icpt = 0;
      int used = 0;
      if (!loglog_fit(gx, gy, slope, icpt, &used)) continue;
      double lo = INFINITY, hi = -INFINITY;
      for (std::size_t i = 0; i < gx.size(); ++i)
        if (gx[i] > 0 && gy[i] > 0 && std::isfinite(gx[i]) && std::isfinite(gy[i]))
          lo = std::min(lo, gx[i]), hi = std::max(hi, gx[i]);
      fig::Line fit;
      fit.name = groups.size() > 1 ? "fit: " + groups[g] : "";
      fit.color = style::paper::kMuted;
      fit.width = 0.9;
      static const std::vector<double> dashes[] = {{3, 2}, {1, 1.5}, {5, 1.5, 1, 1.5}};
      fit.dash = dashes[fitted % 3];
      for (int i = 0; i <= 16; ++i) {
        const double lx = std::log10(lo) + (std::log10(hi) - std::log10(lo)) * i / 16;
        fit.x.push_back(std::pow(10.0, lx));
        fit.y.push_back(std::pow(10.0, icpt + slope * lx));
      }
      q.lines.push_back(std::move(fit));
      slopes.push_back((groups.size() > 1 ? groups[g] + ": l" : std::string("l")) + "og\u2013log slope " +
                       style::fixed(slope, 2) + " (least squares, " + std::to_string(used) + " points)");
      ++fitted;
    }
    if (slopes.empty()) {
      q.caption = {std::to_string(all_x.size()) + (all_x.size() == 1 ? " point" : " points") +
                   " (a slope needs 3 drawable points)"};
    } else {
      // One line per group, the latest three: a long lab session would otherwise run far below the panel.
      const std::size_t first = slopes.size() > 3 ? slopes.size() - 3 : 0;
      for (std::size_t i = first; i < slopes.size(); ++i) q.caption.push_back(slopes[i]);
    }
    // One legend for the row: on the last panel, where it can sit to the right.
    if (k == 0) q.legend = fig::Legend::None;
    f.panels.push_back(std::move(q));
  }
  f.notes = std::move(notes);
  f.notes.push_back("One point per finished ODE/SDE pass: the residual of the weights it sampled with (" +
                    std::string("mean R\u00b2 over the collocation box \u00d7 [\u03b5, T]; R\u00b2_g = ") +
                    "(\u03a3 g(t_k)\u00b2 \u221am_k / \u03a3 g(t_k)\u00b2)\u00b2 over the time slices) against its squared gap. "
                    "Colour: \u03bb (log scale; white: \u03bb = 0). " +
                    (several_groups ? "Dashed, dotted, \u2026: least-squares lines in log\u2013log, one per run or label."
                                    : "Dashed: least-squares line in log\u2013log."));
  if (undrawable > 0)
    f.notes.push_back(std::to_string(undrawable) + " of " + std::to_string(points.size()) +
                      " points not drawn: W\u2082 = 0 or a residual <= 0 has no place on log axes.");
  return f;
}

}  // namespace gapscope

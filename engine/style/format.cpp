#include "style/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gapscope::style {

std::string number(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", std::max(1, digits), v);
  return b;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", std::clamp(decimals, 0, 17), v);
  return b;
}

std::string tick_label(double v, double step) {
  if (v == 0) return "0";
  if (!std::isfinite(v)) return number(v);
  char b[48];
  const double a = std::abs(v);
  // Scientific only where the ticks are coarse against their size (2e6 apart by 1e6, a
  // decade axis): ticks 0.2 apart near 1e5 must read 99999.8, 100000, 100000.2.
  const bool coarse = step <= 0 || step * 1000 >= a;
  if ((a >= 1e5 || a < 1e-3) && coarse) {
    std::snprintf(b, sizeof b, "%.0e", v);
    // "1e-04" -> "1e-4": the exponent's leading zeros carry nothing.
    std::string s = b;
    const auto e = s.find('e');
    if (e != std::string::npos) {
      std::size_t k = e + 1;
      if (k < s.size() && (s[k] == '-' || s[k] == '+')) ++k;
      while (k + 1 < s.size() && s[k] == '0') s.erase(k, 1);
      if (s[e + 1] == '+') s.erase(e + 1, 1);
    }
    return s;
  }
  if (step >= 1 || step <= 0) {
    if (step <= 0 && std::abs(v - std::round(v)) > 1e-9 * a) return number(v, 3);
    std::snprintf(b, sizeof b, "%.0f", v);
    return b;
  }
  const int decimals = std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char b[48];
  if (s < 60)
    std::snprintf(b, sizeof b, "%lld s", s);
  else if (s < 3600)
    std::snprintf(b, sizeof b, "%lld min %02lld s", s / 60, s % 60);
  else
    std::snprintf(b, sizeof b, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
  return b;
}

}  // namespace gapscope::style

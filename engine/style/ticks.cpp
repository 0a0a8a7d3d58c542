#include "style/ticks.h"

#include <algorithm>
#include <cmath>

namespace gapscope::style {

Ticks linear_ticks(double lo, double hi, int target) {
  Ticks t;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return t;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    t.values = {lo};
    return t;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  t.step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  // Multiples of the step by integer index, so that 0.1 + 0.2 never prints 0.30000000000000004.
  const long long k0 = static_cast<long long>(std::ceil(lo / t.step - 1e-9));
  const long long k1 = static_cast<long long>(std::floor(hi / t.step + 1e-9));
  for (long long k = k0; k <= k1; ++k) t.values.push_back(k == 0 ? 0.0 : static_cast<double>(k) * t.step);
  return t;
}

Ticks log_ticks(double lo, double hi, int target) {
  Ticks t;
  if (!(lo > 0) || !(hi > 0) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  if (hi < lo) std::swap(lo, hi);
  const int e0 = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
  const int e1 = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
  if (e1 - e0 + 1 >= 2) {
    const int every = std::max(1, (e1 - e0 + 1 + target - 1) / std::max(1, target));
    for (int e = e0; e <= e1; ++e)
      if ((e - e0) % every == 0) t.values.push_back(std::pow(10.0, e));
    return t;
  }
  for (int e = e0 - 1; e <= e1; ++e)
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.values.push_back(v);
    }
  if (t.values.size() >= 2) return t;
  return linear_ticks(lo, hi, target);
}

}  // namespace gapscope::style

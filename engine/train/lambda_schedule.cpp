#include "train/lambda_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace gapscope {

LambdaSchedule parse_lambda_schedule(const std::string& text) {
  LambdaSchedule out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    const auto c = item.find(':');
    bool ok = c != std::string::npos;
    long long it = 0;
    double lam = 0;
    if (ok) {
      try {
        std::size_t p1 = 0, p2 = 0;
        const std::string a = item.substr(0, c), b = item.substr(c + 1);
        it = std::stoll(a, &p1);
        lam = std::stod(b, &p2);
        ok = a.find_first_not_of(" \t", p1) == std::string::npos && b.find_first_not_of(" \t", p2) == std::string::npos &&
             it >= 0 && lam >= 0 && std::isfinite(lam);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok)
      throw std::invalid_argument("lambda schedule: bad entry '" + item + "' (expected iteration:lambda, both >= 0)");
    out.emplace_back(it, lam);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace gapscope

#pragma once
// A λ schedule "it:λ,it:λ,…": λ from iteration `it` (0-based) on. One parser for
// `gapscope-cli train --lambda-schedule` and the lab's `--lambda-schedule`.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gapscope {

using LambdaSchedule = std::vector<std::pair<int64_t, double>>;  // sorted by iteration

// Throws std::invalid_argument naming the bad entry; blank entries are skipped.
LambdaSchedule parse_lambda_schedule(const std::string& text);

}  // namespace gapscope

#pragma once
// How numbers are written for people: tick labels, legends, status lines, file names.
// (Machine-readable output — CSV, JSON — keeps full precision and does not use these.)
#include <string>

namespace gapscope::style {

// Up to `digits` significant digits, no trailing zeros: "0.1", "2.5e-05", "1000";
// "nan", "inf", "-inf" for the non-finite.
std::string number(double v, int digits = 4);
// Exactly `decimals` decimals, for table columns that must line up: "0.290"; "n/a" for
// the non-finite (a cell that could not be measured).
std::string fixed(double v, int decimals = 3);
// A tick label for v on an axis whose ticks are `step` apart (0: a log axis): exactly
// as many decimals as the step needs, scientific outside [1e-3, 1e5) unless the ticks
// are fine against their size (then fixed, so neighbours never print alike).
std::string tick_label(double v, double step);
// A duration in seconds as "12 s", "3 min 05 s", "2 h 07 min" (progress lines, ETA).
std::string duration(double seconds);

}  // namespace gapscope::style

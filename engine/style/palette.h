#pragma once
// The colour of every role that appears in more than one place (the lab's views, the CLI's
// and the lab's figures, the legends). One colour per role, chosen to read on the lab's
// dark background and on a white page alike.
#include <cstdint>

namespace gapscope::style {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0, a = 255;
  constexpr Color with_alpha(std::uint8_t alpha) const { return {r, g, b, alpha}; }
  // 0xAABBGGRR, the layout of ImGui's ImU32 (IM_COL32).
  constexpr std::uint32_t abgr() const {
    return static_cast<std::uint32_t>(r) | static_cast<std::uint32_t>(g) << 8 | static_cast<std::uint32_t>(b) << 16 |
           static_cast<std::uint32_t>(a) << 24;
  }
  // The inverse of abgr(): ImGui's colours back into the style's (the lab's figure exports).
  static constexpr Color from_abgr(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v & 0xff), static_cast<std::uint8_t>((v >> 8) & 0xff),
            static_cast<std::uint8_t>((v >> 16) & 0xff), static_cast<std::uint8_t>(v >> 24)};
  }
};

namespace palette {
constexpr Color kOde{60, 150, 220};     // probability-flow ODE samples and curves
constexpr Color kSde{230, 60, 55};      // reverse-time SDE samples and curves
constexpr Color kData{140, 140, 140};   // training data
constexpr Color kModel{90, 180, 90};    // the model's own density exp(u_theta)
constexpr Color kGap{200, 70, 190};     // W2(ODE, SDE): the gap itself
constexpr Color kDsm{80, 170, 235};     // the DSM loss
constexpr Color kResidual{245, 120, 80};  // the Fokker–Planck residual term
constexpr Color kBoundary{170, 170, 80};  // the boundary term
constexpr Color kLambdaMark{230, 170, 60};  // λ changes marked on time axes
// Further series, in order, when a plot has more than the named roles (tab10's order).
constexpr Color kCycle[] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44},  {255, 127, 14},
                            {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
constexpr int kCycleSize = sizeof(kCycle) / sizeof(kCycle[0]);
constexpr Color cycle(int i) { return kCycle[((i % kCycleSize) + kCycleSize) % kCycleSize]; }
}  // namespace palette

// The neutrals of figures on a white page (engine/io/figure.h); the lab's dark views have
// their own from ImGui's theme.
namespace paper {
constexpr Color kPage{255, 255, 255};   // background, legend boxes, halos behind labels
constexpr Color kInk{25, 25, 25};       // text, frames, ticks
constexpr Color kMuted{105, 105, 105};  // secondary text: captions' notes, "no data"
constexpr Color kGrid{222, 222, 222};   // grid lines, legend borders
}  // namespace paper

}  // namespace gapscope::style

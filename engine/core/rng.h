#pragma once
// The counter-based generator behind every seeded stream that must not depend on the
// thread count or on call order (sampler noise, sliced-W2 directions): splitmix64 is a
// full-period 64-bit generator whose state is one integer, so any chunk of work can
// start from its own key at no cost. Training's draws come from std::mt19937_64: the
// trainer's engine (one state, saved in the checkpoint: train/train_state.h) gives one key
// per batch, and each chunk of the batch draws from an engine seeded by splitmix64 from
// that key and the chunk's index (train/train.cpp); the chunk's normals come from
// core/normals.h, keyed by that engine.
#include <cmath>
#include <cstdint>

namespace gapscope {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform double in (0, 1): 53 random bits, never 0 (safe under log).
inline double uniform01(std::uint64_t& state) {
  return (static_cast<double>(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53;
}

// A uniform integer in [0, n), n >= 1, without bias (Lemire's multiply-shift with
// rejection: a division only on the rare rejection path). Shuffles (the circles data set).
inline std::uint64_t uniform_index(std::uint64_t& state, std::uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(splitmix64(state)) * n;
  if (static_cast<std::uint64_t>(m) < n) {
    const std::uint64_t floor = (0 - n) % n;  // 2^64 mod n
    while (static_cast<std::uint64_t>(m) < floor) m = static_cast<unsigned __int128>(splitmix64(state)) * n;
  }
  return static_cast<std::uint64_t>(m >> 64);
}

// Two independent standard normals (Box–Muller) from one 64-bit draw, in float: 24 bits
// for the radius (never 0) and 24 for the angle. The definition of the stream that
// core/normals.h draws in bulk (sampler noise, training's DSM noise).
inline void normal_pair(std::uint64_t& state, float& a, float& b) {
  const std::uint64_t bits = splitmix64(state);
  const float u1 = ((bits >> 40) + 0.5f) * 0x1p-24f, u2 = ((bits >> 16) & 0xFFFFFF) * 0x1p-24f;
  const float r = std::sqrt(-2.f * std::log(u1));
  const float ang = 6.2831853f * u2;
  a = r * std::cos(ang);
  b = r * std::sin(ang);
}

// Two standard normals in double (Box–Muller from two uniform01 draws). The sliced-W2
// directions.
inline void normal_pair(std::uint64_t& state, double& a, double& b) {
  const double u = uniform01(state), v = uniform01(state);
  const double r = std::sqrt(-2 * std::log(u)), ang = 6.283185307179586 * v;
  a = r * std::cos(ang);
  b = r * std::sin(ang);
}

}  // namespace gapscope

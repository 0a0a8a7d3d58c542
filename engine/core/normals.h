#pragma once
// Standard normals and directions in the plane, in bulk: the sampler's noise, the training
// batch's DSM noise, the circles data set.
#include <cstddef>
#include <cstdint>

namespace gapscope {

// out[2j], out[2j + 1] = the (j + 1)-th normal_pair(state, a, b) of core/rng.h from
// state = key (Box-Muller on splitmix64, in float), n values (an odd n ends with the
// first of a pair). The same numbers as that loop to a few float ulps: the logs and
// cosines here come from glibc's vector math library (libmvec), 9-11x faster than the
// scalar loop on an AVX-512 CPU (bench_peak's BM_NormalsBulk against BM_NormalsScalar,
// 4096 normals: 1.03-1.29 vs 0.115-0.120 G normals/s on the AMD EPYC, three runs).
void standard_normals(float* out, std::size_t n, std::uint64_t key);

// out[2j], out[2j + 1] = cos, sin of 2 pi u_j: n directions uniform on the unit circle,
// u_j from 24 bits of the (j + 1)-th splitmix64 draw from state = key (as normal_pair's
// angle). The same vector cosines and sines as standard_normals.
void circle_directions(float* out, std::size_t n, std::uint64_t key);

}  // namespace gapscope

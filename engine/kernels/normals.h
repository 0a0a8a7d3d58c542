#pragma once
// Standard normals in bulk: the sampler's noise and the training batch's DSM noise.
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

}  // namespace gapscope

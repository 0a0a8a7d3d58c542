#pragma once
// Function multi-versioning for the element-wise kernels: AVX-512, AVX2 and baseline
// x86-64 clones of one source, picked by an ifunc resolver when the library is loaded.
// ThreadSanitizer builds (scripts/tsan) get the baseline only: the resolvers run during
// relocation, before the sanitizer's runtime exists, and its instrumentation of them
// crashed every test binary at start-up.
#if defined(__SANITIZE_THREAD__)
#define GAPSCOPE_CLONES
#else
#define GAPSCOPE_CLONES __attribute__((target_clones("avx512f", "avx2,fma", "default")))
#endif

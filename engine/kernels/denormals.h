#pragma once
// Denormal floats flushed to zero (x86 MXCSR: FTZ and DAZ). Softplus(β = 100) of a
// saturated pre-activation makes denormals in the exp/sigmoid tails, and on Intel each one
// costs a microcode assist of ~100 cycles: unflushed, those passes run several times
// slower. A flushed denormal is below 1.2e-38, far under every tolerance gapscope keeps
// (tests/kernels/test_denormals.cpp checks that the loss, score and residual do not move).
//
// MXCSR is per thread and a new thread inherits its creator's, so the mains call
// flush_denormals_everywhere() before they start any thread, and the long-lived compute
// threads (trainer, lab worker and jobs, reproduce's cells) call
// flush_denormals_this_thread() first, so a thread made by a library cannot run them
// unflushed.
namespace gapscope {

// The process's choice: on unless the environment has GAPSCOPE_FTZ=0 (to measure what
// flushing buys, as the references in ../shared/bench take FTZ=0).
bool denormals_flush_wanted();

void flush_denormals_this_thread();              // applies the process's choice
void set_denormals_flush_this_thread(bool on);   // explicit (tests)
bool denormals_flushed_this_thread();            // false where the CPU has no such mode

// This thread and every thread of the OpenMP pool behind at::parallel_for (and an
// OpenMP OpenBLAS) at its current size; threads made later inherit it.
void flush_denormals_everywhere();

}  // namespace gapscope

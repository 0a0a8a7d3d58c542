#pragma once
// Thread budgets and priorities: the UI thread keeps its frame rate while training and
// sampling use every idle cycle.
#include <functional>

namespace gapscope::gui {

// LibTorch's intra-op threads and OpenBLAS's threads, process-wide.
void limit_compute_threads(int n);
// The nice value of the lab's compute threads (training, sampling): the lowest, so the UI
// thread — which renders in software under llvmpipe — wins every contended core slice;
// the compute threads still get every cycle the UI leaves.
constexpr int kComputeNice = 19;

// A positive nice value for the calling thread (Linux nice values are per thread).
void lower_thread_priority(int nice_value);
// Runs fn on a short-lived thread with that nice value, so that threads fn starts (the
// trainer's) inherit it; returns when fn returns.
void run_in_background_priority(const std::function<void()>& fn, int nice_value);

}  // namespace gapscope::gui

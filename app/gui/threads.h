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

// Freed memory stays mapped in this process (glibc's heap is never trimmed, and blocks
// under 32 MiB come from the heap rather than from mmap). Returning pages to the system
// makes the kernel unmap them and flush the TLB of every core running one of the
// process's threads (a profile of the lab showed unmap_page_range and TLB flushes in the
// UI thread's slow frames): with training and sampling freeing their per-step buffers on
// the other core, that costs the UI thread and llvmpipe's rasterisers. Measured under
// xvfb, 300-frame runs of the default experiment: 2-D frame time p95 30.8-31.6 ms
// without, 22.7-25.8 ms with. Call before the threads start.
void keep_freed_memory_mapped();

// A positive nice value for the calling thread (Linux nice values are per thread).
void lower_thread_priority(int nice_value);
// Runs fn on a short-lived thread with that nice value, so that threads fn starts (the
// trainer's) inherit it; returns when fn returns.
void run_in_background_priority(const std::function<void()>& fn, int nice_value);

}  // namespace gapscope::gui

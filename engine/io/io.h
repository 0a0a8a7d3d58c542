#pragma once
// owns: what crosses the engine's edge as files — figures described once and drawn by Cairo as PNG, SVG or PDF, PNG screenshots, and PyTorch networks read and written.
// must not include: kernels/, nn/, sample/, transport/, train/, study/, <imgui, <GL (LibTorch only for its archive readers and writers, in the torch_* sources)
#include "io/figure.h"
#include "io/png.h"
#include "io/torch_export.h"
#include "io/torch_import.h"

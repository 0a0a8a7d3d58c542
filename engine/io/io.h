#pragma once
// owns: what leaves the engine as files for people — figures described once and drawn by Cairo as PNG, SVG or PDF, and raw-pixel PNG screenshots.
// must not include: kernels/, nn/, sample/, transport/, train/, study/, <torch/, <ATen/, <imgui, <GL
#include "io/figure.h"
#include "io/png.h"

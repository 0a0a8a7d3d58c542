#pragma once
// owns: the visual vocabulary every figure and every view shares — palette, colour maps, tick rules, number formats.
// must not include: core/, kernels/, nn/, sample/, transport/, train/, io/, study/, <torch/, <ATen/, <imgui, <GL, <cairo (plain data and arithmetic only)
#include "style/colormap.h"
#include "style/format.h"
#include "style/palette.h"
#include "style/ticks.h"

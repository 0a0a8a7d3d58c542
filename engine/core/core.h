#pragma once
// owns: the experiment's plain facts — config, point clouds, the SDE, the data sets, weight snapshots, the RNG and its bulk draws, atomic file writing.
// must not include: kernels/, nn/, sample/, transport/, train/, io/, study/, style/, <torch/, <ATen/, <imgui, <GL, <cairo
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/data.h"
#include "core/normals.h"
#include "core/npy.h"
#include "core/points.h"
#include "core/rng.h"
#include "core/sde.h"
#include "core/snapshot.h"

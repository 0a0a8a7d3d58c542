#pragma once
// owns: whole studies built from the layers below — evaluation of a checkpoint, the paper's table and figure (reproduce), the density and step-count studies.
// must not include: <imgui, <GL, <GLFW (the apps compose studies; studies never know the apps)
#include "study/density_figure.h"
#include "study/evaluate.h"
#include "study/reproduce.h"
#include "study/sweep_steps.h"

#pragma once
// owns: whole studies built from the layers below — evaluation of a checkpoint, the paper's table and figure (reproduce), the density and step-count studies, the residual–gap plot and the residual over training.
// must not include: <imgui, <GL, <GLFW (the apps compose studies; studies never know the apps)
#include "study/density_figure.h"
#include "study/evaluate.h"
#include "study/reproduce.h"
#include "study/residual_gap.h"
#include "study/residual_history.h"
#include "study/sweep_steps.h"

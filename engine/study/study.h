#pragma once
// owns: whole studies built from the layers below — evaluation of a checkpoint, the paper's table and figure (reproduce).
// must not include: <imgui, <GL, <GLFW (the apps compose studies; studies never know the apps)
#include "study/evaluate.h"
#include "study/reproduce.h"

#pragma once
// owns: the LibTorch reference path — the network, its jets, the residual and the losses as tensors — and ScoreFunction, the one place that picks fused or LibTorch.
// must not include: sample/, transport/, train/, io/, study/, style/, <imgui, <GL, <cairo
#include "nn/jet.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/residual.h"
#include "nn/score_function.h"

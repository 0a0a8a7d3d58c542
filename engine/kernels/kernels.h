#pragma once
// owns: the CPU hot path on raw float arrays — GEMM, Softplus and its derivatives, jets of the MLP, the fused potential loss, score and residual.
// must not include: nn/, sample/, transport/, train/, io/, study/, style/, <torch/, <imgui, <GL, <cairo (ATen only for at::parallel_for)
#include "kernels/activation.h"
#include "kernels/denormals.h"
#include "kernels/fused_potential.h"
#include "kernels/gemm.h"
#include "kernels/jet_blocks.h"

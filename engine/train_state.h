#pragma once
// Private to train.cpp and checkpoint.cpp: the torch-side state of a Trainer.
#include <torch/optim/adam.h>

#include <memory>
#include <random>

#include "data.h"
#include "model.h"
#include "sde.h"
#include "train.h"

namespace gapscope {

struct Trainer::Impl {
  Config cfg;
  Sde sde;
  Dataset data;
  Network net;
  std::unique_ptr<torch::optim::Adam> opt;
  std::mt19937_64 rng;   // every random draw of training comes from here: one state to checkpoint
  double seconds = 0;    // accumulated wall time of steps
  std::vector<std::vector<float>> grad;  // the fused path's gradient, reused across steps

  explicit Impl(const Config& c);
  void set_lr(double lr);
};

}  // namespace gapscope

#pragma once
// Private to train.cpp and checkpoint.cpp: the torch-side state of a Trainer.
#include <torch/optim/adam.h>

#include <memory>
#include <random>

#include "core/data.h"
#include "core/sde.h"
#include "nn/model.h"
#include "train/train.h"

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
  std::vector<Config::LrStage> stages;   // cfg.lr_stages()
  std::size_t stage = 0;                 // the stage whose Adam is `opt`
  double last_lambda = 0;                // lambda of the previous step (lambda_change)

  explicit Impl(const Config& c);
  void set_lr(double lr);
  void fresh_adam(double lr);  // a new optimiser state: stage boundaries, lambda_change = reset_adam
};

}  // namespace gapscope

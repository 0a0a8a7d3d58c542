#pragma once
// What crosses threads. The trainer publishes immutable snapshots (a shared_ptr
// swap); integrators, metrics and views only ever read them. Plain data, no torch,
// so the GUI can include this without pulling LibTorch into every file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gapscope {

struct Config;

enum class Activation { Softplus, Tanh, SiLU };

struct ModelSpec {
  bool potential = true;  // u_theta(x,t) with score grad_x u, or s_theta(x,t) directly
  int d = 2;
  int hidden = 80;
  int layers = 3;  // hidden layers
  Activation activation = Activation::Softplus;
  double softplus_beta = 100.0;
  // > 0: u_theta(x,t) = network(t,x) - |x|^2 / (2 prior_var), the prior's log-density as a
  // fixed offset (Config::potential_prior); 0: the network alone (the paper's).
  double prior_var = 0.0;

  int in_dim() const { return d + 1; }  // (t, x)
  int out_dim() const { return potential ? 1 : d; }
  static ModelSpec from_config(const Config& c);
};

Activation parse_activation(const std::string& name);
const char* activation_name(Activation a);  // the config's spelling: "softplus", "tanh", "silu"

struct WeightSnapshot {
  ModelSpec spec;
  // Layer l maps in_l -> out_l: weights[l] is out_l x in_l row-major (torch's Linear layout).
  std::vector<std::vector<float>> weights, biases;
  int64_t iteration = 0;
  uint64_t version = 0;
};
using SnapshotPtr = std::shared_ptr<const WeightSnapshot>;

}  // namespace gapscope

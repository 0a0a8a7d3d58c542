#pragma once
// PyTorch files in, weight snapshots out, without Python: a whole pickled nn.Module
// (torch.save(net)), a state_dict (torch.save(net.state_dict())), or either under a
// "state_dict", "model_state_dict" or "model" key of a dict, as training scripts save them.
// The nn.Linear layers, in definition order (module) or key order (state_dict), become
// the MLP on (t, x) — input column 0 is t — and the architecture comes from their shapes.
// Torch-free header; torch_import.cpp reads the zip with LibTorch's stream reader.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/snapshot.h"

namespace gapscope {

// What the caller already knows about the network (from --config or --set): it fills what
// the file does not say (a state_dict names no activation; a 1-D network with one output
// may be a potential or a score) and is checked against what the file does say.
struct TorchImportExpect {
  std::string from = "the config";  // named in messages: "--config F", "--set"
  std::optional<int> d, hidden, layers;
  std::optional<bool> potential;
  std::optional<Activation> activation;
  std::optional<double> softplus_beta;
};

struct TorchImportReport {
  std::string file;
  std::string format;               // "whole module models.Net", "state_dict under 'model'", …
  std::vector<std::string> layers;  // the Linear layers' names, input first
  std::string activation;           // "Softplus(beta=100) from module 'activation'", or what was assumed
  bool activation_assumed = false;
  std::string model_kind;           // "potential (1 output)", "score (d outputs)", or what was assumed
  std::string iteration_source;     // "0 (the file does not say)", "key 'step'", "the file name"
  std::vector<std::string> ignored;   // what the file held besides the network
  std::vector<std::string> warnings;  // assumed defaults and lossy conversions, one line each
  // The authors' file names <dataset>_net__FP_weight_<λ>__iteration_<it>: what they say.
  std::string name_dataset;
  std::optional<double> name_lambda;

  std::string summary() const;  // one line: format, architecture, activation, iteration
};

// What an authors' file name <dataset>_net__FP_weight_<λ>__iteration_<it>[.pt|.pth] says;
// nullopt for any other name. The one parser of those names (import and reproduce).
struct AuthorsName {
  std::string dataset;
  std::optional<double> lambda;
  int64_t iteration = 0;
};
std::optional<AuthorsName> parse_authors_name(const std::string& path);

// Throws std::runtime_error "FILE: what was expected" (one line) when the file is not a
// torch archive, holds no network, has a layer that cannot be mapped, inconsistent shapes
// or a mismatch with `expect`. prior_var of the result is 0 (the network alone).
WeightSnapshot import_torch(const std::string& path, TorchImportReport* report = nullptr,
                            const TorchImportExpect& expect = {});

}  // namespace gapscope

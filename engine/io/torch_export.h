#pragma once
// Weight snapshots out to PyTorch: a state_dict that Python's torch.load reads and
// nn.Module.load_state_dict accepts. Key rule: a potential network (one output) with
// Softplus and three hidden layers — the shape family of the paper's models.Net, any d,
// width or beta — gets its attribute names, input, hidden1, hidden2, output (.weight and
// .bias); every other network gets layers.0 … layers.L, the keys of an nn.ModuleList
// named `layers`. Input column 0 is t. Torch-free header.
#include <string>
#include <vector>

#include "core/snapshot.h"

namespace gapscope {

// The layer names (key prefixes) export_torch uses for a network of this spec.
std::vector<std::string> torch_export_layer_names(const ModelSpec& spec);

struct TorchExportReport {
  std::vector<std::string> keys;      // in the file's order
  std::vector<std::string> warnings;  // what the state_dict cannot say (the prior offset)
};

// Writes atomically; throws std::runtime_error "FILE: why" (one line).
void export_torch(const WeightSnapshot& w, const std::string& path, TorchExportReport* report = nullptr);

}  // namespace gapscope

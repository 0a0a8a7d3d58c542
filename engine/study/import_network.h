#pragma once
// A PyTorch network (io/torch_import) as a ready Trainer: the config's architecture from
// the tensors' shapes (checked against a config file when one is given), the data set
// and λ from the authors' file names when nothing else says, a fresh Adam, an empty
// history, and in origin() where the weights came from. The CLI's `import` saves it; the
// lab adopts it.
#include <memory>
#include <string>
#include <vector>

#include "train/train.h"

namespace gapscope {

struct ImportedNetwork {
  std::unique_ptr<Trainer> trainer;
  std::string summary;                 // what was read, in one line
  std::vector<std::string> notes;      // config values taken from the file or assumed
  std::vector<std::string> warnings;   // defaults assumed for what the file does not say
  std::vector<std::string> ignored;    // entries of the file that are not the network
};

// config_path may be empty (then the architecture comes from the file); sets are
// key=value overrides. Throws std::runtime_error / std::invalid_argument in one line
// naming the file.
ImportedNetwork import_network(const std::string& file, const std::string& config_path = "",
                               const std::vector<std::string>& sets = {});

}  // namespace gapscope

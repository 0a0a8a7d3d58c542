#include "io/torch_export.h"

#include <ATen/core/Dict.h>
#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"

namespace gapscope {

std::vector<std::string> torch_export_layer_names(const ModelSpec& spec) {
  if (spec.potential && spec.layers == 3 && spec.activation == Activation::Softplus)
    return {"input", "hidden1", "hidden2", "output"};
  std::vector<std::string> names;
  for (int l = 0; l <= spec.layers; ++l) names.push_back("layers." + std::to_string(l));
  return names;
}

void export_torch(const WeightSnapshot& w, const std::string& path, TorchExportReport* report) {
  TorchExportReport local;
  TorchExportReport& rep = report ? *report : local;
  rep = TorchExportReport{};
  const ModelSpec& s = w.spec;
  const auto names = torch_export_layer_names(s);
  if (w.weights.size() != names.size() || w.biases.size() != names.size())
    throw std::runtime_error(path + ": the snapshot has " + std::to_string(w.weights.size()) + " layers, its spec " +
                             std::to_string(names.size()));
  try {
    c10::Dict<std::string, at::Tensor> sd;
    for (std::size_t l = 0; l < names.size(); ++l) {
      const int64_t in = l == 0 ? s.in_dim() : s.hidden;
      const int64_t out = l + 1 == names.size() ? s.out_dim() : s.hidden;
      if (w.weights[l].size() != static_cast<std::size_t>(in * out) || w.biases[l].size() != static_cast<std::size_t>(out))
        throw std::runtime_error(path + ": layer " + std::to_string(l) + " of the snapshot does not have its spec's shape");
      at::Tensor W = at::empty({out, in}, at::kFloat), b = at::empty({out}, at::kFloat);
      std::memcpy(W.data_ptr<float>(), w.weights[l].data(), w.weights[l].size() * sizeof(float));
      std::memcpy(b.data_ptr<float>(), w.biases[l].data(), w.biases[l].size() * sizeof(float));
      sd.insert(names[l] + ".weight", W);
      sd.insert(names[l] + ".bias", b);
      rep.keys.push_back(names[l] + ".weight");
      rep.keys.push_back(names[l] + ".bias");
    }
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(sd));
    write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    const std::string m = e.what_without_backtrace();
    throw std::runtime_error(path + ": " + m.substr(0, m.find('\n')));
  }
  if (s.prior_var > 0) {
    std::ostringstream o;
    o << "the prior offset -|x|^2/(2*" << s.prior_var
      << ") of this checkpoint's potential is not in the weights: add it to the network's output in PyTorch";
    rep.warnings.push_back(o.str());
  }
}

}  // namespace gapscope

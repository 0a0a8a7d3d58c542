// gapscope-cli import FILE --out DIR [--config F] [--set key=value]...
// A PyTorch network (whole pickled module, state_dict, or either wrapped in a dict) becomes
// a gapscope checkpoint: the config's architecture from the tensors' shapes (checked
// against --config when given), a fresh Adam, an empty history, the file's iteration
// (0 when it does not say) and in state.json's "origin" where the weights came from.
#include <iostream>

#include "commands.h"
#include "core/config.h"
#include "study/import_network.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct ImportArgs {
  std::string file, out, config;
  std::vector<std::string> sets;
  bool quiet = false;
};

void run_import(const ImportArgs& a) {
  Trainer::check_save_target(a.out);  // before the work
  ImportedNetwork net = import_network(a.file, a.config, a.sets);
  Trainer& tr = *net.trainer;
  const std::string notice = tr.save(a.out);
  if (!notice.empty()) std::cerr << "note: " << notice << "\n";

  if (!a.quiet) {
    std::cerr << "import: " << net.summary << "\n";
    for (const auto& n : net.notes) std::cerr << "import: config: " << n << "\n";
    if (!net.ignored.empty()) {
      std::string list;
      for (const auto& i : net.ignored) list += (list.empty() ? "" : ", ") + i;
      std::cerr << "import: ignored " << list << "\n";
    }
  }
  for (const auto& wn : net.warnings) std::cerr << "warning: " << a.file << ": " << wn << "\n";
  std::cerr << "saved checkpoint " << a.out << " at iteration " << tr.iteration() << "\n";
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<ImportArgs>();
  auto* c = root.add_subcommand("import", "turn a PyTorch file (whole module or state_dict) into a checkpoint directory");
  c->add_option("file", a->file, "file written by torch.save")->required();
  c->add_option("--out", a->out, "checkpoint directory to write")->required();
  c->add_option("--config", a->config, "experiment JSON the network must match (default: the architecture from the file)")
      ->check(CLI::ExistingFile);
  c->add_option("--set", a->sets, "override a config key, key=value (repeatable)");
  c->add_flag("--quiet", a->quiet, "only warnings and the final line on stderr");
  c->callback([a] { run_import(*a); });
});

}  // namespace
}  // namespace gapscope::cli

// gapscope-cli export --checkpoint DIR --out FILE.pt
// The checkpoint's network as a PyTorch state_dict (io/torch_export.h has the key rule).
#include <iostream>

#include "commands.h"
#include "io/torch_export.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct ExportArgs {
  std::string checkpoint, out;
};

void run_export(const ExportArgs& a) {
  auto tr = Trainer::load(a.checkpoint);
  const SnapshotPtr w = tr->snapshot();
  TorchExportReport rep;
  export_torch(*w, a.out, &rep);
  const ModelSpec& s = w->spec;
  std::string keys;
  for (const auto& k : rep.keys) keys += (keys.empty() ? "" : ", ") + k;
  std::cerr << "export: " << keys << "\n";
  std::cerr << "export: a " << (s.potential ? "potential" : "score") << " network on (t, x) with d = " << s.d << ", "
            << s.layers << " hidden layers of " << s.hidden << ", activation " << activation_name(s.activation);
  if (s.activation == Activation::Softplus) std::cerr << " (beta " << s.softplus_beta << ")";
  std::cerr << " after each hidden layer\n";
  for (const auto& wn : rep.warnings) std::cerr << "warning: " << a.out << ": " << wn << "\n";
  std::cerr << "wrote " << a.out << " (iteration " << tr->iteration() << ")\n";
}

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<ExportArgs>();
  auto* c = root.add_subcommand("export", "write a checkpoint's network as a PyTorch state_dict (torch.load reads it)");
  c->add_option("--checkpoint", a->checkpoint, "checkpoint directory")->required();
  c->add_option("--out", a->out, "file to write, e.g. net.pt")->required();
  c->callback([a] { run_export(*a); });
});

}  // namespace
}  // namespace gapscope::cli

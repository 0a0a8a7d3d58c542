// gapscope-cli import FILE --out DIR [--config F] [--set key=value]...
// A PyTorch network (whole pickled module, state_dict, or either wrapped in a dict) becomes
// a gapscope checkpoint: the config's architecture from the tensors' shapes (checked
// against --config when given), a fresh Adam, an empty history, the file's iteration
// (0 when it does not say) and in state.json's "origin" where the weights came from.
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.h"
#include "core/config.h"
#include "io/torch_import.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

namespace fs = std::filesystem;

struct ImportArgs {
  std::string file, out, config;
  std::vector<std::string> sets;
  bool quiet = false;
};

// The data set of a network trained elsewhere, when no --config names one.
std::string pick_dataset(Config& c, const TorchImportReport& rep, int d, std::vector<std::string>& notes) {
  if (!rep.name_dataset.empty()) {
    Config trial = c;
    trial.dataset = rep.name_dataset;
    try {
      trial.validate();
      if (trial.dim() == d) {
        notes.push_back("data set " + rep.name_dataset + " (the file name)");
        return rep.name_dataset;
      }
    } catch (const std::exception&) {
    }
  }
  if (d == 1) {
    notes.push_back("data set mixture1d (a 1-D network; --set dataset=… for another)");
    return "mixture1d";
  }
  if (d == 2) {
    notes.push_back("data set " + c.dataset + " (the default; --set dataset=… for another)");
    return c.dataset;
  }
  throw std::runtime_error(rep.file + ": a d = " + std::to_string(d) +
                           " network; pass --config (or --set dataset=…) with a data set of that dimension");
}

void run_import(const ImportArgs& a) {
  Config cfg = a.config.empty() ? Config{} : load_config(a.config);
  apply_overrides(cfg, a.sets);
  std::set<std::string> set_keys;
  for (const auto& s : a.sets) set_keys.insert(s.substr(0, s.find('=')));
  auto given = [&](const char* key) { return !a.config.empty() || set_keys.count(key) > 0; };

  TorchImportExpect ex;
  ex.from = a.config.empty() ? "--set" : "--config " + a.config;
  if (given("model")) ex.potential = cfg.model == "potential";
  if (given("hidden")) ex.hidden = cfg.hidden;
  if (given("layers")) ex.layers = cfg.layers;
  if (given("activation")) ex.activation = parse_activation(cfg.activation);
  if (given("softplus_beta") && cfg.activation == "softplus") ex.softplus_beta = cfg.softplus_beta;
  if (given("dataset") || set_keys.count("mixture_dim") || set_keys.count("data_csv")) ex.d = cfg.dim();

  TorchImportReport rep;
  WeightSnapshot w = import_torch(a.file, &rep, ex);
  const ModelSpec& s = w.spec;

  std::vector<std::string> notes;
  if (a.config.empty()) {
    cfg.model = s.potential ? "potential" : "score";
    cfg.hidden = s.hidden;
    cfg.layers = s.layers;
    cfg.activation = activation_name(s.activation);
    cfg.softplus_beta = s.softplus_beta;
    if (!set_keys.count("dataset")) cfg.dataset = pick_dataset(cfg, rep, s.d, notes);
    if (!set_keys.count("lambda") && rep.name_lambda) {
      cfg.lambda = *rep.name_lambda;
      std::ostringstream o;
      o << "lambda " << cfg.lambda << " (the file name)";
      notes.push_back(o.str());
    }
    cfg.validate();
  }
  if (cfg.dim() != s.d)
    throw std::runtime_error(a.file + ": a d = " + std::to_string(s.d) + " network, but data set " + cfg.dataset +
                             " has d = " + std::to_string(cfg.dim()));
  if (cfg.potential_prior)
    rep.warnings.push_back("potential_prior adds the prior's log-density to the imported network's output: "
                           "the checkpoint's potential is no longer the file's");

  Trainer::check_save_target(a.out);

  Trainer tr(cfg);
  tr.load_weights(w);
  std::string origin = "imported from " + fs::absolute(a.file).lexically_normal().string() + ": " + rep.summary();
  for (const auto& wn : rep.warnings) origin += "; " + wn;
  tr.set_origin(origin);
  const std::string notice = tr.save(a.out);
  if (!notice.empty()) std::cerr << "note: " << notice << "\n";

  if (!a.quiet) {
    std::cerr << "import: " << rep.summary() << "\n";
    for (const auto& n : notes) std::cerr << "import: config: " << n << "\n";
    if (!rep.ignored.empty()) {
      std::string list;
      for (const auto& i : rep.ignored) list += (list.empty() ? "" : ", ") + i;
      std::cerr << "import: ignored " << list << "\n";
    }
  }
  for (const auto& wn : rep.warnings) std::cerr << "warning: " << a.file << ": " << wn << "\n";
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

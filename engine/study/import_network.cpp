#include "study/import_network.h"

#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/config.h"
#include "io/torch_import.h"

namespace gapscope {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

ImportedNetwork import_network(const std::string& file, const std::string& config_path,
                               const std::vector<std::string>& sets) {
  Config cfg = config_path.empty() ? Config{} : load_config(config_path);
  apply_overrides(cfg, sets);
  std::set<std::string> set_keys;
  for (const auto& s : sets) set_keys.insert(s.substr(0, s.find('=')));
  auto given = [&](const char* key) { return !config_path.empty() || set_keys.count(key) > 0; };

  TorchImportExpect ex;
  ex.from = config_path.empty() ? "--set" : "--config " + config_path;
  if (given("model")) ex.potential = cfg.model == "potential";
  if (given("hidden")) ex.hidden = cfg.hidden;
  if (given("layers")) ex.layers = cfg.layers;
  if (given("activation")) ex.activation = parse_activation(cfg.activation);
  if (given("softplus_beta") && cfg.activation == "softplus") ex.softplus_beta = cfg.softplus_beta;
  if (given("dataset") || set_keys.count("mixture_dim") || set_keys.count("data_csv") ||
      set_keys.count("data_file"))
    ex.d = cfg.dim();

  TorchImportReport rep;
  WeightSnapshot w = import_torch(file, &rep, ex);
  const ModelSpec& s = w.spec;

  std::vector<std::string> notes;
  if (config_path.empty()) {
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
    throw std::runtime_error(file + ": a d = " + std::to_string(s.d) + " network, but data set " + cfg.dataset +
                             " has d = " + std::to_string(cfg.dim()));
  if (cfg.potential_prior)
    rep.warnings.push_back("potential_prior adds the prior's log-density to the imported network's output: "
                           "the checkpoint's potential is no longer the file's");

  ImportedNetwork out;
  out.trainer = std::make_unique<Trainer>(cfg);
  out.trainer->load_weights(w);
  std::string origin = "imported from " + fs::absolute(file).lexically_normal().string() + ": " + rep.summary();
  for (const auto& wn : rep.warnings) origin += "; " + wn;
  out.trainer->set_origin(origin);
  out.summary = rep.summary();
  out.notes = std::move(notes);
  out.warnings = rep.warnings;
  out.ignored = rep.ignored;
  return out;
}

}  // namespace gapscope

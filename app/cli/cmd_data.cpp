// gapscope-cli data --dataset NAME --n N [--seed S] --out FILE.csv
#include <iostream>

#include "commands.h"
#include "core/points.h"
#include "core/config.h"
#include "core/data.h"

namespace gapscope::cli {
namespace {

struct DataArgs {
  std::string config, dataset, out;
  std::vector<std::string> sets;
  std::size_t n = 10000;
  uint64_t seed = 0;
};

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<DataArgs>();
  auto* c = root.add_subcommand("data", "draw samples of a data set");
  c->add_option("--dataset", a->dataset, "blob|checker|circles2|mixture1d|mixture|moons|swissroll|csv|file");
  c->add_option("--config", a->config, "experiment JSON whose data set to use")->check(CLI::ExistingFile);
  c->add_option("--set", a->sets, "override a config key, key=value (repeatable)");
  c->add_option("--n", a->n, "number of samples")->check(CLI::PositiveNumber);
  c->add_option("--seed", a->seed, "random seed");
  c->add_option("--out", a->out, "output CSV")->required();
  c->callback([a] {
    Config cfg = a->config.empty() ? Config{} : load_config(a->config);
    std::vector<std::string> sets = a->sets;
    if (!a->dataset.empty()) sets.insert(sets.begin(), "dataset=" + a->dataset);
    apply_overrides(cfg, sets);
    check_points_fit(a->n, cfg.dim(), 4 + 20, "--n");  // the cloud and its CSV text
    write_points_csv(a->out, sample_dataset(cfg, a->n, a->seed));
  });
});

}  // namespace
}  // namespace gapscope::cli

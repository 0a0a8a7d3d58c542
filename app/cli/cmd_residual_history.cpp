// gapscope-cli residual-history --checkpoint DIR | --history FILE.csv [--config FILE.json]
//                               --out FILE.csv|.png|.svg|.pdf [--out ...] [--title TEXT]
// The per-time-slice residual over training (study/residual_history.h): the history's
// res_slice_* columns as an iteration x t heatmap, or as a long CSV. Light: no LibTorch;
// the slices' time range comes from the checkpoint's config.json.
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
#include "core/config.h"
#include "study/output_file.h"
#include "study/residual_history.h"
#include "style/format.h"
#include "train/train.h"

namespace gapscope::cli {
namespace {

struct HistoryArgs {
  std::string checkpoint, history, config, title;
  std::vector<std::string> out;
};

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<HistoryArgs>();
  auto* c = root.add_subcommand("residual-history",
                                "the mean |R| per time slice over training (iteration x t heatmap) of a checkpoint's "
                                "history.csv");
  auto* ck = c->add_option("--checkpoint", a->checkpoint, "a checkpoint folder (its history.csv and config.json)");
  auto* hi = c->add_option("--history", a->history, "a history.csv instead (with --config, or the default T and eps)");
  ck->excludes(hi);
  c->add_option("--config", a->config, "the experiment JSON of --history (default: the checkpoint's config.json)");
  c->add_option("--out", a->out, "FILE.csv (iteration,lambda,slice,t0,t1,res_mean_abs) or FILE.png|.svg|.pdf; repeatable")
      ->required();
  c->add_option("--title", a->title, "the figure's title (default: the data set, the last λ and the iterations)");
  c->callback([a] {
    namespace fs = std::filesystem;
    if (a->checkpoint.empty() && a->history.empty()) throw std::runtime_error("give --checkpoint DIR or --history FILE");
    const std::string hist = a->history.empty() ? (fs::path(a->checkpoint) / "history.csv").string() : a->history;
    std::string cfg_file = a->config;
    if (cfg_file.empty() && !a->checkpoint.empty()) cfg_file = (fs::path(a->checkpoint) / "config.json").string();
    const Config cfg = cfg_file.empty() ? Config{} : load_config(cfg_file);
    const auto rows = History::read_csv(hist);
    const ResidualHistory h = residual_history(rows, cfg.eps, cfg.T);
    std::string title = a->title;
    if (title.empty())
      title = "Residual over training: " + cfg.dataset +
              (rows.empty() ? "" : ", \u03bb = " + style::number(rows.back().lambda) + ", " +
                                       std::to_string(rows.back().iteration) + " iterations");
    for (const auto& o : a->out) {
      write_csv_or_figure(o, [&] { return residual_history_csv(h); }, [&] { return residual_history_figure(h, title); });
      std::cout << o << " (" << h.iteration.size() << " measured iterations)\n";
    }
  });
});

}  // namespace
}  // namespace gapscope::cli

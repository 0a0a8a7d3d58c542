// gapscope-cli residual-gap --from DIR|FILE.csv [--from ...] [--label TEXT ...]
//                           --out FILE.csv|.png|.svg|.pdf [--out ...] [--title TEXT] [--note TEXT ...]
// The residual–gap plot (study/residual_gap.h) of points pooled from reproduce output
// folders (their residual_gap.csv), lab export folders (the same file) or such CSV files:
// the CSV of all of them, or their figure. Light: no LibTorch is loaded.
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
#include "study/output_file.h"
#include "study/residual_gap.h"

namespace gapscope::cli {
namespace {

struct GapArgs {
  std::vector<std::string> from, out, label, note;
  std::string title = "Residual against the ODE\u2013SDE gap";
};

Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<GapArgs>();
  auto* c = root.add_subcommand("residual-gap",
                                "the residual-gap plot: residual of the weights against W2(ODE, SDE)^2, log-log, "
                                "coloured by lambda, from reproduce or lab output");
  c->add_option("--from", a->from,
                "a reproduce --out folder or a lab export folder (its residual_gap.csv), or such a CSV; repeatable")
      ->required();
  c->add_option("--out", a->out, "FILE.csv (the pooled points) or FILE.png|.svg|.pdf (the figure); repeatable")
      ->required();
  c->add_option("--label", a->label,
                "a name for the points of the k-th --from, put before their source (\"prior offset: blob\"); repeatable");
  c->add_option("--title", a->title, "the figure's title")->capture_default_str();
  c->add_option("--note", a->note, "a line under the figure (how the points were made); repeatable");
  c->callback([a] {
    if (a->label.size() > a->from.size())
      throw std::runtime_error("--label: " + std::to_string(a->label.size()) + " labels for " +
                               std::to_string(a->from.size()) + " --from inputs");
    std::vector<ResidualGapPoint> pts;
    for (std::size_t k = 0; k < a->from.size(); ++k) {
      const std::string& f = a->from[k];
      namespace fs = std::filesystem;
      const std::string file = fs::is_directory(f) ? (fs::path(f) / "residual_gap.csv").string() : f;
      if (!fs::exists(file))
        throw std::runtime_error(file + ": no such file" +
                                 (fs::is_directory(f) ? " (reproduce and the lab's Export write it)" : ""));
      auto more = read_residual_gap_csv(file);
      if (k < a->label.size())
        for (auto& p : more) p.source = a->label[k] + ": " + p.source;
      pts.insert(pts.end(), more.begin(), more.end());
    }
    for (const auto& o : a->out) {
      write_csv_or_figure(
          o, [&] { return residual_gap_csv(pts); },
          [&] {
            std::vector<std::string> notes = a->note;
            if (notes.empty())
              notes.push_back(std::to_string(pts.size()) + " points from " + std::to_string(a->from.size()) +
                              (a->from.size() == 1 ? " input." : " inputs."));
            return residual_gap_figure(pts, a->title, notes);
          });
      std::cout << o << "\n";
    }
  });
});

}  // namespace
}  // namespace gapscope::cli

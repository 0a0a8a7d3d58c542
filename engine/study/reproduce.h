#pragma once
// Reproduces the paper's table (math.md §5). One model per (data set, λ) cell, trained
// from assets/experiments/<dataset>.json, sampled by ODE and SDE from the same prior
// draws, compared with the grid W2 metric; the results go to DIR/table.csv, DIR/table.md
// and one figure (io/figure.h) as DIR/figure.png, DIR/figure.svg and DIR/figure.pdf.
// With `networks` set, the cells are the authors' trained PyTorch networks found there
// (study/import_network) and nothing is trained.
//
// Resumable and shardable: every cell lives in DIR/cells/<dataset>_lambda<λ>/ with its
// checkpoint (saved every save_every iterations), result.json and small point clouds
// for the figure. Finished cells are skipped; cell k (in plan order) belongs to shard
// k mod n. No torch here: the CLI sets LibTorch's thread count through thread_init.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gapscope {

struct ReproduceOptions {
  std::vector<std::string> datasets{"blob", "checker", "circles2"};
  std::vector<double> weights{0, 0.1, 1, 10};  // λ
  int64_t iterations = 100000;
  std::size_t samples = 3000000;  // per cloud (ODE, SDE, data)
  int grid = 64;                  // grid metric nodes per axis ...
  double box = 4.0;               // ... on [-box, box]^2
  bool clamp = false;             // false: the validation metric (outside samples dropped); true: the table's
  int sample_steps = 800;         // N of the final evaluation (< 1: the experiment file's)
  std::vector<std::string> overrides;  // "key=value" applied to every cell's config
  std::string experiments_dir;         // default: <source>/assets/experiments
  // A directory laid out like the authors' repository (find_networks): its networks are
  // the cells, filtered by datasets/weights when those are non-empty.
  std::string networks;
  std::string out = "reproduce";
  int jobs = 1;
  int shard_index = 0, shard_count = 1;
  int64_t save_every = 1000;  // checkpoint every K iterations
  uint64_t seed = 0;          // training seed of every cell; evaluation seed too
  std::size_t figure_points = 10000;  // points per cloud kept in the cell for the figure
  std::size_t chunk = 100000;         // sampler batch
  std::function<void()> thread_init;  // run once on each worker thread before its first cell
};

// "paper" (GPU batch sizes, 100 000 iterations, 3 000 000 samples), "laptop" (about an
// hour on 2 CPU cores), "smoke" (about a minute; used by the tests).
ReproduceOptions reproduce_preset(const std::string& name);
std::string preset_description(const std::string& name);

struct CellSpec {
  int index = 0;  // position in plan order (datasets outer, λ inner)
  std::string dataset;
  double lambda = 0;
  std::string name;  // <dataset>_lambda<λ>
  std::string network;    // --networks: the PyTorch file of the cell
  int64_t iteration = 0;  // --networks: its training iteration (from the file name)
};
std::string cell_name(const std::string& dataset, double lambda);  // "blob_lambda0.1"
std::vector<CellSpec> plan_cells(const ReproduceOptions& o);      // every cell, before sharding
std::vector<CellSpec> shard_cells(const ReproduceOptions& o);     // this shard's cells
// The authors' networks under dir: every file named
// <dataset>_net__FP_weight_<λ>__iteration_<it> (their checkpoints/<dataset>/w<λ>/ layout, or
// the files alone), the highest iteration of each (data set, λ), in plan order. Throws
// naming dir when there is none.
std::vector<CellSpec> find_networks(const std::string& dir);
// "i/n" -> (i, n); throws std::invalid_argument unless 0 <= i < n.
void parse_shard(const std::string& s, int& index, int& count);

struct CellResult {
  std::string dataset;
  double lambda = 0;
  double w2_ode_sde = NAN, w2_ode_data = NAN, w2_sde_data = NAN;  // grid metric
  int64_t iterations = 0;
  double seconds = 0;  // train_seconds + eval_seconds
  double train_seconds = 0, eval_seconds = 0;
  std::size_t samples = 0, grid_used = 0;
  int grid = 0, steps = 0;
  double box = 0;
  bool clamp = false;    // the metric: table (true) or validation
  std::string network;   // the imported PyTorch file (empty: trained here)
  uint64_t seed = 0;
  std::size_t nfe_ode = 0, nfe_sde = 0;  // network evaluations per particle of each sampler (0: not recorded)
  double res_mean_sq = NAN, res_mean_abs = NAN, res_max_abs = NAN;
  double res_time_weighted = NAN;  // R²_g (study/residual_gap.h); NaN in results written before it
  double outside_ode = NAN, outside_sde = NAN;  // share of each cloud outside [-box, box]^2 (dropped by the metric)
  std::vector<std::string> notes;
  std::string dir;  // the cell directory it was read from (not stored in result.json)
};
nlohmann::json to_json(const CellResult& r);
CellResult cell_result_from_json(const nlohmann::json& j);

struct ReproduceEvents {
  // what: "skip" (finished before), "start", "resume" (from a checkpoint), "evaluate", "done", "failed: ..."
  std::function<void(const CellSpec&, const std::string& what)> on_cell;
  // Training progress of one cell (called from its worker thread every few iterations).
  std::function<void(const CellSpec&, int64_t iteration, int64_t target)> on_iteration;
  // Evaluation progress of one cell: stage "ode", "sde", "data", "w2_grid", …; fraction in [0, 1].
  std::function<void(const CellSpec&, const std::string& stage, double fraction)> on_evaluate;
};

struct ReproduceSummary {
  std::vector<CellResult> results;  // every finished cell of the plan found in out (also earlier runs)
  int ran = 0, skipped = 0, failed = 0;
  std::vector<std::string> errors;
};

// Runs this shard's cells (jobs at a time), then writes the table and the figure of
// every finished cell of the plan in o.out. Failed cells are listed in the summary
// (the others still run); the CLI turns them into a non-zero exit.
ReproduceSummary run_reproduce(const ReproduceOptions& o, const ReproduceEvents& ev = {});

// Reads <dir>/cells/*/result.json of every dir (a cell found twice: the first wins),
// sorted by data set (blob, checker, circles2, then by name) and λ.
std::vector<CellResult> collect_cells(const std::vector<std::string>& dirs);

// table.csv, table.md, figure.png, figure.svg, figure.pdf, and the residual–gap plot of the
// cells (study/residual_gap.h) as residual_gap.csv and residual_gap.{png,svg,pdf}, in out
// (created if missing).
void write_reproduce_outputs(const std::string& out, const std::vector<CellResult>& cells);

}  // namespace gapscope

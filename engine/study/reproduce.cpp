#include "study/reproduce.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/data.h"
#include "core/points.h"
#include "io/figure.h"
#include "kernels/denormals.h"
#include "io/torch_import.h"
#include "study/import_network.h"
#include "study/evaluate.h"
#include "study/residual_gap.h"
#include "style/format.h"
#include "style/palette.h"
#include "train/train.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace gapscope {

// ---- presets ---------------------------------------------------------------------------

ReproduceOptions reproduce_preset(const std::string& name) {
  ReproduceOptions o;
  if (name == "paper") {
    // math.md §5 on a GPU: the paper's batch sizes, 100 000 iterations, 3 000 000 samples,
    // N = 800 at evaluation.
    o.iterations = 100000;
    o.samples = 3000000;
    o.sample_steps = 800;
    o.overrides = {"batch_dsm=200000", "batch_collocation=50000"};
    o.save_every = 5000;
  } else if (name == "laptop") {
    // About 25 minutes of 2 CPU cores for the 12 cells (docs/results.md): the paper's CPU
    // batch sizes (the experiment files' defaults) and its 25/65/10 lr schedule over 3 % of
    // its iterations.
    o.iterations = 3000;
    o.samples = 20000;
    o.sample_steps = 200;
    o.overrides = {"residual_stats_every=0"};
    o.save_every = 1000;
  } else if (name == "smoke") {
    // About a minute: the plumbing, not the science.
    o.datasets = {"blob", "circles2"};
    o.weights = {0, 1};
    o.iterations = 150;
    o.samples = 20000;
    o.grid = 32;
    o.sample_steps = 40;
    o.overrides = {"hidden=32",          "batch_dsm=256",        "batch_collocation=256", "lr_schedule=constant",
                   "residual_stats_every=0", "sample_refine=2", "sample_refine_factor=5"};
    o.save_every = 50;
    o.figure_points = 3000;
  } else {
    throw std::invalid_argument("preset '" + name + "': expected paper|laptop|smoke");
  }
  return o;
}

std::string preset_description(const std::string& name) {
  const ReproduceOptions o = reproduce_preset(name);
  std::ostringstream s;
  s << name << ": " << o.datasets.size() << " data sets x " << o.weights.size() << " weights, " << o.iterations
    << " iterations, " << o.samples << " samples, grid " << o.grid << ", N = " << o.sample_steps;
  for (const auto& a : o.overrides) s << ", " << a;
  return s.str();
}

// ---- plan ------------------------------------------------------------------------------

namespace {
// The paper's order of its data sets; others after them, by name.
int dataset_rank(const std::string& d) {
  if (d == "blob") return 0;
  if (d == "checker") return 1;
  if (d == "circles2") return 2;
  return 3;
}

// Plan order: the paper's data sets first, then by name; λ ascending within a data set.
bool plan_before(const std::string& da, double la, const std::string& db, double lb) {
  const int ra = dataset_rank(da), rb = dataset_rank(db);
  if (ra != rb) return ra < rb;
  if (da != db) return da < db;
  return la < lb;
}

}  // namespace

std::string cell_name(const std::string& dataset, double lambda) {
  return dataset + "_lambda" + style::number(lambda, 6);
}

std::vector<CellSpec> find_networks(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::invalid_argument("--networks " + dir + ": not a directory");
  std::map<std::pair<std::string, double>, CellSpec> best;
  auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw std::runtime_error("--networks " + dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw std::runtime_error("--networks " + dir + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const auto a = parse_authors_name(it->path().string());
    if (!a || !a->lambda) continue;
    CellSpec c;
    c.dataset = a->dataset;
    c.lambda = *a->lambda;
    c.name = cell_name(c.dataset, c.lambda);
    c.network = it->path().lexically_normal().string();
    c.iteration = a->iteration;
    auto [at, fresh] = best.emplace(std::make_pair(c.dataset, c.lambda), c);
    if (!fresh && (c.iteration > at->second.iteration ||
                   (c.iteration == at->second.iteration && c.network < at->second.network)))
      at->second = c;
  }
  if (best.empty())
    throw std::invalid_argument("--networks " + dir +
                                ": no file named <dataset>_net__FP_weight_<λ>__iteration_<it> (the authors' "
                                "checkpoints/<dataset>/w<λ>/ layout) in it");
  std::vector<CellSpec> v;
  for (auto& [key, c] : best) v.push_back(c);
  std::stable_sort(v.begin(), v.end(), [](const CellSpec& a, const CellSpec& b) {
    return plan_before(a.dataset, a.lambda, b.dataset, b.lambda);
  });
  for (std::size_t k = 0; k < v.size(); ++k) v[k].index = static_cast<int>(k);
  return v;
}

std::vector<CellSpec> plan_cells(const ReproduceOptions& o) {
  std::vector<CellSpec> v;
  if (!o.networks.empty()) {
    for (auto& c : find_networks(o.networks)) {
      const bool d_ok = o.datasets.empty() || std::count(o.datasets.begin(), o.datasets.end(), c.dataset) > 0;
      const bool l_ok = o.weights.empty() || std::count(o.weights.begin(), o.weights.end(), c.lambda) > 0;
      if (d_ok && l_ok) {
        c.index = static_cast<int>(v.size());
        v.push_back(c);
      }
    }
    if (v.empty()) throw std::invalid_argument("--networks " + o.networks + ": no network of the data sets and weights asked for");
    return v;
  }
  for (const auto& d : o.datasets)
    for (double l : o.weights) {
      CellSpec c;
      c.index = static_cast<int>(v.size());
      c.dataset = d;
      c.lambda = l;
      c.name = cell_name(d, l);
      v.push_back(c);
    }
  return v;
}

std::vector<CellSpec> shard_cells(const ReproduceOptions& o) {
  std::vector<CellSpec> v;
  for (const auto& c : plan_cells(o))
    if (c.index % o.shard_count == o.shard_index) v.push_back(c);
  return v;
}

void parse_shard(const std::string& s, int& index, int& count) {
  const auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    std::size_t a = 0, b = 0;
    const std::string si = s.substr(0, slash), sn = s.substr(slash + 1);
    index = std::stoi(si, &a);
    count = std::stoi(sn, &b);
    if (a != si.size() || b != sn.size()) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument("--shard '" + s + "': expected i/n, e.g. 0/4");
  }
  if (count < 1 || index < 0 || index >= count)
    throw std::invalid_argument("--shard '" + s + "': need 0 <= i < n");
}

// ---- cell results ------------------------------------------------------------------------

json to_json(const CellResult& r) {
  auto v = [](double x) { return std::isfinite(x) ? json(x) : json(nullptr); };
  return json{{"dataset", r.dataset},
              {"lambda", r.lambda},
              {"w2_ode_sde", v(r.w2_ode_sde)},
              {"w2_ode_data", v(r.w2_ode_data)},
              {"w2_sde_data", v(r.w2_sde_data)},
              {"iterations", r.iterations},
              {"seconds", r.seconds},
              {"train_seconds", r.train_seconds},
              {"eval_seconds", r.eval_seconds},
              {"samples", r.samples},
              {"grid_used", r.grid_used},
              {"grid", r.grid},
              {"box", r.box},
              {"clamp", r.clamp},
              {"network", r.network},
              {"steps", r.steps},
              {"seed", r.seed},
              {"nfe_ode", r.nfe_ode},
              {"nfe_sde", r.nfe_sde},
              {"res_mean_sq", v(r.res_mean_sq)},
              {"res_time_weighted", v(r.res_time_weighted)},
              {"res_mean_abs", v(r.res_mean_abs)},
              {"res_max_abs", v(r.res_max_abs)},
              {"outside_ode", v(r.outside_ode)},
              {"outside_sde", v(r.outside_sde)},
              {"notes", r.notes}};
}

CellResult cell_result_from_json(const json& j) {
  auto num = [&](const char* k) {
    const auto& x = j.at(k);
    return x.is_null() ? static_cast<double>(NAN) : x.get<double>();
  };
  CellResult r;
  r.dataset = j.at("dataset").get<std::string>();
  r.lambda = j.at("lambda").get<double>();
  r.w2_ode_sde = num("w2_ode_sde");
  r.w2_ode_data = num("w2_ode_data");
  r.w2_sde_data = num("w2_sde_data");
  r.iterations = j.at("iterations").get<int64_t>();
  r.seconds = j.at("seconds").get<double>();
  r.train_seconds = j.value("train_seconds", 0.0);
  r.eval_seconds = j.value("eval_seconds", 0.0);
  r.samples = j.at("samples").get<std::size_t>();
  r.grid_used = j.value("grid_used", std::size_t{0});
  r.grid = j.at("grid").get<int>();
  r.box = j.at("box").get<double>();
  r.steps = j.at("steps").get<int>();
  r.seed = j.value("seed", uint64_t{0});
  r.clamp = j.value("clamp", false);
  r.network = j.value("network", std::string());
  r.res_mean_sq = j.contains("res_mean_sq") ? num("res_mean_sq") : NAN;
  r.res_mean_abs = j.contains("res_mean_abs") ? num("res_mean_abs") : NAN;
  r.res_time_weighted = j.contains("res_time_weighted") ? num("res_time_weighted") : NAN;
  r.nfe_ode = j.value("nfe_ode", std::size_t{0});
  r.nfe_sde = j.value("nfe_sde", std::size_t{0});
  r.res_max_abs = j.contains("res_max_abs") ? num("res_max_abs") : NAN;
  r.outside_ode = j.contains("outside_ode") ? num("outside_ode") : NAN;
  r.outside_sde = j.contains("outside_sde") ? num("outside_sde") : NAN;
  if (j.contains("notes")) r.notes = j.at("notes").get<std::vector<std::string>>();
  return r;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string experiments_dir(const ReproduceOptions& o) {
  return o.experiments_dir.empty() ? std::string(GAPSCOPE_SOURCE_DIR) + "/assets/experiments" : o.experiments_dir;
}

Config cell_config(const ReproduceOptions& o, const CellSpec& s) {
  const std::string file = experiments_dir(o) + "/" + s.dataset + ".json";
  if (!fs::exists(file)) throw std::invalid_argument("data set '" + s.dataset + "': no experiment file " + file);
  Config c = load_config(file);
  apply_overrides(c, o.overrides);
  c.lambda = s.lambda;
  c.iterations = o.iterations;
  c.seed = o.seed;
  if (o.sample_steps > 0) {
    c.sample_steps = o.sample_steps;
    if (c.sample_refine > c.sample_steps) c.sample_refine = 0;
  }
  c.validate();
  return c;
}

// Every key but the ones a resume may change.
json comparable(const Config& c) {
  json j = to_json(c);
  for (const char* k : {"iterations", "sample_steps", "sample_refine", "sample_refine_factor", "sample_eps",
                        "ode_method", "log_every", "residual_stats_every"})
    j.erase(k);
  return j;
}

bool result_matches(const CellResult& r, const ReproduceOptions& o, const CellSpec& s, const Config& c) {
  const int64_t iterations = s.network.empty() ? o.iterations : s.iteration;
  return r.iterations == iterations && r.samples == o.samples && r.grid == o.grid && r.box == o.box &&
         r.clamp == o.clamp && r.steps == c.sample_steps && r.seed == o.seed && r.network == s.network;
}

std::mutex g_reading;  // CSV reads of the figure are cheap; keep them serial

// Trains (or resumes) and evaluates one cell. Returns true if it was skipped.
bool run_cell(const ReproduceOptions& o, const CellSpec& s, const ReproduceEvents& ev) {
  const fs::path dir = fs::path(o.out) / "cells" / s.name;
  const fs::path ck = dir / "checkpoint";
  const Config c = cell_config(o, s);
  auto say = [&](const std::string& w) {
    if (ev.on_cell) ev.on_cell(s, w);
  };
  if (fs::exists(dir / "result.json")) {
    std::ifstream in(dir / "result.json");
    CellResult old;
    bool ok = false;
    try {
      old = cell_result_from_json(json::parse(in));
      ok = true;
    } catch (const std::exception&) {
    }
    if (ok && result_matches(old, o, s, c)) {
      say("skip");
      return true;
    }
  }
  make_directories(dir.string());
  const auto t_cell = Clock::now();
  std::unique_ptr<Trainer> tr;
  if (!s.network.empty()) {
    // The authors' network under the experiment file's setting: import checks its
    // architecture against it, so a file of another shape fails naming both.
    std::vector<std::string> sets = o.overrides;
    sets.push_back("lambda=" + style::number(s.lambda, 17));
    tr = import_network(s.network, experiments_dir(o) + "/" + s.dataset + ".json", sets).trainer;
    say("evaluate");
  } else if (fs::exists(ck / "state.json")) {
    tr = Trainer::load(ck.string());
    if (comparable(tr->config()) != comparable(c)) {
      const json a = comparable(tr->config()), b = comparable(c);
      std::string key;
      for (auto it = b.begin(); it != b.end(); ++it)
        if (!a.contains(it.key()) || a.at(it.key()) != it.value()) {
          key = it.key();
          break;
        }
      throw std::runtime_error("cell " + s.name + ": its checkpoint was trained with another setting (" + key + " = " +
                               (a.contains(key) ? a.at(key).dump() : "?") + ", now " +
                               (b.contains(key) ? b.at(key).dump() : "?") + "); use another --out or delete " +
                               dir.string());
    }
    if (tr->iteration() > o.iterations)
      throw std::runtime_error("cell " + s.name + ": its checkpoint has " + std::to_string(tr->iteration()) +
                               " iterations, more than the " + std::to_string(o.iterations) +
                               " asked for; use another --out");
    say(tr->iteration() < o.iterations ? "resume" : "evaluate");
  } else {
    tr = std::make_unique<Trainer>(c);
    say("start");
  }
  const int64_t every = std::max<int64_t>(1, o.save_every);
  while (s.network.empty() && tr->iteration() < o.iterations) {
    const int64_t next = std::min<int64_t>(o.iterations, (tr->iteration() / every + 1) * every);
    tr->run(next,
            [&](const Progress& p) {
              if (ev.on_iteration) ev.on_iteration(s, p.row.iteration, o.iterations);
            },
            10);
    tr->save(ck.string());
  }
  double train_seconds = 0;
  {
    auto rows = tr->history().rows();
    if (!rows.empty()) train_seconds = rows.back().seconds;
  }
  if (s.network.empty()) say("evaluate");
  EvalOptions eo;
  eo.n = o.samples;
  eo.grid = o.grid;
  eo.box = o.box;
  eo.clamp = o.clamp;
  eo.steps = -1;  // the cell config's sample_steps
  eo.seed = o.seed;
  eo.exact_n = 0;
  eo.residual_points = 4096;
  eo.chunk = o.chunk;
  const auto t_eval = Clock::now();
  EvalResult e = evaluate(tr->snapshot(), c, eo, /*keep_clouds=*/true, [&](const std::string& stage, double f) {
    if (ev.on_evaluate) ev.on_evaluate(s, stage, f);
  });
  const double eval_seconds = std::chrono::duration<double>(Clock::now() - t_eval).count();

  write_points_csv((dir / "ode.csv").string(), head(e.clouds.ode, o.figure_points));
  write_points_csv((dir / "sde.csv").string(), head(e.clouds.sde, o.figure_points));
  write_points_csv((dir / "data.csv").string(), head(e.clouds.data, o.figure_points));

  CellResult r;
  r.dataset = s.dataset;
  r.lambda = s.lambda;
  r.w2_ode_sde = e.grid.ode_sde;
  r.w2_ode_data = e.grid.ode_data;
  r.w2_sde_data = e.grid.sde_data;
  r.iterations = tr->iteration();
  r.train_seconds = train_seconds;
  r.eval_seconds = eval_seconds;
  r.seconds = train_seconds + eval_seconds;
  r.samples = o.samples;
  r.grid_used = e.grid_used;
  r.grid = o.grid;
  r.box = o.box;
  r.clamp = o.clamp;
  r.network = s.network;
  r.steps = e.steps;
  r.seed = o.seed;
  r.res_mean_sq = e.res_mean_sq;
  r.res_mean_abs = e.res_mean_abs;
  r.res_max_abs = e.res_max_abs;
  r.res_time_weighted = e.res_time_weighted;
  r.nfe_ode = e.nfe_ode;
  r.nfe_sde = e.nfe_sde;
  r.outside_ode = e.outside.ode;
  r.outside_sde = e.outside.sde;
  r.notes = e.notes;
  json j = to_json(r);
  j["wall_seconds_this_run"] = std::chrono::duration<double>(Clock::now() - t_cell).count();
  write_file_atomically((dir / "result.json").string(), j.dump(2) + "\n");
  say("done");
  return false;
}

void sort_cells(std::vector<CellResult>& v) {
  std::stable_sort(v.begin(), v.end(), [](const CellResult& a, const CellResult& b) {
    return plan_before(a.dataset, a.lambda, b.dataset, b.lambda);
  });
}

}  // namespace

ReproduceSummary run_reproduce(const ReproduceOptions& o, const ReproduceEvents& ev) {
  if (o.jobs < 1) throw std::invalid_argument("--jobs must be >= 1");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw std::invalid_argument("shard: need 0 <= i < n");
  if (o.networks.empty() && (o.datasets.empty() || o.weights.empty())) throw std::invalid_argument("reproduce: no data sets or no weights");
  if (o.iterations < 0 || o.samples == 0) throw std::invalid_argument("reproduce: need iterations >= 0, samples > 0");
  for (const auto& s : plan_cells(o)) cell_config(o, s);  // every config is valid before anything runs
  if (fs::exists(o.out) && !fs::is_directory(o.out))
    throw std::invalid_argument("--out " + o.out + ": exists and is not a folder");
  make_directories((fs::path(o.out) / "cells").string());

  const std::vector<CellSpec> cells = shard_cells(o);
  ReproduceSummary sum;
  std::mutex m;
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    flush_denormals_this_thread();
    if (o.thread_init) o.thread_init();
    for (std::size_t k; (k = next.fetch_add(1)) < cells.size();) {
      const CellSpec& s = cells[k];
      try {
        const bool skipped = run_cell(o, s, ev);
        std::lock_guard<std::mutex> l(m);
        (skipped ? sum.skipped : sum.ran)++;
      } catch (const std::exception& e) {
        {
          std::lock_guard<std::mutex> l(m);
          sum.failed++;
          sum.errors.push_back(s.name + ": " + e.what());
        }
        if (ev.on_cell) ev.on_cell(s, std::string("failed: ") + e.what());
      }
    }
  };
  const int J = std::max(1, std::min<int>(o.jobs, static_cast<int>(cells.size())));
  if (J == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int j = 0; j < J; ++j) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }

  // Table and figure of every finished cell of the plan (this shard's and earlier runs').
  std::set<std::string> planned;
  for (const auto& s : plan_cells(o)) planned.insert(s.name);
  for (auto& r : collect_cells({o.out}))
    if (planned.count(cell_name(r.dataset, r.lambda))) sum.results.push_back(r);
  write_reproduce_outputs(o.out, sum.results);
  return sum;
}

std::vector<CellResult> collect_cells(const std::vector<std::string>& dirs) {
  std::vector<CellResult> v;
  std::set<std::string> seen;
  for (const auto& d : dirs) {
    const fs::path cells = fs::path(d) / "cells";
    if (!fs::is_directory(cells)) throw std::runtime_error(d + ": no cells/ directory (not a reproduce output?)");
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(cells))
      if (e.is_directory() && fs::exists(e.path() / "result.json")) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    for (const auto& p : found) {
      std::ifstream in(p / "result.json");
      CellResult r;
      try {
        r = cell_result_from_json(json::parse(in));
      } catch (const std::exception& e) {
        throw std::runtime_error((p / "result.json").string() + ": " + e.what());
      }
      r.dir = p.string();
      if (seen.insert(cell_name(r.dataset, r.lambda)).second) v.push_back(r);
    }
  }
  sort_cells(v);
  return v;
}

// ---- outputs --------------------------------------------------------------------------------

namespace {

std::string num(double v) {
  if (!std::isfinite(v)) return "nan";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

const char* metric_name(const CellResult& r) { return r.clamp ? "table" : "validation"; }

// A path as one CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string q = "\"";
  for (char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// One sentence on the grid metric of r, for the table and the figure.
std::string metric_sentence(const CellResult& r) {
  return std::string(r.clamp ? "the published table's grid W2 metric (math.md §5; far samples on border nodes, none "
                               "dropped)"
                             : "the training-time validation grid W2 metric (math.md §5; samples outside the box "
                               "dropped)") +
         ": " + std::to_string(r.grid) + " x " + std::to_string(r.grid) + " nodes on [-" + num(r.box) + ", " +
         num(r.box) + "]^2";
}

// Where the networks came from, in one sentence.
std::string source_sentence(const CellResult& r) {
  if (r.network.empty()) return std::to_string(r.iterations) + " training iterations";
  return "the authors' PyTorch networks (imported, not trained here; " + std::to_string(r.iterations) +
         " iterations for the first)";
}

void write_csv(const fs::path& p, const std::vector<CellResult>& cells) {
  std::ostringstream s;
  s << "dataset,lambda,w2_ode_sde,w2_ode_data,w2_sde_data,iterations,seconds,train_seconds,eval_seconds,samples,"
       "grid,box,steps,nfe_ode,nfe_sde,res_mean_sq,res_mean_abs,res_max_abs,res_time_weighted,outside_ode,outside_sde,"
       "metric,network\n";
  for (const auto& r : cells)
    s << r.dataset << ',' << num(r.lambda) << ',' << num(r.w2_ode_sde) << ',' << num(r.w2_ode_data) << ','
      << num(r.w2_sde_data) << ',' << r.iterations << ',' << num(r.seconds) << ',' << num(r.train_seconds) << ','
      << num(r.eval_seconds) << ',' << r.samples << ',' << r.grid << ',' << num(r.box) << ',' << r.steps << ','
      << r.nfe_ode << ',' << r.nfe_sde << ',' << num(r.res_mean_sq) << ',' << num(r.res_mean_abs) << ','
      << num(r.res_max_abs) << ',' << num(r.res_time_weighted) << ',' << num(r.outside_ode)
      << ',' << num(r.outside_sde) << ',' << metric_name(r) << ',' << csv_field(r.network) << "\n";
  write_file_atomically(p.string(), s.str());
}

struct Layout {
  std::vector<std::string> datasets;
  std::vector<double> weights;
  std::map<std::pair<std::string, double>, const CellResult*> at;
};

Layout layout(const std::vector<CellResult>& cells) {
  Layout L;
  for (const auto& r : cells) {
    if (std::find(L.datasets.begin(), L.datasets.end(), r.dataset) == L.datasets.end()) L.datasets.push_back(r.dataset);
    if (std::find(L.weights.begin(), L.weights.end(), r.lambda) == L.weights.end()) L.weights.push_back(r.lambda);
    L.at[{r.dataset, r.lambda}] = &r;
  }
  std::sort(L.weights.begin(), L.weights.end());
  return L;
}

// A count that older result.json files lack (0): "—" rather than a misleading 0.
std::string nfe(std::size_t n) { return n ? std::to_string(n) : std::string("—"); }

void write_md(const fs::path& p, const std::vector<CellResult>& cells) {
  const Layout L = layout(cells);
  std::ostringstream s;
  s << "# Reproduction of the paper's table\n\n";
  if (!cells.empty()) {
    const auto& r0 = cells.front();
    std::string m = metric_sentence(r0);
    m[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(m[0])));
    s << m << "; " << r0.samples << " samples per cloud, N = " << r0.steps << " sampler steps, "
      << source_sentence(r0) << ".\n\n";
  }
  struct Metric {
    const char* title;
    double CellResult::*f;
  };
  for (const Metric& mt : {Metric{"W2(ODE, SDE)", &CellResult::w2_ode_sde}, Metric{"W2(ODE, data)", &CellResult::w2_ode_data},
                           Metric{"W2(SDE, data)", &CellResult::w2_sde_data},
                           Metric{"mean |R| over the collocation box", &CellResult::res_mean_abs},
                           Metric{"share of ODE samples outside the metric's box", &CellResult::outside_ode},
                           Metric{"share of SDE samples outside the metric's box", &CellResult::outside_sde}}) {
    s << "## " << mt.title << "\n\n| data set |";
    for (double l : L.weights) s << " λ = " << style::number(l, 6) << " |";
    s << "\n| --- |";
    for (std::size_t i = 0; i < L.weights.size(); ++i) s << " ---: |";
    s << "\n";
    for (const auto& d : L.datasets) {
      s << "| " << d << " |";
      for (double l : L.weights) {
        auto it = L.at.find({d, l});
        s << " " << (it == L.at.end() ? std::string("—") : style::fixed(it->second->*mt.f)) << " |";
      }
      s << "\n";
    }
    s << "\n";
  }
  s << "## All cells\n\n| data set | λ | W2(ODE,SDE) | W2(ODE,data) | W2(SDE,data) | nfe ODE | nfe SDE | outside ODE | "
       "outside SDE | mean R² | R²_g | iterations | train s | eval s |\n"
       "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& r : cells)
    s << "| " << r.dataset << " | " << style::number(r.lambda, 6) << " | " << style::fixed(r.w2_ode_sde) << " | "
      << style::fixed(r.w2_ode_data) << " | " << style::fixed(r.w2_sde_data) << " | " << nfe(r.nfe_ode) << " | "
      << nfe(r.nfe_sde) << " | " << style::fixed(r.outside_ode) << " | " << style::fixed(r.outside_sde) << " | "
      << style::number(r.res_mean_sq, 3) << " | " << style::number(r.res_time_weighted, 3) << " | " << r.iterations << " | " << style::fixed(r.train_seconds) << " | "
      << style::fixed(r.eval_seconds) << " |\n";
  write_file_atomically(p.string(), s.str());
}

Points read_cloud(const CellResult* r, const char* file) {
  Points p;
  if (!r || r->dir.empty()) return p;
  const fs::path f = fs::path(r->dir) / file;
  if (!fs::exists(f)) return p;
  std::lock_guard<std::mutex> l(g_reading);
  try {
    p = read_points_csv(f.string());
  } catch (const std::exception&) {
    p = Points{};
  }
  return p;
}

// Rows = data sets; a data column, then per λ the cell's ODE and SDE clouds side by side on
// the metric's box, the three W2 under each pair. The clouds are density images: in SVG
// and PDF too, so those files stay small whatever the number of points.
fig::Figure reproduce_figure(const std::vector<CellResult>& cells) {
  const Layout L = layout(cells);
  const CellResult& r0 = cells.front();
  const double box = r0.box > 0 ? r0.box : 4.0;
  fig::Figure f;
  f.columns = 1 + 2 * static_cast<int>(L.weights.size());
  f.share_x = f.share_y = true;
  f.panel_width = f.panel_height = 104;
  f.column_headers.push_back({"data", 1});
  for (double l : L.weights) f.column_headers.push_back({"λ = " + style::number(l, 6), 2});
  std::size_t shown = 0;  // the most points of any cloud, for the note
  auto panel = [&](Points p, style::Color c, const std::string& title) {
    fig::Panel q;
    q.title = title;
    q.x.min = q.y.min = -box;
    q.x.max = q.y.max = box;
    q.legend = fig::Legend::None;
    shown = std::max(shown, p.n());
    fig::Cloud cl;
    cl.copy = std::move(p);
    cl.color = c;
    cl.alpha = 0.3;
    cl.density = true;
    q.clouds.push_back(std::move(cl));
    return q;
  };
  const std::string w2 = "W\u2082";
  for (const auto& d : L.datasets) {
    f.row_headers.push_back(d);
    Points data;  // the first cell of the row that has a data cloud
    for (double l : L.weights) {
      auto it = L.at.find({d, l});
      if (it != L.at.end() && (data = read_cloud(it->second, "data.csv")).n() > 0) break;
    }
    f.panels.push_back(panel(std::move(data), style::palette::kData, ""));
    for (double l : L.weights) {
      auto it = L.at.find({d, l});
      const CellResult* r = it == L.at.end() ? nullptr : it->second;
      fig::Panel ode = panel(read_cloud(r, "ode.csv"), style::palette::kOde, "ODE");
      ode.caption_span = 2;
      if (r)
        ode.caption = {w2 + "(ODE, SDE) = " + style::fixed(r->w2_ode_sde, 3),
                       w2 + "(ODE, data) = " + style::fixed(r->w2_ode_data, 3) + "    " + w2 +
                           "(SDE, data) = " + style::fixed(r->w2_sde_data, 3)};
      else
        ode.caption = {"not run"};
      f.panels.push_back(std::move(ode));
      f.panels.push_back(panel(read_cloud(r, "sde.csv"), style::palette::kSde, "SDE"));
    }
  }
  f.notes.push_back("Each panel: the first " + style::number(static_cast<double>(shown), 9) +
                    " samples of the cell's cloud, as a density on [\u2212" + style::number(box) + ", " +
                    style::number(box) + "]\u00b2. " + w2 + " on all " +
                    style::number(static_cast<double>(r0.samples), 9) + " samples per cloud by " +
                    metric_sentence(r0) + "; N = " + std::to_string(r0.steps) + " sampler steps, " +
                    source_sentence(r0) + ".");
  return f;
}

void write_figures(const fs::path& out, const std::vector<CellResult>& cells) {
  if (cells.empty()) return;
  const fig::Figure f = reproduce_figure(cells);
  for (const char* name : {"figure.png", "figure.svg", "figure.pdf"}) fig::write_figure(f, (out / name).string());
}

// One point per cell, its data set as the source (one marker shape per data set).
std::vector<ResidualGapPoint> gap_points(const std::vector<CellResult>& cells) {
  std::vector<ResidualGapPoint> v;
  for (const auto& r : cells) {
    ResidualGapPoint p;
    p.source = r.dataset;
    p.iteration = r.iterations;
    p.lambda = r.lambda;
    p.res_mean_sq = r.res_mean_sq;
    p.res_time_weighted = r.res_time_weighted;
    p.w2_ode_sde = r.w2_ode_sde;
    v.push_back(std::move(p));
  }
  return v;
}

void write_gap(const fs::path& out, const std::vector<CellResult>& cells) {
  const auto pts = gap_points(cells);
  write_residual_gap_csv((out / "residual_gap.csv").string(), pts);
  if (cells.empty()) return;
  const CellResult& r0 = cells.front();
  std::vector<std::string> notes{"Reproduce cells: " + std::to_string(cells.size()) + ", " + source_sentence(r0) +
                                 "; W\u2082 by " + metric_sentence(r0) + ", " + std::to_string(r0.samples) +
                                 " samples per cloud, N = " + std::to_string(r0.steps) + "."};
  // The plot cannot show escapes, and the validation metric drops them: say how many.
  double most = 0;
  for (const auto& r : cells)
    for (double v : {r.outside_ode, r.outside_sde})
      if (std::isfinite(v)) most = std::max(most, v);
  if (most > 0.01 && !r0.clamp)
    notes.push_back("Up to " + style::number(100 * most, 4) +
                    " % of a cloud lies outside the metric's box and is dropped (outside_ode, outside_sde in table.csv).");
  const fig::Figure f = residual_gap_figure(pts, "Residual against the ODE\u2013SDE gap", notes);
  for (const char* name : {"residual_gap.png", "residual_gap.svg", "residual_gap.pdf"})
    fig::write_figure(f, (out / name).string());
}

}  // namespace

void write_reproduce_outputs(const std::string& out, const std::vector<CellResult>& cells) {
  const fs::path o(out);
  make_directories(o.string());
  write_csv(o / "table.csv", cells);
  write_md(o / "table.md", cells);
  write_figures(o, cells);
  write_gap(o, cells);
}

}  // namespace gapscope

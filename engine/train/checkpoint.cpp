// Trainer::save / Trainer::load: one directory per checkpoint holding
//   config.json  model.pt  optimizer.pt  history.csv  state.json
// Written to a sibling temporary directory first and renamed into place, so a crash
// mid-write never destroys the checkpoint that was there before.
#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>
#include <stdexcept>

#include "core/atomic_file.h"
#include "train/train_state.h"

namespace gapscope {
namespace fs = std::filesystem;
using json = nlohmann::json;

void Trainer::save(const std::string& dir) const {
  std::lock_guard<std::mutex> guard(step_m_);  // a consistent state, never mid-step
  const fs::path target = fs::absolute(dir);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const fs::path tmp = target.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const Impl& s = *impl_;

  Config cfg = s.cfg;
  cfg.lambda = knobs_.lambda.load();
  if (cfg.lr_schedule == "constant") cfg.lr = knobs_.lr.load();  // a schedule's lr lives in state.json
  save_config(cfg, (tmp / "config.json").string());
  {
    std::vector<torch::Tensor> params;
    for (auto& p : s.net.parameters()) params.push_back(p.detach().cpu());
    torch::save(params, (tmp / "model.pt").string());
  }
  {
    torch::serialize::OutputArchive ar;
    s.opt->save(ar);
    ar.save_to((tmp / "optimizer.pt").string());
  }
  history_.write_csv((tmp / "history.csv").string());
  {
    std::ostringstream rng;
    rng << s.rng;
    json st = {{"format", "gapscope-checkpoint-1"}, {"iteration", iteration_.load()}, {"lambda", knobs_.lambda.load()},
               {"lr", knobs_.lr.load()},           {"seconds", s.seconds},            {"rng", rng.str()}};
    if (!origin_.empty()) st["origin"] = origin_;
    write_file_atomically((tmp / "state.json").string(), st.dump(2) + "\n");
  }
  // Swap in: the old checkpoint is removed only after the new one is complete.
  const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(tmp, target);
  fs::remove_all(old);
}

std::unique_ptr<Trainer> Trainer::load(const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw std::runtime_error(dir + ": not a checkpoint directory");
  for (const char* f : {"config.json", "model.pt", "optimizer.pt", "history.csv", "state.json"})
    if (!fs::exists(d / f)) throw std::runtime_error((d / f).string() + ": missing (not a gapscope checkpoint?)");
  // A checkpoint from before lr_schedule / boundary_weight / lambda_change existed was
  // trained at a constant lr with the boundary term weighted by lambda: it loads with
  // those values (the boundary term now has the softplus(u)^2 form) and says so.
  Config cfg;
  std::string notice;
  {
    const std::string path = (d / "config.json").string();
    json j = read_config_json(path);
    if (j.is_object()) {
      std::vector<std::string> assumed;
      if (!j.contains("lr_schedule")) j["lr_schedule"] = "constant", assumed.push_back("lr_schedule=constant");
      if (!j.contains("boundary_weight")) {
        const bool had = j.value("batch_boundary", 0) > 0;
        const double w = had && j.contains("lambda") && j["lambda"].is_number() ? j["lambda"].get<double>() : 0.0;
        j["boundary_weight"] = w;
        std::ostringstream o;
        o << "boundary_weight=" << w << (w > 0 ? " (its lambda; the term is now softplus(u)^2, was exp(u)^2)" : "");
        assumed.push_back(o.str());
      }
      if (!j.contains("lambda_change")) j["lambda_change"] = "keep";
      for (auto& a : assumed) notice += (notice.empty() ? "" : ", ") + a;
      if (!notice.empty())
        notice = dir + ": written before these keys existed; loaded with the values it was trained with: " + notice;
    }
    cfg = config_from_json(j, path);
  }
  json st;
  {
    std::ifstream in(d / "state.json");
    try {
      st = json::parse(in);
    } catch (const std::exception& e) {
      throw std::runtime_error((d / "state.json").string() + ": invalid JSON");
    }
  }
  auto tr = std::make_unique<Trainer>(cfg);
  Impl& s = *tr->impl_;
  {
    std::vector<torch::Tensor> params;
    torch::load(params, (d / "model.pt").string());
    auto mine = s.net.parameters();
    if (params.size() != mine.size())
      throw std::runtime_error((d / "model.pt").string() + ": parameter count does not match config.json");
    torch::NoGradGuard ng;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (params[i].sizes() != mine[i].sizes())
        throw std::runtime_error((d / "model.pt").string() + ": parameter shape does not match config.json");
      mine[i].copy_(params[i]);
    }
  }
  {
    torch::serialize::InputArchive ar;
    ar.load_from((d / "optimizer.pt").string(), s.net.device());
    s.opt->load(ar);
  }
  try {
    std::istringstream rng(st.at("rng").get<std::string>());
    rng >> s.rng;
    tr->iteration_ = st.at("iteration").get<int64_t>();
    tr->knobs_.lambda = st.at("lambda").get<double>();
    tr->knobs_.lr = st.at("lr").get<double>();
    s.seconds = st.at("seconds").get<double>();
    if (st.contains("origin")) tr->origin_ = st.at("origin").get<std::string>();
  } catch (const std::exception& e) {
    throw std::runtime_error((d / "state.json").string() + ": " + e.what());
  }
  tr->history_.assign(History::read_csv((d / "history.csv").string()));
  // Resuming mid-stage continues that stage with the optimiser state just loaded.
  s.stage = cfg.lr_stage_at(tr->iteration_.load());
  s.last_lambda = tr->knobs_.lambda.load();
  tr->load_notice_ = notice;
  tr->publish();
  return tr;
}

void Trainer::load_weights(const WeightSnapshot& w) {
  std::lock_guard<std::mutex> guard(step_m_);
  Impl& s = *impl_;
  const ModelSpec& mine = s.net.spec();
  if (w.spec.layers != mine.layers || w.spec.activation != mine.activation ||
      (mine.activation == Activation::Softplus && w.spec.softplus_beta != mine.softplus_beta))
    throw std::invalid_argument("load_weights: the snapshot's layers or activation differ from the config's");
  s.net.load(w);  // checks d, width, potential/score and every layer's size
  iteration_ = w.iteration;
  s.stage = s.cfg.lr_stage_at(w.iteration);
  knobs_.lr = s.stages[s.stage].lr;
  s.fresh_adam(s.stages[s.stage].lr);
  history_.clear();
  publish();
}

}  // namespace gapscope

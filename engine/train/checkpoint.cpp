// Trainer::save / Trainer::load: one directory per checkpoint holding
//   config.json  model.pt  optimizer.pt  history.csv  state.json   (state.json last)
// The new checkpoint is written to a sibling D.tmp-PID, every file fsynced, then swapped
// with D in one step (renameat2 RENAME_EXCHANGE; where the file system lacks it, two
// renames), so at every instant D or a complete sibling holds a checkpoint. A save or
// load after a crash finds the siblings: it restores D from a complete one when D is
// missing and removes the rest, and says so in one line.
#include <signal.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>
#include <torch/serialize.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "train/train_state.h"

namespace gapscope {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kFormat = "gapscope-checkpoint-1";
const char* const kFiles[] = {"config.json", "model.pt", "optimizer.pt", "history.csv", "state.json"};

std::function<void(const std::string&)> g_fault;  // Trainer::set_save_fault_for_testing

fs::path normalise(const std::string& dir) {
  if (dir.empty()) throw std::runtime_error("checkpoint: empty path");
  fs::path p = fs::absolute(fs::path(dir)).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "runs/c2/" names runs/c2
  return p;
}

bool has_format(const fs::path& d) {
  std::ifstream in(d / "state.json");
  if (!in) return false;
  try {
    const json st = json::parse(in);
    return st.is_object() && st.value("format", std::string()) == kFormat;
  } catch (const std::exception&) {
    return false;
  }
}

bool complete(const fs::path& d) {
  std::error_code ec;
  if (!fs::is_directory(d, ec)) return false;
  for (const char* f : kFiles)
    if (!fs::is_regular_file(d / f, ec)) return false;
  return has_format(d);
}

// Siblings D.tmp-PID / D.old-PID left by a save that did not finish (its process is gone).
std::vector<fs::path> leftovers(const fs::path& target) {
  std::vector<fs::path> out;
  std::error_code ec;
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, ec)) return out;
  const std::string base = target.filename().string();
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    for (const char* tag : {".tmp-", ".old-"}) {
      const std::string prefix = base + tag;
      if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string pid = name.substr(prefix.size());
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      const long p = std::stol(pid);
      const bool alive = p == ::getpid() || ::kill(static_cast<pid_t>(p), 0) == 0 || errno == EPERM;
      if (!alive) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// LibTorch parses model.pt and optimizer.pt as TorchScript archives, and a damaged one can
// crash it (a segfault in its type parser, found by tests/train/test_checkpoint_fuzz), so
// their CRC-32s go into state.json and are checked before LibTorch sees the bytes.
const char* const kGuarded[] = {"model.pt", "optimizer.pt"};

std::uint32_t crc_of(const std::string& bytes) {
  uLong c = crc32(0L, Z_NULL, 0);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const uInt n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(bytes.data() + done), n);
    done += n;
  }
  return static_cast<std::uint32_t>(c);
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write(const fs::path& file, const std::string& bytes) {
  if (g_fault) g_fault(file.filename().string());
  write_file_atomically(file.string(), bytes);
}

// Moves the complete checkpoint at tmp to target, whatever was at target going away only
// once the new one is in place.
void install(const fs::path& tmp, const fs::path& target) {
  if (g_fault) g_fault("install");
  std::error_code ec;
  const fs::path parent = target.parent_path();
  if (fs::is_directory(target, ec) && fs::is_empty(target, ec)) fs::remove(target, ec);
  if (fs::exists(fs::symlink_status(target, ec))) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
      fsync_directory(parent.string());
      fs::remove_all(tmp, ec);  // now the previous checkpoint
      return;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      throw std::runtime_error(target.string() + ": cannot replace (" + std::strerror(errno) + ")");
    // No atomic exchange here: for an instant only the siblings hold checkpoints, which
    // the next save or load recovers.
    const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
    fs::rename(target, old);
    fs::rename(tmp, target);
    fsync_directory(parent.string());
    fs::remove_all(old, ec);
    return;
  }
  fs::rename(tmp, target);
  fsync_directory(parent.string());
}

}  // namespace

void Trainer::set_save_fault_for_testing(std::function<void(const std::string& stage)> fault) {
  g_fault = std::move(fault);
}

std::string Trainer::recover_checkpoint(const std::string& dir) {
  const fs::path target = normalise(dir);
  const auto left = leftovers(target);
  if (left.empty()) return "";
  std::error_code ec;
  std::string notice;
  fs::path restored;
  if (!fs::exists(fs::symlink_status(target, ec))) {
    // A complete .tmp is the newer work (its state.json, written last, is there); a
    // complete .old is the checkpoint that was being replaced.
    for (const char* tag : {".tmp-", ".old-"})
      for (const auto& p : left)
        if (restored.empty() && p.filename().string().find(tag) != std::string::npos && complete(p)) restored = p;
    if (!restored.empty()) {
      fs::rename(restored, target);
      fsync_directory(target.parent_path().string());
      notice = target.string() + ": restored from " + restored.filename().string() + " (left by an interrupted save)";
    }
  }
  std::string removed;
  for (const auto& p : left)
    if (p != restored) {
      fs::remove_all(p, ec);
      removed += (removed.empty() ? "" : ", ") + p.filename().string();
    }
  if (!removed.empty())
    notice += (notice.empty() ? target.string() + ": " : "; ") + "removed " + removed + " (left by an interrupted save)";
  return notice;
}

void Trainer::check_save_target(const std::string& dir) {
  const fs::path target = normalise(dir);
  std::error_code ec;
  const auto st = fs::symlink_status(target, ec);
  if (!fs::exists(st)) return;
  if (fs::is_symlink(st))
    throw std::runtime_error(target.string() + ": is a symbolic link; refusing to replace it with a checkpoint");
  if (fs::is_directory(st) && (fs::is_empty(target, ec) || has_format(target))) return;
  throw std::runtime_error(target.string() + ": exists and is not a gapscope checkpoint (no state.json of format " +
                           kFormat + "); refusing to replace it: choose another output path");
}

std::string Trainer::save(const std::string& dir) const {
  std::lock_guard<std::mutex> guard(step_m_);  // a consistent state, never mid-step
  const fs::path target = normalise(dir);
  std::string notice = recover_checkpoint(target.string());
  check_save_target(target.string());
  if (target.has_parent_path()) make_directories(target.parent_path().string());
  const fs::path tmp = target.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw std::runtime_error(target.string() + ": cannot save the checkpoint (" + ec.message() + ")");
  try {
    const Impl& s = *impl_;
    Config cfg = s.cfg;
    cfg.lambda = knobs_.lambda.load();
    if (cfg.lr_schedule == "constant") cfg.lr = knobs_.lr.load();  // a schedule's lr lives in state.json
    if (g_fault) g_fault("config.json");
    save_config(cfg, (tmp / "config.json").string());
    json crc = json::object();
    {
      std::vector<torch::Tensor> params;
      for (auto& p : s.net.parameters()) params.push_back(p.detach().cpu());
      std::ostringstream bytes;
      torch::save(params, bytes);
      crc["model.pt"] = crc_of(bytes.str());
      write(tmp / "model.pt", bytes.str());
    }
    {
      torch::serialize::OutputArchive ar;
      s.opt->save(ar);
      std::ostringstream bytes;
      ar.save_to(bytes);
      crc["optimizer.pt"] = crc_of(bytes.str());
      write(tmp / "optimizer.pt", bytes.str());
    }
    {
      const std::string h = (tmp / "history.csv").string();
      if (g_fault) g_fault("history.csv");
      history_.write_csv(h);
    }
    std::ostringstream rng;
    rng << s.rng;
    json st = {{"format", kFormat},          {"iteration", iteration_.load()}, {"lambda", knobs_.lambda.load()},
                     {"lr", knobs_.lr.load()},    {"seconds", s.seconds},           {"rng", rng.str()}};
    st["crc32"] = crc;
    if (!origin_.empty()) st["origin"] = origin_;
    write(tmp / "state.json", st.dump(2) + "\n");  // last: its presence marks the folder complete
    install(tmp, target);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return notice;
}

std::unique_ptr<Trainer> Trainer::load(const std::string& dir) {
  const std::string recovered = recover_checkpoint(dir);
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw std::runtime_error(dir + ": not a checkpoint directory");
  for (const char* f : kFiles)
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
  // The LibTorch archives are read once: the CRC is checked on the very bytes LibTorch
  // then parses. Checkpoints written before the CRCs existed load unchecked.
  std::map<std::string, std::string> archive;
  for (const char* f : kGuarded) archive[f] = read_bytes(d / f);
  if (st.is_object() && st.contains("crc32")) {
    const json& crc = st["crc32"];
    for (const char* f : kGuarded) {
      const bool ok = crc.is_object() && crc.contains(f) && crc[f].is_number_unsigned() &&
                      crc[f].get<std::uint64_t>() == crc_of(archive[f]);
      if (!ok)
        throw std::runtime_error((d / f).string() +
                                 ": damaged (its CRC-32 does not match state.json's); the checkpoint cannot be trusted");
    }
  }
  auto tr = std::make_unique<Trainer>(cfg);
  Impl& s = *tr->impl_;
  // LibTorch's readers report a bad archive as a multi-line c10::Error with C++ frames, a
  // TorchScript ErrorReport quoting the archive's code, or a bare std::out_of_range.
  auto unreadable = [](const fs::path& f) {
    return std::runtime_error(f.string() + ": unreadable (truncated, corrupt or not written by gapscope)");
  };
  {
    std::vector<torch::Tensor> params;
    try {
      std::istringstream bytes(archive["model.pt"]);
      torch::load(params, bytes);
    } catch (const std::exception&) {
      throw unreadable(d / "model.pt");
    }
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
    try {
      torch::serialize::InputArchive ar;
      std::istringstream bytes(archive["optimizer.pt"]);
      ar.load_from(bytes, s.net.device());
      s.opt->load(ar);
    } catch (const std::exception&) {
      throw unreadable(d / "optimizer.pt");
    }
  }
  // Every value is checked: a resume from a negative iteration or an RNG state that did
  // not parse would run, but would no longer be the exact continuation it claims to be.
  const std::string state = (d / "state.json").string();
  auto need = [&](const char* key, bool ok, const char* expected) {
    if (!ok) throw std::runtime_error(state + ": key '" + key + "': expected " + expected);
  };
  need("format", st.is_object() && st.value("format", std::string()) == kFormat, kFormat);
  need("iteration", st.contains("iteration") && st["iteration"].is_number_integer() && st["iteration"].get<int64_t>() >= 0,
       "an integer >= 0");
  need("lambda", st.contains("lambda") && st["lambda"].is_number() && st["lambda"].get<double>() >= 0, "a number >= 0");
  need("lr", st.contains("lr") && st["lr"].is_number() && st["lr"].get<double>() > 0, "a number > 0");
  need("seconds", st.contains("seconds") && st["seconds"].is_number() && st["seconds"].get<double>() >= 0,
       "a number >= 0");
  need("rng", st.contains("rng") && st["rng"].is_string(), "the generator's state as a string");
  {
    std::istringstream rng(st["rng"].get<std::string>());
    rng >> s.rng;
    need("rng", static_cast<bool>(rng) && (rng >> std::ws).eof(), "the generator's state (312 words and a position)");
  }
  tr->iteration_ = st["iteration"].get<int64_t>();
  tr->knobs_.lambda = st["lambda"].get<double>();
  tr->knobs_.lr = st["lr"].get<double>();
  s.seconds = st["seconds"].get<double>();
  need("origin", !st.contains("origin") || st["origin"].is_string(), "a string (where the weights came from)");
  if (st.contains("origin")) tr->origin_ = st["origin"].get<std::string>();
  tr->history_.assign(History::read_csv((d / "history.csv").string()));
  // Resuming mid-stage continues that stage with the optimiser state just loaded.
  s.stage = cfg.lr_stage_at(tr->iteration_.load());
  s.last_lambda = tr->knobs_.lambda.load();
  if (!recovered.empty()) notice = recovered + (notice.empty() ? "" : "; " + notice);
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

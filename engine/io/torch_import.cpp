#include "io/torch_import.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Exception.h>
#include <c10/util/Half.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "io/torch_pickle.h"

namespace gapscope {
namespace {

namespace fs = std::filesystem;
using pickle::TensorRef;
using pickle::Value;
using Kind = pickle::Value::Kind;

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string fmt(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o;
  for (std::size_t k = 0; k < s.size(); ++k) o += (k ? "x" : "") + std::to_string(s[k]);
  return s.empty() ? "a scalar" : o;
}

// The class name without its module path: "torch.nn.modules.linear.Linear" -> "Linear".
std::string short_class(const std::string& cls) { return cls.substr(cls.rfind('.') + 1); }

// The zip side, through LibTorch's reader; every record is read once.
class Archive {
 public:
  explicit Archive(const std::string& path) : path_(path) {
    if (!fs::exists(path)) throw std::runtime_error(path + ": no such file");
    if (!fs::is_regular_file(path)) throw std::runtime_error(path + ": not a file (expected one written by torch.save)");
    char head[4] = {0, 0, 0, 0};
    std::ifstream(path, std::ios::binary).read(head, 4);
    if (static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 && head[1] <= 5)
      throw std::runtime_error(path + ": a torch file in the legacy format (PyTorch before 1.6, or "
                                      "_use_new_zipfile_serialization=False); re-save it with torch.save in PyTorch >= 1.6");
    if (std::memcmp(head, "PK\x03\x04", 4) != 0)
      throw std::runtime_error(path + ": not a torch archive (torch.save writes a zip file; this is none)");
    try {
      reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
    } catch (const c10::Error& e) {
      throw std::runtime_error(path + ": not a readable torch archive (" + first_line(e.what_without_backtrace()) + ")");
    }
    if (!has("data.pkl")) {
      if (has("constants.pkl") || has("code/__torch__.py"))
        throw std::runtime_error(path + ": a TorchScript archive (torch.jit.save); save the module with torch.save(net) "
                                        "or torch.save(net.state_dict()) instead");
      throw std::runtime_error(path + ": a zip file without data.pkl, not written by torch.save");
    }
    if (has("byteorder") && record("byteorder") != "little")
      throw std::runtime_error(path + ": tensors stored big-endian; expected little-endian");
  }

  bool has(const std::string& name) const {
    try {
      return reader_->hasRecord(name);
    } catch (const c10::Error&) {
      return false;
    }
  }

  const std::string& record(const std::string& name) {
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    if (!has(name)) throw std::runtime_error(path_ + ": record " + name + " is missing from the archive");
    std::string bytes;
    try {
      auto [data, size] = reader_->getRecord(name);
      bytes.assign(static_cast<const char*>(data.get()), size);
    } catch (const c10::Error& e) {
      throw std::runtime_error(path_ + ": record " + name + " unreadable (" + first_line(e.what_without_backtrace()) + ")");
    }
    return cache_.emplace(name, std::move(bytes)).first->second;
  }

 private:
  std::string path_;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader_;
  std::map<std::string, std::string> cache_;
};

struct Linear {
  std::string name;
  const TensorRef* w = nullptr;
  const TensorRef* b = nullptr;
};

struct SeenActivation {
  std::string where, cls;
  Activation a = Activation::Softplus;
  double beta = 1, threshold = 20;
  std::string describe() const {
    return a == Activation::Softplus ? "Softplus(beta=" + fmt(beta) + ")" : short_class(cls);
  }
};

struct Network {
  std::vector<Linear> layers;
  std::vector<SeenActivation> activations;
  std::string format;
  int64_t iteration = -1;
  std::string iteration_source;
  std::vector<std::string> ignored, warnings;
};

double number(const Value* v, double fallback) {
  if (v && v->kind == Kind::Int) return static_cast<double>(v->i);
  if (v && v->kind == Kind::Float) return v->f;
  return fallback;
}

class Reader {
 public:
  Reader(std::string path, Network& net) : path_(std::move(path)), net_(net) {}

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }

  // The network inside the file's top-level value, unwrapping training-script dicts.
  void find(const Value& v, const std::string& under, int depth) {
    if (v.kind == Kind::Object) {
      net_.format = "whole module " + v.s + under;
      module(v, "", 0);
      return;
    }
    if (v.kind != Kind::Dict)
      fail(std::string("holds ") + (v.kind == Kind::Int || v.kind == Kind::Object ? "an " : "a ") + v.kind_name() +
           ", not a network (expected an nn.Module, a state_dict, or a dict with one under 'state_dict' or 'model')");
    if (is_state_dict(v)) {
      net_.format = "state_dict" + under;
      state_dict(v);
      return;
    }
    if (depth >= 3) fail("dicts nested deeper than 3 levels around the network");
    const Value* inner = nullptr;
    std::string inner_key;
    std::vector<std::string> keys;
    for (const auto& e : v.entries) {
      if (!e.first || e.first->kind != Kind::String) continue;
      const std::string& k = e.first->s;
      keys.push_back(k);
      if (!inner && (k == "state_dict" || k == "model_state_dict" || k == "model")) {
        inner = e.second.get();
        inner_key = k;
        continue;
      }
      if (net_.iteration < 0 && (k == "iteration" || k == "iterations" || k == "step" || k == "global_step") &&
          e.second->kind == Kind::Int && e.second->i >= 0) {
        net_.iteration = e.second->i;
        net_.iteration_source = "key '" + k + "'";
        continue;
      }
      net_.ignored.push_back("'" + k + "'");
    }
    if (!inner) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      fail("a dict with keys {" + list + "} and no network (expected an entry 'state_dict', 'model_state_dict' or 'model')");
    }
    find(*inner, " under '" + inner_key + "'" + under, depth + 1);
  }

 private:
  static bool is_state_dict(const Value& v) {
    if (v.entries.empty()) return false;
    for (const auto& e : v.entries)
      if (!e.first || e.first->kind != Kind::String || !e.second || e.second->kind != Kind::Tensor) return false;
    return true;
  }

  const Value& dict_field(const Value& state, const char* name, const std::string& where) const {
    const Value* d = state.get(name);
    if (!d || d->kind != Kind::Dict) fail("module '" + where + "' has no " + name + " (not an nn.Module?)");
    return *d;
  }

  void module(const Value& m, const std::string& path, int depth) {
    const std::string where = path.empty() ? "(root)" : path;
    if (depth > 32) fail("modules nested deeper than 32 levels");
    if (!m.state || m.state->kind != Kind::Dict) fail("module '" + where + "' (" + m.s + ") has no state");
    const Value& state = *m.state;
    const Value& params = dict_field(state, "_parameters", where);
    const std::string& cls = m.s;
    const std::string nn = "torch.nn.modules.";
    if (cls == nn + "linear.Linear") {
      const Value* w = params.get("weight");
      const Value* b = params.get("bias");
      if (!w || w->kind != Kind::Tensor) fail("Linear '" + where + "' has no weight tensor");
      if (!b || b->kind != Kind::Tensor)
        fail("Linear '" + where + "' has no bias (bias=False); gapscope's layers all have one");
      net_.layers.push_back({path, &w->tensor, &b->tensor});
      return;
    }
    const std::string act = nn + "activation.";
    if (cls == act + "Softplus" || cls == act + "Tanh" || cls == act + "SiLU") {
      SeenActivation a;
      a.where = where;
      a.cls = cls;
      a.a = cls == act + "Softplus" ? Activation::Softplus : cls == act + "Tanh" ? Activation::Tanh : Activation::SiLU;
      a.beta = number(state.get("beta"), 1.0);
      a.threshold = number(state.get("threshold"), 20.0);
      net_.activations.push_back(a);
      return;
    }
    if (cls.rfind(act, 0) == 0)
      fail("activation " + short_class(cls) + " ('" + where + "') cannot be mapped: gapscope's networks use Softplus, Tanh or SiLU");
    if (cls == nn + "linear.Identity" || cls.rfind(nn + "dropout.", 0) == 0) {
      net_.ignored.push_back(short_class(cls) + " '" + where + "' (no effect at evaluation)");
      return;
    }
    const bool container = cls == nn + "container.Sequential" || cls == nn + "container.ModuleList" ||
                           cls == nn + "container.ModuleDict";
    if (!container && cls.rfind("torch.", 0) == 0)
      fail("layer '" + where + "' (" + short_class(cls) +
           ") cannot be mapped: expected nn.Linear layers and a Softplus, Tanh or SiLU activation");
    // A container or the user's own class: its children carry the network.
    for (const auto& e : params.entries)
      if (e.second && e.second->kind != Kind::None)
        fail("module '" + where + "' (" + short_class(cls) + ") holds a parameter of its own (" +
             (e.first && e.first->kind == Kind::String ? e.first->s : std::string("?")) +
             "); only nn.Linear parameters can be mapped");
    if (const Value* buffers = state.get("_buffers"); buffers && buffers->kind == Kind::Dict)
      for (const auto& e : buffers->entries)
        if (e.second && e.second->kind == Kind::Tensor && e.first && e.first->kind == Kind::String)
          net_.warnings.push_back("buffer '" + (path.empty() ? "" : path + ".") + e.first->s + "' ignored");
    for (const auto& e : dict_field(state, "_modules", where).entries) {
      if (!e.first || e.first->kind != Kind::String) fail("module '" + where + "' has a child without a name");
      if (!e.second || e.second->kind == Kind::None) continue;
      if (e.second->kind != Kind::Object) fail("child '" + e.first->s + "' of '" + where + "' is not a module");
      module(*e.second, path.empty() ? e.first->s : path + "." + e.first->s, depth + 1);
    }
  }

  void state_dict(const Value& sd) {
    std::map<std::string, std::size_t> index;  // layer name -> position in net_.layers
    for (const auto& e : sd.entries) {
      const std::string& key = e.first->s;
      const auto dot = key.rfind('.');
      const std::string prefix = dot == std::string::npos ? "" : key.substr(0, dot);
      const std::string suffix = key.substr(dot == std::string::npos ? 0 : dot + 1);
      const TensorRef& t = e.second->tensor;
      if (suffix != "weight" && suffix != "bias")
        fail("key '" + key + "' is not a Linear parameter (expected <layer>.weight and <layer>.bias)");
      auto it = index.find(prefix);
      if (it == index.end()) {
        it = index.emplace(prefix, net_.layers.size()).first;
        net_.layers.push_back({prefix, nullptr, nullptr});
      }
      Linear& l = net_.layers[it->second];
      (suffix == "weight" ? l.w : l.b) = &t;
    }
    for (const auto& l : net_.layers) {
      if (!l.w) fail("layer '" + l.name + "' has a bias but no weight");
      if (!l.b) fail("layer '" + l.name + "' has no bias; gapscope's layers all have one");
    }
  }

  std::string path_;
  Network& net_;
};

std::size_t element_size(const std::string& storage_type) {
  if (storage_type == "torch.FloatStorage") return 4;
  if (storage_type == "torch.DoubleStorage") return 8;
  if (storage_type == "torch.HalfStorage" || storage_type == "torch.BFloat16Storage") return 2;
  return 0;
}

// The tensor's elements in row-major order, as float.
std::vector<float> read_tensor(Archive& ar, const TensorRef& t, const std::string& what, const std::string& path,
                               bool* narrowed) {
  const std::size_t es = element_size(t.storage_type);
  if (!es) throw std::runtime_error(path + ": " + what + " is a " + short_class(t.storage_type) +
                                    " tensor; expected floating point");
  const std::string& bytes = ar.record("data/" + t.key);
  if (static_cast<uint64_t>(t.storage_numel) > bytes.size() / es)
    throw std::runtime_error(path + ": " + what + ": storage record data/" + t.key + " is shorter than its " +
                             std::to_string(t.storage_numel) + " elements");
  // Every element must lie in the storage, and a parameter is no broadcast view, so it
  // has at most as many elements as its storage: both bound the work by the file's size.
  int64_t n = 1, last = t.offset;
  for (int64_t s : t.size) n = s == 0 ? 0 : n;
  if (n > 0) {
    for (std::size_t k = 0; k < t.size.size(); ++k) {
      const int64_t room = t.storage_numel - 1 - last;
      if (room < 0 || t.size[k] > t.storage_numel || (t.stride[k] > 0 && t.size[k] - 1 > room / t.stride[k]) ||
          n > t.storage_numel / t.size[k])
        throw std::runtime_error(path + ": " + what + " of shape " + shape_str(t.size) + " does not fit its storage of " +
                                 std::to_string(t.storage_numel) + " elements");
      last += (t.size[k] - 1) * t.stride[k];
      n *= t.size[k];
    }
  }
  std::vector<float> out(static_cast<std::size_t>(n));
  std::vector<int64_t> idx(t.size.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t at = t.offset;
    for (std::size_t j = 0; j < idx.size(); ++j) at += idx[j] * t.stride[j];
    const char* p = bytes.data() + static_cast<std::size_t>(at) * es;
    float v;
    if (es == 4) {
      std::memcpy(&v, p, 4);
    } else if (es == 8) {
      double d;
      std::memcpy(&d, p, 8);
      v = static_cast<float>(d);
      *narrowed = true;
    } else if (t.storage_type == "torch.HalfStorage") {
      c10::Half h;
      std::memcpy(&h.x, p, 2);
      v = static_cast<float>(h);
    } else {
      c10::BFloat16 h;
      std::memcpy(&h.x, p, 2);
      v = static_cast<float>(h);
    }
    out[static_cast<std::size_t>(k)] = v;
    for (std::size_t j = idx.size(); j-- > 0;) {  // next row-major index
      if (++idx[j] < t.size[j]) break;
      idx[j] = 0;
    }
  }
  return out;
}

}  // namespace

std::optional<AuthorsName> parse_authors_name(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* ext : {".pt", ".pth"})
    if (name.size() > std::strlen(ext) && name.compare(name.size() - std::strlen(ext), std::string::npos, ext) == 0)
      name.resize(name.size() - std::strlen(ext));
  static const std::regex pattern(R"((.+)_net__FP_weight_([0-9.eE+-]+)__iteration_([0-9]{1,12}))");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return std::nullopt;
  AuthorsName a;
  a.dataset = m[1].str();
  try {
    std::size_t k = 0;
    const double l = std::stod(m[2].str(), &k);
    if (k == m[2].str().size()) a.lambda = l;
  } catch (const std::exception&) {
  }
  a.iteration = std::stoll(m[3].str());
  return a;
}

std::string TorchImportReport::summary() const {
  std::ostringstream o;
  o << format << ": " << model_kind << ", layers";
  for (std::size_t k = 0; k < layers.size(); ++k) o << (k ? ", " : " ") << (layers[k].empty() ? "(root)" : layers[k]);
  o << "; " << activation << "; iteration " << iteration_source;
  return o.str();
}

WeightSnapshot import_torch(const std::string& path, TorchImportReport* report, const TorchImportExpect& expect) {
  TorchImportReport local;
  TorchImportReport& rep = report ? *report : local;
  rep = TorchImportReport{};
  rep.file = path;
  auto fail = [&](const std::string& what) -> void { throw std::runtime_error(path + ": " + what); };
  try {
    Archive ar(path);
    pickle::Ref root;
    try {
      root = pickle::parse(ar.record("data.pkl"));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(path + ": data.pkl: " + e.what());
    }
    Network net;
    Reader(path, net).find(*root, "", 0);
    rep.format = net.format;
    rep.ignored = net.ignored;
    rep.warnings = net.warnings;

    // ---- architecture from the shapes --------------------------------------------
    const auto& L = net.layers;
    if (L.empty()) fail("no nn.Linear layer found (" + net.format + ")");
    for (const auto& l : L) {
      rep.layers.push_back(l.name);
      const std::string n = l.name.empty() ? "(root)" : l.name;
      if (l.w->size.size() != 2) fail("layer '" + n + "' weight has shape " + shape_str(l.w->size) + "; expected out x in");
      if (l.b->size.size() != 1 || l.b->size[0] != l.w->size[0])
        fail("layer '" + n + "' bias has shape " + shape_str(l.b->size) + " for a weight of shape " + shape_str(l.w->size));
    }
    if (L.size() < 2) fail("a single Linear layer; gapscope's networks have at least one hidden layer");
    const int64_t in = L.front().w->size[1], width = L.front().w->size[0], out = L.back().w->size[0];
    for (std::size_t k = 1; k < L.size(); ++k)
      if (L[k].w->size[1] != L[k - 1].w->size[0])
        fail("inconsistent shapes: layer '" + L[k].name + "' takes " + std::to_string(L[k].w->size[1]) + " inputs but '" +
             L[k - 1].name + "' gives " + std::to_string(L[k - 1].w->size[0]));
    for (std::size_t k = 0; k + 1 < L.size(); ++k)
      if (L[k].w->size[0] != width)
        fail("hidden widths " + std::to_string(width) + " and " + std::to_string(L[k].w->size[0]) + " ('" + L[k].name +
             "'); gapscope's networks have one hidden width");
    if (in < 2) fail("the first layer takes " + std::to_string(in) + " input; expected (t, x) with d >= 1");
    ModelSpec spec;
    spec.d = static_cast<int>(in - 1);
    spec.hidden = static_cast<int>(width);
    spec.layers = static_cast<int>(L.size() - 1);
    spec.prior_var = 0;
    std::vector<std::string> mismatch;
    auto check = [&](bool differs, const std::string& what) {
      if (differs) mismatch.push_back(what);
    };
    if (out == 1 && spec.d == 1) {
      spec.potential = expect.potential.value_or(true);
      rep.model_kind = std::string(spec.potential ? "potential" : "score") + " network, d = 1 (" +
                       (expect.potential ? "from " + expect.from : std::string("assumed: one output fits either")) + ")";
      if (!expect.potential)
        rep.warnings.push_back("a 1-D network with one output may be a potential or a score; assumed a potential "
                               "(the paper's); --set model=score if it is a score network");
    } else if (out == 1 || out == spec.d) {
      spec.potential = out == 1;
      rep.model_kind = out == 1 ? "potential network (1 output), d = " + std::to_string(spec.d)
                                : "score network (d outputs), d = " + std::to_string(spec.d);
      if (expect.potential)
        check(*expect.potential != spec.potential,
              std::string("a ") + (spec.potential ? "potential" : "score") + " network (" + expect.from + ": " +
                  (*expect.potential ? "potential" : "score") + ")");
    } else {
      fail("the last layer gives " + std::to_string(out) + " outputs; expected 1 (a potential) or d = " +
           std::to_string(spec.d) + " (a score)");
    }
    check(expect.d && *expect.d != spec.d,
          "d = " + std::to_string(spec.d) + " (" + expect.from + ": " + std::to_string(expect.d.value_or(0)) + ")");
    check(expect.hidden && *expect.hidden != spec.hidden,
          "hidden width " + std::to_string(spec.hidden) + " (" + expect.from + ": " + std::to_string(expect.hidden.value_or(0)) + ")");
    check(expect.layers && *expect.layers != spec.layers,
          std::to_string(spec.layers) + " hidden layers (" + expect.from + ": " + std::to_string(expect.layers.value_or(0)) + ")");

    // ---- activation -----------------------------------------------------------------
    const auto& A = net.activations;
    for (const auto& a : A)
      if (a.a != A.front().a || (a.a == Activation::Softplus && a.beta != A.front().beta))
        fail("mixed activations: " + A.front().describe() + " in '" + A.front().where + "', " + a.describe() + " in '" +
             a.where + "'; gapscope's networks have one");
    if (!A.empty()) {
      spec.activation = A.front().a;
      spec.softplus_beta = spec.activation == Activation::Softplus ? A.front().beta : expect.softplus_beta.value_or(100.0);
      rep.activation = A.front().describe() + " from module '" + A.front().where + "'";
      if (spec.activation == Activation::Softplus && A.front().threshold != 20)
        rep.warnings.push_back("Softplus threshold " + fmt(A.front().threshold) +
                               " ignored: gapscope's softplus switches to linear at beta*x > 20 (torch's default)");
      check(expect.activation && *expect.activation != spec.activation,
            std::string("activation ") + activation_name(spec.activation) + " (" + expect.from + ": " +
                activation_name(expect.activation.value_or(Activation::Softplus)) + ")");
      check(spec.activation == Activation::Softplus && expect.softplus_beta && *expect.softplus_beta != spec.softplus_beta,
            "softplus beta " + fmt(spec.softplus_beta) + " (" + expect.from + ": " + fmt(expect.softplus_beta.value_or(0)) + ")");
    } else {
      spec.activation = expect.activation.value_or(Activation::Softplus);
      spec.softplus_beta = expect.softplus_beta.value_or(100.0);
      const std::string what = spec.activation == Activation::Softplus ? "Softplus(beta=" + fmt(spec.softplus_beta) + ")"
                                                                        : std::string(activation_name(spec.activation));
      if (expect.activation || expect.softplus_beta) {
        rep.activation = what + " from " + expect.from + " (the file names none)";
      } else {
        rep.activation = what + " assumed (the file names none)";
        rep.activation_assumed = true;
        rep.warnings.push_back("the file names no activation; assumed " + what +
                               ", the paper's (--set activation=… / softplus_beta=… if it differs)");
      }
    }
    if (!mismatch.empty()) {
      std::string m;
      for (const auto& s : mismatch) m += (m.empty() ? "" : ", ") + s;
      fail("the network does not match " + expect.from + ": " + m);
    }

    // ---- iteration ---------------------------------------------------------------------
    int64_t from_name = -1;
    if (const auto a = parse_authors_name(path)) {
      rep.name_dataset = a->dataset;
      rep.name_lambda = a->lambda;
      from_name = a->iteration;
    }
    WeightSnapshot snap;
    if (net.iteration >= 0) {
      snap.iteration = net.iteration;
      rep.iteration_source = std::to_string(net.iteration) + " (" + net.iteration_source + ")";
    } else if (from_name >= 0) {
      snap.iteration = from_name;
      rep.iteration_source = std::to_string(from_name) + " (the file name)";
    } else {
      rep.iteration_source = "0 (the file does not say)";
    }

    // ---- the weights -------------------------------------------------------------------
    bool narrowed = false;
    snap.spec = spec;
    for (const auto& l : L) {
      const std::string n = l.name.empty() ? "(root)" : l.name;
      snap.weights.push_back(read_tensor(ar, *l.w, "layer '" + n + "' weight", path, &narrowed));
      snap.biases.push_back(read_tensor(ar, *l.b, "layer '" + n + "' bias", path, &narrowed));
    }
    if (narrowed) rep.warnings.push_back("float64 parameters rounded to float32");
    return snap;
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": " + first_line(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(path + ": out of memory reading it (a corrupt size?)");
  }
}

}  // namespace gapscope

#pragma once
// A small reader for the pickle inside a torch.save archive (data.pkl). It builds an inert
// tree of values and never runs or imports anything: a Python class is kept as its
// qualified name with its constructor arguments and its state; only the few torch and
// standard-library globals that torch.save emits (tensor rebuilds, OrderedDict, set) are
// given their meaning. Why gapscope has its own: LibTorch 1.13's Unpickler turns every
// collections.OrderedDict into None, so it fails on every state_dict and on every
// module's _parameters and _modules (torch_import.cpp uses LibTorch's zip reader).
// Malformed input of any kind throws std::runtime_error with a one-line message.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gapscope::pickle {

struct Value;
using Ref = std::shared_ptr<Value>;

// A tensor as torch._utils._rebuild_tensor_v2 describes it: a view into a storage record.
struct TensorRef {
  std::string storage_type;  // the storage class, e.g. "torch.FloatStorage"
  std::string key;           // the record data/<key> of the archive
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> size, stride;
};

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Object, Storage, Tensor };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                            // String (also bytes); Global and Object: "module.name"
  std::vector<Ref> items;                   // Tuple, List
  std::vector<std::pair<Ref, Ref>> entries;  // Dict, in insertion order
  Ref args, state;                          // Object: constructor arguments, BUILD state
  TensorRef tensor;                         // Storage, Tensor

  Value() = default;
  explicit Value(Kind k) : kind(k) {}
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value();  // iterative, so a deeply nested file cannot overflow the stack on destruction

  // Dict lookup by string key (the last entry wins, as in Python); nullptr when absent.
  const Value* get(const std::string& key) const;
  const char* kind_name() const;
};

// Parses one pickle (protocols 2 to 5, the binary opcodes). Throws std::runtime_error
// "pickle: <what> at byte N" on anything it cannot read.
Ref parse(const std::string& bytes);

}  // namespace gapscope::pickle

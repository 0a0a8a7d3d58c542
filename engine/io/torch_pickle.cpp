#include "io/torch_pickle.h"

#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace gapscope::pickle {

Value::~Value() {
  std::vector<Ref> work;
  auto take = [&work](Value& v) {
    for (auto& r : v.items)
      if (r) work.push_back(std::move(r));
    v.items.clear();
    for (auto& e : v.entries) {
      if (e.first) work.push_back(std::move(e.first));
      if (e.second) work.push_back(std::move(e.second));
    }
    v.entries.clear();
    if (v.args) work.push_back(std::move(v.args));
    if (v.state) work.push_back(std::move(v.state));
  };
  take(*this);
  while (!work.empty()) {
    Ref r = std::move(work.back());
    work.pop_back();
    // The last owner hands its children to the work list before it dies, so no
    // destructor below this one has anything left to recurse into.
    if (r.use_count() == 1) take(*r);
  }
}

const Value* Value::get(const std::string& key) const {
  const Value* found = nullptr;
  for (const auto& e : entries)
    if (e.first && e.first->kind == Kind::String && e.first->s == key) found = e.second.get();
  return found;
}

const char* Value::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "class";
    case Kind::Object: return "object";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

namespace {

Ref make(Value::Kind k) { return std::make_shared<Value>(k); }

std::string a_kind(const Value& v) {
  const std::string k = v.kind_name();
  return (k == "int" || k == "object" ? "an " : "a ") + k;
}

class Parser {
 public:
  explicit Parser(const std::string& bytes) : b_(bytes) {}

  Ref run() {
    for (;;) {
      op_pos_ = pos_;
      if (pos_ >= b_.size()) fail("truncated (no STOP)");
      const uint8_t op = u8();
      switch (op) {
        case 0x80: {  // PROTO
          const int v = u8();
          if (v < 2 || v > 5) fail("protocol " + std::to_string(v) + " (expected 2 to 5)");
          break;
        }
        case 0x95: le(8); break;  // FRAME: a length hint only
        case '.': return pop();  // STOP
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': stack_.push_back(top()); break;
        case 'N': push(make(Value::Kind::None)); break;
        case 0x88: push_bool(true); break;
        case 0x89: push_bool(false); break;
        case 'J': push_int(static_cast<int32_t>(le(4))); break;
        case 'K': push_int(static_cast<int64_t>(le(1))); break;
        case 'M': push_int(static_cast<int64_t>(le(2))); break;
        case 0x8a: push_int(long1()); break;
        case 'G': {
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = bits << 8 | u8();  // big-endian
          auto v = make(Value::Kind::Float);
          std::memcpy(&v->f, &bits, sizeof bits);
          push(v);
          break;
        }
        case 'X': push_string(bytes(le(4))); break;
        case 0x8c: push_string(bytes(le(1))); break;
        case 0x8d: push_string(bytes(le(8))); break;
        case 'T': {
          const int32_t n = static_cast<int32_t>(le(4));
          if (n < 0) fail("negative string length");
          push_string(bytes(static_cast<uint64_t>(n)));
          break;
        }
        case 'U': push_string(bytes(le(1))); break;
        case 'B': push_string(bytes(le(4))); break;
        case 'C': push_string(bytes(le(1))); break;
        case 0x8e: push_string(bytes(le(8))); break;
        case ')': push(make(Value::Kind::Tuple)); break;
        case 't': push_seq(Value::Kind::Tuple, pop_mark()); break;
        case 0x85:
        case 0x86:
        case 0x87: {
          const std::size_t n = op - 0x84u;
          if (stack_.size() < n + floor()) fail("stack underflow");
          std::vector<Ref> items(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          push_seq(Value::Kind::Tuple, std::move(items));
          break;
        }
        case ']':
        case 0x8f: push(make(Value::Kind::List)); break;  // EMPTY_LIST, EMPTY_SET (sets become lists)
        case 'l':
        case 0x91: push_seq(Value::Kind::List, pop_mark()); break;  // LIST, FROZENSET
        case 'a': {
          Ref v = pop();
          list_top("APPEND").items.push_back(std::move(v));
          break;
        }
        case 'e':
        case 0x90: {  // APPENDS, ADDITEMS
          auto items = pop_mark();
          auto& l = list_top("APPENDS").items;
          l.insert(l.end(), items.begin(), items.end());
          break;
        }
        case '}': push(make(Value::Kind::Dict)); break;
        case 'd': {
          auto d = make(Value::Kind::Dict);
          add_pairs(*d, pop_mark());
          push(d);
          break;
        }
        case 's': {
          Ref v = pop(), k = pop();
          dict_top("SETITEM").entries.emplace_back(std::move(k), std::move(v));
          break;
        }
        case 'u': {
          auto items = pop_mark();
          add_pairs(dict_top("SETITEMS"), std::move(items));
          break;
        }
        case 'c': {
          std::string module = line();
          std::string name = line();
          push_global(module + "." + name);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Ref name = pop(), module = pop();
          if (name->kind != Value::Kind::String || module->kind != Value::Kind::String)
            fail("STACK_GLOBAL of " + a_kind(*module) + " and " + a_kind(*name));
          push_global(module->s + "." + name->s);
          break;
        }
        case 'R':
        case 0x81: {  // REDUCE, NEWOBJ: both build an object from a callable and its arguments
          Ref args = pop(), callable = pop();
          push(call(callable, args));
          break;
        }
        case 0x92: {  // NEWOBJ_EX: the keyword arguments are not needed for what is read here
          pop();
          Ref args = pop(), callable = pop();
          push(call(callable, args));
          break;
        }
        case 'b': {  // BUILD: an object's state; dict attributes (a state_dict's _metadata) are dropped
          Ref st = pop();
          Ref& obj = top();
          if (obj->kind == Value::Kind::Object) obj->state = std::move(st);
          break;
        }
        case 'Q': push(persistent(pop())); break;
        case 'q': memo_[le(1)] = top(); break;
        case 'r': memo_[le(4)] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break;
        case 'h': push(memo(le(1))); break;
        case 'j': push(memo(le(4))); break;
        default: {
          static const char* hex = "0123456789abcdef";
          fail(std::string("unsupported opcode 0x") + hex[op >> 4] + hex[op & 15]);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("pickle: " + what + " at byte " + std::to_string(op_pos_));
  }

  uint8_t u8() {
    if (pos_ >= b_.size()) fail("truncated");
    return static_cast<uint8_t>(b_[pos_++]);
  }
  uint64_t le(int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(u8()) << (8 * k);
    return v;
  }
  int64_t long1() {
    const int n = u8();
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes");
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(u8()) << (8 * k);
    if (n > 0 && n < 8 && (v >> (8 * n - 1) & 1)) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  std::string bytes(uint64_t n) {
    if (n > b_.size() - pos_) fail("truncated (a string of " + std::to_string(n) + " bytes)");
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const auto end = b_.find('\n', pos_);
    if (end == std::string::npos || end - pos_ > 1000) fail("unterminated GLOBAL name");
    std::string s = b_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  // The lowest stack index the current MARK leaves to the opcodes above it.
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Ref v) { stack_.push_back(std::move(v)); }
  Ref pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    Ref v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Ref& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<Ref> pop_mark() {
    if (marks_.empty()) fail("no MARK");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ref> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Value& list_top(const char* op) {
    Value& v = *top();
    if (v.kind != Value::Kind::List) fail(std::string(op) + " to " + a_kind(v));
    return v;
  }
  Value& dict_top(const char* op) {
    Value& v = *top();
    if (v.kind != Value::Kind::Dict) fail(std::string(op) + " on " + a_kind(v));
    return v;
  }
  void add_pairs(Value& d, std::vector<Ref> items) {
    if (items.size() % 2) fail("odd number of dict items");
    for (std::size_t k = 0; k < items.size(); k += 2) d.entries.emplace_back(std::move(items[k]), std::move(items[k + 1]));
  }
  Ref memo(uint64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail("memo entry " + std::to_string(k) + " read before it was written");
    return it->second;
  }
  void push_bool(bool b) {
    auto v = make(Value::Kind::Bool);
    v->b = b;
    push(v);
  }
  void push_int(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->i = i;
    push(v);
  }
  void push_string(std::string s) {
    auto v = make(Value::Kind::String);
    v->s = std::move(s);
    push(v);
  }
  void push_seq(Value::Kind k, std::vector<Ref> items) {
    auto v = make(k);
    v->items = std::move(items);
    push(v);
  }
  void push_global(std::string name) {
    auto v = make(Value::Kind::Global);
    v->s = std::move(name);
    push(v);
  }

  static bool is(const Ref& v, Value::Kind k) { return v && v->kind == k; }

  std::vector<int64_t> int_tuple(const Ref& t, const char* what) {
    if (!is(t, Value::Kind::Tuple)) fail(std::string("tensor ") + what + " is " + a_kind(*t));
    if (t->items.size() > 8) fail(std::string("tensor ") + what + " of " + std::to_string(t->items.size()) + " dimensions");
    std::vector<int64_t> out;
    for (const auto& e : t->items) {
      if (!is(e, Value::Kind::Int) || e->i < 0) fail(std::string("tensor ") + what + " entry is not a size");
      out.push_back(e->i);
    }
    return out;
  }

  // What a callable makes of its arguments: the globals torch.save emits mean what they
  // mean in Python; any other class becomes an inert Object holding its arguments.
  Ref call(const Ref& callable, const Ref& args) {
    if (!is(callable, Value::Kind::Global)) fail("a call of " + a_kind(*callable));
    if (!is(args, Value::Kind::Tuple)) fail("call arguments are " + a_kind(*args));
    const std::string& name = callable->s;
    const auto& a = args->items;
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict") {
      auto d = make(Value::Kind::Dict);
      if (!a.empty() && (is(a[0], Value::Kind::List) || is(a[0], Value::Kind::Tuple)))
        for (const auto& p : a[0]->items)
          if (is(p, Value::Kind::Tuple) && p->items.size() == 2) d->entries.emplace_back(p->items[0], p->items[1]);
      return d;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || !is(a[0], Value::Kind::Storage) || !is(a[1], Value::Kind::Int))
        fail("a tensor rebuild without (storage, offset, size, stride)");
      auto t = make(Value::Kind::Tensor);
      t->tensor = a[0]->tensor;
      t->tensor.offset = a[1]->i;
      t->tensor.size = int_tuple(a[2], "size");
      t->tensor.stride = int_tuple(a[3], "stride");
      if (t->tensor.offset < 0 || t->tensor.size.size() != t->tensor.stride.size()) fail("inconsistent tensor layout");
      return t;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || !is(a[0], Value::Kind::Tensor)) fail("a parameter rebuild without a tensor");
      return a[0];
    }
    if (name == "torch.jit._pickle.restore_type_tag") {  // LibTorch's pickler: (value, "Dict[str, Tensor]")
      if (a.empty()) fail("restore_type_tag without a value");
      return a[0];
    }
    if (name == "builtins.set" || name == "__builtin__.set" || name == "builtins.frozenset" ||
        name == "__builtin__.frozenset") {
      auto l = make(Value::Kind::List);
      if (!a.empty() && (is(a[0], Value::Kind::List) || is(a[0], Value::Kind::Tuple))) l->items = a[0]->items;
      return l;
    }
    if (name == "_codecs.encode") {  // how protocol 2 writes Python 3 bytes
      auto s = make(Value::Kind::String);
      if (!a.empty() && is(a[0], Value::Kind::String)) s->s = a[0]->s;
      return s;
    }
    auto o = make(Value::Kind::Object);
    o->s = name;
    o->args = args;
    return o;
  }

  // torch.save's persistent id of a storage: ('storage', type, key, location, numel).
  Ref persistent(const Ref& pid) {
    if (!is(pid, Value::Kind::Tuple) || pid->items.size() < 5) fail("a persistent id that is not a storage tuple");
    const auto& p = pid->items;
    if (!is(p[0], Value::Kind::String) || p[0]->s != "storage" || !is(p[1], Value::Kind::Global) ||
        !is(p[2], Value::Kind::String) || !is(p[4], Value::Kind::Int) || p[4]->i < 0)
      fail("a persistent id that is not ('storage', type, key, location, numel)");
    auto s = make(Value::Kind::Storage);
    s->tensor.storage_type = p[1]->s;
    s->tensor.key = p[2]->s;
    s->tensor.storage_numel = p[4]->i;
    return s;
  }

  const std::string& b_;
  std::size_t pos_ = 0, op_pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, Ref> memo_;
};

}  // namespace

Ref parse(const std::string& bytes) { return Parser(bytes).run(); }

}  // namespace gapscope::pickle

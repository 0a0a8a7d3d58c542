#include "core/npy.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace gapscope {
namespace {

// The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (100, 2), }
// read by a small parser of exactly that grammar: quoted strings, True/False and tuples
// of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::uint64_t>& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      if (key == "descr") {
        descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        fail("unexpected header key '" + key.substr(0, 30) + "'");
      }
      skip();
      if (peek() == ',') ++i_;
    }
    if (!have_descr || !have_order || !have_shape) fail("header lacks 'descr', 'fortran_order' or 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw std::runtime_error(path_ + ": not a readable .npy file: " + why); }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    skip();
    if (peek() != c) fail(std::string("expected '") + c + "' in the header");
    ++i_;
  }
  std::string quoted() {
    skip();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted name in the header");
    const std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) fail("unterminated string in the header");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip();
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    fail("expected True or False for 'fortran_order'");
  }
  std::vector<std::uint64_t> tuple() {
    expect('(');
    std::vector<std::uint64_t> out;
    while (true) {
      skip();
      if (peek() == ')') break;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected non-negative integers in 'shape'");
      std::uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (UINT64_C(1) << 40)) fail("'shape' is too large");
        v = v * 10 + static_cast<std::uint64_t>(s_[i_++] - '0');
      }
      out.push_back(v);
      skip();
      if (peek() == ',') ++i_;
    }
    ++i_;
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

std::uint32_t little(const unsigned char* b, int bytes) {
  std::uint32_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = v << 8 | b[k];
  return v;
}

}  // namespace

Points read_points_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open for reading");
  auto bad = [&](const std::string& why) { return std::runtime_error(path + ": not a readable .npy file: " + why); };
  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 10);
  if (in.gcount() != 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0) throw bad("expected the magic bytes \\x93NUMPY");
  const int major = pre[6];
  if (major < 1 || major > 3) throw bad("format version " + std::to_string(major) + " (expected 1, 2 or 3)");
  std::uint32_t header_len = little(pre + 8, 2);
  if (major >= 2) {
    in.read(reinterpret_cast<char*>(pre + 10), 2);
    if (in.gcount() != 2) throw bad("truncated header");
    header_len = little(pre + 8, 4);
  }
  if (header_len > 65536) throw bad("header of " + std::to_string(header_len) + " bytes (expected a short dict)");
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (static_cast<std::uint32_t>(in.gcount()) != header_len) throw bad("truncated header");
  while (!header.empty() && (header.back() == '\n' || header.back() == ' ' || header.back() == '\0')) header.pop_back();
  for (char c : header)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) throw bad("header is not text");

  std::string descr;
  bool fortran = false;
  std::vector<std::uint64_t> shape;
  HeaderParser(header, path).parse(descr, fortran, shape);
  int item = 0;
  if (descr == "<f4" || descr == "=f4") item = 4;
  if (descr == "<f8" || descr == "=f8") item = 8;
  if (item == 0)
    throw bad("dtype '" + descr.substr(0, 12) + "' (expected little-endian float32 '<f4' or float64 '<f8')");
  if (shape.empty() || shape.size() > 2) throw bad("shape of " + std::to_string(shape.size()) + " dimensions (expected (n,) or (n, d))");
  const std::uint64_t n = shape[0], d = shape.size() == 2 ? shape[1] : 1;
  if (n == 0 || d == 0) throw bad("no data (shape has a zero)");
  if (d > 4096) throw bad("d = " + std::to_string(d) + " columns (expected a point cloud of a few dimensions)");

  // The size is known before the data is read: a truncated file, or one with trailing
  // bytes, is not the array its header says.
  const std::uint64_t count = n * d, bytes = count * static_cast<std::uint64_t>(item);
  const std::streamoff start = in.tellg();
  in.seekg(0, std::ios::end);
  const std::uint64_t have = static_cast<std::uint64_t>(in.tellg() - start);
  if (have != bytes)
    throw bad("the header's shape needs " + std::to_string(bytes) + " data bytes, the file holds " + std::to_string(have));
  in.seekg(start);
  std::vector<unsigned char> raw(static_cast<std::size_t>(bytes));
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(bytes));
  if (static_cast<std::uint64_t>(in.gcount()) != bytes) throw bad("truncated data");

  Points p(static_cast<int>(d), static_cast<std::size_t>(n));
  for (std::uint64_t k = 0; k < count; ++k) {
    double v;
    if (item == 4) {
      float f;
      std::memcpy(&f, raw.data() + k * 4, 4);
      v = f;
    } else {
      std::memcpy(&v, raw.data() + k * 8, 8);
    }
    // C order: k = i*d + j; Fortran order: k = j*n + i.
    const std::uint64_t i = fortran ? k % n : k / d, j = fortran ? k / n : k % d;
    if (!std::isfinite(v) || std::abs(v) > 3.4e38)
      throw bad("non-finite value at row " + std::to_string(i) + ", column " + std::to_string(j));
    p.v[static_cast<std::size_t>(i * d + j)] = static_cast<float>(v);
  }
  return p;
}

}  // namespace gapscope

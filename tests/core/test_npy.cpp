// The .npy reader against files numpy wrote (scripts/make_npy_fixtures.py) and against
// damaged headers written byte by byte here: every refusal is one line naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/npy.h"
#include "core/points.h"
#include "test_util.h"

using namespace gapscope;
using gapscope::testing::error_of;

namespace {

const std::string kDir = std::string(GAPSCOPE_FIXTURES) + "/npy/";

void expect_fixture_points(const Points& p, int d) {
  ASSERT_EQ(p.d, d);
  ASSERT_EQ(p.n(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_FLOAT_EQ(p.row(i)[0], 0.5f * static_cast<float>(i) - 1) << "row " << i;
    if (d == 2) EXPECT_FLOAT_EQ(p.row(i)[1], 0.25f * static_cast<float>(i)) << "row " << i;
  }
}

// A version 1.0 file: magic, version, header length, the header padded with spaces to a
// multiple of 64 bytes and ended by a newline, then the data.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

std::string write(const std::string& name, const std::string& bytes) {
  static const auto dir = gapscope::testing::temp_dir("npy");
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(v.begin()), v.size() * sizeof(float));
}

void expect_one_line_naming(const std::string& path, const std::string& err, const std::string& what) {
  EXPECT_EQ(err.rfind(path + ": ", 0), 0u) << err;
  EXPECT_NE(err.find(what), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_LT(err.size(), 200u + path.size()) << err;
}

}  // namespace

TEST(Npy, ReadsBothDtypesInBothOrders) {
  for (const char* f : {"c_f4.npy", "c_f8.npy", "fortran_f4.npy", "fortran_f8.npy", "v2_f4.npy"}) {
    SCOPED_TRACE(f);
    expect_fixture_points(read_points_npy(kDir + f), 2);
  }
}

TEST(Npy, VectorsAndSingleColumnsAreOneDimensional) {
  expect_fixture_points(read_points_npy(kDir + "vector_f8.npy"), 1);
  expect_fixture_points(read_points_npy(kDir + "column_f4.npy"), 1);
}

TEST(Npy, DataFilesAreReadByExtension) {
  expect_fixture_points(read_points_file(kDir + "fortran_f8.npy"), 2);
  const std::string csv = write("pts.csv", "x,y\n-1,0\n-0.5,0.25\n0,0.5\n0.5,0.75\n1,1\n");
  expect_fixture_points(read_points_file(csv), 2);
}

TEST(Npy, RefusesWhatIsNotAFloatCloud) {
  const std::pair<const char*, const char*> cases[] = {
      {"bad_int64.npy", "dtype '<i8'"}, {"bad_bigendian.npy", "dtype '>f8'"}, {"bad_3d.npy", "shape of 3 dimensions"}};
  for (const auto& [f, what] : cases) expect_one_line_naming(kDir + f, error_of([&] { read_points_npy(kDir + f); }), what);
}

TEST(Npy, RefusesDamagedHeaders) {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }";
  const std::string two = floats({1.f, 2.f});
  // The hand-made file itself reads, so the failures below are the damage's.
  const Points p = read_points_npy(write("good.npy", npy_bytes(good, two)));
  ASSERT_EQ(p.n(), 2u);
  EXPECT_EQ(p.v, (std::vector<float>{1.f, 2.f}));

  const std::pair<std::string, std::string> cases[] = {
      {"PK\x03\x04 not numpy at all", "magic"},
      {std::string("\x93NUMPY\x07\x00\x10\x00", 10) + "{}", "format version 7"},
      {std::string("\x93NUMPY\x01\x00\xff\x00", 10) + "{'descr'", "truncated header"},
      {npy_bytes("{'descr': '<f4', 'shape': (2, 1), }", two), "lacks"},
      {npy_bytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2, 1), }", two), "True or False"},
      {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", two), "integers in 'shape'"},
      {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), 'extra': 1}", two), "'extra'"},
      {npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 1), }", two), "dtype '<f2'"},
      {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }", ""), "no data"},
      {npy_bytes(good, floats({1.f})), "needs 8 data bytes, the file holds 4"},
      {npy_bytes(good, floats({1.f, 2.f, 3.f})), "needs 8 data bytes, the file holds 12"},
      {npy_bytes(good, floats({1.f, 1.f / 0.f})), "non-finite value at row 1"},
      {npy_bytes(std::string("{'descr': '<f4'\x01", 16), two), "not text"},
  };
  int k = 0;
  for (const auto& [bytes, what] : cases) {
    const std::string path = write("bad" + std::to_string(k++) + ".npy", bytes);
    expect_one_line_naming(path, error_of([&] { read_points_npy(path); }), what);
  }
  expect_one_line_naming("/nonexistent/x.npy", error_of([] { read_points_npy("/nonexistent/x.npy"); }), "cannot open");
}

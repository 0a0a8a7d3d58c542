#include <gtest/gtest.h>

#include <cmath>

#include <fstream>

#include "core/points.h"
#include "test_util.h"

using namespace gapscope;

namespace {
std::string write(const std::string& name, const std::string& text) {
  auto p = gapscope::testing::temp_dir("points") / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST(PointsCsv, RoundTripWithHeader) {
  Points p(2, 3);
  for (std::size_t i = 0; i < p.v.size(); ++i) p.v[i] = 0.1f * i - 0.2f;
  auto path = gapscope::testing::temp_dir("points") / "p.csv";
  write_points_csv(path.string(), p);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "x,y");
  Points q = read_points_csv(path.string());
  EXPECT_EQ(q.d, 2);
  EXPECT_EQ(q.v, p.v);
}

TEST(PointsCsv, HeaderIsOptional) {
  Points q = read_points_csv(write("nohead.csv", "1,2\n3,4\n"));
  ASSERT_EQ(q.n(), 2u);
  EXPECT_FLOAT_EQ(q.row(1)[0], 3.f);
}

TEST(PointsCsv, OneDimensionalHeaderIsX) {
  Points p(1, 2);
  p.v = {1.f, 2.f};
  auto path = gapscope::testing::temp_dir("points") / "x.csv";
  write_points_csv(path.string(), p);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "x");
}

TEST(PointsCsv, BadRowNamesFileAndLine) {
  const std::string path = write("bad.csv", "x,y\n1,2\n3,abc\n");
  try {
    read_points_csv(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected numbers"), std::string::npos) << e.what();
  }
}

TEST(PointsCsv, WrongColumnCountNamesLine) {
  const std::string path = write("cols.csv", "1,2\n3,4\n5\n");
  try {
    read_points_csv(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(":3: expected 2 columns"), std::string::npos) << e.what();
  }
}

TEST(PointsCsv, MissingFileAndEmptyFile) {
  EXPECT_THROW(read_points_csv("/nonexistent/file.csv"), std::runtime_error);
  EXPECT_THROW(read_points_csv(write("empty.csv", "x,y\n")), std::runtime_error);
}

TEST(Points, HeadKeepsThePrefix) {
  Points p(2, 4);
  for (std::size_t i = 0; i < p.v.size(); ++i) p.v[i] = static_cast<float>(i);
  Points h = head(p, 3);
  EXPECT_EQ(h.d, 2);
  EXPECT_EQ(h.v, (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(head(p, 9).v, p.v);
  EXPECT_EQ(head(p, 0).n(), 0u);
}

TEST(Points, OutsideShareCountsEscapesAndNonFinite) {
  Points p(2, 5);
  const float v[] = {0, 0, 3.9f, -3.9f, 4.1f, 0, 0, -1e4f, NAN, 0};
  std::copy(std::begin(v), std::end(v), p.v.begin());
  EXPECT_DOUBLE_EQ(outside_share(p, 4.0), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(outside_share(p, 1e5), 1.0 / 5.0);  // the NaN row is always outside
  EXPECT_DOUBLE_EQ(outside_share(Points(2, 0), 4.0), 0.0);
}

TEST(PointsCsv, ErrorsQuoteAShortExcerptNeverTheWholeLine) {
  auto dir = gapscope::testing::temp_dir("csv-long");
  const auto path = (dir / "long.csv").string();
  {
    std::ofstream f(path);
    f << "x,y\n1,2\n" << std::string(100000, 'a') << std::string(",\x01\x02\n", 4) << "3,4\n";
  }
  try {
    read_points_csv(path);
    FAIL() << "accepted a non-numeric row";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(path + ":3: expected numbers, got 'aaa", 0), 0u) << m.substr(0, 200);
    EXPECT_LT(m.size(), path.size() + 140);
    EXPECT_EQ(m.find('\x01'), std::string::npos);
  }
}

// A point count is checked against the machine's memory before anything is allocated.
TEST(Points, CheckPointsFitNamesTheOptionAndTheEstimate) {
  EXPECT_NO_THROW(gapscope::check_points_fit(1000000, 2, 20, "--n"));
  try {
    gapscope::check_points_fit(std::size_t{1} << 50, 2, 20, "--samples");
    ADD_FAILURE() << "2^50 points fit?";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("--samples 1125899906842624: ", 0), 0u) << m;
    EXPECT_NE(m.find("GB, this machine has"), std::string::npos) << m;
  }
}

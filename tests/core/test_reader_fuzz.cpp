// Random and mutated bytes through the config and CSV readers: each either reads or
// throws a one-line std::exception naming the file, never crashes, and the whole table
// runs in a few seconds (ctest's timeout bounds it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/points.h"
#include "test_util.h"

using namespace gapscope;
namespace fs = std::filesystem;

namespace {

// Mutations of a valid file: truncation, bit flips, byte changes, a slice repeated or cut,
// or random bytes altogether.
std::string mutate(const std::string& good, std::mt19937_64& rng) {
  std::string s = good;
  std::uniform_int_distribution<int> kind(0, 5), byte(0, 255);
  auto pos = [&](std::size_t n) { return n ? std::uniform_int_distribution<std::size_t>(0, n - 1)(rng) : 0; };
  switch (kind(rng)) {
    case 0: s.resize(pos(s.size() + 1)); break;
    case 1: for (int i = 0; i < 4 && !s.empty(); ++i) s[pos(s.size())] ^= static_cast<char>(1 << (rng() % 8)); break;
    case 2: for (int i = 0; i < 8 && !s.empty(); ++i) s[pos(s.size())] = static_cast<char>(byte(rng)); break;
    case 3: { const std::size_t a = pos(s.size()), n = pos(s.size() - a + 1); s.insert(a, s.substr(a, n)); break; }
    case 4: { const std::size_t a = pos(s.size()); s.erase(a, pos(s.size() - a + 1)); break; }
    default: { s.assign(pos(400), '\0'); for (auto& c : s) c = static_cast<char>(byte(rng)); }
  }
  return s;
}

void expect_reads_or_one_line(const std::function<void()>& read, const std::string& path, const std::string& input) {
  try {
    read();
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << "a multi-line error for input of " << input.size() << " bytes: " << m;
    EXPECT_NE(m.find(fs::path(path).filename().string()), std::string::npos) << m;
    EXPECT_LT(m.size(), 600u) << m.substr(0, 200);
  }
}

}  // namespace

TEST(ReaderFuzz, ConfigFilesReadOrGiveOneLine) {
  const fs::path dir = gapscope::testing::temp_dir("fuzz-config");
  const std::string good = to_json(Config{}).dump(2);
  std::mt19937_64 rng(20261201);
  for (int i = 0; i < 1500; ++i) {
    const std::string bytes = mutate(good, rng);
    const std::string path = (dir / "c.json").string();
    { std::ofstream(path, std::ios::binary) << bytes; }
    expect_reads_or_one_line([&] { load_config(path); }, path, bytes);
  }
  fs::remove_all(dir);
}

TEST(ReaderFuzz, PointCsvFilesReadOrGiveOneLine) {
  const fs::path dir = gapscope::testing::temp_dir("fuzz-csv");
  std::string good = "x,y\n";
  for (int i = 0; i < 50; ++i) good += std::to_string(i * 0.37 - 4) + "," + std::to_string(1e-3 * i * i) + "\n";
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1500; ++i) {
    const std::string bytes = mutate(good, rng);
    const std::string path = (dir / "p.csv").string();
    { std::ofstream(path, std::ios::binary) << bytes; }
    expect_reads_or_one_line([&] { read_points_csv(path); }, path, bytes);
  }
  fs::remove_all(dir);
}

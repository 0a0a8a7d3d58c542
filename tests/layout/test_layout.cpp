// The house's layers, checked against the tree: every engine folder opens its main header
// with what it owns and what it must not include, no file of the folder includes what its
// header forbids, the tests mirror the folders, and README's layout table says what the
// headers say. A new folder, a stray include or a stale README row fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;
using gapscope::testing::slurp;

namespace {

const fs::path kRoot = GAPSCOPE_SOURCE_DIR;

std::string trim(std::string s) {
  const auto a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

struct Layer {
  std::string name, owns;
  std::vector<std::string> forbidden;  // include prefixes: "nn/" means "nn/…", "<torch/" a system header
};

std::vector<std::string> engine_folders() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kRoot / "engine"))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The list in CMakeLists.txt's set(GAPSCOPE_LAYERS ...): what the build compiles.
std::vector<std::string> cmake_layers() {
  const std::string s = slurp(kRoot / "CMakeLists.txt");
  std::smatch m;
  if (!std::regex_search(s, m, std::regex(R"(set\(GAPSCOPE_LAYERS ([^)]*)\))"))) return {};
  std::istringstream in(m[1].str());
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  std::sort(out.begin(), out.end());
  return out;
}

Layer read_layer(const std::string& name) {
  Layer l;
  l.name = name;
  std::ifstream f(kRoot / "engine" / name / (name + ".h"));
  std::string line1, line2, line3;
  std::getline(f, line1);
  std::getline(f, line2);
  std::getline(f, line3);
  const std::string o = "// owns: ", m = "// must not include: ";
  if (line1 != "#pragma once" || line2.rfind(o, 0) != 0 || line3.rfind(m, 0) != 0) return l;
  l.owns = line2.substr(o.size());
  std::string list = line3.substr(m.size());
  list = list.substr(0, list.find('('));  // a parenthesis explains, it does not list
  std::istringstream in(list);
  for (std::string tok; std::getline(in, tok, ',');)
    if (!trim(tok).empty()) l.forbidden.push_back(trim(tok));
  return l;
}

}  // namespace

TEST(Layout, EveryEngineFolderIsALayerOfTheBuild) {
  EXPECT_EQ(engine_folders(), cmake_layers()) << "engine/ folders vs CMakeLists.txt's GAPSCOPE_LAYERS";
  for (const auto& e : fs::directory_iterator(kRoot / "engine")) EXPECT_TRUE(e.is_directory()) << e.path();
}

TEST(Layout, EveryLayerHeaderSaysWhatItOwnsAndMustNotInclude) {
  for (const auto& name : engine_folders()) {
    const Layer l = read_layer(name);
    EXPECT_FALSE(l.owns.empty()) << "engine/" << name << "/" << name
                                 << ".h must open with '#pragma once', '// owns: …', '// must not include: …'";
    EXPECT_FALSE(l.forbidden.empty()) << name;
  }
}

TEST(Layout, NoLayerIncludesWhatItsHeaderForbids) {
  const std::regex inc(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  for (const auto& name : engine_folders()) {
    const Layer l = read_layer(name);
    for (const auto& e : fs::directory_iterator(kRoot / "engine" / name)) {
      std::ifstream f(e.path());
      int n = 0;
      for (std::string line; std::getline(f, line);) {
        ++n;
        std::smatch m;
        if (!std::regex_search(line, m, inc)) continue;
        const std::string target = (m[1] == "<" ? "<" : "") + m[2].str();
        for (const auto& bad : l.forbidden)
          EXPECT_NE(target.rfind(bad, 0), 0u) << e.path().lexically_relative(kRoot).string() << ":" << n
                                              << " includes " << target << ", which engine/" << name << "/" << name
                                              << ".h forbids";
      }
    }
  }
}

TEST(Layout, TestsMirrorTheLayers) {
  // Test folders that are not engine layers: the apps, this check, data and benchmarks.
  const std::set<std::string> others = {"cli", "gui", "layout", "fixtures", "bench"};
  const auto layers = engine_folders();
  for (const auto& e : fs::directory_iterator(kRoot / "tests")) {
    if (!e.is_directory()) continue;
    const std::string d = e.path().filename().string();
    EXPECT_TRUE(others.count(d) || std::binary_search(layers.begin(), layers.end(), d))
        << "tests/" << d << "/ mirrors no engine layer";
  }
  for (const auto& name : layers) {
    bool has_test = false;
    if (fs::is_directory(kRoot / "tests" / name))
      for (const auto& e : fs::directory_iterator(kRoot / "tests" / name))
        has_test = has_test || e.path().filename().string().rfind("test_", 0) == 0;
    EXPECT_TRUE(has_test) << "engine/" << name << "/ has no tests/" << name << "/test_*.cpp";
  }
}

TEST(Layout, ReadmeTableSaysWhatTheLayerHeadersSay) {
  const std::string readme = slurp(kRoot / "README.md");
  std::set<std::string> rows;
  const std::regex row(R"(\| `engine/([a-z_]+)/` \| ([^|\n]*) \|)");
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), row); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1].str();
    rows.insert(name);
    ASSERT_TRUE(fs::is_directory(kRoot / "engine" / name)) << "README lists engine/" << name << "/, which is gone";
    EXPECT_EQ((*it)[2].str(), read_layer(name).owns)
        << "README's row for engine/" << name << "/ differs from the '// owns:' line of its header";
  }
  for (const auto& name : engine_folders()) EXPECT_TRUE(rows.count(name)) << "README's layout table misses engine/" << name;
  // The other folders it names exist.
  const std::regex top(R"(\| `([a-z_./]+)/` \|)");
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), top); it != std::sregex_iterator(); ++it)
    EXPECT_TRUE(fs::is_directory(kRoot / (*it)[1].str())) << "README's layout table names " << (*it)[1].str() << "/";
}

// Every file gapscope writes is replaced atomically, and a failure names the file and
// keeps what was there.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/atomic_file.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace gapscope;
using gapscope::testing::slurp;

namespace {
fs::path scratch() {
  const fs::path d = fs::temp_directory_path() / ("gapscope-atomic-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::string error_of(const std::string& path, const std::string& bytes) {
  try {
    write_file_atomically(path, bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(AtomicFile, WritesReplacesAndLeavesNoTemporary) {
  const fs::path d = scratch();
  const std::string big(3 << 20, 'x');  // several write() calls
  write_file_atomically((d / "a.csv").string(), big);
  EXPECT_EQ(slurp(d / "a.csv"), big);
  write_file_atomically((d / "a.csv").string(), "new\n");
  EXPECT_EQ(slurp(d / "a.csv"), "new\n");
  write_file_atomically((d / "empty").string(), "");
  EXPECT_TRUE(fs::exists(d / "empty"));
  EXPECT_EQ(fs::file_size(d / "empty"), 0u);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(d)) {
    ++entries;
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
  EXPECT_EQ(entries, 2);
  fs::remove_all(d);
}

TEST(AtomicFile, FailuresNameTheFileAndKeepTheOldContents) {
  const fs::path d = scratch();
  const std::string missing = (d / "no" / "such" / "dir" / "f.csv").string();
  const std::string e1 = error_of(missing, "x");
  EXPECT_EQ(e1.rfind(missing + ": ", 0), 0u) << e1;
  EXPECT_EQ(e1.find('\n'), std::string::npos);
  // A folder where the file should go is refused, not replaced.
  fs::create_directories(d / "dir");
  std::ofstream(d / "dir" / "keep") << "user data";
  EXPECT_NE(error_of((d / "dir").string(), "x").find("is a folder"), std::string::npos);
  EXPECT_EQ(slurp(d / "dir" / "keep"), "user data");
  // A read-only folder (root ignores permissions: only checked as a normal user).
  write_file_atomically((d / "ro.csv").string(), "old");
  if (::geteuid() != 0) {
    ::chmod(d.c_str(), 0555);
    EXPECT_NE(error_of((d / "ro.csv").string(), "new"), "");
    ::chmod(d.c_str(), 0755);
    EXPECT_EQ(slurp(d / "ro.csv"), "old");
  }
  EXPECT_EQ(error_of("", "x"), "write: empty output path");
  fs::remove_all(d);
}

#pragma once
// Small helpers shared by the test files.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <system_error>
#include <vector>

namespace gapscope::testing {

// A fresh directory under the system's temp folder, removed with everything in it when
// the test process exits (ctest runs each test in a process of its own), unless
// GAPSCOPE_KEEP_TEST_DIRS is set, to look at what a test wrote. Without the removal a
// full suite left some 45 directories in /tmp per run.
inline std::filesystem::path temp_dir(const std::string& name) {
  struct Made {
    std::mutex m;
    std::vector<std::filesystem::path> dirs;
    ~Made() {
      if (std::getenv("GAPSCOPE_KEEP_TEST_DIRS")) return;
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Made made;
  auto p = std::filesystem::temp_directory_path() /
           ("gapscope-test-" + name + "-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(p);
  std::lock_guard<std::mutex> lock(made.m);
  made.dirs.push_back(p);
  return p;
}

// A file's bytes ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The message of the exception f throws ("" when it does not throw).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

struct RunResult {
  int status = 0;
  std::string output;  // stdout and stderr together
};

inline RunResult run_cli(const std::string& args) {
  RunResult r;
  std::string cmd = std::string(GAPSCOPE_CLI) + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), f)) r.output += buf.data();
  int st = pclose(f);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace gapscope::testing

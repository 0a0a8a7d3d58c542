// kill -9 at random moments of a loop of saves: afterwards the path always loads (from
// itself or from what the killed save left). Its own executable, and this process never
// touches LibTorch: every save loop and every check runs in a child forked from a parent
// without threads, which is what makes fork() safe here.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "core/config.h"
#include "test_util.h"
#include "train/train.h"

using namespace gapscope;
namespace fs = std::filesystem;

namespace {

Config tiny() {
  Config c;
  c.hidden = 16;
  c.batch_dsm = 64;
  c.batch_collocation = 64;
  c.seed = 3;
  return c;
}

// Child: step and save forever (the parent kills it).
[[noreturn]] void save_loop(const fs::path& dir) {
  Trainer tr(tiny());
  for (;;) {
    tr.step();
    tr.save(dir.string());
  }
}

// Child: exit 0 when dir loads as a checkpoint.
[[noreturn]] void check(const fs::path& dir) {
  try {
    auto tr = Trainer::load(dir.string());
    _exit(tr->iteration() >= 1 ? 0 : 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    _exit(1);
  }
}

int run_child(const std::function<void()>& body) {
  const pid_t pid = fork();
  if (pid == 0) body();
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(CheckpointKill, ThePathAlwaysLoadsAfterAKillAtAnyMoment) {
  const fs::path root = gapscope::testing::temp_dir("ckpt-kill");
  const fs::path dir = root / "run";
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> wait_us(0, 40000);
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = fork();
    if (pid == 0) save_loop(dir);
    // Wait for a first checkpoint, then kill at a random moment of the loop.
    const auto t0 = std::chrono::steady_clock::now();
    while (!fs::exists(dir / "state.json") && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::microseconds(wait_us(rng)));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ASSERT_EQ(run_child([&] { check(dir); }), 0) << "round " << round;
    for (const auto& e : fs::directory_iterator(root))
      EXPECT_EQ(e.path().filename(), "run") << "round " << round << ": the load left " << e.path();
  }
  fs::remove_all(root);
}

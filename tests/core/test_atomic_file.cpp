// Every file gapscope writes is replaced atomically, and a failure names the file and
// keeps what was there.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// Only regular files are replaced: what else sits at the path is the user's and stays.
TEST(AtomicFile, RefusesWhatIsNotARegularFileAndFollowsLinks) {
  const fs::path d = scratch();
  ASSERT_EQ(::mkfifo((d / "pipe").c_str(), 0644), 0);
  const std::string e_fifo = error_of((d / "pipe").string(), "x");
  EXPECT_NE(e_fifo.find("is a FIFO"), std::string::npos) << e_fifo;
  EXPECT_EQ(fs::status(d / "pipe").type(), fs::file_type::fifo);
  // A device node (root only may make one): refused, never replaced.
  if (::mknod((d / "dev").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    EXPECT_NE(error_of((d / "dev").string(), "x").find("is a device"), std::string::npos);
    EXPECT_EQ(fs::status(d / "dev").type(), fs::file_type::character);
  }
  // A link to a regular file: the file gets the bytes, the link stays a link.
  write_file_atomically((d / "real.csv").string(), "old");
  ::chmod((d / "real.csv").c_str(), 0600);
  fs::create_symlink("real.csv", d / "link.csv");
  write_file_atomically((d / "link.csv").string(), "new");
  EXPECT_TRUE(fs::is_symlink(d / "link.csv"));
  EXPECT_EQ(slurp(d / "real.csv"), "new");
  EXPECT_EQ(fs::status(d / "real.csv").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink("nowhere.csv", d / "dangling.csv");
  EXPECT_NE(error_of((d / "dangling.csv").string(), "x").find("symbolic link to nothing"), std::string::npos);
  EXPECT_TRUE(fs::is_symlink(d / "dangling.csv"));
  const std::string slash = (d / "out.csv").string() + "/";
  EXPECT_NE(error_of(slash, "x").find("ends in '/'"), std::string::npos);
  // A killed writer's temporary of the same file goes on the next write; a live one stays.
  const std::string dead = ".real.csv.tmp-999999999-0", live = ".real.csv.tmp-" + std::to_string(::getpid()) + "-77";
  std::ofstream(d / dead) << "half";
  std::ofstream(d / live) << "busy";
  write_file_atomically((d / "real.csv").string(), "again");
  EXPECT_FALSE(fs::exists(d / dead));
  EXPECT_TRUE(fs::exists(d / live));
  fs::remove_all(d);
}

// A full disk, for real: a 64 kB tmpfs (root only; skipped elsewhere). The write fails in
// one line naming the file, the old file is whole and no temporary is left.
TEST(AtomicFile, FullDiskKeepsTheOldFile) {
  const fs::path d = scratch() / "small";
  fs::create_directories(d);
  if (::mount("tmpfs", d.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  write_file_atomically((d / "keep.csv").string(), std::string(20000, 'a'));
  const std::string e = error_of((d / "keep.csv").string(), std::string(200000, 'b'));
  EXPECT_EQ(e.rfind((d / "keep.csv").string() + ": write failed (No space left on device)", 0), 0u) << e;
  EXPECT_EQ(slurp(d / "keep.csv"), std::string(20000, 'a'));
  std::vector<std::string> left;
  for (const auto& x : fs::directory_iterator(d)) left.push_back(x.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"keep.csv"});
  ::umount(d.c_str());
  fs::remove_all(d.parent_path());
}

// A file-size limit (ulimit -f) is the same failure seen without root: in a child with
// SIGXFSZ ignored, as gapscope's mains do, the write fails with EFBIG and throws.
TEST(AtomicFile, FileSizeLimitIsAnErrorNotASignal) {
  const fs::path d = scratch();
  write_file_atomically((d / "keep.csv").string(), "old");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    const std::string e = error_of((d / "keep.csv").string(), std::string(100000, 'b'));
    ::_exit(e.find("write failed (File too large)") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(slurp(d / "keep.csv"), "old");
  fs::remove_all(d);
}

// The tests' own temp directories (test_util.h) go when the process exits: a child makes
// one with a file in it and exits, and the parent finds it gone. (The child also removes
// the directories this process made before it; their tests have finished.)
TEST(TestDirs, AreRemovedWhenTheProcessExits) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    unsetenv("GAPSCOPE_KEEP_TEST_DIRS");
    const auto dir = gapscope::testing::temp_dir("exit");
    std::ofstream(dir / "f") << "x";
    const std::string s = dir.string();
    const bool sent = write(fds[1], s.data(), s.size()) == static_cast<ssize_t>(s.size());
    close(fds[1]);
    std::exit(sent ? 0 : 1);
  }
  close(fds[1]);
  std::string path;
  char buf[256];
  for (ssize_t k; (k = read(fds[0], buf, sizeof buf)) > 0;) path.append(buf, static_cast<std::size_t>(k));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_NE(path.find("gapscope-test-exit-"), std::string::npos) << path;
  EXPECT_FALSE(std::filesystem::exists(path)) << path;
}

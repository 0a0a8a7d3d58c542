#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace gapscope {
namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error(path + ": " + what + " (" + std::strerror(err) + ")");
}

// Where the bytes go: the path itself, or — for a symbolic link to a regular file — the
// file it names, so a user's link stays a link. Anything that is not a regular file (a
// folder, a device, a FIFO, a socket, a dangling link) is refused: replacing it would
// destroy it.
fs::path resolve_target(const std::string& path) {
  if (path.back() == '/') throw std::runtime_error(path + ": ends in '/', expected a file path, not a folder");
  fs::path target(path);
  std::error_code ec;
  const fs::file_status link = fs::symlink_status(target, ec);
  if (ec || link.type() == fs::file_type::not_found) return target;
  if (link.type() == fs::file_type::symlink) {
    const fs::file_status to = fs::status(target, ec);
    if (ec || to.type() == fs::file_type::not_found)
      throw std::runtime_error(path + ": a symbolic link to nothing; expected a file path (remove the link first)");
    target = fs::canonical(target, ec);
    if (ec) throw std::runtime_error(path + ": cannot follow the symbolic link (" + ec.message() + ")");
  }
  switch (fs::status(target, ec).type()) {
    case fs::file_type::regular: return target;
    case fs::file_type::directory: throw std::runtime_error(path + ": is a folder, expected a file path");
    case fs::file_type::character:
    case fs::file_type::block: throw std::runtime_error(path + ": is a device, not a regular file; refusing to replace it");
    case fs::file_type::fifo: throw std::runtime_error(path + ": is a FIFO, not a regular file; refusing to replace it");
    case fs::file_type::socket: throw std::runtime_error(path + ": is a socket, not a regular file; refusing to replace it");
    default: throw std::runtime_error(path + ": is not a regular file; refusing to replace it");
  }
}

// Temporaries of earlier writes of the same file by processes that are gone (killed
// mid-write): ".NAME.tmp-PID-K", removed so they do not pile up.
void remove_stale_temporaries(const fs::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = std::strtol(f.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

std::atomic<unsigned> g_serial{0};  // two threads writing the same file get two temporaries

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  if (path.empty()) throw std::runtime_error("write: empty output path");
  const fs::path target = resolve_target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  remove_stale_temporaries(dir, target.filename().string());
  const std::string tmp = (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(g_serial.fetch_add(1))))
                              .string();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create", errno);
  struct stat old {};
  if (::stat(target.c_str(), &old) == 0) ::fchmod(fd, old.st_mode & 07777);  // the user's permissions stay
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path, "write failed", err);
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(path, "fsync failed", err);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "close failed", err);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace", err);
  }
  fsync_directory(dir.string());  // the rename is durable only once the directory entry is
}

void make_directories(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw std::runtime_error(path + ": cannot create the folder (" + ec.message() + ")");
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace gapscope

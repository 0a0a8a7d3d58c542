#pragma once
// Every file gapscope writes goes through here: the bytes go to a temporary file beside
// the target, are flushed, checked, fsynced and renamed over it, and the directory is
// fsynced, so a reader sees the old file or the new one — never a half-written one — and
// a failure (disk full, read-only folder, vanished folder) throws naming the file and
// leaves whatever was there before. Only regular files are replaced (keeping their
// permissions); a symbolic link to one is followed, so the link stays; a folder, device,
// FIFO, socket or dangling link is refused, and a path ending in '/' too. Temporaries
// left by a killed writer of the same file are removed on the next write.
#include <string>

namespace gapscope {

// Throws std::runtime_error "PATH: why" on any failure; the temporary file is removed.
void write_file_atomically(const std::string& path, const std::string& bytes);

// create_directories with a one-line error: "PATH: cannot create the folder (why)",
// naming the folder the user asked for (not a parent, not a temporary).
void make_directories(const std::string& path);

// Makes a rename inside `dir` durable (best effort: a folder that cannot be opened is
// left as it is). Callers that rename folders themselves (checkpoints) use it too.
void fsync_directory(const std::string& dir);

}  // namespace gapscope

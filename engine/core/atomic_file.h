#pragma once
// Every file gapscope writes goes through here: the bytes go to a temporary file beside
// the target, are flushed, checked, fsynced and renamed over it, and the directory is
// fsynced, so a reader sees the old file or the new one — never a half-written one — and
// a failure (disk full, read-only folder, vanished folder) throws naming the file and
// leaves whatever was there before.
#include <string>

namespace gapscope {

// Throws std::runtime_error "PATH: why" on any failure; the temporary file is removed.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Makes a rename inside `dir` durable (best effort: a folder that cannot be opened is
// left as it is). Callers that rename folders themselves (checkpoints) use it too.
void fsync_directory(const std::string& dir);

}  // namespace gapscope

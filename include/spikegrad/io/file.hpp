/// \file
/// spikegrad: writing files so that a crash or an error never leaves a half-written one:
/// content goes to a temporary file beside the target, synced to disk and renamed over it.
#pragma once

#include "../core/error.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace spikegrad::io {

namespace detail {

/// A name for the temporary beside `path` that no other thread or process writing the same
/// target uses at the same time: process id, thread id and a per-process counter.
inline std::string temporary_name(const std::string& path) {
    static std::atomic<unsigned long long> counter{0};
    const auto thread = std::hash<std::thread::id>{}(std::this_thread::get_id());
    return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(thread) + "." +
           std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

/// fsync of a file or folder; errno on failure, 0 on success. Folders on file systems that
/// cannot sync them (EINVAL) count as synced.
inline int sync_path(const std::string& path, bool folder) {
    const int fd = ::open(path.c_str(), folder ? O_RDONLY | O_DIRECTORY : O_WRONLY);
    if (fd < 0) return errno;
    int result = 0;
    if (::fsync(fd) != 0 && !(folder && errno == EINVAL)) result = errno;
    ::close(fd);
    return result;
}

}  // namespace detail

/// Calls write(std::ofstream&) on a temporary file beside `path` with a name of its own,
/// flushes it to disk (fsync), renames it to `path` and syncs the folder, so that a crash at
/// any moment leaves either the old file or the complete new one. On an error (an exception
/// from `write`, a failed stream, sync or rename) the temporary is removed, `path` is left as
/// it was, and io_error names the file; only a failed sync of the folder after the rename
/// ("written, but cannot sync folder") leaves the new file in place. A process killed
/// mid-write leaves its temporary (`path.tmp.<pid>.<thread>.<n>`) behind, never a damaged
/// `path`.
template <class Writer>
void write_atomically(const std::string& path, Writer&& write, bool binary = true) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    if (target.has_parent_path() && !fs::exists(target.parent_path()))
        raise<io_error>(path, ": folder ", target.parent_path().string(), " does not exist");
    const std::string temporary = detail::temporary_name(path);
    bool renamed = false;
    try {
        std::ofstream out(temporary, binary ? std::ios::binary | std::ios::trunc : std::ios::trunc);
        if (!out) raise<io_error>(path, ": cannot open ", temporary, " for writing: ",
                                  std::strerror(errno));
        write(out);
        out.flush();
        if (!out) raise<io_error>(path, ": write failed (disk full?)");
        out.close();
        if (!out) raise<io_error>(path, ": closing failed");
        if (const int e = detail::sync_path(temporary, false))
            raise<io_error>(path, ": cannot sync ", temporary, " to disk: ", std::strerror(e));
        std::error_code ec;
        fs::rename(temporary, target, ec);
        if (ec) raise<io_error>(path, ": cannot rename ", temporary, ": ", ec.message());
        renamed = true;
        // The rename itself is durable only once the folder's entry is on disk.
        const std::string folder =
            target.has_parent_path() ? target.parent_path().string() : std::string(".");
        if (const int e = detail::sync_path(folder, true))
            raise<io_error>(path, ": written, but cannot sync folder ", folder, ": ",
                            std::strerror(e));
    } catch (...) {
        if (!renamed) {
            std::error_code ignored;
            fs::remove(temporary, ignored);
        }
        throw;
    }
}

/// Whole file as a string; io_error naming the file when it cannot be read.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) raise<io_error>(path, ": cannot open for reading: ", std::strerror(errno));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) raise<io_error>(path, ": read failed");
    return content;
}

}  // namespace spikegrad::io

// spikegrad: writing files so that a crash or an error never leaves a half-written one:
// content goes to a temporary file beside the target, which is renamed over it at the end.
#pragma once

#include "../core/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace spikegrad::io {

/// Calls write(std::ofstream&) on a temporary file, then renames it to `path`. On any error
/// (an exception from `write`, a failed stream, a failed rename) the temporary is removed,
/// `path` is left as it was, and io_error names the file.
template <class Writer>
void write_atomically(const std::string& path, Writer&& write, bool binary = true) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    if (target.has_parent_path() && !fs::exists(target.parent_path()))
        raise<io_error>(path, ": folder ", target.parent_path().string(), " does not exist");
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    try {
        std::ofstream out(temporary, binary ? std::ios::binary | std::ios::trunc : std::ios::trunc);
        if (!out) raise<io_error>(path, ": cannot open ", temporary, " for writing: ",
                                  std::strerror(errno));
        write(out);
        out.flush();
        if (!out) raise<io_error>(path, ": write failed (disk full?)");
        out.close();
        if (!out) raise<io_error>(path, ": closing failed");
        std::error_code ec;
        fs::rename(temporary, target, ec);
        if (ec) raise<io_error>(path, ": cannot rename ", temporary, ": ", ec.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
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

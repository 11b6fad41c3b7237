/// \file
/// spikegrad: the one-line progress display of long work (training epochs, file loads):
/// redrawn in place on a terminal, silent when stderr is not one (logs, CI), unless asked
/// for plain lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace spikegrad {

/// When a progress_line prints: live on a terminal, one line per unit, or never.
enum class progress_mode {
    /// Live line on a terminal; nothing otherwise.
    automatic,
    /// One plain line per completed unit of work (epoch), also when not a terminal.
    lines,
    /// Nothing.
    quiet,
};

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
inline std::string format_duration(double seconds) {
    char buffer[32];
    if (!(seconds >= 0) || seconds > 1e7) return "?";
    const auto whole = static_cast<long>(seconds);
    if (whole >= 3600)
        std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", whole / 3600, (whole % 3600) / 60);
    else if (whole >= 60)
        std::snprintf(buffer, sizeof buffer, "%ldm%02lds", whole / 60, whole % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
    return buffer;
}

/// A one-line progress display on stderr, redrawn in place on a terminal.
class progress_line {
public:
    explicit progress_line(progress_mode mode = progress_mode::automatic)
        : mode_(mode), terminal_(::isatty(::fileno(stderr)) == 1) {}

    bool live() const { return mode_ == progress_mode::automatic && terminal_; }

    /// Redraws the live line (terminal only), at most ten times a second.
    void update(const std::string& text) {
        if (!live()) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        std::fprintf(stderr, "\r\033[K%s", text.c_str());
        std::fflush(stderr);
        drawn_ = true;
    }

    /// A finished unit of work: kept on screen on a terminal, printed in `lines` mode.
    void finish(const std::string& text) {
        if (live()) {
            std::fprintf(stderr, "\r\033[K%s\n", text.c_str());
            std::fflush(stderr);
            drawn_ = false;
        } else if (mode_ == progress_mode::lines) {
            std::fprintf(stderr, "%s\n", text.c_str());
            std::fflush(stderr);
        }
    }

    /// Clears a half-drawn line (before other output).
    void clear() {
        if (drawn_) {
            std::fprintf(stderr, "\r\033[K");
            std::fflush(stderr);
            drawn_ = false;
        }
    }

    ~progress_line() { clear(); }

private:
    progress_mode mode_;
    bool terminal_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace spikegrad

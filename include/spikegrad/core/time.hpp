/// \file
/// spikegrad: the one owner of time. A dataset's times are in a time_unit; binning turns them
/// into a time_grid (step length dt_ms, n_steps) that the event_batch carries and the network
/// reads; every time constant and delay bound of the public API is in ms and becomes steps
/// here, once (DESIGN section 3, "time has one owner").
#pragma once

#include "error.hpp"

#include <cmath>
#include <cstddef>

namespace spikegrad {

/// What the event times of a dataset count: seconds (files), milliseconds, or steps of a
/// generator's grid (whose length in ms the dataset records).
enum class time_unit { seconds, milliseconds, steps };

inline const char* to_string(time_unit unit) {
    switch (unit) {
        case time_unit::seconds: return "s";
        case time_unit::milliseconds: return "ms";
        case time_unit::steps: return "steps";
    }
    return "?";
}

/// Milliseconds in one `unit`; `step_ms` is the length of a step (used only for steps).
inline double ms_per(time_unit unit, double step_ms) {
    switch (unit) {
        case time_unit::seconds: return 1000.0;
        case time_unit::milliseconds: return 1.0;
        case time_unit::steps:
            if (!(step_ms > 0) || !std::isfinite(step_ms))
                raise<option_error>("time: a step of ", step_ms, " ms must be positive");
            return step_ms;
    }
    return 1.0;
}

/// The engine's clock: n_steps steps of dt_ms each. dt_ms == 0 means "not known" (a batch
/// made by hand from a raster); the network then uses its own network_options::dt_ms.
struct time_grid {
    double dt_ms = 0;
    std::size_t n_steps = 0;

    bool known() const { return dt_ms > 0; }
    double duration_ms() const { return dt_ms * static_cast<double>(n_steps); }
    /// A duration in ms as a (fractional) number of steps.
    double steps(double ms) const { return ms / checked_dt(); }
    /// A number of steps as ms.
    double ms(double steps) const { return steps * checked_dt(); }
    /// The per-step leak exp(-dt / tau) of a time constant tau_ms.
    double decay(double tau_ms) const { return std::exp(-checked_dt() / tau_ms); }

private:
    double checked_dt() const {
        if (!known())
            raise<option_error>("time_grid: the step length is not known (dt_ms ", dt_ms, ")");
        return dt_ms;
    }
};

/// Two step lengths agree when they differ by rounding only (1.4 s / 100 vs 14 ms).
inline bool same_step(double a_ms, double b_ms) {
    return std::abs(a_ms - b_ms) <= 1e-9 * std::max(std::abs(a_ms), std::abs(b_ms));
}

}  // namespace spikegrad

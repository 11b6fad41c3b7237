/// \file
/// spikegrad: the synthetic ISI task (paper section 2.1, SPEC section 7): two classes of
/// 2-D points, x coding a firing rate and y an inter-spike interval carried by spike pairs.
/// Source: Yu, Sun, Goodman 2025 and its released generator (isi_data_gen.py).
#pragma once

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "../dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spikegrad {

/// How the ISI task turns real numbers into whole pairs and steps.
enum class isi_rounding {
    /// Paper: pairs = floor(r T / 1000), ISI steps = max(1, floor(delta / dt)).
    floor,
    /// [variant] the released code: round half to even (numpy.round) for both.
    round,
};

/// Every parameter of the ISI task; the defaults are the paper's values.
struct isi_options {
    /// Points drawn uniformly in [-radius, radius]^2, x then y for each point.
    std::size_t n_points = 5000;
    std::uint64_t seed = 42;
    double radius = 10;
    /// The class boundary is the line y = slope x + intercept; points closer to it than
    /// margin (perpendicular distance) are dropped. Label 0 ("above") if y > slope x +
    /// intercept, else 1 ("below").
    double slope = -0.5;
    double intercept = 0;
    double margin = 2.5;
    /// x maps linearly onto [rate_min_hz, rate_max_hz], snapped to rate_step_hz:
    /// {2, 4, 6, 8, 10} Hz.
    double rate_min_hz = 2;
    double rate_max_hz = 10;
    double rate_step_hz = 2;
    /// y maps linearly onto [isi_min_ms, isi_max_ms], snapped to isi_step_ms: {1, ..., 50} ms.
    double isi_min_ms = 1;
    double isi_max_ms = 50;
    double isi_step_ms = 1;
    /// Neurons per sample; all share the sample's (rate, ISI).
    std::size_t n_neurons = 10;
    /// Sample length in steps of dt_ms (T = 1000 steps of 1 ms).
    std::size_t n_steps = 1000;
    double dt_ms = 1;
    /// Starts drawn per pair before the pair is given up.
    std::size_t max_tries = 500;
    isi_rounding rounding = isi_rounding::floor;
};

/// The ground truth of one sample.
struct isi_truth {
    /// The 2-D point the sample encodes.
    double x = 0, y = 0;
    /// Snapped firing rate (Hz) and ISI (ms) from x and y.
    double rate_hz = 0, isi_ms = 0;
    /// Pairs asked of each neuron and the ISI in steps they were placed with.
    std::size_t pairs_per_neuron = 0;
    std::size_t isi_steps = 0;
    /// Pairs, summed over neurons, that found no free start in max_tries draws.
    std::size_t missing_pairs = 0;
};

/// The generated task: the dataset (time unit steps, duration n_steps, classes "above" and
/// "below") and one isi_truth per sample, in the same order.
struct isi_task {
    spike_dataset data;
    std::vector<isi_truth> truth;
};

/// value mapped linearly from [old_min, old_max] onto [new_min, new_max], snapped to the
/// nearest new_min + k step (ties to even, like numpy.round) and clipped to the range.
/// With new_min a multiple of step (the paper's values) this equals the released code's
/// round(mapped / step) * step.
inline double snap_linear(double value, double old_min, double old_max, double new_min,
                          double new_max, double step) {
    const double span = old_max - old_min;
    const double mapped =
        span > 0 ? (value - old_min) / span * (new_max - new_min) + new_min : new_min;
    const double snapped = new_min + std::nearbyint((mapped - new_min) / step) * step;
    return std::clamp(snapped, new_min, new_max);
}

namespace detail {

inline std::size_t isi_whole(double value, isi_rounding rounding) {
    const double whole = rounding == isi_rounding::floor ? std::floor(value + 1e-9)
                                                         : std::nearbyint(value);
    return whole > 0 ? static_cast<std::size_t>(whole) : 0;
}

inline void check_isi_options(const isi_options& o) {
    auto positive = [](const char* name, double value) {
        if (!(value > 0) || !std::isfinite(value))
            raise<option_error>("isi_options: ", name, " ", value, " must be > 0");
    };
    positive("radius", o.radius);
    positive("dt_ms", o.dt_ms);
    positive("rate_step_hz", o.rate_step_hz);
    positive("isi_step_ms", o.isi_step_ms);
    positive("isi_min_ms", o.isi_min_ms);
    if (!(o.margin >= 0) || !std::isfinite(o.margin))
        raise<option_error>("isi_options: margin ", o.margin, " must be >= 0");
    if (!std::isfinite(o.slope) || !std::isfinite(o.intercept))
        raise<option_error>("isi_options: slope and intercept must be finite");
    if (!(o.rate_min_hz >= 0) || !(o.rate_max_hz >= o.rate_min_hz) ||
        !std::isfinite(o.rate_max_hz))
        raise<option_error>("isi_options: rates [", o.rate_min_hz, ", ", o.rate_max_hz,
                            "] Hz must satisfy 0 <= min <= max");
    if (!(o.isi_max_ms >= o.isi_min_ms) || !std::isfinite(o.isi_max_ms))
        raise<option_error>("isi_options: isi_max_ms ", o.isi_max_ms, " < isi_min_ms ",
                            o.isi_min_ms);
    if (o.n_neurons == 0) raise<option_error>("isi_options: n_neurons must be >= 1");
    if (o.max_tries == 0) raise<option_error>("isi_options: max_tries must be >= 1");
    const std::size_t longest = std::max<std::size_t>(1, isi_whole(o.isi_max_ms / o.dt_ms, o.rounding));
    if (longest >= o.n_steps)
        raise<option_error>("isi_options: the longest ISI (", longest, " steps) leaves no start in n_steps ",
                            o.n_steps);
}

}  // namespace detail

/// Generates the ISI task. Steps:
/// 1. n_points points (x, y) uniform in [-radius, radius]^2 from rng(seed), x then y.
/// 2. Drop points within `margin` of the line; label the rest (0 above, 1 below).
/// 3. rate = snap_linear(x, min x, max x, rate_min_hz, rate_max_hz, rate_step_hz) and
///    isi = snap_linear(y, min y, max y, isi_min_ms, isi_max_ms, isi_step_ms), with the
///    min and max taken over the kept points.
/// 4. Every neuron gets pairs = floor(rate n_steps dt_ms / 1000) spike pairs (s, s + d),
///    d = max(1, floor(isi / dt_ms)) steps, s uniform in [0, n_steps - d - 1]; a start is
///    rejected when [s - d, s + d] overlaps an earlier pair's [s' - d, s' + d] (|s - s'| <=
///    2 d), up to max_tries draws, after which the pair is skipped (counted in missing_pairs).
///    Sample k draws from rng(seed).fork(k + 1), so samples do not depend on each other.
inline isi_task make_isi_task(const isi_options& options = {}) {
    detail::check_isi_options(options);
    const rng base(options.seed);
    rng points(options.seed);
    struct point { double x, y; std::int32_t label; };
    std::vector<point> kept;
    const double norm = std::sqrt(options.slope * options.slope + 1);
    for (std::size_t i = 0; i < options.n_points; ++i) {
        const double x = points.uniform(-options.radius, options.radius);
        const double y = points.uniform(-options.radius, options.radius);
        const double line = options.slope * x + options.intercept;
        if (std::fabs(line - y) / norm < options.margin) continue;
        kept.push_back({x, y, y > line ? 0 : 1});
    }
    double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
    if (!kept.empty()) {
        x_min = x_max = kept[0].x;
        y_min = y_max = kept[0].y;
        for (const auto& p : kept) {
            x_min = std::min(x_min, p.x);
            x_max = std::max(x_max, p.x);
            y_min = std::min(y_min, p.y);
            y_max = std::max(y_max, p.y);
        }
    }

    isi_task task{spike_dataset(options.n_neurons, static_cast<double>(options.n_steps),
                                time_unit::steps, {"above", "below"}, options.dt_ms),
                  {}};
    task.truth.reserve(kept.size());
    const std::size_t T = options.n_steps;
    std::vector<float> times;
    std::vector<std::uint32_t> units;
    std::vector<std::size_t> starts;
    for (std::size_t k = 0; k < kept.size(); ++k) {
        const point& p = kept[k];
        isi_truth truth;
        truth.x = p.x;
        truth.y = p.y;
        truth.rate_hz = snap_linear(p.x, x_min, x_max, options.rate_min_hz, options.rate_max_hz,
                                    options.rate_step_hz);
        truth.isi_ms = snap_linear(p.y, y_min, y_max, options.isi_min_ms, options.isi_max_ms,
                                   options.isi_step_ms);
        truth.pairs_per_neuron = detail::isi_whole(
            truth.rate_hz * static_cast<double>(T) * options.dt_ms / 1000.0, options.rounding);
        const std::size_t d = std::max<std::size_t>(
            1, detail::isi_whole(truth.isi_ms / options.dt_ms, options.rounding));
        truth.isi_steps = d;

        rng random = base.fork(k + 1);
        times.clear();
        units.clear();
        for (std::size_t neuron = 0; neuron < options.n_neurons; ++neuron) {
            starts.clear();
            for (std::size_t pair = 0; pair < truth.pairs_per_neuron; ++pair) {
                bool placed = false;
                for (std::size_t attempt = 0; attempt < options.max_tries && !placed; ++attempt) {
                    const auto s = static_cast<std::size_t>(random.below(T - d));
                    const bool clash = std::any_of(starts.begin(), starts.end(), [&](std::size_t other) {
                        return (s > other ? s - other : other - s) <= 2 * d;
                    });
                    if (clash) continue;
                    starts.push_back(s);
                    placed = true;
                }
                if (!placed) ++truth.missing_pairs;
            }
            for (std::size_t s : starts) {
                times.push_back(static_cast<float>(s));
                times.push_back(static_cast<float>(s + d));
                units.push_back(static_cast<std::uint32_t>(neuron));
                units.push_back(static_cast<std::uint32_t>(neuron));
            }
        }
        task.data.add_sample(times, units, p.label);
        task.truth.push_back(truth);
    }
    return task;
}

}  // namespace spikegrad

/// \file
/// spikegrad: a synthetic delay task (issue 14): two groups of neurons fire one volley each;
/// group B's volley follows group A's by a lag that is the class. Counts, rates and the
/// volleys' absolute times carry no class information, so a network must compare A, shifted
/// by a (learned) delay, with B. Times are in ms, so the task can be binned at any dt.
#pragma once

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "../dataset.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spikegrad {

/// Settings of the delay task: lags per class, group sizes, volley timing and jitter.
struct delay_task_options {
    /// Lag of B after A for each class, ms.
    std::vector<double> lags_ms{10, 25, 40};
    std::size_t group_size = 5;
    double duration_ms = 200;
    /// A's volley starts uniformly in [onset_min_ms, onset_max_ms].
    double onset_min_ms = 10, onset_max_ms = 100;
    /// Per-spike Gaussian jitter, ms.
    double jitter_ms = 1.0;
    /// Background spikes per neuron and second (Poisson), uniform in the sample.
    double noise_hz = 5;
    std::size_t samples_per_class = 100;
    std::uint64_t seed = 42;
};

/// Units 0..group_size-1 are group A, the next group_size group B; sample i has label i % C.
inline spike_dataset make_delay_task(const delay_task_options& o = {}) {
    if (o.lags_ms.size() < 2) raise<option_error>("delay_task: give at least two lags");
    if (o.group_size == 0) raise<option_error>("delay_task: group_size must be >= 1");
    for (double lag : o.lags_ms)
        if (!(lag >= 0) || o.onset_max_ms + lag + 4 * o.jitter_ms >= o.duration_ms)
            raise<option_error>("delay_task: lag ", lag, " ms does not fit in ", o.duration_ms, " ms");
    std::vector<std::string> names;
    for (double lag : o.lags_ms) names.push_back("lag " + std::to_string(int(lag)) + " ms");
    const std::size_t C = o.lags_ms.size(), n = 2 * o.group_size;
    spike_dataset data(n, o.duration_ms, time_unit::milliseconds, names);
    rng random(o.seed);
    auto clamp_time = [&](double t) { return float(std::min(std::max(t, 0.0), o.duration_ms - 1e-3)); };
    for (std::size_t s = 0; s < C * o.samples_per_class; ++s) {
        const std::size_t label = s % C;
        const double onset = random.uniform(o.onset_min_ms, o.onset_max_ms);
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (std::size_t i = 0; i < o.group_size; ++i) {
            times.push_back(clamp_time(onset + random.normal(0.0, o.jitter_ms)));
            units.push_back(std::uint32_t(i));
            times.push_back(clamp_time(onset + o.lags_ms[label] + random.normal(0.0, o.jitter_ms)));
            units.push_back(std::uint32_t(o.group_size + i));
        }
        const double expected = o.noise_hz * o.duration_ms / 1000.0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = random.poisson(expected); k > 0; --k) {
                times.push_back(clamp_time(random.uniform(0.0, o.duration_ms)));
                units.push_back(std::uint32_t(i));
            }
        data.add_sample(times, units, std::int32_t(label));
    }
    return data;
}

}  // namespace spikegrad

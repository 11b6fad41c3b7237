// Helpers shared by the data tests: building small datasets by hand, per-unit views of a
// sample, exact comparison of datasets, and catching a typed error to read its message.
#pragma once

#include <spikegrad/core/random.hpp>
#include <spikegrad/data/dataset.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace test_data {

using spikegrad::spike_dataset;
using spikegrad::time_unit;

struct event {
    float time;
    std::uint32_t unit;
};

/// Appends one sample given as (time, unit) events.
inline void add(spike_dataset& data, const std::vector<event>& events, std::int32_t label) {
    std::vector<float> times;
    std::vector<std::uint32_t> units;
    for (const auto& e : events) {
        times.push_back(e.time);
        units.push_back(e.unit);
    }
    data.add_sample(times, units, label);
}

inline spike_dataset make(std::size_t n_units, double duration, time_unit unit,
                          std::size_t n_classes) {
    std::vector<std::string> names;
    for (std::size_t c = 0; c < n_classes; ++c) names.push_back("class " + std::to_string(c));
    return spike_dataset(n_units, duration, unit, names);
}

/// Each unit of each sample fires a random number of spikes (0 .. 2 mean) at times drawn by
/// `time_of(rng)`; labels cycle over 3 classes.
template <class TimeOf>
spike_dataset random_dataset(std::size_t n_samples, std::size_t n_units, double duration,
                             std::size_t mean_per_unit, std::uint64_t seed, TimeOf time_of,
                             time_unit unit = time_unit::steps) {
    spikegrad::rng random(seed);
    spike_dataset data = make(n_units, duration, unit, 3);
    for (std::size_t s = 0; s < n_samples; ++s) {
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (std::size_t u = 0; u < n_units; ++u) {
            const auto count = random.below(2 * mean_per_unit + 1);
            for (std::uint64_t k = 0; k < count; ++k) {
                times.push_back(static_cast<float>(time_of(random)));
                units.push_back(static_cast<std::uint32_t>(u));
            }
        }
        data.add_sample(times, units, static_cast<std::int32_t>(s % 3));
    }
    return data;
}

/// Continuous uniform times in [0, duration).
inline spike_dataset continuous_dataset(std::size_t n_samples, std::size_t n_units,
                                        double duration, std::size_t mean_per_unit,
                                        std::uint64_t seed) {
    return random_dataset(n_samples, n_units, duration, mean_per_unit, seed,
                          [duration](spikegrad::rng& r) { return r.uniform(0, duration); });
}

/// Times of each unit of one sample, in time order.
inline std::vector<std::vector<float>> unit_times(const spikegrad::spike_sample_view& sample,
                                                  std::size_t n_units) {
    std::vector<std::vector<float>> out(n_units);
    for (std::size_t e = 0; e < sample.size(); ++e) out[sample.units[e]].push_back(sample.times[e]);
    return out;
}

/// True when both datasets hold exactly the same samples, events and labels.
inline bool same_events(const spike_dataset& a, const spike_dataset& b) {
    if (a.size() != b.size() || a.n_units() != b.n_units()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = a.sample(i), y = b.sample(i);
        if (x.label != y.label || x.size() != y.size()) return false;
        for (std::size_t e = 0; e < x.size(); ++e)
            if (x.times[e] != y.times[e] || x.units[e] != y.units[e]) return false;
    }
    return true;
}

/// A deep copy (own storage), to check that a transform leaves its input unchanged.
inline spike_dataset deep_copy(const spike_dataset& data) {
    spike_dataset out = data.empty_like();
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto s = data.sample(i);
        out.add_sample(s.times, s.units, s.label);
    }
    return out;
}

/// The message of the Error that f throws ("<none>" when it throws nothing); any other
/// exception type escapes and fails the test.
template <class Error, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "<none>";
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace test_data

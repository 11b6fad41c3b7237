/// \file
/// spikegrad: binning a spike_dataset into the engine's event_batch (SPEC section 6).
/// Default bins are [k dt, (k+1) dt); several spikes of a unit in one bin collapse to one
/// (or are counted, in count mode). The released SHD code's numpy.digitize edges are a variant.
#pragma once

#include "../core/events.hpp"
#include "dataset.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace spikegrad {

/// How event times map to bins.
enum class bin_edges {
    /// Bin k holds times in [k dt, (k+1) dt) (our default).
    half_open,
    /// [variant] the released SHD code: edges = linspace(0, n_steps dt, n_steps) and
    /// numpy.digitize, so bin 0 is never used and times >= the last edge are dropped.
    digitize_linspace,
};

/// How bin_events turns event times into steps: bin width, number of steps, count or binary mode.
struct binning_options {
    /// Bin width in ms, whatever the dataset's time unit (SHD: 1.4 s / 100 = 14 ms); the
    /// event_batch carries it on to the network, so this is the one place dt is typed.
    double dt_ms = 1.0;
    /// Number of steps; 0 means ceil(duration / dt).
    std::size_t n_steps = 0;
    /// Keep per-bin spike counts as event values instead of collapsing them to one spike.
    bool count = false;
    bin_edges edges = bin_edges::half_open;
};

/// The bin width in the dataset's own time unit.
inline double bin_width(const spike_dataset& data, const binning_options& options) {
    if (!(options.dt_ms > 0) || !std::isfinite(options.dt_ms))
        raise<option_error>("bin_events: dt_ms ", options.dt_ms, " must be a positive number");
    return options.dt_ms / data.ms_per_unit();
}

/// Steps a dataset of this duration gets at these options.
inline std::size_t binned_steps(const spike_dataset& data, const binning_options& options) {
    const double width = bin_width(data, options);
    if (options.n_steps > 0) return options.n_steps;
    return static_cast<std::size_t>(std::ceil(data.duration() / width - 1e-9));
}

/// The bin of time t (in the unit of `width`), or -1 when it falls outside the n_steps bins.
inline std::int64_t bin_of(double t, std::size_t n_steps, double width, bin_edges edges) {
    if (edges == bin_edges::half_open) {
        const double k = std::floor(t / width);
        return k < static_cast<double>(n_steps) ? static_cast<std::int64_t>(k) : -1;
    }
    // numpy.digitize(t, linspace(0, n_steps dt, n_steps)): i with edge[i-1] <= t < edge[i].
    const double span = width * static_cast<double>(n_steps);
    const double edge_gap = span / static_cast<double>(n_steps - 1);
    // In double until known to be in range: t / edge_gap can exceed any int64.
    const double k = std::floor(t / edge_gap) + 1;
    return k < static_cast<double>(n_steps) ? static_cast<std::int64_t>(k) : -1;
}

/// Bins every sample of `data` (labels and classes carried over); the batch records dt_ms and
/// counts the events that fall outside its bins (dropped_events, emptied_samples).
inline event_batch bin_events(const spike_dataset& data, const binning_options& options = {}) {
    const double width = bin_width(data, options);
    const std::size_t n_steps = binned_steps(data, options);
    if (n_steps == 0) raise<option_error>("bin_events: zero steps");
    if (n_steps > std::size_t(UINT32_MAX))
        raise<option_error>("bin_events: ", n_steps, " steps exceed the 32-bit step index");
    event_batch out(n_steps, data.n_units(), data.n_classes());
    out.dt_ms = options.dt_ms;
    std::vector<std::uint32_t> steps, units;
    std::vector<float> values;
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto sample = data.sample(i);
        steps.clear();
        units.clear();
        for (std::size_t e = 0; e < sample.size(); ++e) {
            const std::int64_t k = bin_of(sample.times[e], n_steps, width, options.edges);
            if (k < 0) {
                ++out.dropped_events;
                continue;
            }
            steps.push_back(static_cast<std::uint32_t>(k));
            units.push_back(sample.units[e]);
        }
        if (sample.size() > 0 && units.empty()) ++out.emptied_samples;
        if (options.count) values.assign(units.size(), 1.f);
        out.add_sample(steps, units, values, sample.label);
    }
    if (data.empty() && options.count) out.values.clear();
    return out;
}

}  // namespace spikegrad

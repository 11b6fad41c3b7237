/// \file
/// spikegrad: a labelled set of samples at real spike times for the event engine, shaped like
/// `event_batch` (n_samples, n_units, labels, select) so the one `trainer<>` drives both the
/// time-stepped networks and `event_network`. Unlike binning, nothing is rounded to a grid.
#pragma once

#include "../../core/error.hpp"
#include "../../data/dataset.hpp"
#include "tape.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace spikegrad {

/// Samples of spikes at real times (ms) with their labels, for `event_network` and `trainer<>`.
template <class S>
struct timed_batch {
    std::size_t n_samples = 0;
    std::size_t n_units = 0;
    std::size_t n_classes = 0;
    std::vector<timed_spikes<S>> samples;
    std::vector<std::int32_t> labels;

    timed_batch() = default;
    timed_batch(std::size_t units, std::size_t classes) : n_units(units), n_classes(classes) {}

    /// Appends a sample; its label and units are checked against the set's sizes.
    void add(timed_spikes<S> sample) {
        if (sample.times_ms.size() != sample.units.size())
            raise<shape_error>("timed_batch: sample ", n_samples, " has ", sample.times_ms.size(),
                               " times but ", sample.units.size(), " units");
        if (n_classes > 0 && (sample.label < 0 || std::size_t(sample.label) >= n_classes))
            raise<data_error>("timed_batch: sample ", n_samples, " has label ", sample.label,
                              " outside [0, ", n_classes, ")");
        for (std::size_t e = 0; e < sample.size(); ++e) {
            if (sample.units[e] >= n_units)
                raise<data_error>("timed_batch: sample ", n_samples, " event ", e, " has unit ",
                                  sample.units[e], " >= ", n_units);
            if (!std::isfinite(double(sample.times_ms[e])) || sample.times_ms[e] < S(0))
                raise<data_error>("timed_batch: sample ", n_samples, " event ", e, " has time ",
                                  sample.times_ms[e], " ms (must be finite and >= 0)");
        }
        labels.push_back(sample.label);
        samples.push_back(std::move(sample));
        ++n_samples;
    }

    /// The samples at `indices`, in that order (a copy of their spikes).
    timed_batch select(std::span<const std::size_t> indices) const {
        timed_batch out(n_units, n_classes);
        out.samples.reserve(indices.size());
        out.labels.reserve(indices.size());
        for (auto i : indices) {
            if (i >= n_samples)
                raise<shape_error>("timed_batch: sample index ", i, " >= ", n_samples);
            out.samples.push_back(samples[i]);
            out.labels.push_back(labels[i]);
        }
        out.n_samples = indices.size();
        return out;
    }
};

/// A spike dataset's samples at their own times in ms, sorted by time (then unit) as the event
/// engine expects; nothing is binned or dropped. Events at or after `duration_ms` (> 0) are
/// left out, and their count is returned through `dropped` when given.
template <class S>
timed_batch<S> to_timed_batch(const spike_dataset& data, double duration_ms,
                              std::size_t* dropped = nullptr) {
    if (!(duration_ms > 0) || !std::isfinite(duration_ms))
        raise<option_error>("to_timed_batch: duration_ms ", duration_ms, " must be > 0");
    timed_batch<S> out(data.n_units(), data.n_classes());
    const double scale = data.ms_per_unit();
    std::size_t left_out = 0;
    std::vector<std::pair<double, std::uint32_t>> events;
    for (std::size_t s = 0; s < data.size(); ++s) {
        const auto view = data.sample(s);
        events.clear();
        for (std::size_t e = 0; e < view.size(); ++e) {
            const double t = double(view.times[e]) * scale;
            if (t >= duration_ms) {
                ++left_out;
                continue;
            }
            events.emplace_back(t, view.units[e]);
        }
        std::sort(events.begin(), events.end());
        timed_spikes<S> sample;
        sample.label = view.label;
        sample.times_ms.reserve(events.size());
        sample.units.reserve(events.size());
        for (const auto& [t, u] : events) sample.add(S(t), u);
        out.add(std::move(sample));
    }
    if (dropped) *dropped = left_out;
    return out;
}

}  // namespace spikegrad

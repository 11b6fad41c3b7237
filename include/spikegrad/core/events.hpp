/// \file
/// spikegrad: event_batch, the binned spike input the engine eats. For every (sample, step)
/// it lists the active input units in CSR form, so the first layer's work scales with the
/// number of input spikes (SHD: a few percent of the cells), never with n_units * n_steps.
#pragma once

#include "error.hpp"
#include "tensor.hpp"
#include "time.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace spikegrad {

/// Read-only view of one sample's events: steps 0..n_steps-1, row t is
/// units[offsets[t] .. offsets[t+1]) with values (nullptr: every event is 1).
template <class Value>
struct event_view {
    const std::size_t* offsets = nullptr;  // n_steps + 1 entries, absolute into units
    const std::uint32_t* units = nullptr;
    const Value* values = nullptr;
    std::size_t n_steps = 0;

    std::size_t begin(std::size_t step) const { return offsets[step]; }
    std::size_t end(std::size_t step) const { return offsets[step + 1]; }
    Value value(std::size_t event) const { return values ? values[event] : Value(1); }
    std::size_t n_events() const { return offsets[n_steps] - offsets[0]; }
};

/// Binned input for B samples over T steps: CSR over rows r = sample * n_steps + step.
/// `values` is empty for binary spikes, else one value per event (spike counts in count
/// mode, or any weight). `labels` is empty for unlabelled input, else one class per sample.
struct event_batch {
    std::size_t n_samples = 0;
    std::size_t n_steps = 0;
    std::size_t n_units = 0;
    std::size_t n_classes = 0;
    /// Step length in ms (set by bin_events); 0 when unknown (batches made by hand).
    double dt_ms = 0;
    /// What bin_events left out: events outside the n_steps bins, and samples that had events
    /// but none inside them (they train as empty samples). Not carried by select().
    std::size_t dropped_events = 0;
    std::size_t emptied_samples = 0;
    std::vector<std::size_t> offsets{0};
    std::vector<std::uint32_t> units;
    std::vector<float> values;
    std::vector<std::int32_t> labels;

    event_batch() = default;
    event_batch(std::size_t steps, std::size_t unit_count, std::size_t classes = 0)
        : n_steps(steps), n_units(unit_count), n_classes(classes) {}

    time_grid grid() const { return {dt_ms, n_steps}; }
    bool binary() const { return values.empty(); }
    bool labelled() const { return !labels.empty(); }
    std::size_t n_events() const { return units.size(); }

    event_view<float> sample(std::size_t b) const {
        return {offsets.data() + b * n_steps, units.data(), values.empty() ? nullptr : values.data(),
                n_steps};
    }

    /// Appends one sample given its events in any order; events in the same step and unit are
    /// summed when `values` is used, collapsed to one spike when the batch is binary.
    /// steps.size() == units.size(); event_values is empty (all ones) or of the same size.
    void add_sample(std::span<const std::uint32_t> event_steps,
                    std::span<const std::uint32_t> event_units,
                    std::span<const float> event_values = {}, std::int32_t label = -1) {
        if (event_steps.size() != event_units.size())
            raise<shape_error>("event_batch: sample ", n_samples, ": ", event_steps.size(),
                               " steps but ", event_units.size(), " units");
        if (!event_values.empty() && event_values.size() != event_units.size())
            raise<shape_error>("event_batch: sample ", n_samples, ": ", event_values.size(),
                               " values for ", event_units.size(), " events");
        if (!event_values.empty() && values.empty() && !units.empty())
            raise<shape_error>("event_batch: sample ", n_samples,
                               ": values given but earlier samples are binary");
        // Counting sort by step (O(events + steps)), then each step's events by unit, so that
        // repeats of a (step, unit) are adjacent and collapse (binary) or add up (values).
        for (std::size_t e = 0; e < event_steps.size(); ++e)
            if (event_steps[e] >= n_steps)
                raise<data_error>("event_batch: sample ", n_samples, ": step ", event_steps[e],
                                  " >= n_steps ", n_steps);
        std::vector<std::size_t> start(n_steps + 1, 0);
        for (auto step : event_steps) ++start[step + 1];
        for (std::size_t t = 0; t < n_steps; ++t) start[t + 1] += start[t];
        std::vector<std::size_t> order(event_units.size());
        {
            std::vector<std::size_t> cursor(start.begin(), start.end() - 1);
            for (std::size_t e = 0; e < event_steps.size(); ++e) order[cursor[event_steps[e]]++] = e;
        }
        const bool weighted = !event_values.empty() || !values.empty();
        for (std::size_t step = 0; step < n_steps; ++step) {
            const auto first = order.begin() + static_cast<std::ptrdiff_t>(start[step]);
            const auto last = order.begin() + static_cast<std::ptrdiff_t>(start[step + 1]);
            if (last - first > 1)
                std::stable_sort(first, last, [&](std::size_t a, std::size_t b) {
                    return event_units[a] < event_units[b];
                });
            for (auto it = first; it != last; ++it) {
                const std::uint32_t unit = event_units[*it];
                const float value = event_values.empty() ? 1.f : event_values[*it];
                const bool repeat = units.size() > offsets.back() && units.back() == unit;
                if (repeat) {
                    if (weighted) values.back() += value;
                } else {
                    units.push_back(unit);
                    if (weighted) values.push_back(value);
                }
            }
            offsets.push_back(units.size());
        }
        if (label >= 0 && labels.size() != n_samples)
            raise<shape_error>("event_batch: sample ", n_samples,
                               " has a label but earlier samples have none");
        if (label >= 0 || !labels.empty()) labels.push_back(label);
        ++n_samples;
    }

    /// The samples at `indices`, in that order (batching and index-based splits).
    event_batch select(std::span<const std::size_t> indices) const {
        event_batch out(n_steps, n_units, n_classes);
        out.dt_ms = dt_ms;
        out.offsets.reserve(indices.size() * n_steps + 1);
        for (std::size_t b : indices) {
            if (b >= n_samples)
                raise<shape_error>("event_batch::select: index ", b, " >= n_samples ",
                                   n_samples);
            const std::size_t first = offsets[b * n_steps];
            const std::size_t last = offsets[(b + 1) * n_steps];
            const std::size_t shift = out.units.size();
            out.units.insert(out.units.end(), units.begin() + first, units.begin() + last);
            if (!values.empty())
                out.values.insert(out.values.end(), values.begin() + first, values.begin() + last);
            for (std::size_t t = 1; t <= n_steps; ++t)
                out.offsets.push_back(offsets[b * n_steps + t] - first + shift);
            if (!labels.empty()) out.labels.push_back(labels[b]);
            ++out.n_samples;
        }
        return out;
    }

    /// Checks every invariant the engine relies on; `what` names the batch in the message.
    void validate(const std::string& what = "event_batch") const {
        if (offsets.size() != n_samples * n_steps + 1)
            raise<shape_error>(what, ": ", offsets.size(), " offsets for ", n_samples,
                               " samples x ", n_steps, " steps");
        if (offsets.front() != 0 || offsets.back() != units.size())
            raise<shape_error>(what, ": offsets do not span the ", units.size(), " events");
        if (!values.empty() && values.size() != units.size())
            raise<shape_error>(what, ": ", values.size(), " values for ", units.size(),
                               " events");
        if (!labels.empty() && labels.size() != n_samples)
            raise<shape_error>(what, ": ", labels.size(), " labels for ", n_samples,
                               " samples");
        for (std::size_t b = 0; b < n_samples; ++b) {
            for (std::size_t t = 0; t < n_steps; ++t) {
                const std::size_t row = b * n_steps + t;
                if (offsets[row + 1] < offsets[row])
                    raise<shape_error>(what, ": sample ", b, ": step ", t,
                                       ": decreasing offsets");
                for (std::size_t e = offsets[row]; e < offsets[row + 1]; ++e) {
                    if (units[e] >= n_units)
                        raise<data_error>(what, ": sample ", b, ": step ", t, ": unit ",
                                          units[e], " >= n_units ", n_units);
                    if (!values.empty() && !std::isfinite(values[e]))
                        raise<numeric_error>(what, ": sample ", b, ": step ", t, ": unit ",
                                             units[e], ": value ", values[e], " is not finite");
                }
            }
            if (!labels.empty() && n_classes > 0 &&
                (labels[b] < 0 || static_cast<std::size_t>(labels[b]) >= n_classes))
                raise<data_error>(what, ": sample ", b, ": label ", labels[b],
                                  " outside [0, ", n_classes, ")");
        }
    }
};

/// Events from a dense raster [n_steps, n_samples, n_units] (non-zero cells become events
/// carrying their value; a raster of only 0 and 1 gives a binary batch).
/// `dt_ms` is the step length of the raster (0: unknown, the network's own dt applies).
template <class Scalar>
event_batch events_from_raster(const tensor<Scalar, 3>& raster, std::size_t n_classes = 0,
                               double dt_ms = 0) {
    const std::size_t steps = raster.shape(0), samples = raster.shape(1), n = raster.shape(2);
    event_batch out(steps, n, n_classes);
    out.dt_ms = dt_ms;
    bool binary = true;
    for (auto x : raster) {
        if (!std::isfinite(static_cast<double>(x)))
            raise<numeric_error>("events_from_raster: raster holds a non-finite value");
        if (x != Scalar(0) && x != Scalar(1)) binary = false;
    }
    out.offsets.reserve(samples * steps + 1);
    for (std::size_t b = 0; b < samples; ++b) {
        for (std::size_t t = 0; t < steps; ++t) {
            for (std::size_t i = 0; i < n; ++i) {
                const Scalar x = raster(t, b, i);
                if (x == Scalar(0)) continue;
                out.units.push_back(static_cast<std::uint32_t>(i));
                if (!binary) out.values.push_back(static_cast<float>(x));
            }
            out.offsets.push_back(out.units.size());
        }
    }
    out.n_samples = samples;
    return out;
}

/// Dense raster [n_steps, n_samples, n_units] of a batch (for plots and reference checks).
template <class Scalar = float>
tensor<Scalar, 3> raster_from_events(const event_batch& batch) {
    tensor<Scalar, 3> raster({batch.n_steps, batch.n_samples, batch.n_units}, Scalar(0));
    for (std::size_t b = 0; b < batch.n_samples; ++b) {
        const auto sample = batch.sample(b);
        for (std::size_t t = 0; t < batch.n_steps; ++t)
            for (std::size_t e = sample.begin(t); e < sample.end(t); ++e)
                raster(t, b, sample.units[e]) += static_cast<Scalar>(sample.value(e));
    }
    return raster;
}

}  // namespace spikegrad

/// \file
/// spikegrad: what the exact event-driven engine keeps of one sample's forward pass: per layer
/// its input arrivals and its own spikes (time, neuron, state just before the spike), plus the
/// readout's summary. No membrane trace: the adjoint is carried between events in closed form.
#pragma once

#include "propagator.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikegrad {

/// One sample for the event engine: input spikes at real times (ms), sorted by time (then
/// unit), and its label.
template <class S>
struct timed_spikes {
    std::vector<S> times_ms;
    std::vector<std::uint32_t> units;
    int label = -1;

    void add(S time_ms, std::uint32_t unit) {
        times_ms.push_back(time_ms);
        units.push_back(unit);
    }
    std::size_t size() const { return times_ms.size(); }
};

/// One sample's tape of the exact engine: arrivals and spikes per layer, no membrane trace.
template <class S>
struct event_tape {
    /// A presynaptic spike reaching a layer at `time` = spike time + axonal delay.
    struct arrival {
        S time;
        std::uint32_t source;  // presynaptic neuron (row of the weights)
        std::uint32_t spike;   // index of that spike in the source population's spike list
    };
    /// One output spike; `gap` is the index of the arrival that ends the interval it fell in
    /// (arrivals.size() for the interval after the last arrival).
    struct spike {
        S time;
        std::uint32_t neuron;
        std::uint32_t gap;
        event::neuron_state<S> before;  // V-, I-, B- at the crossing
    };
    struct layer {
        std::vector<arrival> arrivals;
        std::vector<spike> spikes;  // ordered by (gap, neuron, time)
    };
    /// Where a readout neuron's maximum over [0, T] lies.
    enum class peak_kind : std::uint8_t { start, interior, arrival, end };
    struct peak {
        S value = 0;
        S time = 0;
        peak_kind kind = peak_kind::start;
        std::uint32_t gap = 0;      // interior: its interval; arrival: the arrival's index
        S current_before = 0;       // I just before that arrival (the kink's left slope)
    };

    std::vector<layer> layers;
    /// The output layer's first-spike times (the window's end where it did not fire) and the
    /// index of that spike in layers.back().spikes (-1: none).
    std::vector<S> first_spike_ms;
    std::vector<std::int64_t> first_spike;
    /// Readout scores (the logits of voltage losses) and, for the max-voltage readout, peaks.
    std::vector<S> scores;
    std::vector<peak> peaks;
    /// Crossings whose slope gdot fell below event_network_options::min_crossing_slope.
    std::size_t grazing = 0;

    std::size_t spike_count() const {
        std::size_t total = 0;
        for (const auto& l : layers) total += l.spikes.size();
        return total;
    }
    /// Bytes the tape holds for the backward pass (its entries, not its capacity).
    std::size_t bytes() const {
        std::size_t total = 0;
        for (const auto& l : layers)
            total += l.arrivals.size() * sizeof(arrival) + l.spikes.size() * sizeof(spike);
        return total + peaks.size() * sizeof(peak) +
               first_spike.size() * (sizeof(S) + sizeof(std::int64_t));
    }
};

}  // namespace spikegrad

/// \file
/// spikegrad: what the exact event-driven engine keeps of one sample's forward pass: per layer
/// its own spikes (and, in a full tape, its input arrivals and the state just before each
/// spike), plus the readout's summary. No membrane trace: the adjoint is carried between
/// events in closed form.
#pragma once

#include "propagator.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
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

/// One sample's tape of the exact engine: per layer its spikes (time, neuron and where they
/// fall among the layer's arrivals), no membrane trace. A full tape also keeps each layer's
/// arrivals and the state just before each spike; a compact one
/// (event_network_options::compact_tape) keeps only the spikes, 8 bytes each in float, and the
/// backward pass rebuilds the rest one layer at a time (see event_network::backward).
template <class S>
struct event_tape {
    /// A presynaptic spike reaching a layer at `time` = spike time + axonal delay (+ the
    /// synapse's delay where the layer has per-synapse delays).
    struct arrival {
        S time;
        /// Presynaptic neuron (row of the weights); with per-synapse delays the synapse,
        /// neuron * n_out + target (the arrival then reaches that target only).
        std::uint32_t source;
        std::uint32_t spike;   // index of that spike in the source population's spike list
    };
    /// One output spike. Its `gap` (the index of the arrival that ends the interval it fell
    /// in; arrivals.size() after the last) is stored as the step from the previous spike's
    /// gap: spikes are ordered by (gap, neuron, time), so steps are >= 0 and mostly small;
    /// a step >= long_step goes to layer::long_gaps.
    struct spike {
        S time;
        std::uint16_t neuron;
        std::uint16_t gap_step;
    };
    static constexpr std::uint16_t long_step = 0xFFFF;
    /// Neurons per layer the 16-bit index can name.
    static constexpr std::size_t max_neurons = 0xFFFF;

    struct layer {
        std::vector<spike> spikes;  // ordered by (gap, neuron, time)
        /// (spike index, gap) of the spikes whose gap step did not fit in 16 bits.
        std::vector<std::pair<std::uint32_t, std::uint32_t>> long_gaps;
        /// Full tape only: the arrivals in time order and V-, I-, B- of each spike.
        std::vector<arrival> arrivals;
        std::vector<event::neuron_state<S>> before;

        /// Appends a spike; gaps must not decrease.
        void add_spike(S time, std::size_t neuron, std::uint32_t gap) {
            const std::uint32_t step = gap - last_gap_;
            if (step < long_step) {
                spikes.push_back({time, static_cast<std::uint16_t>(neuron),
                                  static_cast<std::uint16_t>(step)});
            } else {
                long_gaps.push_back({static_cast<std::uint32_t>(spikes.size()), gap});
                spikes.push_back({time, static_cast<std::uint16_t>(neuron), long_step});
            }
            last_gap_ = gap;
        }
        /// The gap of every spike, decoded into `out`.
        void gaps(std::vector<std::uint32_t>& out) const {
            out.resize(spikes.size());
            std::uint32_t gap = 0;
            std::size_t next_long = 0;
            for (std::size_t k = 0; k < spikes.size(); ++k) {
                if (spikes[k].gap_step == long_step)
                    gap = long_gaps[next_long++].second;
                else
                    gap += spikes[k].gap_step;
                out[k] = gap;
            }
        }
        /// Empties the layer, keeping its buffers for the next sample.
        void clear() {
            spikes.clear();
            long_gaps.clear();
            arrivals.clear();
            before.clear();
            last_gap_ = 0;
        }

    private:
        std::uint32_t last_gap_ = 0;
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
    /// Bytes the tape keeps for the backward pass (its entries, not its capacity).
    std::size_t bytes() const {
        std::size_t total = 0;
        for (const auto& l : layers)
            total += l.spikes.size() * sizeof(spike) +
                     l.long_gaps.size() * sizeof(std::pair<std::uint32_t, std::uint32_t>) +
                     l.arrivals.size() * sizeof(arrival) +
                     l.before.size() * sizeof(event::neuron_state<S>);
        return total + scores.size() * sizeof(S) + peaks.size() * sizeof(peak) +
               first_spike.size() * (sizeof(S) + sizeof(std::int64_t));
    }

    /// What the backward pass rebuilds of one layer at a time (the compact tape's arrivals,
    /// pre-spike states; every tape's decoded gaps); reused between samples, and its peak
    /// size is reported by scratch_bytes().
    struct scratch {
        std::vector<arrival> arrivals;
        std::vector<std::uint32_t> gaps;
        std::vector<event::neuron_state<S>> before;
        std::size_t peak_bytes = 0;
        void measure() {
            peak_bytes = std::max(peak_bytes, arrivals.size() * sizeof(arrival) +
                                                  gaps.size() * sizeof(std::uint32_t) +
                                                  before.size() * sizeof(event::neuron_state<S>));
        }
    };
    mutable scratch rebuilt;
    /// The largest transient of the backward passes run on this tape object (bytes).
    std::size_t scratch_bytes() const { return rebuilt.peak_bytes; }
};

}  // namespace spikegrad

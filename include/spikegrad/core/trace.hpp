/// \file
/// spikegrad: what BPTT keeps per sample and layer: the neuron trace (membrane before reset,
/// [T, n] per channel) and the output spikes as compact index lists (CSR over steps), before
/// and after the axonal delay. Spikes carry values only when they are not all 1 (delays
/// interpolate; smooth test surrogates emit real-valued "spikes").
#pragma once

#include "events.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikegrad {

/// Owning CSR list of events over n_steps steps; `values` empty means every event is 1.
template <class Scalar>
struct event_train {
    std::vector<std::size_t> offsets{0};
    std::vector<std::uint32_t> units;
    std::vector<Scalar> values;

    void clear() {
        offsets.assign(1, 0);
        units.clear();
        values.clear();
    }
    std::size_t n_steps() const { return offsets.size() - 1; }
    std::size_t size() const { return units.size(); }
    bool binary() const { return values.empty(); }

    /// Bytes of its entries (not its capacity).
    std::size_t bytes() const {
        return offsets.size() * sizeof(std::size_t) + units.size() * sizeof(std::uint32_t) +
               values.size() * sizeof(Scalar);
    }

    event_view<Scalar> view() const {
        return {offsets.data(), units.data(), values.empty() ? nullptr : values.data(),
                n_steps()};
    }
};

/// Per-sample, per-layer record of the forward pass.
template <class Scalar>
struct layer_tape {
    std::vector<Scalar> trace;      // [channels, T, n]; channel 0 is the thresholded membrane
    event_train<Scalar> spikes;     // the neuron's output spikes (spiking layers)
    event_train<Scalar> delayed;    // spikes after the axonal delay (delayed layers)

    /// Bytes of its entries: what the backward pass reads of this layer's forward pass.
    std::size_t bytes() const {
        return trace.size() * sizeof(Scalar) + spikes.bytes() + delayed.bytes();
    }
};

}  // namespace spikegrad

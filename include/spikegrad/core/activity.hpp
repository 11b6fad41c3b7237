/// \file
/// spikegrad: what a spiking layer did over a set of samples: spikes per neuron-step, the
/// neurons that never fired and those that fired on most steps, so a silent or saturated layer
/// is visible at once (in progress lines, training histories and benchmarks).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace spikegrad {

/// Spikes per neuron of one layer over the samples a network ran (for activity plots and
/// silent-neuron checks).
struct layer_activity {
    /// False for a non-spiking readout (nothing to count).
    bool spiking = false;
    /// Sample-steps counted (sum over samples of T).
    std::size_t steps = 0;
    /// Spikes per neuron over those steps (before any axonal delay).
    std::vector<std::size_t> per_neuron;

    std::size_t neurons() const { return per_neuron.size(); }
    std::size_t spikes() const {
        std::size_t total = 0;
        for (auto c : per_neuron) total += c;
        return total;
    }
    /// Spikes per neuron-step (0.05 = each neuron fires on 5% of steps on average).
    double rate() const {
        const double cells = static_cast<double>(steps) * static_cast<double>(neurons());
        return cells > 0 ? static_cast<double>(spikes()) / cells : 0.0;
    }
    /// Fraction of neurons that never fired.
    double silent_fraction() const {
        if (per_neuron.empty()) return 0.0;
        return static_cast<double>(std::count(per_neuron.begin(), per_neuron.end(), 0)) /
               static_cast<double>(neurons());
    }
    /// Fraction of neurons that fired on more than `level` of the steps (default half).
    double saturated_fraction(double level = 0.5) const {
        if (per_neuron.empty() || steps == 0) return 0.0;
        std::size_t n = 0;
        for (auto c : per_neuron) n += static_cast<double>(c) > level * static_cast<double>(steps);
        return static_cast<double>(n) / static_cast<double>(neurons());
    }

    void reset(bool is_spiking, std::size_t n) {
        spiking = is_spiking;
        steps = 0;
        per_neuron.assign(is_spiking ? n : 0, 0);
    }
    layer_activity& operator+=(const layer_activity& other) {
        spiking = spiking || other.spiking;
        steps += other.steps;
        if (per_neuron.size() < other.per_neuron.size()) per_neuron.resize(other.per_neuron.size(), 0);
        for (std::size_t j = 0; j < other.per_neuron.size(); ++j) per_neuron[j] += other.per_neuron[j];
        return *this;
    }
};

/// Activity of every layer of a network, in layer order.
using network_activity = std::vector<layer_activity>;

inline network_activity& operator+=(network_activity& total, const network_activity& add) {
    if (total.size() < add.size()) total.resize(add.size());
    for (std::size_t k = 0; k < add.size(); ++k) total[k] += add[k];
    return total;
}

}  // namespace spikegrad

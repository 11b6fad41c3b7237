// Test helper: one neuron's dynamics run on a [T, n] current through the surrogate-BPTT
// engine's time loop; returns the whole trace (every channel, [channels, T, n]).
#pragma once

#include <spikegrad/spikegrad.hpp>

#include <cstddef>
#include <vector>

namespace spikegrad::testing {

template <class Dynamics>
std::vector<double> run_dynamics(Dynamics& model, const std::vector<double>& current,
                                 std::size_t n, double dt_ms = 1.0) {
    const std::size_t T = current.size() / n;
    model.prepare(nullptr, time_grid{dt_ms, T});
    std::vector<double> trace(T * n * Dynamics::trace_channels), work(model.work_size());
    surrogate_bptt::forward(model, current.data(), T, fast_sigmoid{}, trace.data(), work.data());
    return trace;
}

}  // namespace spikegrad::testing

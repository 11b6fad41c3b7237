// spikegrad: the surrogate-gradient BPTT engine (the paper's method) over any neuron's
// dynamics: a time loop that records each step's trace, and the same loop in reverse through
// the neuron's step adjoint with the surrogate standing in for dH/dx. The surrogate belongs to
// this engine: the neuron only says where its spike nonlinearity is (x = v - theta).
#pragma once

#include "../concepts.hpp"
#include "../core/trace.hpp"
#include "../simd/kernels.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikegrad::surrogate_bptt {

/// trace[c, t, j] for t in [0, T) from the input currents [T, n]; `work` holds
/// dynamics.work_size() scalars.
template <class Dynamics, class Surrogate, class S>
void forward(const Dynamics& dynamics, const S* current, std::size_t T, const Surrogate& sg,
             S* trace, S* work) {
    const std::size_t n = dynamics.size(), stride = T * n;
    dynamics.begin_forward(work);
    for (std::size_t t = 0; t < T; ++t)
        dynamics.step(current + t * n, t ? trace + (t - 1) * n : nullptr, trace + t * n, stride,
                      work, sg);
}

/// From dL/ds [T, n] (g_spike; dL/dv for a readout) to dL/dI [T, n] (g_current), adding the
/// neuron's parameter gradients to `grads`.
template <class Dynamics, class Surrogate, class S>
void backward(const Dynamics& dynamics, const S* trace, const S* g_spike, std::size_t T,
              const Surrogate& sg, S* g_current, S* work, const S* values, S* grads) {
    const std::size_t n = dynamics.size(), stride = T * n;
    dynamics.begin_adjoint(work);
    for (std::size_t t = T; t-- > 0;)
        dynamics.adjoint_step(trace + t * n, g_spike + t * n, g_current + t * n, stride, work, sg);
    dynamics.end_adjoint(work, values, grads);
}

/// The spikes of a recorded trace: events where x[t, j] >= 0 (binary surrogates) or the
/// surrogate's real-valued spike where it is not 0 (smooth test surrogates).
template <class Surrogate, class S>
void emit_spikes(const S* x, std::size_t T, std::size_t n, const Surrogate& sg,
                 event_train<S>& out) {
    out.clear();
    // Compaction into a scratch row, then an append of the few spikes (growing the train by
    // n + slack zero-filled entries every step cost more than the compaction).
    thread_local std::vector<std::uint32_t> scratch_row;
    auto& scratch = scratch_row;
    if constexpr (Surrogate::binary) scratch.resize(n + simd::compaction_slack);
    for (std::size_t t = 0; t < T; ++t) {
        const S* row = x + t * n;
        if constexpr (Surrogate::binary) {
            const std::size_t found = simd::indices_at_least(n, row, S(0), scratch.data());
            out.units.insert(out.units.end(), scratch.data(), scratch.data() + found);
        } else {
            for (std::size_t j = 0; j < n; ++j) {
                const S s = sg.spike(row[j]);
                if (s != S(0)) {
                    out.units.push_back(static_cast<std::uint32_t>(j));
                    out.values.push_back(s);
                }
            }
        }
        out.offsets.push_back(out.units.size());
    }
}

}  // namespace spikegrad::surrogate_bptt

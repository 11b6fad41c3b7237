/// \file
/// spikegrad: the surrogate-gradient BPTT engine (the paper's method) over any neuron's
/// dynamics: a time loop that records each step's trace, and the same loop in reverse through
/// the neuron's step adjoint with the surrogate standing in for dH/dx. The surrogate belongs to
/// this engine: the neuron only says where its spike nonlinearity is (x = v - theta).
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

/// Appends the spikes of one step's trace row x[0..n) to `out` (one more step): events where
/// x >= 0 (binary surrogates) or the surrogate's real-valued spike where it is not 0.
template <class Surrogate, class S>
void emit_step(const S* row, std::size_t n, const Surrogate& sg, event_train<S>& out) {
    if constexpr (Surrogate::binary) {
        // Compaction into a scratch row, then an append of the few spikes (growing the train
        // by n + slack zero-filled entries every step cost more than the compaction).
        thread_local std::vector<std::uint32_t> scratch_row;
        auto& scratch = scratch_row;
        if (scratch.size() < n + simd::compaction_slack) scratch.resize(n + simd::compaction_slack);
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

/// The spikes of a recorded trace x [T, n] (see emit_step).
template <class Surrogate, class S>
void emit_spikes(const S* x, std::size_t T, std::size_t n, const Surrogate& sg,
                 event_train<S>& out) {
    out.clear();
    for (std::size_t t = 0; t < T; ++t) emit_step(x + t * n, n, sg, out);
}

/// The same loop with each step's input current made just before the step (current_of(t, row)
/// writes I[t] into `row`, n scalars) and, with `spikes`, each step's spikes emitted right
/// after it: the current row and the trace row stay in L1 instead of a [T, n] current buffer
/// passing through the caches between two loops. With `two_rows` (inference: nothing reads
/// the trace afterwards) `trace` holds two steps per channel, [channels, 2, n], used in turn,
/// so the state stays in L1 and no [T, n] trace evicts the weights from L2 at long T.
template <class Dynamics, class Surrogate, class S, class Current>
void forward_fused(const Dynamics& dynamics, Current&& current_of, std::size_t T,
                   const Surrogate& sg, S* trace, S* work, S* row,
                   event_train<S>* spikes = nullptr, bool two_rows = false) {
    const std::size_t n = dynamics.size(), stride = (two_rows ? 2 : T) * n;
    const auto at = [&](std::size_t t) { return trace + (two_rows ? t & 1 : t) * n; };
    dynamics.begin_forward(work);
    if (spikes) spikes->clear();
    for (std::size_t t = 0; t < T; ++t) {
        current_of(t, row);
        dynamics.step(row, t ? at(t - 1) : nullptr, at(t), stride, work, sg);
        if (spikes) emit_step(at(t), n, sg, *spikes);
    }
}

}  // namespace spikegrad::surrogate_bptt

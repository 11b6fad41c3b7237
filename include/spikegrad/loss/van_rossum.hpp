/// \file
/// spikegrad: the van Rossum distance (van Rossum 2001, Neural Comput. 13:751) between each
/// output's spike train and a target train of its class: both filtered by e^{-t/tau}, the
/// distance D = 1/(2 tau) int (f - g)^2 dt. On a grid of step dt: e[t] = a e[t-1] + s[t] - g[t],
/// a = e^{-dt/tau}, L = dt / (2 tau) sum_t sum_i e_i[t]^2, so that L tends to D as dt shrinks;
/// dL/ds_i[t] = dt / tau sum_{t' >= t} a^{t' - t} e_i[t'] (the same filter run backwards).
/// A loss for spike timing (a target spike at a chosen time), not for classification.
#pragma once

#include "common.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

namespace spikegrad {

/// Loss policy: van Rossum distance of every output's spikes to its target times for the label.
struct van_rossum_distance {
    /// The filter's time constant, ms.
    double tau_ms = 5.0;
    /// The length of one step of the record, ms (the network's dt).
    double step_ms = 1.0;
    /// Target spike times (ms) of output i for class c at index c * n_outputs + i; an empty
    /// list asks for silence.
    std::vector<std::vector<double>> target_ms;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "van_rossum";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        if (!(tau_ms > 0) || !(step_ms > 0))
            raise<option_error>("van_rossum_distance: tau_ms ", tau_ms, " and step_ms ", step_ms,
                                " must be > 0");
        if (n == 0 || target_ms.size() % n != 0)
            raise<shape_error>("van_rossum_distance: ", target_ms.size(),
                               " target lists are not a multiple of the ", n, " outputs");
        if (label < 0 || static_cast<std::size_t>(label) >= target_ms.size() / n)
            raise<data_error>("van_rossum_distance: label ", label, " has no targets (",
                              target_ms.size() / n, " classes)");
        std::vector<S> target(T * n, S(0));
        for (std::size_t i = 0; i < n; ++i)
            for (double t : target_ms[static_cast<std::size_t>(label) * n + i]) {
                if (!(t >= 0)) raise<data_error>("van_rossum_distance: target time ", t, " ms");
                const auto step = static_cast<std::size_t>(std::floor(t / step_ms));
                if (step < T) target[step * n + i] += S(1);
            }
        const S a = S(std::exp(-step_ms / tau_ms));
        const S factor = S(step_ms / tau_ms);
        std::vector<S> e(T * n);
        std::vector<S> state(n, S(0));
        S loss = 0;
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < n; ++i) {
                state[i] = a * state[i] + record[t * n + i] - target[t * n + i];
                e[t * n + i] = state[i];
                loss += state[i] * state[i];
            }
        if (grad) {
            std::fill(state.begin(), state.end(), S(0));
            for (std::size_t t = T; t-- > 0;)
                for (std::size_t i = 0; i < n; ++i) {
                    state[i] = e[t * n + i] + a * state[i];
                    grad[t * n + i] = scale * factor * state[i];
                }
        }
        return S(0.5) * factor * loss;
    }

    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

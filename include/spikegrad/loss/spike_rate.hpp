// spikegrad: [variant] SLAYER's spike-count loss, what the released SHD code trained with
// (SPEC section 4): target counts true_rate T for the label and false_rate T for the others,
// L = 1/2 sum_i (N_i - N_target_i)^2 / T, so dL/ds_i[t] = (N_i - N_target_i) / T.
#pragma once

#include "common.hpp"

#include <cstddef>
#include <vector>

namespace spikegrad {

struct spike_rate {
    double true_rate = 0.2;
    double false_rate = 0.02;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "spike_rate";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        std::vector<S> counts(n);
        detail::count_rows(record, 0, T, n, counts.data());
        const S steps = static_cast<S>(T);
        S loss = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const S target = (static_cast<int>(i) == label ? S(true_rate) : S(false_rate)) * steps;
            const S error = counts[i] - target;
            loss += S(0.5) * error * error / steps;
            counts[i] = scale * error / steps;  // now dL/ds_i[t]
        }
        if (grad)
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t i = 0; i < n; ++i) grad[t * n + i] = counts[i];
        return loss;
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

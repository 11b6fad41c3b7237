/// \file
/// spikegrad: [variant] SLAYER's spike-count loss, what the released SHD code trained with
/// (SPEC section 4): target counts true_rate T for the label and false_rate T for the others,
/// L = 1/2 sum_i (N_i - N_target_i)^2 / T, so dL/ds_i[t] = (N_i - N_target_i) / T.
#pragma once

#include "common.hpp"

#include <cstddef>

namespace spikegrad {

/// Loss policy: squared error between each output's firing rate and a target rate for the label
/// and the rest.
struct spike_rate {
    double true_rate = 0.2;
    double false_rate = 0.02;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "spike_rate";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        const double steps = static_cast<double>(T);
        return detail::target_count_loss(record, T, n, label, grad, scale, true_rate * steps,
                                         false_rate * steps, 0.5 / steps);
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

// spikegrad: mean squared error on output spike counts (snnTorch's mse_count_loss): targets
// correct_rate T for the label and incorrect_rate T for the others,
// L = (1/n) sum_i (N_i - target_i)^2.
#pragma once

#include "common.hpp"

#include <cstddef>

namespace spikegrad {

struct count_mse {
    double correct_rate = 0.8;
    double incorrect_rate = 0.2;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "mse_count";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        const double steps = static_cast<double>(T);
        return detail::target_count_loss(record, T, n, label, grad, scale, correct_rate * steps,
                                         incorrect_rate * steps, 1.0 / static_cast<double>(n));
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

// spikegrad: mean squared error on output spike counts (snnTorch's mse_count_loss): targets
// correct_rate T for the label and incorrect_rate T for the others,
// L = (1/n) sum_i (N_i - target_i)^2.
#pragma once

#include "common.hpp"

#include <cstddef>
#include <vector>

namespace spikegrad {

struct count_mse {
    double correct_rate = 0.8;
    double incorrect_rate = 0.2;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "mse_count";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        std::vector<S> counts(n);
        detail::count_rows(record, 0, T, n, counts.data());
        S loss = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const S rate = static_cast<int>(i) == label ? S(correct_rate) : S(incorrect_rate);
            const S error = counts[i] - rate * static_cast<S>(T);
            loss += error * error / static_cast<S>(n);
            counts[i] = scale * S(2) * error / static_cast<S>(n);
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

/// \file
/// spikegrad: mean squared error on output spike counts, snnTorch's mse_count_loss
/// (snntorch.functional.mse_count_loss, without population codes): integer targets
/// int(T correct_rate) for the label and int(T incorrect_rate) for the others, and
/// L = (1 / (n T)) sum_i (N_i - target_i)^2 (nn.MSELoss over the classes, divided by num_steps).
#pragma once

#include "../core/error.hpp"
#include "common.hpp"

#include <cmath>
#include <cstddef>

namespace spikegrad {

/// Loss policy: mean squared error between output spike counts and target rates (snnTorch's
/// mse_count_loss).
struct count_mse {
    /// snnTorch's defaults: the label fires at every step, the others never.
    double correct_rate = 1.0;
    double incorrect_rate = 0.0;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "mse_count";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        const double steps = static_cast<double>(T);
        // snnTorch: on_target = int(num_steps * correct_rate), truncated toward zero.
        return detail::target_count_loss(record, T, n, label, grad, scale,
                                         std::trunc(correct_rate * steps),
                                         std::trunc(incorrect_rate * steps),
                                         1.0 / (static_cast<double>(n) * steps));
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

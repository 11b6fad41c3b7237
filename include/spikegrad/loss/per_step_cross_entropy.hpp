/// \file
/// spikegrad: a per-step loss, for online learning (SpikingGamma, issue 14): the mean over the
/// counted steps t >= floor(from * T) of CE(softmax(y[t]), label). Each step's term depends on
/// y[t] only, so an online learner gets dL/dy[t] at step t; the whole-record form (evaluate)
/// is the sum of the same terms, so BPTT networks and the unrolled mode train the same loss.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace spikegrad {

/// Cross-entropy at every counted step, averaged: a loss an online learner can use step by step.
struct per_step_cross_entropy {
    static constexpr record_kind reads = record_kind::membrane;
    static constexpr const char* name = "ce_per_step";

    /// Fraction of the sequence before the first counted step (0: every step counts).
    double from = 0.0;

    std::size_t first_step(std::size_t T) const {
        const auto first = static_cast<std::size_t>(std::floor(from * double(T)));
        return std::min(first, T - 1);
    }

    /// The term of step t: weight * CE(y[t]); grad (when given) = scale * d(term)/dy[t].
    template <class S>
    S step(const S* y, std::size_t n, int label, std::size_t t, std::size_t T, S* grad,
           S scale) const {
        const std::size_t first = first_step(T);
        if (t < first) {
            if (grad) std::fill(grad, grad + n, S(0));
            return S(0);
        }
        const S weight = S(1) / static_cast<S>(T - first);
        return weight * detail::cross_entropy(y, n, label, grad, scale * weight);
    }

    /// Adds step t's contribution to the scores: the mean log-probability of each class.
    template <class S>
    void accumulate_scores(const S* y, std::size_t n, std::size_t t, std::size_t T, S* scores) const {
        const std::size_t first = first_step(T);
        if (t < first) return;
        std::vector<S> p(y, y + n);
        const S log_total = detail::softmax_in_place(p.data(), n);
        const S weight = S(1) / static_cast<S>(T - first);
        for (std::size_t i = 0; i < n; ++i) scores[i] += weight * (y[i] - log_total);
    }

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        S loss = 0;
        for (std::size_t t = 0; t < T; ++t)
            loss += step(record + t * n, n, label, t, T, grad ? grad + t * n : nullptr, scale);
        return loss;
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        std::fill(out, out + n, S(0));
        for (std::size_t t = 0; t < T; ++t) accumulate_scores(record + t * n, n, t, T, out);
    }
};

}  // namespace spikegrad

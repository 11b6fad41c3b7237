/// \file
/// spikegrad: helpers the losses share: spike counts over time, a stable softmax, argmax, and
/// the batch driver that applies a per-sample loss to a record [B, T, n].
#pragma once

#include "../concepts.hpp"
#include "../core/error.hpp"
#include "../core/step_stats.hpp"
#include "../core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace spikegrad {

namespace detail {

/// counts[i] = sum_t record[t, i] over rows [first, last).
template <class S>
void count_rows(const S* record, std::size_t first, std::size_t last, std::size_t n, S* counts) {
    std::fill(counts, counts + n, S(0));
    for (std::size_t t = first; t < last; ++t)
        for (std::size_t i = 0; i < n; ++i) counts[i] += record[t * n + i];
}

/// p = softmax(z) in place; returns log(sum exp z) (stable).
template <class S>
S softmax_in_place(S* z, std::size_t n) {
    const S top = *std::max_element(z, z + n);
    S total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        z[i] = std::exp(z[i] - top);
        total += z[i];
    }
    for (std::size_t i = 0; i < n; ++i) z[i] /= total;
    return top + std::log(total);
}

/// Cross-entropy of logits z against `label`; writes dL/dz (scaled) to dz when given.
template <class S>
S cross_entropy(const S* z, std::size_t n, int label, S* dz, S scale) {
    std::vector<S> p(z, z + n);
    const S log_total = softmax_in_place(p.data(), n);
    const S loss = log_total - z[label];
    if (dz)
        for (std::size_t i = 0; i < n; ++i)
            dz[i] = scale * (p[i] - (static_cast<int>(i) == label ? S(1) : S(0)));
    return loss;
}

/// Losses on output spike counts against per-class targets: L = weight sum_i (N_i - N*_i)^2
/// with N* = true_target for the label and false_target otherwise; dL/ds_i[t] is constant in t.
template <class S>
S target_count_loss(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale,
                    double true_target, double false_target, double weight) {
    std::vector<S> counts(n);
    count_rows(record, 0, T, n, counts.data());
    S loss = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const S error = counts[i] - S(static_cast<int>(i) == label ? true_target : false_target);
        loss += S(weight) * error * error;
        counts[i] = scale * S(2 * weight) * error;  // now dL/ds_i[t]
    }
    if (grad)
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < n; ++i) grad[t * n + i] = counts[i];
    return loss;
}

}  // namespace detail

/// A loss over a batch: its mean value, dL/d(record) and the predicted classes.
template <class S>
struct batch_loss {
    S value = 0;                 // mean over the batch
    tensor<S, 3> gradient;       // dL/d(record), [B, T, n]
    std::vector<int> predictions;
    std::size_t correct = 0;
};

/// Applies `loss` to every sample of a record [B, T, n]: the mean loss, its gradient with
/// respect to the record, and the predictions (argmax of the loss's scores).
template <class Loss, class S>
batch_loss<S> evaluate_loss(const Loss& loss, const tensor<S, 3>& record,
                            std::span<const std::int32_t> labels) {
    const std::size_t B = record.shape(0), T = record.shape(1), n = record.shape(2);
    if (labels.size() != B)
        raise<shape_error>("loss: ", labels.size(), " labels for a batch of ", B);
    batch_loss<S> out;
    out.gradient = tensor<S, 3>({B, T, n}, S(0));
    std::vector<S> scores(n);
    for (std::size_t b = 0; b < B; ++b) {
        if (labels[b] < 0 || static_cast<std::size_t>(labels[b]) >= n)
            raise<data_error>("loss: sample ", b, ": label ", labels[b], " outside [0, ", n,
                              ") (the network has ", n, " outputs)");
        const S* r = record.data() + b * T * n;
        out.value += loss.evaluate(r, T, n, labels[b], out.gradient.data() + b * T * n,
                                   S(1) / static_cast<S>(B));
        loss.scores(r, T, n, scores.data());
        out.predictions.push_back(argmax(scores.data(), n));
        if (out.predictions.back() == labels[b]) ++out.correct;
    }
    out.value /= static_cast<S>(B);
    return out;
}

}  // namespace spikegrad

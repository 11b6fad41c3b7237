/// \file
/// spikegrad: how a batch's predictions count: the credit of a prediction under ties (an
/// unbiased tie-break, so a constant predictor scores chance) and the loss and accuracy summed
/// over batches. Shared by every network kind and the trainer; needs only the standard library.
#pragma once

#include <algorithm>
#include <cstddef>

namespace spikegrad {

/// Index of the largest score (the first one on ties).
template <class S>
int argmax(const S* scores, std::size_t n) {
    return static_cast<int>(std::max_element(scores, scores + n) - scores);
}

/// How much a prediction from `scores` counts as correct for `label`: 1 when the label's score
/// is the only maximum, 1/k when it is one of k tied maxima (the expected hit of a uniformly
/// random tie-break, so a constant predictor scores chance, not the share of class 0), 0 else.
struct prediction_credit {
    double credit = 0;
    bool tie = false;  // several classes share the top score
};

template <class S>
prediction_credit credit_of(const S* scores, std::size_t n, int label) {
    const S top = *std::max_element(scores, scores + n);
    std::size_t tied = 0;
    for (std::size_t i = 0; i < n; ++i) tied += scores[i] == top;
    const bool hit = label >= 0 && static_cast<std::size_t>(label) < n && scores[label] == top;
    return {hit ? 1.0 / static_cast<double>(tied) : 0.0, tied > 1};
}

/// Loss and accuracy summed over the samples of one or more batches. A sample whose label ties
/// with k - 1 other classes for the top score counts 1/k (see prediction_credit); `ties`
/// counts the samples with any tie at the top, so a silent readout is visible.
struct step_stats {
    double loss_sum = 0;
    double correct = 0;
    std::size_t samples = 0;
    std::size_t ties = 0;

    double loss() const { return samples ? loss_sum / static_cast<double>(samples) : 0.0; }
    double accuracy() const {
        return samples ? correct / static_cast<double>(samples) : 0.0;
    }
    step_stats& operator+=(const step_stats& other) {
        loss_sum += other.loss_sum;
        correct += other.correct;
        samples += other.samples;
        ties += other.ties;
        return *this;
    }
};

}  // namespace spikegrad

/// \file
/// spikegrad: index-based splits of a dataset into train / validation / test (SPEC section 5):
/// the released SHD code's split of a shuffled set by fraction ([0, 0.6), [0.6, 0.75),
/// [0.75, 0.9)), a seeded stratified split, and the merge of published splits into one set.
#pragma once

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

namespace spikegrad {

/// Indices into one dataset, each list ascending; use with spike_dataset::subset and
/// event_batch::select.
struct index_split {
    std::vector<std::size_t> train;
    std::vector<std::size_t> validation;
    std::vector<std::size_t> test;
};

/// The released code's split: positions [0, train_end n), [train_end n, validation_end n),
/// [validation_end n, test_end n) of the (shuffled) index list, each bound int(f n) as in
/// Python; positions from test_end n on are left out (10% by default).
struct fraction_split_options {
    double train_end = 0.6;
    double validation_end = 0.75;
    double test_end = 0.9;
    /// Shuffle the indices (seeded) before cutting; false cuts 0..n-1 in order.
    bool shuffle = true;
    std::uint64_t seed = 42;
};

inline index_split split_by_fraction(std::size_t n, const fraction_split_options& options = {}) {
    const double a = options.train_end, b = options.validation_end, c = options.test_end;
    if (!(0 <= a && a <= b && b <= c && c <= 1))
        raise<option_error>("split_by_fraction: need 0 <= train_end ", a, " <= validation_end ", b,
                            " <= test_end ", c, " <= 1");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    if (options.shuffle) {
        rng generator(options.seed);
        generator.shuffle(order);
    }
    // int(f * n) in the released Python code: truncation of the double product.
    auto cut = [n](double f) { return static_cast<std::size_t>(f * static_cast<double>(n)); };
    const std::size_t i = cut(a), j = cut(b), k = cut(c);
    index_split out;
    out.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(i));
    out.validation.assign(order.begin() + static_cast<std::ptrdiff_t>(i),
                          order.begin() + static_cast<std::ptrdiff_t>(j));
    out.test.assign(order.begin() + static_cast<std::ptrdiff_t>(j),
                    order.begin() + static_cast<std::ptrdiff_t>(k));
    std::sort(out.train.begin(), out.train.end());
    std::sort(out.validation.begin(), out.validation.end());
    std::sort(out.test.begin(), out.test.end());
    return out;
}

inline index_split split_by_fraction(const spike_dataset& data,
                                     const fraction_split_options& options = {}) {
    return split_by_fraction(data.size(), options);
}

/// Fractions of every class that go to each split (their sum may be below 1: the rest is
/// left out). Defaults mirror the code's 60 / 15 / 15.
struct stratified_split_options {
    double train = 0.6;
    double validation = 0.15;
    double test = 0.15;
    std::uint64_t seed = 42;
};

/// Per class c with n_c samples (shuffled with a stream of its own): the first
/// round(train n_c) go to train, up to round((train + validation) n_c) to validation, up to
/// round((train + validation + test) n_c) to test. Cumulative rounding keeps every split's
/// share of every class within half a sample of the fraction.
inline index_split stratified_split(std::span<const std::int32_t> labels,
                                    const stratified_split_options& options = {}) {
    const double a = options.train, b = options.validation, c = options.test;
    if (!(a >= 0 && b >= 0 && c >= 0 && a + b + c <= 1 + 1e-12))
        raise<option_error>("stratified_split: fractions ", a, ", ", b, ", ", c,
                            " must be >= 0 and sum to at most 1");
    std::int32_t top = -1;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0)
            raise<data_error>("stratified_split: sample ", i, ": label ", labels[i], " < 0");
        top = std::max(top, labels[i]);
    }
    std::vector<std::vector<std::size_t>> members(static_cast<std::size_t>(top + 1));
    for (std::size_t i = 0; i < labels.size(); ++i)
        members[static_cast<std::size_t>(labels[i])].push_back(i);
    const rng base(options.seed);
    index_split out;
    for (std::size_t k = 0; k < members.size(); ++k) {
        auto& list = members[k];
        rng generator = base.fork(k);
        generator.shuffle(list);
        const double n_c = static_cast<double>(list.size());
        auto bound = [&](double f) {
            return std::min(list.size(), static_cast<std::size_t>(std::llround(f * n_c)));
        };
        const std::size_t i = bound(a), j = std::max(i, bound(a + b)),
                          m = std::max(j, bound(a + b + c));
        out.train.insert(out.train.end(), list.begin(),
                         list.begin() + static_cast<std::ptrdiff_t>(i));
        out.validation.insert(out.validation.end(), list.begin() + static_cast<std::ptrdiff_t>(i),
                              list.begin() + static_cast<std::ptrdiff_t>(j));
        out.test.insert(out.test.end(), list.begin() + static_cast<std::ptrdiff_t>(j),
                        list.begin() + static_cast<std::ptrdiff_t>(m));
    }
    std::sort(out.train.begin(), out.train.end());
    std::sort(out.validation.begin(), out.validation.end());
    std::sort(out.test.begin(), out.test.end());
    return out;
}

inline index_split stratified_split(const spike_dataset& data,
                                    const stratified_split_options& options = {}) {
    const auto labels = data.labels();
    return stratified_split(std::span<const std::int32_t>(labels), options);
}

/// The published splits of one corpus as one dataset (the whole -> part -> norm builder works
/// on all splits together): samples in order; n_units, time unit and class names must agree;
/// the duration is the longest.
inline spike_dataset merge_splits(std::span<const spike_dataset> parts) {
    if (parts.empty()) return spike_dataset();
    const spike_dataset& first = parts.front();
    double duration = first.duration();
    std::size_t events = 0, samples = 0;
    for (std::size_t p = 0; p < parts.size(); ++p) {
        const auto& part = parts[p];
        if (part.n_units() != first.n_units() || part.unit() != first.unit() ||
            part.class_names() != first.class_names())
            raise<shape_error>("merge_splits: part ", p,
                               " differs from part 0 in n_units, time unit or class names");
        duration = std::max(duration, part.duration());
        events += part.n_spikes();
        samples += part.size();
    }
    spike_dataset out(first.n_units(), duration, first.unit(), first.class_names());
    out.reserve(samples, events);
    for (const auto& part : parts)
        for (std::size_t i = 0; i < part.size(); ++i) {
            const auto s = part.sample(i);
            out.add_sample(s.times, s.units, s.label);
        }
    return out;
}

}  // namespace spikegrad

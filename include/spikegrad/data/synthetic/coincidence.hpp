/// \file
/// spikegrad: the synthetic coincidence task (paper section 2.2, eq. 5; SPEC section 8):
/// three groups of neurons, the class says which two groups fire together, and spike counts
/// carry no class information. Source: Yu, Sun, Goodman 2025 and coin_data_gen.py.
#pragma once

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "../dataset.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace spikegrad {

/// How the ON/OFF state of each window is chosen.
///
/// Every class has a pair of groups (A: groups 1+2, B: 1+3, C: 2+3) and a solo group. In
/// each window the state is either "pair ON" (the pair fires with mean mu_on, the solo group
/// with mu_off) or "pair OFF" (the pair with mu_off, the solo group with mu_on). Either way
/// the two groups of the pair share a state, so their spikes coincide in ON windows: that
/// synchrony is the class. Counts are balanced because every group, pair or solo, is ON in
/// the "pair ON" windows or in the others, and half the windows are of each kind.
enum class coincidence_balance {
    /// Default: exactly half of the windows of every sample are "pair ON", in a random order
    /// (with an odd number of windows the extra one is a fair coin). With an even number of
    /// windows every group of every sample is ON in exactly n_windows / 2 windows whatever
    /// the class; since the draws of a window depend only on its group's state, the joint
    /// distribution of all per-neuron (and total) spike counts is the same for every class,
    /// so no classifier on counts, linear or not, beats chance.
    exact_half,
    /// [variant] the released code: a fair coin per window. Per-neuron mean counts are still
    /// class-independent, but the number of "pair ON" windows is shared by the pair and
    /// mirrored by the solo group, so the correlations between group totals reveal the
    /// pair (e.g. the two groups whose totals are closest): second-order count features leak.
    coin_per_window,
};

/// Every parameter of the coincidence task; defaults are the paper's values.
struct coincidence_options {
    /// Difficulty lambda in [0, 1] (eq. 5): mu_on = (1 - lambda) 12 + lambda 5,
    /// mu_off = (1 - lambda) 2 + lambda 5; at lambda = 1 the ON and OFF groups look alike.
    double lambda = 0;
    /// Overrides of eq. 5: mean number of neurons of a group that fire in a window when the
    /// group is ON / OFF.
    std::optional<double> mu_on{};
    std::optional<double> mu_off{};
    /// Neurons of groups 1, 2 and 3 (units 0..19, 20..39, 40..59 by default).
    std::array<std::size_t, 3> group_sizes{20, 20, 20};
    /// Non-overlapping windows of `window` steps start at t_i = i window; spikes fall on
    /// the slots t_i + slot_first ... t_i + slot_last (inclusive).
    std::size_t window = 10;
    std::size_t slot_first = 2;
    std::size_t slot_last = 6;
    /// Sample length in steps (1 ms); n_steps / window whole windows (100).
    std::size_t n_steps = 1000;
    /// Samples per class; sample i has label i % 3.
    std::size_t samples_per_class = 500;
    std::uint64_t seed = 42;
    coincidence_balance balance = coincidence_balance::exact_half;
};

/// The per-window means of a group: mu_on, mu_off, and their average mu_avg (the mean per
/// group and window over a sample, before the truncation of k to the group size).
struct coincidence_means {
    double mu_on = 0, mu_off = 0, mu_avg = 0;
};

/// mu_on and mu_off from eq. 5, or the overrides when given.
inline coincidence_means coincidence_rates(const coincidence_options& options) {
    if (!(options.lambda >= 0 && options.lambda <= 1))
        raise<option_error>("coincidence_options: lambda ", options.lambda, " outside [0, 1]");
    const double lambda = options.lambda;
    coincidence_means means;
    means.mu_on = options.mu_on.value_or((1 - lambda) * 12 + lambda * 5);
    means.mu_off = options.mu_off.value_or((1 - lambda) * 2 + lambda * 5);
    if (!(means.mu_on >= 0) || !std::isfinite(means.mu_on))
        raise<option_error>("coincidence_options: mu_on ", means.mu_on, " must be >= 0");
    if (!(means.mu_off >= 0) || !std::isfinite(means.mu_off))
        raise<option_error>("coincidence_options: mu_off ", means.mu_off, " must be >= 0");
    means.mu_avg = 0.5 * (means.mu_on + means.mu_off);
    return means;
}

/// The generated task: the dataset (time unit steps, duration n_steps, classes "A" (groups
/// 1+2 synchronous), "B" (1+3), "C" (2+3)) and, per sample and window, 1 when the class's
/// pair was ON (solo group OFF) and 0 when the pair was OFF (solo group ON).
struct coincidence_task {
    spike_dataset data;
    std::vector<std::vector<std::uint8_t>> pair_on;
};

namespace detail {

/// Cumulative Poisson(mu) probabilities over k = 0..n, renormalised to the group size (the
/// released code draws k from the Poisson pmf truncated to [0, n] and renormalised).
inline std::vector<double> truncated_poisson_cdf(double mu, std::size_t n) {
    std::vector<double> cdf(n + 1);
    double total = 0;
    for (std::size_t k = 0; k <= n; ++k) {
        const double kk = static_cast<double>(k);
        const double p = mu > 0 ? std::exp(kk * std::log(mu) - mu - std::lgamma(kk + 1))
                                : (k == 0 ? 1.0 : 0.0);
        total += p;
        cdf[k] = total;
    }
    for (auto& c : cdf) c /= total;
    cdf.back() = 1.0;
    return cdf;
}

inline std::size_t draw_from_cdf(const std::vector<double>& cdf, rng& random) {
    const double u = random.uniform();
    std::size_t k = 0;
    while (k + 1 < cdf.size() && cdf[k] <= u) ++k;
    return k;
}

}  // namespace detail

/// Generates the coincidence task. Sample i (label i % 3) draws from rng(seed).fork(i): its
/// window states, then per window and group 1..3: k from the truncated Poisson(mu_on or
/// mu_off), k distinct neurons of the group chosen uniformly, each firing once at a slot
/// drawn uniformly (with replacement across neurons) from the sub-window.
inline coincidence_task make_coincidence_task(const coincidence_options& options = {}) {
    const coincidence_means means = coincidence_rates(options);
    for (std::size_t g = 0; g < 3; ++g)
        if (options.group_sizes[g] == 0)
            raise<option_error>("coincidence_options: group_sizes[", g, "] must be >= 1");
    if (options.window == 0) raise<option_error>("coincidence_options: window must be >= 1");
    if (!(options.slot_first <= options.slot_last && options.slot_last < options.window))
        raise<option_error>("coincidence_options: slots ", options.slot_first, "..",
                            options.slot_last, " must lie inside a window of ", options.window,
                            " steps");
    const std::size_t n_windows = options.n_steps / options.window;
    if (n_windows == 0)
        raise<option_error>("coincidence_options: n_steps ", options.n_steps,
                            " holds no window of ", options.window, " steps");

    std::array<std::size_t, 3> first_unit{};
    for (std::size_t g = 1; g < 3; ++g) first_unit[g] = first_unit[g - 1] + options.group_sizes[g - 1];
    const std::size_t n_units = first_unit[2] + options.group_sizes[2];
    std::array<std::vector<double>, 3> cdf_on, cdf_off;
    for (std::size_t g = 0; g < 3; ++g) {
        cdf_on[g] = detail::truncated_poisson_cdf(means.mu_on, options.group_sizes[g]);
        cdf_off[g] = detail::truncated_poisson_cdf(means.mu_off, options.group_sizes[g]);
    }
    const std::size_t n_slots = options.slot_last - options.slot_first + 1;

    coincidence_task task{spike_dataset(n_units, static_cast<double>(options.n_steps),
                                        time_unit::steps, {"A", "B", "C"}, 1.0),
                          {}};
    const std::size_t n_samples = 3 * options.samples_per_class;
    task.pair_on.reserve(n_samples);
    const rng base(options.seed);
    std::vector<float> times;
    std::vector<std::uint32_t> units;
    for (std::size_t i = 0; i < n_samples; ++i) {
        const auto label = static_cast<std::int32_t>(i % 3);
        const std::size_t solo = 2 - static_cast<std::size_t>(label);  // A: 3, B: 2, C: 1
        rng random = base.fork(i);
        std::vector<std::uint8_t> state(n_windows, 0);
        if (options.balance == coincidence_balance::exact_half) {
            for (std::size_t w = 0; w < n_windows / 2; ++w) state[w] = 1;
            if (n_windows % 2 == 1) state[n_windows - 1] = random.bernoulli(0.5) ? 1 : 0;
            random.shuffle(state);
        } else {
            for (auto& s : state) s = random.bernoulli(0.5) ? 1 : 0;
        }
        times.clear();
        units.clear();
        for (std::size_t w = 0; w < n_windows; ++w) {
            const std::size_t t0 = w * options.window + options.slot_first;
            for (std::size_t g = 0; g < 3; ++g) {
                const bool on = (g != solo) == (state[w] == 1);
                const std::size_t k = detail::draw_from_cdf(on ? cdf_on[g] : cdf_off[g], random);
                for (std::size_t neuron : random.choose(options.group_sizes[g], k)) {
                    times.push_back(static_cast<float>(t0 + random.below(n_slots)));
                    units.push_back(static_cast<std::uint32_t>(first_unit[g] + neuron));
                }
            }
        }
        task.data.add_sample(times, units, label);
        task.pair_on.push_back(std::move(state));
    }
    return task;
}

}  // namespace spikegrad

// Tests of data/synthetic/coincidence.hpp: eq. 5, the slot layout, group counts against the
// truncated Poisson means, and classifiers on counts that must stay at chance. A proportion
// over n trials has sigma sqrt(p (1 - p) / n); a mean of n draws of variance v has sigma
// sqrt(v / n); checks allow 3 sigma.
#include "../common.hpp"

#include <doctest/doctest.h>
#include <spikegrad/data/synthetic/coincidence.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

using namespace spikegrad;
using namespace test_data;

namespace {

/// Mean and variance of Poisson(mu) conditioned on k <= n, from p_k = p_{k-1} mu / k.
std::pair<double, double> truncated_poisson_moments(double mu, std::size_t n) {
    double p = 1, total = 0, first = 0, second = 0;
    for (std::size_t k = 0; k <= n; ++k) {
        if (k > 0) p *= mu / static_cast<double>(k);
        total += p;
        first += static_cast<double>(k) * p;
        second += static_cast<double>(k * k) * p;
    }
    const double mean = first / total;
    return {mean, second / total - mean * mean};
}

/// Spikes of each group (3) in each window (n_windows) of sample i, groups of 20.
std::vector<std::array<double, 3>> group_counts(const spike_dataset& data, std::size_t i,
                                                std::size_t n_windows) {
    std::vector<std::array<double, 3>> out(n_windows, std::array<double, 3>{});
    const auto s = data.sample(i);
    for (std::size_t e = 0; e < s.size(); ++e)
        out[static_cast<std::size_t>(s.times[e]) / 10][s.units[e] / 20] += 1;
    return out;
}

std::array<double, 60> neuron_counts(const spike_dataset& data, std::size_t i) {
    std::array<double, 60> c{};
    for (std::uint32_t u : data.sample(i).units) c[u] += 1;
    return c;
}

/// Accuracy on the second half of a nearest-centroid classifier fitted on the first half.
double nearest_centroid_accuracy(const spike_dataset& data) {
    const std::size_t n = data.size(), half = n / 2;
    std::array<std::array<double, 60>, 3> centroid{};
    std::array<double, 3> members{};
    for (std::size_t i = 0; i < half; ++i) {
        const auto c = neuron_counts(data, i);
        const auto label = static_cast<std::size_t>(data.label(i));
        for (std::size_t u = 0; u < 60; ++u) centroid[label][u] += c[u];
        members[label] += 1;
    }
    for (std::size_t l = 0; l < 3; ++l)
        for (auto& x : centroid[l]) x /= members[l];
    double correct = 0;
    for (std::size_t i = half; i < n; ++i) {
        const auto c = neuron_counts(data, i);
        std::size_t best = 0;
        double best_distance = 1e300;
        for (std::size_t l = 0; l < 3; ++l) {
            double d = 0;
            for (std::size_t u = 0; u < 60; ++u) d += (c[u] - centroid[l][u]) * (c[u] - centroid[l][u]);
            if (d < best_distance) best_distance = d, best = l;
        }
        correct += static_cast<std::int32_t>(best) == data.label(i) ? 1 : 0;
    }
    return correct / static_cast<double>(n - half);
}

/// Accuracy of "the class is the pair of groups whose totals are closest": a second-order
/// count feature (A pairs groups 1+2, B 1+3, C 2+3).
double closest_pair_accuracy(const spike_dataset& data) {
    double correct = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::array<double, 3> g{};
        for (std::uint32_t u : data.sample(i).units) g[u / 20] += 1;
        const std::array<double, 3> gap{std::fabs(g[0] - g[1]), std::fabs(g[0] - g[2]),
                                        std::fabs(g[1] - g[2])};
        const auto guess = std::min_element(gap.begin(), gap.end()) - gap.begin();
        correct += guess == data.label(i) ? 1 : 0;
    }
    return correct / static_cast<double>(data.size());
}

double chance_sigma(double n) { return std::sqrt((1.0 / 3) * (2.0 / 3) / n); }

}  // namespace

TEST_CASE("eq. 5 gives mu_on 12 and mu_off 2 at lambda 0, 5 and 5 at lambda 1, and overrides win") {
    const auto zero = coincidence_rates({.lambda = 0});
    CHECK(zero.mu_on == 12);
    CHECK(zero.mu_off == 2);
    CHECK(zero.mu_avg == 7);
    const auto one = coincidence_rates({.lambda = 1});
    CHECK(one.mu_on == 5);
    CHECK(one.mu_off == 5);
    const auto half = coincidence_rates({.lambda = 0.5});
    CHECK(half.mu_on == doctest::Approx(8.5));
    CHECK(half.mu_off == doctest::Approx(3.5));
    const auto custom = coincidence_rates({.lambda = 0.5, .mu_on = 9.0});
    CHECK(custom.mu_on == 9);
    CHECK(custom.mu_off == doctest::Approx(3.5));
    CHECK_THROWS_AS(coincidence_rates({.lambda = 1.5}), option_error);
    CHECK_THROWS_AS(coincidence_rates({.lambda = -0.1}), option_error);
    CHECK_THROWS_AS(coincidence_rates({.mu_off = -1.0}), option_error);
}

TEST_CASE("every coincidence spike falls on a sub-window slot, at most once per neuron and window") {
    const coincidence_task task = make_coincidence_task({.samples_per_class = 100});
    REQUIRE(task.data.size() == 300);
    CHECK(task.data.n_units() == 60);
    CHECK(task.data.duration() == 1000);
    CHECK(task.data.class_counts() == std::vector<std::size_t>{100, 100, 100});
    for (std::size_t i = 0; i < task.data.size(); ++i) {
        CHECK(task.data.label(i) == static_cast<std::int32_t>(i % 3));
        const auto s = task.data.sample(i);
        std::vector<int> fired(60 * 100, 0);
        for (std::size_t e = 0; e < s.size(); ++e) {
            const float t = s.times[e];
            REQUIRE(t == std::floor(t));
            const auto step = static_cast<std::size_t>(t);
            CHECK(step < 1000);
            CHECK((step % 10 >= 2 && step % 10 <= 6));
            ++fired[s.units[e] * 100 + step / 10];
        }
        CHECK(*std::max_element(fired.begin(), fired.end()) <= 1);
    }
}

TEST_CASE("coincidence slots are used uniformly over the sub-window") {
    const coincidence_task task = make_coincidence_task({.samples_per_class = 50});
    std::array<double, 10> slots{};
    double n = 0;
    for (std::size_t i = 0; i < task.data.size(); ++i)
        for (float t : task.data.sample(i).times) {
            slots[static_cast<std::size_t>(t) % 10] += 1;
            n += 1;
        }
    for (std::size_t k = 2; k <= 6; ++k)
        CHECK(std::fabs(slots[k] / n - 0.2) <= 3 * std::sqrt(0.2 * 0.8 / n));
}

TEST_CASE("mean group counts per window match the truncated Poisson means of mu_on and mu_off") {
    for (double lambda : {0.0, 0.5, 1.0}) {
        CAPTURE(lambda);
        const coincidence_task task = make_coincidence_task({.lambda = lambda, .samples_per_class = 60});
        const auto means = coincidence_rates({.lambda = lambda});
        const auto [on_mean, on_var] = truncated_poisson_moments(means.mu_on, 20);
        const auto [off_mean, off_var] = truncated_poisson_moments(means.mu_off, 20);
        double on_sum = 0, on_n = 0, off_sum = 0, off_n = 0;
        for (std::size_t i = 0; i < task.data.size(); ++i) {
            const std::size_t solo = 2 - static_cast<std::size_t>(task.data.label(i));
            const auto counts = group_counts(task.data, i, 100);
            for (std::size_t w = 0; w < 100; ++w)
                for (std::size_t g = 0; g < 3; ++g) {
                    const bool on = (g != solo) == (task.pair_on[i][w] == 1);
                    (on ? on_sum : off_sum) += counts[w][g];
                    (on ? on_n : off_n) += 1;
                }
        }
        CHECK(std::fabs(on_sum / on_n - on_mean) <= 3 * std::sqrt(on_var / on_n));
        CHECK(std::fabs(off_sum / off_n - off_mean) <= 3 * std::sqrt(off_var / off_n));
    }
}

TEST_CASE("exact balancing makes the pair ON in exactly half of the windows of every sample") {
    const coincidence_task task = make_coincidence_task({.samples_per_class = 100});
    for (const auto& windows : task.pair_on) {
        REQUIRE(windows.size() == 100);
        CHECK(std::count(windows.begin(), windows.end(), std::uint8_t(1)) == 50);
    }
    // With 101 windows the odd one is a coin: 50 or 51.
    const coincidence_task odd = make_coincidence_task({.n_steps = 1010, .samples_per_class = 20});
    for (const auto& windows : odd.pair_on) {
        const auto on = std::count(windows.begin(), windows.end(), std::uint8_t(1));
        CHECK((on == 50 || on == 51));
    }
}

TEST_CASE("in ON windows the two groups of the class's pair fire together") {
    // The timing signal: per window, the pair's counts go up and down together. Over ON and
    // OFF windows alike, the pair's counts correlate positively and the solo group's
    // negatively with them: check the sign of the mean product of centred counts.
    const coincidence_task task = make_coincidence_task({.samples_per_class = 30});
    for (std::size_t i = 0; i < task.data.size(); ++i) {
        const auto label = static_cast<std::size_t>(task.data.label(i));
        const std::array<std::array<std::size_t, 2>, 3> pairs{{{0, 1}, {0, 2}, {1, 2}}};
        const std::size_t a = pairs[label][0], b = pairs[label][1], solo = 3 - a - b;
        const auto counts = group_counts(task.data, i, 100);
        double together = 0, opposite = 0;
        for (const auto& c : counts) {
            together += (c[a] - 7) * (c[b] - 7);
            opposite += (c[a] - 7) * (c[solo] - 7);
        }
        CHECK(together > 0);
        CHECK(opposite < 0);
    }
}

TEST_CASE("a nearest-centroid classifier on per-neuron counts is at chance on the coincidence task") {
    for (double lambda : {0.0, 0.5}) {
        for (auto balance : {coincidence_balance::exact_half, coincidence_balance::coin_per_window}) {
            CAPTURE(lambda);
            CAPTURE(static_cast<int>(balance));
            const coincidence_task task = make_coincidence_task({.lambda = lambda, .balance = balance});
            const double accuracy = nearest_centroid_accuracy(task.data);
            MESSAGE("nearest centroid: ", accuracy);
            CHECK(std::fabs(accuracy - 1.0 / 3) <= 3 * chance_sigma(750));
        }
    }
}

TEST_CASE("group totals reveal the pair under a per-window coin but not under exact balancing") {
    // Under the released code's coin, the pair is ON in n ~ Bin(100, 1/2) windows and the solo
    // group in 100 - n, so the solo group's total sits 2 (n - 50)(mu_on - mu_off) ~ 100 spikes
    // (1 sd) away while the pair's totals differ by Poisson noise (~36 sd): the closest pair
    // of totals gives the class well above chance. Exact balancing removes that.
    const coincidence_task exact = make_coincidence_task({});
    const coincidence_task coin = make_coincidence_task({.balance = coincidence_balance::coin_per_window});
    const double exact_accuracy = closest_pair_accuracy(exact.data);
    const double coin_accuracy = closest_pair_accuracy(coin.data);
    MESSAGE("closest pair of group totals: exact ", exact_accuracy, ", coin ", coin_accuracy);
    CHECK(std::fabs(exact_accuracy - 1.0 / 3) <= 3 * chance_sigma(1500));
    CHECK(coin_accuracy >= 1.0 / 3 + 6 * chance_sigma(1500));
}

TEST_CASE("total spike counts have the same mean in every class") {
    const coincidence_task task = make_coincidence_task({});
    std::array<double, 3> sum{}, sum2{}, n{};
    for (std::size_t i = 0; i < task.data.size(); ++i) {
        const auto label = static_cast<std::size_t>(task.data.label(i));
        const auto total = static_cast<double>(task.data.sample(i).size());
        sum[label] += total;
        sum2[label] += total * total;
        n[label] += 1;
    }
    // Difference of two class means: sigma sqrt(v_a / n_a + v_b / n_b).
    for (std::size_t a = 0; a < 3; ++a)
        for (std::size_t b = a + 1; b < 3; ++b) {
            const double ma = sum[a] / n[a], mb = sum[b] / n[b];
            const double va = sum2[a] / n[a] - ma * ma, vb = sum2[b] / n[b] - mb * mb;
            CHECK(std::fabs(ma - mb) <= 3 * std::sqrt(va / n[a] + vb / n[b]));
        }
}

TEST_CASE("the coincidence task is the same for a seed and differs between seeds") {
    const auto a = make_coincidence_task({.samples_per_class = 20});
    const auto b = make_coincidence_task({.samples_per_class = 20});
    CHECK(same_events(a.data, b.data));
    CHECK(a.pair_on == b.pair_on);
    CHECK_FALSE(same_events(a.data, make_coincidence_task({.samples_per_class = 20, .seed = 7}).data));
}

TEST_CASE("coincidence options outside their range are rejected") {
    CHECK_THROWS_AS(make_coincidence_task({.slot_last = 10}), option_error);
    CHECK_THROWS_AS(make_coincidence_task({.slot_first = 5, .slot_last = 4}), option_error);
    CHECK_THROWS_AS(make_coincidence_task({.window = 0}), option_error);
    CHECK_THROWS_AS(make_coincidence_task({.n_steps = 5}), option_error);
    CHECK_THROWS_AS(make_coincidence_task({.group_sizes = {20, 0, 20}}), option_error);
}

// Tests of data/transforms.hpp. References are closed forms (floor(f n), hand-shifted
// times) and sampling bounds: a Bernoulli fraction over n trials has sigma = sqrt(p (1 - p)
// / n), a mean of n N(0, s^2) draws has sigma s / sqrt(n), their sample variance has sigma
// s^2 sqrt(2 / (n - 1)); every statistical check allows 3 sigma (or more where stated).
#include "common.hpp"

#include <doctest/doctest.h>
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/transforms.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <vector>

#if SPIKEGRAD_HAS_OPENMP
#include <omp.h>
#endif

using namespace spikegrad;
using namespace test_data;

namespace {

/// Samples on whole steps (spike times 0..duration-1), each unit firing at distinct steps.
spike_dataset step_dataset(std::size_t n_samples, std::size_t n_units, std::size_t duration,
                           std::size_t per_unit, std::uint64_t seed) {
    rng random(seed);
    spike_dataset data = make(n_units, static_cast<double>(duration), time_unit::steps, 3);
    for (std::size_t s = 0; s < n_samples; ++s) {
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (std::size_t u = 0; u < n_units; ++u)
            for (std::size_t t : random.choose(duration, per_unit)) {
                times.push_back(static_cast<float>(t));
                units.push_back(static_cast<std::uint32_t>(u));
            }
        data.add_sample(times, units, static_cast<std::int32_t>(s % 3));
    }
    return data;
}

/// Number of elements of `before` (a multiset) that are missing from `after`.
std::size_t missing(std::vector<float> before, std::vector<float> after) {
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    std::vector<float> gone;
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(gone));
    return gone.size();
}

double sigma_of_fraction(double p, double n) { return std::sqrt(p * (1 - p) / n); }

}  // namespace

// --- random replacement ------------------------------------------------------------------

TEST_CASE("random replacement with f = 0 returns the same events in both modes") {
    const spike_dataset data = continuous_dataset(10, 8, 100, 3, 1);
    CHECK(same_events(replace_spikes(data, 0.0, 7), data));
    const spike_dataset steps = step_dataset(10, 8, 100, 5, 2);
    CHECK(same_events(replace_spikes(steps, {.fraction = 0, .mode = replacement_mode::bernoulli_relocate}, 7),
                      steps));
}

TEST_CASE("exact replacement moves exactly floor(f n) spikes of each neuron and keeps its count") {
    // Original spikes sit at half steps and new ones on whole steps (grid 1), so "missing
    // originals" counts the moved spikes exactly. n = 100 spikes with f = 0.29 checks that
    // floor(0.29 * 100) is 29 (0.29 * 100 is 28.999... in floating point).
    for (const auto& [numerator, denominator] :
         std::vector<std::pair<std::size_t, std::size_t>>{{1, 4}, {1, 2}, {29, 100}, {1, 1}, {1, 3}}) {
        const double f = static_cast<double>(numerator) / static_cast<double>(denominator);
        const spike_dataset data = random_dataset(
            20, 6, 1000, 50, 3, [](rng& r) { return static_cast<double>(r.below(1000)) + 0.5; });
        const spike_dataset out = replace_spikes(data, {.fraction = f, .grid = 1.0}, 99);
        REQUIRE(out.size() == data.size());
        for (std::size_t i = 0; i < data.size(); ++i) {
            const auto before = unit_times(data.sample(i), 6);
            const auto after = unit_times(out.sample(i), 6);
            for (std::size_t u = 0; u < 6; ++u) {
                const std::size_t n = before[u].size();
                CHECK(after[u].size() == n);
                CHECK(missing(before[u], after[u]) == numerator * n / denominator);
                for (float t : after[u]) CHECK((t >= 0.f && t < 1000.f));
            }
            CHECK(out.label(i) == data.label(i));
        }
    }
}

TEST_CASE("exact replacement with f = 1 redraws every time uniformly over 0..T") {
    const double T = 200;
    const spike_dataset data =
        random_dataset(100, 10, T, 10, 4, [](rng&) { return 10.0; });  // every spike at t = 10
    const spike_dataset out = replace_spikes(data, 1.0, 5);
    double sum = 0, first_quarter = 0, n = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto s = out.sample(i);
        CHECK(s.size() == data.sample(i).size());
        for (float t : s.times) {
            CHECK((t >= 0.f && t < static_cast<float>(T)));
            sum += t;
            first_quarter += t < T / 4 ? 1 : 0;
            n += 1;
        }
    }
    REQUIRE(n > 5000);
    // Uniform on [0, T): mean T / 2 with sigma T / sqrt(12 n); P(t < T / 4) = 1 / 4.
    CHECK(std::fabs(sum / n - T / 2) <= 3 * T / std::sqrt(12 * n));
    CHECK(std::fabs(first_quarter / n - 0.25) <= 3 * sigma_of_fraction(0.25, n));
}

TEST_CASE("Bernoulli replacement moves a fraction f of spikes to empty bins of their neuron") {
    // 20 spikes per neuron in 1000 bins: relocation fails with probability < (20/1000)^50,
    // so counts are kept; a moved spike lands back in its own freed bin with probability
    // 1 / 981, a bias of f / 981 on the fraction of originals that go missing (< sigma / 5).
    const double f = 0.3;
    const spike_dataset data = step_dataset(50, 20, 1000, 20, 6);
    const spike_dataset out =
        replace_spikes(data, {.fraction = f, .mode = replacement_mode::bernoulli_relocate}, 8);
    double moved = 0, n = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto before = unit_times(data.sample(i), 20);
        const auto after = unit_times(out.sample(i), 20);
        for (std::size_t u = 0; u < 20; ++u) {
            CHECK(after[u].size() == before[u].size());
            for (std::size_t k = 0; k < after[u].size(); ++k) {
                CHECK(after[u][k] == std::floor(after[u][k]));
                if (k > 0) CHECK(after[u][k] != after[u][k - 1]);  // one spike per bin
            }
            moved += static_cast<double>(missing(before[u], after[u]));
            n += static_cast<double>(before[u].size());
        }
    }
    CHECK(std::fabs(moved / n - f) <= 3 * sigma_of_fraction(f, n));
}

TEST_CASE("Bernoulli replacement loses the spikes of a full neuron that find no empty bin") {
    // Unit 0 fires in all 10 bins and every spike moves (f = 1) with one try: the first
    // spike's only empty bin is its own, so it survives with probability 1/10 per try, and
    // a neuron never gains spikes nor doubles up a bin. Unit 1 (one spike; bins are per
    // neuron, so once it is lifted all 10 are empty) always finds a bin.
    spike_dataset data = make(2, 10, time_unit::steps, 1);
    for (int s = 0; s < 200; ++s)
        add(data, {{0.f, 0}, {1.f, 0}, {2.f, 0}, {3.f, 0}, {4.f, 0}, {5.f, 0}, {6.f, 0},
                   {7.f, 0}, {8.f, 0}, {9.f, 0}, {4.f, 1}},
            0);
    const spike_dataset out = replace_spikes(
        data, {.fraction = 1, .mode = replacement_mode::bernoulli_relocate, .max_tries = 1}, 3);
    double kept = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto per_unit = unit_times(out.sample(i), 2);
        CHECK(per_unit[0].size() < 10);
        CHECK(std::adjacent_find(per_unit[0].begin(), per_unit[0].end()) == per_unit[0].end());
        CHECK(per_unit[1].size() == 1);
        kept += static_cast<double>(per_unit[0].size());
    }
    // A lower bound: the first spike alone survives with probability 1/10.
    CHECK(kept / 200 >= 0.1 - 3 * std::sqrt(0.1 * 0.9 / 200));
}

TEST_CASE("Bernoulli replacement on a dataset in seconds needs an explicit grid") {
    spike_dataset seconds = make(3, 1.4, time_unit::seconds, 1);
    add(seconds, {{0.1f, 0}, {0.5f, 1}}, 0);
    const replacement_options options{.fraction = 0.5, .mode = replacement_mode::bernoulli_relocate};
    const std::string text = message_of<option_error>([&] { (void)replace_spikes(seconds, options, 1); });
    CHECK(contains(text, "grid"));
    auto with_grid = options;
    with_grid.grid = 1.4 / 100;
    const spike_dataset out = replace_spikes(seconds, with_grid, 1);
    CHECK(out.n_spikes() == 2);
}

TEST_CASE("random replacement rejects a fraction outside 0..1 naming it and its value") {
    const spike_dataset data = continuous_dataset(2, 3, 10, 2, 9);
    const std::string text = message_of<option_error>([&] { (void)replace_spikes(data, 1.5, 1); });
    CHECK(contains(text, "fraction 1.5"));
    CHECK_THROWS_AS((void)replace_spikes(data, -0.1, 1), option_error);
    CHECK_THROWS_AS((void)replace_spikes(data, std::numeric_limits<double>::quiet_NaN(), 1),
                    option_error);
}

// --- per-spike jitter --------------------------------------------------------------------

TEST_CASE("per-spike jitter with sigma = 0 returns the same events") {
    const spike_dataset data = continuous_dataset(10, 8, 100, 3, 10);
    CHECK(same_events(jitter_per_spike(data, 0.0, 3), data));
}

TEST_CASE("per-spike jitter keeps counts and moves each spike by an independent N(0, sigma^2)") {
    // One spike per unit at t = 500, 50 sigma from both ends: nothing is clipped, and the
    // unit identifies each spike's displacement.
    const double sigma = 10;
    spike_dataset ones = make(250, 1000, time_unit::steps, 1);
    for (std::size_t i = 0; i < 40; ++i) {
        std::vector<float> times(250, 500.f);
        std::vector<std::uint32_t> units(250);
        for (std::uint32_t u = 0; u < 250; ++u) units[u] = u;
        ones.add_sample(times, units, 0);
    }
    const spike_dataset out = jitter_per_spike(ones, sigma, 12);
    double sum = 0, sum2 = 0, within = 0, n = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto per_unit = unit_times(out.sample(i), 250);
        for (const auto& times : per_unit) {
            REQUIRE(times.size() == 1);
            const double d = times[0] - 500.0;
            sum += d;
            sum2 += d * d;
            within += std::fabs(d) < sigma ? 1 : 0;
            n += 1;
        }
    }
    const double mean = sum / n, variance = (sum2 - n * mean * mean) / (n - 1);
    CHECK(std::fabs(mean) <= 3 * sigma / std::sqrt(n));
    CHECK(std::fabs(variance - sigma * sigma) <= 3 * sigma * sigma * std::sqrt(2 / (n - 1)));
    // P(|Z| < 1) = erf(1 / sqrt 2) = 0.6827.
    const double p = std::erf(1 / std::sqrt(2.0));
    CHECK(std::fabs(within / n - p) <= 3 * sigma_of_fraction(p, n));
}

TEST_CASE("per-spike jitter clips into 0..T and keeps every event") {
    // Spikes at 0 land on 0 with probability P(Z < 0) = 1/2; spikes at T - 0.5 are clipped
    // to the largest float below T with probability P(Z > 0.5 / sigma).
    const double T = 100, sigma = 20;
    spike_dataset data = make(2, T, time_unit::steps, 1);
    for (int s = 0; s < 100; ++s) {
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (int k = 0; k < 20; ++k) {
            times.push_back(0.f);
            units.push_back(0);
            times.push_back(static_cast<float>(T - 0.5));
            units.push_back(1);
        }
        data.add_sample(times, units, 0);
    }
    const spike_dataset out = jitter_per_spike(data, sigma, 21);
    const float upper = std::nextafter(static_cast<float>(T), 0.f);
    double at_zero = 0, at_top = 0, n = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto per_unit = unit_times(out.sample(i), 2);
        CHECK(per_unit[0].size() == 20);
        CHECK(per_unit[1].size() == 20);
        for (float t : per_unit[0]) at_zero += t == 0.f ? 1 : 0;
        for (float t : per_unit[1]) at_top += t == upper ? 1 : 0;
        for (const auto& times : per_unit)
            for (float t : times) CHECK((t >= 0.f && t < static_cast<float>(T)));
        n += 20;
    }
    CHECK(std::fabs(at_zero / n - 0.5) <= 3 * sigma_of_fraction(0.5, n));
    const double p_top = 0.5 * std::erfc(0.5 / sigma / std::sqrt(2.0));
    CHECK(std::fabs(at_top / n - p_top) <= 3 * sigma_of_fraction(p_top, n));
    // In the binned view the clipped duplicates collapse: the spikes at 0 of one sample
    // become a single event in bin 0, those clipped to the top a single event in bin 99.
    const event_batch batch = bin_events(out, {.dt_ms = 1.0});
    const auto view = batch.sample(0);
    CHECK(view.end(0) - view.begin(0) <= 2);
    CHECK(view.n_events() < out.sample(0).size());
}

TEST_CASE("per-spike jitter on a grid of 1 rounds every time to a whole step") {
    const spike_dataset data = step_dataset(5, 10, 200, 5, 13);
    const spike_dataset out = jitter_per_spike(data, {.sigma = 3, .grid = 1}, 4);
    CHECK(out.n_spikes() == data.n_spikes());
    for (std::size_t i = 0; i < out.size(); ++i)
        for (float t : out.sample(i).times) CHECK(t == std::floor(t));
}

TEST_CASE("negative or NaN sigma is rejected naming sigma and its value") {
    const spike_dataset data = continuous_dataset(2, 3, 10, 2, 9);
    const std::string text = message_of<option_error>([&] { (void)jitter_per_spike(data, -1.0, 1); });
    CHECK(contains(text, "sigma -1"));
    CHECK_THROWS_AS((void)jitter_per_neuron(data, -2.0, 1), option_error);
    CHECK_THROWS_AS((void)jitter_per_spike(data, std::numeric_limits<double>::quiet_NaN(), 1),
                    option_error);
}

// --- per-neuron jitter -------------------------------------------------------------------

TEST_CASE("per-neuron jitter with sigma = 0 returns the same events") {
    const spike_dataset data = continuous_dataset(10, 8, 100, 3, 14);
    CHECK(same_events(jitter_per_neuron(data, 0.0, 3), data));
}

TEST_CASE("per-neuron jitter shifts all spikes of a neuron by one N(0, sigma^2) offset") {
    const double sigma = 8;
    spike_dataset data = make(100, 1000, time_unit::steps, 1);
    for (int s = 0; s < 50; ++s) {
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (std::uint32_t u = 0; u < 100; ++u)
            for (float t : {400.f, 450.f, 520.f}) {
                times.push_back(t);
                units.push_back(u);
            }
        data.add_sample(times, units, 0);
    }
    const spike_dataset out = jitter_per_neuron(data, sigma, 15);
    double sum = 0, sum2 = 0, n = 0;
    std::vector<double> first_sample;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto per_unit = unit_times(out.sample(i), 100);
        for (const auto& times : per_unit) {
            REQUIRE(times.size() == 3);
            const double d = times[0] - 400.0;
            // Float rounding of t + d is at most half an ulp at ~500 (3e-5).
            CHECK(std::fabs(times[1] - 450.0 - d) <= 1e-4);
            CHECK(std::fabs(times[2] - 520.0 - d) <= 1e-4);
            sum += d;
            sum2 += d * d;
            n += 1;
            if (i == 0) first_sample.push_back(d);
        }
    }
    const double mean = sum / n, variance = (sum2 - n * mean * mean) / (n - 1);
    CHECK(std::fabs(mean) <= 3 * sigma / std::sqrt(n));
    CHECK(std::fabs(variance - sigma * sigma) <= 3 * sigma * sigma * std::sqrt(2 / (n - 1)));
    std::sort(first_sample.begin(), first_sample.end());
    CHECK(std::adjacent_find(first_sample.begin(), first_sample.end()) == first_sample.end());
}

TEST_CASE("per-neuron jitter in the released code's variant adds 20 steps and merges shared bins") {
    // sigma = 0: bin b -> min(b + 20, 99). Unit 0: 3 -> 23, 10.5 (bin 10) -> 30. Unit 1:
    // 75, 85, 99 -> 95, 99, 99: the last two share bin 99 and merge.
    spike_dataset data = make(2, 100, time_unit::steps, 1);
    add(data, {{3.f, 0}, {10.5f, 0}, {75.f, 1}, {85.f, 1}, {99.f, 1}}, 0);
    const spike_dataset out =
        jitter_per_neuron(data, {.sigma = 0, .mode = neuron_jitter_mode::released_code}, 1);
    const auto per_unit = unit_times(out.sample(0), 2);
    CHECK(per_unit[0] == std::vector<float>{23.f, 30.f});
    CHECK(per_unit[1] == std::vector<float>{95.f, 99.f});
}

TEST_CASE("per-neuron jitter in the released code's variant shifts by offset + round(N(0, sigma^2))") {
    const double sigma = 4;
    spike_dataset data = make(200, 1000, time_unit::steps, 1);
    for (int s = 0; s < 20; ++s) {
        std::vector<float> times(200, 300.f);
        std::vector<std::uint32_t> units(200);
        for (std::uint32_t u = 0; u < 200; ++u) units[u] = u;
        data.add_sample(times, units, 0);
    }
    const spike_dataset out = jitter_per_neuron(
        data, {.sigma = sigma, .mode = neuron_jitter_mode::released_code, .offset = 20}, 2);
    double sum = 0, n = 0;
    for (std::size_t i = 0; i < out.size(); ++i)
        for (float t : out.sample(i).times) {
            CHECK(t == std::floor(t));
            sum += t - 320.0;
            n += 1;
        }
    REQUIRE(n == 4000);
    // Rounding a N(0, s^2) draw keeps its mean 0 (symmetry); its sd is below s + 0.5.
    CHECK(std::fabs(sum / n) <= 3 * (sigma + 0.5) / std::sqrt(n));
}

// --- deletion ----------------------------------------------------------------------------

TEST_CASE("deletion with p = 0 keeps every spike and with p = 1 removes every spike") {
    const spike_dataset data = continuous_dataset(10, 8, 100, 3, 16);
    CHECK(same_events(delete_spikes(data, 0.0, 1), data));
    const spike_dataset none = delete_spikes(data, 1.0, 1);
    CHECK(none.size() == data.size());
    CHECK(none.n_spikes() == 0);
}

TEST_CASE("deletion removes a fraction p of spikes and keeps only original spikes") {
    const double p = 0.3;
    const spike_dataset data = continuous_dataset(200, 20, 100, 6, 17);
    const spike_dataset out = delete_spikes(data, p, 18);
    const auto n = static_cast<double>(data.n_spikes());
    REQUIRE(n > 20000);
    const double removed = 1 - static_cast<double>(out.n_spikes()) / n;
    CHECK(std::fabs(removed - p) <= 3 * sigma_of_fraction(p, n));
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto before = unit_times(data.sample(i), 20);
        const auto after = unit_times(out.sample(i), 20);
        for (std::size_t u = 0; u < 20; ++u)
            CHECK(missing(after[u], before[u]) == 0);  // nothing new
    }
}

TEST_CASE("deletion rejects a probability outside 0..1 naming it") {
    const spike_dataset data = continuous_dataset(2, 3, 10, 2, 9);
    const std::string text = message_of<option_error>([&] { (void)delete_spikes(data, 2.0, 1); });
    CHECK(contains(text, "probability 2"));
    CHECK_THROWS_AS((void)delete_spikes(data, -0.5, 1), option_error);
}

// --- time reversal -----------------------------------------------------------------------

TEST_CASE("time reversal maps t to t_start + t_end - t on a hand-made sample") {
    // t_start = 2, t_end = 7: unit 0 at {2, 5} -> {7, 4}, unit 1 at {7} -> {2}, unit 2 at
    // {5} -> {4}; the empty sample stays empty.
    spike_dataset data = make(3, 10, time_unit::steps, 2);
    add(data, {{2.f, 0}, {5.f, 0}, {5.f, 2}, {7.f, 1}}, 1);
    add(data, {}, 0);
    const spike_dataset out = reverse_time(data);
    const auto s = out.sample(0);
    CHECK(std::vector<float>(s.times.begin(), s.times.end()) == std::vector<float>{2.f, 4.f, 4.f, 7.f});
    CHECK(std::vector<std::uint32_t>(s.units.begin(), s.units.end()) ==
          std::vector<std::uint32_t>{1, 0, 2, 0});
    CHECK(out.label(0) == 1);
    CHECK(out.sample(1).size() == 0);
}

TEST_CASE("time reversal is an involution: exact on step times, within a float rounding otherwise") {
    const spike_dataset steps = step_dataset(30, 12, 500, 7, 19);
    CHECK(same_events(reverse_time(reverse_time(steps)), steps));
    const spike_dataset continuous = continuous_dataset(30, 12, 1.4, 4, 20);
    const spike_dataset twice = reverse_time(reverse_time(continuous));
    for (std::size_t i = 0; i < continuous.size(); ++i) {
        const auto a = unit_times(continuous.sample(i), 12), b = unit_times(twice.sample(i), 12);
        for (std::size_t u = 0; u < 12; ++u) {
            REQUIRE(a[u].size() == b[u].size());
            // Two roundings to float of numbers below 2.8: at most 2 ulp(2.8) = 4.8e-7.
            for (std::size_t k = 0; k < a[u].size(); ++k) CHECK(std::fabs(a[u][k] - b[u][k]) <= 5e-7);
        }
    }
}

TEST_CASE("time reversal keeps the active window, every count and every ISI in reverse order") {
    const spike_dataset data = step_dataset(30, 12, 500, 7, 21);
    const spike_dataset out = reverse_time(data);
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto s = data.sample(i), r = out.sample(i);
        CHECK(r.times.front() == s.times.front());
        CHECK(r.times.back() == s.times.back());
        const auto a = unit_times(s, 12), b = unit_times(r, 12);
        for (std::size_t u = 0; u < 12; ++u) {
            REQUIRE(a[u].size() == b[u].size());
            const std::size_t n = a[u].size();
            for (std::size_t k = 1; k < n; ++k)
                CHECK(b[u][k] - b[u][k - 1] == a[u][n - k] - a[u][n - k - 1]);
        }
    }
}

// --- properties shared by all transforms -------------------------------------------------

namespace {

std::vector<std::pair<const char*, std::function<spike_dataset(const spike_dataset&, std::uint64_t)>>>
all_transforms() {
    return {
        {"replace exact", [](const spike_dataset& d, std::uint64_t s) { return replace_spikes(d, 0.4, s); }},
        {"replace bernoulli",
         [](const spike_dataset& d, std::uint64_t s) {
             return replace_spikes(d, {.fraction = 0.4, .mode = replacement_mode::bernoulli_relocate}, s);
         }},
        {"jitter spike", [](const spike_dataset& d, std::uint64_t s) { return jitter_per_spike(d, 5.0, s); }},
        {"jitter neuron", [](const spike_dataset& d, std::uint64_t s) { return jitter_per_neuron(d, 5.0, s); }},
        {"jitter neuron code",
         [](const spike_dataset& d, std::uint64_t s) {
             return jitter_per_neuron(d, {.sigma = 5, .mode = neuron_jitter_mode::released_code}, s);
         }},
        {"delete", [](const spike_dataset& d, std::uint64_t s) { return delete_spikes(d, 0.4, s); }},
    };
}

}  // namespace

TEST_CASE("random transforms are deterministic for a seed and differ between seeds") {
    const spike_dataset data = step_dataset(40, 10, 300, 6, 22);
    for (const auto& entry : all_transforms()) {
        const char* name = entry.first;
        const auto& transform = entry.second;
        CAPTURE(name);
        CHECK(same_events(transform(data, 5), transform(data, 5)));
        CHECK_FALSE(same_events(transform(data, 5), transform(data, 6)));
    }
}

TEST_CASE("a transformed subset equals the same subset of the transformed whole") {
    const spike_dataset data = step_dataset(600, 10, 300, 6, 23);
    const std::vector<std::size_t> picks{599, 3, 300, 42, 255, 256, 0};
    const spike_dataset part = data.subset(picks);
    for (const auto& entry : all_transforms()) {
        const char* name = entry.first;
        const auto& transform = entry.second;
        CAPTURE(name);
        CHECK(same_events(transform(part, 9), transform(data, 9).subset(picks)));
    }
    CHECK(same_events(reverse_time(part), reverse_time(data).subset(picks)));
}

TEST_CASE("transforms leave their input unchanged") {
    const spike_dataset data = step_dataset(20, 10, 300, 6, 24);
    const spike_dataset copy = deep_copy(data);
    for (const auto& entry : all_transforms()) (void)entry.second(data, 1);
    (void)reverse_time(data);
    CHECK(same_events(data, copy));
}

TEST_CASE("transform results do not depend on the number of threads") {
#if SPIKEGRAD_HAS_OPENMP
    const spike_dataset data = step_dataset(700, 10, 300, 6, 25);
    const int threads = omp_get_max_threads();
    for (const auto& entry : all_transforms()) {
        const char* name = entry.first;
        const auto& transform = entry.second;
        CAPTURE(name);
        omp_set_num_threads(1);
        const spike_dataset serial = transform(data, 3);
        omp_set_num_threads(std::max(2, threads));
        CHECK(same_events(serial, transform(data, 3)));
    }
    omp_set_num_threads(threads);
#else
    MESSAGE("built without OpenMP: the transforms run serially");
#endif
}

TEST_CASE("per-neuron jitter in the released code's variant clamps offsets and times far beyond the grid") {
    // Found by fuzz/transforms.cpp (UBSan): offset / grid = 1e300 was converted to int64.
    // Any shift beyond the grid lands on its first or last bin, as clip() does in the code.
    spike_dataset data = make(3, 10, time_unit::steps, 1);
    add(data, {{1.f, 0}, {4.f, 1}, {1e30f, 2}}, 0);  // a time far past the 10 steps
    const auto last = [&](double offset) {
        const auto out =
            jitter_per_neuron(data, {.sigma = 0, .mode = neuron_jitter_mode::released_code, .offset = offset}, 1);
        const auto s = out.sample(0);
        return std::vector<float>(s.times.begin(), s.times.end());
    };
    CHECK(last(1e300) == std::vector<float>{9.f, 9.f, 9.f});
    CHECK(last(-1e300) == std::vector<float>{0.f, 0.f, 0.f});
    CHECK(last(0) == std::vector<float>{1.f, 4.f, 9.f});
}

TEST_CASE("Bernoulli replacement and digitize binning take times far past the grid") {
    // Same kind of conversion as above (double -> integer out of range), found by reading
    // after fuzz_transforms' report: a kept spike far past T stays as it is, and binning drops it.
    spike_dataset data = make(2, 10, time_unit::steps, 1);
    add(data, {{2.f, 0}, {1e30f, 1}}, 0);
    const auto out = replace_spikes(data, {.fraction = 0, .mode = replacement_mode::bernoulli_relocate}, 1);
    CHECK(out.sample(0).times[1] == 1e30f);
    const auto batch = bin_events(data, {.dt_ms = 1, .n_steps = 10, .edges = bin_edges::digitize_linspace});
    CHECK(batch.dropped_events == 1);
}

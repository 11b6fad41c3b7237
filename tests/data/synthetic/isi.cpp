// Tests of data/synthetic/isi.hpp against the task's geometry (kept area, the rate-only
// Bayes accuracy by integration over the square), the stated maps and the pair layout.
// Statistical bounds are 3 sigma of a binomial proportion, sigma = sqrt(p (1 - p) / n).
#include "../common.hpp"

#include <doctest/doctest.h>
#include <spikegrad/data/synthetic/isi.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <vector>

using namespace spikegrad;
using namespace test_data;

namespace {

const isi_task& paper_task() {
    static const isi_task task = make_isi_task();
    return task;
}

struct extent {
    double x_min, x_max, y_min, y_max;
};

extent extent_of(const std::vector<isi_truth>& truth) {
    extent e{truth[0].x, truth[0].x, truth[0].y, truth[0].y};
    for (const auto& t : truth) {
        e.x_min = std::min(e.x_min, t.x);
        e.x_max = std::max(e.x_max, t.x);
        e.y_min = std::min(e.y_min, t.y);
        e.y_max = std::max(e.y_max, t.y);
    }
    return e;
}

double sigma_of_fraction(double p, double n) { return std::sqrt(p * (1 - p) / n); }

}  // namespace

TEST_CASE("the ISI task keeps the points outside the margin band and labels them by the line") {
    // The band |y + x/2| < 2.5 sqrt(1.25) lies inside [-10, 10]^2 for all x (at x = +-10 it
    // spans y in 2.2..7.8), so its area is 20 * 2 * 2.5 sqrt(1.25) and a point is kept with
    // p = 1 - area / 400.
    const auto& task = paper_task();
    const double p = 1 - 20 * 2 * 2.5 * std::sqrt(1.25) / 400;
    const double n = 5000;
    CHECK(std::fabs(static_cast<double>(task.data.size()) - n * p) <= 3 * std::sqrt(n * p * (1 - p)));
    REQUIRE(task.truth.size() == task.data.size());
    for (std::size_t i = 0; i < task.truth.size(); ++i) {
        const auto& t = task.truth[i];
        CHECK(std::fabs(t.y + t.x / 2) / std::sqrt(1.25) >= 2.5);
        CHECK((std::fabs(t.x) <= 10 && std::fabs(t.y) <= 10));
        CHECK(task.data.label(i) == (t.y > -t.x / 2 ? 0 : 1));
    }
    CHECK(task.data.n_units() == 10);
    CHECK(task.data.duration() == 1000);
    CHECK(task.data.unit() == time_unit::steps);
    CHECK(task.data.class_names() == std::vector<std::string>{"above", "below"});
}

TEST_CASE("ISI task rates and ISIs are the snapped linear maps of x and y over the kept points") {
    const auto& truth = paper_task().truth;
    const extent e = extent_of(truth);
    std::map<double, int> rates;
    for (const auto& t : truth) {
        const double rate = 2 + 8 * (t.x - e.x_min) / (e.x_max - e.x_min);
        const double isi = 1 + 49 * (t.y - e.y_min) / (e.y_max - e.y_min);
        CHECK(std::fabs(t.rate_hz - rate) <= 1 + 1e-12);  // half a 2 Hz step
        CHECK(std::fabs(t.isi_ms - isi) <= 0.5 + 1e-12);  // half a 1 ms step
        CHECK(t.isi_ms == std::floor(t.isi_ms));
        CHECK((t.isi_ms >= 1 && t.isi_ms <= 50));
        ++rates[t.rate_hz];
    }
    CHECK(rates.size() == 5);
    for (double r : {2.0, 4.0, 6.0, 8.0, 10.0}) CHECK(rates.count(r) == 1);
}

TEST_CASE("every neuron gets floor(r T / 1000) pairs, each pair separated by the sample's ISI") {
    const auto& task = paper_task();
    std::size_t missing = 0, asked = 0;
    for (std::size_t i = 0; i < task.data.size(); ++i) {
        const auto& t = task.truth[i];
        CHECK(t.pairs_per_neuron == static_cast<std::size_t>(t.rate_hz));  // T = 1 s
        CHECK(t.isi_steps == static_cast<std::size_t>(t.isi_ms));        // dt = 1 ms
        const auto per_unit = unit_times(task.data.sample(i), 10);
        std::size_t placed = 0;
        for (const auto& times : per_unit) {
            REQUIRE(times.size() % 2 == 0);
            CHECK(times.size() <= 2 * t.pairs_per_neuron);
            for (std::size_t k = 0; k < times.size(); k += 2) {
                CHECK(times[k] == std::floor(times[k]));
                CHECK(times[k + 1] - times[k] == static_cast<float>(t.isi_steps));
                CHECK((times[k] >= 0 && times[k + 1] < 1000));
                // Rejection rule: starts of two pairs differ by more than 2 ISI.
                if (k >= 2) CHECK(times[k] - times[k - 2] > 2.f * static_cast<float>(t.isi_steps));
            }
            placed += times.size() / 2;
        }
        CHECK(placed + t.missing_pairs == 10 * t.pairs_per_neuron);
        missing += t.missing_pairs;
        asked += 10 * t.pairs_per_neuron;
    }
    MESSAGE("pairs given up after 500 tries: ", missing, " of ", asked);
}

TEST_CASE("pair placement never gives up while every draw has a 10% chance of a free start") {
    // Each placed start s' rules out the starts within 2 d of it (at most 4 d + 1 of the T - d
    // starts); if (pairs - 1)(4 d + 1) <= 0.9 (T - d), every draw succeeds with probability
    // >= 0.1 and 500 draws all fail with probability <= 0.9^500 < 1e-22.
    const auto& task = paper_task();
    std::size_t checked = 0;
    for (const auto& t : task.truth) {
        const double d = static_cast<double>(t.isi_steps);
        if ((static_cast<double>(t.pairs_per_neuron) - 1) * (4 * d + 1) > 0.9 * (1000 - d)) continue;
        CHECK(t.missing_pairs == 0);
        ++checked;
    }
    CHECK(checked > 1000);
}

TEST_CASE("the released code's rounding differs from the paper's floor on half-way values") {
    // rate 3.5 Hz over 1 s: floor 3 pairs, round 4 (half to even); ISI 3.5 ms: 3 or 4 steps.
    const isi_options paper{.n_points = 200, .rate_min_hz = 3.5, .rate_max_hz = 3.5,
                            .isi_min_ms = 3.5, .isi_max_ms = 3.5};
    isi_options code = paper;
    code.rounding = isi_rounding::round;
    const isi_task a = make_isi_task(paper), b = make_isi_task(code);
    REQUIRE(!a.truth.empty());
    CHECK(a.truth[0].pairs_per_neuron == 3);
    CHECK(a.truth[0].isi_steps == 3);
    CHECK(b.truth[0].pairs_per_neuron == 4);
    CHECK(b.truth[0].isi_steps == 4);
    // On the paper's whole-number grid the two rules agree.
    isi_options whole{.n_points = 300};
    const isi_task floor_task = make_isi_task(whole);
    whole.rounding = isi_rounding::round;
    CHECK(same_events(floor_task.data, make_isi_task(whole).data));
}

TEST_CASE("the ISI task's (rate, ISI) ground truth separates the classes exactly") {
    // Snapping moves x by at most 2.5 (half of 20 / 4) and y by at most 0.21 (half of 20 /
    // 49): the line moves by at most 1.25 + 0.21 < 2.5 sqrt(1.25) = 2.8, the vertical margin.
    const auto& task = paper_task();
    const extent e = extent_of(task.truth);
    for (std::size_t i = 0; i < task.truth.size(); ++i) {
        const auto& t = task.truth[i];
        const double x = e.x_min + (t.rate_hz - 2) / 8 * (e.x_max - e.x_min);
        const double y = e.y_min + (t.isi_ms - 1) / 49 * (e.y_max - e.y_min);
        CHECK(task.data.label(i) == (y > -x / 2 ? 0 : 1));
    }
}

TEST_CASE("rate alone separates the ISI task partially: near its Bayes accuracy, far from 100%") {
    const auto& task = paper_task();
    const extent e = extent_of(task.truth);
    // Bayes accuracy of a rate-only rule, by integrating over the square: at abscissa x the
    // kept class-0 (above) length is 10 - max(-10, -x/2 + h), class-1 (below) min(10, -x/2 - h)
    // + 10, h = 2.5 sqrt(1.25); x falls in rate level round(4 (x - x_min) / (x_max - x_min)).
    const double h = 2.5 * std::sqrt(1.25);
    std::array<double, 5> above{}, below{};
    const int steps = 200000;
    for (int k = 0; k < steps; ++k) {
        const double x = -10 + 20 * (k + 0.5) / steps;
        const double level = std::clamp(std::nearbyint(4 * (x - e.x_min) / (e.x_max - e.x_min)), 0.0, 4.0);
        above[static_cast<std::size_t>(level)] += std::max(0.0, 10 - std::max(-10.0, -x / 2 + h));
        below[static_cast<std::size_t>(level)] += std::max(0.0, std::min(10.0, -x / 2 - h) + 10);
    }
    double best = 0, total = 0;
    for (std::size_t l = 0; l < 5; ++l) {
        best += std::max(above[l], below[l]);
        total += above[l] + below[l];
    }
    const double bayes = best / total;
    MESSAGE("rate-only Bayes accuracy: ", bayes);
    REQUIRE((bayes > 0.6 && bayes < 0.9));

    // Train on the first half, test on the second.
    const std::size_t n = task.data.size(), half = n / 2;
    const double n_test = static_cast<double>(n - half);
    const double sigma = sigma_of_fraction(bayes, n_test);

    // (1) Majority class per rate level (the ground-truth rate): expected accuracy = Bayes.
    std::map<double, std::array<double, 2>> votes;
    for (std::size_t i = 0; i < half; ++i)
        votes[task.truth[i].rate_hz][static_cast<std::size_t>(task.data.label(i))] += 1;
    double correct = 0;
    for (std::size_t i = half; i < n; ++i) {
        const auto& v = votes[task.truth[i].rate_hz];
        correct += (v[0] >= v[1] ? 0 : 1) == task.data.label(i) ? 1 : 0;
    }
    const double majority = correct / n_test;
    MESSAGE("majority per rate level: ", majority);
    CHECK(std::fabs(majority - bayes) <= 3 * sigma);

    // (2) Nearest centroid on per-neuron spike counts (all a model without timing can see):
    // at most the rate-only Bayes accuracy, yet clearly above the 50% of chance.
    std::array<std::array<double, 10>, 2> centroid{};
    std::array<double, 2> members{};
    auto counts = [&](std::size_t i) {
        std::array<double, 10> c{};
        const auto s = task.data.sample(i);
        for (std::uint32_t u : s.units) c[u] += 1;
        return c;
    };
    for (std::size_t i = 0; i < half; ++i) {
        const auto c = counts(i);
        const auto label = static_cast<std::size_t>(task.data.label(i));
        for (std::size_t u = 0; u < 10; ++u) centroid[label][u] += c[u];
        members[label] += 1;
    }
    for (std::size_t l = 0; l < 2; ++l)
        for (auto& x : centroid[l]) x /= members[l];
    correct = 0;
    for (std::size_t i = half; i < n; ++i) {
        const auto c = counts(i);
        std::array<double, 2> distance{};
        for (std::size_t l = 0; l < 2; ++l)
            for (std::size_t u = 0; u < 10; ++u) distance[l] += (c[u] - centroid[l][u]) * (c[u] - centroid[l][u]);
        correct += (distance[0] <= distance[1] ? 0 : 1) == task.data.label(i) ? 1 : 0;
    }
    const double nearest = correct / n_test;
    MESSAGE("nearest centroid on counts: ", nearest);
    CHECK(nearest <= bayes + 3 * sigma);
    CHECK(nearest >= 0.5 + 10 * sigma_of_fraction(0.5, n_test));
}

TEST_CASE("the ISI task is the same for a seed and differs between seeds") {
    const isi_task a = make_isi_task({.n_points = 400}), b = make_isi_task({.n_points = 400});
    CHECK(same_events(a.data, b.data));
    CHECK_FALSE(same_events(a.data, make_isi_task({.n_points = 400, .seed = 43}).data));
}

TEST_CASE("ISI task options outside their range are rejected") {
    CHECK_THROWS_AS(make_isi_task({.isi_max_ms = 1000}), option_error);
    CHECK_THROWS_AS(make_isi_task({.margin = -1}), option_error);
    CHECK_THROWS_AS(make_isi_task({.rate_min_hz = 5, .rate_max_hz = 2}), option_error);
    CHECK_THROWS_AS(make_isi_task({.n_neurons = 0}), option_error);
    CHECK_THROWS_AS(make_isi_task({.dt_ms = 0}), option_error);
}

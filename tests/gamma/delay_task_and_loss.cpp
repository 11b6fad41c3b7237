// Tests of the delay task generator (data/synthetic/delay.hpp) and of per_step_cross_entropy
// (loss/per_step_cross_entropy.hpp), the pieces SpikingGamma's example and engines add.
#include <spikegrad/data/synthetic/delay.hpp>
#include <spikegrad/loss/per_step_cross_entropy.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace spikegrad;

TEST_CASE("delay task: B's volley follows A's by the class's lag and counts carry no class") {
    const delay_task_options o{.jitter_ms = 1.0, .noise_hz = 0, .samples_per_class = 50};
    const auto data = make_delay_task(o);
    REQUIRE(data.size() == 150);
    CHECK(data.n_units() == 10);
    for (std::size_t s = 0; s < data.size(); ++s) {
        const auto sample = data.sample(s);
        CHECK(sample.size() == 10);  // one spike per neuron without noise: counts are equal
        double a = 0, b = 0;
        for (std::size_t e = 0; e < sample.size(); ++e)
            (sample.units[e] < 5 ? a : b) += sample.times[e] / 5.0;
        // Mean of 5 jittered spikes: sigma 1 / sqrt(5) ms per group, so 6 sigma < 3.8 ms.
        CHECK(std::abs((b - a) - o.lags_ms[std::size_t(sample.label)]) < 3.8);
    }
    CHECK_THROWS_AS(make_delay_task({.lags_ms = {10}}), option_error);
    CHECK_THROWS_AS(make_delay_task({.lags_ms = {10, 150}}), option_error);
}

TEST_CASE("per_step_cross_entropy is the mean over the counted steps of the softmax cross-entropy") {
    const std::size_t T = 6, n = 3;
    std::vector<double> y(T * n);
    for (std::size_t k = 0; k < y.size(); ++k) y[k] = std::sin(1.7 * double(k)) * 2;
    const per_step_cross_entropy loss{.from = 0.5};  // steps 3, 4, 5
    std::vector<double> grad(T * n, 99.0);
    const double value = loss.evaluate(y.data(), T, n, 1, grad.data(), 1.0);
    double expected = 0;
    for (std::size_t t = 3; t < T; ++t) {
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) total += std::exp(y[t * n + i]);
        expected += (std::log(total) - y[t * n + 1]) / 3.0;
        for (std::size_t i = 0; i < n; ++i)
            CHECK(grad[t * n + i] ==
                  doctest::Approx((std::exp(y[t * n + i]) / total - (i == 1 ? 1.0 : 0.0)) / 3.0));
    }
    CHECK(value == doctest::Approx(expected).epsilon(1e-12));
    for (std::size_t k = 0; k < 3 * n; ++k) CHECK(grad[k] == 0.0);
    std::vector<double> scores(n);
    loss.scores(y.data(), T, n, scores.data());
    // The predicted class minimises the loss: its score is minus the loss it would have.
    std::vector<double> losses(n);
    for (int c = 0; c < int(n); ++c) losses[std::size_t(c)] = loss.evaluate(y.data(), T, n, c, static_cast<double*>(nullptr), 1.0);
    for (std::size_t c = 0; c < n; ++c) CHECK(scores[c] == doctest::Approx(-losses[c]).epsilon(1e-12));
}

// The adaptive-threshold LIF against independent references: with no adaptation it is the LIF
// exactly; a[t] is the filtered spike train of the neuron's own spikes; a constant current
// gives growing inter-spike intervals; every gradient (weights, tau, thresholds) equals
// central finite differences.
#include "../support/finite_differences.hpp"
#include "../support/run_dynamics.hpp"
#include "../support/smooth_spike.hpp"

#include <spikegrad/neuron/adaptive_lif.hpp>
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace spikegrad;
using spikegrad::testing::check_gradients;
using spikegrad::testing::random_batch;
using spikegrad::testing::run_dynamics;
using spikegrad::testing::smooth_spike;


TEST_CASE("adaptive LIF without adaptation is the LIF, step for step") {
    std::vector<double> current(3 * 60);
    rng random(5);
    for (auto& c : current) c = random.uniform(-0.2, 0.8);
    for (auto reset : {reset_mode::subtract, reset_mode::zero}) {
        adaptive_lif::dynamics<double> a({.membrane = {.tau_ms = 7, .theta = 0.9, .reset = reset}, .adaptation = 0}, 3);
        lif::dynamics<double> l({.tau_ms = 7, .theta = 0.9, .reset = reset}, 3);
        const auto xa = run_dynamics(a, current, 3, 0.5), xl = run_dynamics(l, current, 3, 0.5);
        for (std::size_t k = 0; k < xl.size(); ++k) CHECK(xa[k] == doctest::Approx(xl[k]).epsilon(1e-14));
    }
}

TEST_CASE("adaptive LIF: the adaptation is the filtered train of its own spikes, and the threshold rises") {
    const double tau_a = 30, rho = std::exp(-1.0 / tau_a), k = 0.3, theta = 1.0;
    adaptive_lif::dynamics<double> d({.membrane = {.tau_ms = 10, .theta = theta}, .adaptation = k, .tau_adapt_ms = tau_a}, 1);
    const std::size_t T = 200;
    const auto trace = run_dynamics(d, std::vector<double>(T, 0.35), 1);
    std::vector<int> spikes;
    for (std::size_t t = 0; t < T; ++t) {
        double expected = 0;
        for (int s : spikes) expected += std::pow(rho, double(t) - 1 - s);
        CHECK(trace[T + t] == doctest::Approx(expected).epsilon(1e-12));
        if (trace[t] >= 0) spikes.push_back(int(t));
    }
    // Spike-frequency adaptation: the intervals grow from the first to the last.
    REQUIRE(spikes.size() >= 4);
    CHECK(spikes[2] - spikes[1] < spikes.back() - spikes[spikes.size() - 2]);
    // A plain LIF with the same current fires at a constant rate, and more often.
    lif::dynamics<double> l({.tau_ms = 10, .theta = theta}, 1);
    const auto xl = run_dynamics(l, std::vector<double>(T, 0.35), 1);
    std::size_t lif_spikes = 0;
    for (std::size_t t = 0; t < T; ++t) lif_spikes += xl[t] >= 0;
    CHECK(lif_spikes > spikes.size());
}

TEST_CASE("every gradient of an adaptive-LIF network, thresholds included, equals central differences") {
    const auto batch = random_batch(3, 30, 5, 3, 0.25, 17);
    const auto all = [](const parameter_info&) { return true; };
    for (auto reset : {reset_mode::subtract, reset_mode::zero}) {
        CAPTURE(static_cast<int>(reset));
        using alif = dense<adaptive_lif, smooth_spike>;
        basic_network<double, alif, alif, dense<readout>> net(
            {5, 7, 6, 3}, {.dt_ms = 1.0, .seed = 4},
            {.neuron = {.membrane = {.tau_ms = 9.0, .theta = 1.0, .reset = reset, .detach_reset = false,
                                     .train_tau = training::per_neuron, .tau_max_ms = 50.0,
                                     .train_theta = training::per_neuron},
                        .adaptation = 0.4, .tau_adapt_ms = 12.0},
             .init_scale = 3.},
            {.neuron = {.membrane = {.theta = 0.8, .reset = reset, .detach_reset = false,
                                     .train_theta = training::shared},
                        .adaptation = 0.2},
             .init_scale = 3.},
            {});
        const auto r = check_gradients(net, batch, final_membrane_cross_entropy{}, all, 1e-6);
        CHECK(r.checked == net.parameters().size());
        CHECK_MESSAGE(r.failed == 0, "worst " << r.worst_name << " " << r.worst_relative);
    }
}

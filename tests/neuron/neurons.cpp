// Neuron dynamics against closed forms (constant currents, impulse responses, reset rules),
// and the gradients of CUBA-LIF and SRM-alpha networks against finite differences.
#include "../support/finite_differences.hpp"
#include "../support/run_dynamics.hpp"
#include "../support/smooth_spike.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace spikegrad;
using spikegrad::testing::check_gradients;
using spikegrad::testing::random_batch;
using spikegrad::testing::smooth_spike;

namespace {

/// The membrane of one neuron's dynamics: channel 0 of the trace plus `theta` (spiking
/// neurons record x = v - theta).
template <class Dynamics>
std::vector<double> run(Dynamics& model, std::vector<double> current, std::size_t n,
                        double dt_ms = 1.0, double theta = 0.0) {
    auto trace = spikegrad::testing::run_dynamics(model, current, n, dt_ms);
    trace.resize(current.size());
    for (auto& v : trace) v += theta;
    return trace;
}

}  // namespace

TEST_CASE("LIF with a constant current follows v(t) = I (1 - beta^(t+1)) / (1 - beta) to the first spike") {
    const double tau = 10, beta = std::exp(-1.0 / tau), I = 0.3, theta = 1;
    lif::dynamics<double> m({.tau_ms = tau, .theta = theta}, 1);
    const auto v = run(m, std::vector<double>(40, I), 1, 1.0, theta);
    std::size_t t = 0;
    for (; t < 40; ++t) {
        const double expected = I * (1 - std::pow(beta, double(t + 1))) / (1 - beta);
        CHECK(v[t] == doctest::Approx(expected).epsilon(1e-12));
        if (expected >= theta) break;
    }
    // The first crossing: smallest t with I (1 - beta^(t+1)) / (1 - beta) >= theta.
    const double first = std::ceil(std::log(1 - theta * (1 - beta) / I) / std::log(beta)) - 1;
    CHECK(double(t) == first);
    // Subtractive reset: the next step removes theta.
    CHECK(v[t + 1] == doctest::Approx(beta * v[t] + I - theta).epsilon(1e-12));
}

TEST_CASE("LIF reset to zero restarts integration from zero after a spike") {
    const double beta = std::exp(-1.0 / 5.0);
    lif::dynamics<double> m({.tau_ms = 5.0, .theta = 1.0, .reset = reset_mode::zero}, 1);
    std::vector<double> current(10, 0.0);
    current[0] = 1.5;   // spikes at t = 0
    current[1] = 0.25;  // after the reset only this remains
    const auto v = run(m, current, 1, 1.0, 1.0);
    CHECK(v[0] == doctest::Approx(1.5));
    CHECK(v[1] == doctest::Approx(0.25));
    CHECK(v[2] == doctest::Approx(0.25 * beta));
}

TEST_CASE("the readout's impulse response is beta^t") {
    const double beta = std::exp(-0.5 / 4.0);
    readout::dynamics<double> m({.tau_ms = 4.0}, 2);
    std::vector<double> current(2 * 12, 0.0);
    current[0] = 1.0;
    current[1] = -2.0;
    const auto v = run(m, current, 2, 0.5);
    for (std::size_t t = 0; t < 12; ++t) {
        CHECK(v[t * 2] == doctest::Approx(std::pow(beta, double(t))));
        CHECK(v[t * 2 + 1] == doctest::Approx(-2 * std::pow(beta, double(t))));
    }
}

TEST_CASE("CUBA-LIF's impulse response is sum_k beta^(t-k) alpha^k") {
    const double alpha = std::exp(-1.0 / 3.0), beta = std::exp(-1.0 / 8.0);
    cuba_lif::dynamics<double> m({.tau_syn_ms = 3.0, .membrane = {.tau_ms = 8.0, .theta = 100.0}}, 1);
    std::vector<double> current(20, 0.0);
    current[0] = 1.0;
    const auto v = run(m, current, 1, 1.0, 100.0);
    for (std::size_t t = 0; t < 20; ++t) {
        double expected = 0;
        for (std::size_t k = 0; k <= t; ++k) expected += std::pow(beta, double(t - k)) * std::pow(alpha, double(k));
        CHECK(v[t] == doctest::Approx(expected).epsilon(1e-12));
    }
}

TEST_CASE("SRM-alpha: the PSP is SLAYER's eps(t) = (t/tau) e^(1 - t/tau) and a spike adds nu(t)") {
    const double tau_sr = 2.0, tau_ref = 3.0, scale_ref = 2.0, theta = 0.5;
    srm_alpha::dynamics<double> m({.theta = theta, .tau_sr_steps = tau_sr,
                                   .tau_ref_steps = tau_ref, .scale_ref = scale_ref}, 1);
    std::vector<double> current(30, 0.0);
    current[0] = 0.6;  // eps peaks at t = tau_sr with value 1: 0.6 > theta there
    const auto u = run(m, current, 1, 1.0, theta);
    auto eps = [&](double t) { return t / tau_sr * std::exp(1 - t / tau_sr); };
    auto nu = [&](double t) { return -scale_ref * theta * t / tau_ref * std::exp(1 - t / tau_ref); };
    // Spikes: first t with 0.6 eps(t) >= theta.
    std::size_t spike = 0;
    while (0.6 * eps(double(spike)) < theta) ++spike;
    for (std::size_t t = 0; t < 30; ++t) {
        double expected = 0.6 * eps(double(t));
        if (t > spike) expected += nu(double(t - spike));
        CHECK(u[t] == doctest::Approx(expected).epsilon(1e-12));
        if (t > spike) CHECK(u[t] < theta);  // the refractory kernel suppresses further spikes
    }
}

TEST_CASE("gradients of CUBA-LIF and SRM-alpha networks equal central differences") {
    const auto batch = random_batch(3, 25, 5, 3, 0.25, 7);
    const auto all = [](const parameter_info&) { return true; };
    SUBCASE("CUBA-LIF") {
        basic_network<double, dense<cuba_lif, smooth_spike>, dense<cuba_lif, smooth_spike>,
                      dense<readout>>
            net({5, 7, 6, 3}, {.seed = 2},
                {.neuron = {.tau_syn_ms = 4.0, .membrane = {.tau_ms = 9.0, .detach_reset = false,
                                                            .train_tau = tau_training::per_neuron,
                                                            .tau_max_ms = 50.0}},
                 .init_scale = 3.},
                {.neuron = {.tau_syn_ms = 2.0, .membrane = {.reset = reset_mode::zero,
                                                            .detach_reset = false}},
                 .init_scale = 3.},
                {});
        // The synaptic filter amplifies currents ~30x, so the loss is strongly curved: a
        // smaller step keeps the O(step^4) truncation of the difference quotient below 1e-6.
        const auto r =
            check_gradients(net, batch, final_membrane_cross_entropy{}, all, 1e-6, 2e-4);
        CHECK(r.failed == 0);
    }
    SUBCASE("SRM-alpha, refractory response differentiated") {
        basic_network<double, dense<srm_alpha, smooth_spike>, dense<srm_alpha, smooth_spike>,
                      dense<readout>>
            net({5, 7, 6, 3}, {.seed = 3},
                {.neuron = {.theta = 1.0, .tau_sr_steps = 1.5, .tau_ref_steps = 2.0,
                            .detach_refractory = false},
                 .init_scale = 3.},
                {.neuron = {.theta = 1.0, .tau_sr_steps = 1.0, .tau_ref_steps = 1.0,
                            .detach_refractory = false},
                 .init_scale = 3.},
                {});
        const auto r = check_gradients(net, batch, final_membrane_cross_entropy{}, all, 1e-6);
        CHECK(r.failed == 0);
    }
}

TEST_CASE("SRM-alpha constants are in steps: the same current gives the same response at dt 1 and 14 ms") {
    std::vector<double> current(40, 0.0);
    current[0] = 30.0;
    current[9] = 25.0;
    srm_alpha::dynamics<double> m({}, 1);  // SHD constants: theta 10, tau_sr 1, tau_ref 2 steps
    const auto at_1 = run(m, current, 1, 1.0, 10.0);
    const auto at_14 = run(m, current, 1, 14.0, 10.0);
    std::size_t spikes = 0;
    for (std::size_t t = 0; t < 40; ++t) {
        CHECK(at_14[t] == doctest::Approx(at_1[t]).epsilon(1e-14));
        spikes += at_14[t] >= 10.0;
    }
    // At the 14 ms SHD step the neuron still fires (a ms reading of tau_sr would make the PSP
    // 14 times shorter than one step, and it would never reach theta).
    CHECK(spikes >= 2);
}

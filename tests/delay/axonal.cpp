// Learnable axonal delays: the exact shift at integer delays, the interpolated forward pass,
// gradients against finite differences, bounds, NaN, and a task that only a delay can solve.
#include "../support/finite_differences.hpp"
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

using delayed_net = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;

/// The (step, unit, value) events of a train.
std::vector<std::tuple<std::size_t, std::uint32_t, float>> events_of(const event_train<float>& train) {
    std::vector<std::tuple<std::size_t, std::uint32_t, float>> out;
    const auto v = train.view();
    for (std::size_t t = 0; t < v.n_steps; ++t)
        for (std::size_t e = v.begin(t); e < v.end(t); ++e) out.emplace_back(t, v.units[e], v.value(e));
    return out;
}

}  // namespace

TEST_CASE("with integer delays the output is the spike train shifted by exactly d steps") {
    for (auto mode : {axonal_delay::mode::interpolate, axonal_delay::mode::shift}) {
        delayed_net net({6, 5, 2}, {.seed = 1},
                        {.delay = {.max_steps = 10., .forward = mode}, .init_scale = 4.}, {});
        const std::vector<float> delays = {0, 1, 3, 7, 10};
        for (std::size_t j = 0; j < 5; ++j) net.parameter("layer0.delay")(j) = delays[j];
        const auto batch = random_batch(3, 20, 6, 2, 0.3, 8);
        delayed_net::tape tape;
        net.forward(batch, tape);
        for (std::size_t b = 0; b < 3; ++b) {
            std::vector<std::tuple<std::size_t, std::uint32_t, float>> expected;
            for (auto [t, j, value] : events_of(tape[b][0].spikes)) {
                const auto shifted = t + static_cast<std::size_t>(delays[j]);
                if (shifted < 20) expected.emplace_back(shifted, j, value);  // past T: dropped
            }
            std::sort(expected.begin(), expected.end());
            auto actual = events_of(tape[b][0].delayed);
            std::sort(actual.begin(), actual.end());
            CHECK(actual == expected);
            CHECK(!tape[b][0].spikes.units.empty());
        }
    }
}

TEST_CASE("a fractional delay splits each spike between floor(d) and floor(d) + 1") {
    delayed_net net({3, 2, 2}, {.seed = 2}, {.delay = {.max_steps = 8.}, .init_scale = 5.}, {});
    net.parameter("layer0.delay")(0) = 2.25f;
    net.parameter("layer0.delay")(1) = 0.5f;
    const auto batch = random_batch(1, 12, 3, 2, 0.5, 3);
    delayed_net::tape tape;
    net.forward(batch, tape);
    // Dense view of input spikes x and output y: y[t] = (1 - phi) x[t - k] + phi x[t - k - 1].
    std::vector<float> x(12 * 2, 0), y(12 * 2, 0);
    for (auto [t, j, v] : events_of(tape[0][0].spikes)) x[t * 2 + j] += v;
    for (auto [t, j, v] : events_of(tape[0][0].delayed)) y[t * 2 + j] += v;
    const int k[2] = {2, 0};
    const float phi[2] = {0.25f, 0.5f};
    for (int t = 0; t < 12; ++t)
        for (int j = 0; j < 2; ++j) {
            const float a = t - k[j] >= 0 ? x[(t - k[j]) * 2 + j] : 0.f;
            const float b = t - k[j] - 1 >= 0 ? x[(t - k[j] - 1) * 2 + j] : 0.f;
            CHECK(y[t * 2 + j] == doctest::Approx((1 - phi[j]) * a + phi[j] * b));
        }
}

TEST_CASE("delay gradients of a 2-hidden-layer network equal central differences") {
    using net_t = basic_network<double, dense<lif, smooth_spike, axonal_delay>,
                                dense<lif, smooth_spike, axonal_delay>, dense<readout>>;
    // Delays start in (k + 0.2, k + 0.8) so that the difference steps never cross an integer,
    // where the interpolated forward pass has a kink.
    auto hidden = [](double low) {
        typename dense<lif, smooth_spike, axonal_delay>::options o;
        o.neuron = {.tau_ms = 8.0, .detach_reset = false};
        o.delay = {.max_steps = 9., .init_low = low, .init_high = low + 0.6};
        o.init_scale = 2.5;
        return o;
    };
    net_t net({6, 8, 7, 3}, {.seed = 5}, hidden(1.2), hidden(3.2), {});
    for (auto& d : net.parameter("layer0.delay")) d = std::floor(d) + 0.2 + 0.6 * (d - std::floor(d));
    const auto batch = random_batch(4, 30, 6, 3, 0.2, 6);
    const auto all = [](const parameter_info&) { return true; };
    const auto r = check_gradients(net, batch, final_membrane_cross_entropy{}, all, 1e-6);
    CHECK(r.failed == 0);
    const auto delays_only = [](const parameter_info& info) { return info.kind == parameter_kind::delay; };
    const auto rd = check_gradients(net, batch, final_membrane_cross_entropy{}, delays_only, 1e-6);
    CHECK(rd.checked == 8 + 7);
    CHECK(rd.failed == 0);
}

TEST_CASE("a delay pushed outside its bounds by the optimiser is clamped") {
    delayed_net net({4, 3, 2}, {.seed = 3}, {.delay = {.max_steps = 5.}}, {});
    optimizer<sgd> opt(net.parameters(), 1.0);
    std::vector<float> grads(net.parameters().size(), 0.f);
    const auto& info = net.parameters().info(net.parameters().find("layer0.delay"));
    grads[info.offset] = -100.f;     // pushes delay 0 up to ~100
    grads[info.offset + 1] = 100.f;  // pushes delay 1 below zero
    opt.step(net.parameters(), grads);
    CHECK(net.parameter("layer0.delay")(0) == 5.f);
    CHECK(net.parameter("layer0.delay")(1) == 0.f);
}

TEST_CASE("a NaN delay raises the engine's NaN error during training") {
    delayed_net net({4, 3, 2}, {.seed = 3}, {.delay = {.max_steps = 5.}}, {});
    net.parameter("layer0.delay")(2) = NAN;
    trainer<delayed_net, final_membrane_cross_entropy, adam> fit(
        net, {.epochs = 1, .batch = 4, .progress = progress_mode::quiet});
    CHECK_THROWS_WITH_AS(fit.run(random_batch(8, 10, 4, 2, 0.3, 1)),
                         doctest::Contains("layer0.delay[2] is nan"), numeric_error);
}

TEST_CASE("the adaptive cap grows by one when the 85th-percentile delay nears it") {
    using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
    net_t net({4, 20, 2}, {.seed = 3},
              {.delay = {.max_steps = 10., .adaptive_cap = true, .adaptive_after_epoch = 2}}, {});
    auto d = net.parameter("layer0.delay");
    for (std::size_t j = 0; j < 20; ++j) d(j) = 1.f;
    const auto k = net.parameters().find("layer0.delay");
    net.end_epoch(5);
    CHECK(net.parameters().info(k).upper == 10.0);  // p85 = 1 is far below 10 - 5
    for (std::size_t j = 0; j < 20; ++j) d(j) = j < 3 ? 1.f : 6.f;  // p85 = 6 > 10 - 5
    net.end_epoch(1);
    CHECK(net.parameters().info(k).upper == 10.0);  // before adaptive_after_epoch
    net.end_epoch(2);
    CHECK(net.parameters().info(k).upper == 11.0);
}

namespace {

/// Two inputs fire once, k steps apart: class 0 when input 0 leads, class 1 when input 1
/// leads. With a short membrane time constant the first spike is forgotten before the second
/// arrives, so only a delay that realigns them can tell the order.
event_batch lead_task(std::size_t samples, std::uint64_t seed, std::uint32_t k = 6) {
    rng random(seed);
    event_batch batch(32, 2, 2);
    for (std::size_t b = 0; b < samples; ++b) {
        const auto label = static_cast<std::int32_t>(b % 2);
        const auto first = static_cast<std::uint32_t>(random.integer(1, 8));
        const std::vector<std::uint32_t> steps{first, first + k};
        const std::vector<std::uint32_t> units{label == 0 ? 0u : 1u, label == 0 ? 1u : 0u};
        batch.add_sample(steps, units, {}, label);
    }
    return batch;
}

template <class Delay>
double lead_accuracy(std::uint64_t seed) {
    // inputs -> 4 relay neurons (two per input, each with its own delay) -> 2 coincidence
    // detectors, one per class (spiking, Spikemax). Detector A needs input 0 delayed by k,
    // detector B needs input 1 delayed by k: one relay per (input, detector) pair.
    using relay = dense<lif, fast_sigmoid, Delay>;
    using detector = dense<lif, fast_sigmoid>;
    using net_t = network<relay, detector>;
    typename relay::options r;
    r.neuron = {.tau_ms = 1.0, .theta = 0.5};
    if constexpr (Delay::enabled) r.delay = {.max_steps = 12.};
    net_t net({2, 4, 2}, {.seed = seed, .threads = 1}, r,
              {.neuron = {.tau_ms = 1.0, .theta = 1.0}, .surrogate = {.alpha = 5.0},
               .init_scale = 1.});
    // The relays copy their input; training learns the delays and the detectors' weights.
    net.parameter("layer0.weight") = xt::xtensor<float, 2>{{1.f, 1.f, 0.f, 0.f}, {0.f, 0.f, 1.f, 1.f}};
    trainer<net_t, spikemax, adam> fit(
        net, {.lr = 0.05, .epochs = 80, .batch = 16, .seed = seed, .progress = progress_mode::quiet},
        spikemax{}, {}, {{.kind = parameter_kind::delay, .lr = 0.5}});
    fit.run(lead_task(64, seed), lead_task(64, seed + 100));
    if constexpr (Delay::enabled) {
        const auto d = net.parameter("layer0.delay");
        MESSAGE("learned delays " << d(0) << " " << d(1) << " " << d(2) << " " << d(3));
    }
    return fit.evaluate(lead_task(200, seed + 200)).accuracy();
}

}  // namespace

TEST_CASE("a task that only a delay can solve is solved with delays and not without") {
    const double with = lead_accuracy<axonal_delay>(1);
    const double without = lead_accuracy<no_delay>(1);
    MESSAGE("accuracy with delays " << with << ", without " << without);
    CHECK(with == doctest::Approx(1.0));
    CHECK(without <= 0.75);
}

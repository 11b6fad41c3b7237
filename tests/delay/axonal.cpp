// Learnable axonal delays: the exact shift at integer delays, the interpolated forward pass,
// gradients against finite differences, bounds, NaN, and a task that only a delay can solve.
#include "../support/finite_differences.hpp"
#include "../support/smooth_spike.hpp"

#include <spikegrad/io/parameters_npy.hpp>
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
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
                        {.delay = {.max_ms = 10., .forward = mode}, .init_scale = 4.}, {});
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
    delayed_net net({3, 2, 2}, {.seed = 2}, {.delay = {.max_ms = 8.}, .init_scale = 5.}, {});
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
        o.delay = {.max_ms = 9., .init_low = low, .init_high = low + 0.6};
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
    delayed_net net({4, 3, 2}, {.seed = 3}, {.delay = {.max_ms = 5.}}, {});
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
    // Width 3 runs the scalar loop only; 4W + 3 runs full batches of W neurons (the vector
    // gathers) and a scalar tail.
    constexpr std::size_t W = xsimd::batch<float>::size;
    for (const std::size_t width : {std::size_t(3), 4 * W + 3}) {
        CAPTURE(width);
        delayed_net net({4, width, 2}, {.seed = 3}, {.delay = {.max_ms = 5., .init_high = 5.}},
                        {});
        net.parameter("layer0.delay")(2) = NAN;
        trainer<delayed_net, final_membrane_cross_entropy, adam> fit(
            net, {.epochs = 1, .batch = 4, .progress = progress_mode::quiet});
        CHECK_THROWS_WITH_AS(fit.run(random_batch(8, 10, 4, 2, 0.3, 1)),
                             doctest::Contains("layer0.delay[2] is nan"), numeric_error);
    }
}

TEST_CASE_TEMPLATE("NaN, infinite and negative delays in a vector batch pass back nothing and do "
                   "not crash", S, float, double) {
    // Such a delay marks its neuron as never arriving. Its lanes sit among spread delays, so
    // the batch takes the gather path, whose index arithmetic once overflowed int32 on them
    // (a segfault from a d0.npy holding -0.5).
    constexpr std::size_t W = xsimd::batch<S>::size;
    const std::size_t n = 4 * W + 3, T = 40;
    rng random(12);
    axonal_delay::model<S> delay({.max_ms = 40.}, n);
    parameter_store<S> store;
    delay.declare(store, "layer0", random, time_grid{1.0, 0});
    S* d = store.flat().data() + store.info(delay.parameter_index()).offset;
    std::vector<bool> bad(n, false);
    const S bad_values[] = {S(-0.5), std::numeric_limits<S>::quiet_NaN(),
                            std::numeric_limits<S>::infinity(), S(-1e30)};
    for (std::size_t j = 0; j < n; ++j) {
        d[j] = S(39.5 * random.uniform());
        // One bad lane in batch 0, every lane of batch 1, two in batch 2, one in the tail.
        bad[j] = j == 1 || j / W == 1 || (j / W == 2 && j % 2 == 0) || j == n - 2;
        if (bad[j]) d[j] = bad_values[j % 4];
    }
    delay.prepare(store.flat().data());
    event_train<S> spikes;
    spikes.clear();
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t j = 0; j < n; ++j)
            if (random.uniform() < 0.3) spikes.units.push_back(static_cast<std::uint32_t>(j));
        spikes.offsets.push_back(spikes.units.size());
    }
    std::vector<S> g_y(T * n), g_x(T * n, S(-7)), grads(store.size(), S(0));
    for (auto& g : g_y) g = S(random.uniform(-1, 1));
    delay.backward(spikes, g_y.data(), T, g_x.data(), grads.data());
    auto at = [&](std::size_t t, std::size_t j) { return t < T ? g_y[t * n + j] : S(0); };
    const S* dd = grads.data() + (d - store.flat().data());
    for (std::size_t j = 0; j < n; ++j) {
        CAPTURE(j);
        if (bad[j]) {
            for (std::size_t t = 0; t < T; ++t) CHECK(g_x[t * n + j] == S(0));
            CHECK(dd[j] == S(0));
            continue;
        }
        const auto k = static_cast<std::size_t>(std::floor(d[j]));
        const S phi = d[j] - S(k);
        for (std::size_t t = 0; t < T; ++t)
            CHECK(g_x[t * n + j] ==
                  doctest::Approx((1 - phi) * at(t + k, j) + phi * at(t + k + 1, j)).epsilon(1e-6));
    }
    // Forward: the bad neurons' spikes never arrive.
    event_train<S> out;
    delay.forward(spikes, T, out);
    for (const auto j : out.units) CHECK_FALSE(bad[j]);
}

TEST_CASE("a parameter file with a negative or NaN delay raises a typed error naming the element") {
    constexpr std::size_t W = xsimd::batch<float>::size;
    const std::size_t width = 4 * W + 3;
    delayed_net net({4, width, 2}, {.seed = 3}, {.delay = {.max_ms = 5.}}, {});
    const auto folder = std::filesystem::temp_directory_path() / "spikegrad-tests" / "bad-delays";
    std::filesystem::remove_all(folder);
    io::save_parameters_npy(net, folder.string());
    const auto before = net.parameters().flat();
    std::vector<float> d(width, 1.0f);
    SUBCASE("negative") {
        d[3] = -0.5f;
        io::save_npy((folder / "d0.npy").string(), d);
        CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder.string()),
                             doctest::Contains("layer0.delay[3] = -0.5 is outside [0, 5]"),
                             data_error);
    }
    SUBCASE("above the cap") {
        d[width - 1] = 5.5f;
        io::save_npy((folder / "d0.npy").string(), d);
        const std::string expected =
            "layer0.delay[" + std::to_string(width - 1) + "] = 5.5 is outside [0, 5]";
        CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder.string()),
                             doctest::Contains(expected.c_str()), data_error);
    }
    SUBCASE("NaN") {
        d[W] = NAN;
        io::save_npy((folder / "d0.npy").string(), d);
        const std::string expected = "layer0.delay[" + std::to_string(W) + "] is nan";
        CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder.string()),
                             doctest::Contains(expected.c_str()), numeric_error);
    }
    SUBCASE("in range, at both bounds") {
        d[0] = 0.0f;
        d[1] = 5.0f;
        io::save_npy((folder / "d0.npy").string(), d);
        io::load_parameters_npy(net, folder.string());
        CHECK(net.parameter("layer0.delay")(0) == 0.0f);
        CHECK(net.parameter("layer0.delay")(1) == 5.0f);
        return;
    }
    CHECK(net.parameters().flat() == before);  // nothing changed
}

TEST_CASE("the adaptive cap grows by one when the 85th-percentile delay nears it") {
    using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
    net_t net({4, 20, 2}, {.seed = 3},
              {.delay = {.max_ms = 10., .adaptive_cap = true, .adaptive_after_epoch = 2}}, {});
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
double lead_accuracy(std::uint64_t seed, rounding_report* rounding = nullptr) {
    // inputs -> 4 relay neurons (two per input, each with its own delay) -> 2 coincidence
    // detectors, one per class (spiking, Spikemax). Detector A needs input 0 delayed by k,
    // detector B needs input 1 delayed by k: one relay per (input, detector) pair.
    using relay = dense<lif, fast_sigmoid, Delay>;
    using detector = dense<lif, fast_sigmoid>;
    using net_t = network<relay, detector>;
    typename relay::options r;
    r.neuron = {.tau_ms = 1.0, .theta = 0.5};
    if constexpr (Delay::enabled) r.delay = {.max_ms = 12.};
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
        if (rounding)
            *rounding = rounded_delay_accuracy(net, lead_task(200, seed + 200), spikemax{});
    }
    return fit.evaluate(lead_task(200, seed + 200)).accuracy();
}

}  // namespace

TEST_CASE("a task that only a delay can solve is solved with delays and not without") {
    rounding_report rounding;
    const double with = lead_accuracy<axonal_delay>(1, &rounding);
    const double without = lead_accuracy<no_delay>(1);
    MESSAGE("accuracy with delays " << with << ", without " << without);
    CHECK(with == doctest::Approx(1.0));
    CHECK(without <= 0.75);
    // Rounded to whole steps (integer-delay hardware) the model still solves the task far
    // better than without delays; what rounding costs is what the report is for.
    MESSAGE("accuracy with delays rounded to whole steps " << rounding.rounded_accuracy);
    CHECK(rounding.accuracy == doctest::Approx(with));
    CHECK(rounding.largest_change <= 0.5);
    CHECK(rounding.rounded_accuracy >= without + 0.3);
}

TEST_CASE("rounded delays are whole steps, and the rounded copy's report is its own evaluation") {
    delayed_net net({6, 5, 2}, {.seed = 4}, {.delay = {.max_ms = 10.0}, .init_scale = 4.0}, {});
    const std::vector<float> delays = {0.2f, 1.5f, 2.49f, 7.51f, 9.9f};
    for (std::size_t j = 0; j < 5; ++j) net.parameter("layer0.delay")(j) = delays[j];
    const auto exported = round_delays(net);
    REQUIRE(exported.size() == 1);
    CHECK(exported[0].parameter == "layer0.delay");
    CHECK(exported[0].steps == std::vector<std::int64_t>{0, 2, 2, 8, 10});
    CHECK(exported[0].largest_change == doctest::Approx(0.5));
    const auto rounded = with_rounded_delays(net);
    CHECK(net.parameter("layer0.delay")(1) == 1.5f);  // the original is untouched
    const auto batch = random_batch(8, 25, 6, 2, 0.3, 5);
    const auto report = rounded_delay_accuracy(net, batch, final_membrane_cross_entropy{});
    CHECK(report.loss == doctest::Approx(net.evaluate(batch, final_membrane_cross_entropy{}).loss()));
    CHECK(report.rounded_loss ==
          doctest::Approx(rounded.evaluate(batch, final_membrane_cross_entropy{}).loss()));
    // With whole-step delays the interpolated forward pass equals SLAYER's integer shift.
    delayed_net shifted({6, 5, 2}, {.seed = 4},
                        {.delay = {.max_ms = 10.0, .forward = axonal_delay::mode::shift},
                         .init_scale = 4.0}, {});
    shifted.parameters().flat() = rounded.parameters().flat();
    CHECK(shifted.forward(batch) == rounded.forward(batch));
}

TEST_CASE_TEMPLATE("the delay's backward pass equals its formula for narrow and spread delays", S,
                   float, double) {
    // Batches of neurons whose whole steps are equal, within two steps, or spread out take
    // different vector paths (row loads, blends, gathers); all must give
    // g_x[t, j] = (1 - phi) g_y[t + k, j] + phi g_y[t + k + 1, j] (zero past T) and
    // dL/dd_j = sum over spikes at t of g_y[t + k + 1, j] - g_y[t + k, j].
    constexpr std::size_t W = xsimd::batch<S>::size;
    const std::size_t n = 4 * W + 3, T = 30;
    rng random(11);
    axonal_delay::model<S> delay({.max_ms = 40.}, n);
    parameter_store<S> store;
    delay.declare(store, "layer0", random, time_grid{1.0, 0});
    S* d = store.flat().data() + store.info(delay.parameter_index()).offset;
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t group = j / W;
        const double u = random.uniform();
        d[j] = S(group == 0   ? 2 + 0.9 * u               // one whole step
                 : group == 1 ? 5 + 2.9 * u               // within two steps
                 : group == 2 ? 39.5 * u                  // spread: gathers
                 : group == 3 ? (j % 2 ? 29.25 : 28.5)    // at the end of the sequence
                              : 40 * u);                  // the scalar tail
    }
    delay.prepare(store.flat().data());
    event_train<S> spikes;
    spikes.clear();
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t j = 0; j < n; ++j)
            if (random.uniform() < 0.2) spikes.units.push_back(static_cast<std::uint32_t>(j));
        spikes.offsets.push_back(spikes.units.size());
    }
    std::vector<S> g_y(T * n), g_x(T * n, S(-7)), grads(store.size(), S(0));
    for (auto& g : g_y) g = S(random.uniform(-1, 1));
    delay.backward(spikes, g_y.data(), T, g_x.data(), grads.data());
    auto at = [&](std::size_t t, std::size_t j) { return t < T ? g_y[t * n + j] : S(0); };
    std::vector<S> dd(n, S(0));
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t j = 0; j < n; ++j) {
            const auto k = static_cast<std::size_t>(std::floor(d[j]));
            const S phi = d[j] - S(k);
            CHECK(g_x[t * n + j] ==
                  doctest::Approx((1 - phi) * at(t + k, j) + phi * at(t + k + 1, j)).epsilon(1e-6));
        }
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t e = spikes.offsets[t]; e < spikes.offsets[t + 1]; ++e) {
            const std::size_t j = spikes.units[e];
            const auto k = static_cast<std::size_t>(std::floor(d[j]));
            dd[j] += at(t + k + 1, j) - at(t + k, j);
        }
    for (std::size_t j = 0; j < n; ++j) CHECK(grads[j + (d - store.flat().data())] == doctest::Approx(dd[j]).epsilon(1e-6));
}

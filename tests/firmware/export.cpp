// The firmware kernels (firmware/kernels.hpp, run here at run-time sizes by firmware_runner)
// against the host training engine's float forward pass: bit-identical membranes, spikes and
// predictions in float; fixed point within its stated bound. Registered with SPIKEGRAD_ISA=sse2
// (separate multiply and add, as the firmware build's -ffp-contract=off).
#include "../support/finite_differences.hpp"

#include <spikegrad/firmware/export.hpp>
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace spikegrad;
using spikegrad::testing::random_batch;

namespace {

using delayed_lif = dense<lif, fast_sigmoid, axonal_delay>;
using delayed_net = network<delayed_lif, delayed_lif, dense<readout>>;

delayed_net make_delayed(reset_mode reset, axonal_delay::mode mode, std::uint64_t seed) {
    const axonal_delay::params delays{.max_ms = 8, .init_low = 0, .init_high = 6, .forward = mode};
    return delayed_net({12, 24, 16, 3}, {.dt_ms = 1.0, .seed = seed},
                       {.neuron = {.tau_ms = 10, .theta = 1.0, .reset = reset},
                        .delay = delays, .init_scale = 3.0},
                       {.neuron = {.tau_ms = 15, .theta = 0.8, .reset = reset},
                        .delay = delays, .init_scale = 3.0},
                       {.neuron = {.tau_ms = 20}});
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Runs every sample through the float firmware kernels and compares each step's readout
/// membrane with the host's record bit for bit; returns the number of spikes seen.
template <class Net>
std::size_t check_float_identical(const Net& net, const event_batch& batch) {
    const auto record = net.forward(batch);
    const auto model = make_firmware_model(net, {.rule = firmware::score_rule::last});
    firmware_runner<float, float> runner(model);
    const std::size_t T = batch.n_steps, n = net.n_outputs();
    std::size_t mismatches = 0, spikes = 0;
    for (std::size_t b = 0; b < batch.n_samples; ++b) {
        runner.reset();
        const auto sample = batch.sample(b);
        for (std::size_t t = 0; t < T; ++t) {
            std::vector<std::uint16_t> units;
            for (std::size_t e = sample.begin(t); e < sample.end(t); ++e)
                units.push_back(static_cast<std::uint16_t>(sample.units[e]));
            const float* v = runner.push(units.data(), units.size());
            for (std::size_t i = 0; i < n; ++i)
                if (!same_bits(v[i], record(b, t, i))) ++mismatches;
            for (std::uint32_t w : runner.spikes(0)) spikes += std::popcount(w);
        }
    }
    CHECK(mismatches == 0);
    return spikes;
}

}  // namespace

TEST_CASE("float firmware equals the host forward bit for bit with interpolated delays") {
    for (auto reset : {reset_mode::subtract, reset_mode::zero}) {
        CAPTURE(static_cast<int>(reset));
        const auto net = make_delayed(reset, axonal_delay::mode::interpolate, 3);
        const auto batch = random_batch(6, 40, 12, 3, 0.15, 7);
        // The spikes make the comparison meaningful (every layer active).
        CHECK(check_float_identical(net, batch) > 100);
    }
}

TEST_CASE("float firmware equals the host forward bit for bit with integer-shift delays") {
    const auto net = make_delayed(reset_mode::subtract, axonal_delay::mode::shift, 5);
    CHECK(check_float_identical(net, random_batch(6, 40, 12, 3, 0.15, 9)) > 100);
}

TEST_CASE("float firmware equals the host forward bit for bit without delays, with biases") {
    using net_t = network<dense<lif>, dense<lif>, dense<readout>>;
    net_t net({10, 20, 14, 4}, {.dt_ms = 1.0, .seed = 2},
              {.neuron = {.tau_ms = 8}, .init_scale = 3.0},
              {.neuron = {.tau_ms = 12, .reset = reset_mode::zero}, .init_scale = 3.0},
              {.neuron = {.tau_ms = 30}});
    // Nonzero biases, so that the bias row is part of the comparison.
    for (auto name : {"layer0.bias", "layer1.bias", "layer2.bias"}) {
        auto b = net.parameter(name);
        for (std::size_t j = 0; j < b.size(); ++j) b(j) = 0.05f * float(j % 5) - 0.1f;
    }
    CHECK(check_float_identical(net, random_batch(5, 50, 10, 4, 0.2, 4)) > 100);
}

TEST_CASE("float firmware predictions equal the host's for max and mean scores") {
    const auto net = make_delayed(reset_mode::subtract, axonal_delay::mode::interpolate, 8);
    const auto batch = random_batch(20, 40, 12, 3, 0.15, 21);
    const auto record = net.forward(batch);
    for (auto rule : {firmware::score_rule::max, firmware::score_rule::mean}) {
        const auto model = make_firmware_model(net, {.rule = rule});
        const auto scored = firmware_accuracy(model, batch);
        std::vector<float> host(3);
        for (std::size_t b = 0; b < batch.n_samples; ++b) {
            if (rule == firmware::score_rule::max)
                max_membrane_cross_entropy{}.scores(&record(b, 0, 0), batch.n_steps, 3, host.data());
            else
                mean_membrane_cross_entropy{}.scores(&record(b, 0, 0), batch.n_steps, 3, host.data());
            CHECK(scored.predictions[b] == int(std::max_element(host.begin(), host.end()) - host.begin()));
        }
    }
}

TEST_CASE("int16 and int8 firmware stay within their bound of the float membranes") {
    // Bound (stated in docs/firmware.md): with no delays, per-layer weight scales and Q15 leaks, the readout membrane differs from float by less than 0.1% (int16) and 5%
    // (int8) of the float membrane's largest magnitude, averaged over steps; spike flips at the
    // threshold are what makes int8 larger.
    using net_t = network<dense<lif>, dense<readout>>;
    net_t net({16, 32, 4}, {.dt_ms = 1.0, .seed = 6}, {.neuron = {.tau_ms = 10}, .init_scale = 3.0},
              {.neuron = {.tau_ms = 20}});
    const auto batch = random_batch(10, 60, 16, 4, 0.15, 12);
    const auto record = net.forward(batch);
    double top = 0;
    for (float v : record) top = std::max(top, std::fabs(double(v)));
    for (auto [format, bound] : {std::pair{firmware::number_format::int16, 0.001},
                                 std::pair{firmware::number_format::int8, 0.05}}) {
        CAPTURE(static_cast<int>(format));
        const auto model = make_firmware_model(net, {.format = format});
        double error = 0;
        const auto run = [&](auto runner) {
            const float scale = model.layers.back().scale;
            for (std::size_t b = 0; b < batch.n_samples; ++b) {
                runner.reset();
                const auto sample = batch.sample(b);
                for (std::size_t t = 0; t < batch.n_steps; ++t) {
                    std::vector<std::uint16_t> units;
                    for (std::size_t e = sample.begin(t); e < sample.end(t); ++e)
                        units.push_back(static_cast<std::uint16_t>(sample.units[e]));
                    const auto* v = runner.push(units.data(), units.size());
                    for (std::size_t i = 0; i < 4; ++i)
                        error += std::fabs(double(v[i]) * scale - double(record(b, t, i)));
                }
            }
        };
        if (format == firmware::number_format::int16)
            run(firmware_runner<std::int16_t, std::int32_t>(model));
        else
            run(firmware_runner<std::int8_t, std::int32_t>(model));
        error /= double(batch.n_samples * batch.n_steps * 4);
        MESSAGE("mean |error| / max|v| = ", error / top);
        CHECK(error / top < bound);
        CHECK(error > 0);  // the formats do quantise
        // The weight errors are at most half a step of the scale.
        for (const auto& L : model.layers) CHECK(L.error.weight_max <= 0.5 * L.scale * 1.0001);
    }
}

TEST_CASE("fixed-point leaks as shifts use beta = 1 - 2^-shift") {
    using net_t = network<dense<lif>, dense<readout>>;
    net_t net({4, 6, 2}, {.dt_ms = 1.0, .seed = 1}, {.neuron = {.tau_ms = 16}},
              {.neuron = {.tau_ms = 32}});
    const auto model = make_firmware_model(
        net, {.format = firmware::number_format::int8, .decay = firmware::decay_kind::shift});
    // exp(-1/16) = 0.9394: 1 - beta = 0.0606 ~ 2^-4.04 -> shift 4; exp(-1/32): shift 5.
    CHECK(int(model.layers[0].decay_shift[0]) == 4);
    CHECK(int(model.layers[1].decay_shift[0]) == 5);
    CHECK(model.layers[0].error.beta_max == doctest::Approx(std::fabs(0.9375 - std::exp(-1.0 / 16))));
}

TEST_CASE("export_firmware writes a header of constexpr arrays with exact float literals") {
    using net_t = network<dense<lif>, dense<readout>>;
    net_t net({3, 5, 2}, {.dt_ms = 2.0, .seed = 4}, {}, {});
    const auto path = std::filesystem::temp_directory_path() / "spikegrad_firmware_model.hpp";
    export_firmware(net, path.string(), {.name = "tiny"});
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    CHECK(s.find("namespace tiny {") != std::string::npos);
    CHECK(s.find("inline constexpr float layer0_weight[15]") != std::string::npos);
    CHECK(s.find("using network = spikegrad::firmware::engine<spikegrad::firmware::score_rule::last, layer0, layer1>;") != std::string::npos);
    // The first weight as a hex float literal, exactly.
    char first[48];
    std::snprintf(first, sizeof first, "%af,", double(net.parameter("layer0.weight")(0, 0)));
    CHECK(s.find(first) != std::string::npos);
    std::filesystem::remove(path);
}

TEST_CASE("export_firmware rejects a NaN delay and a score rule that does not fit the last layer") {
    auto net = make_delayed(reset_mode::subtract, axonal_delay::mode::interpolate, 1);
    CHECK_THROWS_AS(make_firmware_model(net, {.rule = firmware::score_rule::count}), option_error);
    net.parameter("layer1.delay")(3) = std::nanf("");
    CHECK_THROWS_WITH_AS(make_firmware_model(net), doctest::Contains("layer1: delay of neuron 3"),
                         numeric_error);
}

// The rectifier turns dense<lif> at threshold 0 and one step into a ReLU layer: the MLP
// baseline on spike counts runs on the engine.
#include "../support/finite_differences.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace spikegrad;

namespace {

using mlp = basic_network<double, dense<lif, rectifier>, dense<readout>>;

mlp make_mlp() {
    return mlp({4, 6, 3}, {.seed = 7}, {.neuron = {.theta = 0.0}, .init_scale = 2.0}, {});
}

/// Counts as one step of weighted events.
event_batch counts_batch() {
    event_batch batch(1, 4, 3);
    const std::vector<std::vector<float>> counts = {{3, 0, 1, 2}, {0, 5, 2, 1}, {1, 1, 0, 4}};
    for (std::size_t b = 0; b < counts.size(); ++b) {
        std::vector<std::uint32_t> steps, units;
        std::vector<float> values;
        for (std::uint32_t i = 0; i < 4; ++i)
            if (counts[b][i] > 0) {
                steps.push_back(0);
                units.push_back(i);
                values.push_back(counts[b][i]);
            }
        batch.add_sample(steps, units, values, static_cast<std::int32_t>(b));
    }
    return batch;
}

}  // namespace

TEST_CASE("a one-step network of rectifier units computes relu(x W1 + b1) W2 + b2") {
    auto net = make_mlp();
    net.parameter("layer0.bias") = xt::xtensor<double, 1>{0.1, -0.2, 0.3, 0.0, -0.5, 0.2};
    const auto batch = counts_batch();
    const auto out = net.forward(batch);
    const auto W1 = net.parameter("layer0.weight"), b1 = net.parameter("layer0.bias");
    const auto W2 = net.parameter("layer1.weight"), b2 = net.parameter("layer1.bias");
    const auto x = raster_from_events<double>(batch);
    for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t o = 0; o < 3; ++o) {
            double expected = b2(o);
            for (std::size_t h = 0; h < 6; ++h) {
                double a = b1(h);
                for (std::size_t i = 0; i < 4; ++i) a += x(0, b, i) * W1(i, h);
                expected += std::max(0.0, a) * W2(h, o);
            }
            CHECK(out(b, 0, o) == doctest::Approx(expected).epsilon(1e-12));
        }
}

TEST_CASE("the rectifier MLP's gradients equal central differences") {
    auto net = make_mlp();
    const auto all = [](const parameter_info&) { return true; };
    const auto r = spikegrad::testing::check_gradients(net, counts_batch(),
                                                       final_membrane_cross_entropy{}, all, 1e-6, 1e-5);
    CHECK(r.failed == 0);
}

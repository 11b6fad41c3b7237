// BPTT against central finite differences, in double precision. With the test-only smooth
// spike the whole forward pass is differentiable, so every gradient must match; with the real
// Heaviside only the readout/loss path is differentiable, and it must match there.
#include "../support/finite_differences.hpp"
#include "../support/smooth_spike.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

using namespace spikegrad;
using spikegrad::testing::check_gradients;
using spikegrad::testing::random_batch;
using spikegrad::testing::smooth_spike;

namespace {

const auto everything = [](const parameter_info&) { return true; };

lif::params smooth_lif(reset_mode reset, tau_training tau) {
    return {.tau_ms = 8.f, .theta = 1., .reset = reset, .detach_reset = false, .train_tau = tau,
            .tau_min_ms = 1.f, .tau_max_ms = 100.f};
}

}  // namespace

TEST_CASE("every gradient of a 2-hidden-layer LIF network equals central differences") {
    using net_t = basic_network<double, dense<lif, smooth_spike>, dense<lif, smooth_spike>,
                                dense<readout, smooth_spike>>;
    for (auto reset : {reset_mode::subtract, reset_mode::zero}) {
        CAPTURE(static_cast<int>(reset));
        net_t net({6, 8, 7, 3}, {.dt_ms = 1.0, .seed = 11},
                  {.neuron = smooth_lif(reset, tau_training::per_neuron), .init_scale = 2.},
                  {.neuron = smooth_lif(reset, tau_training::shared), .init_scale = 2.},
                  {.neuron = {.tau_ms = 6.f, .train_tau = tau_training::shared}});
        const auto batch = random_batch(4, 25, 6, 3, 0.2, 5);
        const auto result =
            check_gradients(net, batch, final_membrane_cross_entropy{}, everything, 1e-6);
        CHECK(result.checked == net.parameters().size());
        CHECK_MESSAGE(result.failed == 0, "worst " << result.worst_name << " "
                                                   << result.worst_relative);
    }
}

TEST_CASE("gradients with respect to trainable LIF thresholds equal central differences") {
    using net_t = basic_network<double, dense<lif, smooth_spike>, dense<lif, smooth_spike>,
                                dense<readout>>;
    // The reset is differentiated (detach_reset = false): only then is BPTT the exact gradient
    // of the smooth forward pass that finite differences measure.
    for (auto reset : {reset_mode::subtract, reset_mode::zero}) {
        {
            CAPTURE(static_cast<int>(reset));
            lif::params first = smooth_lif(reset, tau_training::shared);
            first.train_theta = training::per_neuron;
            lif::params second = first;
            second.theta = 0.7;
            second.train_theta = training::shared;
            net_t net({6, 8, 7, 3}, {.dt_ms = 2.0, .seed = 12},
                      {.neuron = first, .init_scale = 2.}, {.neuron = second, .init_scale = 2.}, {});
            CHECK(net.parameter("layer0.threshold").size() == 8);
            CHECK(net.parameter("layer1.threshold").size() == 1);
            const auto batch = random_batch(4, 25, 6, 3, 0.2, 6);
            const auto result =
                check_gradients(net, batch, final_membrane_cross_entropy{}, everything, 1e-6);
            CHECK(result.checked == net.parameters().size());
            CHECK_MESSAGE(result.failed == 0, "worst " << result.worst_name << " "
                                                       << result.worst_relative);
        }
    }
}

TEST_CASE("gradients of spike-count losses on a spiking output equal central differences") {
    using net_t = basic_network<double, dense<lif, smooth_spike>, dense<lif, smooth_spike>,
                                dense<lif, smooth_spike>>;
    net_t net({5, 7, 6, 4}, {.seed = 3},
              {.neuron = smooth_lif(reset_mode::subtract, tau_training::fixed), .init_scale = 2.},
              {.neuron = smooth_lif(reset_mode::subtract, tau_training::fixed), .init_scale = 2.},
              {.neuron = smooth_lif(reset_mode::subtract, tau_training::shared), .init_scale = 2.});
    const auto batch = random_batch(3, 30, 5, 4, 0.25, 9);
    SUBCASE("spike_rate") {
        const auto r = check_gradients(net, batch, spike_rate{}, everything, 1e-6);
        CHECK(r.failed == 0);
    }
    SUBCASE("count_mse") {
        const auto r = check_gradients(net, batch, count_mse{}, everything, 1e-6);
        CHECK(r.failed == 0);
    }
    SUBCASE("count_cross_entropy") {
        const auto r = check_gradients(net, batch, count_cross_entropy{}, everything, 1e-6);
        CHECK(r.failed == 0);
    }
    SUBCASE("spikemax softmax form with a sliding window") {
        const auto r = check_gradients(
            net, batch, spikemax{.kind = spikemax::form::softmax, .window = 10, .scale = 4.f},
            everything, 1e-6);
        CHECK(r.failed == 0);
    }
}

TEST_CASE("the readout and loss path matches central differences with the real Heaviside") {
    using net_t = basic_network<double, dense<lif>, dense<lif>, dense<readout>>;
    net_t net({8, 12, 10, 3}, {.seed = 4}, {.init_scale = 3.}, {.init_scale = 3.},
              {.neuron = {.tau_ms = 10.f, .train_tau = tau_training::per_neuron}});
    const auto batch = random_batch(5, 40, 8, 3, 0.3, 2);
    const auto readout_only = [](const parameter_info& info) {
        return info.name.rfind("layer2.", 0) == 0;
    };
    // Small steps: hidden spikes do not move, but the max-membrane argmax may switch step.
    // Rounding then limits the quotient to ~1e-11 (an effective floor of 1e-4).
    SUBCASE("final-step membrane cross-entropy") {
        const auto r = check_gradients(net, batch, final_membrane_cross_entropy{}, readout_only,
                                       1e-6, 1e-5, 1e-6);
        CHECK(r.checked == 10 * 3 + 3 + 3);
        CHECK(r.failed == 0);
    }
    SUBCASE("max-over-time membrane cross-entropy") {
        const auto r = check_gradients(net, batch, max_membrane_cross_entropy{}, readout_only,
                                       1e-6, 1e-5, 1e-6);
        CHECK(r.checked == 10 * 3 + 3 + 3);
        CHECK(r.failed == 0);
    }
}

namespace {

/// A surrogate with its support() hidden: the engine cannot tell where its gradient is zero,
/// so it computes every input gradient (the dense reference of the sparse path).
template <class Surrogate>
struct hide_support {
    Surrogate inner{};
    static constexpr bool binary = Surrogate::binary;
    static constexpr const char* name = "hide_support";
    template <class V>
    V spike(const V& x) const {
        return inner.spike(x);
    }
    template <class V>
    V grad(const V& x) const {
        return inner.grad(x);
    }
};

/// Loss and every gradient of one train_step of a and of b agree (to rounding: the skipped
/// input gradients are dot products instead of a matrix product).
template <class A, class B>
void check_same_gradients(A& a, B& b, const event_batch& batch) {
    REQUIRE(a.parameters().flat() == b.parameters().flat());
    const auto sa = a.train_step(batch, max_membrane_cross_entropy{});
    const auto sb = b.train_step(batch, max_membrane_cross_entropy{});
    CHECK(sa.loss() == sb.loss());
    double largest = 0;
    for (double g : b.gradients()) largest = std::max(largest, std::abs(g));
    REQUIRE(largest > 0);
    std::size_t different = 0;
    for (std::size_t k = 0; k < a.gradients().size(); ++k)
        if (std::abs(a.gradients()[k] - b.gradients()[k]) > 1e-12 * largest) ++different;
    CHECK(different == 0);
}

}  // namespace

TEST_CASE("with a sparse gradient threshold, skipping input gradients changes no gradient") {
    // Perez-Nieves and Goodman's threshold cuts the surrogate to |v - theta| <= threshold and
    // lets the layer above compute input gradients only there: the gradients must equal the
    // dense computation with the cut surrogate. So must those of a surrogate of finite
    // support (boxcar), which takes the sparse path by itself.
    const lif::params neuron{.tau_ms = 8., .theta = 1.};
    const auto batch = random_batch(5, 40, 10, 3, 0.3, 13);
    for (const double threshold : {0.05, 0.3, 2.0}) {
        CAPTURE(threshold);
        using sparse_t = basic_network<double, dense<lif>, dense<lif>, dense<readout>>;
        using cut = hide_support<windowed<fast_sigmoid>>;
        using dense_t = basic_network<double, dense<lif, cut>, dense<lif, cut>, dense<readout>>;
        sparse_t sparse(
            {10, 24, 19, 3}, {.seed = 12},
            {.neuron = neuron, .init_scale = 3., .sparse_gradient_threshold = threshold},
            {.neuron = neuron, .init_scale = 3., .sparse_gradient_threshold = threshold}, {});
        const cut surrogate{{.window = threshold}};
        dense_t reference({10, 24, 19, 3}, {.seed = 12},
                          {.neuron = neuron, .surrogate = surrogate, .init_scale = 3.},
                          {.neuron = neuron, .surrogate = surrogate, .init_scale = 3.}, {});
        CHECK(sparse.layer<0>().sparse_output_gradient());
        CHECK(!reference.layer<0>().sparse_output_gradient());
        check_same_gradients(sparse, reference, batch);
    }
    using box_t = basic_network<double, dense<lif, boxcar>, dense<lif, boxcar>, dense<readout>>;
    using box_dense_t = basic_network<double, dense<lif, hide_support<boxcar>>,
                                      dense<lif, hide_support<boxcar>>, dense<readout>>;
    box_t box({10, 24, 19, 3}, {.seed = 12},
              {.neuron = neuron, .surrogate = {.width = 0.6}, .init_scale = 3.},
              {.neuron = neuron, .surrogate = {.width = 0.6}, .init_scale = 3.}, {});
    box_dense_t box_reference(
        {10, 24, 19, 3}, {.seed = 12},
        {.neuron = neuron, .surrogate = {{.width = 0.6}}, .init_scale = 3.},
        {.neuron = neuron, .surrogate = {{.width = 0.6}}, .init_scale = 3.}, {});
    CHECK(box.layer<0>().sparse_output_gradient());
    check_same_gradients(box, box_reference, batch);
}

TEST_CASE("weight-normalised layers: gradients of v and g equal central differences") {
    using net_t = basic_network<double, dense<lif, smooth_spike>, dense<lif, smooth_spike>,
                                dense<readout, smooth_spike>>;
    net_t net({6, 8, 7, 3}, {.dt_ms = 1.0, .seed = 21},
              {.neuron = smooth_lif(reset_mode::subtract, tau_training::shared), .init_scale = 2.,
               .weight_norm = true},
              {.neuron = smooth_lif(reset_mode::zero, tau_training::fixed), .init_scale = 2.,
               .weight_norm = true},
              {.neuron = {.tau_ms = 6.f, .train_tau = tau_training::shared}, .weight_norm = true});
    CHECK(net.parameter("layer0.gain").size() == 8);
    CHECK(net.parameter("layer2.gain").size() == 3);
    // Move the gains away from |v| so that the normalisation is not the identity.
    for (auto& g : net.parameter("layer0.gain")) g *= 1.7;
    for (auto& g : net.parameter("layer1.gain")) g *= 0.6;
    const auto batch = random_batch(4, 25, 6, 3, 0.2, 5);
    const auto result =
        check_gradients(net, batch, final_membrane_cross_entropy{}, everything, 1e-6);
    CHECK(result.checked == net.parameters().size());
    CHECK_MESSAGE(result.failed == 0, "worst " << result.worst_name << " " << result.worst_relative);
}

TEST_CASE("a weight-normalised network computes what plain weights g v / |v| compute") {
    using plain_t = basic_network<double, dense<lif>, dense<readout>>;
    plain_t normalised({5, 9, 3}, {.seed = 4}, {.init_scale = 3., .weight_norm = true},
                       {.weight_norm = true});
    plain_t plain({5, 9, 3}, {.seed = 99}, {.init_scale = 3.}, {});
    // The gains start at |v|: the initial weights are the unnormalised draw.
    for (const char* layer : {"layer0", "layer1"}) {
        const double* v = normalised.parameter(std::string(layer) + ".weight").data();
        const std::size_t v_size = normalised.parameter(std::string(layer) + ".weight").size();
        auto gain = normalised.parameter(std::string(layer) + ".gain");
        double* g = gain.data();
        const std::size_t n_out = gain.size(), n_in = v_size / n_out;
        for (std::size_t j = 0; j < n_out; ++j) {
            double norm2 = 0;
            for (std::size_t i = 0; i < n_in; ++i) norm2 += v[i * n_out + j] * v[i * n_out + j];
            CHECK(g[j] == doctest::Approx(std::sqrt(norm2)).epsilon(1e-12));
        }
        // Rescale gains and set the plain network's weights to the closed form.
        for (std::size_t j = 0; j < n_out; ++j) g[j] *= 0.5 + 0.25 * double(j % 4);
        double* w = plain.parameter(std::string(layer) + ".weight").data();
        for (std::size_t j = 0; j < n_out; ++j) {
            double norm2 = 0;
            for (std::size_t i = 0; i < n_in; ++i) norm2 += v[i * n_out + j] * v[i * n_out + j];
            for (std::size_t i = 0; i < n_in; ++i)
                w[i * n_out + j] = g[j] * v[i * n_out + j] / std::sqrt(norm2);
        }
        auto b = plain.parameter(std::string(layer) + ".bias");
        auto nb = normalised.parameter(std::string(layer) + ".bias");
        std::copy(nb.data(), nb.data() + nb.size(), b.data());
    }
    const auto batch = random_batch(3, 40, 5, 3, 0.3, 8);
    const auto a = normalised.forward(batch), c = plain.forward(batch);
    REQUIRE(a.size() == c.size());
    double worst = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        worst = std::max(worst, std::abs(a.data()[k] - c.data()[k]));
    CHECK(worst < 1e-12);
}

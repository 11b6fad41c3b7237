// Tests of SpikingGamma (issue 14): the bucket cascade against the closed-form discrete gamma
// kernel and its mean delay, the sigma-delta coder's error bound and its spike count across
// dt, and the gradient engines: online_exact equals unrolled BPTT to 1e-9 in double,
// unrolled agrees with central finite differences, online_instantaneous is exact for one layer.
#include "../support/finite_differences.hpp"

#include <spikegrad/gamma/buckets.hpp>
#include <spikegrad/gamma/network.hpp>
#include <spikegrad/gamma/sigma_delta.hpp>
#include <spikegrad/loss/per_step_cross_entropy.hpp>
#include <spikegrad/train/checkpoint.hpp>
#include <spikegrad/train/trainer.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

using namespace spikegrad;

namespace {

/// Unit impulse at step 0 through a cascade of K buckets: h[t][k].
std::vector<std::vector<double>> impulse_response(std::size_t K, double alpha, std::size_t T) {
    std::vector<double> b(K, 0.0);
    std::vector<std::vector<double>> out;
    for (std::size_t t = 0; t < T; ++t) {
        gamma_leak(b.data(), 1, K, alpha);
        if (t == 0) b[0] += 1.0;
        out.push_back(b);
    }
    return out;
}

/// A random batch of input spikes: each unit fires with probability `rate` per step.
event_batch random_batch(std::size_t samples, std::size_t T, std::size_t units, std::size_t classes,
                         double rate, std::uint64_t seed) {
    event_batch batch(T, units, classes);
    rng random(seed);
    for (std::size_t b = 0; b < samples; ++b) {
        std::vector<std::uint32_t> steps, ids;
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < units; ++i)
                if (random.bernoulli(rate)) {
                    steps.push_back(std::uint32_t(t));
                    ids.push_back(std::uint32_t(i));
                }
        batch.add_sample(steps, ids, {}, std::int32_t(b % classes));
    }
    return batch;
}

template <std::size_t Depth>
gamma_network<double, Depth> make_net(std::vector<std::size_t> sizes, gamma_training mode,
                                      double theta, bucket_weights weights, std::uint64_t seed) {
    gamma_network<double, Depth> net(
        std::move(sizes),
        {.dt_ms = 1.0, .seed = seed, .threads = 1, .training = mode, .coder = {.theta = theta}},
        {{.buckets = 3, .tau_ms = 4, .weights = weights, .init_scale = 2.0}});
    // Positive biases keep most ReLUs active, so gradients reach the lower layers.
    for (std::size_t l = 0; l < Depth; ++l) {
        auto v = net.parameters().values(net.parameters().find("layer" + std::to_string(l) + ".bias"));
        for (auto& x : v) x = 0.2;
    }
    return net;
}

template <std::size_t Depth>
std::vector<double> gradients_of(gamma_network<double, Depth> net, gamma_training mode,
                                 const event_batch& batch, const per_step_cross_entropy& loss) {
    net.set_training(mode);
    net.train_step(batch, loss);
    return net.gradients();
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double top = 0, scale = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        top = std::max(top, std::abs(a[k] - b[k]));
        scale = std::max(scale, std::abs(b[k]));
    }
    return top / scale;
}

}  // namespace

TEST_CASE("gamma bucket k's impulse response equals the closed-form discrete gamma kernel") {
    for (double tau_steps : {1.5, 7.0, 40.0}) {
        const double alpha = std::exp(-1.0 / tau_steps);
        const std::size_t K = 6, T = 400;
        const auto h = impulse_response(K, alpha, T);
        double worst = 0;
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t k = 1; k <= K; ++k) {
                const double expected = gamma_kernel(k, t, alpha);
                worst = std::max(worst, std::abs(h[t][k - 1] - expected) / std::max(1e-300, 1e-3 + expected));
            }
        CHECK(worst < 1e-12);
        // Binomial form by hand at one point: k = 3, t = 5: C(5,2) (1-a)^2 a^3.
        CHECK(h[5][2] == doctest::Approx(10 * (1 - alpha) * (1 - alpha) * alpha * alpha * alpha).epsilon(1e-13));
        CHECK(h[1][2] == 0.0);  // bucket 3 is empty until step 2
    }
}

TEST_CASE("gamma bucket k's mean delay is k / (1 - alpha) - 1 steps and tends to k tau as dt shrinks") {
    const double tau_ms = 5;
    for (double dt : {1.0, 0.5, 0.1}) {
        const double alpha = std::exp(-dt / tau_ms);
        const std::size_t K = 4, T = std::size_t(40 * K * tau_ms / dt);
        const auto h = impulse_response(K, alpha, T);
        for (std::size_t k = 1; k <= K; ++k) {
            double mass = 0, first = 0, second = 0;
            for (std::size_t t = 0; t < T; ++t) {
                mass += h[t][k - 1];
                first += double(t) * h[t][k - 1];
                second += double(t) * double(t) * h[t][k - 1];
            }
            const double mean = first / mass;
            CHECK(mass == doctest::Approx(1 / (1 - alpha)).epsilon(1e-9));
            CHECK(mean == doctest::Approx(double(k) / (1 - alpha) - 1).epsilon(1e-9));
            CHECK(mean == doctest::Approx(gamma_mean_delay_steps(k, alpha)).epsilon(1e-9));
            CHECK(second / mass - mean * mean ==
                  doctest::Approx(gamma_delay_variance_steps(k, alpha)).epsilon(1e-8));
            // In ms: k tau + (k / 2 - 1) dt + O(dt^2 / tau).
            CHECK(std::abs(mean * dt - double(k) * tau_ms) <= double(k) * dt);
        }
    }
}

TEST_CASE("sigma-delta reconstruction error never exceeds theta on random signals") {
    rng random(7);
    for (double theta : {0.01, 0.1, 1.0}) {
        sigma_delta_encoder<double> coder({.theta = theta}, 1.0);
        const std::size_t n = 8;
        std::vector<double> y(n, 0.0), r(n, 0.0);
        std::vector<long> m(n, 0);
        double worst = 0;
        std::size_t spikes = 0;
        for (std::size_t t = 0; t < 20000; ++t) {
            for (std::size_t i = 0; i < n; ++i) {
                y[i] += random.normal(0.0, theta * (i + 1) * 0.3);  // random walks of many speeds
                if (random.bernoulli(0.001)) y[i] += random.uniform(-20 * theta, 20 * theta);  // jumps
            }
            const std::vector<double> before = r;
            spikes += coder.step(y.data(), r.data(), m.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                worst = std::max(worst, std::abs(y[i] - r[i]));
                CHECK(r[i] - before[i] == doctest::Approx(double(m[i]) * theta).epsilon(1e-9).scale(theta));
            }
        }
        CHECK(worst < theta * (1 + 1e-12));
        CHECK(spikes > 0);
    }
}

TEST_CASE("unsigned sigma-delta spikes keep y - r below theta with a decaying reconstruction") {
    rng random(9);
    sigma_delta_encoder<double> coder({.theta = 0.1, .signed_spikes = false, .decay_ms = 20}, 1.0);
    std::vector<double> y(4, 0.0), r(4, 0.0);
    std::vector<long> m(4, 0);
    for (std::size_t t = 0; t < 5000; ++t) {
        for (auto& x : y) x = std::max(0.0, x + random.normal(0.0, 0.05));
        coder.step(y.data(), r.data(), m.data(), 4);
        for (std::size_t i = 0; i < 4; ++i) {
            CHECK(m[i] >= 0);
            CHECK(y[i] - r[i] < 0.1 * (1 + 1e-12));
        }
    }
    CHECK_THROWS_AS(sigma_delta_encoder<double>({.theta = 0.1, .signed_spikes = false}, 1.0), option_error);
}

TEST_CASE("sigma-delta spike count stays roughly constant as dt shrinks 10x") {
    // A smooth signal over 1 s; its total variation / theta is the count's continuous limit.
    auto signal = [](double t_ms) {
        return 1.0 + 0.8 * std::sin(2 * M_PI * t_ms / 250) + 0.3 * std::sin(2 * M_PI * t_ms / 37 + 1);
    };
    const double theta = 0.05;
    double variation = 0;
    for (int k = 1; k <= 1000000; ++k) variation += std::abs(signal(k * 1e-3) - signal((k - 1) * 1e-3));
    std::vector<double> counts;
    for (double dt : {1.0, 0.1}) {
        sigma_delta_encoder<double> coder({.theta = theta}, dt);
        double y = 0, r = 0;
        long m = 0;
        std::size_t spikes = 0;
        for (std::size_t t = 0; t < std::size_t(1000 / dt); ++t) {
            y = signal(double(t) * dt);
            spikes += coder.step(&y, &r, &m, 1);
        }
        counts.push_back(double(spikes));
    }
    MESSAGE("spikes at dt 1 ms: " << counts[0] << ", at 0.1 ms: " << counts[1]
                                  << ", variation / theta " << variation / theta);
    CHECK(counts[1] == doctest::Approx(counts[0]).epsilon(0.05));
    CHECK(counts[1] == doctest::Approx(variation / theta).epsilon(0.05));
}

TEST_CASE("online_exact gradients equal unrolled BPTT gradients to 1e-9 in double") {
    const per_step_cross_entropy loss{.from = 0.3};
    const auto batch = random_batch(3, 60, 5, 3, 0.1, 11);
    SUBCASE("two layers, sigma-delta spikes, per-neuron bucket weights") {
        auto net = make_net<2>({5, 4, 3}, gamma_training::unrolled, 0.05, bucket_weights::per_neuron, 1);
        const auto reference = gradients_of(net, gamma_training::unrolled, batch, loss);
        const auto online = gradients_of(net, gamma_training::online_exact, batch, loss);
        CHECK(max_relative_difference(online, reference) < 1e-9);
        CHECK(net.train_step(batch, loss).loss() > 0);
        CHECK(net.activity()[0].spikes() > 0);  // the hidden layer did send spikes
    }
    SUBCASE("three layers, sigma-delta spikes, per-synapse bucket weights") {
        auto net = make_net<3>({5, 4, 3, 3}, gamma_training::unrolled, 0.05, bucket_weights::per_synapse, 2);
        const auto reference = gradients_of(net, gamma_training::unrolled, batch, loss);
        const auto online = gradients_of(net, gamma_training::online_exact, batch, loss);
        CHECK(max_relative_difference(online, reference) < 1e-9);
        // The lowest layer's weights do get a gradient through two gamma layers.
        const auto& w0 = net.parameters().info(net.parameters().find("layer0.weight"));
        double norm = 0;
        for (std::size_t k = 0; k < w0.size; ++k) norm += std::abs(reference[w0.offset + k]);
        CHECK(norm > 1e-6);
    }
    SUBCASE("three layers, analog transmission, per-neuron") {
        auto net = make_net<3>({5, 4, 4, 3}, gamma_training::unrolled, 0.0, bucket_weights::per_neuron, 3);
        const auto reference = gradients_of(net, gamma_training::unrolled, batch, loss);
        const auto online = gradients_of(net, gamma_training::online_exact, batch, loss);
        CHECK(max_relative_difference(online, reference) < 1e-9);
    }
}

TEST_CASE("online_instantaneous gradients equal unrolled BPTT for a single gamma layer") {
    const per_step_cross_entropy loss{};
    const auto batch = random_batch(2, 50, 6, 3, 0.1, 12);
    auto net = make_net<1>({6, 3}, gamma_training::unrolled, 0.05, bucket_weights::per_neuron, 4);
    const auto reference = gradients_of(net, gamma_training::unrolled, batch, loss);
    CHECK(max_relative_difference(gradients_of(net, gamma_training::online_instantaneous, batch, loss),
                                  reference) < 1e-12);
    CHECK(max_relative_difference(gradients_of(net, gamma_training::online_exact, batch, loss),
                                  reference) < 1e-12);
}

TEST_CASE("unrolled gamma gradients agree with central finite differences") {
    const per_step_cross_entropy loss{.from = 0.2};
    const auto batch = random_batch(2, 40, 4, 3, 0.15, 13);
    auto all = [](const parameter_info&) { return true; };
    SUBCASE("two layers, per-neuron") {
        auto net = make_net<2>({4, 3, 3}, gamma_training::unrolled, 0.0, bucket_weights::per_neuron, 5);
        const auto r = testing::check_gradients(net, batch, loss, all, 1e-5, 1e-5, 1e-9);
        CHECK(r.checked == net.parameters().size());
        CHECK(r.failed == 0);
    }
    SUBCASE("three layers, per-synapse") {
        auto net = make_net<3>({4, 3, 3, 3}, gamma_training::unrolled, 0.0, bucket_weights::per_synapse, 6);
        const auto r = testing::check_gradients(net, batch, loss, all, 1e-5, 1e-5, 1e-9);
        CHECK(r.failed == 0);
    }
}

TEST_CASE("online engines keep their memory constant in T while unrolled grows linearly") {
    auto net = make_net<2>({60, 10, 3}, gamma_training::unrolled, 0.05, bucket_weights::per_neuron, 7);
    const auto grow = net.training_state_bytes(10000) - net.training_state_bytes(1000);
    CHECK(grow == 9000 * (60 * 3 + 2 * 10 + 10 * 3 + 2 * 3) * sizeof(double));
    for (auto mode : {gamma_training::online_exact, gamma_training::online_instantaneous}) {
        net.set_training(mode);
        CHECK(net.training_state_bytes(10000) == net.training_state_bytes(1000));
    }
}

TEST_CASE("a float gamma network trains with the trainer and survives a checkpoint round trip") {
    // Class = which of two input groups fires: learnable in a few epochs.
    event_batch batch(40, 8, 2);
    rng random(3);
    for (std::size_t b = 0; b < 64; ++b) {
        const std::uint32_t label = std::uint32_t(b % 2);
        std::vector<std::uint32_t> steps, units;
        for (std::size_t t = 0; t < 40; ++t)
            for (std::uint32_t i = 0; i < 4; ++i)
                if (random.bernoulli(0.1)) {
                    steps.push_back(std::uint32_t(t));
                    units.push_back(label * 4 + i);
                }
        batch.add_sample(steps, units, {}, std::int32_t(label));
    }
    batch.dt_ms = 1.0;
    gamma_network<float, 2> net({8, 6, 2}, {.dt_ms = 1.0, .seed = 1, .threads = 1}, {{.tau_ms = 5}});
    trainer<gamma_network<float, 2>, per_step_cross_entropy, adam> fit(
        net, {.lr = 1e-2, .epochs = 15, .batch = 16, .progress = progress_mode::quiet});
    fit.run(batch);
    CHECK(fit.evaluate(batch).accuracy() > 0.9);
    const auto path = std::filesystem::temp_directory_path() / "spikegrad_gamma_test.ckpt";
    save_checkpoint(path.string(), net);
    gamma_network<float, 2> copy({8, 6, 2}, {.dt_ms = 1.0, .seed = 99, .threads = 1}, {{.tau_ms = 5}});
    load_checkpoint(path.string(), copy);
    CHECK(copy.parameters().flat() == net.parameters().flat());
    CHECK(copy.evaluate(batch, per_step_cross_entropy{}).loss() ==
          doctest::Approx(net.evaluate(batch, per_step_cross_entropy{}).loss()));
    std::filesystem::remove(path);
}

TEST_CASE("gamma_network rejects bad sizes, options and inputs with typed errors") {
    CHECK_THROWS_AS((gamma_network<double, 2>({3, 4})), shape_error);
    CHECK_THROWS_AS((gamma_network<double, 1>({3, 4}, {}, {{.buckets = 0}})), option_error);
    CHECK_THROWS_AS((gamma_network<double, 1>({3, 4}, {}, {{.tau_ms = -1}})), option_error);
    CHECK_THROWS_AS((gamma_network<double, 1>({3, 4}, {}, {{.bias_init = NAN}})), option_error);
    CHECK_THROWS_AS((gamma_network<double, 1>({3, 4}, {}, {{.init_scale = -1}})), option_error);
    gamma_network<double, 2> biased({3, 4, 2}, {}, {gamma_layer_options{.bias_init = 0.25}, {}});
    for (const auto& info : biased.parameters().infos()) {
        if (info.name != "layer0.bias" && info.name != "layer1.bias") continue;
        const double expected = info.name == "layer0.bias" ? 0.25 : 0.0;
        for (std::size_t k = info.offset; k < info.offset + info.size; ++k)
            CHECK(biased.parameters().flat()[k] == expected);
    }
    gamma_network<double, 1> net({3, 2});
    const auto wrong = random_batch(1, 10, 5, 2, 0.1, 1);
    CHECK_THROWS_AS(net.forward(wrong), shape_error);
}

// The exact event engine driven by the common trainer<> (train/trainer.hpp) on a timed_batch:
// the trainer's step is the engine's gradient plus the optimiser's update, a latency task is
// learned, ties of a silent output layer count as chance, and datasets convert to real times.
#include <spikegrad/data/dataset.hpp>
#include <spikegrad/engine/event/channel_shift.hpp>
#include <spikegrad/engine/event_driven.hpp>
#include <spikegrad/train/optimizer.hpp>
#include <spikegrad/train/trainer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace spikegrad;

namespace {

/// Two classes told apart only by the order of two volleys: class 0 fires inputs 0-1 at
/// ~2 ms and inputs 2-3 at ~8 ms, class 1 the other way round; jitter 0.5 ms.
timed_batch<double> order_task(std::size_t n, std::uint64_t seed) {
    timed_batch<double> set(4, 2);
    rng random(seed);
    for (std::size_t s = 0; s < n; ++s) {
        const int label = int(s % 2);
        std::vector<std::pair<double, std::uint32_t>> events;
        for (std::uint32_t u = 0; u < 4; ++u) {
            const bool early = (u < 2) == (label == 0);
            events.emplace_back((early ? 2.0 : 8.0) + 0.5 * random.normal(), u);
        }
        std::sort(events.begin(), events.end());
        timed_spikes<double> sample;
        for (auto [t, u] : events) sample.add(std::max(0.0, t), u);
        sample.label = label;
        set.add(sample);
    }
    return set;
}

event_network<double> order_network(std::uint64_t seed) {
    event_layer_options hidden{.delay = true, .delay_init_ms = 2, .weight_mean = 3, .weight_std = 1};
    event_layer_options out{.weight_mean = 1.5, .weight_std = 1};
    return event_network<double>({4, 8, 2}, {.duration_ms = 30, .seed = seed}, {hidden, out});
}

const event_loss first_spike{.kind = event_loss_kind::first_spike_time, .tau0_ms = 2};

}  // namespace

TEST_CASE("event engine: a trainer<> step equals the engine's batch gradient and one optimiser step") {
    const auto set = order_task(12, 1);
    auto by_trainer = order_network(5), by_hand = order_network(5);
    trainer<event_network<double>, event_loss, sgd> fit(
        by_trainer, {.lr = 0.05, .epochs = 1, .batch = 12, .keep_best = false,
                     .progress = progress_mode::quiet},
        first_spike);
    const auto history = fit.run(set);

    // the trainer shuffles; the batch gradient is a mean, so the order changes only rounding
    optimizer<sgd, double> opt(by_hand.parameters(), 0.05);
    const auto step = by_hand.train_step(set, first_spike);
    opt.step(by_hand.parameters(), by_hand.gradients());
    const auto& a = by_trainer.parameters().flat();
    const auto& b = by_hand.parameters().flat();
    REQUIRE(a.size() == b.size());
    const auto initial = order_network(5).parameters().flat();
    double moved = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        CHECK(a[k] == doctest::Approx(b[k]).epsilon(1e-12));
        moved = std::max(moved, std::abs(b[k] - initial[k]));
    }
    CHECK(moved > 1e-6);  // the step did change the parameters
    REQUIRE(history.epochs.size() == 1);
    CHECK(history.epochs[0].train_loss == doctest::Approx(step.loss()).epsilon(1e-12));
    // per-layer diagnostics: the hidden and output layers' spikes per neuron-ms, norms per layer
    REQUIRE(history.epochs[0].layers.size() == 2);
    CHECK(history.epochs[0].layers[0].spiking);
    CHECK(history.epochs[0].layers[0].rate > 0);
    CHECK(history.epochs[0].layers[0].gradient_norm > 0);
}

TEST_CASE("event engine: trainer<> learns a volley-order task with exact gradients, choosing on validation") {
    const auto train = order_task(80, 2), validation = order_task(40, 3), test = order_task(80, 4);
    auto net = order_network(7);
    trainer<event_network<double>, event_loss, adam> fit(
        net, {.lr = 0.02, .epochs = 30, .batch = 16, .seed = 1, .progress = progress_mode::quiet},
        first_spike);
    const double before = fit.evaluate(test).accuracy();
    const auto history = fit.run(train, validation);
    const auto after = fit.evaluate(test);
    INFO("test accuracy before ", before, ", after ", after.accuracy(), " (best epoch ",
         history.best_epoch, ")");
    CHECK(after.accuracy() >= 0.9);
    CHECK(after.accuracy() > before + 0.2);
    std::vector<int> predictions;
    fit.evaluate(test, &predictions);
    REQUIRE(predictions.size() == test.n_samples);
    std::size_t right = 0;
    for (std::size_t s = 0; s < test.n_samples; ++s) right += predictions[s] == test.labels[s];
    CHECK(double(right) / double(test.n_samples) == doctest::Approx(after.accuracy()).epsilon(0.05));
}

TEST_CASE("event engine: a silent output layer scores chance with every sample counted as a tie") {
    const auto set = order_task(10, 5);
    event_layer_options hidden{.weight_mean = -2, .weight_std = 0.1};  // never fires
    event_network<double> silent({4, 3, 2}, {.duration_ms = 30}, {hidden, {}});
    const auto stats = silent.evaluate(set, first_spike);
    CHECK(stats.ties == set.n_samples);
    CHECK(stats.accuracy() == doctest::Approx(0.5));
    CHECK(silent.activity()[0].spikes() == 0);
}

TEST_CASE("event engine: to_timed_batch keeps real spike times, sorts them and counts events past the window") {
    spike_dataset data(3, 0.05, time_unit::seconds, {"a", "b"});
    const std::vector<float> times{0.0042f, 0.0011f, 0.0499f, 0.0700f};
    const std::vector<std::uint32_t> units{2, 0, 1, 1};
    data.add_sample(times, units, 1);
    data.add_sample(std::vector<float>{}, std::vector<std::uint32_t>{}, 0);
    std::size_t dropped = 0;
    const auto timed = to_timed_batch<double>(data, 50.0, &dropped);
    CHECK(dropped == 1);  // 70 ms lies past the 50 ms window
    REQUIRE(timed.n_samples == 2);
    CHECK(timed.n_units == 3);
    CHECK(timed.labels == std::vector<std::int32_t>{1, 0});
    const auto& s = timed.samples[0];
    REQUIRE(s.size() == 3);
    CHECK(s.units == std::vector<std::uint32_t>{0, 2, 1});
    CHECK(s.times_ms[0] == doctest::Approx(1.1).epsilon(1e-6));
    CHECK(s.times_ms[1] == doctest::Approx(4.2).epsilon(1e-6));
    CHECK(s.times_ms[2] == doctest::Approx(49.9).epsilon(1e-6));
    CHECK(timed.samples[1].size() == 0);
    CHECK_THROWS_AS(to_timed_batch<double>(data, 0.0), option_error);
    timed_batch<double> bad(3, 2);
    timed_spikes<double> wrong;
    wrong.add(1.0, 3);
    wrong.label = 0;
    CHECK_THROWS_AS(bad.add(wrong), data_error);
    CHECK_THROWS_AS(timed.select(std::vector<std::size_t>{5}), shape_error);
}

// Channel-shift augmentation: each drawn sample moves all its units by one offset in
// [-max_shift, max_shift] (out-of-range spikes dropped, times kept), every offset occurs, a
// fixed seed repeats the draws, shift 0 is a plain copy, and the trainer takes the set in
// place of a timed_batch (shift 0: the same history bit for bit).
TEST_CASE("event engine: channel_shifted_batch shifts each drawn sample's units by one random offset") {
    timed_batch<double> set(10, 2);
    for (int s = 0; s < 4; ++s) {
        timed_spikes<double> sample;
        for (std::uint32_t u = 0; u < 10; ++u) sample.add(double(u) + 0.25 * s, u);
        sample.label = s % 2;
        set.add(sample);
    }
    CHECK_THROWS_AS(channel_shifted_batch<double>(set, 10, 1), option_error);
    channel_shifted_batch<double> shifted(set, 3, 42), again(set, 3, 42), plain(set, 0, 42);
    const std::vector<std::size_t> all{0, 1, 2, 3};
    std::vector<int> seen(7, 0);
    for (int draw = 0; draw < 100; ++draw) {
        const auto a = shifted.select(all), b = again.select(all), p = plain.select(all);
        REQUIRE(a.n_samples == 4);
        CHECK(a.labels == set.labels);
        for (std::size_t s = 0; s < 4; ++s) {
            CHECK(p.samples[s].units == set.samples[s].units);
            CHECK(p.samples[s].times_ms == set.samples[s].times_ms);
            CHECK(b.samples[s].units == a.samples[s].units);
            const auto& x = a.samples[s];
            REQUIRE(x.size() >= 7);
            REQUIRE(x.size() <= 10);
            // unit u fired at u + 0.25 s: the offset is unit - (time - 0.25 s), one per sample
            const long offset = long(x.units[0]) - long(std::lround(x.times_ms[0] - 0.25 * double(s)));
            CHECK(std::labs(offset) <= 3);
            CHECK(x.size() == 10 - std::size_t(std::labs(offset)));
            for (std::size_t e = 0; e < x.size(); ++e)
                CHECK(long(x.units[e]) - long(std::lround(x.times_ms[e] - 0.25 * double(s))) == offset);
            ++seen[std::size_t(offset + 3)];
        }
    }
    for (int k = 0; k < 7; ++k) CHECK_MESSAGE(seen[std::size_t(k)] > 20, "offset ", k - 3, " drawn ", seen[std::size_t(k)], " times of 400");

    // in the trainer: shift 0 gives the plain run's history, shift 1 another one
    const auto train = order_task(40, 2), validation = order_task(20, 3);
    auto history_of = [&](auto train_set, auto validation_set) {
        auto net = order_network(7);
        trainer<event_network<double>, event_loss, adam> fit(
            net, {.lr = 0.02, .epochs = 3, .batch = 16, .seed = 1, .progress = progress_mode::quiet},
            first_spike);
        std::vector<double> losses;
        for (const auto& e : fit.run(train_set, validation_set).epochs) losses.push_back(e.train_loss);
        return losses;
    };
    const auto reference = history_of(train, validation);
    CHECK(history_of(channel_shifted_batch<double>(train, 0, 5),
                     channel_shifted_batch<double>(validation, 0, 0)) == reference);
    CHECK(history_of(channel_shifted_batch<double>(train, 1, 5),
                     channel_shifted_batch<double>(validation, 0, 0)) != reference);
}

// Each loss against its formula evaluated by hand on crafted records.
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace spikegrad;

namespace {

// A spike record [T = 4, n = 3]: counts (2, 0, 3).
const std::vector<double> spikes = {1, 0, 1,  //
                                    0, 0, 1,  //
                                    1, 0, 0,  //
                                    0, 0, 1};

}  // namespace

TEST_CASE("spikemax gradient equals (p - y) / N with N = max(1, count)") {
    std::vector<double> grad(12);
    const double loss = spikemax{}.evaluate(spikes.data(), 4, 3, 2, grad.data(), 1.0);
    // N = (2, 1, 3) after the clamp, p = N / 6.
    CHECK(loss == doctest::Approx(-std::log(3.0 / 6.0)));
    const double expected[3] = {(2.0 / 6) / 2, (1.0 / 6) / 1, (3.0 / 6 - 1) / 3};
    for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t i = 0; i < 3; ++i) CHECK(grad[t * 3 + i] == doctest::Approx(expected[i]));
}

TEST_CASE("spikemax with a window as long as the record equals spikemax without one") {
    std::vector<double> a(12), b(12);
    const double la = spikemax{}.evaluate(spikes.data(), 4, 3, 0, a.data(), 0.5);
    const double lb = spikemax{.window = 4}.evaluate(spikes.data(), 4, 3, 0, b.data(), 0.5);
    CHECK(la == doctest::Approx(lb));
    for (std::size_t k = 0; k < 12; ++k) CHECK(a[k] == doctest::Approx(b[k]));
}

TEST_CASE("spikemax with a sliding window averages the windows' losses") {
    // Window 2 over T = 4: windows [0,1], [1,2], [2,3] with counts (1,0,2), (1,0,1), (1,0,1).
    std::vector<double> grad(12);
    const double loss = spikemax{.window = 2}.evaluate(spikes.data(), 4, 3, 0, grad.data(), 1.0);
    const double expected = (-std::log(1.0 / 4) - std::log(1.0 / 3) - std::log(1.0 / 3)) / 3;
    CHECK(loss == doctest::Approx(expected));
    // Step 0 lies only in window 0: dL/ds_0[0] = (p_0 - 1) / N_0 / 3 with p_0 = 1/4, N_0 = 1.
    CHECK(grad[0] == doctest::Approx((0.25 - 1) / 1 / 3));
}

TEST_CASE("spike_rate is 1/2 sum (N - N_target)^2 / T with targets 0.2 T and 0.02 T") {
    std::vector<double> grad(12);
    const double loss = spike_rate{}.evaluate(spikes.data(), 4, 3, 1, grad.data(), 1.0);
    const double targets[3] = {0.08, 0.8, 0.08}, counts[3] = {2, 0, 3};
    double expected = 0;
    for (int i = 0; i < 3; ++i) expected += 0.5 * std::pow(counts[i] - targets[i], 2) / 4;
    CHECK(loss == doctest::Approx(expected));
    for (int i = 0; i < 3; ++i) CHECK(grad[3 + i] == doctest::Approx((counts[i] - targets[i]) / 4));
}

TEST_CASE("count MSE is snnTorch's mse_count_loss: integer targets, MSE over classes, over T") {
    // snnTorch: on = int(T correct_rate), off = int(T incorrect_rate), loss = MSELoss(counts,
    // targets) / num_steps; by hand for counts (2, 0, 3), T = 4, n = 3.
    std::vector<double> grad(12);
    SUBCASE("defaults: correct_rate 1, incorrect_rate 0") {
        const double loss = count_mse{}.evaluate(spikes.data(), 4, 3, 1, grad.data(), 1.0);
        CHECK(loss == doctest::Approx((4.0 + 16.0 + 9.0) / 3 / 4));  // targets (0, 4, 0)
        CHECK(grad[0] == doctest::Approx(2 * (2.0 - 0) / 3 / 4));
        CHECK(grad[3 + 1] == doctest::Approx(2 * (0.0 - 4) / 3 / 4));
    }
    SUBCASE("fractional targets are truncated as int() does: 0.6 * 4 -> 2, 0.3 * 4 -> 1") {
        const double loss = count_mse{.correct_rate = 0.6, .incorrect_rate = 0.3}.evaluate(
            spikes.data(), 4, 3, 0, grad.data(), 0.5);
        CHECK(loss == doctest::Approx((0.0 + 1.0 + 4.0) / 3 / 4));  // targets (2, 1, 1)
        for (std::size_t t = 0; t < 4; ++t) {
            CHECK(grad[t * 3 + 0] == doctest::Approx(0.0));
            CHECK(grad[t * 3 + 1] == doctest::Approx(0.5 * 2 * (0.0 - 1) / 3 / 4));
            CHECK(grad[t * 3 + 2] == doctest::Approx(0.5 * 2 * (3.0 - 1) / 3 / 4));
        }
    }
}

TEST_CASE("count MSE over a batch equals nn.MSELoss over batch and classes divided by T") {
    // Two samples: the record above (label 2) and its reverse in time (label 0); the batch loss
    // of snnTorch is sum over all B n entries of (N - target)^2 / (B n) / T.
    const std::size_t T = 4, n = 3;
    tensor<double, 3> record({2, T, n}, 0.0);
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t i = 0; i < n; ++i) {
            record(0, t, i) = spikes[t * n + i];
            record(1, t, i) = spikes[(T - 1 - t) * n + i];
        }
    const std::vector<std::int32_t> labels = {2, 0};
    const auto out = evaluate_loss(count_mse{.correct_rate = 0.8, .incorrect_rate = 0.2}, record,
                                   std::span<const std::int32_t>(labels));
    // int(3.2) = 3, int(0.8) = 0; counts (2, 0, 3) for both samples.
    const double targets[2][3] = {{0, 0, 3}, {3, 0, 0}};
    double sum = 0;
    for (int b = 0; b < 2; ++b)
        for (int i = 0; i < 3; ++i) sum += std::pow((i == 1 ? 0.0 : i == 0 ? 2.0 : 3.0) - targets[b][i], 2);
    CHECK(out.value == doctest::Approx(sum / (2 * 3) / 4));
}

TEST_CASE("cross-entropy on counts, final membrane and max membrane use the right logits") {
    std::vector<double> grad(12);
    const double lc = count_cross_entropy{}.evaluate(spikes.data(), 4, 3, 2, grad.data(), 1.0);
    const double z = std::exp(2.0) + std::exp(0.0) + std::exp(3.0);
    CHECK(lc == doctest::Approx(std::log(z) - 3));
    CHECK(grad[5] == doctest::Approx(std::exp(3.0) / z - 1));
    // Membrane record: final step (0.5, -1, 2); max over time (3, 1, 2).
    const std::vector<double> v = {3, 1, 0, 0, 0, 1, 0.5, -1, 2};
    const double lf = final_membrane_cross_entropy{}.evaluate(v.data(), 3, 3, 0, grad.data(), 1.0);
    const double zf = std::exp(0.5) + std::exp(-1.0) + std::exp(2.0);
    CHECK(lf == doctest::Approx(std::log(zf) - 0.5));
    for (std::size_t k = 0; k < 6; ++k) CHECK(grad[k] == 0.0);
    const double lm = max_membrane_cross_entropy{}.evaluate(v.data(), 3, 3, 1, grad.data(), 1.0);
    const double zm = std::exp(3.0) + std::exp(1.0) + std::exp(2.0);
    CHECK(lm == doctest::Approx(std::log(zm) - 1));
    CHECK(grad[0] == doctest::Approx(std::exp(3.0) / zm));      // t = 0 holds max of unit 0
    CHECK(grad[1] == doctest::Approx(std::exp(1.0) / zm - 1));  // and of unit 1
    CHECK(grad[8] == doctest::Approx(std::exp(2.0) / zm));      // t = 2 holds max of unit 2
}

TEST_CASE("max-membrane cross-entropy credits the first step of a tied maximum, and scores agree") {
    // [T = 4, n = 2]: unit 0 peaks at 2 on steps 1 and 3, unit 1 at 5 on steps 0 and 2
    const std::vector<double> v = {1, 5, 2, 4, 0, 5, 2, -1};
    std::vector<double> grad(8, 7.0);
    const double l = max_membrane_cross_entropy{}.evaluate(v.data(), 4, 2, 0, grad.data(), 1.0);
    const double z = std::exp(2.0) + std::exp(5.0);
    CHECK(l == doctest::Approx(std::log(z) - 2));
    CHECK(grad[2] == doctest::Approx(std::exp(2.0) / z - 1));  // unit 0, step 1
    CHECK(grad[1] == doctest::Approx(std::exp(5.0) / z));      // unit 1, step 0
    for (const std::size_t k : {0, 3, 4, 5, 6, 7}) CHECK(grad[k] == 0.0);
    std::vector<double> scores(2);
    max_membrane_cross_entropy{}.scores(v.data(), 4, 2, scores.data());
    CHECK(scores[0] == 2.0);
    CHECK(scores[1] == 5.0);
}

TEST_CASE("cross-entropy on the mean membrane uses the time average and spreads dL/dz / T over the steps") {
    // Membrane record [T = 3, n = 3]: means (1, 0, 1).
    const std::vector<double> v = {3, 1, 0, 0, 0, 1, 0, -1, 2};
    std::vector<double> grad(9);
    const double l = mean_membrane_cross_entropy{}.evaluate(v.data(), 3, 3, 2, grad.data(), 0.5);
    const double z = std::exp(1.0) + std::exp(0.0) + std::exp(1.0);
    CHECK(l == doctest::Approx(std::log(z) - 1));
    for (std::size_t t = 0; t < 3; ++t) {
        CHECK(grad[t * 3 + 0] == doctest::Approx(0.5 * std::exp(1.0) / z / 3));
        CHECK(grad[t * 3 + 1] == doctest::Approx(0.5 * 1.0 / z / 3));
        CHECK(grad[t * 3 + 2] == doctest::Approx(0.5 * (std::exp(1.0) / z - 1) / 3));
    }
    std::vector<double> scores(3);
    mean_membrane_cross_entropy{}.scores(v.data(), 3, 3, scores.data());
    CHECK(scores == std::vector<double>{1, 0, 1});
}

TEST_CASE("evaluate_loss averages over the batch, predicts by argmax and rejects bad labels") {
    tensor<double, 3> record({2, 4, 3});
    std::copy(spikes.begin(), spikes.end(), record.begin());
    std::copy(spikes.begin(), spikes.end(), record.begin() + 12);
    const std::vector<std::int32_t> labels = {2, 0};
    const auto result = evaluate_loss(spikemax{}, record, std::span<const std::int32_t>(labels));
    CHECK(result.value == doctest::Approx((-std::log(0.5) - std::log(2.0 / 6)) / 2));
    CHECK(result.predictions == std::vector<int>{2, 2});
    CHECK(result.correct == 1);
    CHECK(result.gradient(0, 0, 0) == doctest::Approx((2.0 / 6) / 2 / 2));
    const std::vector<std::int32_t> bad = {2, 3};
    CHECK_THROWS_WITH_AS(evaluate_loss(spikemax{}, record, std::span<const std::int32_t>(bad)),
                         doctest::Contains("label 3 outside [0, 3)"), data_error);
}

TEST_CASE("van_rossum_distance tends to 1/2 (1 - exp(-|t - target| / tau)) for one spike as dt shrinks") {
    // f = e^{-(t - t1)/tau}, g = e^{-(t - t2)/tau} after their spikes: int f^2 = int g^2 = tau/2,
    // int f g = tau/2 e^{-|t1 - t2|/tau}, so 1/(2 tau) int (f - g)^2 = 1/2 (1 - e^{-|t1 - t2|/tau}).
    const double tau = 5, spike = 10, target = 12, T_ms = 200;
    const double closed = 0.5 * (1 - std::exp(-(target - spike) / tau));
    double previous = 1;
    for (double dt : {0.1, 0.01, 0.001}) {
        const auto T = static_cast<std::size_t>(std::llround(T_ms / dt));
        std::vector<double> record(T * 2, 0.0);
        record[static_cast<std::size_t>(std::llround(spike / dt)) * 2 + 1] = 1;
        const van_rossum_distance loss{.tau_ms = tau, .step_ms = dt,
                                       .target_ms = {{}, {}, {}, {target}}};
        const double value = loss.evaluate(record.data(), T, 2, 1, static_cast<double*>(nullptr), 1.0);
        const double error = std::abs(value - closed);
        MESSAGE("dt ", dt, " ms: ", value, " (closed form ", closed, ")");
        CHECK(error < previous / 5);  // first order in dt
        previous = error;
    }
    CHECK(previous < 1e-3 * closed);
}

TEST_CASE("van_rossum_distance: the gradient equals finite differences of the record, and bad targets are refused") {
    const std::size_t T = 30, n = 3;
    std::vector<double> record(T * n, 0.0);
    for (std::size_t t = 0; t < T; t += 4) record[t * n + t % n] = 1;
    record[7 * n + 1] = 0.5;  // graded values too: the loss is a polynomial of the record
    const van_rossum_distance loss{.tau_ms = 3, .step_ms = 0.5,
                                   .target_ms = {{2.0, 9.1}, {}, {5.5}, {1}, {2}, {3}}};
    std::vector<double> grad(T * n);
    loss.evaluate(record.data(), T, n, 0, grad.data(), 2.0);
    const double h = 1e-4;
    for (std::size_t k = 0; k < record.size(); ++k) {
        auto plus = record, minus = record;
        plus[k] += h, minus[k] -= h;
        const double fd = 2.0 *
                          (loss.evaluate(plus.data(), T, n, 0, static_cast<double*>(nullptr), 1.0) -
                           loss.evaluate(minus.data(), T, n, 0, static_cast<double*>(nullptr), 1.0)) /
                          (2 * h);
        CHECK(grad[k] == doctest::Approx(fd).epsilon(1e-7).scale(1e-7));
    }
    double* none = nullptr;
    CHECK_THROWS_AS(loss.evaluate(record.data(), T, n, 2, none, 1.0), data_error);  // 2 classes
    CHECK_THROWS_AS(loss.evaluate(record.data(), T, 4, 0, none, 1.0), shape_error);
    const van_rossum_distance negative{.target_ms = {{-1.0}, {}, {}}};
    CHECK_THROWS_AS(negative.evaluate(record.data(), T, n, 0, none, 1.0), data_error);
    const van_rossum_distance zero_tau{.tau_ms = 0, .target_ms = {{}, {}, {}}};
    CHECK_THROWS_AS(zero_tau.evaluate(record.data(), T, n, 0, none, 1.0), option_error);
}

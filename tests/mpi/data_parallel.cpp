// Tests of mpi/data_parallel.hpp, run under mpirun (tests/CMakeLists.txt: 1 and 2 ranks). The
// reference is the single-process path in the same program: one network running the whole
// global batch on ranks x threads threads, without MPI. Every rank checks.
#define DOCTEST_CONFIG_IMPLEMENT
#include "../support/finite_differences.hpp"

#include <spikegrad/mpi/data_parallel.hpp>
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace spikegrad;

namespace {

using delayed_net = network<dense<lif, fast_sigmoid, axonal_delay>, dense<lif>, dense<readout>>;

delayed_net make_net(int threads, std::uint64_t seed = 9) {
    typename dense<lif, fast_sigmoid, axonal_delay>::options hidden;
    hidden.init_scale = 3.;
    hidden.delay.max_ms = 6;
    hidden.delay.init_high = 4;
    return delayed_net({10, 16, 12, 3}, {.seed = seed, .threads = threads}, hidden,
                       {.init_scale = 3.}, {});
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        worst = std::max(worst, std::abs(double(a[k]) - double(b[k])));
    return worst;
}

double largest_magnitude(const std::vector<float>& a) {
    double top = 0;
    for (float v : a) top = std::max(top, std::abs(double(v)));
    return top;
}

}  // namespace

TEST_CASE("shards are the runs of samples OpenMP's static schedule gives each thread") {
    for (std::size_t parts : {1, 2, 3, 4, 7}) {
        for (std::size_t B : {1, 2, 5, 13, 32, 33}) {
            std::vector<int> owner(B, -1);
#if SPIKEGRAD_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(parts))
            for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(B); ++b)
                owner[static_cast<std::size_t>(b)] = omp_get_thread_num();
            for (std::size_t p = 0; p < parts; ++p) {
                const auto run = mpi::static_part(B, parts, p);
                for (std::size_t b = run.first; b < run.last; ++b)
                    CHECK(owner[b] == static_cast<int>(p));
            }
#endif
            // The parts tile [0, B) in order, and a rank's shard is its threads' parts.
            std::size_t at = 0;
            for (std::size_t p = 0; p < parts; ++p) {
                const auto run = mpi::static_part(B, parts, p);
                CHECK(run.first == at);
                at = run.last;
            }
            CHECK(at == B);
            if (parts % 2 == 0) {
                const auto s = mpi::shard_of(B, parts / 2, 2, 1);
                CHECK(s.first == mpi::static_part(B, parts, 2).first);
                CHECK(s.last == mpi::static_part(B, parts, 3).last);
            }
        }
    }
}

TEST_CASE("every rank starts from rank 0's parameters") {
    const int r = mpi::rank();
    mpi::data_parallel<delayed_net> net(make_net(1, 100 + std::uint64_t(r)));
    const auto rank0 = make_net(1, 100);
    CHECK(same_bits(net.parameters().flat(), rank0.parameters().flat()));
    CHECK(net.parameters_agree());
}

TEST_CASE("a data-parallel step's gradient is bit-identical to one process on ranks x threads threads") {
    const int R = mpi::size();
    for (int t : {1, 2}) {
        // 13 samples: shards of unequal size; 3 samples: with 2 ranks x 2 threads, rank 1 has one.
        for (std::size_t B : {13, 3, 1}) {
            CAPTURE(t);
            CAPTURE(B);
            const auto batch = spikegrad::testing::random_batch(B, 30, 10, 3, 0.1, 5 + B);
            mpi::data_parallel<delayed_net> net(make_net(t));
            auto reference = make_net(R * t);
            const auto stats = net.train_step(batch, final_membrane_cross_entropy{});
            const auto expected = reference.train_step(batch, final_membrane_cross_entropy{});
            CHECK(same_bits(net.gradients(), reference.gradients()));
            CHECK(stats.samples == expected.samples);
            CHECK(stats.correct == doctest::Approx(expected.correct).epsilon(1e-12));
            CHECK(stats.loss_sum == doctest::Approx(expected.loss_sum).epsilon(1e-12));
            // Spike counts of the whole global batch, as the one process counted them.
            REQUIRE(net.activity().size() == reference.activity().size());
            for (std::size_t k = 0; k < net.activity().size(); ++k) {
                CHECK(net.activity()[k].steps == reference.activity()[k].steps);
                CHECK(net.activity()[k].per_neuron == reference.activity()[k].per_neuron);
            }
            // Against a serial process the sum is associated differently: equal to float rounding.
            auto serial = make_net(1);
            serial.train_step(batch, final_membrane_cross_entropy{});
            CHECK(largest_difference(net.gradients(), serial.gradients()) <=
                  1e-5 * largest_magnitude(serial.gradients()));
        }
    }
}

TEST_CASE("data-parallel training for 3 epochs ends with one process's parameters, bit for bit") {
    const int R = mpi::size();
    const auto train = spikegrad::testing::random_batch(45, 30, 10, 3, 0.1, 3);
    const auto validation = spikegrad::testing::random_batch(11, 30, 10, 3, 0.1, 4);
    const trainer_options options{.lr = 0.01, .epochs = 3, .batch = 16, .seed = 2,
                                  .clip_norm = 5, .progress = progress_mode::quiet,
                                  .evaluation_batch = 7};
    mpi::data_parallel<delayed_net> net(make_net(1));
    mpi::trainer<delayed_net, final_membrane_cross_entropy, nadam> fit(net, options);
    const auto history = fit.run(train, validation);

    auto reference = make_net(R);
    trainer<delayed_net, final_membrane_cross_entropy, nadam> serial(reference, options);
    const auto expected = serial.run(train, validation);

    CHECK(same_bits(net.parameters().flat(), reference.parameters().flat()));
    CHECK(net.parameters_agree());
    REQUIRE(history.epochs.size() == expected.epochs.size());
    CHECK(history.best_epoch == expected.best_epoch);
    for (std::size_t e = 0; e < history.epochs.size(); ++e) {
        CHECK(history.epochs[e].train_loss == doctest::Approx(expected.epochs[e].train_loss).epsilon(1e-12));
        CHECK(history.epochs[e].validation_loss ==
              doctest::Approx(expected.epochs[e].validation_loss).epsilon(1e-12));
        CHECK(history.epochs[e].validation_accuracy ==
              doctest::Approx(expected.epochs[e].validation_accuracy).epsilon(1e-12));
    }
    std::vector<int> predictions, expected_predictions;
    fit.evaluate(validation, &predictions);
    serial.evaluate(validation, &expected_predictions);
    CHECK(predictions == expected_predictions);
}

TEST_CASE("only rank 0 writes the trainer's checkpoint") {
    const int r = mpi::rank();
    const auto folder = std::filesystem::path(SPIKEGRAD_BINARY_DIR) / "tests" / "mpi_checkpoints" /
                        ("ranks" + std::to_string(mpi::size()));
    if (r == 0) {
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    // Each rank names its own file: only rank 0's may appear.
    const auto path = (folder / ("model_rank" + std::to_string(r) + ".ckpt")).string();
    const auto train = spikegrad::testing::random_batch(20, 30, 10, 3, 0.1, 3);
    mpi::data_parallel<delayed_net> net(make_net(1));
    mpi::trainer<delayed_net, final_membrane_cross_entropy, nadam> fit(
        net, {.epochs = 1, .batch = 8, .checkpoint = path, .progress = progress_mode::quiet});
    fit.run(train);
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(std::filesystem::exists(folder / "model_rank0.ckpt"));
    for (int k = 1; k < mpi::size(); ++k)
        CHECK_FALSE(std::filesystem::exists(folder / ("model_rank" + std::to_string(k) + ".ckpt")));
    // The checkpoint holds the parameters every rank trained to.
    auto loaded = make_net(1, 77);
    load_checkpoint((folder / "model_rank0.ckpt").string(), loaded);
    CHECK(same_bits(loaded.parameters().flat(), net.parameters().flat()));
}

TEST_CASE("a failure on one rank raises rank_error with its message on every rank") {
    const int R = mpi::size();
    auto batch = spikegrad::testing::random_batch(8, 30, 10, 3, 0.1, 3);
    batch.labels.back() = 7;  // the last sample, on the last rank: label outside [0, 3)
    mpi::data_parallel<delayed_net> net(make_net(1));
    std::string message;
    try {
        net.train_step(batch, final_membrane_cross_entropy{});
    } catch (const mpi::rank_error& e) {
        message = e.what();
    }
    CHECK(message.find("rank " + std::to_string(R - 1) + " of " + std::to_string(R)) != std::string::npos);
    CHECK(message.find("label 7 outside") != std::string::npos);
    // The ranks are still in step: the next collective works.
    CHECK(net.parameters_agree());
}

TEST_CASE("ranks with different thread counts are refused on every rank") {
    REQUIRE(mpi::size() >= 2);  // two ranks to disagree (the 1-rank run leaves this case out)
    const int r = mpi::rank();
    CHECK_THROWS_AS(mpi::data_parallel<delayed_net>(make_net(r == 0 ? 1 : 2)), mpi::rank_error);
}

int main(int argc, char** argv) {
    mpi::environment env(argc, argv, "test_mpi");
    doctest::Context context(argc, argv);
    const int failed = context.run();
    // Every rank's verdict: the job fails when any rank's checks failed.
    int any = failed != 0, all = 0;
    MPI_Allreduce(&any, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return all;
}

TEST_CASE("with weight normalisation the data-parallel gradient is one process's dL/dv and dL/dg") {
    // The chain rule of g v / |v| is applied once, to the global sum of dL/dW: the same sum
    // and the same arithmetic as one process, so the same bits.
    using wn_net = network<dense<lif>, dense<readout>>;
    const auto make = [](int threads) {
        return wn_net({10, 14, 3}, {.seed = 4, .threads = threads},
                      {.init_scale = 3., .weight_norm = true}, {.weight_norm = true});
    };
    const int R = mpi::size();
    const auto batch = spikegrad::testing::random_batch(11, 30, 10, 3, 0.1, 21);
    mpi::data_parallel<wn_net> net(make(1));
    auto reference = make(R);
    net.train_step(batch, final_membrane_cross_entropy{});
    reference.train_step(batch, final_membrane_cross_entropy{});
    CHECK(same_bits(net.gradients(), reference.gradients()));
    // And it is not the raw dL/dW: the gains' gradients are set, and differ from zero.
    const auto g = reference.gradient("layer0.gain");
    double top = 0;
    for (std::size_t j = 0; j < g.size(); ++j) top = std::max(top, std::abs(double(g.data()[j])));
    CHECK(top > 0);
}

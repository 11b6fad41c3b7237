// Data-parallel training speed (issue 18): samples/s of mpi::data_parallel train steps on the
// 700-128-128-20 SHD network (100 steps of 14 ms, spiking outputs, Spikemax), the seconds of
// each step spent computing and communicating, and the pure communication time of the ordered
// gradient sum (chain + broadcast) of a gradient of the network's size. Run under mpirun:
//   mpirun -n 2 bench_mpi_data_parallel [--batch 64] [--steps 10] [--threads 1] [--density 0.08]
//                                        [--scale1 3] [--scale2 6] [--scale3 4]
// Prints one CSV line (rank 0): ranks,threads,batch,steps,parameters,samples_per_s,
// compute_ms,communication_ms,reduce_mean_ms,reduce_min_ms,layer1_rate,layer2_rate (spikes per
// neuron-step of the hidden layers). Times are the slowest rank's.
#include <spikegrad/mpi/data_parallel.hpp>
#include <spikegrad/spikegrad.hpp>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace spikegrad;
using shd_net = network<dense<lif>, dense<lif>, dense<lif>>;

namespace {

/// B samples of 700 inputs x 100 steps, each input firing with probability `density` a step
/// (SHD binned at 14 ms holds ~5-10% active cells).
event_batch random_input(std::size_t B, double density, std::uint64_t seed) {
    rng random(seed);
    event_batch batch(100, 700, 20);
    batch.dt_ms = 14.0;
    std::vector<std::uint32_t> when, which;
    for (std::size_t b = 0; b < B; ++b) {
        when.clear();
        which.clear();
        for (std::uint32_t t = 0; t < 100; ++t)
            for (std::uint32_t i = 0; i < 700; ++i)
                if (random.bernoulli(density)) {
                    when.push_back(t);
                    which.push_back(i);
                }
        batch.add_sample(when, which, {}, static_cast<std::int32_t>(b % 20));
    }
    return batch;
}

double option(int argc, char** argv, const char* name, double fallback) {
    for (int k = 1; k + 1 < argc; ++k)
        if (std::strcmp(argv[k], name) == 0) return std::atof(argv[k + 1]);
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    return mpi::run(argc, argv, "bench_mpi_data_parallel", [&] {
        const auto B = static_cast<std::size_t>(option(argc, argv, "--batch", 64));
        const auto steps = static_cast<int>(option(argc, argv, "--steps", 10));
        const int threads = static_cast<int>(option(argc, argv, "--threads", 1));
        const double density = option(argc, argv, "--density", 0.08);
        const auto batch = random_input(B, density, 1);
        // Initial weight scales of the three layers (the hidden layers' firing rates are printed).
        const double scale1 = option(argc, argv, "--scale1", 3.0);
        const double scale2 = option(argc, argv, "--scale2", 6.0);
        const double scale3 = option(argc, argv, "--scale3", 4.0);
        mpi::data_parallel<shd_net> net(
            shd_net({700, 128, 128, 20}, {.dt_ms = 14.0, .seed = 1, .threads = threads},
                    typename dense<lif>::options{.init_scale = scale1},
                    typename dense<lif>::options{.init_scale = scale2},
                    typename dense<lif>::options{.init_scale = scale3}));
        net.train_step(batch, spikemax{});  // warm-up: buffers, first touch
        double compute = 0, communication = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        const double start = MPI_Wtime();
        for (int k = 0; k < steps; ++k) {
            net.train_step(batch, spikemax{});
            compute += net.last_step_timing().compute_seconds;
            communication += net.last_step_timing().communication_seconds;
        }
        const double seconds = MPI_Wtime() - start;
        const double rate1 = net.activity()[0].rate(), rate2 = net.activity()[1].rate();

        // The ordered sum alone (no compute to wait for): one gradient-sized part per rank.
        std::vector<float> part(net.parameters().size(), 1.0f), out(part.size());
        const float* parts[1] = {part.data()};
        double reduce = 0, fastest = 1e30;
        const int repeats = 50;
        for (int k = 0; k < repeats + 2; ++k) {
            MPI_Barrier(MPI_COMM_WORLD);
            const double t0 = MPI_Wtime();
            mpi::ordered_sum<float>(parts, out, mpi::size(), MPI_COMM_WORLD);
            const double took = MPI_Wtime() - t0;
            if (k >= 2) reduce += took;
            if (k >= 2) fastest = std::min(fastest, took);
        }
        // Slowest rank's view of each figure.
        double mine[4] = {compute / steps, communication / steps, reduce / repeats, fastest}, worst[4];
        MPI_Reduce(mine, worst, 4, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (mpi::rank() == 0)
            std::printf("%d,%d,%zu,%d,%zu,%.1f,%.2f,%.3f,%.3f,%.3f,%.4f,%.4f\n", mpi::size(), threads,
                        B, steps, net.parameters().size(), double(B) * steps / seconds, 1e3 * worst[0],
                        1e3 * worst[1], 1e3 * worst[2], 1e3 * worst[3], rate1, rate2);
        return 0;
    });
}

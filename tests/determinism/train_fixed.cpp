// Helper of the cross-process determinism test (same_in_two_processes.py): trains the network
// of tests/train/trainer.cpp's determinism test on fixed seeds with the given thread count and
// writes its parameters' raw bytes to <out>.
// random_batch only: doctest macros of the support header compile to nothing.
#define DOCTEST_CONFIG_DISABLE
#include "../support/finite_differences.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace spikegrad;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: train_fixed <threads> <out>\n");
        return 2;
    }
    const int threads = std::atoi(argv[1]);
    const auto train = spikegrad::testing::random_batch(48, 30, 10, 3, 0.1, 3);
    network<dense<lif>, dense<lif>, dense<readout>> net(
        {10, 16, 12, 3}, {.seed = 9, .threads = threads}, {.init_scale = 3.}, {.init_scale = 3.}, {});
    trainer<decltype(net), final_membrane_cross_entropy, nadam> fit(
        net, {.lr = 0.01, .epochs = 3, .batch = 16, .seed = 2, .progress = progress_mode::quiet});
    fit.run(train);
    const auto& values = net.parameters().flat();
    std::ofstream(argv[2], std::ios::binary)
        .write(reinterpret_cast<const char*>(values.data()),
               static_cast<std::streamsize>(values.size() * sizeof(values[0])));
    return 0;
}

// Shared by the libFuzzer targets: a per-process scratch file (in /dev/shm when it exists, so
// the readers that take a path cost no disk traffic) and the small network they load into.
#pragma once

#include <spikegrad/spikegrad.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fuzz {

/// A folder of this process's own: $SPIKEGRAD_FUZZ_DIR, else /dev/shm, else the temp folder.
inline const std::string& scratch_dir() {
    static const std::string dir = [] {
        std::filesystem::path base;
        if (const char* env = std::getenv("SPIKEGRAD_FUZZ_DIR"))
            base = env;
        else if (std::filesystem::is_directory("/dev/shm"))
            base = "/dev/shm";
        else
            base = std::filesystem::temp_directory_path();
        const auto dir = base / ("spikegrad-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        return dir.string();
    }();
    return dir;
}

inline std::string scratch_file(const std::string& name) { return scratch_dir() + "/" + name; }

inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

/// The network the parameter and checkpoint loaders fill: a delayed LIF layer 4W + 3 wide
/// (W = float lanes of the build), so that the delay kernels' vector paths run on whatever
/// was loaded, then a readout with a trainable tau.
inline constexpr std::size_t hidden_width = 4 * xsimd::batch<float>::size + 3;
using net_t = spikegrad::network<spikegrad::dense<spikegrad::lif, spikegrad::fast_sigmoid,
                                                  spikegrad::axonal_delay>,
                                 spikegrad::dense<spikegrad::readout>>;

inline net_t make_net(std::uint64_t seed = 1) {
    return net_t({3, hidden_width, 2}, {.seed = seed, .threads = 1},
                 {.neuron = {.train_tau = spikegrad::tau_training::per_neuron},
                  .delay = {.max_ms = 6.}, .init_scale = 3.},
                 {.neuron = {.train_tau = spikegrad::tau_training::shared}});
}

/// Forward and one training step of `net` on a fixed batch: what a loaded model is used for.
inline void exercise(net_t& net) {
    spikegrad::event_batch batch(12, 3, 2);
    batch.add_sample(std::vector<std::uint32_t>{0, 2, 5}, std::vector<std::uint32_t>{0, 1, 2}, {}, 0);
    batch.add_sample(std::vector<std::uint32_t>{1, 7}, std::vector<std::uint32_t>{2, 0}, {}, 1);
    (void)net.forward(batch);
    (void)net.train_step(batch, spikegrad::final_membrane_cross_entropy{});
}

}  // namespace fuzz

// Checkpoints round-trip exactly, and wrong, truncated or corrupted files raise io_error.
#include "../support/finite_differences.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace spikegrad;
namespace fs = std::filesystem;

namespace {

using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<lif>, dense<readout>>;

net_t make(std::uint64_t seed) {
    return net_t({6, 10, 8, 3}, {.seed = seed},
                 {.neuron = {.train_tau = tau_training::per_neuron}, .delay = {.max_ms = 5.},
                  .init_scale = 3.},
                 {.init_scale = 3.}, {});
}

fs::path scratch_file(const char* name) {
    const auto dir = fs::temp_directory_path() / "spikegrad-tests";
    fs::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST_CASE("a checkpoint round trip gives identical outputs and optimiser state") {
    const auto batch = spikegrad::testing::random_batch(6, 30, 6, 3, 0.2, 4);
    auto net = make(1);
    optimizer<adam> opt(net.parameters(), 1e-2);
    for (int k = 0; k < 3; ++k) {
        net.train_step(batch, final_membrane_cross_entropy{});
        opt.step(net.parameters(), net.gradients());
    }
    const auto path = scratch_file("roundtrip.ckpt").string();
    save_checkpoint(path, net, &opt);
    auto other = make(99);
    optimizer<adam> other_opt(other.parameters(), 1e-2);
    CHECK(other.parameters().flat() != net.parameters().flat());
    load_checkpoint(path, other, &other_opt);
    CHECK(other.parameters().flat() == net.parameters().flat());
    CHECK(other_opt.steps() == opt.steps());
    CHECK(other_opt.slots()[0] == opt.slots()[0]);
    const auto a = net.forward(batch), b = other.forward(batch);
    CHECK(a == b);
    // The next step is identical too.
    net.train_step(batch, final_membrane_cross_entropy{});
    other.train_step(batch, final_membrane_cross_entropy{});
    opt.step(net.parameters(), net.gradients());
    other_opt.step(other.parameters(), other.gradients());
    CHECK(other.parameters().flat() == net.parameters().flat());
}

TEST_CASE("loading a checkpoint of another architecture raises io_error naming both") {
    const auto path = scratch_file("arch.ckpt").string();
    save_checkpoint(path, make(1));
    network<dense<lif>, dense<readout>> small({6, 10, 3});
    CHECK_THROWS_WITH_AS(load_checkpoint(path, small), doctest::Contains("architecture mismatch"),
                         io_error);
    net_t wider({6, 11, 8, 3});
    CHECK_THROWS_AS(load_checkpoint(path, wider), io_error);
}

TEST_CASE("a truncated or corrupted checkpoint raises io_error and leaves the network unchanged") {
    const auto path = scratch_file("damaged.ckpt").string();
    save_checkpoint(path, make(1));
    const auto size = fs::file_size(path);
    auto target = make(2);
    const auto before = target.parameters().flat();
    SUBCASE("truncated") {
        fs::resize_file(path, size / 2);
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target), doctest::Contains("checkpoint"), io_error);
    }
    SUBCASE("one flipped byte") {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(size - 40));
        char c = 0;
        f.read(&c, 1);
        f.seekp(static_cast<std::streamoff>(size - 40));
        c = static_cast<char>(c ^ 0x5a);
        f.write(&c, 1);
        f.close();
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target), doctest::Contains("checksum"), io_error);
    }
    SUBCASE("not a checkpoint at all") {
        std::ofstream(path) << "hello";
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target), doctest::Contains("not a spikegrad"),
                             io_error);
    }
    SUBCASE("missing file") {
        CHECK_THROWS_AS(load_checkpoint(path + ".missing", target), io_error);
    }
    CHECK(target.parameters().flat() == before);
}

TEST_CASE("a failed checkpoint write leaves no partial file behind") {
    const auto path = (fs::temp_directory_path() / "spikegrad-no-such-dir" / "x.ckpt").string();
    CHECK_THROWS_AS(save_checkpoint(path, make(1)), io_error);
    CHECK_FALSE(fs::exists(path));
}

// network_from_checkpoint rebuilds the saved network from the file alone: the same settings,
// parameters and outputs as the network that wrote it, whatever non-default settings it had.
#include "../support/finite_differences.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace spikegrad;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const char* name) {
    const auto dir = fs::temp_directory_path() / "spikegrad-tests";
    fs::create_directories(dir);
    return dir / name;
}

using delayed_t = network<dense<lif, arctan, axonal_delay>, dense<lif, fast_sigmoid>, dense<readout>>;

// Every recorded setting away from its default, so that a setting the rebuild missed shows.
delayed_t make_delayed() {
    return delayed_t({7, 9, 6, 3}, {.dt_ms = 2.0, .seed = 5},
                     {.neuron = {.tau_ms = 30, .theta = 0.7, .reset = reset_mode::zero,
                                 .detach_reset = false, .train_theta = training::per_neuron},
                      .surrogate = {.alpha = 3.5},
                      .delay = {.max_ms = 12, .init_high = 4, .forward = axonal_delay::mode::shift},
                      .init_scale = 4.0,
                      .weight_norm = true},
                     {.neuron = {.train_tau = training::per_neuron, .tau_min_ms = 2},
                      .surrogate = {.alpha = 40},
                      .bias = false,
                      .init_scale = 3.0,
                      .sparse_gradient_threshold = 0.5},
                     {.neuron = {.tau_ms = 80, .train_tau = training::shared}});
}

}  // namespace

TEST_CASE("network_from_checkpoint rebuilds the settings, sizes, parameters and outputs") {
    auto net = make_delayed();
    // Move the parameters off their initial values, so that a rebuild that only re-initialised
    // from the same seed would differ.
    const auto batch = spikegrad::testing::random_batch(4, 25, 7, 3, 0.25, 8);
    optimizer<adam> opt(net.parameters(), 2e-2);
    for (int k = 0; k < 3; ++k) {
        net.train_step(batch, final_membrane_cross_entropy{});
        opt.step(net.parameters(), net.gradients());
    }
    const auto path = scratch("from_checkpoint.ckpt").string();
    save_checkpoint(path, net);

    const auto info = read_checkpoint_info(path);
    CHECK(info.architecture == net.architecture());
    CHECK(info.scalar_bytes == sizeof(float));
    REQUIRE(info.shape_of("layer1.weight"));
    CHECK(*info.shape_of("layer1.weight") == std::vector<std::size_t>{9, 6});
    CHECK(info.shape_of("layer0.gain"));
    CHECK_FALSE(info.shape_of("layer1.bias"));

    const auto rebuilt = network_from_checkpoint<delayed_t>(path, {.seed = 77, .threads = 1});
    CHECK(rebuilt.sizes() == std::vector<std::size_t>{7, 9, 6, 3});
    CHECK(network_settings(rebuilt) == network_settings(net));
    CHECK(rebuilt.parameters().flat() == net.parameters().flat());
    CHECK(rebuilt.forward(batch) == net.forward(batch));
}

TEST_CASE("network_from_checkpoint refuses another architecture and names both") {
    auto net = make_delayed();
    const auto path = scratch("from_checkpoint_other.ckpt").string();
    save_checkpoint(path, net);
    using other_t = network<dense<lif, arctan, axonal_delay>, dense<lif, sigmoid>, dense<readout>>;
    try {
        (void)network_from_checkpoint<other_t>(path);
        FAIL("no error");
    } catch (const error& e) {
        const std::string what = e.what();
        CHECK(what.find(path) != std::string::npos);
        CHECK(what.find("not a") != std::string::npos);
    }
    using shallow_t = network<dense<lif>, dense<readout>>;
    CHECK_THROWS_AS((void)network_from_checkpoint<shallow_t>(path), error);
    CHECK_THROWS_AS((void)network_from_checkpoint<delayed_t>(scratch("absent.ckpt").string()),
                    io_error);
}

TEST_CASE("read_settings raises data_error naming a missing or unreadable setting") {
    settings_record r;
    r.add("p.reset", "zero");
    r.add("p.detach_reset", "maybe");
    lif::params o;
    try {
        read_settings(r, "p", o);
        FAIL("no error");
    } catch (const data_error& e) {
        CHECK(std::string(e.what()).find("p.detach_reset") != std::string::npos);
    }
    settings_record family;
    family.add("s", "arctan");
    family.add("s.alpha", "2");
    fast_sigmoid fs_surrogate;
    CHECK_THROWS_AS(read_settings(family, "s", fs_surrogate), data_error);
    arctan at;
    read_settings(family, "s", at);
    CHECK(at.alpha == 2.0);
    settings_record number;
    number.add("s", "arctan");
    number.add("s.alpha", "2x");
    CHECK_THROWS_AS(read_settings(number, "s", at), data_error);
}

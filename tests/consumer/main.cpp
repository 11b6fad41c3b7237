// Builds against an installed spikegrad, trains a few steps and checks that it learns, and that
// the version find_package saw (spikegradConfigVersion.cmake) is the installed config.hpp's.
#include <spikegrad/spikegrad.hpp>

#include <cstdio>
#include <string_view>

// SPIKEGRAD_PACKAGE_VERSION comes from tests/consumer/CMakeLists.txt.
static_assert(std::string_view(SPIKEGRAD_PACKAGE_VERSION) == SPIKEGRAD_VERSION_STRING,
              "the installed package version differs from SPIKEGRAD_VERSION_* in config.hpp");

int main() {
    using namespace spikegrad;
    using net_t = network<dense<lif>, dense<readout>>;
    net_t net({4, 8, 2}, {.seed = 1}, {.init_scale = 3.0}, {});
    event_batch batch(20, 4, 2);
    for (std::int32_t b = 0; b < 8; ++b) {
        const std::uint32_t unit = b % 2 == 0 ? 0u : 3u;
        batch.add_sample(std::vector<std::uint32_t>{2, 5, 9}, std::vector<std::uint32_t>{unit, unit, unit},
                         {}, b % 2);
    }
    trainer<net_t, final_membrane_cross_entropy, adam> fit(
        net, {.lr = 0.05, .epochs = 30, .batch = 8, .progress = progress_mode::quiet});
    const double before = fit.evaluate(batch).loss();
    fit.run(batch);
    const double after = fit.evaluate(batch).loss();
    std::printf("consumer: spikegrad %s (package %s), loss %.4f -> %.4f\n", SPIKEGRAD_VERSION_STRING,
                SPIKEGRAD_PACKAGE_VERSION, before, after);
    return after < before ? 0 : 1;
}

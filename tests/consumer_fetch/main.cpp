// Built against spikegrad taken with FetchContent: trains a few steps and checks that it learns;
// where the HDF5 module is there, writes the model as NIR and reads it back.
#include <spikegrad/spikegrad.hpp>
#if CONSUMER_HAS_NIR
#include <spikegrad/io/nir.hpp>
#endif

#include <cstdio>
#include <vector>

int main() {
    using namespace spikegrad;
    using net_t = network<dense<lif>, dense<readout>>;
    dense<lif>::options hidden{.init_scale = 3.0};
    hidden.neuron.reset = reset_mode::zero;  // NIR's reset
    net_t net({4, 8, 2}, {.seed = 1}, hidden, {});
    event_batch batch(20, 4, 2);
    for (std::int32_t b = 0; b < 8; ++b) {
        const std::uint32_t unit = b % 2 == 0 ? 0u : 3u;
        batch.add_sample(std::vector<std::uint32_t>{2, 5, 9},
                         std::vector<std::uint32_t>{unit, unit, unit}, {}, b % 2);
    }
    trainer<net_t, final_membrane_cross_entropy, adam> fit(
        net, {.lr = 0.05, .epochs = 30, .batch = 8, .progress = progress_mode::quiet});
    const double before = fit.evaluate(batch).loss();
    fit.run(batch);
    const double after = fit.evaluate(batch).loss();
    std::printf("consumer_fetch: spikegrad %s, loss %.4f -> %.4f\n", SPIKEGRAD_VERSION_STRING,
                before, after);
    if (!(after < before)) return 1;
#if CONSUMER_HAS_NIR
    write_nir(net, "consumer_fetch.nir", 1.0);
    const auto back = read_nir<net_t>("consumer_fetch.nir", 1.0);
    const auto a = net.forward(batch), b = back.forward(batch);
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::abs(a.data()[i] - b.data()[i]) > 1e-5f) return 2;
    std::printf("consumer_fetch: NIR round trip gives the same outputs\n");
#endif
    return 0;
}

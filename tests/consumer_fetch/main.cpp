// Built against spikegrad taken with FetchContent: runs a small network forward; where the
// HDF5 module is there, writes it as NIR, reads it back and checks the outputs are the same.
#include <spikegrad/spikegrad.hpp>
#if CONSUMER_HAS_NIR
#include <spikegrad/io/nir.hpp>
#endif

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
    using namespace spikegrad;
    using net_t = network<dense<lif>, dense<readout>>;
    dense<lif>::options hidden{.init_scale = 3.0};
    hidden.neuron.reset = reset_mode::zero;  // NIR's reset
    const net_t net({4, 8, 2}, {.seed = 1}, hidden, {});
    event_batch batch(20, 4);
    batch.add_sample(std::vector<std::uint32_t>{2, 5, 9}, std::vector<std::uint32_t>{0, 3, 1});
    const auto out = net.forward(batch);
    std::printf("consumer_fetch: spikegrad %s, readout [%zu, %zu, %zu]\n", SPIKEGRAD_VERSION_STRING,
                out.shape(0), out.shape(1), out.shape(2));
    if (out.shape(1) != 20 || out.shape(2) != 2) return 1;
#if CONSUMER_HAS_NIR
    write_nir(net, "consumer_fetch.nir", 1.0);
    const auto back = read_nir<net_t>("consumer_fetch.nir", 1.0).forward(batch);
    for (std::size_t i = 0; i < out.size(); ++i)
        if (std::abs(out.data()[i] - back.data()[i]) > 1e-5f) return 2;
    std::printf("consumer_fetch: NIR round trip gives the same outputs\n");
#endif
    return 0;
}

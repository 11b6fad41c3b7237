// Writes the models of the firmware benchmarks and size report into <out>/<variant>/:
// an SHD-shaped network (700-128-128-20, LIF with learnable axonal delays, leaky readout;
// dt = 14 ms, 100 steps) with a dense input sample (10% of units per step, "shd") and one at
// the spoken-digits set's density (3.7%, "shd_sparse"), and the ISI quickstart's shape
// (10-100-2), each in float, int16 and int8, with one recorded input sample. The weights are the initialisation scaled so that the
// hidden layers fire at SHD-like rates (3-8% of neurons per step); the printed activity says
// what this sample has. Each variant folder holds model.hpp (namespace <variant>), app_model.hpp
// (namespace model = <variant>, for examples/firmware/run_model.cpp) and sample.hpp.
#define DOCTEST_CONFIG_DISABLE
#include "../../tests/support/finite_differences.hpp"

#include <spikegrad/firmware/export.hpp>
#include <spikegrad/spikegrad.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

using namespace spikegrad;

namespace {

/// One recorded sample in namespace <name>_input, aliased as `sample` (for run_model.cpp)
/// unless SPIKEGRAD_SAMPLE_NO_ALIAS is defined (the benchmark includes several samples).
void write_sample(const std::string& path, const std::string& name, const event_batch& batch) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) raise<io_error>("make_models: cannot write ", path);
    std::fprintf(f, "// One recorded input sample (bench/firmware/make_models.cpp).\n#pragma once\n"
                    "#include <stddef.h>\n#include <stdint.h>\nnamespace %s_input {\n"
                    "inline constexpr size_t n_steps = %zu;\n", name.c_str(), batch.n_steps);
    std::fprintf(f, "inline constexpr uint32_t offsets[%zu] = {", batch.n_steps + 1);
    for (std::size_t t = 0; t <= batch.n_steps; ++t) std::fprintf(f, "%zu,", batch.offsets[t]);
    std::fprintf(f, "};\ninline constexpr uint16_t units[%zu] = {", std::max<std::size_t>(1, batch.units.size()));
    for (std::size_t e = 0; e < batch.units.size(); ++e)
        std::fprintf(f, "%s%u,", e % 16 ? "" : "\n", batch.units[e]);
    std::fprintf(f, "};\n}  // namespace %s_input\n#ifndef SPIKEGRAD_SAMPLE_NO_ALIAS\n"
                    "namespace sample = %s_input;\n#endif\n", name.c_str(), name.c_str());
    std::fclose(f);
}

template <class Net>
void write_variants(const Net& net, const std::string& out, const std::string& stem,
                    const event_batch& sample, firmware::score_rule rule) {
    for (auto [format, suffix] : {std::pair{firmware::number_format::float32, "float"},
                                  std::pair{firmware::number_format::int16, "int16"},
                                  std::pair{firmware::number_format::int8, "int8"}}) {
        const std::string name = stem + "_" + suffix, dir = out + "/" + name;
        std::filesystem::create_directories(dir);
        const auto model =
            export_firmware(net, dir + "/model.hpp", {.format = format, .rule = rule, .name = name});
        std::FILE* f = std::fopen((dir + "/app_model.hpp").c_str(), "w");
        std::fprintf(f, "#pragma once\n#include \"model.hpp\"\nnamespace model = %s;\n", name.c_str());
        std::fclose(f);
        write_sample(dir + "/sample.hpp", name, sample);
        if (format == firmware::number_format::float32) {
            // Hidden activity of this sample: spikes per neuron and step in each layer.
            firmware_runner<float, float> runner(model);
            std::vector<double> spikes(model.layers.size(), 0);
            const auto view = sample.sample(0);
            for (std::size_t t = 0; t < sample.n_steps; ++t) {
                std::vector<std::uint16_t> units(view.units + view.begin(t), view.units + view.end(t));
                runner.push(units.data(), units.size());
                for (std::size_t k = 0; k < model.layers.size(); ++k) {
                    if (model.layers[k].neuron != firmware::neuron_kind::lif) continue;
                    for (std::uint32_t w : runner.spikes(k)) spikes[k] += std::popcount(w);
                }
            }
            std::printf("%s: %zu input events in %zu steps (%.1f%% of inputs per step)", stem.c_str(),
                        sample.units.size(), sample.n_steps,
                        100.0 * double(sample.units.size()) / double(sample.n_steps * sample.n_units));
            for (std::size_t k = 0; k < model.layers.size(); ++k)
                if (model.layers[k].neuron == firmware::neuron_kind::lif)
                    std::printf(", layer%zu %.1f%%", k,
                                100.0 * spikes[k] / double(sample.n_steps * model.layers[k].n_out));
            std::printf("\n");
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: make_models <output folder> [shd weight scale] [shd input density]\n");
        return 2;
    }
    try {
        const std::string out = argv[1];
        const double scale = argc > 2 ? std::stod(argv[2]) : 3.0;
        const double density = argc > 3 ? std::stod(argv[3]) : 0.1;
        {
            using delayed_lif = dense<lif, fast_sigmoid, axonal_delay>;
            using net_t = network<delayed_lif, delayed_lif, dense<readout>>;
            // The released SHD code's shape: 64 steps of 14 ms of delay at most; delays spread
            // over U[0, 32) steps as a trained model's are.
            const axonal_delay::params delays{.max_ms = 64 * 14.0, .init_low = 0, .init_high = 32};
            auto make = [&](double init_scale) {
                return net_t({700, 128, 128, 20}, {.dt_ms = 14.0, .seed = 5, .threads = 1},
                             {.neuron = {.tau_ms = 100}, .delay = delays, .init_scale = init_scale},
                             {.neuron = {.tau_ms = 100}, .delay = delays, .init_scale = init_scale},
                             {.neuron = {.tau_ms = 100}});
            };
            write_variants(make(scale), out, "shd",
                           testing::random_batch(1, 100, 700, 20, density, 3),
                           firmware::score_rule::mean);
            // The spoken-digits development set's input density: 3.7% of units per 14 ms step
            // on average (its train file); the larger scale keeps the hidden layers at 3-8%.
            write_variants(make(4.5), out, "shd_sparse",
                           testing::random_batch(1, 100, 700, 20, 0.037, 3),
                           firmware::score_rule::mean);
        }
        {
            using net_t = network<dense<lif, fast_sigmoid>, dense<readout>>;
            net_t net({10, 100, 2}, {.dt_ms = 1.0, .seed = 1, .threads = 1},
                      {.neuron = {.tau_ms = 50}, .init_scale = 4.0}, {.neuron = {.tau_ms = 500}});
            write_variants(net, out, "isi", testing::random_batch(1, 1000, 10, 2, 0.002, 3),
                           firmware::score_rule::last);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_models: %s\n", e.what());
        return 1;
    }
    return 0;
}

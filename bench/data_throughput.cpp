// Throughput of the data transforms and of binning on an SHD-sized synthetic dataset:
// 8,000 samples of ~8,000 spikes over 700 units in 1.4 s (times in seconds, as in the
// files), binned at 100 bins of 14 ms. Counters report spikes per second.
#include <spikegrad/core/random.hpp>
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/dataset.hpp>
#include <spikegrad/data/transforms.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace spikegrad;

constexpr std::size_t n_samples = 8000;
constexpr std::size_t spikes_per_sample = 8000;
constexpr std::size_t n_units = 700;
constexpr double duration_s = 1.4;
constexpr double dt_s = duration_s / 100;

/// Uniform spike times over 1.4 s, units uniform over 700; sorted here with one packed key,
/// so that add_sample finds them in order.
const spike_dataset& shd_sized() {
    static const spike_dataset data = [] {
        std::vector<std::string> classes;
        for (int c = 0; c < 20; ++c) classes.push_back("class " + std::to_string(c));
        spike_dataset out(n_units, duration_s, time_unit::seconds, classes);
        rng random(1);
        std::vector<std::uint64_t> keys(spikes_per_sample);
        std::vector<float> times(spikes_per_sample);
        std::vector<std::uint32_t> units(spikes_per_sample);
        for (std::size_t s = 0; s < n_samples; ++s) {
            for (auto& key : keys) {
                const auto t = static_cast<float>(random.uniform(0, duration_s));
                key = (std::uint64_t(std::bit_cast<std::uint32_t>(t)) << 32) | random.below(n_units);
            }
            std::sort(keys.begin(), keys.end());
            for (std::size_t e = 0; e < keys.size(); ++e) {
                times[e] = std::bit_cast<float>(static_cast<std::uint32_t>(keys[e] >> 32));
                units[e] = static_cast<std::uint32_t>(keys[e]);
            }
            out.add_sample(times, units, static_cast<std::int32_t>(s % 20));
        }
        return out;
    }();
    return data;
}

template <class Transform>
void run(benchmark::State& state, Transform transform) {
    const spike_dataset& data = shd_sized();
    std::size_t spikes = 0;
    for (auto _ : state) {
        auto out = transform(data);
        benchmark::DoNotOptimize(out);
        spikes += data.n_spikes();
    }
    state.counters["spikes/s"] =
        benchmark::Counter(static_cast<double>(spikes), benchmark::Counter::kIsRate);
}

void replace_exact(benchmark::State& state) {
    run(state, [](const spike_dataset& d) { return replace_spikes(d, 0.5, 42); });
}

void replace_bernoulli(benchmark::State& state) {
    run(state, [](const spike_dataset& d) {
        return replace_spikes(
            d, {.fraction = 0.5, .mode = replacement_mode::bernoulli_relocate, .grid = dt_s}, 42);
    });
}

void jitter_spike(benchmark::State& state) {
    run(state, [](const spike_dataset& d) { return jitter_per_spike(d, 0.025, 42); });
}

void jitter_neuron(benchmark::State& state) {
    run(state, [](const spike_dataset& d) { return jitter_per_neuron(d, 0.025, 42); });
}

void deletion(benchmark::State& state) {
    run(state, [](const spike_dataset& d) { return delete_spikes(d, 0.5, 42); });
}

void reversal(benchmark::State& state) {
    run(state, [](const spike_dataset& d) { return reverse_time(d); });
}

void binning(benchmark::State& state) {
    run(state, [](const spike_dataset& d) { return bin_events(d, {.dt_ms = dt_s * 1000.0, .n_steps = 100}); });
}

}  // namespace

BENCHMARK(replace_exact)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(replace_bernoulli)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(jitter_spike)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(jitter_neuron)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(deletion)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(reversal)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(binning)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

BENCHMARK_MAIN();

// The firmware engine on one host core: one 100-step SHD-shaped sample (700-128-128-20, LIF
// with axonal delays) through the compile-time engine in float, int16 and int8, at two input
// densities: 10% of inputs per step (hidden layers 7.3% / 3.9%) and the spoken-digits set's
// 3.7% (hidden 5.0% / 5.2%); make_models prints each sample's activity. Target: <= 100 us.
// The models come from bench/firmware/make_models.cpp (generated at build time).
#include "shd_float/model.hpp"
#include "shd_int16/model.hpp"
#include "shd_int8/model.hpp"
#include "shd_sparse_float/model.hpp"
#include "shd_sparse_int16/model.hpp"
#include "shd_sparse_int8/model.hpp"
#define SPIKEGRAD_SAMPLE_NO_ALIAS
#include "shd_float/sample.hpp"
#include "shd_sparse_float/sample.hpp"

#include <benchmark/benchmark.h>

namespace {

template <class Net, class Sample>
void run_sample(benchmark::State& bench) {
    static typename Net::state s;
    std::size_t events = 0;
    for (auto _ : bench) {
        Net::reset(s);
        for (std::size_t t = 0; t < Sample::n_steps; ++t)
            Net::push(s, Sample::units + Sample::offsets[t], Sample::offsets[t + 1] - Sample::offsets[t]);
        benchmark::DoNotOptimize(Net::predict(s));
        events += Sample::offsets[Sample::n_steps];
    }
    bench.counters["input_events_per_s"] =
        benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

}  // namespace

// The samples are namespaces; a struct of their constants makes each a type.
struct dense_sample {
    static constexpr auto n_steps = shd_float_input::n_steps;
    static constexpr const auto& offsets = shd_float_input::offsets;
    static constexpr const auto& units = shd_float_input::units;
};
struct sparse_sample {
    static constexpr auto n_steps = shd_sparse_float_input::n_steps;
    static constexpr const auto& offsets = shd_sparse_float_input::offsets;
    static constexpr const auto& units = shd_sparse_float_input::units;
};

BENCHMARK(run_sample<shd_float::network, dense_sample>)->Name("firmware/shd_sample_10pct/float")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_int16::network, dense_sample>)->Name("firmware/shd_sample_10pct/int16")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_int8::network, dense_sample>)->Name("firmware/shd_sample_10pct/int8")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_sparse_float::network, sparse_sample>)->Name("firmware/shd_sample_3.7pct/float")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_sparse_int16::network, sparse_sample>)->Name("firmware/shd_sample_3.7pct/int16")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_sparse_int8::network, sparse_sample>)->Name("firmware/shd_sample_3.7pct/int8")->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();

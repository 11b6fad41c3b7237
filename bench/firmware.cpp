// The firmware engine on one host core: one 100-step SHD-shaped sample (700-128-128-20, LIF
// with axonal delays, 10% of inputs per step, hidden layers at 7.3% and 3.9% of neurons per
// step) through the compile-time engine in float, int16 and int8. Target: <= 100 us a sample.
// The models come from bench/firmware/make_models.cpp (generated at build time).
#include "shd_float/model.hpp"
#include "shd_int16/model.hpp"
#include "shd_int8/model.hpp"
#include "shd_float/sample.hpp"

#include <benchmark/benchmark.h>

namespace {

template <class Net>
void run_sample(benchmark::State& bench) {
    static typename Net::state s;
    std::size_t events = 0;
    for (auto _ : bench) {
        Net::reset(s);
        for (std::size_t t = 0; t < sample::n_steps; ++t)
            Net::push(s, sample::units + sample::offsets[t], sample::offsets[t + 1] - sample::offsets[t]);
        benchmark::DoNotOptimize(Net::predict(s));
        events += sample::offsets[sample::n_steps];
    }
    bench.counters["input_events_per_s"] =
        benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(run_sample<shd_float::network>)->Name("firmware/shd_sample/float")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_int16::network>)->Name("firmware/shd_sample/int16")->Unit(benchmark::kMicrosecond);
BENCHMARK(run_sample<shd_int8::network>)->Name("firmware/shd_sample/int8")->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();

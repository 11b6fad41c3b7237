// libFuzzer target: event binning and every transform of data/transforms.hpp on arbitrary
// datasets with arbitrary options. The input describes the dataset (units, duration, time
// unit, classes, samples of any times and units; add_sample refuses what is invalid) and the
// options of each call. The harness skips option values whose output would exceed ~10^5
// bins a sample (a memory limit of the harness, not a property of the code: such a call is
// as large as it asks to be).
#include "support.hpp"

#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/split.hpp>
#include <spikegrad/data/transforms.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <limits>

namespace {

double any_double(FuzzedDataProvider& in, double typical_max) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
        case 0: return std::numeric_limits<double>::quiet_NaN();
        case 1: return std::numeric_limits<double>::infinity();
        case 2: return -in.ConsumeFloatingPointInRange<double>(0, typical_max);
        case 3: return 0;
        case 4: return in.ConsumeFloatingPoint<double>();
        default: return in.ConsumeFloatingPointInRange<double>(0, typical_max);
    }
}

bool small_enough(double duration, double width) {
    return width > 0 && std::isfinite(width) && duration / width < 1e5;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace spikegrad;
    FuzzedDataProvider in(data, size);
    const auto n_units = in.ConsumeIntegralInRange<std::size_t>(1, 40);
    const double duration = in.ConsumeBool() ? in.ConsumeFloatingPointInRange<double>(0.5, 200)
                                             : any_double(in, 50);
    const auto unit = static_cast<time_unit>(in.ConsumeIntegralInRange<int>(0, 2));
    const auto classes = in.ConsumeIntegralInRange<std::size_t>(1, 4);
    std::vector<std::string> names;
    for (std::size_t c = 0; c < classes; ++c) names.push_back(std::to_string(c));
    spike_dataset set;
    try {
        set = spike_dataset(n_units, duration, unit, names, in.ConsumeFloatingPointInRange<double>(0.1, 5));
    } catch (const spikegrad::error&) {
        return 0;
    }
    const auto samples = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    for (std::size_t s = 0; s < samples; ++s) {
        const auto length = in.ConsumeIntegralInRange<std::size_t>(0, 24);
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (std::size_t e = 0; e < length; ++e) {
            times.push_back(in.ConsumeBool() ? static_cast<float>(in.ConsumeFloatingPointInRange<double>(0, duration > 0 && std::isfinite(duration) ? duration * 1.2 : 10))
                                             : static_cast<float>(any_double(in, 100)));
            units.push_back(in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint32_t>(0, std::uint32_t(n_units - 1))
                                             : in.ConsumeIntegral<std::uint32_t>());
        }
        const auto label = in.ConsumeIntegralInRange<std::int32_t>(-1, std::int32_t(classes));
        try {
            set.add_sample(times, units, label,
                           in.ConsumeBool() ? unsorted_times::sort : unsorted_times::reject);
        } catch (const spikegrad::error&) {
        }
    }
    const std::uint64_t seed = in.ConsumeIntegral<std::uint64_t>();
    const auto attempt = [](auto&& call) {
        try {
            call();
        } catch (const spikegrad::error&) {
        }
    };
    const double per_unit = set.ms_per_unit();
    binning_options binning{.dt_ms = any_double(in, 20),
                            .n_steps = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, 3000),
                            .count = in.ConsumeBool(),
                            .edges = in.ConsumeBool() ? bin_edges::half_open : bin_edges::digitize_linspace};
    if (binning.n_steps > 0 || small_enough(set.duration(), binning.dt_ms / per_unit))
        attempt([&] { (void)bin_events(set, binning); });
    const double grid = in.ConsumeBool() ? 0 : any_double(in, 5);
    const bool grid_ok = grid == 0 || small_enough(set.duration(), grid);
    replacement_options replace{.fraction = any_double(in, 1),
                                .mode = in.ConsumeBool() ? replacement_mode::exact_count
                                                         : replacement_mode::bernoulli_relocate,
                                .grid = grid,
                                .max_tries = in.ConsumeIntegralInRange<std::size_t>(0, 60)};
    if (grid_ok) attempt([&] { (void)replace_spikes(set, replace, seed); });
    spike_jitter_options jitter{.sigma = any_double(in, 5), .grid = grid};
    if (grid_ok) attempt([&] { (void)jitter_per_spike(set, jitter, seed); });
    neuron_jitter_options neuron{.sigma = any_double(in, 5),
                                 .mode = in.ConsumeBool() ? neuron_jitter_mode::gaussian
                                                          : neuron_jitter_mode::released_code,
                                 .offset = any_double(in, 30),
                                 .grid = grid};
    if (grid_ok) attempt([&] { (void)jitter_per_neuron(set, neuron, seed); });
    attempt([&] { (void)delete_spikes(set, any_double(in, 1), seed); });
    attempt([&] { (void)reverse_time(set); });
    attempt([&] {
        const auto target = static_cast<time_unit>(in.ConsumeIntegralInRange<int>(0, 2));
        (void)set.with_time_unit(target, any_double(in, 0.01));
    });
    attempt([&] {
        const auto split = stratified_split(set, {});
        (void)split;
    });
    return 0;
}

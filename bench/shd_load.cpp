// SHD loading and the whole -> part -> norm builder at full scale (issue 3's memory bound:
// loading a 400 MB file must need at most ~2x its size). A plain program, timed by itself and
// measured from outside by /usr/bin/time -v (bench/shd_memory.sh runs it and records results).
//   bench_shd_load generate <file.h5> [samples 8000] [mean spikes 8000] [seed 1] [float16]
//   bench_shd_load load <file.h5>     read_shd only
//   bench_shd_load build <file.h5>    read_shd, build_variants (SHD binning), bin_events
#include <spikegrad/core/random.hpp>
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/shd.hpp>
#include <spikegrad/data/variants.hpp>
#include <spikegrad/data/variants_report.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace spikegrad;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

/// SHD-like content: ~mean spikes per sample (uniform in [0.75, 1.25] x mean), times uniform
/// in [0, 1.4) s, units from a triangular law over 700 channels, so the edge channels fire
/// rarely (bad neurons for the builder) and the middle ones often, as in the cochlea model.
spike_dataset generate(std::size_t samples, std::size_t mean_spikes, std::uint64_t seed) {
    std::vector<std::string> names;
    for (int c = 0; c < 20; ++c) names.push_back("class " + std::to_string(c));
    spike_dataset data(700, 1.4, time_unit::seconds, names);
    data.reserve(samples, samples * mean_spikes * 5 / 4);
    rng generator(seed);
    std::vector<float> times;
    std::vector<std::uint32_t> units;
    for (std::size_t s = 0; s < samples; ++s) {
        const auto n = static_cast<std::size_t>(generator.uniform(0.75, 1.25) *
                                                static_cast<double>(mean_spikes));
        times.resize(n);
        units.resize(n);
        for (std::size_t e = 0; e < n; ++e)
            times[e] = static_cast<float>(generator.uniform(0, 1.4));
        std::sort(times.begin(), times.end());
        for (std::size_t e = 0; e < n; ++e)
            units[e] =
                static_cast<std::uint32_t>(350.0 * (generator.uniform() + generator.uniform()));
        data.add_sample(times, units, static_cast<std::int32_t>(s % 20));
    }
    return data;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s generate|load|build <file.h5> [samples] [spikes] [seed]\n",
                     argv[0]);
        return 2;
    }
    const std::string mode = argv[1], path = argv[2];
    try {
        if (mode == "generate") {
            const std::size_t samples = argc > 3 ? std::stoul(argv[3]) : 8000;
            const std::size_t spikes = argc > 4 ? std::stoul(argv[4]) : 8000;
            const std::uint64_t seed = argc > 5 ? std::stoull(argv[5]) : 1;
            auto start = std::chrono::steady_clock::now();
            const spike_dataset data = generate(samples, spikes, seed);
            const double made = seconds_since(start);
            start = std::chrono::steady_clock::now();
            const bool half = argc > 6 && std::string(argv[6]) == "float16";
            write_shd(path, data, {},
                      {.time_type = half ? shd_time_type::float16 : shd_time_type::float32});
            std::printf("generated %zu samples, %zu spikes in %.2f s; wrote %.1f MB in %.2f s\n",
                        data.size(), data.n_spikes(), made,
                        static_cast<double>(std::filesystem::file_size(path)) / 1e6,
                        seconds_since(start));
            return 0;
        }
        const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
        auto start = std::chrono::steady_clock::now();
        std::size_t last_percent = 0;
        const shd_file file = read_shd(path, {.progress = [&](std::size_t done, std::size_t total) {
                                           const std::size_t p = 100 * done / total;
                                           if (p >= last_percent + 25) {
                                               std::fprintf(stderr, "  loading %zu%%\n", p);
                                               last_percent = p;
                                           }
                                       }});
        const double load_s = seconds_since(start);
        std::printf(
            "load: %.1f MB file, %zu samples, %zu spikes in %.2f s; peak RSS %.0f MiB "
            "(%.2fx the file)\n",
            file_mb, file.data.size(), file.data.n_spikes(), load_s, peak_rss_mb(),
            peak_rss_mb() / (file_mb * 1e6 / (1024.0 * 1024.0)));
        if (mode == "load") return 0;
        if (mode != "build") {
            std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
            return 2;
        }
        start = std::chrono::steady_clock::now();
        const variant_sets sets = build_variants(file.data);
        const double build_s = seconds_since(start);
        const binning_options binning = variant_options{}.binning;
        std::printf("%s\n", to_string(sets.report).c_str());
        std::printf("build_variants %.2f s\n", build_s);
        for (const auto& [name, set] :
             {std::pair<const char*, const spike_dataset*>{"whole", &sets.whole},
              {"part", &sets.part},
              {"norm", &sets.norm}}) {
            start = std::chrono::steady_clock::now();
            const event_batch batch = bin_events(*set, binning);
            std::printf("bin_events(%s): %zu samples, %zu spikes -> %zu binned events in %.2f s\n",
                        name, set->size(), set->n_spikes(), batch.n_events(), seconds_since(start));
        }
        std::printf("peak RSS %.0f MiB\n", peak_rss_mb());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

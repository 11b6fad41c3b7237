/// \file
/// spikegrad: the paper's timing perturbations as pure functions (dataset, parameters, seed)
/// -> new spike_dataset: random replacement (eq. 3, section 2.1), per-spike and per-neuron
/// Gaussian jitter, deletion and time reversal (section 4). Source: Yu, Sun, Goodman 2025.
#pragma once

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "dataset.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace spikegrad {

// Every transform below:
// - works in the dataset's own time unit (data.unit(): seconds for SHD files, steps for the
//   synthetic tasks) and takes T = data.duration() as the sample length;
// - returns a new dataset (the input is never modified) with the same units, duration, time
//   unit, classes and labels, sample i of the output coming from sample i of the input;
// - draws the randomness of a sample from rng(seed).fork(data.storage_index(i)): a sample's
//   stream depends on its place in the shared storage, not on its position in a view, so
//   transforming a subset gives exactly the same samples as transforming the whole and
//   taking the subset afterwards, whatever the thread count.

/// How random replacement picks the spikes it moves.
enum class replacement_mode {
    /// Paper, eq. 3: per neuron remove exactly floor(f |S_i|) spikes chosen uniformly and
    /// add as many at uniform times in [0, T). Per-neuron counts are preserved exactly.
    exact_count,
    /// [variant] the released code: each spike is moved with probability f to a uniformly
    /// drawn bin of the same neuron that holds no spike, trying up to max_tries bins; a
    /// spike that finds no empty bin is lost. Moved spikes land on the bin's start.
    bernoulli_relocate,
};

/// Options of the spike-replacement perturbation: the fraction f of spikes moved and how.
struct replacement_options {
    /// f in [0, 1]: the fraction (exact_count) or probability (bernoulli_relocate) of
    /// spikes moved.
    double fraction = 0;
    replacement_mode mode = replacement_mode::exact_count;
    /// Bin width in the dataset's time unit. exact_count: 0 draws continuous times, > 0 draws
    /// a uniform bin k of [0, ceil(T / grid)) and places the spike at k grid.
    /// bernoulli_relocate needs bins: 0 means one step for a dataset in steps and is an
    /// option_error otherwise (use the binning dt, e.g. 1.4 / 100 s for SHD).
    double grid = 0;
    /// bernoulli_relocate: bins tried per moved spike (the released code's 50).
    std::size_t max_tries = 50;
};

/// Per-spike jitter t' = clip(t + N(0, sigma^2)) (paper section 4).
struct spike_jitter_options {
    /// Standard deviation in the dataset's time unit (steps for the synthetic tasks,
    /// seconds for SHD files: the paper's 25 ms is 0.025 s or 25 steps of 1 ms).
    double sigma = 0;
    /// 0 keeps continuous times, clipped into [0, T) (to the largest float below T); > 0
    /// rounds each jittered time to the nearest multiple of grid and clips it to [0, last
    /// grid point below T] (the released code's clip(round(t + N(0, sigma^2)), 0, T - 1)).
    double grid = 0;
};

/// How per-neuron jitter shifts a neuron.
enum class neuron_jitter_mode {
    /// Paper: one Delta_i ~ N(0, sigma^2) per neuron and sample added to all its spikes,
    /// clipped to [0, T) like per-spike jitter. Event counts are preserved.
    gaussian,
    /// [variant] the released code, on the bin grid: bin b -> clip(b + offset + round(
    /// N(0, sigma^2)), 0, last bin), then spikes of a neuron that share a bin are merged.
    released_code,
};

/// Options of the per-neuron jitter: the shift's standard deviation and distribution.
struct neuron_jitter_options {
    /// Standard deviation of the per-neuron shift in the dataset's time unit.
    double sigma = 0;
    neuron_jitter_mode mode = neuron_jitter_mode::gaussian;
    /// released_code: the constant shift added to every spike, in the dataset's time unit
    /// (the code's 20 steps; for a dataset in seconds binned at dt use 20 dt). Rounded to
    /// whole bins.
    double offset = 20;
    /// Bin width in the dataset's time unit. gaussian: 0 keeps continuous shifts, > 0
    /// rounds each Delta_i to a multiple of grid (the code's int(round(...))).
    /// released_code: 0 means one step for a dataset in steps, else an option_error.
    double grid = 0;
};

namespace detail {

inline void check_probability(const char* function, const char* name, double value) {
    if (!(value >= 0 && value <= 1))
        raise<option_error>(function, ": ", name, " ", value, " outside [0, 1]");
}

inline void check_non_negative(const char* function, const char* name, double value) {
    if (!(value >= 0) || !std::isfinite(value))
        raise<option_error>(function, ": ", name, " ", value,
                            " must be a finite number >= 0");
}

/// The largest float strictly below `limit`: times are clipped into [0, T) rather than
/// [0, T], so a clipped spike lands in the last bin of [k dt, (k+1) dt) binning instead of
/// being dropped by it.
inline float float_below(double limit) {
    float f = static_cast<float>(limit);
    while (static_cast<double>(f) >= limit) f = std::nextafter(f, 0.f);
    return f;
}

/// t clipped into [0, upper]; also maps -0 to +0, which the packed sort key relies on.
inline float clip_time(double t, float upper) {
    const float f = static_cast<float>(t);
    if (!(f > 0)) return 0.f;
    return f > upper ? upper : f;
}

/// Bin width used by the grid-based variants: `grid` when given, one step for a dataset
/// in steps, else an option_error naming the function.
inline double resolve_grid(const spike_dataset& data, double grid, const char* function) {
    check_non_negative(function, "grid", grid);
    if (grid > 0) return grid;
    if (data.unit() == time_unit::steps) return 1.0;
    raise<option_error>(function, ": this variant works on bins and the dataset's time unit is ",
                        to_string(data.unit()), ": set grid to the bin width (e.g. the binning dt)");
}

inline std::size_t grid_bins(double duration, double grid, const char* function) {
    const double bins = std::ceil(duration / grid - 1e-9);
    if (!(bins >= 1) || bins > 4294967295.0)
        raise<option_error>(function, ": grid ", grid, " gives ", bins, " bins over duration ",
                            duration);
    return static_cast<std::size_t>(bins);
}

/// The upper clip of jittered times: the largest float below T, or on a grid the last grid
/// point k grid < T (so rounded times stay on the grid).
inline float upper_time(double duration, double grid, const char* function) {
    if (grid > 0)
        return static_cast<float>(static_cast<double>(grid_bins(duration, grid, function) - 1) * grid);
    return float_below(duration);
}

/// Sorts 64-bit keys: LSD radix sort on bytes, skipping the bytes all keys share (the high
/// bytes of the unit half, usually), with std::sort for short inputs.
inline void sort_keys(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch) {
    if (keys.size() < 256) {
        std::sort(keys.begin(), keys.end());
        return;
    }
    std::uint64_t all_and = ~std::uint64_t(0), all_or = 0;
    for (std::uint64_t k : keys) {
        all_and &= k;
        all_or |= k;
    }
    const std::uint64_t varying = all_and ^ all_or;
    scratch.resize(keys.size());
    for (int shift = 0; shift < 64; shift += 8) {
        if (((varying >> shift) & 0xFF) == 0) continue;
        std::size_t count[257] = {};
        for (std::uint64_t k : keys) ++count[((k >> shift) & 0xFF) + 1];
        for (int b = 0; b < 256; ++b) count[b + 1] += count[b];
        for (std::uint64_t k : keys) scratch[count[(k >> shift) & 0xFF]++] = k;
        keys.swap(scratch);
    }
}

/// Sorts a sample's events by (time, unit) unless already sorted. Times are >= +0, so the
/// bits of a float order like the float and one 64-bit key sorts both fields at once.
inline void sort_events(std::vector<float>& times, std::vector<std::uint32_t>& units) {
    bool sorted = true;
    for (std::size_t e = 1; e < times.size() && sorted; ++e)
        sorted = times[e - 1] < times[e] || (times[e - 1] == times[e] && units[e - 1] <= units[e]);
    if (sorted) return;
    thread_local std::vector<std::uint64_t> keys, scratch;
    keys.resize(times.size());
    for (std::size_t e = 0; e < times.size(); ++e)
        keys[e] = (std::uint64_t(std::bit_cast<std::uint32_t>(times[e])) << 32) | units[e];
    sort_keys(keys, scratch);
    for (std::size_t e = 0; e < keys.size(); ++e) {
        times[e] = std::bit_cast<float>(static_cast<std::uint32_t>(keys[e] >> 32));
        units[e] = static_cast<std::uint32_t>(keys[e]);
    }
}

/// Event indices of a sample grouped by unit (counting sort; time order kept in a unit).
struct events_by_unit {
    std::vector<std::size_t> offsets;  // n_units + 1
    std::vector<std::size_t> events;

    events_by_unit(const spike_sample_view& sample, std::size_t n_units)
        : offsets(n_units + 1, 0), events(sample.size()) {
        for (std::uint32_t u : sample.units) ++offsets[u + 1];
        for (std::size_t u = 0; u < n_units; ++u) offsets[u + 1] += offsets[u];
        std::vector<std::size_t> next(offsets.begin(), offsets.end() - 1);
        for (std::size_t e = 0; e < sample.size(); ++e) events[next[sample.units[e]]++] = e;
    }

    std::span<const std::size_t> of(std::size_t unit) const {
        return {events.data() + offsets[unit], offsets[unit + 1] - offsets[unit]};
    }
};

/// Applies fn(sample, rng, times_out, units_out) to every sample (in parallel when OpenMP
/// is on; each sample has its own forked stream, so the result does not depend on threads)
/// and collects the sorted outputs, in input order, into a new dataset.
template <class Fn>
spike_dataset map_samples(const spike_dataset& data, std::uint64_t seed, Fn fn) {
    spike_dataset out = data.empty_like();
    // No transform here makes more events than it reads; reserving them up front saves the
    // copies and page faults of a 64M-event vector growing by doubling.
    out.reserve(data.size(), data.n_spikes());
    const rng base(seed);
    constexpr std::size_t chunk = 256;
    std::vector<std::vector<float>> times(chunk);
    std::vector<std::vector<std::uint32_t>> units(chunk);
    for (std::size_t first = 0; first < data.size(); first += chunk) {
        const auto count = static_cast<std::ptrdiff_t>(std::min(chunk, data.size() - first));
#if SPIKEGRAD_HAS_OPENMP
#pragma omp parallel for schedule(dynamic, 4)
#endif
        for (std::ptrdiff_t j = 0; j < count; ++j) {
            const std::size_t i = first + static_cast<std::size_t>(j);
            rng generator = base.fork(data.storage_index(i));
            auto& t = times[static_cast<std::size_t>(j)];
            auto& u = units[static_cast<std::size_t>(j)];
            t.clear();
            u.clear();
            fn(data.sample(i), generator, t, u);
            sort_events(t, u);
        }
        for (std::ptrdiff_t j = 0; j < count; ++j) {
            const auto k = static_cast<std::size_t>(j);
            out.add_sample(times[k], units[k], data.label(first + k));
        }
    }
    return out;
}

}  // namespace detail

/// Random replacement of a fraction of each neuron's spikes (paper eq. 3; variant in
/// options.mode). f = 0 returns the same events; f = 1 (exact_count) redraws every spike.
inline spike_dataset replace_spikes(const spike_dataset& data, const replacement_options& options,
                                    std::uint64_t seed) {
    constexpr const char* name = "replace_spikes";
    detail::check_probability(name, "fraction", options.fraction);
    const double f = options.fraction;
    const double duration = data.duration();
    const float upper = detail::float_below(duration);
    const std::size_t n_units = data.n_units();

    if (options.mode == replacement_mode::exact_count) {
        detail::check_non_negative(name, "grid", options.grid);
        const double grid = options.grid;
        const std::size_t n_bins = grid > 0 ? detail::grid_bins(duration, grid, name) : 0;
        return detail::map_samples(data, seed, [&](const spike_sample_view& sample, rng& random,
                                                   std::vector<float>& times,
                                                   std::vector<std::uint32_t>& units) {
            const detail::events_by_unit groups(sample, n_units);
            std::vector<char> removed(sample.size(), 0);
            for (std::size_t unit = 0; unit < n_units; ++unit) {
                const auto events = groups.of(unit);
                // floor(f n) with a little slack, so 0.29 * 100 moves 29 spikes, not 28.
                const auto k = static_cast<std::size_t>(
                    std::floor(f * static_cast<double>(events.size()) + 1e-9));
                if (k == 0) continue;
                // k of the neuron's n spikes, uniformly (selection sampling, as rng::choose).
                for (std::size_t j = 0, left = k, n = events.size(); j < n && left > 0; ++j)
                    if (random.below(n - j) < left) {
                        removed[events[j]] = 1;
                        --left;
                    }
                for (std::size_t n = 0; n < k; ++n) {
                    const double t = grid > 0
                        ? static_cast<double>(random.below(n_bins)) * grid
                        : random.uniform(0, duration);
                    times.push_back(detail::clip_time(t, upper));
                    units.push_back(static_cast<std::uint32_t>(unit));
                }
            }
            for (std::size_t e = 0; e < sample.size(); ++e) {
                if (removed[e]) continue;
                times.push_back(sample.times[e]);
                units.push_back(sample.units[e]);
            }
        });
    }

    const double grid = detail::resolve_grid(data, options.grid, name);
    const std::size_t n_bins = detail::grid_bins(duration, grid, name);
    if (options.max_tries == 0) raise<option_error>(name, ": max_tries must be >= 1");
    return detail::map_samples(data, seed, [&](const spike_sample_view& sample, rng& random,
                                               std::vector<float>& times,
                                               std::vector<std::uint32_t>& units) {
        const detail::events_by_unit groups(sample, n_units);
        // Spikes per bin of the current neuron (a count, not a flag: two events of one
        // neuron can share a bin at the event level).
        std::vector<std::uint32_t> occupied(n_bins, 0);
        std::vector<std::size_t> bins, placed_bins;
        for (std::size_t unit = 0; unit < n_units; ++unit) {
            const auto events = groups.of(unit);
            if (events.empty()) continue;
            bins.clear();
            for (std::size_t e : events) {
                // Clamped in double: a time far past the grid is no size_t.
                const double bin = std::floor(static_cast<double>(sample.times[e]) / grid);
                bins.push_back(static_cast<std::size_t>(std::min(bin, static_cast<double>(n_bins - 1))));
                ++occupied[bins.back()];
            }
            placed_bins.clear();
            // The code walks a neuron's spikes in time order, freeing a spike's bin before
            // drawing its new one (so a spike may land back in its own bin).
            for (std::size_t k = 0; k < events.size(); ++k) {
                if (!random.bernoulli(f)) {
                    times.push_back(sample.times[events[k]]);
                    units.push_back(static_cast<std::uint32_t>(unit));
                    continue;
                }
                --occupied[bins[k]];
                for (std::size_t attempt = 0; attempt < options.max_tries; ++attempt) {
                    const auto bin = static_cast<std::size_t>(random.below(n_bins));
                    if (occupied[bin] != 0) continue;
                    ++occupied[bin];
                    placed_bins.push_back(bin);
                    times.push_back(detail::clip_time(static_cast<double>(bin) * grid, upper));
                    units.push_back(static_cast<std::uint32_t>(unit));
                    break;
                }
            }
            for (std::size_t bin : bins) occupied[bin] = 0;
            for (std::size_t bin : placed_bins) occupied[bin] = 0;
        }
    });
}

/// Random replacement, paper default (exact count per neuron, continuous new times).
inline spike_dataset replace_spikes(const spike_dataset& data, double fraction,
                                    std::uint64_t seed) {
    return replace_spikes(data, replacement_options{.fraction = fraction}, seed);
}

/// Per-spike Gaussian jitter: every spike moves independently by N(0, sigma^2) (sigma in the
/// dataset's time unit) and is clipped into [0, T) (the largest float below T, so it stays
/// in the last bin). Event counts are preserved; sigma = 0 returns the same events.
inline spike_dataset jitter_per_spike(const spike_dataset& data,
                                      const spike_jitter_options& options, std::uint64_t seed) {
    constexpr const char* name = "jitter_per_spike";
    detail::check_non_negative(name, "sigma", options.sigma);
    detail::check_non_negative(name, "grid", options.grid);
    const float upper = detail::upper_time(data.duration(), options.grid, name);
    const double sigma = options.sigma, grid = options.grid;
    return detail::map_samples(data, seed, [&](const spike_sample_view& sample, rng& random,
                                               std::vector<float>& times,
                                               std::vector<std::uint32_t>& units) {
        times.resize(sample.size());
        units.assign(sample.units.begin(), sample.units.end());
        for (std::size_t e = 0; e < sample.size(); ++e) {
            double t = static_cast<double>(sample.times[e]) + sigma * random.normal();
            if (grid > 0) t = std::nearbyint(t / grid) * grid;
            times[e] = sigma > 0 || grid > 0 ? detail::clip_time(t, upper) : sample.times[e];
        }
    });
}

/// Per-spike jitter with standard deviation `sigma` in the dataset's time unit.
inline spike_dataset jitter_per_spike(const spike_dataset& data, double sigma, std::uint64_t seed) {
    return jitter_per_spike(data, spike_jitter_options{.sigma = sigma}, seed);
}

/// Per-neuron Gaussian jitter: one shift per (sample, neuron) applied to all of the neuron's
/// spikes (paper section 4), or the released code's offset-and-merge variant.
inline spike_dataset jitter_per_neuron(const spike_dataset& data,
                                       const neuron_jitter_options& options, std::uint64_t seed) {
    constexpr const char* name = "jitter_per_neuron";
    detail::check_non_negative(name, "sigma", options.sigma);
    if (!std::isfinite(options.offset))
        raise<option_error>(name, ": offset ", options.offset, " is not finite");
    const std::size_t n_units = data.n_units();
    const double sigma = options.sigma;

    if (options.mode == neuron_jitter_mode::gaussian) {
        detail::check_non_negative(name, "grid", options.grid);
        const double grid = options.grid;
        const float upper = detail::upper_time(data.duration(), grid, name);
        return detail::map_samples(data, seed, [&](const spike_sample_view& sample, rng& random,
                                                   std::vector<float>& times,
                                                   std::vector<std::uint32_t>& units) {
            // One draw per unit, silent or not, so a neuron's shift does not depend on
            // which other neurons fired.
            std::vector<double> shift(n_units);
            for (auto& d : shift) {
                d = sigma * random.normal();
                if (grid > 0) d = std::nearbyint(d / grid) * grid;
            }
            times.resize(sample.size());
            units.assign(sample.units.begin(), sample.units.end());
            for (std::size_t e = 0; e < sample.size(); ++e) {
                const double d = shift[sample.units[e]];
                times[e] = d != 0 ? detail::clip_time(sample.times[e] + d, upper)
                                  : sample.times[e];
            }
        });
    }

    const double grid = detail::resolve_grid(data, options.grid, name);
    const auto n_bins = static_cast<std::int64_t>(detail::grid_bins(data.duration(), grid, name));
    // Bins and shifts in double (exact for integers below 2^53; beyond, +-inf included, the
    // clamp decides), converted only once clamped to the grid: an offset or a time far
    // beyond it (1e300 / grid) is no int64 (converting it was undefined behaviour, found by
    // fuzz/transforms.cpp).
    const double last_bin = static_cast<double>(n_bins - 1);
    const double offset_bins = std::nearbyint(options.offset / grid);
    return detail::map_samples(data, seed, [&](const spike_sample_view& sample, rng& random,
                                               std::vector<float>& times,
                                               std::vector<std::uint32_t>& units) {
        std::vector<double> shift(n_units);
        for (auto& d : shift) d = offset_bins + std::nearbyint(sigma * random.normal() / grid);
        const detail::events_by_unit groups(sample, n_units);
        std::vector<std::int64_t> bins;
        for (std::size_t unit = 0; unit < n_units; ++unit) {
            bins.clear();
            for (std::size_t e : groups.of(unit)) {
                const double bin = std::floor(static_cast<double>(sample.times[e]) / grid);
                bins.push_back(static_cast<std::int64_t>(std::clamp(bin + shift[unit], 0.0, last_bin)));
            }
            // Shifted bins stay in time order, so merging shared bins (np.unique) is a
            // comparison with the previous one.
            for (std::size_t k = 0; k < bins.size(); ++k) {
                if (k > 0 && bins[k] == bins[k - 1]) continue;
                times.push_back(static_cast<float>(static_cast<double>(bins[k]) * grid));
                units.push_back(static_cast<std::uint32_t>(unit));
            }
        }
    });
}

/// Per-neuron Gaussian jitter (paper default) with standard deviation `sigma` in the
/// dataset's time unit.
inline spike_dataset jitter_per_neuron(const spike_dataset& data, double sigma,
                                       std::uint64_t seed) {
    return jitter_per_neuron(data, neuron_jitter_options{.sigma = sigma}, seed);
}

/// Deletion: each spike is dropped independently with probability p (paper section 4).
inline spike_dataset delete_spikes(const spike_dataset& data, double probability,
                                   std::uint64_t seed) {
    detail::check_probability("delete_spikes", "probability", probability);
    return detail::map_samples(data, seed, [&](const spike_sample_view& sample, rng& random,
                                               std::vector<float>& times,
                                               std::vector<std::uint32_t>& units) {
        for (std::size_t e = 0; e < sample.size(); ++e) {
            if (random.bernoulli(probability)) continue;
            times.push_back(sample.times[e]);
            units.push_back(sample.units[e]);
        }
    });
}

/// Time reversal over each sample's active window (paper section 4): with t_start and t_end
/// the first and last spike of the sample over all neurons, t' = t_start + t_end - t. The
/// window, counts, ISIs (in reverse order) and coincidences are preserved; applying it twice
/// gives the input back exactly when times are on a grid (steps), and to within one float
/// rounding otherwise. Empty samples are unchanged. Deterministic: no seed.
inline spike_dataset reverse_time(const spike_dataset& data) {
    return detail::map_samples(data, 0, [](const spike_sample_view& sample, rng&,
                                           std::vector<float>& times,
                                           std::vector<std::uint32_t>& units) {
        if (sample.size() == 0) return;
        // Sum in double: t_start + t_end - t is then exact before the one rounding to float.
        const double sum = static_cast<double>(sample.times.front()) +
                           static_cast<double>(sample.times.back());
        times.resize(sample.size());
        units.resize(sample.size());
        for (std::size_t e = 0, n = sample.size(); e < n; ++e) {
            times[e] = detail::clip_time(sum - sample.times[n - 1 - e],
                                         std::numeric_limits<float>::max());
            units[e] = sample.units[n - 1 - e];
        }
        // Events of one time were in increasing unit order and are now in decreasing order;
        // flip each run of equal times back.
        for (std::size_t first = 0; first < times.size();) {
            std::size_t last = first + 1;
            while (last < times.size() && times[last] == times[first]) ++last;
            std::reverse(units.begin() + static_cast<std::ptrdiff_t>(first),
                         units.begin() + static_cast<std::ptrdiff_t>(last));
            first = last;
        }
    });
}

}  // namespace spikegrad

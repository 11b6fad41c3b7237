// spikegrad: the whole -> part -> norm construction of Yu, Sun, Goodman, "Beyond Rate Coding"
// (arXiv 2507.16043, section 3.1, eqs. 6-9; SPEC section 9), on any spike_dataset: drop the
// neurons that do not fire in every sample, then equalise per-neuron spike counts across samples.
#pragma once

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../io/json.hpp"
#include "binning.hpp"
#include "dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace spikegrad {

/// Step 2: when a bad neuron's failing samples M_i are few enough to be removed.
enum class rescue_rule {
    /// |M_i| / M < eps (paper, eq. 7).
    below_eps,
    /// [variant] |M_i| / M <= eps (released code).
    at_most_eps,
};

/// Step 2: what bounds the removals.
enum class removal_cap {
    /// Never let a class fall below class_floor of its input size (paper: 50%).
    class_floor,
    /// [variant] At most max_removed samples in total (released code: 2000).
    total,
    /// No bound.
    none,
};

/// Step 3: which neurons part and norm keep.
enum class keep_rule {
    /// c_i_min >= theta over the remaining samples (paper).
    at_least_theta,
    /// [variant] c_i_min >= 1 (released code).
    at_least_one,
};

struct variant_options {
    /// A neuron is bad when it fires fewer than theta times in some sample (paper: 2).
    std::size_t theta = 2;
    /// Largest share of samples removed to rescue one bad neuron (paper: 0.01).
    double eps = 0.01;
    rescue_rule rescue = rescue_rule::below_eps;
    removal_cap cap = removal_cap::class_floor;
    /// removal_cap::class_floor: every class keeps at least this share of its samples.
    double class_floor = 0.5;
    /// removal_cap::total: most samples removed in all.
    std::size_t max_removed = 2000;
    keep_rule keep = keep_rule::at_least_theta;
    /// The binned view the counts are taken on, in the dataset's time unit. SHD/SSC: 100 bins
    /// over 1.4 s. Collapse mode counts the distinct bins a neuron fires in; count mode
    /// (binning.count) counts its spikes inside the window.
    binning_options binning{.dt_ms = 14.0, .n_steps = 100};
    /// Balance "whole" from the samples left after step 2 instead of from every input sample.
    bool whole_after_removal = false;
    std::uint64_t seed = 42;
};

/// Spikes per sample over a dataset.
struct spike_count_stats {
    std::size_t min = 0;
    double mean = 0;
    std::size_t max = 0;
};

/// What the builder did, step by step (SPEC section 9). Neuron indices are the input's;
/// sample indices are positions in the input dataset.
struct variant_report {
    // settings
    std::size_t theta = 0;
    double eps = 0;
    rescue_rule rescue = rescue_rule::below_eps;
    removal_cap cap = removal_cap::class_floor;
    double class_floor = 0;
    std::size_t max_removed = 0;
    keep_rule keep = keep_rule::at_least_theta;
    std::size_t keep_threshold = 0;
    double dt_ms = 0;
    std::size_t n_steps = 0;
    bool count_mode = false;
    std::uint64_t seed = 0;
    // input
    std::size_t n_samples = 0;
    std::size_t n_units = 0;
    std::vector<std::string> class_names;
    std::vector<std::size_t> input_per_class;
    // step 1: c_i_min over all samples; bad neurons have c_i_min < theta
    std::vector<std::size_t> min_count;
    std::vector<std::size_t> bad_neurons;
    /// |M_i| for each bad neuron (same order as bad_neurons).
    std::vector<std::size_t> bad_sample_counts;
    // step 2
    /// Bad neurons whose M_i was removed.
    std::vector<std::size_t> rescued_neurons;
    /// Bad neurons that met the eps rule but whose removal the cap refused.
    std::vector<std::size_t> capped_neurons;
    std::vector<std::size_t> removed_samples;
    std::vector<std::size_t> removed_per_class;
    std::vector<std::size_t> remaining_per_class;
    // step 3: c_i_min over the remaining samples; kept_neurons[k] is the input neuron that
    // becomes neuron k of part and norm
    std::vector<std::size_t> min_count_after;
    std::vector<std::size_t> kept_neurons;
    // step 4: norm keeps norm_counts[k] = min_count_after[kept_neurons[k]] spikes of neuron k
    std::vector<std::size_t> norm_counts;
    std::size_t norm_spikes_per_sample = 0;
    // step 5: balancing; norm has part's samples
    std::size_t whole_per_class = 0;
    std::size_t part_per_class = 0;
    std::vector<std::size_t> whole_samples;
    std::vector<std::size_t> part_samples;
    /// Events per sample (original spikes) and spikes per sample of the binned view.
    spike_count_stats whole_spikes, whole_binned, part_spikes, part_binned;
};

/// The three balanced datasets and the report. whole has every input neuron; part and norm
/// have the kept neurons only, renumbered 0..K-1 (report.kept_neurons holds the mapping).
struct variant_sets {
    spike_dataset whole;
    spike_dataset part;
    spike_dataset norm;
    variant_report report;
};

inline const char* to_string(rescue_rule rule) {
    return rule == rescue_rule::below_eps ? "|M_i|/M < eps" : "|M_i|/M <= eps";
}

inline const char* to_string(removal_cap cap) {
    switch (cap) {
        case removal_cap::class_floor:
            return "class floor";
        case removal_cap::total:
            return "total";
        case removal_cap::none:
            return "none";
    }
    return "?";
}

inline const char* to_string(keep_rule rule) {
    return rule == keep_rule::at_least_theta ? "c_min >= theta" : "c_min >= 1";
}

namespace detail::variants {

inline spike_count_stats count_stats(const std::vector<std::size_t>& counts) {
    spike_count_stats s;
    if (counts.empty()) return s;
    s.min = *std::min_element(counts.begin(), counts.end());
    s.max = *std::max_element(counts.begin(), counts.end());
    double total = 0;
    for (std::size_t c : counts) total += static_cast<double>(c);
    s.mean = total / static_cast<double>(counts.size());
    return s;
}

/// Downsamples every class of `pool` (input indices) to the smallest class that has samples
/// in the input, choosing uniformly without replacement; returns ascending indices.
inline std::vector<std::size_t> balance(const std::vector<std::size_t>& pool,
                                        const std::vector<std::int32_t>& labels,
                                        const std::vector<std::size_t>& input_per_class,
                                        rng generator, std::size_t& per_class) {
    std::vector<std::vector<std::size_t>> members(input_per_class.size());
    for (std::size_t m : pool) members[static_cast<std::size_t>(labels[m])].push_back(m);
    per_class = std::numeric_limits<std::size_t>::max();
    for (std::size_t c = 0; c < members.size(); ++c)
        if (input_per_class[c] > 0) per_class = std::min(per_class, members[c].size());
    if (per_class == std::numeric_limits<std::size_t>::max()) per_class = 0;
    std::vector<std::size_t> out;
    for (std::size_t c = 0; c < members.size(); ++c) {
        if (members[c].empty()) continue;
        for (std::size_t k : generator.choose(members[c].size(), per_class))
            out.push_back(members[c][k]);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace detail::variants

/// Builds whole, part and norm from the merged splits of a corpus (SPEC section 9):
///  1. c[m,i] = spikes of neuron i in sample m on the binned view; c_i_min = min_m c[m,i];
///     neurons with c_i_min < theta are bad.
///  2. For each bad neuron in index order, M_i = {m : c[m,i] < theta}; if the rescue rule
///     holds, M_i is marked for removal unless that would break the cap (then the neuron is
///     "capped" and its samples stay).
///  3. Marked samples are removed, c_i_min is recomputed, and the neurons passing the keep
///     rule form part (their original spikes, renumbered 0..K-1).
///  4. norm: in every sample, each kept neuron keeps a uniformly random subset of exactly
///     c_i_min of its binned spikes. "Spike" means the binned view's: in collapse mode the
///     distinct bins the neuron fires in (of each chosen bin the earliest spike is kept, the
///     others dropped, so several spikes in one bin never count twice); in count mode its
///     spikes inside the window. Spikes outside the binned window are dropped. So the raster
///     the engine sees (binned with the same options) has the same per-neuron counts in
///     every sample, and so has the event list itself.
///  5. Each variant is balanced by uniform per-class downsampling to its smallest class
///     (classes absent from the input are ignored); norm uses exactly part's samples.
/// Same input, options and seed give the same output on every machine.
inline variant_sets build_variants(const spike_dataset& input,
                                   const variant_options& options = {}) {
    if (!(options.eps >= 0 && options.eps <= 1))
        raise<option_error>("build_variants: eps ", options.eps, " outside [0, 1]");
    if (!(options.class_floor >= 0 && options.class_floor <= 1))
        raise<option_error>("build_variants: class_floor ", options.class_floor, " outside [0, 1]");
    const std::size_t n_samples = input.size(), n_units = input.n_units();
    const std::size_t n_classes = input.n_classes();
    const std::size_t n_steps = binned_steps(input, options.binning);
    if (n_steps == 0) raise<option_error>("build_variants: the binning has zero steps");
    const bool count_mode = options.binning.count;

    variant_sets out;
    variant_report& r = out.report;
    r.theta = options.theta;
    r.eps = options.eps;
    r.rescue = options.rescue;
    r.cap = options.cap;
    r.class_floor = options.class_floor;
    r.max_removed = options.max_removed;
    r.keep = options.keep;
    r.keep_threshold = options.keep == keep_rule::at_least_theta ? options.theta : 1;
    r.dt_ms = options.binning.dt_ms;
    r.n_steps = n_steps;
    r.count_mode = count_mode;
    r.seed = options.seed;
    r.n_samples = n_samples;
    r.n_units = n_units;
    r.class_names = input.class_names();
    r.input_per_class = input.class_counts();
    const std::vector<std::int32_t> labels = input.labels();

    // Step 1: counts on the binned view. 16 bits per cell keep SSC's 10^5 x 700 matrix small.
    std::vector<std::uint16_t> counts(n_samples * n_units, 0);
    // seen marks the (unit, bin) cells of the current sample; touched lists them for the reset.
    std::vector<std::uint8_t> seen(count_mode ? 0 : n_units * n_steps, 0);
    std::vector<std::size_t> touched;
    auto clear_seen = [&] {
        for (std::size_t cell : touched) seen[cell] = 0;
        touched.clear();
    };
    for (std::size_t m = 0; m < n_samples; ++m) {
        const auto sample = input.sample(m);
        std::uint16_t* row = counts.data() + m * n_units;
        for (std::size_t e = 0; e < sample.size(); ++e) {
            const std::int64_t k = bin_of(sample.times[e], n_steps, bin_width(input, options.binning), options.binning.edges);
            if (k < 0) continue;
            const std::uint32_t unit = sample.units[e];
            if (!count_mode) {
                const std::size_t cell = unit * n_steps + static_cast<std::size_t>(k);
                if (seen[cell]) continue;
                seen[cell] = 1;
                touched.push_back(cell);
            }
            if (row[unit] == std::numeric_limits<std::uint16_t>::max())
                raise<data_error>("build_variants: sample ", m, ": neuron ", unit,
                                  " has more than 65535 spikes in the window");
            ++row[unit];
        }
        clear_seen();
    }
    auto column_min = [&](const std::vector<bool>& use) {
        std::vector<std::size_t> low(n_units, 0);
        bool any = false;
        for (std::size_t m = 0; m < n_samples; ++m) {
            if (!use[m]) continue;
            const std::uint16_t* row = counts.data() + m * n_units;
            for (std::size_t i = 0; i < n_units; ++i)
                low[i] = any ? std::min<std::size_t>(low[i], row[i]) : row[i];
            any = true;
        }
        return low;
    };
    std::vector<bool> remaining(n_samples, true);
    r.min_count = column_min(remaining);
    for (std::size_t i = 0; i < n_units; ++i)
        if (r.min_count[i] < options.theta) r.bad_neurons.push_back(i);

    // Step 2: rescue bad neurons by removing their few failing samples, within the cap.
    std::vector<std::size_t> removed_per_class(n_classes, 0);
    std::size_t removed_total = 0;
    std::vector<std::size_t> failing, fresh_per_class(n_classes, 0);
    for (std::size_t i : r.bad_neurons) {
        failing.clear();
        for (std::size_t m = 0; m < n_samples; ++m)
            if (counts[m * n_units + i] < options.theta) failing.push_back(m);
        r.bad_sample_counts.push_back(failing.size());
        const double share = static_cast<double>(failing.size()) / static_cast<double>(n_samples);
        const bool eligible =
            options.rescue == rescue_rule::below_eps ? share < options.eps : share <= options.eps;
        if (!eligible) continue;
        std::fill(fresh_per_class.begin(), fresh_per_class.end(), 0);
        std::size_t fresh = 0;
        for (std::size_t m : failing)
            if (remaining[m]) {
                ++fresh_per_class[static_cast<std::size_t>(labels[m])];
                ++fresh;
            }
        bool allowed = true;
        if (options.cap == removal_cap::total) {
            allowed = removed_total + fresh <= options.max_removed;
        } else if (options.cap == removal_cap::class_floor) {
            for (std::size_t c = 0; c < n_classes; ++c) {
                const double left = static_cast<double>(r.input_per_class[c] -
                                                        removed_per_class[c] - fresh_per_class[c]);
                if (fresh_per_class[c] > 0 &&
                    left < options.class_floor * static_cast<double>(r.input_per_class[c]))
                    allowed = false;
            }
        }
        if (!allowed) {
            r.capped_neurons.push_back(i);
            continue;
        }
        r.rescued_neurons.push_back(i);
        for (std::size_t m : failing)
            if (remaining[m]) {
                remaining[m] = false;
                ++removed_per_class[static_cast<std::size_t>(labels[m])];
                ++removed_total;
            }
    }
    std::vector<std::size_t> left_samples;
    for (std::size_t m = 0; m < n_samples; ++m)
        (remaining[m] ? left_samples : r.removed_samples).push_back(m);
    r.removed_per_class = removed_per_class;
    r.remaining_per_class.resize(n_classes);
    for (std::size_t c = 0; c < n_classes; ++c)
        r.remaining_per_class[c] = r.input_per_class[c] - removed_per_class[c];

    // Step 3: keep the neurons that fire often enough in every remaining sample.
    r.min_count_after = column_min(remaining);
    std::vector<std::int64_t> new_index(n_units, -1);
    if (!left_samples.empty())
        for (std::size_t i = 0; i < n_units; ++i)
            if (r.min_count_after[i] >= r.keep_threshold) {
                new_index[i] = static_cast<std::int64_t>(r.kept_neurons.size());
                r.kept_neurons.push_back(i);
                r.norm_counts.push_back(r.min_count_after[i]);
                r.norm_spikes_per_sample += r.min_count_after[i];
            }
    const std::size_t n_kept = r.kept_neurons.size();

    // Step 5 first (the samples), so that part and norm are built only for kept samples.
    const rng base(options.seed);
    std::vector<std::size_t> everything(n_samples);
    for (std::size_t m = 0; m < n_samples; ++m) everything[m] = m;
    r.whole_samples =
        detail::variants::balance(options.whole_after_removal ? left_samples : everything, labels,
                                  r.input_per_class, base.fork(1), r.whole_per_class);
    r.part_samples = detail::variants::balance(left_samples, labels, r.input_per_class,
                                               base.fork(2), r.part_per_class);

    out.whole = input.subset(r.whole_samples);
    {
        std::vector<std::size_t> events, binned;
        for (std::size_t m : r.whole_samples) {
            events.push_back(input.sample(m).size());
            std::size_t total = 0;
            for (std::size_t i = 0; i < n_units; ++i) total += counts[m * n_units + i];
            binned.push_back(total);
        }
        r.whole_spikes = detail::variants::count_stats(events);
        r.whole_binned = detail::variants::count_stats(binned);
    }

    // Part and norm (step 4), sample by sample.
    out.part = spike_dataset(n_kept, input.duration(), input.unit(), input.class_names());
    out.norm = spike_dataset(n_kept, input.duration(), input.unit(), input.class_names());
    {
        // Exact for norm, a bound for part: no reallocation (untouched reserve is not resident).
        std::size_t bound = 0;
        for (std::size_t m : r.part_samples) bound += input.sample(m).size();
        out.part.reserve(r.part_samples.size(), bound);
        out.norm.reserve(r.part_samples.size(), r.part_samples.size() * r.norm_spikes_per_sample);
    }
    const rng norm_base = base.fork(3);
    std::vector<float> times;
    std::vector<std::uint32_t> units;
    std::vector<std::vector<std::size_t>> candidates(n_kept);
    std::vector<std::size_t> chosen, part_events, part_binned;
    for (std::size_t m : r.part_samples) {
        const auto sample = input.sample(m);
        times.clear();
        units.clear();
        for (auto& list : candidates) list.clear();
        for (std::size_t e = 0; e < sample.size(); ++e) {
            const std::int64_t k = new_index[sample.units[e]];
            if (k < 0) continue;
            times.push_back(sample.times[e]);
            units.push_back(static_cast<std::uint32_t>(k));
            const std::int64_t bin = bin_of(sample.times[e], n_steps, bin_width(input, options.binning), options.binning.edges);
            if (bin < 0) continue;
            if (!count_mode) {
                const std::size_t cell = sample.units[e] * n_steps + static_cast<std::size_t>(bin);
                if (seen[cell]) continue;  // a later spike in a bin already represented
                seen[cell] = 1;
                touched.push_back(cell);
            }
            candidates[static_cast<std::size_t>(k)].push_back(e);
        }
        out.part.add_sample(times, units, sample.label);
        part_events.push_back(times.size());
        std::size_t binned_total = 0;
        for (std::size_t k = 0; k < n_kept; ++k) binned_total += candidates[k].size();
        part_binned.push_back(binned_total);

        rng generator = norm_base.fork(m);
        chosen.clear();
        for (std::size_t k = 0; k < n_kept; ++k) {
            const auto& list = candidates[k];
            if (list.size() < r.norm_counts[k])
                raise<data_error>("build_variants: sample ", m, ": neuron ", r.kept_neurons[k],
                                  " has ", list.size(), " binned spikes < c_min ", r.norm_counts[k],
                                  " (internal inconsistency)");
            for (std::size_t j : generator.choose(list.size(), r.norm_counts[k]))
                chosen.push_back(list[j]);
        }
        std::sort(chosen.begin(), chosen.end());
        times.clear();
        units.clear();
        for (std::size_t e : chosen) {
            times.push_back(sample.times[e]);
            units.push_back(static_cast<std::uint32_t>(new_index[sample.units[e]]));
        }
        out.norm.add_sample(times, units, sample.label);
        clear_seen();
    }
    r.part_spikes = detail::variants::count_stats(part_events);
    r.part_binned = detail::variants::count_stats(part_binned);
    return out;
}

namespace detail::variants {

inline std::string pad(std::string s, std::size_t width, bool right = false) {
    if (s.size() >= width) return s;
    return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

inline std::string fixed(double x, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, x);
    return buffer;
}

inline std::string stats_text(const spike_count_stats& s) {
    return std::to_string(s.min) + " / " + fixed(s.mean, 1) + " / " + std::to_string(s.max);
}

}  // namespace detail::variants

/// The report as a plain-text table (the published SHD figures, SPEC section 9, read
/// "691 bad, 1037 removed, 224 kept, 273 per class, 471 spikes per norm sample").
inline std::string to_string(const variant_report& r) {
    using detail::variants::pad;
    std::string s;
    s += "whole -> part -> norm (theta " + std::to_string(r.theta) + ", eps " +
         detail::variants::fixed(r.eps, 4) + ", rescue " + to_string(r.rescue) + ", cap " +
         to_string(r.cap);
    if (r.cap == removal_cap::class_floor)
        s += " " + detail::variants::fixed(100 * r.class_floor, 0) + "%";
    if (r.cap == removal_cap::total) s += " " + std::to_string(r.max_removed);
    s += ", keep " + std::string(to_string(r.keep)) + ", seed " + std::to_string(r.seed) + ")\n";
    s += "binned view      : " + std::to_string(r.n_steps) + " steps of " +
         detail::variants::fixed(r.dt_ms, 3) + " ms" + (r.count_mode ? " (count mode)\n" : " (collapsed)\n");
    s += "input            : " + std::to_string(r.n_samples) + " samples x " +
         std::to_string(r.n_units) + " neurons, " + std::to_string(r.class_names.size()) +
         " classes\n";
    s += "bad neurons      : " + std::to_string(r.bad_neurons.size()) + " (c_min < " +
         std::to_string(r.theta) + ")\n";
    s += "rescued neurons  : " + std::to_string(r.rescued_neurons.size()) + " (" +
         std::to_string(r.capped_neurons.size()) + " more refused by the cap)\n";
    s += "samples removed  : " + std::to_string(r.removed_samples.size()) + ", " +
         std::to_string(r.n_samples - r.removed_samples.size()) + " left\n";
    s += "kept neurons     : " + std::to_string(r.kept_neurons.size()) + " (" + to_string(r.keep) +
         " after removal)\n\n";
    s += pad("class", 24) + pad("input", 8, true) + pad("removed", 9, true) + pad("left", 8, true) +
         "\n";
    for (std::size_t c = 0; c < r.class_names.size(); ++c)
        s += pad(std::to_string(c) + " " + r.class_names[c], 24) +
             pad(std::to_string(r.input_per_class[c]), 8, true) +
             pad(std::to_string(r.removed_per_class[c]), 9, true) +
             pad(std::to_string(r.remaining_per_class[c]), 8, true) + "\n";
    s += '\n';
    s += pad("variant", 9) + pad("samples", 9, true) + pad("per class", 11, true) +
         pad("neurons", 9, true) + "   " + pad("spikes/sample min/mean/max", 28) +
         "binned min/mean/max\n";
    auto line = [&](const char* name, std::size_t per_class, std::size_t samples,
                    std::size_t neurons, const std::string& spikes, const std::string& binned) {
        s += pad(name, 9) + pad(std::to_string(samples), 9, true) +
             pad(std::to_string(per_class), 11, true) + pad(std::to_string(neurons), 9, true) +
             "   " + pad(spikes, 28) + binned + "\n";
    };
    const std::string norm = std::to_string(r.norm_spikes_per_sample);
    line("whole", r.whole_per_class, r.whole_samples.size(), r.n_units,
         detail::variants::stats_text(r.whole_spikes),
         detail::variants::stats_text(r.whole_binned));
    line("part", r.part_per_class, r.part_samples.size(), r.kept_neurons.size(),
         detail::variants::stats_text(r.part_spikes), detail::variants::stats_text(r.part_binned));
    line("norm", r.part_per_class, r.part_samples.size(), r.kept_neurons.size(),
         norm + " / " + norm + " / " + norm, norm + " (every sample)");
    return s;
}

/// The report as JSON (every list included, for plots and comparisons).
inline json::value to_json(const variant_report& r) {
    auto stats = [](const spike_count_stats& s) {
        json::value v;
        v["min"] = s.min;
        v["mean"] = s.mean;
        v["max"] = s.max;
        return v;
    };
    json::value v;
    json::value& settings = v["settings"];
    settings["theta"] = r.theta;
    settings["eps"] = r.eps;
    settings["rescue"] = to_string(r.rescue);
    settings["cap"] = to_string(r.cap);
    settings["class_floor"] = r.class_floor;
    settings["max_removed"] = r.max_removed;
    settings["keep"] = to_string(r.keep);
    settings["keep_threshold"] = r.keep_threshold;
    settings["dt_ms"] = r.dt_ms;
    settings["n_steps"] = r.n_steps;
    settings["count_mode"] = r.count_mode;
    settings["seed"] = r.seed;
    json::value& in = v["input"];
    in["n_samples"] = r.n_samples;
    in["n_units"] = r.n_units;
    in["class_names"] = r.class_names;
    in["per_class"] = r.input_per_class;
    v["min_count"] = r.min_count;
    v["bad_neurons"] = r.bad_neurons;
    v["bad_sample_counts"] = r.bad_sample_counts;
    v["rescued_neurons"] = r.rescued_neurons;
    v["capped_neurons"] = r.capped_neurons;
    v["removed_samples"] = r.removed_samples;
    v["removed_per_class"] = r.removed_per_class;
    v["remaining_per_class"] = r.remaining_per_class;
    v["min_count_after"] = r.min_count_after;
    v["kept_neurons"] = r.kept_neurons;
    v["norm_counts"] = r.norm_counts;
    v["norm_spikes_per_sample"] = r.norm_spikes_per_sample;
    json::value& whole = v["whole"];
    whole["per_class"] = r.whole_per_class;
    whole["n_samples"] = r.whole_samples.size();
    whole["n_units"] = r.n_units;
    whole["spikes_per_sample"] = stats(r.whole_spikes);
    whole["binned_spikes_per_sample"] = stats(r.whole_binned);
    whole["samples"] = r.whole_samples;
    json::value& part = v["part"];
    part["per_class"] = r.part_per_class;
    part["n_samples"] = r.part_samples.size();
    part["n_units"] = r.kept_neurons.size();
    part["spikes_per_sample"] = stats(r.part_spikes);
    part["binned_spikes_per_sample"] = stats(r.part_binned);
    part["samples"] = r.part_samples;
    json::value& norm = v["norm"];
    norm["per_class"] = r.part_per_class;
    norm["n_samples"] = r.part_samples.size();
    norm["n_units"] = r.kept_neurons.size();
    norm["spikes_per_sample"] = r.norm_spikes_per_sample;
    return v;
}

/// Writes to_json(report) to `path` (through a temporary file renamed into place).
inline void save_json(const variant_report& report, const std::string& path) {
    json::save(to_json(report), path);
}

}  // namespace spikegrad

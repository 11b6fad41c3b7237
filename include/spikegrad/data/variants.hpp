/// \file
/// spikegrad: the whole -> part -> norm construction of Yu, Sun, Goodman, "Beyond Rate Coding"
/// (arXiv 2507.16043, section 3.1, eqs. 6-9; SPEC section 9), on any spike_dataset: drop the
/// neurons that do not fire in every sample, then equalise per-neuron spike counts across samples.
/// The report as text or JSON: variants_report.hpp.
#pragma once

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "binning.hpp"
#include "dataset.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
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

/// Options of the whole/part/norm variant builder (the paper's bad-neuron rule and its limits).
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

// The builder's steps (SPEC section 9), in the order build_variants runs them. Each reads what
// the steps before it produced and fills its own fields of the report.
namespace detail::variants {

/// c[m, i]: the spikes of neuron i in sample m on the binned view. 16 bits per cell keep
/// SSC's 10^5 x 700 matrix small.
struct count_matrix {
    std::size_t n_samples = 0;
    std::size_t n_units = 0;
    std::vector<std::uint16_t> cells;

    std::uint16_t operator()(std::size_t m, std::size_t i) const { return cells[m * n_units + i]; }
    const std::uint16_t* row(std::size_t m) const { return cells.data() + m * n_units; }
};

/// Collapse mode counts the distinct bins a neuron fires in: this marks the (unit, bin) cells
/// of the current sample, and clear() resets only the cells it marked.
class bin_marks {
public:
    bin_marks(std::size_t n_units, std::size_t n_steps)
        : seen_(n_units * n_steps, 0), n_steps_(n_steps) {}

    /// True for the first spike of `unit` in `bin` since the last clear().
    bool first(std::uint32_t unit, std::int64_t bin) {
        const std::size_t cell = unit * n_steps_ + static_cast<std::size_t>(bin);
        if (seen_[cell]) return false;
        seen_[cell] = 1;
        touched_.push_back(cell);
        return true;
    }
    void clear() {
        for (std::size_t cell : touched_) seen_[cell] = 0;
        touched_.clear();
    }

private:
    std::vector<std::uint8_t> seen_;
    std::vector<std::size_t> touched_;
    std::size_t n_steps_;
};

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

/// The settings and the input's sizes, as the report records them.
inline void record_settings(const spike_dataset& input, const variant_options& options,
                            std::size_t n_steps, variant_report& r) {
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
    r.count_mode = options.binning.count;
    r.seed = options.seed;
    r.n_samples = input.size();
    r.n_units = input.n_units();
    r.class_names = input.class_names();
    r.input_per_class = input.class_counts();
}

/// Step 1: c[m, i] for every sample and neuron on the binned view.
inline count_matrix count_spikes(const spike_dataset& input, std::size_t n_steps,
                                 const binning_options& binning) {
    count_matrix counts{input.size(), input.n_units(), {}};
    counts.cells.assign(counts.n_samples * counts.n_units, 0);
    bin_marks marks(binning.count ? 0 : counts.n_units, n_steps);
    for (std::size_t m = 0; m < counts.n_samples; ++m) {
        const auto sample = input.sample(m);
        std::uint16_t* row = counts.cells.data() + m * counts.n_units;
        for (std::size_t e = 0; e < sample.size(); ++e) {
            const std::int64_t k = bin_of(sample.times[e], n_steps, bin_width(input, binning), binning.edges);
            if (k < 0) continue;
            const std::uint32_t unit = sample.units[e];
            if (!binning.count && !marks.first(unit, k)) continue;
            if (row[unit] == std::numeric_limits<std::uint16_t>::max())
                raise<data_error>("build_variants: sample ", m, ": neuron ", unit,
                                  " has more than 65535 spikes in the window");
            ++row[unit];
        }
        marks.clear();
    }
    return counts;
}

/// c_i_min = min over the samples m with use[m] of c[m, i] (zeros when no sample is used).
inline std::vector<std::size_t> min_counts(const count_matrix& counts,
                                           const std::vector<bool>& use) {
    std::vector<std::size_t> low(counts.n_units, 0);
    bool any = false;
    for (std::size_t m = 0; m < counts.n_samples; ++m) {
        if (!use[m]) continue;
        const std::uint16_t* row = counts.row(m);
        for (std::size_t i = 0; i < counts.n_units; ++i)
            low[i] = any ? std::min<std::size_t>(low[i], row[i]) : row[i];
        any = true;
    }
    return low;
}

/// Step 1: c_i_min over all samples, and the bad neurons (c_i_min < theta).
inline void find_bad_neurons(const count_matrix& counts, std::size_t theta, variant_report& r) {
    r.min_count = min_counts(counts, std::vector<bool>(counts.n_samples, true));
    for (std::size_t i = 0; i < counts.n_units; ++i)
        if (r.min_count[i] < theta) r.bad_neurons.push_back(i);
}

/// Step 2: for each bad neuron in index order, marks its failing samples M_i for removal when
/// the rescue rule holds and the cap allows it. Returns which samples remain.
inline std::vector<bool> mark_bad_samples(const count_matrix& counts,
                                          const std::vector<std::int32_t>& labels,
                                          const variant_options& options, variant_report& r) {
    const std::size_t n_samples = counts.n_samples, n_classes = r.input_per_class.size();
    std::vector<bool> remaining(n_samples, true);
    std::vector<std::size_t> removed_per_class(n_classes, 0);
    std::size_t removed_total = 0;
    std::vector<std::size_t> failing, fresh_per_class(n_classes, 0);
    for (std::size_t i : r.bad_neurons) {
        failing.clear();
        for (std::size_t m = 0; m < n_samples; ++m)
            if (counts(m, i) < options.theta) failing.push_back(m);
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
    r.removed_per_class = std::move(removed_per_class);
    return remaining;
}

/// Step 3: removes the marked samples. Returns the remaining input indices, ascending.
inline std::vector<std::size_t> remove_samples(const std::vector<bool>& remaining,
                                               variant_report& r) {
    std::vector<std::size_t> left_samples;
    for (std::size_t m = 0; m < remaining.size(); ++m)
        (remaining[m] ? left_samples : r.removed_samples).push_back(m);
    const std::size_t n_classes = r.input_per_class.size();
    r.remaining_per_class.resize(n_classes);
    for (std::size_t c = 0; c < n_classes; ++c)
        r.remaining_per_class[c] = r.input_per_class[c] - r.removed_per_class[c];
    return left_samples;
}

/// Step 3: recomputes c_i_min over the remaining samples and keeps the neurons that pass the
/// keep rule (none when no sample remains). Returns each input neuron's index in part and
/// norm, or -1 for a dropped neuron.
inline std::vector<std::int64_t> keep_neurons(const count_matrix& counts,
                                              const std::vector<bool>& remaining,
                                              variant_report& r) {
    r.min_count_after = min_counts(counts, remaining);
    std::vector<std::int64_t> new_index(counts.n_units, -1);
    if (std::find(remaining.begin(), remaining.end(), true) == remaining.end()) return new_index;
    for (std::size_t i = 0; i < counts.n_units; ++i)
        if (r.min_count_after[i] >= r.keep_threshold) {
            new_index[i] = static_cast<std::int64_t>(r.kept_neurons.size());
            r.kept_neurons.push_back(i);
            r.norm_counts.push_back(r.min_count_after[i]);
            r.norm_spikes_per_sample += r.min_count_after[i];
        }
    return new_index;
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

/// Step 5, run before step 4 so that part and norm are built for their kept samples only:
/// whole's samples (stream 1 of the seed) and part's, which norm shares (stream 2).
inline void balance_classes(const std::vector<std::size_t>& left_samples,
                            const std::vector<std::int32_t>& labels,
                            const variant_options& options, variant_report& r) {
    const rng base(options.seed);
    std::vector<std::size_t> everything(r.n_samples);
    for (std::size_t m = 0; m < r.n_samples; ++m) everything[m] = m;
    r.whole_samples = balance(options.whole_after_removal ? left_samples : everything, labels,
                              r.input_per_class, base.fork(1), r.whole_per_class);
    r.part_samples =
        balance(left_samples, labels, r.input_per_class, base.fork(2), r.part_per_class);
}

/// whole: the balanced samples with every neuron, and their spike statistics.
inline spike_dataset whole_variant(const spike_dataset& input, const count_matrix& counts,
                                   variant_report& r) {
    std::vector<std::size_t> events, binned;
    for (std::size_t m : r.whole_samples) {
        events.push_back(input.sample(m).size());
        std::size_t total = 0;
        for (std::size_t i = 0; i < counts.n_units; ++i) total += counts(m, i);
        binned.push_back(total);
    }
    r.whole_spikes = count_stats(events);
    r.whole_binned = count_stats(binned);
    return input.subset(r.whole_samples);
}

/// Steps 3 and 4, sample by sample over part's balanced samples: part keeps the kept neurons'
/// original spikes; norm keeps a uniformly random subset of exactly c_i_min of each kept
/// neuron's binned spikes (stream 3 of the seed, forked per input sample).
inline void normalise(const spike_dataset& input, const std::vector<std::int64_t>& new_index,
                      std::size_t n_steps, const variant_options& options, variant_sets& out) {
    const variant_report& r = out.report;
    const bool count_mode = options.binning.count;
    const std::size_t n_kept = r.kept_neurons.size();
    out.part = spike_dataset(n_kept, input.duration(), input.unit(), input.class_names());
    out.norm = spike_dataset(n_kept, input.duration(), input.unit(), input.class_names());
    {
        // Exact for norm, a bound for part: no reallocation (untouched reserve is not resident).
        std::size_t bound = 0;
        for (std::size_t m : r.part_samples) bound += input.sample(m).size();
        out.part.reserve(r.part_samples.size(), bound);
        out.norm.reserve(r.part_samples.size(), r.part_samples.size() * r.norm_spikes_per_sample);
    }
    const rng norm_base = rng(options.seed).fork(3);
    bin_marks marks(count_mode ? 0 : input.n_units(), n_steps);
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
            // A later spike in a bin already represented is no candidate.
            if (!count_mode && !marks.first(sample.units[e], bin)) continue;
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
        marks.clear();
    }
    out.report.part_spikes = count_stats(part_events);
    out.report.part_binned = count_stats(part_binned);
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
    const std::size_t n_steps = binned_steps(input, options.binning);
    if (n_steps == 0) raise<option_error>("build_variants: the binning has zero steps");
    namespace step = detail::variants;

    variant_sets out;
    variant_report& r = out.report;
    step::record_settings(input, options, n_steps, r);
    const std::vector<std::int32_t> labels = input.labels();
    const step::count_matrix counts = step::count_spikes(input, n_steps, options.binning);  // 1
    step::find_bad_neurons(counts, options.theta, r);                                        // 1
    const std::vector<bool> remaining = step::mark_bad_samples(counts, labels, options, r);  // 2
    const std::vector<std::size_t> left_samples = step::remove_samples(remaining, r);        // 3
    const std::vector<std::int64_t> new_index = step::keep_neurons(counts, remaining, r);    // 3
    step::balance_classes(left_samples, labels, options, r);                                 // 5
    out.whole = step::whole_variant(input, counts, r);
    step::normalise(input, new_index, n_steps, options, out);                                // 4
    return out;
}

}  // namespace spikegrad

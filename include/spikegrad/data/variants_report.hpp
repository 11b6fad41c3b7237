/// \file
/// spikegrad: the whole -> part -> norm builder's report (variants.hpp) written out: a plain-text
/// table with the figures SPEC section 9 quotes, and JSON with every field for plots and checks.
#pragma once

#include "../io/json.hpp"
#include "variants.hpp"

#include <cstddef>
#include <cstdio>
#include <string>

namespace spikegrad {

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

// Shared plumbing of the example programs (not part of the library): the run record (every
// setting, as JSON), result tables printed and saved as CSV, splits of a dataset into event
// batches, training one model to a test accuracy, the MLP-on-counts baseline, mean +- std
// over seeds, and raster panels of samples.
#pragma once

#include "svg.hpp"

#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/dataset.hpp>
#include <spikegrad/data/split.hpp>
#include <spikegrad/io/csv.hpp>
#include <spikegrad/io/json.hpp>
#include <spikegrad/spikegrad.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace spikegrad::examples {

/// Printf-style line on stderr, flushed (progress of long sweeps; visible in CI logs too).
inline void log(const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

struct mean_std {
    double mean = 0, std = 0;
    std::size_t n = 0;
};

/// Mean and sample standard deviation (0 for a single value).
inline mean_std summarise(const std::vector<double>& values) {
    mean_std out;
    out.n = values.size();
    if (values.empty()) return out;
    for (double v : values) out.mean += v;
    out.mean /= double(values.size());
    if (values.size() > 1) {
        for (double v : values) out.std += (v - out.mean) * (v - out.mean);
        out.std = std::sqrt(out.std / double(values.size() - 1));
    }
    return out;
}

inline std::string format(const char* fmt, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, fmt, value);
    return buffer;
}

/// "93.1 +- 0.4" in percent.
inline std::string percent(const mean_std& s) {
    return s.n > 1 ? format("%.1f", 100 * s.mean) + " +- " + format("%.1f", 100 * s.std)
                   : format("%.1f", 100 * s.mean);
}

/// Rows of strings printed as an aligned table on stdout and saved as CSV.
class table {
public:
    explicit table(std::vector<std::string> header) : header_(std::move(header)) {}

    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

    void print(const std::string& title) const {
        std::vector<std::size_t> width(header_.size());
        for (std::size_t c = 0; c < header_.size(); ++c) {
            width[c] = header_[c].size();
            for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
        }
        std::printf("\n%s\n", title.c_str());
        auto line = [&](const std::vector<std::string>& cells) {
            for (std::size_t c = 0; c < cells.size(); ++c)
                std::printf("%s%*s", c ? "  " : "  ", int(width[c]), cells[c].c_str());
            std::printf("\n");
        };
        line(header_);
        std::string rule;
        for (std::size_t c = 0; c < header_.size(); ++c) rule += "  " + std::string(width[c], '-');
        std::printf("%s\n", rule.c_str());
        for (const auto& r : rows_) line(r);
        std::fflush(stdout);
    }

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

/// The settings of a run, saved as settings.json beside the results.
class run_record {
public:
    run_record(const std::string& program, int argc, char** argv) {
        root_["program"] = program;
        std::string command;
        for (int k = 0; k < argc; ++k) command += (k ? " " : "") + std::string(argv[k]);
        root_["command"] = command;
        root_["spikegrad_version"] = SPIKEGRAD_VERSION_STRING;
        root_["cores_available"] = max_threads();  // the threads a run uses: its --threads
        const std::time_t now = std::time(nullptr);
        char stamp[64];
        std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", std::gmtime(&now));
        root_["started_utc"] = stamp;
    }
    json::value& operator[](const std::string& key) { return root_[key]; }
    void save(const std::string& folder) const { json::save(root_, folder + "/settings.json"); }
    /// The settings that shape the results (not the command line, the clock or the cores): a
    /// resumed sweep (support/sweep.hpp) checks that its saved runs were made with them.
    std::string fingerprint() const {
        json::value stable = root_;
        for (const char* key : {"command", "started_utc", "cores_available", "mpi_ranks"})
            stable[key] = nullptr;
        return stable.dump(2) + "\n";
    }

private:
    json::value root_;
};

/// Creates the output folder (and parents); io_error when it cannot.
inline std::string prepare_output(const std::string& folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) raise<io_error>(folder, ": cannot create the output folder: ", ec.message());
    return folder;
}

/// Train, validation and test event batches of one dataset variant.
struct splits {
    event_batch train, validation, test;
};

inline splits split_events(const event_batch& all, const index_split& parts) {
    return {all.select(parts.train), all.select(parts.validation), all.select(parts.test)};
}

/// Per-neuron spike counts as one step of weighted events (the MLP baseline's input), scaled
/// by `scale` so that typical inputs are of order one.
inline event_batch count_features(const spike_dataset& data, double scale) {
    event_batch counts = bin_events(data, {.dt_ms = data.duration_ms(), .n_steps = 1, .count = true});
    for (auto& v : counts.values) v = static_cast<float>(v * scale);
    return counts;
}

/// The mean spike count of a (neuron, sample) cell, for count_features' scale.
inline double mean_count(const spike_dataset& data) {
    const double cells = double(data.size()) * double(data.n_units());
    return cells > 0 ? std::max(1e-9, double(data.n_spikes()) / cells) : 1.0;
}

struct outcome {
    double test_accuracy = 0, test_loss = 0, validation_accuracy = 0, seconds = 0;
    std::size_t best_epoch = 0;
    training_history history;
};

/// Trains `net` on the splits and evaluates the best model (by validation loss) on the test set.
template <class Net, class Loss, class Rule>
outcome train_and_test(Net& net, const splits& data, const trainer_options& options,
                       const Loss& loss = {}, const typename Rule::params& rule = {},
                       std::vector<parameter_group> groups = {}) {
    const auto start = std::chrono::steady_clock::now();
    trainer<Net, Loss, Rule> fit(net, options, loss, rule, std::move(groups));
    outcome out;
    out.history = fit.run(data.train, data.validation);
    out.best_epoch = out.history.best_epoch;
    const auto test = fit.evaluate(data.test);
    out.test_accuracy = test.accuracy();
    out.test_loss = test.loss();
    out.validation_accuracy = fit.evaluate(data.validation).accuracy();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

/// The paper's rate-only baseline: a multilayer perceptron (one hidden layer of rectified
/// linear units) on per-neuron spike counts, trained with Adam and the same splits.
inline outcome mlp_on_counts(const spike_dataset& data, const index_split& parts,
                             std::size_t hidden, trainer_options options, std::uint64_t seed) {
    using mlp = network<dense<lif, rectifier>, dense<readout>>;
    const auto counts = count_features(data, 1.0 / mean_count(data));
    mlp net({data.n_units(), hidden, data.n_classes()}, {.dt_ms = counts.dt_ms, .seed = seed},
            {.neuron = {.theta = 0.0}}, {});
    return train_and_test<mlp, final_membrane_cross_entropy, adam>(net, split_events(counts, parts),
                                                                  options);
}

/// Draws one sample's spikes as a raster (time on x, unit on y).
inline void draw_sample(svg::axes& ax, const spike_sample_view& sample, const std::string& label,
                        const std::string& color = "") {
    std::vector<double> times(sample.times.begin(), sample.times.end());
    std::vector<double> units(sample.units.begin(), sample.units.end());
    ax.raster(times, units, {.label = label, .color = color});
}

}  // namespace spikegrad::examples

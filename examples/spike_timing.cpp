// spike_timing: how precisely can each gradient method place a spike? (issue 13)
// A frozen pattern of one spike per input unit (times uniform in [0, pattern_ms], every
// sample jittered by a Gaussian of `jitter` ms) drives a single layer of current-based LIF
// neurons; output k must fire at its target time. Trained three ways on the same samples:
//   exact       the exact event-driven engine (continuous time), squared error of the first
//               spike times to the targets (event_loss spike_time);
//   grid        its grid variant at step dt (event_network_options::grid_ms = dt);
//   bptt        surrogate BPTT on the same spikes binned at dt, `dense<cuba_lif>` (the same
//               neuron), van Rossum distance to the target trains (loss/van_rossum.hpp).
// Reported on held-out samples: the mean |first spike - target| (ms), the share of outputs
// that stay silent, and the spikes per output (1 is ideal), against dt. Writes results.csv,
// timing_error.svg and settings.json.
#include "support/experiment.hpp"
#include "support/svg.hpp"

#include <spikegrad/engine/event_driven.hpp>
#include <spikegrad/io/csv.hpp>
#include <spikegrad/spikegrad.hpp>
#include <spikegrad/train/optimizer.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

using namespace spikegrad;
using namespace spikegrad::examples;

namespace {

struct task {
    std::size_t inputs = 50;
    double pattern_ms = 25, jitter_ms = 0.5, duration_ms = 45;
    std::vector<double> targets_ms = {15, 22, 30};
};

std::vector<timed_spikes<double>> make_samples(const task& t, std::size_t n, std::uint64_t seed) {
    rng pattern(7);  // the frozen pattern is the same for every split
    std::vector<double> base(t.inputs);
    for (auto& b : base) b = pattern.uniform(0, t.pattern_ms);
    rng noise(seed);
    std::vector<timed_spikes<double>> out;
    for (std::size_t s = 0; s < n; ++s) {
        std::vector<std::pair<double, std::uint32_t>> spikes;
        for (std::uint32_t u = 0; u < t.inputs; ++u)
            spikes.push_back({std::clamp(base[u] + noise.normal(0, t.jitter_ms), 0.0,
                                         t.duration_ms - 1e-9), u});
        std::sort(spikes.begin(), spikes.end());
        timed_spikes<double> sample;
        for (auto [time, unit] : spikes) sample.add(time, unit);
        sample.label = 0;
        out.push_back(std::move(sample));
    }
    return out;
}

event_batch bin(const std::vector<timed_spikes<double>>& samples, std::size_t units, double dt_ms,
                double duration_ms) {
    const auto steps = static_cast<std::size_t>(std::ceil(duration_ms / dt_ms));
    event_batch batch(steps, units, 1);
    batch.dt_ms = dt_ms;
    for (const auto& s : samples) {
        std::vector<std::uint32_t> step, unit;
        for (std::size_t k = 0; k < s.size(); ++k) {
            step.push_back(std::min<std::uint32_t>(std::uint32_t(s.times_ms[k] / dt_ms),
                                                   std::uint32_t(steps - 1)));
            unit.push_back(s.units[k]);
        }
        batch.add_sample(step, unit, {}, 0);
    }
    return batch;
}

/// Timing of the first spikes on held-out samples.
struct timing {
    double error_ms = 0;          // mean |first spike - target| over the outputs that fired
    double silent = 0;            // share of (sample, output) pairs without a spike
    double spikes_per_output = 0;
};

struct accumulator {
    double error = 0, fired = 0, silent = 0, spikes = 0, pairs = 0;
    void add(bool fired_here, double first_ms, double target_ms, double count) {
        pairs += 1;
        spikes += count;
        if (fired_here) error += std::abs(first_ms - target_ms), fired += 1;
        else silent += 1;
    }
    timing result() const {
        return {fired > 0 ? error / fired : std::nan(""), silent / pairs, spikes / pairs};
    }
};

timing event_timing(event_network<double>& net, const std::vector<timed_spikes<double>>& samples,
                    const event_loss& loss, const task& t) {
    accumulator a;
    event_tape<double> tape;
    for (const auto& s : samples) {
        net.forward(s, loss, tape);
        std::vector<double> count(t.targets_ms.size(), 0);
        for (const auto& spike : tape.layers.back().spikes) count[spike.neuron] += 1;
        for (std::size_t k = 0; k < t.targets_ms.size(); ++k)
            a.add(tape.first_spike[k] >= 0, tape.first_spike_ms[k], t.targets_ms[k], count[k]);
    }
    return a.result();
}

using bptt_net = network<dense<cuba_lif, fast_sigmoid>>;

timing bptt_timing(const bptt_net& net, const event_batch& batch, const task& t) {
    const auto record = net.forward(batch);  // [B, T, n] output spikes
    accumulator a;
    const std::size_t n = t.targets_ms.size();
    for (std::size_t b = 0; b < batch.n_samples; ++b)
        for (std::size_t k = 0; k < n; ++k) {
            double count = 0, first = -1;
            for (std::size_t step = 0; step < batch.n_steps; ++step)
                if (record(b, step, k) > 0) {
                    count += record(b, step, k);
                    if (first < 0) first = double(step) * batch.dt_ms;
                }
            a.add(first >= 0, first, t.targets_ms[k], count);
        }
    return a.result();
}

/// `epochs` passes over `samples` samples in a fresh shuffled order each, calling
/// step(batch indices) once per batch.
template <class Step>
void train_epochs(std::size_t samples, std::size_t epochs, std::size_t batch, std::uint64_t seed, Step&& step) {
    std::vector<std::size_t> order(samples);
    rng shuffler(seed);
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        std::iota(order.begin(), order.end(), std::size_t(0));
        shuffler.shuffle(order);
        for (std::size_t b = 0; b < order.size(); b += batch)
            step(std::span<const std::size_t>(order.data() + b, std::min(batch, order.size() - b)));
    }
}

struct row {
    std::string engine;
    double dt_ms;
    timing test;
    double seconds;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Spike-timing precision: exact event-driven gradients, their grid variant and "
                 "surrogate BPTT against dt"};
    std::string out = "results/spike_timing";
    task t;
    std::size_t n_train = 200, n_test = 100, epochs = 100, batch = 16;
    std::vector<double> dts = {1.0, 0.5, 0.25, 0.1};
    double lr = 5e-3, bptt_lr = 1e-3, tau0_ms = 1, van_rossum_tau_ms = 20, push = 0.5,
           weight_mean = 0.4, weight_std = 0.15, bptt_scale = 14;
    std::uint64_t seed = 1;
    int threads = 1;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--train", n_train, "training samples")->capture_default_str();
    app.add_option("--test", n_test, "held-out samples")->capture_default_str();
    app.add_option("--epochs", epochs, "epochs of every engine")->capture_default_str();
    app.add_option("--batch", batch, "batch size")->capture_default_str();
    app.add_option("--dt", dts, "grid steps (ms) of the grid variant and of BPTT")->delimiter(',')->capture_default_str();
    app.add_option("--inputs", t.inputs, "input units (one spike each)")->capture_default_str();
    app.add_option("--jitter", t.jitter_ms, "Gaussian jitter of every input spike (ms)")->capture_default_str();
    app.add_option("--targets", t.targets_ms, "target time of each output (ms)")->delimiter(',')->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate, event engines")->capture_default_str();
    app.add_option("--bptt-lr", bptt_lr, "Adam learning rate, BPTT")->capture_default_str();
    app.add_option("--tau0", tau0_ms, "spike-time error scale (ms) of the event loss")->capture_default_str();
    app.add_option("--van-rossum-tau", van_rossum_tau_ms, "van Rossum filter (ms) of the BPTT loss")->capture_default_str();
    app.add_option("--push", push, "dead-output weight push of the event engines (heuristic)")->capture_default_str();
    app.add_option("--weight-mean", weight_mean, "event engines: initial weights ~ N(mean, std)")->capture_default_str();
    app.add_option("--weight-std", weight_std, "event engines: initial weight spread")->capture_default_str();
    app.add_option("--bptt-scale", bptt_scale, "BPTT init scale: U(+-s/sqrt(inputs))")->capture_default_str();
    app.add_option("--seed", seed, "seed")->capture_default_str();
    app.add_option("--threads", threads, "threads (0: all)")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        if (t.targets_ms.empty()) raise<option_error>("spike_timing: --targets is empty");
        for (double target : t.targets_ms)
            if (!(target > 0 && target < t.duration_ms))
                raise<option_error>("spike_timing: target ", target, " ms outside (0, ", t.duration_ms, ")");
        for (double dt : dts)
            if (!(dt > 0 && dt <= 5)) raise<option_error>("spike_timing: --dt ", dt, " must be in (0, 5] ms");
        std::filesystem::create_directories(out);
        const std::size_t n_out = t.targets_ms.size();
        const auto train = make_samples(t, n_train, seed + 100);
        const auto test = make_samples(t, n_test, seed + 200);
        std::printf("spike_timing: %zu inputs (one spike each, jitter %.2f ms) -> %zu outputs, targets",
                    t.inputs, t.jitter_ms, n_out);
        for (double target : t.targets_ms) std::printf(" %.1f", target);
        std::printf(" ms; %zu train / %zu test samples, %zu epochs\n", n_train, n_test, epochs);

        std::vector<row> rows;
        const auto start = std::chrono::steady_clock::now();
        auto seconds = [&] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        };
        const event_loss loss{.kind = event_loss_kind::spike_time, .tau0_ms = tau0_ms,
                              .target_ms = t.targets_ms, .dead_weight_push = push};
        auto train_event = [&](double grid_ms) {
            event_network<double> net({t.inputs, n_out},
                                      {.duration_ms = t.duration_ms, .seed = seed, .threads = threads,
                                       .grid_ms = grid_ms},
                                      {{.tau_m_ms = 20, .tau_s_ms = 5, .weight_mean = weight_mean,
                                        .weight_std = weight_std}});
            optimizer<adam, double> opt(net.parameters(), lr);
            const double t0 = seconds();
            train_epochs(train.size(), epochs, batch, seed, [&](std::span<const std::size_t> part) {
                net.train_step(train, part, loss);
                opt.step(net.parameters(), net.gradients());
            });
            const timing r = event_timing(net, test, loss, t);
            rows.push_back({grid_ms > 0 ? "grid" : "exact", grid_ms, r, seconds() - t0});
            std::printf("%-5s dt %-5s: timing error %.3f ms, silent %.1f%%, %.2f spikes per output (%.1f s)\n",
                        rows.back().engine.c_str(), grid_ms > 0 ? format("%.3g", grid_ms).c_str() : "-",
                        r.error_ms, 100 * r.silent, r.spikes_per_output, rows.back().seconds);
            std::fflush(stdout);
        };
        train_event(0.0);
        for (double dt : dts) train_event(dt);

        for (double dt : dts) {
            const auto train_events = bin(train, t.inputs, dt, t.duration_ms);
            const auto test_events = bin(test, t.inputs, dt, t.duration_ms);
            std::vector<std::vector<double>> targets(n_out);
            for (std::size_t k = 0; k < n_out; ++k) targets[k] = {t.targets_ms[k]};
            const van_rossum_distance vr{.tau_ms = van_rossum_tau_ms, .step_ms = dt, .target_ms = targets};
            bptt_net net({t.inputs, n_out}, {.dt_ms = dt, .seed = seed, .threads = threads},
                         {.neuron = {.tau_syn_ms = 5, .membrane = {.tau_ms = 20, .reset = reset_mode::zero}},
                          .init_scale = bptt_scale});
            optimizer<adam, float> opt(net.parameters(), bptt_lr);
            const double t0 = seconds();
            train_epochs(train.size(), epochs, batch, seed, [&](std::span<const std::size_t> part) {
                net.train_step(train_events.select(part), vr);
                opt.step(net.parameters(), net.gradients());
            });
            const timing r = bptt_timing(net, test_events, t);
            rows.push_back({"bptt", dt, r, seconds() - t0});
            std::printf("bptt  dt %-5.3g: timing error %.3f ms, silent %.1f%%, %.2f spikes per output (%.1f s)\n",
                        dt, r.error_ms, 100 * r.silent, r.spikes_per_output, rows.back().seconds);
            std::fflush(stdout);
        }

        io::csv_writer table({"engine", "dt_ms", "timing_error_ms", "silent_fraction",
                              "spikes_per_output", "seconds"});
        for (const auto& r : rows)
            table.row(r.engine, r.dt_ms, r.test.error_ms, r.test.silent, r.test.spikes_per_output, r.seconds);
        table.save(out + "/results.csv");

        run_record record("spike_timing", argc, argv);
        record["task"] = json::object{{"inputs", t.inputs}, {"pattern_ms", t.pattern_ms},
                                      {"jitter_ms", t.jitter_ms}, {"duration_ms", t.duration_ms},
                                      {"targets_ms", t.targets_ms}};
        record["train"] = n_train;
        record["test"] = n_test;
        record["epochs"] = epochs;
        record["batch"] = batch;
        record["dts_ms"] = dts;
        record["event"] = json::object{{"lr", lr}, {"tau0_ms", tau0_ms}, {"push", push},
                                       {"weight_mean", weight_mean}, {"weight_std", weight_std}};
        record["bptt"] = json::object{{"lr", bptt_lr}, {"van_rossum_tau_ms", van_rossum_tau_ms},
                                      {"init_scale", bptt_scale}, {"neuron", "cuba_lif, fast_sigmoid"}};
        record["seed"] = seed;
        record.save(out);

        svg::figure fig({.width = 620, .height = 420});
        auto& ax = fig.panel(0, 0);
        ax.set({.title = "Spike-timing precision, " + std::to_string(t.inputs) + " -> " +
                         std::to_string(n_out) + " CUBA LIF",
                .xlabel = "dt (ms)", .ylabel = "mean |first spike - target| (ms)"});
        for (const char* engine : {"grid", "bptt"}) {
            std::vector<double> x, y;
            for (const auto& r : rows)
                if (r.engine == engine && std::isfinite(r.test.error_ms)) x.push_back(r.dt_ms), y.push_back(r.test.error_ms);
            if (!x.empty())
                ax.line(x, y, {.label = std::string(engine) == "grid" ? "exact gradients, grid variant"
                                                                       : "surrogate BPTT (van Rossum)",
                               .marker = svg::marker_shape::circle});
        }
        if (std::isfinite(rows.front().test.error_ms))
            ax.hline(rows.front().test.error_ms, {.label = "exact gradients, continuous time",
                                                  .color = "#999999", .dash = "dotted"});
        fig.save(out + "/timing_error.svg");
        std::printf("wrote %s/results.csv, timing_error.svg, settings.json\n", out.c_str());
    } catch (const spikegrad::error& e) {
        std::fprintf(stderr, "spike_timing: %s\n", e.what());
        return 1;
    }
    return 0;
}

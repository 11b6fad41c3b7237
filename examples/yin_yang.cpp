// yin_yang: exact event-driven gradients (EventProp) against surrogate BPTT on the Yin-Yang
// data set (Kriener, Goeltz and Petrovici 2021), generated from its definition: points in a
// disc of radius r_big = 0.5 labelled yin / yang / dots (r_small = 0.1), four inputs
// x, y, 1 - x, 1 - y plus a bias, each encoded as one spike time (time-to-first-spike code).
// Writes accuracy per epoch as CSV and an SVG figure.
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

namespace {

struct point {
    double x, y;
    int label;
};

// Kriener et al. 2021, the reference implementation's get_class: 0 yang, 1 yin, 2 dots.
int yin_yang_class(double x, double y, double r_big = 0.5, double r_small = 0.1) {
    const double d_right = std::hypot(x - 1.5 * r_big, y - r_big);
    const double d_left = std::hypot(x - 0.5 * r_big, y - r_big);
    if (d_right < r_small || d_left < r_small) return 2;
    const bool yin = d_right <= r_small || (d_left > r_small && d_left <= 0.5 * r_big) ||
                     (y > r_big && d_right > 0.5 * r_big);
    return yin ? 1 : 0;
}

// Balanced sampling as in the reference: draw a class uniformly, then points uniform in the
// disc until one falls in that class.
std::vector<point> make_yin_yang(std::size_t n, std::uint64_t seed, double r_big = 0.5) {
    rng random(seed);
    std::vector<point> out;
    while (out.size() < n) {
        const int wanted = static_cast<int>(random.below(3));
        for (;;) {
            const double x = random.uniform(0, 2 * r_big), y = random.uniform(0, 2 * r_big);
            if (std::hypot(x - r_big, y - r_big) > r_big) continue;
            if (yin_yang_class(x, y, r_big) != wanted) continue;
            out.push_back({x, y, wanted});
            break;
        }
    }
    return out;
}

struct encoding {
    double t_early_ms = 2, t_late_ms = 27, bias_ms = 0;
};

std::vector<timed_spikes<double>> encode(const std::vector<point>& points, const encoding& e) {
    std::vector<timed_spikes<double>> out;
    for (const auto& p : points) {
        const double values[4] = {p.x, p.y, 1 - p.x, 1 - p.y};
        struct spike {
            double t;
            std::uint32_t unit;
        };
        std::vector<spike> spikes{{e.bias_ms, 4}};
        for (std::uint32_t u = 0; u < 4; ++u)
            spikes.push_back({e.t_early_ms + values[u] * (e.t_late_ms - e.t_early_ms), u});
        std::sort(spikes.begin(), spikes.end(), [](const spike& a, const spike& b) {
            return a.t != b.t ? a.t < b.t : a.unit < b.unit;
        });
        timed_spikes<double> s;
        for (const auto& sp : spikes) s.add(sp.t, sp.unit);
        s.label = p.label;
        out.push_back(std::move(s));
    }
    return out;
}

/// The same spike times on a grid of dt_ms for the surrogate-BPTT engine.
event_batch bin(const std::vector<timed_spikes<double>>& samples, double dt_ms,
                double duration_ms) {
    event_batch batch(static_cast<std::size_t>(std::ceil(duration_ms / dt_ms)), 5, 3);
    batch.dt_ms = dt_ms;
    for (const auto& s : samples) {
        std::vector<std::uint32_t> steps, units;
        for (std::size_t k = 0; k < s.size(); ++k) {
            steps.push_back(static_cast<std::uint32_t>(std::lround(s.times_ms[k] / dt_ms)));
            units.push_back(s.units[k]);
        }
        batch.add_sample(steps, units, {}, s.label);
    }
    return batch;
}

struct row {
    std::string method;
    std::size_t epoch;
    double train_loss, train_accuracy, validation_accuracy, test_accuracy, seconds;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Yin-Yang: exact event-driven gradients vs surrogate BPTT"};
    std::string out = "yin_yang_out";
    std::size_t n_train = 5000, n_test = 1000, hidden = 200, epochs = 12, batch = 32;
    std::size_t bptt_epochs = 12;
    double lr = 3e-3, dt_ms = 0.5, duration_ms = 60, push = 1.0, tau0_ms = 0.5, clip = 1,
           decay = 0.85;
    int threads = 0;
    double bptt_scale = 3, bptt_lr = 1e-3;
    std::uint64_t seed = 1;
    bool run_bptt = true;
    app.add_option("--out", out, "output folder");
    app.add_option("--train", n_train, "training points");
    app.add_option("--test", n_test, "test points");
    app.add_option("--hidden", hidden, "hidden LIF neurons");
    app.add_option("--epochs", epochs, "epochs of exact-gradient training");
    app.add_option("--bptt-epochs", bptt_epochs, "epochs of surrogate BPTT (0: skip)");
    app.add_option("--batch", batch, "batch size");
    app.add_option("--lr", lr, "Adam learning rate");
    app.add_option("--dt", dt_ms, "BPTT step (ms)");
    app.add_option("--push", push, "dead-output weight push (heuristic, per sample)");
    app.add_option("--tau0", tau0_ms, "first-spike loss temperature (ms)");
    app.add_option("--clip", clip, "clip the gradient norm (0: off)");
    app.add_option("--decay", decay, "learning-rate factor per epoch");
    app.add_option("--threads", threads, "threads (0: all)");
    app.add_option("--bptt-scale", bptt_scale, "BPTT hidden init scale: U(+-s/sqrt(5))");
    app.add_option("--bptt-lr", bptt_lr, "BPTT Adam learning rate");
    app.add_option("--seed", seed, "seed");
    CLI11_PARSE(app, argc, argv);
    run_bptt = bptt_epochs > 0;
    std::filesystem::create_directories(out);

    const auto train_points = make_yin_yang(n_train, 42);  // the reference's seeds
    const auto validation_points = make_yin_yang(n_test, 41);
    const auto test_points = make_yin_yang(n_test, 40);
    const auto train = encode(train_points, {});
    const auto validation = encode(validation_points, {});
    const auto test = encode(test_points, {});
    std::vector<row> rows;

    // --- exact gradients: 5 -> hidden LIF -> 3 LIF, first-spike-time cross-entropy ---------
    event_network<double> net({5, hidden, 3}, {.duration_ms = duration_ms, .seed = seed, .threads = threads},
                              {{.tau_m_ms = 20, .tau_s_ms = 5, .weight_mean = 1.5, .weight_std = 1.2},
                               {.tau_m_ms = 20, .tau_s_ms = 5,
                                .weight_mean = 24.0 / double(hidden), .weight_std = 24.0 / double(hidden)}});
    const event_loss loss{.kind = event_loss_kind::first_spike_time, .tau0_ms = tau0_ms,
                          .alpha = 3e-3, .tau1_ms = 10.0, .dead_weight_push = push};
    optimizer<adam, double> adam_exact(net.parameters(), lr);
    std::vector<std::size_t> order(train.size()), all_test(test.size());
    std::iota(all_test.begin(), all_test.end(), std::size_t(0));
    rng shuffler(seed);
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const double t0 = seconds();
    std::size_t peak_tape = 0;
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        std::iota(order.begin(), order.end(), std::size_t(0));
        shuffler.shuffle(order);
        double loss_sum = 0, hits = 0;
        std::size_t grazing = 0, silent = 0;
        for (std::size_t b = 0; b < order.size(); b += batch) {
            const std::span<const std::size_t> part(order.data() + b, std::min(batch, order.size() - b));
            const auto r = net.train_step(train, part, loss);
            if (clip > 0) clip_gradient_norm(net.gradients(), clip);
            adam_exact.step(net.parameters(), net.gradients());
            loss_sum += r.loss * double(part.size());
            hits += r.accuracy * double(part.size());
            grazing += r.grazing;
            silent += r.silent_outputs;
            peak_tape = std::max(peak_tape, r.tape_bytes);
        }
        adam_exact.scale_learning_rate(decay);
        const auto v = net.evaluate(validation, all_test, loss);
        const auto t = net.evaluate(test, all_test, loss);
        rows.push_back({"exact", epoch, loss_sum / double(train.size()), hits / double(train.size()),
                        v.accuracy, t.accuracy, seconds() - t0});
        std::printf("exact  epoch %2zu: train loss %.4f acc %.1f%%, validation %.1f%%, test %.1f%% (silent outputs %zu, grazing %zu, %.1f s)\n",
                    epoch, rows.back().train_loss, 100 * rows.back().train_accuracy, 100 * v.accuracy,
                    100 * t.accuracy, silent, grazing, rows.back().seconds);
        std::fflush(stdout);
    }

    // --- surrogate BPTT on the same inputs at dt, 5 -> hidden CUBA LIF -> 3 readout ---------
    if (run_bptt) {
        const auto train_events = bin(train, dt_ms, duration_ms);
        const auto test_events = bin(test, dt_ms, duration_ms);
        const auto validation_events = bin(validation, dt_ms, duration_ms);
        using net_t = network<dense<cuba_lif, fast_sigmoid>, dense<readout>>;
        net_t bptt({5, hidden, 3}, {.dt_ms = dt_ms, .seed = seed, .threads = threads},
                   {.neuron = {.tau_syn_ms = 5, .membrane = {.tau_ms = 20, .reset = reset_mode::zero}},
                    .init_scale = bptt_scale},
                   {.neuron = {.tau_ms = 20}});
        optimizer<adam, float> adam_bptt(bptt.parameters(), bptt_lr);
        const double t1 = seconds();
        for (std::size_t epoch = 1; epoch <= bptt_epochs; ++epoch) {
            std::iota(order.begin(), order.end(), std::size_t(0));
            shuffler.shuffle(order);
            double loss_sum = 0, hits = 0;
            for (std::size_t b = 0; b < order.size(); b += batch) {
                std::vector<std::size_t> part(order.begin() + std::ptrdiff_t(b),
                                              order.begin() + std::ptrdiff_t(std::min(order.size(), b + batch)));
                const auto r = bptt.train_step(train_events.select(part), max_membrane_cross_entropy{});
                adam_bptt.step(bptt.parameters(), bptt.gradients());
                loss_sum += r.loss_sum;
                hits += r.correct;
            }
            const auto v = bptt.evaluate(validation_events, max_membrane_cross_entropy{});
            const auto t = bptt.evaluate(test_events, max_membrane_cross_entropy{});
            rows.push_back({"bptt", epoch, loss_sum / double(train.size()), hits / double(train.size()),
                            v.accuracy(), t.accuracy(), seconds() - t1});
            std::printf("bptt   epoch %2zu: train loss %.4f acc %.1f%%, test %.1f%% (%.1f s)\n", epoch,
                        rows.back().train_loss, 100 * rows.back().train_accuracy, 100 * t.accuracy(),
                        rows.back().seconds);
            std::fflush(stdout);
        }
    }

    io::csv_writer table({"method", "epoch", "train_loss", "train_accuracy", "validation_accuracy",
                          "test_accuracy", "seconds"});
    for (const auto& r : rows)
        table.row(r.method, r.epoch, r.train_loss, r.train_accuracy, r.validation_accuracy,
                  r.test_accuracy, r.seconds);
    table.save(out + "/accuracy.csv");
    // The model one would keep: the epoch with the best validation accuracy (first on ties).
    io::csv_writer summary({"method", "best_epoch", "validation_accuracy", "test_accuracy", "seconds"});
    for (const char* method : {"exact", "bptt"}) {
        const row* best = nullptr;
        for (const auto& r : rows)
            if (r.method == method && (!best || r.validation_accuracy > best->validation_accuracy)) best = &r;
        if (!best) continue;
        summary.row(best->method, best->epoch, best->validation_accuracy, best->test_accuracy, best->seconds);
        std::printf("%s: best validation epoch %zu, validation %.1f%%, test %.1f%%\n", method, best->epoch,
                    100 * best->validation_accuracy, 100 * best->test_accuracy);
    }
    summary.save(out + "/summary.csv");
    std::printf("largest tape of one sample: %zu bytes\n", peak_tape);

    svg::figure fig({.width = 620, .height = 420});
    auto& ax = fig.panel(0, 0);
    ax.set({.title = "Yin-Yang, 5-" + std::to_string(hidden) + "-3", .xlabel = "epoch",
            .ylabel = "test accuracy (%)", .ylim = {.lo = 30, .hi = 100}});
    for (const char* method : {"exact", "bptt"}) {
        std::vector<double> x, y;
        for (const auto& r : rows)
            if (r.method == method) x.push_back(double(r.epoch)), y.push_back(100 * r.test_accuracy);
        if (!x.empty())
            ax.line(x, y, {.label = std::string(method) == "exact" ? "exact gradients (first spike)"
                                                                      : "surrogate BPTT (max membrane)",
                           .marker = svg::marker_shape::circle});
    }
    ax.hline(95, {.label = "95%", .color = "#999999", .dash = "dotted"});
    fig.save(out + "/accuracy_vs_epoch.svg");
    return 0;
}

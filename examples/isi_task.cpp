// isi_task: the paper's synthetic ISI task (Yu, Sun, Goodman 2025, section 2.1; SPEC 7).
// Accuracy of a 10 -> 100 -> 2 LIF network (shared learnable tau, CE on the final readout
// membrane) against the random-replacement fraction f, next to the rate-only level of an MLP
// on spike counts. Writes results.csv, summary.csv, accuracy.npy, accuracy_vs_f.svg,
// rasters.svg, settings.json and the trained models into --out.
#include "support/experiment.hpp"
#include "support/sweep.hpp"

#include <spikegrad/data/synthetic/isi.hpp>
#include <spikegrad/data/transforms.hpp>
#include <spikegrad/io/npy.hpp>

#include <CLI/CLI.hpp>

using namespace spikegrad;
using namespace spikegrad::examples;

using isi_net = network<dense<lif>, dense<readout>>;

int main(int argc, char** argv) {
    CLI::App app{"ISI task: spike-timing accuracy against the random-replacement fraction f"};
    std::string out = "results/isi_task";
    std::vector<double> fractions = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    std::size_t seeds = 2, epochs = 40, points = 5000, hidden = 100, batch = 32, mlp_hidden = 64;
    double lr = 2e-3, tau_lr = 0.05, tau_ms = 50, readout_tau_ms = 500;
    int threads = 0;
    bool paper = false;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--fractions", fractions, "replacement fractions f (comma or space separated)")
        ->delimiter(',')->capture_default_str();
    app.add_option("--seeds", seeds, "independent runs per f (data split, initialisation, shuffling)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--epochs", epochs, "training epochs (best epoch by validation loss)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--points", points, "2-D points drawn before the margin is removed (paper: 5000)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--hidden", hidden, "hidden LIF neurons")->capture_default_str();
    app.add_option("--batch", batch, "batch size")->capture_default_str();
    app.add_option("--lr", lr, "Nadam learning rate of the weights")->capture_default_str();
    app.add_option("--tau-lr", tau_lr, "learning rate of the time constants (ms per step)")
        ->capture_default_str();
    app.add_option("--tau-ms", tau_ms, "initial shared hidden time constant (learned in [10, 200] ms)")
        ->capture_default_str();
    app.add_option("--readout-tau-ms", readout_tau_ms, "readout time constant (learned in [10, 5000] ms)")
        ->capture_default_str();
    app.add_option("--threads", threads, "threads (0: all cores)")->capture_default_str();
    app.add_flag("--paper", paper, "the paper's settings: 300 epochs, lr 1e-3, 5 seeds");
    bool use_mpi = false;
    add_sweep_options(app, use_mpi);
    CLI11_PARSE(app, argc, argv);
    if (paper) {
        epochs = 300;
        lr = 1e-3;
        seeds = std::max<std::size_t>(seeds, 5);
        points = 5000;
    }

    std::unique_ptr<sweep> runs;
    try {
        runs = std::make_unique<sweep>(use_mpi, argc, argv, "isi_task");
        if (runs->leader()) {
            prepare_output(out);
            prepare_output(out + "/models");
        }
        run_record record("isi_task", argc, argv);
        record["fractions"] = fractions;
        record["seeds"] = seeds;
        record["epochs"] = epochs;
        record["points"] = points;
        record["network"] = "10 -> " + std::to_string(hidden) + " LIF (shared learnable tau) -> 2 readout";
        record["loss"] = "cross-entropy on the final readout membrane";
        record["optimizer"] =
            json::object{{"rule", "nadam"}, {"lr", lr}, {"tau_lr", tau_lr}, {"batch", batch}};
        record["tau_ms"] = tau_ms;
        record["readout_tau_ms"] = readout_tau_ms;
        record["split"] = "shuffled, train [0, 0.6), validation [0.6, 0.75), test [0.75, 0.9)";
        record["mlp_hidden"] = mlp_hidden;
        record["threads"] = threads;  // 0: every core
        record["mpi_ranks"] = runs->ranks();
        if (runs->leader()) record.save(out);
        runs->open(out, record);
        if (runs->leader()) std::printf("isi_task: %zu fractions x %zu seeds, %zu epochs%s (the paper: 300 epochs; "
                    "--paper for its settings)\n",
                    fractions.size(), seeds, epochs, paper ? " [paper settings]" : "");
        std::fflush(stdout);

        const auto task = make_isi_task({.n_points = points});
        const spike_dataset& clean = task.data;
        std::printf("isi_task: %zu samples of %zu neurons x %zu steps (1 ms), %.1f spikes per sample\n",
                    clean.size(), clean.n_units(), std::size_t(clean.duration()),
                    double(clean.n_spikes()) / double(clean.size()));
        std::fflush(stdout);

        const std::vector<std::string> header{"model", "f", "seed", "test_accuracy",
                                              "validation_accuracy", "best_epoch", "seconds"};
        // One run per (seed, MLP) and (seed, f, SNN); each saves its row in runs/ when done.
        const auto mlp_key = [](std::size_t s) { return "mlp_counts_seed" + std::to_string(s); };
        const auto snn_key = [](double f, std::size_t s) {
            return "snn_f" + format("%.2f", f) + "_seed" + std::to_string(s);
        };
        std::size_t done = 0, index = 0;
        const std::size_t total = fractions.size() * seeds + seeds;
        for (std::size_t s = 0; s < seeds; ++s) {
            const auto parts = split_by_fraction(clean.size(), {.seed = 42 + s});
            // Replacement keeps every neuron's count, so one MLP per seed is the rate-only level.
            if (runs->should_run(index++, mlp_key(s))) {
                const auto mlp = mlp_on_counts(clean, parts, mlp_hidden,
                                               {.lr = 3e-3, .epochs = 200, .batch = 64, .seed = s,
                                                .progress = progress_mode::quiet}, 1000 + s);
                runs->save(mlp_key(s), header, {"mlp_counts", 0.0, s, mlp.test_accuracy,
                                                mlp.validation_accuracy, mlp.best_epoch, mlp.seconds});
                log("[%zu/%zu] MLP on counts, seed %zu: test %.1f%% (%.1f s)", ++done, total, s,
                    100 * mlp.test_accuracy, mlp.seconds);
            }
            for (std::size_t k = 0; k < fractions.size(); ++k) {
                const double f = fractions[k];
                if (!runs->should_run(index++, snn_key(f, s))) continue;
                const auto perturbed = replace_spikes(clean, {.fraction = f}, 7000 + 13 * s);
                const auto events = bin_events(perturbed, {.dt_ms = 1.0});
                using hidden_layer = dense<lif>;
                typename hidden_layer::options h;
                h.neuron = {.tau_ms = tau_ms, .train_tau = tau_training::shared, .tau_min_ms = 10,
                            .tau_max_ms = 200};
                isi_net net({clean.n_units(), hidden, 2}, {.dt_ms = events.dt_ms, .seed = 100 + s, .threads = threads},
                            h, {.neuron = {.tau_ms = readout_tau_ms, .train_tau = tau_training::shared,
                                           .tau_min_ms = 10, .tau_max_ms = 5000}});
                const auto result = train_and_test<isi_net, final_membrane_cross_entropy, nadam>(
                    net, split_events(events, parts),
                    {.lr = lr, .epochs = epochs, .batch = batch, .seed = s}, {}, {},
                    {{.kind = parameter_kind::time_constant, .lr = tau_lr}});
                runs->save(snn_key(f, s), header, {"snn", f, s, result.test_accuracy,
                                                   result.validation_accuracy, result.best_epoch,
                                                   result.seconds});
                const std::string tag = "f" + format("%.2f", f) + "_seed" + std::to_string(s);
                save_checkpoint(out + "/models/snn_" + tag + ".ckpt", net);
                result.history.write_csv(out + "/models/history_" + tag + ".csv");
                log("[%zu/%zu] SNN f = %.2f, seed %zu: test %.1f%% (best epoch %zu, tau %.1f ms, %.1f s)",
                    ++done, total, f, s, 100 * result.test_accuracy, result.best_epoch,
                    double(net.parameter("layer0.tau")(0)), result.seconds);
            }
        }
        // Every rank's runs are done: rank 0 merges the rows in run order.
        runs->finish();
        if (!runs->leader()) return 0;
        io::csv_writer results(header);
        tensor<double, 2> accuracy({fractions.size(), seeds});
        std::vector<double> mlp_accuracy;
        const auto merge = [&](const std::string& key) {
            const auto row = runs->load(key);
            results.row(std::vector<io::csv_field>(row.rows[0].begin(), row.rows[0].end()));
            return row.number(0, "test_accuracy");
        };
        for (std::size_t s = 0; s < seeds; ++s) {
            mlp_accuracy.push_back(merge(mlp_key(s)));
            for (std::size_t k = 0; k < fractions.size(); ++k) accuracy(k, s) = merge(snn_key(fractions[k], s));
        }
        results.save(out + "/results.csv");
        io::save_npy(out + "/accuracy.npy", accuracy);

        // Summary table and figure.
        const auto rate_only = summarise(mlp_accuracy);
        table summary({"f", "SNN test accuracy %", "MLP on counts %"});
        io::csv_writer summary_csv({"f", "snn_mean", "snn_std", "mlp_mean", "mlp_std", "seeds"});
        std::vector<double> means, stds;
        for (std::size_t k = 0; k < fractions.size(); ++k) {
            std::vector<double> row(accuracy.data() + k * seeds, accuracy.data() + (k + 1) * seeds);
            const auto s = summarise(row);
            means.push_back(100 * s.mean);
            stds.push_back(100 * s.std);
            summary.add({format("%.1f", fractions[k]), percent(s), percent(rate_only)});
            summary_csv.row(fractions[k], s.mean, s.std, rate_only.mean, rate_only.std, seeds);
        }
        summary_csv.save(out + "/summary.csv");
        summary.print("ISI task: test accuracy (mean +- std over " + std::to_string(seeds) +
                      " seeds; paper: ~95% at f = 0, ~75% for f > 0.5)");

        svg::figure fig({.width = 620, .height = 420});
        auto& ax = fig.panel(0, 0);
        ax.set({.title = "ISI task", .xlabel = "replacement fraction f", .ylabel = "test accuracy (%)",
                .ylim = {.lo = 40, .hi = 102}});
        std::vector<double> fs(fractions.begin(), fractions.end());
        ax.line(fs, means, {.label = "SNN 10-100-2 (mean +- std, " + std::to_string(seeds) + " seeds)",
                            .marker = svg::marker_shape::circle, .errors = stds});
        ax.hline(100 * rate_only.mean, {.label = "MLP on counts " + format("%.1f%%", 100 * rate_only.mean)});
        ax.hline(50, {.label = "chance 50%", .color = "#999999", .dash = "dotted"});
        fig.save(out + "/accuracy_vs_f.svg");

        // One sample before and after replacement: kept spikes blue, moved spikes orange.
        svg::figure rasters({.rows = 1, .cols = 4, .width = 1100, .height = 300,
                             .title = "ISI task: one sample under random replacement",
                             .panel_letters = true});
        const double shown[4] = {0.0, 0.3, 0.6, 1.0};
        const auto original = clean.subset(std::vector<std::size_t>{0});
        for (int p = 0; p < 4; ++p) {
            const auto moved = replace_spikes(original, {.fraction = shown[p]}, 7000);
            const auto a = original.sample(0), b = moved.sample(0);
            std::vector<double> kept_t, kept_u, new_t, new_u;
            for (std::size_t e = 0; e < b.size(); ++e) {
                bool present = false;
                for (std::size_t o = 0; o < a.size() && !present; ++o)
                    present = a.times[o] == b.times[e] && a.units[o] == b.units[e];
                (present ? kept_t : new_t).push_back(b.times[e]);
                (present ? kept_u : new_u).push_back(b.units[e]);
            }
            auto& panel = rasters.panel(0, p);
            panel.set({.title = "f = " + format("%.1f", shown[p]), .xlabel = "time (ms)",
                       .ylabel = p == 0 ? "input neuron" : "", .xlim = {.lo = 0, .hi = 1000},
                       .ylim = {.lo = -0.5, .hi = double(clean.n_units()) - 0.5}});
            panel.raster(kept_t, kept_u, {.label = p == 3 ? "" : "original", .color = "#1f77b4"});
            if (!new_t.empty()) panel.raster(new_t, new_u, {.label = "moved", .color = "#ff7f0e"});
        }
        rasters.save(out + "/rasters.svg");
        std::printf("\nisi_task: results in %s (results.csv, summary.csv, accuracy.npy, "
                    "accuracy_vs_f.svg, rasters.svg, settings.json, models/)\n", out.c_str());
    } catch (const spikegrad::error& e) {
        if (runs) return runs->fail(e.what());
        std::fprintf(stderr, "isi_task: %s\n", e.what());
        return 1;
    }
    return 0;
}

// coincidence_task: the paper's synthetic coincidence task (section 2.2; SPEC 8). Three
// groups of 20 neurons; the class is which two groups fire synchronously, while spike counts
// carry no class information. Accuracy of a 60 -> 3 -> 3 LIF network, with and without
// learnable axonal delays, against the difficulty lambda. Writes results.csv, summary.csv,
// accuracy.npy, accuracy_vs_lambda.svg, rasters.svg, settings.json and models/ into --out.
#include "support/experiment.hpp"
#include "support/sweep.hpp"

#include <spikegrad/data/synthetic/coincidence.hpp>
#include <spikegrad/io/npy.hpp>

#include <CLI/CLI.hpp>

using namespace spikegrad;
using namespace spikegrad::examples;

using plain_net = network<dense<lif>, dense<readout>>;
using delay_net = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;

struct settings {
    // Defaults for a fast, stable run; --paper switches to the paper's settings.
    std::size_t hidden = 3, epochs = 60, batch = 16;
    double lr = 2e-3, tau_lr = 0.05, delay_lr = 0.05, tau_ms = 20, readout_tau_ms = 500,
           max_delay = 15, init_scale = 1;
    int threads = 0;
};

/// Trains one network kind on one dataset split; returns its outcome.
template <class Net>
outcome train_one(const settings& o, const splits& data, std::uint64_t seed) {
    typename std::tuple_element_t<0, typename Net::layer_specs>::options h;
    h.neuron = {.tau_ms = o.tau_ms, .train_tau = tau_training::shared, .tau_min_ms = 10,
                .tau_max_ms = 100};
    h.init_scale = o.init_scale;
    if constexpr (std::tuple_element_t<0, typename Net::layer_specs>::delayed)
        h.delay = {.max_ms = o.max_delay * data.train.dt_ms};  // --max-delay is in steps
    Net net({data.train.n_units, o.hidden, data.train.n_classes},
            {.dt_ms = data.train.dt_ms, .seed = seed, .threads = o.threads}, h,
            {.neuron = {.tau_ms = o.readout_tau_ms, .train_tau = tau_training::shared,
                        .tau_min_ms = 10, .tau_max_ms = 5000}});
    return train_and_test<Net, final_membrane_cross_entropy, nadam>(
        net, data, {.lr = o.lr, .epochs = o.epochs, .batch = o.batch, .seed = seed}, {}, {},
        {{.kind = parameter_kind::time_constant, .lr = o.tau_lr},
         {.kind = parameter_kind::delay, .lr = o.delay_lr}});
}

int main(int argc, char** argv) {
    CLI::App app{"Coincidence task: accuracy against the difficulty lambda, with and without delays"};
    std::string out = "results/coincidence_task";
    std::vector<double> lambdas = {0, 0.25, 0.5, 0.75, 1.0};
    std::size_t seeds = 2, per_class = 300;
    settings o;
    bool paper = false;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--lambdas", lambdas, "difficulty levels lambda")->delimiter(',')->capture_default_str();
    app.add_option("--seeds", seeds, "independent runs per lambda")->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--samples-per-class", per_class, "samples of each class (paper: 500)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--epochs", o.epochs, "training epochs")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--hidden", o.hidden, "hidden LIF neurons")->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")->capture_default_str();
    app.add_option("--lr", o.lr, "Nadam learning rate of the weights")->capture_default_str();
    app.add_option("--tau-lr", o.tau_lr, "learning rate of the time constants")->capture_default_str();
    app.add_option("--delay-lr", o.delay_lr, "learning rate of the delays")->capture_default_str();
    app.add_option("--tau-ms", o.tau_ms, "initial hidden tau (learned in [10, 100] ms)")->capture_default_str();
    app.add_option("--max-delay", o.max_delay, "largest delay, steps")->capture_default_str();
    app.add_option("--init-scale", o.init_scale, "hidden weights ~ U(+-s / sqrt(60))")->capture_default_str();
    app.add_option("--threads", o.threads, "threads (0: all cores)")->capture_default_str();
    app.add_flag("--paper", paper,
                 "the paper's settings: 500 samples per class, 300 epochs, batch 32, lr 1e-3, tau 50 ms, 5 seeds");
    bool use_mpi = false;
    add_sweep_options(app, use_mpi);
    CLI11_PARSE(app, argc, argv);
    if (paper) {
        per_class = 500;
        o.epochs = 300;
        o.batch = 32;
        o.tau_ms = 50;
        o.lr = 1e-3;
        seeds = std::max<std::size_t>(seeds, 5);
    }

    std::unique_ptr<sweep> runs;
    try {
        runs = std::make_unique<sweep>(use_mpi, argc, argv, "coincidence_task");
        if (runs->leader()) {
            prepare_output(out);
            prepare_output(out + "/models");
        }
        run_record record("coincidence_task", argc, argv);
        record["lambdas"] = lambdas;
        record["seeds"] = seeds;
        record["threads"] = o.threads;  // 0: every core
        record["samples_per_class"] = per_class;
        record["epochs"] = o.epochs;
        record["network"] = "60 -> " + std::to_string(o.hidden) +
                            " LIF (shared learnable tau, optional axonal delays) -> 3 readout";
        record["loss"] = "cross-entropy on the final readout membrane";
        record["optimizer"] = json::object{{"rule", "nadam"}, {"lr", o.lr}, {"tau_lr", o.tau_lr},
                                           {"delay_lr", o.delay_lr}, {"batch", o.batch}};
        record["tau_ms"] = o.tau_ms;
        record["readout_tau_ms"] = o.readout_tau_ms;
        record["max_delay_steps"] = o.max_delay;
        record["init_scale"] = o.init_scale;
        record["split"] = "shuffled, train [0, 0.6), validation [0.6, 0.75), test [0.75, 0.9)";
        record["mpi_ranks"] = runs->ranks();
        if (runs->leader()) record.save(out);
        runs->open(out, record);
        if (runs->leader()) std::printf("coincidence_task: %zu lambdas x %zu seeds x {SGD, SGD-delay}, %zu samples per "
                    "class, %zu epochs, batch %zu, initial tau %.0f ms%s\n", lambdas.size(), seeds,
                    per_class, o.epochs, o.batch, o.tau_ms,
                    paper ? " [paper settings]"
                          : " (paper: 500 per class, 300 epochs, batch 32, tau 50 ms; --paper)");
        std::fflush(stdout);

        const std::vector<std::string> header{"model", "lambda", "seed", "test_accuracy",
                                              "validation_accuracy", "best_epoch", "seconds"};
        const char* models[2] = {"sgd", "sgd_delay"};
        const auto key = [&](int m, std::size_t k, std::size_t s) {
            return std::string(models[m]) + "_lambda" + format("%.2f", lambdas[k]) + "_seed" +
                   std::to_string(s);
        };
        std::size_t done = 0, index = 0;
        const std::size_t total = 2 * lambdas.size() * seeds;
        for (std::size_t k = 0; k < lambdas.size(); ++k) {
            for (std::size_t s = 0; s < seeds; ++s) {
                const bool run[2] = {runs->should_run(index, key(0, k, s)),
                                     runs->should_run(index + 1, key(1, k, s))};
                index += 2;
                if (!run[0] && !run[1]) continue;
                const auto task = make_coincidence_task(
                    {.lambda = lambdas[k], .samples_per_class = per_class, .seed = 42 + 1000 * s});
                const auto parts = split_by_fraction(task.data.size(), {.seed = 42 + s});
                const auto data = split_events(bin_events(task.data, {.dt_ms = 1.0}), parts);
                for (int m = 0; m < 2; ++m) {
                    if (!run[m]) continue;
                    const auto result = m == 0 ? train_one<plain_net>(o, data, 100 + s)
                                               : train_one<delay_net>(o, data, 100 + s);
                    runs->save(key(m, k, s), header, {models[m], lambdas[k], s, result.test_accuracy,
                                                      result.validation_accuracy, result.best_epoch,
                                                      result.seconds});
                    result.history.write_csv(out + "/models/history_" + models[m] + "_lambda" +
                                             format("%.2f", lambdas[k]) + "_seed" + std::to_string(s) + ".csv");
                    log("[%zu/%zu] %s lambda = %.2f, seed %zu: test %.1f%% (best epoch %zu, %.1f s)",
                        ++done, total, m == 0 ? "SGD      " : "SGD-delay", lambdas[k], s,
                        100 * result.test_accuracy, result.best_epoch, result.seconds);
                }
            }
        }
        // Every rank's runs are done: rank 0 merges the rows in run order.
        runs->finish();
        if (!runs->leader()) return 0;
        io::csv_writer results(header);
        tensor<double, 3> accuracy({2, lambdas.size(), seeds});
        for (std::size_t k = 0; k < lambdas.size(); ++k)
            for (std::size_t s = 0; s < seeds; ++s)
                for (int m = 0; m < 2; ++m) {
                    const auto row = runs->load(key(m, k, s));
                    results.row(std::vector<io::csv_field>(row.rows[0].begin(), row.rows[0].end()));
                    accuracy(m, k, s) = row.number(0, "test_accuracy");
                }
        results.save(out + "/results.csv");
        io::save_npy(out + "/accuracy.npy", accuracy);

        table summary({"lambda", "mu_on", "mu_off", "SGD %", "SGD-delay %"});
        io::csv_writer summary_csv({"lambda", "sgd_mean", "sgd_std", "delay_mean", "delay_std", "seeds"});
        std::vector<double> xs, mean[2], sd[2];
        for (std::size_t k = 0; k < lambdas.size(); ++k) {
            mean_std s[2];
            for (int m = 0; m < 2; ++m) {
                std::vector<double> row(&accuracy(m, k, 0), &accuracy(m, k, 0) + seeds);
                s[m] = summarise(row);
                mean[m].push_back(100 * s[m].mean);
                sd[m].push_back(100 * s[m].std);
            }
            const auto mu = coincidence_rates({.lambda = lambdas[k]});
            xs.push_back(lambdas[k]);
            summary.add({format("%.2f", lambdas[k]), format("%.2f", mu.mu_on), format("%.2f", mu.mu_off),
                         percent(s[0]), percent(s[1])});
            summary_csv.row(lambdas[k], s[0].mean, s[0].std, s[1].mean, s[1].std, seeds);
        }
        summary_csv.save(out + "/summary.csv");
        summary.print("Coincidence task: test accuracy (mean +- std over " + std::to_string(seeds) +
                      " seeds; paper: ~100% at lambda = 0, 33% at lambda = 1, no gain from delays)");

        svg::figure fig({.width = 620, .height = 420});
        auto& ax = fig.panel(0, 0);
        ax.set({.title = "Coincidence task", .xlabel = "difficulty lambda", .ylabel = "test accuracy (%)",
                .ylim = {.lo = 20, .hi = 102}});
        ax.line(xs, mean[0], {.label = "SGD", .marker = svg::marker_shape::circle, .errors = sd[0]});
        ax.line(xs, mean[1], {.label = "SGD-delay", .dash = "dashed", .marker = svg::marker_shape::square,
                              .errors = sd[1]});
        ax.hline(100.0 / 3, {.label = "chance 33.3%", .color = "#999999", .dash = "dotted"});
        fig.save(out + "/accuracy_vs_lambda.svg");

        // One sample of each class at lambda = 0 and lambda = 1 (one colour per group).
        svg::figure rasters({.rows = 2, .cols = 3, .width = 1000, .height = 560,
                             .title = "Coincidence task: one sample per class (first 200 ms)",
                             .panel_letters = true});
        const char* classes[3] = {"A (groups 1+2)", "B (groups 1+3)", "C (groups 2+3)"};
        const char* colours[3] = {"#1f77b4", "#ff7f0e", "#2ca02c"};
        for (int row = 0; row < 2; ++row) {
            const double lambda = row == 0 ? 0.0 : 1.0;
            const auto task = make_coincidence_task({.lambda = lambda, .samples_per_class = 1});
            for (int c = 0; c < 3; ++c) {
                const auto sample = task.data.sample(std::size_t(c));
                std::vector<double> t[3], u[3];
                for (std::size_t e = 0; e < sample.size(); ++e) {
                    const std::size_t g = sample.units[e] / 20;
                    t[g].push_back(sample.times[e]);
                    u[g].push_back(sample.units[e]);
                }
                auto& panel = rasters.panel(row, c);
                panel.set({.title = std::string("class ") + classes[c] + ", lambda = " + format("%.0f", lambda),
                           .xlabel = "time (ms)", .ylabel = c == 0 ? "input neuron" : "",
                           .xlim = {.lo = 0, .hi = 200}, .ylim = {.lo = -1, .hi = 60},
                           .legend = {.location = svg::legend_location::none}});
                for (int g = 0; g < 3; ++g) panel.raster(t[g], u[g], {.color = colours[g]});
            }
        }
        rasters.save(out + "/rasters.svg");
        std::printf("\ncoincidence_task: results in %s (results.csv, summary.csv, accuracy.npy, "
                    "accuracy_vs_lambda.svg, rasters.svg, settings.json, models/)\n", out.c_str());
    } catch (const spikegrad::error& e) {
        if (runs) return runs->fail(e.what());
        std::fprintf(stderr, "coincidence_task: %s\n", e.what());
        return 1;
    }
    return 0;
}

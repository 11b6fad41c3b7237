// shd_timing: spike timing on SHD/SSC (Yu, Sun, Goodman 2025, section 3; SPEC sections 5, 9, 11).
// Reads SHD-layout files, merges their splits, builds the whole/part/norm variants (the norm
// variant has identical per-neuron spike counts in every sample, so only timing is left),
// and for every variant and random-replacement fraction f trains SGD (2 x 128 LIF, spiking
// outputs, Spikemax), SGD-delay (learnable axonal delays after both hidden layers) and the
// MLP on spike counts. Writes variants.json/.txt, results.csv, summary.csv, accuracy.npy,
// accuracy_vs_f.svg, rasters.svg, settings.json and models/ into --out.
#include "support/sweep.hpp"
#include "support/tasks.hpp"

#include <spikegrad/io/npy.hpp>

#include <CLI/CLI.hpp>

using namespace spikegrad;
using namespace spikegrad::examples;

int main(int argc, char** argv) {
    CLI::App app{"SHD/SSC timing: whole/part/norm x random replacement f, SGD vs SGD-delay vs MLP on counts"};
    data_choice choice;
    choice.task = "shd";
    choice.variants = {"whole", "part", "norm"};
    choice.per_class = 50;
    std::string out = "results/shd_timing", replacement = "exact";
    std::vector<double> fractions = {0, 0.5, 1};
    std::vector<std::string> model_names = {"sgd", "sgd_delay", "mlp"};
    std::size_t seeds = 1;
    model_settings s = default_settings("shd");
    s.epochs = 40;
    bool paper = false;
    add_shd_file_options(app, choice);
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--variants", choice.variants, "variants to train on: whole, part, norm")
        ->delimiter(',')->capture_default_str();
    app.add_option("--fractions", fractions, "random-replacement fractions f, applied to every split "
                                             "before training (one model per f)")
        ->delimiter(',')->capture_default_str();
    app.add_option("--models", model_names, "models: sgd, sgd_delay, mlp, gamma (SpikingGamma), event (exact event-driven gradients)")->delimiter(',')->capture_default_str();
    app.add_option("--seeds", seeds, "independent runs (split, initialisation, shuffling)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--per-class", choice.per_class, "samples per class of each variant (0: all; paper: all)")
        ->capture_default_str();
    app.add_option("--builder", choice.builder, "whole/part/norm rules: paper or code (the released code's)")
        ->capture_default_str()->check(CLI::IsMember({"paper", "code"}));
    app.add_option("--split", choice.split, "paper: the merged, balanced set split 60/15/15 (the paper); "
                                            "files: train on --train (validation: held-out speakers), "
                                            "test on --test (the usual SHD protocol)")
        ->capture_default_str()->check(CLI::IsMember({"paper", "files"}));
    app.add_option("--replacement", replacement, "random replacement: exact (paper, eq. 3) or code "
                                                 "(the released code's Bernoulli relocation)")
        ->capture_default_str()->check(CLI::IsMember({"exact", "code"}));
    app.add_option("--loss", s.loss, "spikemax (paper) or spike_rate (the released code) on spiking outputs, "
                                     "or ce_max / ce_mean / ce_final on a leaky readout")
        ->capture_default_str()->check(CLI::IsMember({"spikemax", "spike_rate", "ce_max", "ce_mean", "ce_final"}));
    app.add_option("--readout-tau-ms", s.readout_tau_ms, "initial time constant of the leaky readout (ce_* losses)")
        ->capture_default_str();
    app.add_option("--tau-per-neuron", s.tau_per_neuron, "learn one membrane time constant per hidden neuron "
                                                         "(1) or one per layer (0)")->capture_default_str();
    app.add_option("--decay-every", s.decay_every, "multiply the learning rates by --decay-gamma every this "
                                                   "many epochs (0: never)")->capture_default_str();
    app.add_option("--decay-gamma", s.decay_gamma, "learning-rate decay factor")->capture_default_str();
    app.add_option("--cosine-floor", s.cosine_floor, "cosine learning-rate annealing over the epochs down to "
                                                     "this fraction (negative: off)")->capture_default_str();
    app.add_option("--weight-norm", s.weight_norm, "weight normalisation of every SNN layer (1), as the "
                                                   "paper's code, or plain weights (0)")->capture_default_str();
    app.add_option("--epochs", s.epochs, "training epochs (best epoch by validation loss)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--batch", s.batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", s.lr, "Nadam learning rate of the weights")->capture_default_str();
    app.add_option("--delay-lr", s.delay_lr, "learning rate of the delays (steps)")->capture_default_str();
    app.add_option("--tau-lr", s.tau_lr, "learning rate of the time constants (ms)")->capture_default_str();
    app.add_option("--tau-ms", s.tau_ms, "initial membrane time constant (shared per layer, learned)")
        ->capture_default_str();
    app.add_option("--hidden", s.hidden, "neurons per hidden layer")->capture_default_str();
    app.add_option("--max-delay", s.max_delay, "largest delay, steps of 14 ms")->capture_default_str();
    app.add_option("--init-scale", s.init_scale, "first layer's initial weights ~ U(+-scale / sqrt(n_in)); "
                                                 "0: from the input's density")->capture_default_str();
    app.add_option("--deep-init-scale", s.deep_init_scale, "the same for the deeper layers")->capture_default_str();
    app.add_option("--patience", s.patience, "early stopping after this many epochs without a lower "
                                             "validation loss (0: never)")->capture_default_str();
    app.add_option("--mlp-hidden", s.mlp_hidden, "hidden units of the MLP on counts")->capture_default_str();
    app.add_option("--mlp-epochs", s.mlp_epochs, "epochs of the MLP on counts")->capture_default_str();
    app.add_option("--gamma-hidden", s.gamma_hidden, "gamma: hidden SpikingGamma neurons")->capture_default_str();
    app.add_option("--gamma-buckets", s.gamma_buckets, "gamma: buckets K per cascade")->capture_default_str();
    app.add_option("--gamma-tau-ms", s.gamma_tau_ms, "gamma: bucket time constant, ms")->capture_default_str();
    app.add_option("--gamma-theta", s.gamma_theta, "gamma: sigma-delta quantum theta (0: analog)")->capture_default_str();
    app.add_option("--gamma-init-scale", s.gamma_init_scale, "gamma: hidden weights ~ U(+-s / sqrt(n_in))")->capture_default_str();
    app.add_option("--gamma-lr", s.gamma_lr, "gamma: Adam learning rate")->capture_default_str();
    app.add_option("--gamma-loss-from", s.gamma_loss_from, "gamma: share of the sample before the per-step loss starts")->capture_default_str();
    app.add_option("--event-hidden", s.event_hidden, "event: hidden LIF neurons")->capture_default_str();
    app.add_option("--event-tau-m-ms", s.event_tau_m_ms, "event: hidden membrane tau, ms")->capture_default_str();
    app.add_option("--event-tau-s-ms", s.event_tau_s_ms, "event: synaptic tau, ms")->capture_default_str();
    app.add_option("--event-readout-tau-ms", s.event_readout_tau_m_ms, "event: readout membrane tau, ms")->capture_default_str();
    app.add_option("--event-weight-mean", s.event_weight_mean, "event: hidden weights ~ N(mean, std)")->capture_default_str();
    app.add_option("--event-weight-std", s.event_weight_std, "event: hidden weights ~ N(mean, std) (0: from the input rate)")->capture_default_str();
    app.add_option("--event-readout-weight-std", s.event_readout_weight_std, "event: readout weights ~ N(0, std)")->capture_default_str();
    app.add_option("--event-delay-init-ms", s.event_delay_init_ms, "event: initial delays ~ U(0, this)")->capture_default_str();
    app.add_option("--event-max-delay-ms", s.event_max_delay_ms, "event: delay bound, ms (0: no delays)")->capture_default_str();
    app.add_option("--event-lr", s.event_lr, "event: Adam learning rate")->capture_default_str();
    app.add_option("--event-grid-ms", s.event_grid_ms, "event: grid variant step, ms (0: exact)")->capture_default_str();
    app.add_flag("--event-train-tau", s.event_train_tau, "event: learn the hidden layer's tau_m and tau_s (exact adjoint integral)");
    app.add_option("--event-layers", s.event_layers, "event: hidden layers (1 or 2)")->capture_default_str();
    app.add_option("--event-count-target", s.event_count_target, "event: spike-count regulariser's target per hidden neuron and sample (heuristic)")->capture_default_str();
    app.add_option("--event-count-lambda", s.event_count_lambda_upper, "event: spike-count regulariser's strength above the target (0: off)")->capture_default_str();
    app.add_option("--event-count-lambda-lower", s.event_count_lambda_lower, "event: spike-count regulariser's strength below the target")->capture_default_str();
    app.add_option("--event-channel-shift", s.event_channel_shift, "event: augmentation, training samples' units shifted by a random integer in [-this, this] per draw (0: off)")->capture_default_str();
    app.add_option("--threads", s.threads, "threads (0: all cores)")->capture_default_str();
    add_progress_option(app, s.progress);
    app.add_flag("--paper", paper, "the paper's settings: every sample, f = 0, 0.1, ..., 1, up to 1000 "
                                   "epochs, batch 128, lr x0.1 at epoch 300, patience 300, at least 3 seeds "
                                   "(the learning rate stays --lr: see docs/experiments.md)");
    bool use_mpi = false;
    add_sweep_options(app, use_mpi);
    CLI11_PARSE(app, argc, argv);
    if (paper) {
        choice.per_class = 0;
        fractions = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
        apply_paper_settings(s, "shd");
        seeds = std::max<std::size_t>(seeds, 3);
    }
    if (!shd_files_given(choice, "shd_timing")) return 2;

    std::unique_ptr<sweep> runs;
    try {
        runs = std::make_unique<sweep>(use_mpi, argc, argv, "shd_timing");
        check_levels(fractions, "--fractions", 0, 1);
        const auto models = parse_models(model_names);
        if (runs->leader()) {
            prepare_output(out);
            prepare_output(out + "/models");
        }
        run_record record("shd_timing", argc, argv);
        record["files"] = std::vector<std::string>{choice.train_file, choice.test_file, choice.valid_file};
        record["variants"] = choice.variants;
        record["fractions"] = fractions;
        record["models"] = model_names;
        record["seeds"] = seeds;
        record["samples_per_class"] = choice.per_class;
        record["builder"] = choice.builder;
        record["split_protocol"] = choice.split;
        record["replacement"] = replacement == "exact"
                                    ? "exact count per neuron, continuous new times (paper eq. 3)"
                                    : "Bernoulli relocation to an empty 14 ms bin (released code)";
        record["binning"] = "100 bins of 14 ms over 1.4 s, [k dt, (k+1) dt), several spikes in a bin collapse";
        record["model"] = s.to_json();
        record["split"] = choice.split == "files"
                              ? "train file (validation: held-out speakers, seed 42 + run), test file"
                              : "balanced set shuffled (seed 42 + run), train [0, 0.6), validation [0.6, 0.75), "
                                "test [0.75, 0.9)";
        record["paper"] = paper;
        record["mpi_ranks"] = runs->ranks();
        if (runs->leader()) record.save(out);
        runs->open(out, record);
        if (runs->leader()) std::printf("shd_timing: %zu variants x %zu fractions x %zu models x %zu seeds; %s per class, "
                    "%zu epochs, batch %zu%s\n"
                    "  (paper: every sample, up to 1000 epochs, batch 128, patience 300; --paper)\n",
                    choice.variants.size(), fractions.size(), models.size(), seeds,
                    choice.per_class ? std::to_string(choice.per_class).c_str() : "all samples",
                    s.epochs, s.batch, paper ? " [paper settings]" : "");
        std::fflush(stdout);

        // Data: merged splits -> whole/part/norm, with the builder's report.
        const shd_build built = build_shd(choice);
        const shd_file& merged = built.merged;
        const variant_sets& sets = built.sets;
        if (runs->leader()) {
            std::printf("\n%s", to_string(sets.report).c_str());
            std::fflush(stdout);
            save_json(sets.report, out + "/variants.json");
            const std::string text = to_string(sets.report);
            io::write_atomically(out + "/variants.txt", [&](std::ofstream& f) { f << text; }, false);
        }

        const std::vector<task_dataset> datasets = shd_tasks(choice, built);
        for (const auto& task : datasets) {
            const auto& t = task.data;
            const char* v = task.name.c_str();
            log("%s: %zu samples (%zu classes), %zu neurons, %.1f spikes per sample", v, t.size(),
                t.n_classes(), t.n_units(), double(t.n_spikes()) / double(std::max<std::size_t>(1, t.size())));
        }

        // Training: variant x f x model x seed, one row per run in runs/ (spread over the ranks
        // with --mpi; a rerun skips the runs whose row exists).
        const std::vector<std::string> columns{"variant", "model", "f", "seed", "test_accuracy",
                                              "validation_accuracy", "best_epoch", "epochs_run", "seconds"};
        const auto run_key = [&](std::size_t v, std::size_t m, double f, std::size_t run) {
            return datasets[v].name + "_" + model_name(models[m]) + "_f" + format("%.2f", f) + "_seed" +
                   std::to_string(run);
        };
        std::size_t done = 0, index = 0;
        const std::size_t total = datasets.size() * fractions.size() * models.size() * seeds;
        for (std::size_t run = 0; run < seeds; ++run) {
            for (std::size_t v = 0; v < datasets.size(); ++v) {
                const task_dataset& task = datasets[v];
                const index_split parts = task_split(task, choice, run);
                for (std::size_t k = 0; k < fractions.size(); ++k) {
                    const double f = fractions[k];
                    std::vector<bool> wanted(models.size());
                    for (std::size_t m = 0; m < models.size(); ++m)
                        wanted[m] = runs->should_run(index++, run_key(v, m, f, run));
                    if (std::find(wanted.begin(), wanted.end(), true) == wanted.end()) continue;
                    replacement_options r{.fraction = f};
                    if (replacement == "code")
                        r = {.fraction = f, .mode = replacement_mode::bernoulli_relocate, .grid = 0.014};
                    const spike_dataset perturbed = replace_spikes(task.data, r, 7000 + 13 * run + 101 * k);
                    for (std::size_t m = 0; m < models.size(); ++m) {
                        if (!wanted[m]) continue;
                        const std::string stem = out + "/models/" + task.name + "_" + model_name(models[m]) +
                                                 "_f" + format("%.2f", f) + "_seed" + std::to_string(run);
                        const auto result = train_model(models[m], s, task, perturbed, parts, {}, stem, run);
                        const auto& o = result.main;
                        runs->save(run_key(v, m, f, run), columns,
                                   {task.name, model_name(models[m]), f, run, o.test_accuracy,
                                    o.validation_accuracy, o.best_epoch, o.history.epochs.size(), o.seconds});
                        log("[%zu/%zu] %-5s f = %.2f %-13s seed %zu: test %.1f%% (validation %.1f%%, best "
                            "epoch %zu, %.1f s)",
                            ++done, total, task.name.c_str(), f, model_title(models[m]), run,
                            100 * o.test_accuracy, 100 * o.validation_accuracy, o.best_epoch, o.seconds);
                    }
                }
            }
        }
        // Every rank's runs are done: rank 0 merges the rows in run order.
        runs->finish();
        if (!runs->leader()) return 0;
        io::csv_writer results(columns);
        tensor<double, 4> accuracy({datasets.size(), models.size(), fractions.size(), seeds});
        accuracy_table acc;
        for (std::size_t run = 0; run < seeds; ++run)
            for (std::size_t v = 0; v < datasets.size(); ++v)
                for (std::size_t k = 0; k < fractions.size(); ++k)
                    for (std::size_t m = 0; m < models.size(); ++m) {
                        const auto row = runs->load(run_key(v, m, fractions[k], run));
                        results.row(std::vector<io::csv_field>(row.rows[0].begin(), row.rows[0].end()));
                        const double a = row.number(0, "test_accuracy");
                        accuracy(v, m, k, run) = a;
                        acc.add(key(datasets[v].name, model_name(models[m]), fractions[k]), a);
                    }
        results.save(out + "/results.csv");
        io::save_npy(out + "/accuracy.npy", accuracy);

        // Summary table and CSV.
        std::vector<std::string> header{"variant", "f"};
        for (auto m : models) header.push_back(std::string(model_title(m)) + " %");
        table summary(header);
        io::csv_writer summary_csv({"variant", "model", "f", "mean", "std", "seeds"});
        for (const auto& task : datasets)
            for (double f : fractions) {
                std::vector<std::string> row{task.name, format("%.2f", f)};
                for (auto m : models) {
                    const auto a = acc.get(key(task.name, model_name(m), f));
                    row.push_back(percent(a));
                    summary_csv.row(task.name, model_name(m), f, a.mean, a.std, a.n);
                }
                summary.add(row);
            }
        summary_csv.save(out + "/summary.csv");
        const std::size_t classes = merged.data.n_classes();
        summary.print("SHD timing: test accuracy (mean +- std over " + seeds_text(seeds) +
                      "; chance " + format("%.1f", 100.0 / double(classes)) +
                      "%; paper, SHD-norm f = 0: SGD 23.3%, SGD-delay 47.9%, MLP at chance)");

        // Accuracy against f, one panel per variant.
        svg::figure fig({.rows = 1, .cols = int(datasets.size()), .width = 40 + 360 * double(datasets.size()),
                         .height = 380,
                         .title = "Accuracy against random replacement f (mean ± std over " + seeds_text(seeds) + ")",
                         .panel_letters = datasets.size() > 1});
        for (std::size_t v = 0; v < datasets.size(); ++v) {
            auto& ax = fig.panel(0, int(v));
            ax.set({.title = datasets[v].name, .xlabel = "replacement fraction f",
                    .ylabel = v == 0 ? "test accuracy (%)" : "", .ylim = {.lo = 0, .hi = 100},
                    .legend = {.location = v == 0 ? svg::legend_location::best : svg::legend_location::none}});
            for (std::size_t m = 0; m < models.size(); ++m) {
                std::vector<double> mean, sd;
                for (double f : fractions) {
                    const auto a = acc.get(key(datasets[v].name, model_name(models[m]), f));
                    mean.push_back(100 * a.mean);
                    sd.push_back(100 * a.std);
                }
                ax.line(fractions, mean, {.label = model_title(models[m]), .color = model_colour(models[m]),
                                          .dash = models[m] == model_kind::mlp ? "dashed" : "",
                                          .marker = model_marker(models[m]), .errors = sd});
            }
            ax.hline(100.0 / double(classes), {.label = "chance", .color = "#999999", .dash = "dotted"});
        }
        fig.save(out + "/accuracy_vs_f.svg");

        // One sample in whole, part, norm, and norm after replacement with f = 0.5.
        const std::size_t m = sets.report.part_samples.empty() ? 0 : sets.report.part_samples.front();
        const auto original = merged.data.sample(m);
        std::vector<bool> kept(merged.data.n_units(), false);
        for (std::size_t i : sets.report.kept_neurons) kept[i] = true;
        std::vector<double> kt, ku, dt_, du;
        for (std::size_t e = 0; e < original.size(); ++e) {
            (kept[original.units[e]] ? kt : dt_).push_back(1000.0 * original.times[e]);
            (kept[original.units[e]] ? ku : du).push_back(original.units[e]);
        }
        svg::figure rasters({.rows = 1, .cols = 4, .width = 1400, .height = 340,
                             .title = "One sample (input " + std::to_string(m) + ", class " +
                                      merged.data.class_names()[std::size_t(original.label)] +
                                      ") in whole, part and norm; grey: spikes the step removes or moves",
                             .panel_letters = true});
        auto& a0 = rasters.panel(0, 0);
        a0.set({.title = "whole (" + std::to_string(original.size()) + " spikes; blue: kept neurons)",
                .xlabel = "time (ms)", .ylabel = "input neuron", .xlim = {.lo = 0, .hi = 1400},
                .ylim = unit_limits(merged.data.n_units()), .legend = {.location = svg::legend_location::none}});
        a0.raster(dt_, du, {.label = "dropped neurons", .color = "#b0b0b0"});
        a0.raster(kt, ku, {.label = "kept neurons", .color = "#1f77b4"});
        if (!sets.part.empty()) {
            const auto p = sets.part.sample(0), n = sets.norm.sample(0);
            auto& a1 = rasters.panel(0, 1);
            a1.set({.title = "part (" + std::to_string(p.size()) + " spikes)", .xlabel = "time (ms)",
                    .ylabel = "kept neuron", .xlim = {.lo = 0, .hi = 1400}, .ylim = unit_limits(sets.part.n_units()),
                    .legend = {.location = svg::legend_location::none}});
            a1.raster(times_ms(p, 1000), units_of(p), {.color = "#1f77b4"});
            auto& a2 = rasters.panel(0, 2);
            a2.set({.title = "norm (" + std::to_string(n.size()) + " spikes)", .xlabel = "time (ms)",
                    .ylabel = "kept neuron", .xlim = {.lo = 0, .hi = 1400}, .ylim = unit_limits(sets.norm.n_units()),
                    .legend = {.location = svg::legend_location::none}});
            draw_over(a2, p, n, 1000, "kept by norm", "#2ca02c", false);
            const auto one = sets.norm.subset(std::vector<std::size_t>{0});
            const auto moved = replace_spikes(one, 0.5, 7000);
            auto& a3 = rasters.panel(0, 3);
            a3.set({.title = "norm, replacement f = 0.5", .xlabel = "time (ms)", .ylabel = "kept neuron",
                    .xlim = {.lo = 0, .hi = 1400}, .ylim = unit_limits(sets.norm.n_units()),
                    .legend = {.location = svg::legend_location::none}});
            draw_over(a3, n, moved.sample(0), 1000, "after replacement", "#ff7f0e", false);
        }
        rasters.save(out + "/rasters.svg");
        std::printf("\nshd_timing: results in %s (variants.json, variants.txt, results.csv, summary.csv, "
                    "accuracy.npy [variant, model, f, seed], accuracy_vs_f.svg, rasters.svg, settings.json, "
                    "models/)\n", out.c_str());
    } catch (const spikegrad::error& e) {
        if (runs) return runs->fail(e.what());
        std::fprintf(stderr, "shd_timing: %s\n", e.what());
        return 1;
    }
    return 0;
}

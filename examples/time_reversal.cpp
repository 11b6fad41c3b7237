// time_reversal: zero-shot accuracy of trained models on time-reversed data (Yu, Sun, Goodman
// 2025, section 4; SPEC sections 5, 10 and 11). Reversal t' = t_start + t_end - t keeps every
// count, inter-spike interval and coincidence but turns spatio-temporal patterns around.
// Models trained on clean data (default) are tested on the test split after random
// replacement with fraction f, forward and reversed (--protocol level: one model trained per
// f instead). Data: the ISI task (default), the coincidence task, or SHD-layout files with
// whole/part/norm. Writes results.csv, summary.csv, accuracy.npy, accuracy_vs_f.svg,
// rasters.svg, settings.json and models/ into --out.
#include "support/tasks.hpp"

#include <spikegrad/io/npy.hpp>

#include <CLI/CLI.hpp>

using namespace spikegrad;
using namespace spikegrad::examples;

int main(int argc, char** argv) {
    CLI::App app{"Time reversal: zero-shot accuracy on time-reversed test data, combined with random "
                 "replacement f"};
    data_choice choice;
    choice.isi_points = 2000;
    choice.variants = {"whole", "part", "norm"};
    model_settings s;
    experiment_cli cli(app, choice, s);
    std::string out = "results/time_reversal", protocol = "clean";
    std::vector<double> fractions = {0, 0.5, 1};
    std::vector<std::string> model_names = {"sgd", "sgd_delay", "mlp"};
    std::size_t seeds = 2;
    bool paper = false;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--variants", choice.variants, "shd: variants (whole, part, norm)")
        ->delimiter(',')->capture_default_str();
    app.add_option("--fractions", fractions, "random-replacement fractions f of the test data")
        ->delimiter(',')->capture_default_str();
    app.add_option("--protocol", protocol, "clean: train once on clean data, test at every f (SPEC 5); "
                                           "level: train one model per f on data at that f")
        ->capture_default_str()->check(CLI::IsMember({"clean", "level"}));
    app.add_option("--models", model_names, "models: sgd, sgd_delay, mlp")->delimiter(',')->capture_default_str();
    app.add_option("--seeds", seeds, "independent runs")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--paper", paper, "the paper's settings: every sample (isi: 5000 points), f = 0, 0.1, ..., 1, "
                                   "the paper's epochs and batch (SPEC 5), at least 3 seeds");
    CLI11_PARSE(app, argc, argv);
    cli.apply_task_defaults(paper);
    if (paper) {
        if (!app.get_option("--fractions")->count()) fractions = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1};
        seeds = std::max<std::size_t>(seeds, 3);
    }
    if (!shd_files_given(choice, "time_reversal")) return 2;

    try {
        check_levels(fractions, "--fractions", 0, 1);
        const auto models = parse_models(model_names);
        if (choice.task != "shd") choice.variants = {choice.task};
        prepare_output(out);
        prepare_output(out + "/models");
        run_record record("time_reversal", argc, argv);
        record_data_choice(record, choice);
        record["fractions"] = fractions;
        record["protocol"] = protocol == "clean"
            ? "models trained on clean data (f = 0); tested on replace(test, f) and reverse_time(replace(test, f))"
            : "one model per f trained on replace(data, f); tested on its test split and its reversal";
        record["reversal"] = "t' = t_start + t_end - t per sample (first and last spike over all neurons)";
        save_training_record(record, model_names, s.to_json(), seeds, paper, out);

        std::optional<variant_report> report;
        const auto datasets = load_datasets(choice, &report);
        if (report) std::printf("%s\n", to_string(*report).c_str());
        const std::size_t per_run = protocol == "clean" ? 1 : fractions.size();
        const std::size_t trainings = per_run * models.size() * datasets.size() * seeds;
        std::printf("time_reversal: %s%s, %zu samples, %zu fractions, %zu models x %zu seeds: %zu trainings of "
                    "%zu epochs (protocol: %s)%s\n  (paper: %s; --paper)\n",
                    datasets.front().title.c_str(), datasets.size() > 1 ? " and more variants" : "",
                    datasets.front().data.size(), fractions.size(), models.size(), seeds, trainings, s.epochs,
                    protocol.c_str(), paper ? " [paper settings]" : "",
                    choice.task == "shd" ? "every sample, up to 1000 epochs" : "5000 points / 500 per class, 300 epochs");
        std::fflush(stdout);

        io::csv_writer results({"dataset", "model", "f", "seed", "trained_at_f", "test_accuracy",
                                "reversed_accuracy", "best_epoch", "seconds"});
        tensor<double, 5> accuracy({datasets.size(), models.size(), fractions.size(), seeds, 2});
        accuracy_table forward, reversed;
        std::size_t done = 0;
        auto record_row = [&](std::size_t d, std::size_t m, std::size_t k, std::size_t run, double trained_at,
                              double fwd, double rev, const outcome& o) {
            const auto& name = datasets[d].name;
            accuracy(d, m, k, run, 0) = fwd;
            accuracy(d, m, k, run, 1) = rev;
            forward.add(key(name, model_name(models[m]), fractions[k]), fwd);
            reversed.add(key(name, model_name(models[m]), fractions[k]), rev);
            results.row(name, model_name(models[m]), fractions[k], run, trained_at, fwd, rev, o.best_epoch, o.seconds);
        };
        for (std::size_t run = 0; run < seeds; ++run) {
            for (std::size_t d = 0; d < datasets.size(); ++d) {
                const auto& task = datasets[d];
                const index_split parts = task_split(task, choice, run);
                const spike_dataset test = task.data.subset(parts.test);
                for (std::size_t m = 0; m < models.size(); ++m) {
                    const std::string name = model_name(models[m]);
                    if (protocol == "clean") {
                        // One model on clean data; extras: the test split at every f, then reversed.
                        std::vector<spike_dataset> extras;
                        for (std::size_t k = 0; k < fractions.size(); ++k)
                            extras.push_back(replace_spikes(test, fractions[k], 7000 + 13 * run + 101 * k));
                        for (std::size_t k = 0; k < fractions.size(); ++k) extras.push_back(reverse_time(extras[k]));
                        const auto r = train_model(models[m], s, task, task.data, parts, extras,
                                                   out + "/models/" + task.name + "_" + name + "_seed" +
                                                       std::to_string(run), run);
                        for (std::size_t k = 0; k < fractions.size(); ++k)
                            record_row(d, m, k, run, 0.0, r.extra_accuracy[k],
                                       r.extra_accuracy[fractions.size() + k], r.main);
                        log("[%zu/%zu] %s %-13s seed %zu: clean test %.1f%%, reversed %.1f%% (best epoch %zu, %.1f s)",
                            ++done, trainings, task.name.c_str(), model_title(models[m]), run,
                            100 * r.extra_accuracy[0], 100 * r.extra_accuracy[fractions.size()],
                            r.main.best_epoch, r.main.seconds);
                    } else {
                        for (std::size_t k = 0; k < fractions.size(); ++k) {
                            const auto data = replace_spikes(task.data, fractions[k], 7000 + 13 * run + 101 * k);
                            const std::vector<spike_dataset> extras{reverse_time(data.subset(parts.test))};
                            const auto r = train_model(models[m], s, task, data, parts, extras,
                                                       out + "/models/" + task.name + "_" + name + "_f" +
                                                           format("%.2f", fractions[k]) + "_seed" + std::to_string(run),
                                                       run);
                            record_row(d, m, k, run, fractions[k], r.main.test_accuracy, r.extra_accuracy[0], r.main);
                            log("[%zu/%zu] %s f = %.2f %-13s seed %zu: test %.1f%%, reversed %.1f%% (%.1f s)",
                                ++done, trainings, task.name.c_str(), fractions[k], model_title(models[m]), run,
                                100 * r.main.test_accuracy, 100 * r.extra_accuracy[0], r.main.seconds);
                        }
                    }
                }
            }
            results.save(out + "/results.csv");
        }
        io::save_npy(out + "/accuracy.npy", accuracy);

        // Summary.
        std::vector<std::string> header{"dataset", "f"};
        for (auto m : models) {
            header.push_back(std::string(model_title(m)) + " %");
            header.push_back(std::string(model_title(m)) + " reversed %");
        }
        table summary(header);
        io::csv_writer summary_csv({"dataset", "model", "f", "forward_mean", "forward_std", "reversed_mean",
                                    "reversed_std", "seeds"});
        for (const auto& task : datasets)
            for (double f : fractions) {
                std::vector<std::string> row{task.name, format("%.2f", f)};
                for (auto m : models) {
                    const auto a = forward.get(key(task.name, model_name(m), f));
                    const auto b = reversed.get(key(task.name, model_name(m), f));
                    row.push_back(percent(a));
                    row.push_back(percent(b));
                    summary_csv.row(task.name, model_name(m), f, a.mean, a.std, b.mean, b.std, a.n);
                }
                summary.add(row);
            }
        summary_csv.save(out + "/summary.csv");
        summary.print("Time reversal (" + protocol + " protocol): test accuracy forward and reversed (mean +- std over " +
                      seeds_text(seeds) + "; chance " +
                      format("%.1f", 100.0 / double(datasets.front().data.n_classes())) +
                      "%; paper at f = 0: whole-inverse < MLP, part-inverse ~ MLP, norm-inverse > MLP, "
                      "larger drops with delays)");

        // Accuracy against f: a panel per dataset, forward solid, reversed dashed.
        const svg::marker_shape markers[4] = {svg::marker_shape::circle, svg::marker_shape::square,
                                              svg::marker_shape::triangle, svg::marker_shape::diamond};
        const char* colours[4] = {"#1f77b4", "#d62728", "#7f7f7f", "#2ca02c"};
        svg::figure fig({.rows = 1, .cols = int(datasets.size()), .width = 60 + 380 * double(datasets.size()),
                         .height = 400,
                         .title = "Time reversal, zero-shot (solid: forward test data, dashed: reversed; ± std over " +
                                  seeds_text(seeds) + ")",
                         .panel_letters = datasets.size() > 1});
        for (std::size_t d = 0; d < datasets.size(); ++d) {
            auto& ax = fig.panel(0, int(d));
            ax.set({.title = datasets[d].title, .xlabel = "replacement fraction f of the test data",
                    .ylabel = d == 0 ? "test accuracy (%)" : "", .ylim = {.lo = 0, .hi = 100},
                    .legend = {.location = d == 0 ? svg::legend_location::best : svg::legend_location::none}});
            for (std::size_t m = 0; m < models.size(); ++m) {
                const auto idx = static_cast<std::size_t>(models[m]);
                for (int direction = 0; direction < 2; ++direction) {
                    if (models[m] == model_kind::mlp && direction == 1) continue;  // counts: identical
                    std::vector<double> mean, sd;
                    for (double f : fractions) {
                        const auto a = (direction ? reversed : forward).get(key(datasets[d].name, model_name(models[m]), f));
                        mean.push_back(100 * a.mean);
                        sd.push_back(100 * a.std);
                    }
                    ax.line(fractions, mean,
                            {.label = std::string(model_title(models[m])) +
                                      (models[m] == model_kind::mlp ? " (either direction)" : direction ? " reversed" : ""),
                             .color = colours[idx], .dash = direction ? "dashed" : "", .marker = markers[idx],
                             .errors = sd});
                }
            }
            ax.hline(100.0 / double(datasets[d].data.n_classes()), {.label = "chance", .color = "#999999", .dash = "dotted"});
        }
        fig.save(out + "/accuracy_vs_f.svg");

        // A sample and its reversal, per dataset.
        svg::figure rasters({.rows = int(datasets.size()), .cols = 2, .width = 900,
                             .height = 40 + 290 * double(datasets.size()),
                             .title = "A sample and its time reversal (t' = t_start + t_end - t)",
                             .panel_letters = true});
        for (std::size_t d = 0; d < datasets.size(); ++d) {
            const auto& task = datasets[d];
            const auto one = task.data.subset(std::vector<std::size_t>{0});
            const auto flipped = reverse_time(one);
            const double span_ms = task.data.duration() * task.ms_per_unit();
            const auto a = one.sample(0), b = flipped.sample(0);
            const std::string cls = task.data.class_names()[std::size_t(a.label)];
            for (int c = 0; c < 2; ++c) {
                auto& ax = rasters.panel(int(d), c);
                const auto& sample = c == 0 ? a : b;
                ax.set({.title = task.title + ", class " + cls + (c == 0 ? ": original" : ": reversed"),
                        .xlabel = "time (ms)", .ylabel = c == 0 ? "input neuron" : "",
                        .xlim = {.lo = 0, .hi = span_ms}, .ylim = unit_limits(task.data.n_units()),
                        .legend = {.location = svg::legend_location::none}});
                ax.raster(times_ms(sample, task.ms_per_unit()), units_of(sample),
                          {.color = c == 0 ? "#1f77b4" : "#9467bd"});
                if (!sample.times.empty()) {
                    ax.vline(double(sample.times.front()) * task.ms_per_unit(), {.color = "#aaaaaa", .in_legend = false});
                    ax.vline(double(sample.times.back()) * task.ms_per_unit(), {.color = "#aaaaaa", .in_legend = false});
                }
            }
        }
        rasters.save(out + "/rasters.svg");
        std::printf("\ntime_reversal: results in %s (results.csv, summary.csv, accuracy.npy [dataset, model, f, seed, "
                    "forward/reversed], accuracy_vs_f.svg, rasters.svg, settings.json, models/)\n", out.c_str());
    } catch (const spikegrad::error& e) {
        std::fprintf(stderr, "time_reversal: %s\n", e.what());
        return 1;
    }
    return 0;
}

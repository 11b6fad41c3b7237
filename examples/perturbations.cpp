// perturbations: robustness of timing codes to per-spike jitter, per-neuron jitter and spike
// deletion (Yu, Sun, Goodman 2025, section 4; SPEC sections 5 and 10). Train-at-level
// protocol: a perturbation level is applied to every split and one model is trained per level.
// Data: the synthetic ISI task (default), the coincidence task, or SHD-layout files with a
// whole/part/norm variant. Models: SGD, SGD-delay and the MLP on spike counts. Writes
// results.csv, summary.csv, accuracy_<perturbation>.npy, accuracy_vs_level.svg,
// rasters_<dataset>.svg, settings.json and models/ into --out.
#include "support/tasks.hpp"

#include <spikegrad/io/npy.hpp>

#include <CLI/CLI.hpp>

using namespace spikegrad;
using namespace spikegrad::examples;

namespace {

struct perturbation {
    std::string name, title, axis;  // "spike_jitter", "per-spike jitter", "sigma (ms)"
    std::vector<double> levels;      // ms for the jitters, probability for deletion
};

/// Applies one perturbation level to a dataset (levels in ms are converted to its time unit).
spike_dataset perturb(const task_dataset& task, const spike_dataset& data, const std::string& kind,
                      double level, std::uint64_t seed) {
    if (level == 0) return data;
    if (kind == "spike_jitter") return jitter_per_spike(data, {.sigma = task.to_units(level)}, seed);
    if (kind == "neuron_jitter") return jitter_per_neuron(data, {.sigma = task.to_units(level)}, seed);
    return delete_spikes(data, level, seed);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Perturbations: accuracy against per-spike jitter, per-neuron jitter and deletion "
                 "(one model trained per level)"};
    data_choice choice;
    choice.isi_points = 2000;
    choice.variants = {"norm"};
    model_settings s;
    experiment_cli cli(app, choice, s);
    std::string out = "results/perturbations";
    std::vector<std::string> kinds = {"spike_jitter", "neuron_jitter", "deletion"};
    std::vector<double> spike_sigmas = {0, 5, 25}, neuron_sigmas = {0, 10, 25}, deletions = {0, 0.4, 0.8};
    std::vector<std::string> model_names = {"sgd", "sgd_delay", "mlp"};
    std::size_t seeds = 2;
    bool paper = false;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--variants", choice.variants, "shd: variants to train on (whole, part, norm)")
        ->delimiter(',')->capture_default_str();
    app.add_option("--perturbations", kinds, "spike_jitter, neuron_jitter, deletion")
        ->delimiter(',')->capture_default_str();
    app.add_option("--spike-sigmas", spike_sigmas, "per-spike jitter sigma, ms")->delimiter(',')->capture_default_str();
    app.add_option("--neuron-sigmas", neuron_sigmas, "per-neuron jitter sigma, ms")->delimiter(',')->capture_default_str();
    app.add_option("--deletions", deletions, "deletion probabilities p_d")->delimiter(',')->capture_default_str();
    app.add_option("--models", model_names, "models: sgd, sgd_delay, mlp")->delimiter(',')->capture_default_str();
    app.add_option("--seeds", seeds, "independent runs (split, initialisation, shuffling, perturbation)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--paper", paper, "the paper's settings: SPEC 10's levels, every sample (isi: 5000 points), "
                                   "the paper's epochs and batch (SPEC 5), at least 3 seeds");
    CLI11_PARSE(app, argc, argv);
    cli.apply_task_defaults(paper);
    if (paper) {
        if (!app.get_option("--spike-sigmas")->count()) spike_sigmas = {0, 1, 3, 5, 10, 17, 25};
        if (!app.get_option("--neuron-sigmas")->count()) neuron_sigmas = {0, 5, 10, 15, 20, 25};
        if (!app.get_option("--deletions")->count()) deletions = {0, 0.2, 0.4, 0.6, 0.8};
        seeds = std::max<std::size_t>(seeds, 3);
    }
    if (!shd_files_given(choice, "perturbations")) return 2;

    try {
        const auto models = parse_models(model_names);
        std::vector<perturbation> sweeps;
        for (const auto& k : kinds) {
            if (k == "spike_jitter") {
                check_levels(spike_sigmas, "--spike-sigmas", 0, 1e6);
                sweeps.push_back({k, "per-spike jitter", "sigma (ms)", spike_sigmas});
            } else if (k == "neuron_jitter") {
                check_levels(neuron_sigmas, "--neuron-sigmas", 0, 1e6);
                sweeps.push_back({k, "per-neuron jitter", "sigma (ms)", neuron_sigmas});
            } else if (k == "deletion") {
                check_levels(deletions, "--deletions", 0, 1);
                sweeps.push_back({k, "spike deletion", "deletion probability p_d", deletions});
            } else {
                raise<option_error>("perturbation '", k, "': expected spike_jitter, neuron_jitter or deletion");
            }
        }
        if (choice.task != "shd") choice.variants = {choice.task};
        prepare_output(out);
        prepare_output(out + "/models");
        run_record record("perturbations", argc, argv);
        record_data_choice(record, choice);
        json::value levels;
        for (const auto& p : sweeps) levels[p.name] = p.levels;
        record["levels"] = levels;
        record["level_units"] = "jitter sigma in ms, deletion as a probability";
        record["protocol"] = "train at level: the level is applied to every split, one model per level; "
                             "level 0 is the clean data, trained once and shared by the sweeps";
        save_training_record(record, model_names, s.to_json(), seeds, paper, out);

        std::optional<variant_report> report;
        const auto datasets = load_datasets(choice, &report);
        if (report) std::printf("%s\n", to_string(*report).c_str());
        std::size_t trainings = 0;
        for (const auto& p : sweeps)
            for (double l : p.levels) trainings += l == 0 ? 0 : 1;
        trainings = (trainings + 1) * models.size() * datasets.size() * seeds;
        std::printf("perturbations: %s, %zu samples, %zu perturbations, %zu models x %zu seeds: %zu trainings "
                    "of %zu epochs%s\n  (paper: %s; --paper)\n",
                    datasets.front().title.c_str(), datasets.front().data.size(), sweeps.size(),
                    models.size(), seeds, trainings, s.epochs, paper ? " [paper settings]" : "",
                    choice.task == "shd" ? "every sample, up to 1000 epochs, SPEC 10's levels"
                                         : "5000 points / 500 per class, 300 epochs, SPEC 10's levels");
        std::fflush(stdout);

        io::csv_writer results({"dataset", "perturbation", "level", "model", "seed", "test_accuracy",
                                "validation_accuracy", "best_epoch", "seconds"});
        accuracy_table acc;
        std::vector<tensor<double, 4>> arrays;
        for (const auto& p : sweeps)
            arrays.emplace_back(std::array<std::size_t, 4>{datasets.size(), p.levels.size(), models.size(), seeds});
        std::size_t done = 0;
        for (std::size_t run = 0; run < seeds; ++run) {
            for (std::size_t d = 0; d < datasets.size(); ++d) {
                const auto& task = datasets[d];
                const index_split parts = task_split(task, choice, run);
                std::map<std::string, model_result> clean;  // level 0, shared by the sweeps
                for (std::size_t p = 0; p < sweeps.size(); ++p) {
                    for (std::size_t k = 0; k < sweeps[p].levels.size(); ++k) {
                        const double level = sweeps[p].levels[k];
                        const spike_dataset data =
                            perturb(task, task.data, sweeps[p].name, level, 9000 + 17 * run + 101 * k + 1000 * p);
                        for (std::size_t m = 0; m < models.size(); ++m) {
                            const std::string name = model_name(models[m]);
                            model_result r;
                            if (level == 0 && clean.count(name)) {
                                r = clean[name];
                            } else {
                                const std::string stem = out + "/models/" + task.name + "_" +
                                                         (level == 0 ? std::string("clean") : sweeps[p].name + "_" +
                                                                                                  format("%g", level)) +
                                                         "_" + name + "_seed" + std::to_string(run);
                                r = train_model(models[m], s, task, data, parts, {}, stem, run);
                                if (level == 0) clean[name] = r;
                                log("[%zu/%zu] %s %s %g, %-13s seed %zu: test %.1f%% (best epoch %zu, %.1f s)",
                                    ++done, trainings, task.name.c_str(), sweeps[p].title.c_str(), level,
                                    model_title(models[m]), run, 100 * r.main.test_accuracy, r.main.best_epoch,
                                    r.main.seconds);
                            }
                            arrays[p](d, k, m, run) = r.main.test_accuracy;
                            acc.add(key(task.name + "|" + sweeps[p].name, name, level), r.main.test_accuracy);
                            results.row(task.name, sweeps[p].name, level, name, run, r.main.test_accuracy,
                                        r.main.validation_accuracy, r.main.best_epoch, r.main.seconds);
                        }
                    }
                }
            }
            results.save(out + "/results.csv");
        }
        for (std::size_t p = 0; p < sweeps.size(); ++p)
            io::save_npy(out + "/accuracy_" + sweeps[p].name + ".npy", arrays[p]);

        // Summary.
        std::vector<std::string> header{"dataset", "perturbation", "level"};
        for (auto m : models) header.push_back(std::string(model_title(m)) + " %");
        table summary(header);
        io::csv_writer summary_csv({"dataset", "perturbation", "level", "model", "mean", "std", "seeds"});
        for (const auto& task : datasets)
            for (const auto& p : sweeps)
                for (double level : p.levels) {
                    std::vector<std::string> row{task.name, p.name, format("%g", level)};
                    for (auto m : models) {
                        const auto a = acc.get(key(task.name + "|" + p.name, model_name(m), level));
                        row.push_back(percent(a));
                        summary_csv.row(task.name, p.name, level, model_name(m), a.mean, a.std, a.n);
                    }
                    summary.add(row);
                }
        summary_csv.save(out + "/summary.csv");
        summary.print("Perturbations, train-at-level: test accuracy (mean +- std over " + seeds_text(seeds) +
                      "; chance " + format("%.1f", 100.0 / double(datasets.front().data.n_classes())) +
                      "%; paper, SHD at 25 ms: per-spike jitter stays > 10 points above the MLP, "
                      "per-neuron jitter falls to it)");

        // Accuracy against level: a row per dataset, a panel per perturbation.
        svg::figure fig({.rows = int(datasets.size()), .cols = int(sweeps.size()),
                         .width = 40 + 340 * double(sweeps.size()), .height = 40 + 330 * double(datasets.size()),
                         .title = "Train-at-level perturbations (mean ± std over " + seeds_text(seeds) + ")",
                         .panel_letters = true});
        for (std::size_t d = 0; d < datasets.size(); ++d)
            for (std::size_t p = 0; p < sweeps.size(); ++p) {
                auto& ax = fig.panel(int(d), int(p));
                ax.set({.title = datasets[d].title + ": " + sweeps[p].title, .xlabel = sweeps[p].axis,
                        .ylabel = p == 0 ? "test accuracy (%)" : "", .ylim = {.lo = 0, .hi = 100},
                        .legend = {.location = d == 0 && p == 0 ? svg::legend_location::best
                                                                : svg::legend_location::none}});
                for (std::size_t m = 0; m < models.size(); ++m) {
                    std::vector<double> mean, sd;
                    for (double level : sweeps[p].levels) {
                        const auto a = acc.get(key(datasets[d].name + "|" + sweeps[p].name, model_name(models[m]), level));
                        mean.push_back(100 * a.mean);
                        sd.push_back(100 * a.std);
                    }
                    ax.line(sweeps[p].levels, mean, {.label = model_title(models[m]), .color = model_colour(models[m]),
                                                     .dash = models[m] == model_kind::mlp ? "dashed" : "",
                                                     .marker = model_marker(models[m]), .errors = sd});
                }
                ax.hline(100.0 / double(datasets[d].data.n_classes()),
                         {.label = "chance", .color = "#999999", .dash = "dotted"});
            }
        fig.save(out + "/accuracy_vs_level.svg");

        // One sample before and after the two largest levels of each perturbation.
        for (const auto& task : datasets) {
            const auto one = task.data.subset(std::vector<std::size_t>{0});
            const auto original = one.sample(0);
            const double span_ms = task.data.duration() * task.ms_per_unit();
            svg::figure rasters({.rows = int(sweeps.size()), .cols = 3, .width = 1150,
                                 .height = 40 + 280 * double(sweeps.size()),
                                 .title = task.title + ": one sample (class " +
                                          task.data.class_names()[std::size_t(original.label)] +
                                          ") before and after each perturbation (grey: original, red: perturbed)",
                                 .panel_letters = true});
            for (std::size_t p = 0; p < sweeps.size(); ++p) {
                auto& a0 = rasters.panel(int(p), 0);
                a0.set({.title = "original", .xlabel = "time (ms)", .ylabel = "input neuron",
                        .xlim = {.lo = 0, .hi = span_ms}, .ylim = unit_limits(task.data.n_units()),
                        .legend = {.location = svg::legend_location::none}});
                a0.raster(times_ms(original, task.ms_per_unit()), units_of(original), {.color = "#1f77b4"});
                std::vector<double> shown = sweeps[p].levels;
                shown.erase(std::remove(shown.begin(), shown.end(), 0.0), shown.end());
                std::sort(shown.begin(), shown.end());
                if (shown.size() > 2) shown.erase(shown.begin(), shown.end() - 2);
                for (std::size_t c = 0; c < 2; ++c) {
                    auto& ax = rasters.panel(int(p), int(c + 1));
                    const bool has = c < shown.size();
                    const double level = has ? shown[c] : 0.0;
                    const auto after = perturb(task, one, sweeps[p].name, level, 9000);
                    ax.set({.title = sweeps[p].title + (has ? (sweeps[p].name == "deletion" ? ", p_d = " : ", sigma = ") +
                                                               format("%g", level) +
                                                               (sweeps[p].name == "deletion" ? "" : " ms")
                                                         : std::string(" (no level)")),
                            .xlabel = "time (ms)", .xlim = {.lo = 0, .hi = span_ms},
                            .ylim = unit_limits(task.data.n_units()),
                            .legend = {.location = svg::legend_location::none}});
                    draw_over(ax, original, after.sample(0), task.ms_per_unit(), "perturbed", "#d62728", false);
                }
            }
            rasters.save(out + "/rasters_" + task.name + ".svg");
        }
        std::printf("\nperturbations: results in %s (results.csv, summary.csv, accuracy_<perturbation>.npy "
                    "[dataset, level, model, seed], accuracy_vs_level.svg, rasters_<dataset>.svg, settings.json, "
                    "models/)\n", out.c_str());
    } catch (const spikegrad::error& e) {
        std::fprintf(stderr, "perturbations: %s\n", e.what());
        return 1;
    }
    return 0;
}

// Shared by shd_timing, perturbations and time_reversal (not part of the library): where the
// data comes from (the synthetic ISI and coincidence tasks, or SHD-layout files and their
// whole/part/norm variants), the paper's models on it (SGD, SGD-delay, and the MLP on spike
// counts), each trained on one split and also evaluated zero-shot on extra test sets, and
// raster panels that show what a transform did to a sample. Needs HDF5 (spikegrad::hdf5).
#pragma once

#include "experiment.hpp"

#include <spikegrad/data/shd.hpp>
#include <spikegrad/data/synthetic/coincidence.hpp>
#include <spikegrad/data/synthetic/isi.hpp>
#include <spikegrad/data/transforms.hpp>
#include <spikegrad/data/variants.hpp>
#include <spikegrad/data/variants_report.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <optional>

namespace spikegrad::examples {

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// One dataset the programs train on: its events, how it is binned for the engine, and its
/// time unit in milliseconds (transform parameters are given in ms on the command line).
struct task_dataset {
    std::string name;   // "isi", "coincidence", "whole", "part", "norm"
    std::string title;  // for tables and figures
    spike_dataset data;
    /// How it is binned for the engine; binning.dt_ms is the one place the step is typed (the
    /// binned batch carries it to the network).
    binning_options binning;

    /// Milliseconds per unit of data's times (1 for the synthetic tasks, 1000 for SHD files).
    double ms_per_unit() const { return data.ms_per_unit(); }
    double to_units(double ms) const { return ms / ms_per_unit(); }
};

/// Which data a program runs on (command-line choices).
struct data_choice {
    std::string task = "isi";  // isi | coincidence | shd
    // shd
    std::string train_file, test_file, valid_file;
    std::size_t n_units = 0;
    std::vector<std::string> variants = {"norm"};
    std::string builder = "paper";  // paper | code
    // all: 0 keeps every sample, else at most this many per class (balanced, seeded)
    std::size_t per_class = 0;
    // synthetic sizes
    std::size_t isi_points = 5000;
    std::size_t coincidence_per_class = 300;
    double coincidence_lambda = 0;
};

/// Writes the data choice into a program's settings record (only the fields its task uses).
inline void record_data_choice(run_record& record, const data_choice& choice) {
    record["task"] = choice.task;
    if (choice.task == "shd") {
        record["files"] = std::vector<std::string>{choice.train_file, choice.test_file, choice.valid_file};
        record["variants"] = choice.variants;
        record["builder"] = choice.builder;
    }
    if (choice.task == "isi") record["points"] = choice.isi_points;
    if (choice.task == "coincidence") {
        record["lambda"] = choice.coincidence_lambda;
        record["coincidence_samples_per_class"] = choice.coincidence_per_class;
    }
    record["samples_per_class"] = choice.per_class;
}

/// Writes the training side of a run (models, their settings, seeds, split) into the record
/// and saves it in `out` as settings.json.
inline void save_training_record(run_record& record, const std::vector<std::string>& model_names,
                                 const json::value& model, std::size_t seeds, bool paper,
                                 const std::string& out) {
    record["models"] = model_names;
    record["model"] = model;
    record["seeds"] = seeds;
    record["split"] = "shuffled (seed 42 + run), train [0, 0.6), validation [0.6, 0.75), test [0.75, 0.9)";
    record["paper"] = paper;
    record.save(out);
}

/// SHD bins: 100 of 14 ms over 1.4 s (SPEC section 6), half-open [k dt, (k+1) dt).
inline binning_options shd_binning() { return {.dt_ms = 14.0, .n_steps = 100}; }

/// Reads and merges the SHD-layout files (train, test, optional validation), with progress.
inline shd_file read_shd_files(const std::vector<std::string>& paths, std::size_t n_units) {
    std::vector<shd_file> parts;
    for (const auto& path : paths) {
        if (path.empty()) continue;
        if (!std::filesystem::is_regular_file(path))
            raise<io_error>(path, ": no such file (give the unpacked .h5 file, e.g. "
                                  "gunzip shd_train.h5.gz first)");
        const auto start = std::chrono::steady_clock::now();
        parts.push_back(read_shd(path, {.n_units = n_units, .warning = [&](const std::string& w) {
                                            log("  %s: %s", path.c_str(), w.c_str());
                                        }}));
        const auto& d = parts.back().data;
        log("read %s: %zu samples, %zu units, %zu classes, %.1f spikes per sample (%.1f s)",
            path.c_str(), d.size(), d.n_units(), d.n_classes(),
            d.size() ? double(d.n_spikes()) / double(d.size()) : 0.0,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (parts.empty()) raise<option_error>("no SHD file given (--train, --test, --valid)");
    for (std::size_t k = 1; k < parts.size(); ++k) {
        const auto& a = parts.front().data;
        const auto& b = parts[k].data;
        if (a.n_units() != b.n_units() || a.n_classes() != b.n_classes())
            raise<data_error>("the SHD files do not match: ", a.n_units(), " units and ",
                              a.n_classes(), " classes in the first, ", b.n_units(), " and ",
                              b.n_classes(), " in file ", k + 1);
    }
    return merge_shd(parts);
}

/// The builder's rules: "paper" (SPEC section 9) or "code" (the released code's variants).
inline variant_options builder_options(const std::string& rules) {
    variant_options o;
    o.binning = shd_binning();
    if (rules == "code") {
        o.rescue = rescue_rule::at_most_eps;
        o.cap = removal_cap::total;
        o.keep = keep_rule::at_least_one;
    } else if (rules != "paper") {
        raise<option_error>("builder rules '", rules, "': expected paper or code");
    }
    return o;
}

/// At most `per_class` samples of every class, chosen uniformly (0: all). Ascending indices.
inline spike_dataset subsample_per_class(const spike_dataset& data, std::size_t per_class,
                                         std::uint64_t seed) {
    if (per_class == 0) return data;
    std::vector<std::vector<std::size_t>> members(data.n_classes());
    for (std::size_t i = 0; i < data.size(); ++i)
        members[static_cast<std::size_t>(data.label(i))].push_back(i);
    rng generator(seed);
    std::vector<std::size_t> keep;
    for (const auto& list : members)
        for (std::size_t k : generator.choose(list.size(), std::min(per_class, list.size())))
            keep.push_back(list[k]);
    std::sort(keep.begin(), keep.end());
    return data.subset(keep);
}

inline const char* task_title(const std::string& name) {
    if (name == "whole") return "whole";
    if (name == "part") return "part";
    if (name == "norm") return "norm";
    if (name == "isi") return "ISI task";
    if (name == "coincidence") return "coincidence task";
    return "";
}

/// The datasets a choice stands for: one synthetic task, or the requested SHD variants.
/// `report` receives the builder's report for SHD files.
inline std::vector<task_dataset> load_datasets(const data_choice& choice,
                                               std::optional<variant_report>* report = nullptr) {
    std::vector<task_dataset> out;
    if (choice.task == "isi") {
        const auto task = make_isi_task({.n_points = choice.isi_points});
        out.push_back({"isi", "ISI task", subsample_per_class(task.data, choice.per_class, 42),
                       {.dt_ms = 1.0}});
    } else if (choice.task == "coincidence") {
        const auto task = make_coincidence_task({.lambda = choice.coincidence_lambda,
                                                 .samples_per_class = choice.coincidence_per_class});
        out.push_back({"coincidence", "coincidence task (lambda " + format("%g", choice.coincidence_lambda) + ")",
                       subsample_per_class(task.data, choice.per_class, 42), {.dt_ms = 1.0}});
    } else if (choice.task == "shd") {
        if (choice.variants.empty()) raise<option_error>("no variant chosen (--variants)");
        for (const auto& v : choice.variants)
            if (v != "whole" && v != "part" && v != "norm")
                raise<option_error>("variant '", v, "': expected whole, part or norm");
        const shd_file merged =
            read_shd_files({choice.train_file, choice.test_file, choice.valid_file}, choice.n_units);
        const auto start = std::chrono::steady_clock::now();
        variant_sets sets = build_variants(merged.data, builder_options(choice.builder));
        log("whole/part/norm built in %.1f s",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (sets.norm.empty() || sets.report.kept_neurons.empty())
            log("warning: no neuron fires at least %zu times in every remaining sample: part and "
                "norm are empty", sets.report.keep_threshold);
        for (const auto& v : choice.variants) {
            const spike_dataset& d = v == "whole" ? sets.whole : v == "part" ? sets.part : sets.norm;
            if (d.empty() || d.n_units() == 0)
                raise<data_error>("the ", v, " variant is empty (", d.size(), " samples, ",
                                  d.n_units(), " neurons): see the builder's report");
            out.push_back({v, v, subsample_per_class(d, choice.per_class, 42), shd_binning()});
        }
        if (report) *report = std::move(sets.report);
    } else {
        raise<option_error>("task '", choice.task, "': expected isi, coincidence or shd");
    }
    return out;
}

/// Checks a sorted list of levels / fractions and reports the offending value.
inline void check_levels(const std::vector<double>& values, const char* name, double low,
                         double high) {
    if (values.empty()) raise<option_error>(name, ": give at least one value");
    for (double v : values)
        if (!(v >= low && v <= high))
            raise<option_error>(name, ": value ", v, " outside [", low, ", ", high, "]");
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

enum class model_kind { sgd, sgd_delay, mlp };

inline const char* model_name(model_kind m) {
    return m == model_kind::sgd ? "sgd" : m == model_kind::sgd_delay ? "sgd_delay" : "mlp_counts";
}
inline const char* model_title(model_kind m) {
    return m == model_kind::sgd ? "SGD" : m == model_kind::sgd_delay ? "SGD-delay" : "MLP on counts";
}

inline std::vector<model_kind> parse_models(const std::vector<std::string>& names) {
    std::vector<model_kind> out;
    for (const auto& n : names) {
        if (n == "sgd") out.push_back(model_kind::sgd);
        else if (n == "sgd_delay" || n == "sgd-delay" || n == "delay") out.push_back(model_kind::sgd_delay);
        else if (n == "mlp" || n == "mlp_counts") out.push_back(model_kind::mlp);
        else raise<option_error>("model '", n, "': expected sgd, sgd_delay or mlp");
    }
    if (out.empty()) raise<option_error>("no model chosen (--models)");
    return out;
}

/// readout: in -> hidden LIF -> readout membrane, cross-entropy on its final value (the
/// synthetic tasks). spiking: in -> hidden LIF -> hidden LIF -> spiking LIF outputs with a
/// spike-count loss (SHD/SSC).
enum class architecture { readout, spiking };

struct model_settings {
    architecture arch = architecture::readout;
    std::size_t hidden = 100;
    /// spiking: "spikemax" (paper) or "spike_rate" (the released code).
    std::string loss = "spikemax";
    double tau_ms = 50, tau_min_ms = 10, tau_max_ms = 200;
    double readout_tau_ms = 500;
    /// Weights of the first layer ~ U(+-init_scale / sqrt(n_in)); spiking architecture: 0
    /// derives it from the input density (auto_init_scale), deeper layers use deep_init_scale.
    double init_scale = 1.0, deep_init_scale = 4.0;
    double lr = 2e-3, tau_lr = 0.05, delay_lr = 0.05, max_delay = 15;
    std::size_t epochs = 40, batch = 32, patience = 0, decay_every = 0;
    double decay_gamma = 0.1;
    std::size_t mlp_hidden = 64, mlp_epochs = 200, mlp_batch = 64;
    double mlp_lr = 3e-3;
    int threads = 0;
    progress_mode progress = progress_mode::automatic;

    json::value to_json() const {
        json::value v;
        v["architecture"] = arch == architecture::readout
                                ? "in -> hidden LIF (shared learnable tau) -> readout membrane"
                                : "in -> hidden LIF -> hidden LIF (shared learnable taus) -> spiking LIF outputs";
        v["hidden"] = hidden;
        v["threads"] = threads;  // 0: every core (settings.json's cores_available)
        v["loss"] = arch == architecture::readout ? std::string("cross-entropy on the final readout membrane")
                                                  : loss;
        v["tau_ms"] = tau_ms;
        v["tau_bounds_ms"] = std::vector<double>{tau_min_ms, tau_max_ms};
        v["readout_tau_ms"] = readout_tau_ms;
        v["init_scale"] = arch == architecture::spiking && init_scale == 0
                              ? json::value("auto (from the input density)") : json::value(init_scale);
        if (arch == architecture::spiking) v["deep_init_scale"] = deep_init_scale;
        v["optimizer"] = json::object{{"rule", "nadam"}, {"lr", lr}, {"tau_lr", tau_lr},
                                      {"delay_lr", delay_lr}, {"batch", batch}};
        v["max_delay_steps"] = max_delay;
        v["epochs"] = epochs;
        v["patience"] = patience;
        v["decay_every"] = decay_every;
        v["decay_gamma"] = decay_gamma;
        v["mlp"] = json::object{{"hidden", mlp_hidden}, {"epochs", mlp_epochs}, {"lr", mlp_lr},
                                {"batch", mlp_batch}, {"rule", "adam"}};
        return v;
    }
};

/// The model settings of a task: the synthetic tasks' networks of isi_task and
/// coincidence_task, and 2 x 128 spiking LIF layers for SHD-layout data.
inline model_settings default_settings(const std::string& task) {
    model_settings s;
    if (task == "coincidence") {
        s.hidden = 3;
        s.tau_max_ms = 100;
    } else if (task == "shd") {
        s.arch = architecture::spiking;
        s.hidden = 128;
        s.tau_ms = 40;
        s.tau_min_ms = 5;
        s.tau_max_ms = 1000;
        s.init_scale = 0;
        s.deep_init_scale = 2;
        s.lr = 5e-3;
        s.tau_lr = 0.5;
        s.delay_lr = 0.5;
        s.max_delay = 64;
        s.batch = 32;
        s.mlp_hidden = 128;
    }
    return s;
}

/// The paper's training settings of a task (SPEC section 5). For SHD the learning rate stays
/// ours: the released code's lr 0.1 belongs to SLAYER's weight scale (threshold 10) and leaves
/// this LIF network at chance (measured on the demo file, docs/experiments.md).
inline void apply_paper_settings(model_settings& s, const std::string& task) {
    if (task == "shd") {
        s.epochs = 1000;
        s.batch = 128;
        s.decay_every = 300;
        s.patience = 300;
    } else {
        s.epochs = 300;
        s.batch = 32;
        s.lr = 1e-3;
    }
}

/// --train, --test, --valid (SHD-layout files) and --n-units; `prefix` starts each help text.
inline void add_shd_file_options(CLI::App& app, data_choice& choice, const std::string& prefix = "") {
    app.add_option("--train", choice.train_file, prefix + "training split (e.g. shd_train.h5; gunzip first)")
        ->check(CLI::ExistingFile);
    app.add_option("--test", choice.test_file, prefix + "test split (e.g. shd_test.h5)")->check(CLI::ExistingFile);
    app.add_option("--valid", choice.valid_file, prefix + "validation split (SSC: ssc_valid.h5)")
        ->check(CLI::ExistingFile);
    app.add_option("--n-units", choice.n_units, prefix + "input channels (0: the file's n_units attribute, else 700)")
        ->capture_default_str();
}

/// False (after saying so on stderr) when the SHD task was chosen without any file to read.
inline bool shd_files_given(const data_choice& choice, const char* program) {
    if (choice.task != "shd" || !choice.train_file.empty() || !choice.test_file.empty() ||
        !choice.valid_file.empty())
        return true;
    std::fprintf(stderr, "%s: give at least one SHD-layout file: --train shd_train.h5 --test shd_test.h5 "
                         "(from https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/, gunzip first)\n",
                 program);
    return false;
}

/// Command-line options for the data choice and the model settings shared by perturbations and
/// time_reversal. Model options left out take the chosen task's defaults (default_settings).
class experiment_cli {
public:
    experiment_cli(CLI::App& app, data_choice& choice, model_settings& s)
        : app_(app), choice_(choice), s_(s) {
        app.add_option("--task", choice.task, "data: isi (synthetic ISI task), coincidence, or shd "
                                              "(SHD-layout files, see --train)")
            ->capture_default_str()->check(CLI::IsMember({"isi", "coincidence", "shd"}));
        add_shd_file_options(app, choice, "shd: ");
        app.add_option("--builder", choice.builder, "shd: whole/part/norm rules, paper or code")
            ->capture_default_str()->check(CLI::IsMember({"paper", "code"}));
        app.add_option("--per-class", choice.per_class, "at most this many samples per class (0: all)")
            ->capture_default_str();
        app.add_option("--points", choice.isi_points, "isi: 2-D points drawn before the margin (paper: 5000)")
            ->capture_default_str()->check(CLI::PositiveNumber);
        app.add_option("--lambda", choice.coincidence_lambda, "coincidence: difficulty lambda")
            ->capture_default_str()->check(CLI::Range(0.0, 1.0));
        app.add_option("--samples-per-class", choice.coincidence_per_class,
                       "coincidence: samples per class (paper: 500)")->capture_default_str();
        add("--epochs", &model_settings::epochs, "training epochs (best epoch by validation loss)");
        add("--batch", &model_settings::batch, "batch size");
        add("--lr", &model_settings::lr, "Nadam learning rate of the weights");
        add("--tau-lr", &model_settings::tau_lr, "learning rate of the time constants");
        add("--delay-lr", &model_settings::delay_lr, "learning rate of the delays");
        add("--tau-ms", &model_settings::tau_ms, "initial hidden membrane time constant (learned)");
        add("--hidden", &model_settings::hidden, "hidden neurons per layer");
        add("--max-delay", &model_settings::max_delay, "largest delay, steps");
        add("--init-scale", &model_settings::init_scale, "first layer's initial weights ~ U(+-scale / sqrt(n_in)); "
                                                         "shd: 0 = from the input density");
        add("--deep-init-scale", &model_settings::deep_init_scale, "shd: the same for the deeper layers");
        add("--patience", &model_settings::patience, "early stopping patience in epochs (0: never)");
        add("--loss", &model_settings::loss, "shd: spikemax (paper) or spike_rate (the released code)");
        add("--mlp-hidden", &model_settings::mlp_hidden, "hidden units of the MLP on counts");
        add("--mlp-epochs", &model_settings::mlp_epochs, "epochs of the MLP on counts");
        app.add_option("--threads", s.threads, "threads (0: all cores)")->capture_default_str();
    }

    /// After parsing: the settings become `defaults` except for the options the user gave.
    void fill_defaults(const model_settings& defaults) {
        const model_settings given = s_;
        s_ = defaults;
        s_.threads = given.threads;
        for (auto& keep : keep_) keep(given);
    }
    /// After parsing, for perturbations and time_reversal: the task's settings with their
    /// shorter default runs (10 epochs, shd 15), or with `paper` the paper's settings and data
    /// sizes; options the user gave win.
    void apply_task_defaults(bool paper) {
        model_settings d = default_settings(choice_.task);
        d.epochs = choice_.task == "shd" ? 15 : 10;
        d.mlp_epochs = choice_.task == "shd" ? 200 : 100;
        if (paper) {
            apply_paper_settings(d, choice_.task);
            d.mlp_epochs = 200;
            if (!given("--points")) choice_.isi_points = 5000;
            if (!given("--samples-per-class")) choice_.coincidence_per_class = 500;
            if (!given("--per-class")) choice_.per_class = 0;
        }
        fill_defaults(d);
    }
    /// Whether the user gave the option `name` (e.g. "--epochs").
    bool given(const std::string& name) const { return app_.get_option(name)->count() > 0; }

private:
    template <class T>
    void add(const char* name, T model_settings::*field, const std::string& help) {
        CLI::Option* option = app_.add_option(name, s_.*field, help + " (default: the task's)");
        model_settings& target = s_;
        keep_.push_back([option, field, &target](const model_settings& given) {
            if (option->count() > 0) target.*field = given.*field;
        });
    }

    CLI::App& app_;
    data_choice& choice_;
    model_settings& s_;
    std::vector<std::function<void(const model_settings&)>> keep_;
};

/// What one trained model scored.
struct model_result {
    outcome main;                       // test accuracy of the split, history, best epoch
    std::vector<double> extra_accuracy;  // one per extra test set (zero-shot evaluations)
};

namespace detail_tasks {

template <class Net, class Loss>
model_result fit_and_score(Net& net, const model_settings& s, const Loss& loss, const splits& data,
                           const std::vector<event_batch>& extras, const std::string& checkpoint,
                           bool snn, std::uint64_t seed) {
    const auto start = std::chrono::steady_clock::now();
    trainer_options options{.lr = snn ? s.lr : s.mlp_lr,
                            .epochs = snn ? s.epochs : s.mlp_epochs,
                            .batch = snn ? s.batch : s.mlp_batch,
                            .seed = seed,
                            .patience = snn ? s.patience : 0,
                            .decay_every = snn ? s.decay_every : 0,
                            .decay_gamma = s.decay_gamma,
                            .progress = snn ? s.progress : progress_mode::quiet};
    model_result r;
    // Trains with `fit` (keeping the best model by validation loss) and scores every split.
    const auto run_and_score = [&](auto& fit) {
        r.main.history = fit.run(data.train, data.validation);
        const auto test = fit.evaluate(data.test);
        r.main.test_accuracy = test.accuracy();
        r.main.test_loss = test.loss();
        r.main.validation_accuracy = fit.evaluate(data.validation).accuracy();
        for (const auto& e : extras) r.extra_accuracy.push_back(fit.evaluate(e).accuracy());
    };
    if (snn) {
        trainer<Net, Loss, nadam> fit(net, options, loss, {},
                                      {{.kind = parameter_kind::time_constant, .lr = s.tau_lr},
                                       {.kind = parameter_kind::delay, .lr = s.delay_lr}});
        run_and_score(fit);
    } else {
        trainer<Net, Loss, adam> fit(net, options, loss);
        run_and_score(fit);
    }
    r.main.best_epoch = r.main.history.best_epoch;
    if (!checkpoint.empty()) {
        save_checkpoint(checkpoint + ".ckpt", net);
        r.main.history.write_csv(checkpoint + "_history.csv");
    }
    r.main.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

/// First-layer weight scale from the input's density: weights ~ U(+-s / sqrt(n)) and k active
/// inputs per step give a current of standard deviation s sqrt(k / (3 n)); s is chosen so that
/// this is 0.5 (half the threshold), within [1, 10]. Sparse inputs (the norm variants) get
/// larger weights than dense ones (whole).
inline double auto_init_scale(const event_batch& train) {
    const double cells = double(train.n_samples) * double(train.n_steps);
    const double active = cells > 0 ? double(train.units.size()) / cells : 0.0;
    if (!(active > 0)) return 4.0;
    return std::clamp(0.5 * std::sqrt(3.0 * double(train.n_units) / active), 1.0, 10.0);
}

inline lif::params hidden_neuron(const model_settings& s) {
    return {.tau_ms = s.tau_ms, .train_tau = tau_training::shared, .tau_min_ms = s.tau_min_ms,
            .tau_max_ms = s.tau_max_ms};
}

template <bool Delayed>
model_result train_readout(const model_settings& s, const splits& data,
                           const std::vector<event_batch>& extras, const std::string& checkpoint,
                           std::uint64_t seed) {
    using hidden_layer = std::conditional_t<Delayed, dense<lif, fast_sigmoid, axonal_delay>, dense<lif>>;
    using net_t = network<hidden_layer, dense<readout>>;
    const double dt_ms = data.train.dt_ms;
    typename hidden_layer::options h;
    h.neuron = hidden_neuron(s);
    h.init_scale = s.init_scale > 0 ? s.init_scale : auto_init_scale(data.train);
    if constexpr (Delayed) h.delay = {.max_ms = s.max_delay * dt_ms};  // --max-delay is in steps
    net_t net({data.train.n_units, s.hidden, data.train.n_classes},
              {.dt_ms = dt_ms, .seed = 100 + seed, .threads = s.threads}, h,
              {.neuron = {.tau_ms = s.readout_tau_ms, .train_tau = tau_training::shared,
                          .tau_min_ms = 10, .tau_max_ms = 5000}});
    return fit_and_score(net, s, final_membrane_cross_entropy{}, data, extras, checkpoint, true, seed);
}

template <bool Delayed>
model_result train_spiking(const model_settings& s, const splits& data,
                           const std::vector<event_batch>& extras, const std::string& checkpoint,
                           std::uint64_t seed) {
    using hidden_layer = std::conditional_t<Delayed, dense<lif, fast_sigmoid, axonal_delay>, dense<lif>>;
    using net_t = network<hidden_layer, hidden_layer, dense<lif>>;
    const double dt_ms = data.train.dt_ms;
    typename hidden_layer::options h;
    h.neuron = hidden_neuron(s);
    h.init_scale = s.deep_init_scale;
    if constexpr (Delayed) h.delay = {.max_ms = s.max_delay * dt_ms};  // --max-delay is in steps
    typename hidden_layer::options first = h;
    first.init_scale = s.init_scale > 0 ? s.init_scale : auto_init_scale(data.train);
    typename dense<lif>::options o;
    o.neuron = hidden_neuron(s);
    o.init_scale = s.deep_init_scale;
    net_t net({data.train.n_units, s.hidden, s.hidden, data.train.n_classes},
              {.dt_ms = dt_ms, .seed = 100 + seed, .threads = s.threads}, first, h, o);
    if (s.loss == "spike_rate")
        return fit_and_score(net, s, spike_rate{}, data, extras, checkpoint, true, seed);
    return fit_and_score(net, s, spikemax{}, data, extras, checkpoint, true, seed);
}

}  // namespace detail_tasks

/// Trains one model on `data` (split by `parts`) and evaluates it on the test split and on
/// each of `extra_tests` (datasets of the same layout, e.g. the test split time-reversed).
/// Saves `<checkpoint>.ckpt` and `<checkpoint>_history.csv` when a path stem is given.
inline model_result train_model(model_kind kind, const model_settings& s, const task_dataset& task,
                                const spike_dataset& data, const index_split& parts,
                                const std::vector<spike_dataset>& extra_tests,
                                const std::string& checkpoint, std::uint64_t seed) {
    if (s.arch == architecture::spiking && s.loss != "spikemax" && s.loss != "spike_rate")
        raise<option_error>("loss '", s.loss, "': expected spikemax or spike_rate");
    if (kind == model_kind::mlp) {
        // Per-neuron counts of the whole sample, scaled by the training data's mean count.
        const double scale = 1.0 / mean_count(data);
        std::vector<event_batch> extras;
        for (const auto& e : extra_tests) extras.push_back(count_features(e, scale));
        using mlp = network<dense<lif, rectifier>, dense<readout>>;
        const auto counts = count_features(data, scale);
        mlp net({data.n_units(), s.mlp_hidden, data.n_classes()},
                {.dt_ms = counts.dt_ms, .seed = 1000 + seed, .threads = s.threads},
                {.neuron = {.theta = 0.0}}, {});
        return detail_tasks::fit_and_score(net, s, final_membrane_cross_entropy{},
                                           split_events(counts, parts), extras,
                                           checkpoint, false, seed);
    }
    binning_options bins = task.binning;
    const auto all = bin_events(data, bins);
    if (bins.n_steps == 0) bins.n_steps = all.n_steps;  // extras get the same number of steps
    std::vector<event_batch> extras;
    for (const auto& e : extra_tests) extras.push_back(bin_events(e, bins));
    const auto split = split_events(all, parts);
    const bool delayed = kind == model_kind::sgd_delay;
    if (s.arch == architecture::readout)
        return delayed ? detail_tasks::train_readout<true>(s, split, extras, checkpoint, seed)
                       : detail_tasks::train_readout<false>(s, split, extras, checkpoint, seed);
    return delayed ? detail_tasks::train_spiking<true>(s, split, extras, checkpoint, seed)
                   : detail_tasks::train_spiking<false>(s, split, extras, checkpoint, seed);
}

/// The paper's split of a (balanced) dataset: shuffled with seed 42 + run, then train
/// [0, 0.6), validation [0.6, 0.75), test [0.75, 0.9) (SPEC section 5).
inline index_split paper_split(std::size_t n, std::size_t run) {
    return split_by_fraction(n, {.seed = 42 + run});
}

// ---------------------------------------------------------------------------------------------
// Summaries and figures
// ---------------------------------------------------------------------------------------------

/// Accuracies grouped by a key, for mean +- std over seeds in insertion order of the keys.
class accuracy_table {
public:
    void add(const std::string& key, double accuracy) {
        if (!values_.count(key)) order_.push_back(key);
        values_[key].push_back(accuracy);
    }
    mean_std get(const std::string& key) const {
        const auto it = values_.find(key);
        return it == values_.end() ? mean_std{std::nan(""), std::nan(""), 0} : summarise(it->second);
    }
    const std::vector<std::string>& keys() const { return order_; }

private:
    std::map<std::string, std::vector<double>> values_;
    std::vector<std::string> order_;
};

/// "1 seed", "3 seeds".
inline std::string seeds_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " seed" : " seeds"); }

inline std::string key(const std::string& a, const std::string& b, double level) {
    return a + "|" + b + "|" + format("%.6g", level);
}

/// Times of a sample in ms (for raster axes), whatever the dataset's unit.
inline std::vector<double> times_ms(const spike_sample_view& s, double ms_per_unit) {
    std::vector<double> out;
    for (float t : s.times) out.push_back(double(t) * ms_per_unit);
    return out;
}

inline std::vector<double> units_of(const spike_sample_view& s) {
    return std::vector<double>(s.units.begin(), s.units.end());
}

/// A raster panel of `after` over `before` (drawn light grey underneath), so a transform's
/// moved, added and deleted spikes show against the original.
inline void draw_over(svg::axes& ax, const spike_sample_view& before, const spike_sample_view& after,
                      double ms_per_unit, const std::string& label, const std::string& color,
                      bool legend) {
    ax.raster(times_ms(before, ms_per_unit), units_of(before),
              {.label = legend ? "original" : "", .color = "#c7c7c7", .line_width = 2.5});
    ax.raster(times_ms(after, ms_per_unit), units_of(after),
              {.label = legend ? label : "", .color = color, .line_width = 1.2});
}

/// The y range of a raster of n units.
inline svg::limits unit_limits(std::size_t n_units) { return {-0.5, double(n_units) - 0.5}; }

}  // namespace spikegrad::examples

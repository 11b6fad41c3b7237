// gamma_resolution: the resolution claim of SpikingGamma (issue 14; Koopman, Otte, Bohte,
// arXiv 2602.01978), measured. On the coincidence task and a delay task, trains at several
// step lengths dt (default 1, 0.5, 0.25, 0.1 ms) a SpikingGamma network (online, per-step
// loss, sigma-delta spikes) and LIF networks trained by surrogate BPTT, with and without
// learnable axonal delays. Writes results.csv (accuracy, hidden spikes per sample, training
// state bytes per sample, training seconds per sample), resolution.svg and settings.json.
// Default sizes are reduced (40 samples per class, 15 epochs, 500 ms coincidence samples, 1
// seed) so that the sweep takes minutes on 2 cores; docs/spiking_gamma.md gives the measured run.
#include "support/experiment.hpp"

#include <spikegrad/data/synthetic/coincidence.hpp>
#include <spikegrad/data/synthetic/delay.hpp>
#include <spikegrad/gamma/network.hpp>
#include <spikegrad/loss/per_step_cross_entropy.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <map>

using namespace spikegrad;
using namespace spikegrad::examples;

using lif_net = network<dense<lif>, dense<readout>>;
using lif_delay_net = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
using gamma_net = gamma_network<float, 2>;

struct settings {
    std::size_t epochs = 15, batch = 16, lif_hidden = 3, lif_hidden_delay = 16, gamma_hidden = 6,
                gamma_hidden_delay = 16;
    double lr = 2e-3, tau_lr = 0.05, delay_lr = 0.05, gamma_lr = 3e-2, theta = 1, lif_init_delay = 1,
           gamma_clip = 0, gamma_bias_delay = 0.1, gamma_lr_delay = 1e-2, gamma_cosine = -1;
    int threads = 1;
    progress_mode progress = progress_mode::quiet;
    gamma_training training = gamma_training::online_exact;
};

struct task_setup {
    std::string name;
    spike_dataset data;
    double duration_ms = 0, max_delay_ms = 15, loss_from = 0.1, lif_init_scale = 1;
    std::size_t lif_hidden = 3, gamma_hidden = 6;
    double gamma_lr = 3e-2;
    gamma_layer_options hidden, out;
};

struct measured {
    double accuracy = 0, validation_accuracy = 0, spikes_per_sample = 0, input_spikes_per_sample = 0, seconds_per_sample = 0;
    std::size_t state_bytes = 0;
};

static double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Bytes surrogate BPTT holds per sample in training: the tape of one sample (traces, spikes,
/// delayed spikes) plus the engine's four [T, width] scratch rows.
template <class Net>
std::size_t bptt_state_bytes(const Net& net, const event_batch& one, std::size_t width) {
    typename Net::tape tape;
    net.forward(one, tape);
    std::size_t bytes = 4 * one.n_steps * width * sizeof(float);
    for (const auto& layer : tape[0]) {
        bytes += layer.trace.size() * sizeof(float);
        for (const auto* train : {&layer.spikes, &layer.delayed})
            bytes += train->offsets.size() * sizeof(std::size_t) + train->units.size() * 4 +
                     train->values.size() * sizeof(float);
    }
    return bytes;
}

template <class Net>
measured train_lif(const settings& o, const task_setup& task, const splits& data, std::uint64_t seed) {
    typename std::tuple_element_t<0, typename Net::layer_specs>::options h;
    h.neuron = {.tau_ms = 20, .train_tau = tau_training::shared, .tau_min_ms = 10, .tau_max_ms = 100};
    h.init_scale = task.lif_init_scale;
    if constexpr (std::tuple_element_t<0, typename Net::layer_specs>::delayed)
        h.delay = {.max_ms = task.max_delay_ms};
    const double dt = data.train.dt_ms;
    Net net({data.train.n_units, task.lif_hidden, data.train.n_classes},
            {.dt_ms = dt, .seed = seed, .threads = o.threads}, h,
            {.neuron = {.tau_ms = 500, .train_tau = tau_training::shared, .tau_min_ms = 10,
                        .tau_max_ms = 5000}});
    const auto start = std::chrono::steady_clock::now();
    const auto result = train_and_test<Net, final_membrane_cross_entropy, nadam>(
        net, data, {.lr = o.lr, .epochs = o.epochs, .batch = o.batch, .seed = seed,
                    .progress = o.progress},
        {}, {}, {{.kind = parameter_kind::time_constant, .lr = o.tau_lr},
                 {.kind = parameter_kind::delay, .lr = o.delay_lr}});
    measured m;
    m.seconds_per_sample = since(start) / double(o.epochs * data.train.n_samples);
    m.accuracy = result.test_accuracy;
    m.validation_accuracy = result.validation_accuracy;
    net.evaluate(data.test, final_membrane_cross_entropy{});
    m.spikes_per_sample = double(net.activity()[0].spikes()) / double(data.test.n_samples);
    const std::size_t first = 0;
    m.state_bytes = bptt_state_bytes(net, data.train.select(std::span(&first, 1)),
                                     std::max(task.lif_hidden, data.train.n_classes));
    return m;
}

measured train_gamma(const settings& o, const task_setup& task, const splits& data, std::uint64_t seed) {
    gamma_net net({data.train.n_units, task.gamma_hidden, data.train.n_classes},
                  {.dt_ms = data.train.dt_ms, .seed = seed, .threads = o.threads,
                   .training = o.training, .coder = {.theta = o.theta}},
                  {task.hidden, task.out});
    const per_step_cross_entropy loss{.from = task.loss_from};
    const auto start = std::chrono::steady_clock::now();
    const auto result = train_and_test<gamma_net, per_step_cross_entropy, adam>(
        net, data, {.lr = task.gamma_lr, .epochs = o.epochs, .batch = o.batch, .seed = seed,
                    .cosine_floor = o.gamma_cosine, .clip_norm = o.gamma_clip,
                    .progress = o.progress}, loss);
    measured m;
    m.seconds_per_sample = since(start) / double(o.epochs * data.train.n_samples);
    m.accuracy = result.test_accuracy;
    m.validation_accuracy = result.validation_accuracy;
    net.evaluate(data.test, loss);
    m.spikes_per_sample = double(net.activity()[0].spikes()) / double(data.test.n_samples);
    m.state_bytes = net.training_state_bytes(data.train.n_steps);
    return m;
}

int main(int argc, char** argv) {
    CLI::App app{"SpikingGamma vs surrogate BPTT across the step length dt"};
    std::string out = "results/gamma_resolution";
    std::vector<double> dts = {1, 0.5, 0.25, 0.1};
    std::vector<std::string> tasks = {"coincidence", "delay"}, models = {"gamma", "lif", "lif_delay"};
    std::size_t seeds = 1, per_class = 40;
    double coincidence_ms = 500;
    settings o;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--dts", dts, "step lengths, ms")->delimiter(',')->capture_default_str();
    app.add_option("--tasks", tasks, "coincidence, delay")->delimiter(',')->capture_default_str();
    app.add_option("--models", models, "gamma, lif, lif_delay")->delimiter(',')->capture_default_str();
    app.add_option("--seeds", seeds, "runs per setting")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--samples-per-class", per_class, "samples of each class (train 60%)")->capture_default_str();
    app.add_option("--coincidence-ms", coincidence_ms, "coincidence sample length, ms (paper: 1000)")->capture_default_str();
    app.add_option("--epochs", o.epochs, "training epochs")->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")->capture_default_str();
    app.add_option("--gamma-hidden", o.gamma_hidden, "hidden SpikingGamma neurons, coincidence task")->capture_default_str();
    app.add_option("--gamma-hidden-delay", o.gamma_hidden_delay, "hidden SpikingGamma neurons, delay task")->capture_default_str();
    app.add_option("--lif-hidden", o.lif_hidden, "hidden LIF neurons, coincidence task")->capture_default_str();
    app.add_option("--lif-hidden-delay", o.lif_hidden_delay, "hidden LIF neurons, delay task")->capture_default_str();
    app.add_option("--lif-init-delay", o.lif_init_delay, "LIF weights ~ U(+-s / sqrt(n_in)), delay task")->capture_default_str();
    app.add_option("--gamma-lr", o.gamma_lr, "Adam learning rate of SpikingGamma, coincidence task")->capture_default_str();
    app.add_option("--gamma-lr-delay", o.gamma_lr_delay, "Adam learning rate of SpikingGamma, delay task")->capture_default_str();
    app.add_option("--gamma-clip", o.gamma_clip, "SpikingGamma: clip the global gradient norm (0: off)")->capture_default_str();
    app.add_option("--gamma-bias-delay", o.gamma_bias_delay, "SpikingGamma: initial hidden bias, delay task (against dead ReLUs)")->capture_default_str();
    app.add_option("--gamma-cosine", o.gamma_cosine, "SpikingGamma: cosine schedule floor (negative: off)")->capture_default_str();
    app.add_option("--lr", o.lr, "Nadam learning rate of the LIF weights")->capture_default_str();
    app.add_option("--theta", o.theta, "sigma-delta quantum")->capture_default_str();
    app.add_option("--threads", o.threads, "threads (0: all cores)")->capture_default_str();
    bool verbose = false;
    std::string training = "online_exact";
    app.add_option("--gamma-training", training, "online_exact, online_instantaneous or unrolled")
        ->capture_default_str();
    app.add_flag("--verbose", verbose, "one line per training epoch");
    CLI11_PARSE(app, argc, argv);
    if (verbose) o.progress = progress_mode::lines;
    if (training == "online_exact") o.training = gamma_training::online_exact;
    else if (training == "online_instantaneous") o.training = gamma_training::online_instantaneous;
    else if (training == "unrolled") o.training = gamma_training::unrolled;
    else {
        std::fprintf(stderr, "gamma_resolution: unknown --gamma-training '%s'\n", training.c_str());
        return 1;
    }

    try {
        prepare_output(out);
        run_record record("gamma_resolution", argc, argv);
        record["dts_ms"] = dts;
        record["seeds"] = seeds;
        record["samples_per_class"] = per_class;
        record["epochs"] = o.epochs;
        record["batch"] = o.batch;
        record["threads"] = o.threads;
        record["gamma"] = json::object{{"hidden_coincidence", o.gamma_hidden}, {"hidden_delay", o.gamma_hidden_delay}, {"lr_coincidence", o.gamma_lr}, {"lr_delay", o.gamma_lr_delay}, {"theta", o.theta}, {"clip_norm", o.gamma_clip}, {"hidden_bias_init_delay", o.gamma_bias_delay}, {"cosine_floor", o.gamma_cosine},
                                       {"training", to_string(o.training)}, {"optimizer", "adam"},
                                       {"loss", "per-step cross-entropy"}};
        record["lif"] = json::object{{"hidden_coincidence", o.lif_hidden}, {"hidden_delay", o.lif_hidden_delay}, {"init_scale_delay", o.lif_init_delay}, {"lr", o.lr}, {"tau_lr", o.tau_lr},
                                     {"delay_lr", o.delay_lr}, {"optimizer", "nadam"},
                                     {"loss", "cross-entropy on the final readout membrane"}};
        record.save(out);
        io::csv_writer results({"task", "model", "dt_ms", "steps", "seed", "test_accuracy", "validation_accuracy",
                                "hidden_spikes_per_sample", "input_spikes_per_sample",
                                "state_bytes_per_sample", "train_seconds_per_sample"});
        std::map<std::string, std::vector<double>> curves[3];  // accuracy, memory, time
        for (const auto& name : tasks) {
            for (std::size_t s = 0; s < seeds; ++s) {
                task_setup task;
                task.name = name;
                if (name == "coincidence") {
                    task.data = make_coincidence_task({.n_steps = std::size_t(coincidence_ms),
                                                       .samples_per_class = per_class, .seed = 42 + s}).data;
                    task.duration_ms = coincidence_ms;
                    task.lif_hidden = o.lif_hidden;
                    task.hidden = {.buckets = 2, .tau_ms = 2};
                    task.gamma_hidden = o.gamma_hidden;
                    task.gamma_lr = o.gamma_lr;
                    task.out = {.buckets = 4, .tau_ms = 50};
                } else if (name == "delay") {
                    task.data = make_delay_task({.samples_per_class = per_class, .seed = 42 + s});
                    task.duration_ms = 200;
                    task.max_delay_ms = 50;
                    task.lif_hidden = o.lif_hidden_delay;
                    task.lif_init_scale = o.lif_init_delay;
                    task.loss_from = 0.6;
                    task.hidden = {.buckets = 6, .tau_ms = 8, .weights = bucket_weights::per_synapse,
                                   .bias_init = o.gamma_bias_delay};
                    task.gamma_hidden = o.gamma_hidden_delay;
                    task.gamma_lr = o.gamma_lr_delay;
                    task.out = {.buckets = 4, .tau_ms = 20};
                } else {
                    raise<option_error>("gamma_resolution: unknown task '", name, "'");
                }
                const auto parts = split_by_fraction(task.data.size(), {.seed = 42 + s});
                for (double dt : dts) {
                    const auto steps = std::size_t(std::llround(task.duration_ms / dt));
                    const auto data = split_events(bin_events(task.data, {.dt_ms = dt, .n_steps = steps}), parts);
                    const double input_spikes = double(data.test.n_events()) / double(data.test.n_samples);
                    for (const auto& model : models) {
                        measured m;
                        if (model == "gamma") m = train_gamma(o, task, data, 100 + s);
                        else if (model == "lif") m = train_lif<lif_net>(o, task, data, 100 + s);
                        else if (model == "lif_delay") m = train_lif<lif_delay_net>(o, task, data, 100 + s);
                        else raise<option_error>("gamma_resolution: unknown model '", model, "'");
                        m.input_spikes_per_sample = input_spikes;
                        results.row(name, model, dt, steps, s, m.accuracy, m.validation_accuracy, m.spikes_per_sample,
                                    m.input_spikes_per_sample, m.state_bytes, m.seconds_per_sample);
                        results.save(out + "/results.csv");
                        const std::string key = name + "/" + model;
                        if (s == 0) {
                            curves[0][key].push_back(100 * m.accuracy);
                            curves[1][key].push_back(double(m.state_bytes) / 1024);
                            curves[2][key].push_back(1000 * m.seconds_per_sample);
                        }
                        log("%s dt %.2f ms (T %zu) %-9s seed %zu: test %.1f%%, %.1f hidden spikes/sample, "
                            "%.1f KiB state, %.2f ms/sample", name.c_str(), dt, steps, model.c_str(), s,
                            100 * m.accuracy, m.spikes_per_sample, double(m.state_bytes) / 1024,
                            1000 * m.seconds_per_sample);
                    }
                }
            }
        }
        results.save(out + "/results.csv");

        svg::figure fig({.rows = 1, .cols = 3, .width = 1250, .height = 420,
                         .title = "SpikingGamma (online) vs surrogate BPTT across dt (seed 0)",
                         .panel_letters = true});
        const char* ylabels[3] = {"test accuracy (%)", "training state per sample (KiB)",
                                  "training time per sample (ms)"};
        for (int p = 0; p < 3; ++p) {
            auto& ax = fig.panel(0, p);
            ax.set({.xlabel = "dt (ms)", .ylabel = ylabels[p], .xscale = svg::scale::log,
                    .yscale = p == 0 ? svg::scale::linear : svg::scale::log});
            for (const auto& [key, ys] : curves[p]) {
                std::vector<double> xs(dts.begin(), dts.begin() + std::ptrdiff_t(ys.size()));
                const bool gamma = key.find("gamma") != std::string::npos;
                ax.line(xs, ys, {.label = key, .dash = key.rfind("delay/", 0) == 0 ? "dashed" : "",
                                 .marker = gamma ? svg::marker_shape::circle : svg::marker_shape::square});
            }
        }
        fig.save(out + "/resolution.svg");
        std::printf("gamma_resolution: results in %s (results.csv, resolution.svg, settings.json)\n", out.c_str());
    } catch (const spikegrad::error& e) {
        std::fprintf(stderr, "gamma_resolution: %s\n", e.what());
        return 1;
    }
    return 0;
}

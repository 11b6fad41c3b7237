// export_firmware: a trained checkpoint as a firmware model header (constexpr arrays for
// spikegrad/firmware/engine.hpp), with the quantisation error of each layer and the accuracy of
// every number format on the test set, run by the firmware kernels on this machine.
//
//     quickstart                                   # trains, writes isi_quickstart.ckpt
//     export_firmware --checkpoint isi_quickstart.ckpt --format int8 --out model.hpp
//
// The network is the quickstart's (examples/quickstart.cpp: ISI task, 10 -> 100 -> 2, final
// readout membrane), and the test set is the quickstart's test split, regenerated from its
// seed. Writes <out-dir>/accuracy.csv (one row per format and decay) and quantisation.csv.
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/split.hpp>
#include <spikegrad/data/synthetic/isi.hpp>
#include <spikegrad/firmware/export.hpp>
#include <spikegrad/spikegrad.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

using namespace spikegrad;

int main(int argc, char** argv) {
    CLI::App app{"export_firmware: a checkpoint of the quickstart's network as a firmware model"};
    std::string checkpoint = "isi_quickstart.ckpt", out = "model.hpp", out_dir = ".",
                format = "int8", decay = "multiply", name = "spikegrad_model";
    std::size_t points = 2000;
    int decay_bits = 15;
    app.add_option("--checkpoint", checkpoint, "checkpoint written by quickstart");
    app.add_option("--out", out, "model header to write");
    app.add_option("--out-dir", out_dir, "folder of accuracy.csv and quantisation.csv");
    app.add_option("--format", format, "number format of the header")
        ->check(CLI::IsMember({"float32", "int16", "int8"}));
    app.add_option("--decay", decay, "fixed-point leak")->check(CLI::IsMember({"multiply", "shift"}));
    app.add_option("--decay-bits", decay_bits, "fraction bits of the multiplied leak")
        ->check(CLI::Range(1, 30));
    app.add_option("--name", name, "namespace of the generated header");
    app.add_option("--points", points, "ISI points (the quickstart's 2000: the same test split)");
    CLI11_PARSE(app, argc, argv);

    try {
        // The quickstart's data and network (examples/quickstart.cpp).
        const auto task = make_isi_task({.n_points = points});
        const event_batch events = bin_events(task.data, {.dt_ms = 1.0});
        const auto test = events.select(split_by_fraction(events.n_samples).test);
        using net_t = network<dense<lif, fast_sigmoid>, dense<readout>>;
        net_t net({10, 100, 2}, {.dt_ms = events.dt_ms, .seed = 1},
                  {.neuron = {.tau_ms = 50, .train_tau = tau_training::shared, .tau_min_ms = 10,
                              .tau_max_ms = 200}},
                  {.neuron = {.tau_ms = 500}});
        load_checkpoint(checkpoint, net);

        std::vector<int> host;
        const auto stats = net.evaluate(test, final_membrane_cross_entropy{}, &host);
        std::size_t host_correct = 0;
        for (std::size_t b = 0; b < test.n_samples; ++b) host_correct += host[b] == test.labels[b];
        std::printf("host float engine: test accuracy %.2f%% (%zu samples)\n",
                    100.0 * double(host_correct) / double(test.n_samples), test.n_samples);
        (void)stats;

        std::filesystem::create_directories(out_dir);
        std::FILE* acc = std::fopen((out_dir + "/accuracy.csv").c_str(), "w");
        std::FILE* quant = std::fopen((out_dir + "/quantisation.csv").c_str(), "w");
        if (!acc || !quant) raise<io_error>("export_firmware: cannot write in ", out_dir);
        std::fprintf(acc, "format,decay,decay_bits,accuracy,host_accuracy,agreement_with_host\n");
        std::fprintf(quant, "format,decay,layer,scale,weight_max,weight_rms,bias_max,"
                            "threshold_max,beta_max\n");
        using firmware::decay_kind;
        using firmware::number_format;
        const std::pair<number_format, decay_kind> variants[] = {
            {number_format::float32, decay_kind::multiply}, {number_format::int16, decay_kind::multiply},
            {number_format::int16, decay_kind::shift},      {number_format::int8, decay_kind::multiply},
            {number_format::int8, decay_kind::shift}};
        const auto decay_name = [](decay_kind d) { return d == decay_kind::shift ? "shift" : "multiply"; };
        std::printf("%-8s %-8s %9s %10s  max |weight error| per layer\n", "format", "decay",
                    "accuracy", "agreement");
        for (auto [f, d] : variants) {
            const firmware_options o{.format = f, .decay = d, .decay_bits = decay_bits,
                                     .rule = firmware::score_rule::last, .name = name};
            const auto model = make_firmware_model(net, o);
            const auto scored = firmware_accuracy(model, test, &host);
            const char* fname = detail::format_name(f);
            std::fprintf(acc, "%s,%s,%d,%.6f,%.6f,%.6f\n", fname, decay_name(d), decay_bits,
                         scored.accuracy(),
                         double(host_correct) / double(test.n_samples),
                         double(scored.agree) / double(scored.samples));
            std::printf("%-8s %-8s %8.2f%% %9.2f%% ", fname, decay_name(d), 100 * scored.accuracy(),
                        100.0 * double(scored.agree) / double(scored.samples));
            for (std::size_t k = 0; k < model.layers.size(); ++k) {
                const auto& L = model.layers[k];
                const auto& e = L.error;
                std::fprintf(quant, "%s,%s,%zu,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", fname,
                             decay_name(d), k, double(L.scale), e.weight_max, e.weight_rms,
                             e.bias_max, e.threshold_max, e.beta_max);
                std::printf(" %.3g", e.weight_max);
            }
            std::printf("\n");
            if (detail::format_name(f) == format && (f == number_format::float32 ||
                                                     decay_name(d) == decay)) {
                write_firmware_header(model, out);
                std::printf("  -> wrote %s\n", out.c_str());
            }
        }
        std::fclose(acc);
        std::fclose(quant);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "export_firmware: %s\n", e.what());
        return 1;
    }
    return 0;
}

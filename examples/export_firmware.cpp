// export_firmware: a trained checkpoint as a firmware model header (constexpr arrays for
// spikegrad/firmware/engine.hpp), with the quantisation error of each layer and the accuracy of
// every number format on a test set, run by the firmware kernels on this machine.
//
//     quickstart                                   # trains, writes isi_quickstart.ckpt
//     export_firmware --checkpoint isi_quickstart.ckpt --format int8 --out model.hpp
//     shd_timing --split files --variants whole ... # writes models/*.ckpt
//     export_firmware --checkpoint models/whole_sgd_delay_f0.00_seed0.ckpt --loss ce_mean
//                     --test shd_test.h5 --out model.hpp
//
// The network is rebuilt from the checkpoint alone (train/from_checkpoint.hpp): its type is the
// one of the list below whose architecture the file records (the quickstart's and every
// network shd_timing trains: one or two hidden LIF layers, with or without axonal delays, a
// leaky readout or spiking outputs); sizes, dt and settings come from the file. The test set is
// an SHD-layout file (--test, binned at the checkpoint's dt into --steps steps) or, without
// --test, the quickstart's ISI test split regenerated from its seed. The loss is not recorded
// in a checkpoint: --loss names the one it was trained with (its score rule is exported).
// Writes <out-dir>/accuracy.csv (one row per format and decay) and quantisation.csv.
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/split.hpp>
#include <spikegrad/data/synthetic/isi.hpp>
#include <spikegrad/firmware/export.hpp>
#include <spikegrad/spikegrad.hpp>
#include <spikegrad/train/from_checkpoint.hpp>
#ifdef SPIKEGRAD_EXAMPLES_HDF5
#include <spikegrad/data/shd.hpp>
#endif

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

using namespace spikegrad;

namespace {

using plain = dense<lif, fast_sigmoid>;
using delayed = dense<lif, fast_sigmoid, axonal_delay>;
/// The networks this tool rebuilds: the quickstart's and shd_timing's.
using known_networks =
    std::tuple<network<plain, dense<readout>>, network<delayed, dense<readout>>,
               network<plain, plain, dense<readout>>, network<delayed, delayed, dense<readout>>,
               network<plain, plain, dense<lif>>, network<delayed, delayed, dense<lif>>>;

/// Calls f(type_tag<Net>) for the known network type whose architecture the file records;
/// returns false when none does.
template <std::size_t I = 0, class F>
bool with_network_type(const checkpoint_info& info, F&& f) {
    if constexpr (I == std::tuple_size_v<known_networks>) {
        return false;
    } else {
        using net_t = std::tuple_element_t<I, known_networks>;
        std::vector<std::size_t> sizes;
        try {
            sizes = detail::sizes_from(info, net_t::depth, "");
        } catch (const data_error&) {
            return with_network_type<I + 1>(info, f);
        }
        if (net_t::architecture_of(sizes) != info.architecture)
            return with_network_type<I + 1>(info, f);
        f(std::type_identity<net_t>{});
        return true;
    }
}

/// The loss a checkpoint was trained with, as the firmware's score rule and the host's
/// evaluation.
struct trained_loss {
    std::string name;
    firmware::score_rule rule;
};

trained_loss parse_loss(const std::string& name) {
    using firmware::score_rule;
    if (name == "ce_final") return {name, score_rule::last};
    if (name == "ce_max") return {name, score_rule::max};
    if (name == "ce_mean") return {name, score_rule::mean};
    if (name == "spikemax" || name == "spike_rate") return {name, score_rule::count};
    raise<option_error>("--loss ", name, ": expected ce_final, ce_max, ce_mean, spikemax or spike_rate");
}

/// f(loss object) for the named loss; membrane losses need a readout, count losses spikes.
template <bool SpikingOutput, class F>
void with_loss(const trained_loss& loss, F&& f) {
    if constexpr (SpikingOutput) {
        if (loss.name == "spikemax") return f(spikemax{});
        if (loss.name == "spike_rate") return f(spike_rate{});
        raise<option_error>("--loss ", loss.name, ": this network has spiking outputs (spikemax or spike_rate)");
    } else {
        if (loss.name == "ce_final") return f(final_membrane_cross_entropy{});
        if (loss.name == "ce_max") return f(max_membrane_cross_entropy{});
        if (loss.name == "ce_mean") return f(mean_membrane_cross_entropy{});
        raise<option_error>("--loss ", loss.name, ": this network has a readout (ce_final, ce_max or ce_mean)");
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"export_firmware: a trained checkpoint as a firmware model, with each number "
                 "format's accuracy"};
    std::string checkpoint = "isi_quickstart.ckpt", out = "model.hpp", out_dir = ".",
                format = "int8", decay = "multiply", name = "spikegrad_model", loss_name = "ce_final",
                test_file;
    std::size_t points = 2000, steps = 100;
    int decay_bits = 15;
    app.add_option("--checkpoint", checkpoint, "checkpoint (quickstart's or shd_timing's)");
    app.add_option("--out", out, "model header to write");
    app.add_option("--out-dir", out_dir, "folder of accuracy.csv and quantisation.csv");
    app.add_option("--format", format, "number format of the header")
        ->check(CLI::IsMember({"float32", "int16", "int8"}));
    app.add_option("--decay", decay, "fixed-point leak")->check(CLI::IsMember({"multiply", "shift"}));
    app.add_option("--decay-bits", decay_bits, "fraction bits of the multiplied leak")
        ->check(CLI::Range(1, 30));
    app.add_option("--name", name, "namespace of the generated header");
    app.add_option("--loss", loss_name,
                   "loss the checkpoint was trained with: ce_final (quickstart), ce_max, ce_mean "
                   "(shd_timing's default), spikemax, spike_rate");
    app.add_option("--test", test_file,
                   "SHD-layout test file (binned at the checkpoint's dt); none: the quickstart's ISI test split");
    app.add_option("--steps", steps, "steps of the --test file's samples")->check(CLI::PositiveNumber);
    app.add_option("--points", points, "ISI points (the quickstart's 2000: the same test split)");
    CLI11_PARSE(app, argc, argv);

    try {
        const trained_loss loss = parse_loss(loss_name);
        const checkpoint_info info = read_checkpoint_info(checkpoint);
        const double dt_ms = detail::recorded_number(info.settings, "dt_ms");
        std::printf("checkpoint %s: %s, dt %g ms\n", checkpoint.c_str(), info.architecture.c_str(), dt_ms);
        event_batch test;
        if (!test_file.empty()) {
#ifdef SPIKEGRAD_EXAMPLES_HDF5
            const auto* first = info.shape_of("layer0.weight");
            const auto file = read_shd(test_file, {.n_units = first ? first->at(0) : 0});
            test = bin_events(file.data, {.dt_ms = dt_ms, .n_steps = steps});
#else
            raise<option_error>("--test needs HDF5: this build of export_firmware has no SHD reader");
#endif
        } else {
            // The quickstart's data (examples/quickstart.cpp): its test split.
            const auto task = make_isi_task({.n_points = points});
            const event_batch events = bin_events(task.data, {.dt_ms = 1.0});
            test = events.select(split_by_fraction(events.n_samples).test);
        }
        const std::size_t inputs = info.shape_of("layer0.weight") ? info.shape_of("layer0.weight")->at(0) : 0;
        if (test.n_units != inputs)
            raise<data_error>("the test set has ", test.n_units, " input units, the checkpoint's network ",
                              inputs, (test_file.empty() ? " (without --test: the quickstart's ISI data)" : ""));
        const bool found = with_network_type(info, [&]<class Net>(std::type_identity<Net>) {
            const Net net = network_from_checkpoint<Net>(checkpoint);
            with_loss<Net::spiking_output>(loss, [&](const auto& host_loss) {
                std::vector<int> host;
                (void)net.evaluate(test, host_loss, &host);
                std::size_t host_correct = 0;
                for (std::size_t b = 0; b < test.n_samples; ++b) host_correct += host[b] == test.labels[b];
                std::printf("host float engine: test accuracy %.2f%% (%zu samples, loss %s)\n",
                            100.0 * double(host_correct) / double(test.n_samples), test.n_samples,
                            loss.name.c_str());
                std::filesystem::create_directories(out_dir);
                using file_ptr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;
                const file_ptr acc_file(std::fopen((out_dir + "/accuracy.csv").c_str(), "w"), &std::fclose);
                const file_ptr quant_file(std::fopen((out_dir + "/quantisation.csv").c_str(), "w"), &std::fclose);
                std::FILE* acc = acc_file.get();
                std::FILE* quant = quant_file.get();
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
                                             .rule = loss.rule, .name = name};
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
            });
        });
        if (!found)
            raise<option_error>("checkpoint ", checkpoint, " holds a ", info.architecture,
                                ", which is none of the networks this tool knows (the quickstart's "
                                "and shd_timing's); use export_firmware(net, path) in C++");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "export_firmware: %s\n", e.what());
        return 1;
    }
    return 0;
}

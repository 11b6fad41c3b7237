// NIR in and out (io/nir.hpp): the reference files other frameworks wrote (tests/data/nir,
// provenance in its README) against an independent NumPy simulation of the NIR equations
// (tests/nir/nir_reference.py) and against the NIR paper's own traces; a file written by h5py
// by hand; round trips of our networks; the typed errors naming the node.
#include <spikegrad/io/nir.hpp>
#include <spikegrad/io/npy.hpp>
#include <spikegrad/io/csv.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace spikegrad;

const std::string data_dir = std::string(SPIKEGRAD_TEST_DATA_DIR) + "/data/nir/";
const std::string script = std::string(SPIKEGRAD_TEST_DATA_DIR) + "/nir/nir_reference.py";

const fs::path& scratch() {
    struct folder {
        fs::path path = fs::temp_directory_path() / ("spikegrad-test-nir-" + std::to_string(::getpid()));
        folder() { fs::create_directories(path); }
        ~folder() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    };
    static folder instance;
    return instance.path;
}

std::string python(const std::string& arguments) {
    const std::string log = (scratch() / "python.log").string();
    const std::string command = std::string(SPIKEGRAD_SYSTEM_PYTHON) + " " + script + " " +
                                arguments + " > " + log + " 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_MESSAGE(status == 0, "nir_reference.py " << arguments << " failed:\n" << output);
    return output;
}

/// Input currents [T, n]: each unit carries value `value` with probability p per step.
tensor<double, 2> random_input(std::size_t T, std::size_t n, double p, double value,
                               std::uint64_t seed) {
    rng random(seed);
    tensor<double, 2> x = zeros<double, 2>({T, n});
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t j = 0; j < n; ++j)
            if (random.uniform(0.0, 1.0) < p)  // a float: the events carry floats
                x(t, j) = static_cast<float>(value * random.uniform(0.5, 1.5));
    return x;
}

event_batch batch_of(const tensor<double, 2>& x) {
    const std::size_t T = x.shape(0), n = x.shape(1);
    event_batch batch(T, n);
    std::vector<std::uint32_t> steps, units;
    std::vector<float> values;
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t j = 0; j < n; ++j)
            if (x(t, j) != 0) {
                steps.push_back(static_cast<std::uint32_t>(t));
                units.push_back(static_cast<std::uint32_t>(j));
                values.push_back(static_cast<float>(x(t, j)));
            }
    batch.add_sample(steps, units, values);
    return batch;
}

/// Every layer's trace (v - theta for spiking layers, v for a readout) of sample 0, [T, n].
template <class Net>
std::vector<tensor<double, 2>> traces(const Net& net, const event_batch& batch) {
    typename Net::tape kept;
    net.forward(batch, kept);
    std::vector<tensor<double, 2>> out;
    const std::size_t T = batch.n_steps;
    for (std::size_t k = 0; k < Net::depth; ++k) {
        const std::size_t n = net.sizes()[k + 1];
        tensor<double, 2> trace = zeros<double, 2>({T, n});
        for (std::size_t i = 0; i < T * n; ++i) trace.data()[i] = kept[0][k].trace[i];
        out.push_back(trace);
    }
    return out;
}

std::string method_name(nir_discretisation d) {
    return d == nir_discretisation::exact ? "exact" : "forward_euler";
}

/// Runs the NumPy simulation of `file` on input x and compares every layer's trace with
/// ours: membranes within `tolerance` (relative to 1 + |v|), spikes (x >= 0) identical
/// wherever the reference is not within `tolerance` of the threshold.
template <class Net>
void check_against_numpy(const Net& net, const std::string& file, const tensor<double, 2>& x,
                         double dt_ms, nir_discretisation method, double tolerance) {
    const fs::path out = scratch() / ("ref_" + fs::path(file).stem().string() + "_" +
                                      method_name(method));
    fs::create_directories(out);
    const std::string input = (out / "input.npy").string();
    io::save_npy(input, x);
    python("run " + file + " " + input + " " + detail::message(dt_ms) + " " + method_name(method) +
           " " + out.string());
    const auto ours = traces(net, batch_of(x));
    for (std::size_t k = 0; k < Net::depth; ++k) {
        const auto reference = io::load_npy<double, 2>((out / ("layer" + std::to_string(k) + ".npy")).string());
        REQUIRE(reference.shape(0) == ours[k].shape(0));
        REQUIRE(reference.shape(1) == ours[k].shape(1));
        double worst = 0;
        std::size_t spike_mismatches = 0, spikes = 0;
        for (std::size_t i = 0; i < reference.size(); ++i) {
            const double r = reference.data()[i], o = ours[k].data()[i];
            worst = std::max(worst, std::abs(r - o) / (1 + std::abs(r)));
            if (std::abs(r) > tolerance && (r > 0) != (o >= 0)) ++spike_mismatches;
            spikes += r > 0;
        }
        INFO(file << " (" << method_name(method) << "), layer " << k << ": worst relative "
                  << "difference " << worst << ", " << spikes << " reference spikes");
        CHECK(worst <= tolerance);
        CHECK(spike_mismatches == 0);
    }
}

using one_lif = basic_network<double, dense<lif>>;
using two_lif = basic_network<double, dense<lif>, dense<lif>>;
using delayed_cuba = basic_network<double, dense<cuba_lif, fast_sigmoid, axonal_delay>, dense<readout>>;
using round_trip_net = network<dense<lif, fast_sigmoid, axonal_delay>, dense<cuba_lif>, dense<readout>>;

/// lif_exact.csv / lif_norse.csv: columns input, membrane after the reset, spike.
tensor<double, 2> paper_trace(const std::string& name) {
    std::ifstream in(data_dir + name);
    REQUIRE_MESSAGE(in.good(), "cannot open " << data_dir << name);
    std::vector<double> values;
    std::string line;
    std::size_t rows = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::size_t start = 0;
        for (int c = 0; c < 3; ++c) {
            const std::size_t comma = line.find(',', start);
            values.push_back(std::stod(line.substr(start, comma - start)));
            start = comma + 1;
        }
        ++rows;
    }
    tensor<double, 2> out = zeros<double, 2>({rows, 3});
    std::copy(values.begin(), values.end(), out.data());
    return out;
}

/// Our membrane after the reset (0 at a spike step) and our spikes for lif_norse.nir.
void run_paper_lif(nir_discretisation method, const tensor<double, 2>& csv,
                   std::vector<double>& v, std::vector<int>& spikes) {
    const auto net = read_nir<one_lif>(data_dir + "lif_norse.nir",
                                       nir_options{.dt_ms = 0.1, .discretisation = method});
    tensor<double, 2> x = zeros<double, 2>({csv.shape(0), std::size_t(1)});
    for (std::size_t t = 0; t < csv.shape(0); ++t) x(t, 0) = csv(t, 0);
    const auto trace = traces(net, batch_of(x)).front();
    const double theta = 0.1;  // the file's v_threshold
    for (std::size_t t = 0; t < csv.shape(0); ++t) {
        const bool spike = trace(t, 0) >= 0;
        spikes.push_back(spike);
        v.push_back(spike ? 0.0 : trace(t, 0) + theta);
    }
}

}  // namespace

TEST_CASE("lif_norse.nir read with the exact discretisation reproduces the NIR paper's exact LIF simulation") {
    const auto csv = paper_trace("lif_exact.csv");
    std::vector<double> v;
    std::vector<int> spikes;
    run_paper_lif(nir_discretisation::exact, csv, v, spikes);
    std::size_t first_spike = csv.shape(0), n_spikes = 0;
    for (std::size_t t = 0; t < csv.shape(0); ++t) {
        CHECK_MESSAGE(spikes[t] == static_cast<int>(csv(t, 2)), "step " << t);
        if (csv(t, 2) > 0) {
            first_spike = std::min(first_spike, t);
            ++n_spikes;
        }
    }
    CHECK(n_spikes == 4);
    // Until the first spike the step-wise exact solution is the continuous one (input held
    // over a step); after it, the continuous reset keeps what the input adds in the rest of
    // the spike's step (0.0062 at step 460, decaying): spikegrad resets to 0 at the step.
    for (std::size_t t = 0; t < first_spike; ++t)
        CHECK_MESSAGE(std::abs(v[t] - csv(t, 1)) < 1e-6, "step " << t);
    double worst = 0;
    for (std::size_t t = first_spike; t < csv.shape(0); ++t)
        worst = std::max(worst, std::abs(v[t] - csv(t, 1)));
    CHECK(worst < 0.0065);
    CHECK(worst > 0.006);  // the in-step remainder is there, and is all that differs
}

TEST_CASE("lif_norse.nir read with forward Euler reproduces Norse's own run of it") {
    const auto csv = paper_trace("lif_norse.csv");
    std::vector<double> v;
    std::vector<int> spikes;
    run_paper_lif(nir_discretisation::forward_euler, csv, v, spikes);
    for (std::size_t t = 0; t < csv.shape(0); ++t) {
        CHECK_MESSAGE(spikes[t] == static_cast<int>(csv(t, 2)), "step " << t);
        CHECK_MESSAGE(std::abs(v[t] - csv(t, 1)) < 1e-6, "step " << t);
    }
}

TEST_CASE("every feed-forward reference file runs as a NumPy simulation of its NIR equations") {
    for (const auto method : {nir_discretisation::exact, nir_discretisation::forward_euler}) {
        const nir_options o{.dt_ms = 0.1, .discretisation = method};
        for (const char* name : {"lif_norse.nir", "lif_rockpool.nir"}) {
            const auto x = random_input(600, 1, 0.08, 1.5, 1);
            check_against_numpy(read_nir<one_lif>(data_dir + name, o), data_dir + name, x, 0.1,
                                method, 1e-9);
        }
        // lif1 has v_leak 1.2 above its threshold 1: it fires on its own, and lif2 integrates.
        const auto x = random_input(600, 1, 0.05, 2.0, 2);
        check_against_numpy(read_nir<two_lif>(data_dir + "two_lif_neurons.nir", o),
                            data_dir + "two_lif_neurons.nir", x, 0.1, method, 1e-9);
    }
}

TEST_CASE("the recurrent braille graphs are refused naming the recurrent edge") {
    for (const char* name : {"braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir"}) {
        const auto graph = read_nir_graph(data_dir + name);
        try {
            (void)describe_nir(graph);
            FAIL("no error for " << name);
        } catch (const nir_error& e) {
            CHECK(e.node() == "lif1.lif");
            CHECK(std::string(e.what()).find("recurrent edge lif1.w_rec -> lif1.lif") !=
                  std::string::npos);
        }
        CHECK_THROWS_AS((void)read_nir<delayed_cuba>(data_dir + name, 1.0), nir_error);
    }
}

TEST_CASE("the convolutional sinabs graph is refused naming its first node, a Conv2d") {
    try {
        (void)read_nir<two_lif>(data_dir + "cnn_sinabs.nir", 1.0);
        FAIL("no error");
    } catch (const nir_error& e) {
        CHECK(e.node() == "0");
        CHECK(std::string(e.what()).find("type Conv2d is not supported") != std::string::npos);
    }
}

TEST_CASE("a file written by h5py by hand (CubaLIF, Delay, LI, gzip, float32) runs as NumPy's simulation of it") {
    const std::string file = (scratch() / "by_hand.nir").string();
    python("make " + file);
    for (const auto method : {nir_discretisation::exact, nir_discretisation::forward_euler}) {
        const auto net = read_nir<delayed_cuba>(file, nir_options{.dt_ms = 0.1, .discretisation = method});
        CHECK(net.sizes() == std::vector<std::size_t>{3, 4, 2});
        const auto x = random_input(400, 3, 0.2, 3.0, 3);
        check_against_numpy(net, file, x, 0.1, method, 1e-9);
    }
    // Without an axonal delay in the network type the Delay node has nowhere to go.
    using undelayed = basic_network<double, dense<cuba_lif>, dense<readout>>;
    try {
        (void)read_nir<undelayed>(file, 0.1);
        FAIL("no error");
    } catch (const nir_error& e) {
        CHECK(e.node() == "axons");
    }
    // A network of the wrong neuron type is refused naming the node.
    using wrong = basic_network<double, dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
    try {
        (void)read_nir<wrong>(file, 0.1);
        FAIL("no error");
    } catch (const nir_error& e) {
        CHECK(e.node() == "hidden");
    }
}

TEST_CASE("our network with delays written and read back gives identical outputs, and NumPy reads the file as we do") {
    network_options n{.dt_ms = 0.5, .seed = 11, .threads = 1};
    dense<lif, fast_sigmoid, axonal_delay>::options first{};
    first.neuron = {.tau_ms = 8.0, .theta = 0.6, .reset = reset_mode::zero,
                    .train_tau = training::per_neuron, .tau_min_ms = 1.0, .tau_max_ms = 50.0};
    first.delay.max_ms = 4.0;
    dense<cuba_lif>::options second{};
    second.neuron.tau_syn_ms = 2.0;
    second.neuron.membrane = {.tau_ms = 6.0, .theta = 0.4, .reset = reset_mode::zero,
                              .train_theta = training::per_neuron, .theta_min = 0.0, .theta_max = 2.0};
    second.bias = false;
    dense<readout>::options third{};
    third.neuron.tau_ms = 12.0;
    round_trip_net net({5, 6, 4, 3}, n, first, second, third);
    // Distinct per-neuron taus, thresholds and whole-step delays (so NumPy's integer shift
    // applies), and a stronger drive so that the layers spike.
    auto tau = net.parameter("layer0.tau");
    for (std::size_t j = 0; j < tau.size(); ++j) tau(j) = static_cast<float>(4.0 + 3.0 * j);
    auto theta = net.parameter("layer1.threshold");
    for (std::size_t j = 0; j < theta.size(); ++j) theta(j) = static_cast<float>(0.2 + 0.1 * j);
    auto delay = net.parameter("layer0.delay");
    for (std::size_t j = 0; j < delay.size(); ++j) delay(j) = static_cast<float>(j % 4);
    for (const char* w : {"layer0.weight", "layer1.weight"}) {
        auto weight = net.parameter(w);
        weight *= 2.0f;
    }

    const auto x = random_input(300, 5, 0.15, 1.0, 4);
    const auto batch = batch_of(x);
    const auto before = net.forward(batch);
    for (const auto method : {nir_discretisation::exact, nir_discretisation::forward_euler}) {
        const nir_options o{.dt_ms = 0.5, .discretisation = method};
        const std::string file = (scratch() / ("ours_" + method_name(method) + ".nir")).string();
        write_nir(net, file, o);
        CHECK(python("layout " + file).find("Input Affine LIF Delay Linear CubaLIF Affine LI Output") !=
              std::string::npos);
        const auto back = read_nir<round_trip_net>(file, o);
        const auto after = back.forward(batch);
        REQUIRE(after.shape() == before.shape());
        double worst = 0;
        for (std::size_t i = 0; i < before.size(); ++i)
            worst = std::max(worst, double(std::abs(after.data()[i] - before.data()[i])));
        INFO(method_name(method) << ": worst difference of the readout " << worst);
        CHECK(worst <= 1e-6);
        const auto a = traces(net, batch), b = traces(back, batch);
        for (std::size_t k = 0; k < 2; ++k) {
            std::size_t same = 0, spikes = 0;
            for (std::size_t i = 0; i < a[k].size(); ++i) {
                same += (a[k].data()[i] >= 0) == (b[k].data()[i] >= 0);
                spikes += a[k].data()[i] >= 0;
            }
            CHECK(same == a[k].size());
            CHECK(spikes > 10);
        }
        // The file on its own, simulated by NumPy from NIR's equations, is our network.
        check_against_numpy(net, file, x, 0.5, method, 2e-5);
    }
    // A fractional delay survives the trip too (NIR stores it in seconds).
    delay(1) = 1.25f;
    const std::string file = (scratch() / "fractional.nir").string();
    write_nir(net, file, 0.5);
    const auto back = read_nir<round_trip_net>(file, 0.5);
    const auto& store = back.parameters();
    CHECK(store.values(store.find("layer0.delay"))[1] == doctest::Approx(1.25).epsilon(1e-6));
    const auto g = read_nir_graph(file);
    CHECK(g.find("layer0_delay")->at("delay").values[1] == doctest::Approx(1.25 * 0.5e-3));
    // SLAYER's shift mode delays by floor(d) steps, and the file says so.
    first.delay.forward = axonal_delay::mode::shift;
    round_trip_net shifted({5, 6, 4, 3}, n, first, second, third);
    shifted.parameter("layer0.delay")(1) = 1.75f;
    const auto shifted_graph = nir_from_network(shifted, nir_options{.dt_ms = 0.5});
    CHECK(shifted_graph.find("layer0_delay")->at("delay").values[1] == doctest::Approx(0.5e-3));
}

TEST_CASE("writing a subtractive-reset LIF raises nir_error naming the layer") {
    two_lif net({2, 3, 2});  // reset_mode::subtract is the default
    try {
        write_nir(net, (scratch() / "subtract.nir").string(), 1.0);
        FAIL("no error");
    } catch (const nir_error& e) {
        CHECK(e.node() == "layer0");
        CHECK(std::string(e.what()).find("subtraction") != std::string::npos);
    }
}

TEST_CASE("a nonzero v_reset, mismatched sizes and forward Euler with dt >= tau raise nir_error naming the node") {
    auto graph = read_nir_graph(data_dir + "two_lif_neurons.nir");
    const auto edit = [&](const std::string& node, const std::string& key, nir_array value) {
        auto copy = graph;
        for (auto& n : copy.nodes)
            if (n.name == node) n.arrays[key] = std::move(value);
        return copy;
    };
    const auto expect = [](const nir_graph& g, const nir_options& o, const std::string& node,
                           const std::string& words) {
        try {
            (void)network_from_nir<two_lif>(describe_nir(g), o);
            FAIL("no error");
        } catch (const nir_error& e) {
            CHECK(e.node() == node);
            CHECK_MESSAGE(std::string(e.what()).find(words) != std::string::npos, e.what());
        }
    };
    expect(edit("lif2", "v_reset", {{1}, {0.5}}), {.dt_ms = 0.1}, "lif2", "v_reset 0.5");
    expect(edit("linear2", "weight", {{1, 2}, {1.0, 1.0}}), {.dt_ms = 0.1}, "linear2",
           "weight has 2 inputs but receives 1");
    expect(graph, {.dt_ms = 20.0, .discretisation = nir_discretisation::forward_euler}, "lif1",
           "forward Euler needs dt");
    // Written by us and read back, the graph is the same file.
    const std::string file = (scratch() / "copy.nir").string();
    write_nir_graph(graph, file);
    const auto again = read_nir_graph(file);
    CHECK(again.edges == graph.edges);
    CHECK(again.find("lif1")->at("v_leak").values == graph.find("lif1")->at("v_leak").values);
    CHECK_THROWS_AS((void)read_nir_graph((scratch() / "missing.nir").string()), io_error);
}

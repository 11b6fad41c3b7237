// The bad-input catalogue (docs/reliability.md, "Bad-input catalogue"): each case gives
// spikegrad one wrong input as a new user might (files, parameters, checkpoints, options,
// data) and asserts the typed error and the words of its message, or, for the inputs that are
// valid but unusual (zero-length samples, a batch larger than the set), what happens instead.
#include <spikegrad/spikegrad.hpp>
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/dataset.hpp>
#include <spikegrad/data/transforms.hpp>
#include <spikegrad/io/npy.hpp>
#include <spikegrad/io/parameters_npy.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using namespace spikegrad;
namespace fs = std::filesystem;

namespace {

std::string scratch(const std::string& name) {
    const auto dir = fs::temp_directory_path() / "spikegrad-bad-inputs";
    fs::create_directories(dir);
    return (dir / name).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A hand-made version-1.0 .npy file: `dict`, padded, then `data`.
std::string npy_file(const std::string& dict, const std::string& data) {
    std::string header = dict;
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xFF);
    out += static_cast<char>(header.size() >> 8);
    return out + header + data;
}

using delay_net = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;

delay_net make_delay_net(double theta = 1.0) {
    return delay_net({3, 4, 2}, {.seed = 1, .threads = 1},
                     {.neuron = {.theta = theta}, .delay = {.max_ms = 5.}}, {});
}

/// Two classes told apart by which input fires first, `samples` of them.
event_batch two_classes(std::size_t samples, std::size_t steps = 20) {
    event_batch batch(steps, 3, 2);
    for (std::size_t b = 0; b < samples; ++b) {
        const auto label = static_cast<std::int32_t>(b % 2);
        batch.add_sample(std::vector<std::uint32_t>{2, 6}, std::vector<std::uint32_t>{label == 0 ? 0u : 1u, label == 0 ? 1u : 0u}, {},
                         label);
    }
    return batch;
}

spike_dataset small_dataset(std::size_t classes = 2) {
    std::vector<std::string> names;
    for (std::size_t c = 0; c < classes; ++c) names.push_back("c" + std::to_string(c));
    return spike_dataset(4, 10, time_unit::steps, names);
}

trainer_options quiet(std::size_t epochs = 1, std::size_t batch = 4) {
    return {.lr = 1e-2, .epochs = epochs, .batch = batch, .progress = progress_mode::quiet};
}

}  // namespace

// --- files ---------------------------------------------------------------------------------

TEST_CASE("bad input: a CSV file given as .npy") {
    const auto path = scratch("csv.npy");
    write_bytes(path, "a,b\n1,2\n");
    CHECK_THROWS_WITH_AS(io::load_npy_any(path), doctest::Contains("not a .npy file"), io_error);
}

TEST_CASE("bad input: a .npy file cut short") {
    const auto path = scratch("cut.npy");
    io::save_npy(path, tensor<double, 2>({3, 4}, 1.0));
    std::string bytes = io::read_file(path);
    write_bytes(path, bytes.substr(0, bytes.size() - 5));
    CHECK_THROWS_WITH_AS((io::load_npy<double, 2>(path)), doctest::Contains("truncated"), io_error);
}

TEST_CASE("bad input: a .npy header that claims 8 TB of data") {
    const auto path = scratch("huge.npy");
    write_bytes(path, npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }",
                               std::string(16, '\0')));
    CHECK_THROWS_WITH_AS(io::load_npy_any(path), doctest::Contains("header promises 8000000000000 data bytes"),
                         io_error);
}

TEST_CASE("bad input: a Fortran-order .npy file") {
    const auto path = scratch("fortran.npy");
    write_bytes(path, npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                               std::string(32, '\0')));
    CHECK_THROWS_WITH_AS((io::load_npy<double, 2>(path)), doctest::Contains("fortran_order is True"),
                         io_error);
}

TEST_CASE("bad input: a big-endian .npy file") {
    const auto path = scratch("big-endian.npy");
    write_bytes(path, npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
                               std::string(16, '\0')));
    CHECK_THROWS_WITH_AS(io::load_npy_any(path), doctest::Contains("big-endian dtype '>f8' is not supported"),
                         io_error);
}

TEST_CASE("bad input: a .npy file of another rank than asked for") {
    const auto path = scratch("rank.npy");
    io::save_npy(path, tensor<float, 1>({5}, 1.f));
    CHECK_THROWS_WITH_AS((io::load_npy<float, 2>(path)), doctest::Contains("rank mismatch"), io_error);
}

TEST_CASE("bad input: a .npy file that does not exist") {
    CHECK_THROWS_WITH_AS(io::load_npy_any(scratch("no-such-file.npy")),
                         doctest::Contains("cannot open for reading"), io_error);
}

// --- parameters ----------------------------------------------------------------------------

TEST_CASE("bad input: a parameter folder without the weights") {
    auto net = make_delay_net();
    const auto folder = scratch("no-weights");
    fs::remove_all(folder);
    fs::create_directories(folder);
    CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder),
                         doctest::Contains("W0.npy: missing (parameter layer0.weight, shape (3, 4))"),
                         io_error);
}

TEST_CASE("bad input: a weight file of the wrong shape") {
    auto net = make_delay_net();
    const auto folder = scratch("wrong-shape");
    io::save_parameters_npy(net, folder);
    io::save_npy(folder + "/W0.npy", tensor<float, 2>({4, 3}, 0.f));
    CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder),
                         doctest::Contains("shape (4, 3) but layer0.weight is (3, 4)"), shape_error);
}

TEST_CASE("bad input: a NaN delay in d0.npy") {
    auto net = make_delay_net();
    const auto folder = scratch("nan-delay");
    io::save_parameters_npy(net, folder);
    io::save_npy(folder + "/d0.npy", tensor<float, 1>({4}, std::numeric_limits<float>::quiet_NaN()));
    CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder),
                         doctest::Contains("layer0.delay[0] is nan (not finite)"), numeric_error);
}

TEST_CASE("bad input: a negative delay in d0.npy") {
    auto net = make_delay_net();
    const auto folder = scratch("negative-delay");
    io::save_parameters_npy(net, folder);
    io::save_npy(folder + "/d0.npy", tensor<float, 1>({4}, -0.5f));
    CHECK_THROWS_WITH_AS(io::load_parameters_npy(net, folder),
                         doctest::Contains("layer0.delay[0] = -0.5 is outside [0, 5]"), data_error);
}

// --- checkpoints ---------------------------------------------------------------------------

TEST_CASE("bad input: a text file given as a checkpoint") {
    const auto path = scratch("text.ckpt");
    write_bytes(path, "this is not a checkpoint at all");
    auto net = make_delay_net();
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net), doctest::Contains("not a spikegrad checkpoint (bad magic)"),
                         io_error);
}

TEST_CASE("bad input: a checkpoint cut short") {
    const auto path = scratch("cut.ckpt");
    save_checkpoint(path, make_delay_net());
    fs::resize_file(path, fs::file_size(path) / 2);
    auto net = make_delay_net();
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net), doctest::Contains("truncated file"), io_error);
}

TEST_CASE("bad input: a checkpoint with one damaged byte") {
    const auto path = scratch("damaged.ckpt");
    save_checkpoint(path, make_delay_net());
    std::string bytes = io::read_file(path);
    // The file ends [last parameter's values][u8 optimiser flag][u64 checksum]: damage a value.
    bytes[bytes.size() - 11] = static_cast<char>(bytes[bytes.size() - 11] ^ 0x5a);
    write_bytes(path, bytes);
    auto net = make_delay_net();
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net), doctest::Contains("checksum mismatch"), io_error);
}

TEST_CASE("bad input: a checkpoint of another architecture") {
    const auto path = scratch("architecture.ckpt");
    save_checkpoint(path, make_delay_net());
    network<dense<lif>, dense<readout>> other({3, 4, 2});
    CHECK_THROWS_WITH_AS(load_checkpoint(path, other), doctest::Contains("architecture mismatch"), io_error);
}

TEST_CASE("bad input: a checkpoint of a network with another threshold") {
    const auto path = scratch("threshold.ckpt");
    save_checkpoint(path, make_delay_net(1.0));
    auto net = make_delay_net(2.0);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net),
                         doctest::Contains("setting mismatch: layer0.neuron.theta is 1 in the file, 2 in the network"),
                         io_error);
}

TEST_CASE("bad input: a float checkpoint for a double network") {
    const auto path = scratch("float.ckpt");
    save_checkpoint(path, make_delay_net());
    basic_network<double, dense<lif, fast_sigmoid, axonal_delay>, dense<readout>> wide(
        {3, 4, 2}, {}, {.delay = {.max_ms = 5.}}, {});
    CHECK_THROWS_WITH_AS(load_checkpoint(path, wide),
                         doctest::Contains("holds float parameters, the network uses double"), io_error);
}

TEST_CASE("bad input: an Adam checkpoint for an SGD optimiser") {
    const auto path = scratch("adam.ckpt");
    auto source = make_delay_net();
    optimizer<adam> adam_state(source.parameters(), 1e-2);
    save_checkpoint(path, source, &adam_state);
    auto net = make_delay_net();
    optimizer<sgd> plain(net.parameters(), 1e-2);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net, &plain), doctest::Contains("optimiser state is adam, not sgd"),
                         io_error);
}

TEST_CASE("bad input: a checkpoint without optimiser state when one is asked for") {
    const auto path = scratch("no-state.ckpt");
    save_checkpoint(path, make_delay_net());
    auto net = make_delay_net();
    optimizer<adam> opt(net.parameters(), 1e-2);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net, &opt), doctest::Contains("holds no optimiser state"),
                         io_error);
}

// --- options -------------------------------------------------------------------------------

TEST_CASE("bad input: a step length of 0 ms") {
    CHECK_THROWS_WITH_AS((delay_net({3, 4, 2}, {.dt_ms = 0})), doctest::Contains("dt_ms 0 must be positive"),
                         option_error);
}

TEST_CASE("bad input: a negative thread count") {
    CHECK_THROWS_WITH_AS((delay_net({3, 4, 2}, {.threads = -1})),
                         doctest::Contains("threads -1 must be >= 0"), option_error);
}

TEST_CASE("bad input: layer sizes that do not match the layers") {
    CHECK_THROWS_WITH_AS((delay_net({3, 4})), doctest::Contains("2 sizes given for 2 layers"), shape_error);
}

TEST_CASE("bad input: a trainer batch of 0") {
    auto net = make_delay_net();
    using fit_t = trainer<delay_net, final_membrane_cross_entropy>;
    CHECK_THROWS_WITH_AS(fit_t(net, quiet(1, 0)), doctest::Contains("batch must be at least 1"), option_error);
}

TEST_CASE("bad input: a NaN bin width") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(bin_events(data, {.dt_ms = std::nan("")}),
                         doctest::Contains("dt_ms nan must be a positive number"), option_error);
}

TEST_CASE("bad input: an unknown surrogate name") {
    CHECK_THROWS_WITH_AS(parse_surrogate("superspike"), doctest::Contains("surrogate 'superspike' is unknown"),
                         option_error);
}

TEST_CASE("bad input: a surrogate constant that is not a positive number") {
    CHECK_THROWS_WITH_AS(parse_surrogate("arctan:-2"),
                         doctest::Contains("parameter '-2' is not a positive number"), option_error);
}

TEST_CASE("bad input: a trainable threshold outside its bounds") {
    CHECK_THROWS_WITH_AS(
        (network<dense<lif>, dense<readout>>({3, 4, 2}, {},
                                             {.neuron = {.theta = 2, .train_theta = training::shared, .theta_max = 1}}, {})),
        doctest::Contains("trainable theta needs theta_min 0 <= theta 2 <= theta_max 1"), option_error);
}

TEST_CASE("bad input: a negative delay cap") {
    CHECK_THROWS_WITH_AS((delay_net({3, 4, 2}, {}, {.delay = {.max_ms = -1}}, {})),
                         doctest::Contains("axonal_delay: max_ms -1 must be >= 0"), option_error);
}

TEST_CASE("bad input: a negative sparse-gradient threshold") {
    CHECK_THROWS_WITH_AS((delay_net({3, 4, 2}, {}, {.sparse_gradient_threshold = -1}, {})),
                         doctest::Contains("sparse_gradient_threshold -1 must be >= 0"), option_error);
}

TEST_CASE("bad input: a dataset of duration 0") {
    CHECK_THROWS_WITH_AS(spike_dataset(4, 0, time_unit::steps, {"a"}),
                         doctest::Contains("duration 0 must be > 0"), option_error);
}

TEST_CASE("bad input: a negative jitter") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(jitter_per_spike(data, -1.0, 1),
                         doctest::Contains("sigma -1 must be a finite number >= 0"), option_error);
}

TEST_CASE("bad input: a deletion probability above 1") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(delete_spikes(data, 1.5, 1),
                         doctest::Contains("delete_spikes: probability 1.5 outside [0, 1]"), option_error);
}

// --- data ----------------------------------------------------------------------------------

TEST_CASE("bad input: an empty training set") {
    auto net = make_delay_net();
    trainer<delay_net, final_membrane_cross_entropy> fit(net, quiet());
    CHECK_THROWS_WITH_AS(fit.run(event_batch(20, 3, 2)), doctest::Contains("the training set is empty"),
                         data_error);
}

TEST_CASE("bad input: a training set of one class") {
    auto net = make_delay_net();
    event_batch batch(20, 3, 2);
    for (int b = 0; b < 6; ++b)
        batch.add_sample(std::vector<std::uint32_t>{2}, std::vector<std::uint32_t>{0}, {}, 1);
    trainer<delay_net, final_membrane_cross_entropy> fit(net, quiet());
    CHECK_THROWS_WITH_AS(fit.run(batch), doctest::Contains("the training set holds only class 1 (the network has 2 outputs)"),
                         data_error);
}

TEST_CASE("bad input: zero-length samples are valid: they train, and their ties are counted") {
    auto net = make_delay_net();
    event_batch batch(20, 3, 2);
    for (int b = 0; b < 4; ++b) batch.add_sample(std::vector<std::uint32_t>{}, std::vector<std::uint32_t>{}, {}, b % 2);
    // No input: every readout membrane stays at its bias, 0 at the start, so all four tie.
    const auto stats = net.evaluate(batch, final_membrane_cross_entropy{});
    CHECK(stats.ties == 4);
    CHECK(stats.accuracy() == doctest::Approx(0.5));
    trainer<delay_net, final_membrane_cross_entropy> fit(net, quiet());
    CHECK(fit.run(batch).epochs.size() == 1);
}

TEST_CASE("bad input: a unit index beyond the dataset's units") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(data.add_sample(std::vector<float>{1.f}, std::vector<std::uint32_t>{4000000000u}, 0),
                         doctest::Contains("sample 0: event 0: unit 4000000000 >= n_units 4"), data_error);
}

TEST_CASE("bad input: a unit index beyond the network's inputs in a batch") {
    auto net = make_delay_net();
    event_batch batch = two_classes(2);
    batch.units[0] = 4000000000u;
    CHECK_THROWS_WITH_AS(net.forward(batch), doctest::Contains("unit 4000000000 >= n_units 3"), data_error);
}

TEST_CASE("bad input: a batch of T = 0 steps") {
    auto net = make_delay_net();
    event_batch batch(0, 3, 2);
    CHECK_THROWS_WITH_AS(net.forward(batch), doctest::Contains("forward: input has zero steps"), shape_error);
}

TEST_CASE("bad input: a bin width that leaves zero steps") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(bin_events(data, {.dt_ms = 1e12}), doctest::Contains("bin_events: zero steps"),
                         option_error);
}

TEST_CASE("bad input: a batch larger than the set is one batch of the whole set") {
    auto net = make_delay_net();
    const auto batch = two_classes(6);
    trainer<delay_net, final_membrane_cross_entropy> fit(net, quiet(1, 64));
    const auto history = fit.run(batch);
    REQUIRE(history.epochs.size() == 1);
    CHECK(fit.optimiser().steps() == 1);  // 6 samples in batches of 64: one step
}

TEST_CASE("bad input: a label outside the classes") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(data.add_sample(std::vector<float>{1.f}, std::vector<std::uint32_t>{0}, 5),
                         doctest::Contains("sample 0: label 5 outside [0, 2)"), data_error);
}

TEST_CASE("bad input: times and units of different lengths") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(data.add_sample(std::vector<float>{1.f, 2.f, 3.f}, std::vector<std::uint32_t>{0, 1}, 0),
                         doctest::Contains("sample 0: 3 times but 2 units"), shape_error);
}

TEST_CASE("bad input: a NaN spike time") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(data.add_sample(std::vector<float>{1.f, std::nanf("")}, std::vector<std::uint32_t>{0, 1}, 0),
                         doctest::Contains("sample 0: event 1: time nan is negative or not finite"), data_error);
}

TEST_CASE("bad input: unsorted spike times from a file reader") {
    auto data = small_dataset();
    CHECK_THROWS_WITH_AS(data.add_sample(std::vector<float>{3.f, 1.f}, std::vector<std::uint32_t>{0, 1}, 0,
                                         unsorted_times::reject),
                         doctest::Contains("sample 0: event 1: time 1 < 3 of the event before (unsorted"),
                         data_error);
}

TEST_CASE("bad input: a batch with more input units than the network") {
    auto net = make_delay_net();
    event_batch batch(20, 5, 2);
    batch.add_sample(std::vector<std::uint32_t>{1}, std::vector<std::uint32_t>{0}, {}, 0);
    CHECK_THROWS_WITH_AS(net.forward(batch), doctest::Contains("layer 0 expects 3"), shape_error);
}

TEST_CASE("bad input: a batch binned at another step length") {
    auto net = make_delay_net();
    event_batch batch = two_classes(2);
    batch.dt_ms = 14.0;
    CHECK_THROWS_WITH_AS(net.forward(batch), doctest::Contains("input is binned at dt_ms 14 but the network steps at dt_ms 1"),
                         shape_error);
}

namespace {

/// Cross-entropy that turns NaN from its `nan_from`-th training call on.
struct nan_after {
    static constexpr record_kind reads = record_kind::membrane;
    static constexpr const char* name = "nan_after";
    std::shared_ptr<std::size_t> calls = std::make_shared<std::size_t>(0);
    std::size_t nan_from = 0;
    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        const S loss = final_membrane_cross_entropy{}.evaluate(record, T, n, label, grad, scale);
        if (grad && (*calls)++ >= nan_from) return std::numeric_limits<S>::quiet_NaN();
        return loss;
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        final_membrane_cross_entropy{}.scores(record, T, n, out);
    }
};

}  // namespace

TEST_CASE("bad input: a loss that turns NaN in the second epoch") {
    auto net = make_delay_net();
    nan_after loss;
    loss.nan_from = 6;  // 6 samples in batches of 4: epoch 2, batch 1
    trainer<delay_net, nan_after> fit(net, quiet(3, 4), loss);
    CHECK_THROWS_WITH_AS(fit.run(two_classes(6)),
                         doctest::Contains("training: epoch 2, batch 1: train_step: sample 0: loss is nan; "
                                           "the network holds the best model, of epoch 1"),
                         numeric_error);
}

// Checkpoints round-trip exactly, and wrong, truncated or corrupted files raise io_error.
#include "../support/finite_differences.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

using namespace spikegrad;
namespace fs = std::filesystem;

namespace {

using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<lif>, dense<readout>>;

net_t make(std::uint64_t seed) {
    return net_t({6, 10, 8, 3}, {.seed = seed},
                 {.neuron = {.train_tau = tau_training::per_neuron}, .delay = {.max_ms = 5.},
                  .init_scale = 3.},
                 {.init_scale = 3.}, {});
}

fs::path scratch_file(const char* name) {
    const auto dir = fs::temp_directory_path() / "spikegrad-tests";
    fs::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST_CASE("a checkpoint round trip gives identical outputs and optimiser state") {
    const auto batch = spikegrad::testing::random_batch(6, 30, 6, 3, 0.2, 4);
    auto net = make(1);
    optimizer<adam> opt(net.parameters(), 1e-2);
    for (int k = 0; k < 3; ++k) {
        net.train_step(batch, final_membrane_cross_entropy{});
        opt.step(net.parameters(), net.gradients());
    }
    const auto path = scratch_file("roundtrip.ckpt").string();
    save_checkpoint(path, net, &opt);
    auto other = make(99);
    optimizer<adam> other_opt(other.parameters(), 1e-2);
    CHECK(other.parameters().flat() != net.parameters().flat());
    load_checkpoint(path, other, &other_opt);
    CHECK(other.parameters().flat() == net.parameters().flat());
    CHECK(other_opt.steps() == opt.steps());
    CHECK(other_opt.slots()[0] == opt.slots()[0]);
    const auto a = net.forward(batch), b = other.forward(batch);
    CHECK(a == b);
    // The next step is identical too.
    net.train_step(batch, final_membrane_cross_entropy{});
    other.train_step(batch, final_membrane_cross_entropy{});
    opt.step(net.parameters(), net.gradients());
    other_opt.step(other.parameters(), other.gradients());
    CHECK(other.parameters().flat() == net.parameters().flat());
}

TEST_CASE("loading a checkpoint of another architecture raises io_error naming both") {
    const auto path = scratch_file("arch.ckpt").string();
    save_checkpoint(path, make(1));
    network<dense<lif>, dense<readout>> small({6, 10, 3});
    CHECK_THROWS_WITH_AS(load_checkpoint(path, small), doctest::Contains("architecture mismatch"),
                         io_error);
    net_t wider({6, 11, 8, 3});
    CHECK_THROWS_AS(load_checkpoint(path, wider), io_error);
}

TEST_CASE("a truncated or corrupted checkpoint raises io_error and leaves the network unchanged") {
    const auto path = scratch_file("damaged.ckpt").string();
    save_checkpoint(path, make(1));
    const auto size = fs::file_size(path);
    auto target = make(2);
    const auto before = target.parameters().flat();
    SUBCASE("truncated") {
        fs::resize_file(path, size / 2);
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target), doctest::Contains("checkpoint"), io_error);
    }
    SUBCASE("one flipped byte") {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(size - 40));
        char c = 0;
        f.read(&c, 1);
        f.seekp(static_cast<std::streamoff>(size - 40));
        c = static_cast<char>(c ^ 0x5a);
        f.write(&c, 1);
        f.close();
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target), doctest::Contains("checksum"), io_error);
    }
    SUBCASE("not a checkpoint at all") {
        std::ofstream(path) << "hello";
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target), doctest::Contains("not a spikegrad"),
                             io_error);
    }
    SUBCASE("missing file") {
        CHECK_THROWS_AS(load_checkpoint(path + ".missing", target), io_error);
    }
    CHECK(target.parameters().flat() == before);
}

TEST_CASE("a failed checkpoint write leaves no partial file behind") {
    const auto path = (fs::temp_directory_path() / "spikegrad-no-such-dir" / "x.ckpt").string();
    CHECK_THROWS_AS(save_checkpoint(path, make(1)), io_error);
    CHECK_FALSE(fs::exists(path));
}

namespace {

/// The checkpoint's checksum, written out here to craft files with an intact one: FNV-1a
/// with the published 64-bit prime 1099511628211 and offset basis 14695981039346656037
/// (format version 2; version 1 used 1469598103934665603, a digit short).
std::uint64_t fnv1a_64(const std::string& bytes, std::uint64_t basis = 14695981039346656037ull) {
    std::uint64_t h = basis;
    for (const unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(),
                                                                  static_cast<std::streamsize>(bytes.size()));
}

/// Writes a checkpoint's bytes with their last 8 bytes replaced by the checksum of the rest.
void write_with_checksum(const std::string& path, const std::string& bytes,
                         std::uint64_t basis = 14695981039346656037ull) {
    std::string body = bytes.substr(0, bytes.size() - 8);
    const std::uint64_t hash = fnv1a_64(body, basis);
    body.append(reinterpret_cast<const char*>(&hash), 8);
    write_all(path, body);
}

/// A trained network and its Adam state, different from make(2)'s fresh ones.
struct trained {
    net_t net = make(1);
    optimizer<adam> opt{net.parameters(), 1e-2};
    trained() {
        const auto batch = spikegrad::testing::random_batch(6, 30, 6, 3, 0.2, 4);
        for (int k = 0; k < 2; ++k) {
            net.train_step(batch, final_membrane_cross_entropy{});
            opt.step(net.parameters(), net.gradients());
        }
    }
};

}  // namespace

TEST_CASE("a checkpoint with a value outside its bounds raises data_error naming the element") {
    trained source;
    const auto k = source.net.parameters().find("layer0.delay");
    source.net.parameters().values(k)[3] = -0.5f;  // bypasses the optimiser's clamp
    const auto path = scratch_file("negative-delay.ckpt").string();
    save_checkpoint(path, source.net, &source.opt);
    auto target = make(2);
    optimizer<adam> target_opt(target.parameters(), 1e-2);
    const auto before = target.parameters().flat();
    CHECK_THROWS_WITH_AS(load_checkpoint(path, target, &target_opt),
                         doctest::Contains("layer0.delay[3] = -0.5 is outside [0, 5]"), data_error);
    CHECK(target.parameters().flat() == before);
    CHECK(target_opt.steps() == 0);
}

TEST_CASE("a checkpoint that fails any check changes neither the network nor the optimiser") {
    trained source;
    const auto path = scratch_file("all-or-nothing.ckpt").string();
    save_checkpoint(path, source.net, &source.opt);
    auto target = make(2);
    optimizer<adam> target_opt(target.parameters(), 1e-2);
    // Give the target state of its own, so that "unchanged" is not "zero".
    const auto batch = spikegrad::testing::random_batch(6, 30, 6, 3, 0.2, 9);
    target.train_step(batch, final_membrane_cross_entropy{});
    target_opt.step(target.parameters(), target.gradients());
    const auto values = target.parameters().flat();
    const auto slots = target_opt.slots();
    const auto steps = target_opt.steps();
    const auto upper = target.parameters().info(target.parameters().find("layer0.delay")).upper;

    std::string bytes = read_all(path);
    const std::size_t n = target.parameters().size();
    SUBCASE("the second optimiser slot is one value short (checksum intact)") {
        // The file ends [u64 n][n floats: slot 1][u64 checksum]; drop slot 1's last value.
        std::string body = bytes.substr(0, bytes.size() - 8);
        const std::size_t count_at = body.size() - n * sizeof(float) - 8;
        std::uint64_t count = 0;
        std::memcpy(&count, body.data() + count_at, 8);
        REQUIRE(count == n);
        --count;
        std::memcpy(body.data() + count_at, &count, 8);
        body.resize(body.size() - sizeof(float));
        const std::uint64_t hash = fnv1a_64(body);
        body.append(reinterpret_cast<const char*>(&hash), 8);
        write_all(path, body);
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target, &target_opt),
                             doctest::Contains("optimiser state 1 has"), io_error);
    }
    SUBCASE("a NaN in the first optimiser slot (checksum intact)") {
        std::string body = bytes.substr(0, bytes.size() - 8);
        // slot 0 sits just before slot 1's [u64 n][n floats].
        const std::size_t slot0_last = body.size() - n * sizeof(float) - 8 - sizeof(float);
        const float nan = NAN;
        std::memcpy(body.data() + slot0_last, &nan, sizeof nan);
        const std::uint64_t hash = fnv1a_64(body);
        body.append(reinterpret_cast<const char*>(&hash), 8);
        write_all(path, body);
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target, &target_opt),
                             doctest::Contains("optimiser state 0"), numeric_error);
    }
    SUBCASE("the file's last byte is cut off") {
        write_all(path, bytes.substr(0, bytes.size() - 1));
        CHECK_THROWS_AS(load_checkpoint(path, target, &target_opt), io_error);
    }
    SUBCASE("an SGD optimiser for an Adam file") {
        optimizer<sgd> plain(target.parameters(), 1e-2);
        CHECK_THROWS_WITH_AS(load_checkpoint(path, target, &plain), doctest::Contains("not sgd"),
                             io_error);
    }
    CHECK(target.parameters().flat() == values);
    CHECK(target_opt.slots() == slots);
    CHECK(target_opt.steps() == steps);
    CHECK(target.parameters().info(target.parameters().find("layer0.delay")).upper == upper);
    // The intact file still loads, all of it.
    write_all(path, bytes);
    load_checkpoint(path, target, &target_opt);
    CHECK(target.parameters().flat() == source.net.parameters().flat());
    CHECK(target_opt.slots() == source.opt.slots());
    CHECK(target_opt.steps() == source.opt.steps());
}

TEST_CASE("the checksum is FNV-1a with the published constants") {
    // The published test vectors of 64-bit FNV-1a (Fowler, Noll, Vo; draft-eastlake-fnv):
    // "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c, "foobar" -> 85944171f73967e8.
    CHECK(detail::checkpoint_writer::fnv1a("") == 0xcbf29ce484222325ull);
    CHECK(detail::checkpoint_writer::fnv1a("a") == 0xaf63dc4c8601ec8cull);
    CHECK(detail::checkpoint_writer::fnv1a("foobar") == 0x85944171f73967e8ull);
    // The file's last 8 bytes are that checksum of everything before them.
    const auto path = scratch_file("fnv.ckpt").string();
    save_checkpoint(path, make(1));
    const std::string bytes = read_all(path);
    std::uint64_t stored = 0;
    std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
    CHECK(stored == fnv1a_64(bytes.substr(0, bytes.size() - 8)));
}

TEST_CASE("network_settings records every setting that changes the function, by name") {
    const auto net = make(1);
    const auto record = network_settings(net);
    std::vector<std::string> names;
    for (const auto& item : record.items()) names.push_back(item.name);
    // make(): layer0 lif (trainable tau per neuron, fixed theta), fast_sigmoid, axonal delay;
    // layer1 lif (fixed tau), fast_sigmoid, no delay; layer2 readout (fixed tau).
    const std::vector<std::string> expected = {
        "dt_ms",
        "layer0.neuron.reset", "layer0.neuron.detach_reset", "layer0.neuron.train_tau",
        "layer0.neuron.train_theta", "layer0.neuron.theta", "layer0.surrogate",
        "layer0.surrogate.alpha", "layer0.delay.forward", "layer0.delay.max_ms", "layer0.bias",
        "layer0.sparse_gradient_threshold",
        "layer1.neuron.reset", "layer1.neuron.detach_reset", "layer1.neuron.train_tau",
        "layer1.neuron.tau_ms", "layer1.neuron.train_theta", "layer1.neuron.theta",
        "layer1.surrogate", "layer1.surrogate.alpha", "layer1.bias",
        "layer1.sparse_gradient_threshold",
        "layer2.neuron.train_tau", "layer2.neuron.tau_ms", "layer2.surrogate",
        "layer2.surrogate.alpha", "layer2.bias", "layer2.sparse_gradient_threshold"};
    CHECK(names == expected);
    CHECK(*record.find("layer0.surrogate") == "fast_sigmoid");
    CHECK(*record.find("layer0.surrogate.alpha") == "100");
    CHECK(*record.find("layer0.delay.max_ms") == "5");
    CHECK(*record.find("layer1.neuron.tau_ms") == "20");
    CHECK(*record.find("layer0.sparse_gradient_threshold") == "inf");
}

namespace {

using lif_layer = dense<lif, fast_sigmoid, axonal_delay>;

/// make()'s network with one layer's options changed by `change`.
template <class Change>
net_t make_changed(Change change, network_options net_options = {.seed = 2}) {
    lif_layer::options first{.neuron = {.train_tau = tau_training::per_neuron},
                             .delay = {.max_ms = 5.}, .init_scale = 3.};
    dense<lif>::options second{.init_scale = 3.};
    dense<readout>::options third{};
    change(first, second, third);
    return net_t({6, 10, 8, 3}, net_options, first, second, third);
}

/// Loading `path` (saved from make(1) with Adam state) into `target` fails naming the setting
/// with both values, and changes neither the network nor its optimiser.
void check_refused(const std::string& path, net_t target, const std::string& words) {
    optimizer<adam> opt(target.parameters(), 1e-2);
    const auto batch = spikegrad::testing::random_batch(6, 30, 6, 3, 0.2, 9);
    target.train_step(batch, final_membrane_cross_entropy{});
    opt.step(target.parameters(), target.gradients());
    const auto values = target.parameters().flat();
    const auto slots = opt.slots();
    CHECK_THROWS_WITH_AS(load_checkpoint(path, target, &opt), doctest::Contains(words.c_str()), io_error);
    CHECK(target.parameters().flat() == values);
    CHECK(opt.slots() == slots);
    CHECK(opt.steps() == 1);
}

}  // namespace

TEST_CASE("a checkpoint refuses a network whose settings differ, naming the setting and both values") {
    trained source;
    const auto path = scratch_file("settings.ckpt").string();
    save_checkpoint(path, source.net, &source.opt);
    using L0 = lif_layer::options;
    using L1 = dense<lif>::options;
    using L2 = dense<readout>::options;
    SUBCASE("dt") {
        check_refused(path, make_changed([](L0&, L1&, L2&) {}, {.dt_ms = 0.5, .seed = 2}),
                      "setting mismatch: dt_ms is 1 in the file, 0.5 in the network");
    }
    SUBCASE("threshold") {
        check_refused(path, make_changed([](L0& a, L1&, L2&) { a.neuron.theta = 1.5; }),
                      "setting mismatch: layer0.neuron.theta is 1 in the file, 1.5 in the network");
    }
    SUBCASE("reset mode") {
        check_refused(path, make_changed([](L0&, L1& b, L2&) { b.neuron.reset = reset_mode::zero; }),
                      "layer1.neuron.reset is subtract in the file, zero in the network");
    }
    SUBCASE("detached reset") {
        check_refused(path, make_changed([](L0& a, L1&, L2&) { a.neuron.detach_reset = false; }),
                      "layer0.neuron.detach_reset is true in the file, false in the network");
    }
    SUBCASE("a fixed tau") {
        check_refused(path, make_changed([](L0&, L1& b, L2&) { b.neuron.tau_ms = 10; }),
                      "layer1.neuron.tau_ms is 20 in the file, 10 in the network");
    }
    SUBCASE("the readout's fixed tau") {
        check_refused(path, make_changed([](L0&, L1&, L2& c) { c.neuron.tau_ms = 7.5; }),
                      "layer2.neuron.tau_ms is 20 in the file, 7.5 in the network");
    }
    SUBCASE("the surrogate's constant") {
        check_refused(path, make_changed([](L0& a, L1&, L2&) { a.surrogate.alpha = 25; }),
                      "layer0.surrogate.alpha is 100 in the file, 25 in the network");
    }
    SUBCASE("the delay rule") {
        check_refused(path, make_changed([](L0& a, L1&, L2&) { a.delay.forward = axonal_delay::mode::shift; }),
                      "layer0.delay.forward is interpolate in the file, shift in the network");
    }
    SUBCASE("the delay cap") {
        check_refused(path, make_changed([](L0& a, L1&, L2&) { a.delay.max_ms = 8; }),
                      "layer0.delay.max_ms is 5 in the file, 8 in the network");
    }
    SUBCASE("sparse gradients") {
        check_refused(path, make_changed([](L0&, L1& b, L2&) { b.sparse_gradient_threshold = 0.5; }),
                      "layer1.sparse_gradient_threshold is inf in the file, 0.5 in the network");
    }
    // The same options load (init_scale and seed are not settings of the function).
    auto same = make_changed([](L0& a, L1&, L2&) { a.init_scale = 0.5; }, {.seed = 7});
    load_checkpoint(path, same);
    CHECK(same.parameters().flat() == source.net.parameters().flat());
}

TEST_CASE("a run-time surrogate is recorded by family and constant, not as any_surrogate") {
    using any_net = network<dense<lif, any_surrogate>, dense<readout, any_surrogate>>;
    const auto build = [](const std::string& surrogate) {
        dense<lif, any_surrogate>::options hidden{.surrogate = parse_surrogate(surrogate)};
        dense<readout, any_surrogate>::options last{.surrogate = parse_surrogate(surrogate)};
        return any_net({4, 5, 2}, {}, hidden, last);
    };
    const auto path = scratch_file("any-surrogate.ckpt").string();
    save_checkpoint(path, build("arctan:2"));
    const auto record = network_settings(build("arctan:2"));
    CHECK(*record.find("layer0.surrogate") == "arctan");
    CHECK(*record.find("layer0.surrogate.alpha") == "2");
    auto other_kind = build("triangle:0.3");
    CHECK_THROWS_WITH_AS(load_checkpoint(path, other_kind),
                         doctest::Contains("layer0.surrogate is arctan in the file, triangle in the network"),
                         io_error);
    auto other_constant = build("arctan:4");
    CHECK_THROWS_WITH_AS(load_checkpoint(path, other_constant),
                         doctest::Contains("layer0.surrogate.alpha is 2 in the file, 4 in the network"),
                         io_error);
    auto same = build("arctan:2");
    load_checkpoint(path, same);
}

TEST_CASE("adaptive and SRM neurons record their own constants") {
    using alif_net = network<dense<adaptive_lif>, dense<srm_alpha>, dense<readout>>;
    const auto build = [](double adaptation, double srm_theta) {
        dense<adaptive_lif>::options a{.neuron = {.adaptation = adaptation}};
        dense<srm_alpha>::options b{.neuron = {.theta = srm_theta}};
        return alif_net({4, 5, 5, 2}, {}, a, b, {});
    };
    const auto path = scratch_file("alif.ckpt").string();
    save_checkpoint(path, build(0.2, 10));
    auto adaptation = build(0.3, 10);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, adaptation),
                         doctest::Contains("layer0.neuron.adaptation is 0.2 in the file, 0.3 in the network"),
                         io_error);
    auto srm = build(0.2, 9);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, srm),
                         doctest::Contains("layer1.neuron.theta is 10 in the file, 9 in the network"),
                         io_error);
}

TEST_CASE("a checkpoint whose settings record lacks or adds a setting is refused") {
    const auto path = scratch_file("settings-edit.ckpt").string();
    save_checkpoint(path, make(1));
    std::string bytes = read_all(path);
    // Rename the first recorded setting ("dt_ms") to "dt_xx", keeping the checksum intact.
    const auto at = bytes.find("dt_ms");
    REQUIRE(at != std::string::npos);
    bytes.replace(at, 5, "dt_xx");
    write_with_checksum(path, bytes);
    auto target = make(2);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, target),
                         doctest::Contains("setting mismatch: the file does not record dt_ms"), io_error);
}

TEST_CASE("a format-1 checkpoint is refused: it records no settings to check") {
    const auto path = scratch_file("version1.ckpt").string();
    save_checkpoint(path, make(1));
    std::string bytes = read_all(path);
    const std::uint32_t one = 1;
    std::memcpy(bytes.data() + 8, &one, 4);
    write_with_checksum(path, bytes, 1469598103934665603ull);
    auto target = make(2);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, target),
                         doctest::Contains("format version 1 records no network settings"), io_error);
}

TEST_CASE("a checkpoint whose parameter shape is an empty array raises io_error, not undefined behaviour") {
    // Found by fuzz_checkpoint (UBSan: memcpy to an empty vector's null data()); the failure
    // shows under scripts/sanitize.sh, which builds this test with -fsanitize=undefined.
    const auto path = scratch_file("empty-shape.ckpt").string();
    save_checkpoint(path, make(1));
    std::string bytes = read_all(path);
    const std::string name = "layer0.weight";
    const auto at = bytes.find(name);
    REQUIRE(at != std::string::npos);
    const std::size_t count_at = at + name.size() + 4;  // after the name: u32 kind, u64 count
    std::uint64_t count = 0;
    std::memcpy(&count, bytes.data() + count_at, 8);
    REQUIRE(count == 2);
    count = 0;
    std::memcpy(bytes.data() + count_at, &count, 8);
    bytes.erase(count_at + 8, 16);
    write_with_checksum(path, bytes);
    auto target = make(2);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, target),
                         doctest::Contains("parameter 'layer0.weight' has another shape"), io_error);
}

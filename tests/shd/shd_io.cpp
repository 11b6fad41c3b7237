// Tests of data/shd.hpp: lossless round trips, interoperability with h5py in both directions,
// a typed error naming file, sample and field for every kind of bad input, and atomic writes.
#include "helpers.hpp"

#include <spikegrad/core/random.hpp>
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/shd.hpp>
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace spikegrad;
using shd_test::raw_file;
using shd_test::scratch;

namespace {

/// A random dataset in seconds with arbitrary float bit patterns, some empty samples and
/// repeated (time, unit) events.
spike_dataset random_dataset(std::size_t n_samples, std::size_t n_units, std::uint64_t seed) {
    spike_dataset data(n_units, 1.4, time_unit::seconds, {"alpha", "beta", "gamma", "delta"});
    rng generator(seed);
    for (std::size_t s = 0; s < n_samples; ++s) {
        const std::size_t n = s % 9 == 0 ? 0 : static_cast<std::size_t>(generator.below(300));
        std::vector<float> times(n);
        std::vector<std::uint32_t> units(n);
        for (std::size_t e = 0; e < n; ++e) {
            times[e] = static_cast<float>(generator.uniform(0.0, 1.5));
            units[e] = static_cast<std::uint32_t>(generator.below(n_units));
        }
        if (n > 2) {
            times[1] = times[0];
            units[1] = units[0];
        }
        data.add_sample(times, units, static_cast<std::int32_t>(generator.below(4)));
    }
    return data;
}

void check_same(const spike_dataset& a, const spike_dataset& b) {
    REQUIRE(a.size() == b.size());
    CHECK(a.n_units() == b.n_units());
    CHECK(a.class_names() == b.class_names());
    CHECK(a.unit() == b.unit());
    for (std::size_t s = 0; s < a.size(); ++s) {
        const auto x = a.sample(s), y = b.sample(s);
        REQUIRE(x.size() == y.size());
        CHECK(x.label == y.label);
        for (std::size_t e = 0; e < x.size(); ++e) {
            // Exact equality: float32 round trip must not lose a bit.
            CHECK(x.times[e] == y.times[e]);
            CHECK(x.units[e] == y.units[e]);
        }
    }
}

/// The message of the error `read` raises as type Error (fails the test if none or another).
template <class Error, class F>
std::string message_of(F&& read) {
    try {
        read();
    } catch (const Error& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("wrong exception type: ", e.what());
        return {};
    }
    FAIL("no exception");
    return {};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

raw_file good_raw() {
    raw_file f;
    f.times = {{0.1, 0.2, 0.3}, {0.05}, {0.4, 0.9}};
    f.units = {{1, 2, 3}, {699}, {10, 20}};
    f.labels = {0, 1, 2};
    f.keys = {"a", "b", "c"};
    return f;
}

}  // namespace

TEST_CASE("write_shd then read_shd is lossless, across chunk boundaries") {
    scratch dir("roundtrip");
    const spike_dataset data = random_dataset(120, 700, 7);
    shd_extra extra;
    std::vector<double> speakers;
    for (std::size_t s = 0; s < data.size(); ++s) speakers.push_back(static_cast<double>(s % 12));
    extra.set(shd_extra_dataset::text("keys", {"alpha", "beta", "gamma", "delta"}));
    auto gender = shd_extra_dataset::text("meta_info/gender", {"f", "m", "f"});
    gender.string_size = 6;  // fixed-length (numpy 'S6') strings are carried as such
    gender.utf8 = false;
    extra.set(gender);
    extra.set(
        shd_extra_dataset::numeric("meta_info/height", shd_element::float64, {1.5, 1.75, 2.0}));
    extra.set(shd_extra_dataset::numeric("speaker", shd_element::uint16, speakers));

    const std::string path = dir / "data.h5";
    std::vector<std::pair<std::size_t, std::size_t>> written, read;
    write_shd(path, data, extra,
              {.chunk_samples = 7,
               .progress = [&](std::size_t d, std::size_t t) { written.emplace_back(d, t); }});
    const shd_file back = read_shd(
        path, {.chunk_samples = 13,
               .progress = [&](std::size_t d, std::size_t t) { read.emplace_back(d, t); }});
    check_same(data, back.data);
    CHECK(back.data.duration() == doctest::Approx(1.4));
    CHECK(back.data.unit() == time_unit::seconds);
    // /extra comes back in HDF5's name order: keys, meta_info/gender, meta_info/height, speaker.
    REQUIRE(back.extra.datasets.size() == 4);
    CHECK(back.extra.datasets[0] == *extra.find("keys"));
    CHECK(back.extra.datasets[1] == gender);
    CHECK(back.extra.datasets[2] == *extra.find("meta_info/height"));
    CHECK(back.extra.datasets[3] == *extra.find("speaker"));
    CHECK(back.extra.speaker().size() == 120);
    CHECK(back.extra.speaker()[13] == 1);

    // Progress: ceil(120 / 7) = 18 calls writing, ceil(120 / 13) = 10 reading, ending at 120.
    REQUIRE(written.size() == 18);
    REQUIRE(read.size() == 10);
    CHECK(written.back() == std::pair<std::size_t, std::size_t>{120, 120});
    CHECK(read.front() == std::pair<std::size_t, std::size_t>{13, 120});
    CHECK(read.back() == std::pair<std::size_t, std::size_t>{120, 120});

    // subset keeps the speakers of the chosen samples.
    const std::vector<std::size_t> pick{5, 17, 30};
    const shd_file part = back.subset(pick);
    CHECK(part.data.size() == 3);
    CHECK(part.extra.speaker() == std::vector<std::int64_t>{5, 5, 6});
}

TEST_CASE("n_units other than 700 travels in a root attribute, and milliseconds become seconds") {
    scratch dir("n_units");
    const spike_dataset data = random_dataset(20, 1000, 3);
    write_shd(dir / "wide.h5", data);
    const shd_file back = read_shd(dir / "wide.h5");
    CHECK(back.data.n_units() == 1000);
    check_same(data, back.data);
    // Without extra the class names are written as /extra/keys and read back from it.
    CHECK(back.data.class_names() == std::vector<std::string>{"alpha", "beta", "gamma", "delta"});
    // Renamed classes replace the keys carried in extra, keeping their fixed-length kind.
    spike_dataset renamed = back.data;
    renamed.set_class_names({"one", "two", "three", "four-and-more"});
    shd_extra extra = back.extra;
    extra.datasets[0].string_size = 5;
    write_shd(dir / "renamed.h5", renamed, extra);
    const shd_file again = read_shd(dir / "renamed.h5");
    CHECK(again.data.class_names() == renamed.class_names());
    REQUIRE(again.extra.find("keys"));
    CHECK(again.extra.find("keys")->string_size == 13);

    spike_dataset ms(700, 1400, time_unit::milliseconds, {"x"});
    const std::vector<float> t{250.f, 1000.f};
    const std::vector<std::uint32_t> u{1, 2};
    ms.add_sample(t, u, 0);
    write_shd(dir / "ms.h5", ms);
    const shd_file seconds = read_shd(dir / "ms.h5");
    const auto s = seconds.data.sample(0);
    CHECK(s.times[0] == doctest::Approx(0.25));
    CHECK(s.times[1] == doctest::Approx(1.0));

    spike_dataset steps(700, 100, time_unit::steps, {"x"});
    CHECK_THROWS_AS(write_shd(dir / "steps.h5", steps), option_error);
    CHECK_FALSE(std::filesystem::exists(dir / "steps.h5"));
}

TEST_CASE("float16 times round to nearest, ties to even, and sorted times stay sorted") {
    scratch dir("half");
    spike_dataset data(700, 1.4, time_unit::seconds, {"x"});
    // Hand-rounded to binary16 (11 significant bits, subnormal step 2^-24):
    //   3e-8          -> 2^-24 = 5.9604645e-8 (above the midpoint 2^-25)
    //   0.0156249     -> 0.015625 = 2^-6 (rounding up carries into the exponent)
    //   1 + 2^-11     -> 1 (tie, even mantissa 0)
    //   1 + 2^-10     -> itself
    //   1 + 3 2^-11   -> 1 + 2^-9 = 1.001953125 (tie, even mantissa 2)
    //   1.3999        -> 1 + 409/1024 = 1.3994140625 (0.3999 * 1024 = 409.5 - 0.0024)
    const std::vector<float> hand{3e-8f,         0.0156249f,     1.00048828125f,
                                  1.0009765625f, 1.00146484375f, 1.3999f};
    const std::vector<float> rounded{5.9604645e-8f, 0.015625f,    1.0f,
                                     1.0009765625f, 1.001953125f, 1.3994140625f};
    data.add_sample(hand, std::vector<std::uint32_t>(hand.size(), 0), 0);
    rng generator(1);
    std::vector<float> many(20000);
    for (auto& t : many) t = static_cast<float>(generator.uniform(0.0, 1.4));
    std::sort(many.begin(), many.end());
    data.add_sample(many, std::vector<std::uint32_t>(many.size(), 0), 0);
    write_shd(dir / "half.h5", data, {}, {.time_type = shd_time_type::float16});
    const shd_file back = read_shd(dir / "half.h5");  // rejects unsorted rows
    const auto s0 = back.data.sample(0);
    CHECK(std::vector<float>(s0.times.begin(), s0.times.end()) == rounded);
    const auto s1 = back.data.sample(1);
    REQUIRE(s1.size() == many.size());
    for (std::size_t e = 0; e < many.size(); ++e) {
        // Half an ulp of binary16 at t = f 2^k (f in [0.5, 1)) is 2^(k - 12); 2^-25 below 2^-14.
        int k = 0;
        std::frexp(many[e], &k);
        const double bound = many[e] < 0x1p-14f ? 0x1p-25 : std::ldexp(1.0, k - 12);
        CHECK(std::fabs(static_cast<double>(s1.times[e]) - many[e]) <= bound);
    }
}

#if SPIKEGRAD_HAVE_H5PY
TEST_CASE("a file made by h5py in the public layout reads back exactly (float16 and float32)") {
    // Built only where the system Python imported h5py at configure time; if it no longer
    // can, the test fails rather than passing without having run.
    REQUIRE_MESSAGE(shd_test::have_h5py(),
                    "the system Python (" SPIKEGRAD_SYSTEM_PYTHON ") cannot import h5py");
    scratch dir("h5py_in");
    for (const char* width : {"float16", "float32"}) {
        CAPTURE(width);
        const std::string path = dir / (std::string("public_") + width + ".h5");
        std::string log;
        REQUIRE_MESSAGE(shd_test::run_fixture(std::string("make ") + path + " " + width, log,
                                              dir / "log.txt") == 0,
                        log);
        std::vector<std::string> warnings;
        const shd_file f =
            read_shd(path, {.warning = [&](const std::string& w) { warnings.push_back(w); }});
        CHECK(warnings.empty());
        // The literals of shd_fixture.py; sample 0's tie at 0.25 s is already in unit order.
        const std::vector<std::vector<float>> times{
            {0.f, 0.25f, 0.25f, 1.375f}, {}, {0.5f, 0.625f, 0.6875f}};
        const std::vector<std::vector<std::uint32_t>> units{{3, 0, 699, 12}, {}, {100, 100, 7}};
        REQUIRE(f.data.size() == 3);
        CHECK(f.data.n_units() == 700);
        CHECK(f.data.class_names() == std::vector<std::string>{"zero", "one", "two"});
        CHECK(f.data.labels() == std::vector<std::int32_t>{1, 0, 2});
        for (std::size_t s = 0; s < 3; ++s) {
            const auto sample = f.data.sample(s);
            CHECK(std::vector<float>(sample.times.begin(), sample.times.end()) == times[s]);
            CHECK(std::vector<std::uint32_t>(sample.units.begin(), sample.units.end()) == units[s]);
        }
        CHECK(f.extra.speaker() == std::vector<std::int64_t>{4, 2, 4});
        const auto* keys = f.extra.find("keys");
        REQUIRE(keys);
        CHECK(keys->string_size == 4);  // numpy bytes 'S4'
        const auto* gender = f.extra.find("meta_info/gender");
        REQUIRE(gender);
        CHECK(gender->string_size == 0);  // h5py str: variable length
        CHECK(gender->strings ==
              std::vector<std::string>{"female", "male", "female", "male", "female"});
        const auto* age = f.extra.find("meta_info/age");
        REQUIRE(age);
        CHECK(age->type == shd_element::uint8);
        CHECK(age->numbers == std::vector<double>{29, 31, 25, 40, 33});
        const auto* height = f.extra.find("meta_info/body_height");
        REQUIRE(height);
        CHECK(height->numbers == std::vector<double>{1.70, 1.80, 1.65, 1.90, 1.75});
    }
}

TEST_CASE("a file written by write_shd opens in h5py with the public layout's dtypes and values") {
    // Built only where the system Python imported h5py at configure time; if it no longer
    // can, the test fails rather than passing without having run.
    REQUIRE_MESSAGE(shd_test::have_h5py(),
                    "the system Python (" SPIKEGRAD_SYSTEM_PYTHON ") cannot import h5py");
    scratch dir("h5py_out");
    std::string log;
    const std::string reference = dir / "reference.h5";
    REQUIRE_MESSAGE(
        shd_test::run_fixture("make " + reference + " float16", log, dir / "log.txt") == 0, log);
    const shd_file content = read_shd(reference);
    // Default: float32 times; the structure must otherwise match the h5py-made file.
    write_shd(dir / "ours32.h5", content);
    CHECK_MESSAGE(
        shd_test::run_fixture("check " + (dir / "ours32.h5") + " " + reference + " float32", log,
                              dir / "log.txt") == 0,
        log);
    // Half precision, as h5py builds it.
    write_shd(dir / "ours16.h5", content, {.time_type = shd_time_type::float16});
    CHECK_MESSAGE(
        shd_test::run_fixture("check " + (dir / "ours16.h5") + " " + reference + " float16", log,
                              dir / "log.txt") == 0,
        log);
    // The checker itself must be able to fail: a file with float32 times is not float16.
    CHECK(shd_test::run_fixture("check " + (dir / "ours32.h5") + " " + reference + " float16", log,
                                dir / "log.txt") != 0);
}

TEST_CASE("end to end on float16 times as real SHD files store them: h5py file, read, bin, one training step") {
    REQUIRE_MESSAGE(shd_test::have_h5py(),
                    "the system Python (" SPIKEGRAD_SYSTEM_PYTHON ") cannot import h5py");
    scratch dir("float16_end_to_end");
    const std::string path = dir / "public_float16.h5";
    std::string log;
    REQUIRE_MESSAGE(shd_test::run_fixture("make " + path + " float16", log, dir / "log.txt") == 0, log);
    const shd_file f = read_shd(path);
    // Binned as the paper bins SHD: 100 steps of 14 ms. shd_fixture.py's times (exact in
    // float16) fall in bins floor(t / 0.014 s): 0 -> 0, 0.25 -> 17, 1.375 -> 98, 0.5 -> 35,
    // 0.625 -> 44, 0.6875 -> 49.
    const auto batch = bin_events(f.data, {.dt_ms = 14.0, .n_steps = 100});
    REQUIRE(batch.n_samples == 3);
    CHECK(batch.dropped_events == 0);
    const auto steps_of = [&](std::size_t b) {
        std::vector<std::pair<std::size_t, std::uint32_t>> out;
        const auto view = batch.sample(b);
        for (std::size_t t = 0; t < batch.n_steps; ++t)
            for (std::size_t e = view.begin(t); e < view.end(t); ++e) out.emplace_back(t, view.units[e]);
        return out;
    };
    using events = std::vector<std::pair<std::size_t, std::uint32_t>>;
    CHECK(steps_of(0) == events{{0, 3}, {17, 0}, {17, 699}, {98, 12}});
    CHECK(steps_of(1).empty());
    CHECK(steps_of(2) == events{{35, 100}, {44, 100}, {49, 7}});
    // One training step of a network on it changes the parameters and gives a finite loss.
    using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
    net_t net({700, 8, 3}, {.dt_ms = batch.dt_ms, .seed = 1, .threads = 1},
              {.delay = {.max_ms = 64 * 14.0}, .init_scale = 3.}, {});
    optimizer<adam> opt(net.parameters(), 1e-2);
    const auto before = net.parameters().flat();
    const auto stats = net.train_step(batch, final_membrane_cross_entropy{});
    opt.step(net.parameters(), net.gradients());
    CHECK(std::isfinite(stats.loss()));
    CHECK(stats.samples == 3);
    CHECK(net.parameters().flat() != before);
}
#endif  // SPIKEGRAD_HAVE_H5PY

TEST_CASE("missing datasets raise io_error naming the file and the dataset") {
    scratch dir("missing");
    struct missing_case {
        const char* field;
        bool raw_file::*flag;
    };
    for (const auto& c : {missing_case{"/spikes/times", &raw_file::with_times},
                          missing_case{"/spikes/units", &raw_file::with_units},
                          missing_case{"/labels", &raw_file::with_labels}}) {
        CAPTURE(c.field);
        raw_file f = good_raw();
        f.*(c.flag) = false;
        const std::string path = dir / "missing.h5";
        shd_test::write_raw(path, f);
        const std::string what = message_of<io_error>([&] { read_shd(path); });
        CHECK(contains(what, path));
        CHECK(contains(what, std::string("missing dataset ") + c.field));
    }
}

TEST_CASE("bad content raises data_error naming the file, the sample and the field") {
    scratch dir("content");
    const std::string path = dir / "bad.h5";

    SUBCASE("times and units of a sample differ in length") {
        raw_file f = good_raw();
        f.units[1] = {699, 698};
        shd_test::write_raw(path, f);
        const auto what = message_of<data_error>([&] { read_shd(path); });
        CHECK(contains(what, path));
        CHECK(contains(what, "sample 1: 1 times in /spikes/times but 2 units in /spikes/units"));
    }
    SUBCASE("unit >= n_units") {
        raw_file f = good_raw();
        f.units[2] = {10, 700};
        shd_test::write_raw(path, f);
        const auto what = message_of<data_error>([&] { read_shd(path); });
        CHECK(contains(what, "sample 2: event 1: unit 700 >= n_units 700 in /spikes/units"));
        // The bound is an option.
        CHECK(read_shd(path, {.n_units = 701}).data.n_units() == 701);
        CHECK(contains(message_of<data_error>([&] { read_shd(path, {.n_units = 11}); }),
                       "sample 1: event 0: unit 699 >= n_units 11"));
    }
    SUBCASE("negative unit") {
        raw_file f = good_raw();
        f.unit_type = H5T_STD_I16LE;
        f.units[0] = {1, -3, 3};
        shd_test::write_raw(path, f);
        CHECK(contains(message_of<data_error>([&] { read_shd(path); }),
                       "sample 0: event 1: unit -3 >= n_units 700 in /spikes/units"));
    }
    SUBCASE("negative time") {
        raw_file f = good_raw();
        f.times[2] = {-0.5, 0.9};
        shd_test::write_raw(path, f);
        const auto what = message_of<data_error>([&] { read_shd(path); });
        CHECK(contains(what, "sample 2: event 0: time -0.5 is negative"));
        CHECK(contains(what, "/spikes/times"));
    }
    SUBCASE("NaN time") {
        raw_file f = good_raw();
        f.times[0][2] = std::numeric_limits<double>::quiet_NaN();
        shd_test::write_raw(path, f);
        CHECK(contains(message_of<data_error>([&] { read_shd(path); }),
                       "sample 0: event 2: time is NaN in /spikes/times"));
    }
    SUBCASE("unsorted times are rejected by default, sorted with a warning on request") {
        raw_file f = good_raw();
        f.times[0] = {0.3, 0.1, 0.2};
        shd_test::write_raw(path, f);
        CHECK(contains(message_of<data_error>([&] { read_shd(path); }),
                       "sample 0: event 1: time 0.1 < 0.3 of the event before (unsorted) in "
                       "/spikes/times"));
        std::vector<std::string> warnings;
        const auto data =
            read_shd(path, {.on_unsorted = unsorted_times::sort,
                            .warning = [&](const std::string& w) { warnings.push_back(w); }})
                .data;
        REQUIRE(warnings.size() == 1);
        CHECK(contains(warnings[0], "sample 0"));
        const auto s = data.sample(0);
        // (0.3, 1), (0.1, 2), (0.2, 3) sorted by time: units 2, 3, 1.
        CHECK(s.times[0] == doctest::Approx(0.1));
        CHECK(s.units[0] == 2);
        CHECK(s.units[1] == 3);
        CHECK(s.units[2] == 1);
    }
    SUBCASE("equal times are not unsorted: their units are put in order, quietly") {
        raw_file f = good_raw();
        f.times[0] = {0.1, 0.1, 0.1, 0.2};
        f.units[0] = {5, 3, 4, 1};
        shd_test::write_raw(path, f);
        std::vector<std::string> warnings;
        const shd_file read =
            read_shd(path, {.warning = [&](const std::string& w) { warnings.push_back(w); }});
        CHECK(warnings.empty());
        const auto s = read.data.sample(0);
        CHECK(std::vector<std::uint32_t>(s.units.begin(), s.units.end()) ==
              std::vector<std::uint32_t>{3, 4, 5, 1});
    }
    SUBCASE("label >= the number of keys") {
        raw_file f = good_raw();
        f.labels[2] = 3;
        shd_test::write_raw(path, f);
        CHECK(contains(message_of<data_error>([&] { read_shd(path); }),
                       "sample 2: label 3 outside [0, 3) in /labels"));
        // An explicit class count wins over the 3 keys, with a warning; classes get numbers.
        std::vector<std::string> warnings;
        const shd_file f4 = read_shd(path, {.n_classes = 4, .warning = [&](const std::string& w) {
                                                warnings.push_back(w);
                                            }});
        CHECK(f4.data.class_names() == std::vector<std::string>{"0", "1", "2", "3"});
        REQUIRE(warnings.size() == 1);
        CHECK(contains(warnings[0], "/extra/keys holds 3 names for n_classes 4"));
    }
    SUBCASE("negative label") {
        raw_file f = good_raw();
        f.label_type = H5T_STD_I16LE;
        f.labels[1] = -1;
        shd_test::write_raw(path, f);
        CHECK(contains(message_of<data_error>([&] { read_shd(path); }),
                       "sample 1: label -1 outside [0, 3) in /labels"));
    }
    SUBCASE("label >= an explicit n_classes without keys") {
        raw_file f = good_raw();
        f.keys.clear();
        shd_test::write_raw(path, f);
        CHECK(read_shd(path).data.n_classes() == 3);  // max label + 1
        CHECK(contains(message_of<data_error>([&] { read_shd(path, {.n_classes = 2}); }),
                       "sample 2: label 2 outside [0, 2) in /labels"));
    }
}

TEST_CASE("malformed, truncated and non-HDF5 files raise io_error naming the file") {
    scratch dir("malformed");
    SUBCASE("different numbers of samples") {
        raw_file f = good_raw();
        f.units.pop_back();
        const std::string path = dir / "rows.h5";
        shd_test::write_raw(path, f);
        const auto what = message_of<io_error>([&] { read_shd(path); });
        CHECK(contains(what, path));
        CHECK(contains(what, "/spikes/times has 3 samples, /spikes/units 2, /labels 3"));
    }
    SUBCASE("times stored as integers") {
        raw_file f = good_raw();
        f.time_type = H5T_STD_I32LE;
        const std::string path = dir / "type.h5";
        shd_test::write_raw(path, f);
        CHECK(contains(message_of<io_error>([&] { read_shd(path); }),
                       "/spikes/times has the wrong element type"));
    }
    SUBCASE("truncated file") {
        const std::string whole = dir / "whole.h5", cut = dir / "cut.h5";
        write_shd(whole, random_dataset(200, 700, 11));
        const std::string bytes = shd_test::slurp(whole);
        REQUIRE(bytes.size() > 10000);
        std::ofstream(cut, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
        const auto what = message_of<io_error>([&] { read_shd(cut); });
        CHECK(contains(what, cut));
    }
    SUBCASE("not an HDF5 file") {
        const std::string path = dir / "text.h5";
        std::ofstream(path) << "spikes,times,units\n0.1,3\n";
        const auto what = message_of<io_error>([&] { read_shd(path); });
        CHECK(contains(what, path));
        CHECK(contains(what, "not an HDF5 file"));
    }
    SUBCASE("no such file") {
        CHECK(contains(message_of<io_error>([&] { read_shd(dir / "absent.h5"); }), "no such file"));
    }
}

TEST_CASE("a failed write leaves no file behind and keeps an existing one") {
    scratch dir("atomic");
    const spike_dataset data = random_dataset(50, 700, 5);
    const std::string path = dir / "target.h5";
    std::ofstream(path) << "previous content";

    // An exception from the progress callback aborts after the first chunk has been written.
    struct cancelled : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    auto cancel_after_first_chunk = [&] {
        write_shd(path, data, {}, {.chunk_samples = 10, .progress = [](std::size_t, std::size_t) {
                                       throw cancelled("cancelled by the user");
                                   }});
    };
    CHECK_THROWS_AS(cancel_after_first_chunk(), cancelled);
    CHECK(shd_test::slurp(path) == "previous content");
    CHECK(dir.files() == std::vector<std::string>{"target.h5"});

    // A speaker list of the wrong length is refused before anything is created.
    shd_extra extra;
    extra.set(shd_extra_dataset::numeric("speaker", shd_element::uint16, {1, 2}));
    CHECK_THROWS_AS(write_shd(dir / "other.h5", data, extra), shape_error);
    CHECK(dir.files() == std::vector<std::string>{"target.h5"});

    // A fixed-length string too long for its size fails while writing /extra, after /spikes.
    shd_extra long_names;
    auto names = shd_extra_dataset::text("meta_info/gender", {"f", "much too long"});
    names.string_size = 4;
    long_names.set(names);
    CHECK_THROWS_AS(write_shd(path, data, long_names), data_error);
    CHECK(shd_test::slurp(path) == "previous content");
    CHECK(dir.files() == std::vector<std::string>{"target.h5"});

    // A folder that does not exist.
    CHECK_THROWS_AS(write_shd(dir / "no/such/folder/x.h5", data), io_error);

    // And a successful write replaces the old file.
    write_shd(path, data);
    check_same(data, read_shd(path).data);
    CHECK(dir.files() == std::vector<std::string>{"target.h5"});
}

TEST_CASE("merge_shd concatenates splits and their speakers") {
    spike_dataset a(700, 1.4, time_unit::seconds, {"x", "y"}), b = a.empty_like();
    const std::vector<float> t{0.1f};
    const std::vector<std::uint32_t> u{5};
    a.add_sample(t, u, 0);
    b.add_sample(t, u, 1);
    b.add_sample(t, u, 0);
    shd_file fa{a, {}}, fb{b, {}};
    fa.extra.set(shd_extra_dataset::numeric("speaker", shd_element::uint16, {3}));
    fb.extra.set(shd_extra_dataset::numeric("speaker", shd_element::uint16, {7, 8}));
    const std::vector<shd_file> parts{fa, fb};
    const shd_file merged = merge_shd(parts);
    CHECK(merged.data.size() == 3);
    CHECK(merged.data.labels() == std::vector<std::int32_t>{0, 1, 0});
    CHECK(merged.extra.speaker() == std::vector<std::int64_t>{3, 7, 8});
}

TEST_CASE("labels that would make billions of classes, and row counts beyond the file, are refused") {
    // Found while writing fuzz/shd.cpp: with neither /extra/keys nor n_classes, classes were
    // inferred as max label + 1 and each given a name, so one corrupt label asked for 5e9
    // strings.
    scratch dir("huge_label");
    const std::string path = dir / "huge_label.h5";
    raw_file f = good_raw();
    f.keys.clear();
    f.label_type = H5T_STD_I64LE;
    f.labels = {0, 5000000000LL, 1};
    shd_test::write_raw(path, f);
    CHECK(contains(message_of<data_error>([&] { read_shd(path); }),
                   "sample 1: label 5000000000 in /labels would make 5000000000 + 1 classes"));
    // With the class count given, the same label is simply outside the classes.
    CHECK(contains(message_of<data_error>([&] { read_shd(path, {.n_classes = 3}); }),
                   "sample 1: label 5000000000 outside [0, 3)"));
}

TEST_CASE("sorting unsorted times on request is counted in the dataset") {
    scratch dir("sorted_count");
    const std::string path = dir / "unsorted.h5";
    raw_file f = good_raw();
    f.times[0] = {0.3, 0.1, 0.2};
    f.times[2] = {0.9, 0.4};
    shd_test::write_raw(path, f);
    const auto data = read_shd(path, {.on_unsorted = unsorted_times::sort}).data;
    CHECK(data.reordered_samples() == 2);
    CHECK(read_shd(dir / "unsorted.h5", {.on_unsorted = unsorted_times::sort}).data.sample(2).times[0] ==
          doctest::Approx(0.4));
}


namespace {

/// Overwrites the 4-byte length of stored variable-length element `row` of `dataset` in the
/// file (the HDF5 1.10 file format: length, then a global-heap id), as a damaged file has it.
void damage_vlen_length(const std::string& path, const char* dataset, std::size_t row,
                        std::uint32_t length) {
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t set = H5Dopen2(file, dataset, H5P_DEFAULT);
    const haddr_t offset = H5Dget_offset(set);
    hid_t create = H5Fget_create_plist(file);
    std::size_t address_bytes = 0, length_bytes = 0;
    H5Pget_sizes(create, &address_bytes, &length_bytes);
    H5Pclose(create);
    H5Dclose(set);
    H5Fclose(file);
    REQUIRE(offset != HADDR_UNDEF);
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(offset + row * (4 + address_bytes + 4)));
    const unsigned char bytes[4] = {static_cast<unsigned char>(length), static_cast<unsigned char>(length >> 8),
                                    static_cast<unsigned char>(length >> 16),
                                    static_cast<unsigned char>(length >> 24)};
    io.write(reinterpret_cast<const char*>(bytes), 4);
    REQUIRE(io.good());
}

}  // namespace

TEST_CASE("a damaged row length claiming billions of events is refused before HDF5 allocates it") {
    // Found by fuzz_shd: libhdf5 trusts a stored variable-length length and allocates (and
    // clears) that many elements before it notices the heap object is shorter: one damaged
    // string in a 60 KB file cost 4 GB. read_shd checks the claims against the file size first.
    scratch dir("vlen_claim");
    const std::string path = dir / "claims.h5";
    shd_test::write_raw(path, good_raw());
    damage_vlen_length(path, "spikes/times", 1, 0xF0000000u);
    CHECK(contains(message_of<io_error>([&] { read_shd(path); }),
                   "sample 1: /spikes/times claims 4026531840 events in a file of"));

    shd_test::write_raw(path, good_raw());
    damage_vlen_length(path, "spikes/units", 2, 0x10000000u);
    CHECK(contains(message_of<io_error>([&] { read_shd(path); }),
                   "sample 2: /spikes/units claims 268435456 events"));

    // A damaged class name skips /extra/keys with a warning; the samples still read.
    shd_test::write_raw(path, good_raw());
    damage_vlen_length(path, "extra/keys", 0, 0xFFFFFF00u);
    std::vector<std::string> warnings;
    const auto file =
        read_shd(path, {.warning = [&](const std::string& w) { warnings.push_back(w); }});
    CHECK(file.data.size() == 3);
    REQUIRE(warnings.size() == 1);
    CHECK(contains(warnings[0], "/extra/keys skipped: string 0 claims 4294967040 bytes"));
}

TEST_CASE("a file whose datasets claim more rows than its size can hold is refused") {
    // Unwritten rows take no room in an HDF5 file: 10 million claimed samples fit in a few KB.
    scratch dir("row_claim");
    const std::string path = dir / "rows.h5";
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t rows = 10'000'000;
    hid_t space = H5Screate_simple(1, &rows, nullptr);
    hid_t link_list = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(link_list, 1);
    hid_t times = H5Tvlen_create(H5T_IEEE_F32LE), units = H5Tvlen_create(H5T_STD_U16LE);
    for (const auto& [name, type] : {std::pair{"spikes/times", times}, std::pair{"spikes/units", units},
                                     std::pair{"labels", H5T_STD_U16LE}})
        H5Dclose(H5Dcreate2(file, name, type, space, link_list, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(times);
    H5Tclose(units);
    H5Pclose(link_list);
    H5Sclose(space);
    H5Fclose(file);
    CHECK(contains(message_of<io_error>([&] { read_shd(path); }),
                   "/labels claims 10000000 samples in a file of"));
}

TEST_CASE("a damaged string type claiming gigabyte characters is skipped, not allocated") {
    // Found by fuzz_shd (tests/data/shd/README.md): the strings' base type claims characters of
    // 1,879,048,193 bytes; libhdf5 allocated a conversion buffer of that size per string.
    const std::string path =
        std::string(SPIKEGRAD_TEST_DATA_DIR) + "/data/shd/damaged_string_type.h5";
    std::vector<std::string> warnings;
    const auto file =
        read_shd(path, {.warning = [&](const std::string& w) { warnings.push_back(w); }});
    CHECK(file.data.size() == 2);
    REQUIRE(warnings.size() == 1);
    CHECK(contains(warnings[0], "/extra/keys skipped: its variable-length strings have "
                                "characters of 1879048193 bytes (corrupt type)"));
}

TEST_CASE("a damaged global heap that would make libhdf5 loop forever is refused") {
    // Found by fuzz_shd (a timeout; tests/data/shd/README.md): libhdf5 1.10.8 parses a global
    // heap collection by advancing over each object's size, and a free-space object of size 0
    // never advances. read_shd checks the collections its rows point into first.
    const std::string path = std::string(SPIKEGRAD_TEST_DATA_DIR) + "/data/shd/damaged_global_heap.h5";
    CHECK(contains(message_of<io_error>([&] { read_shd(path); }),
                   "sample 0: /spikes/times: a global heap free-space object has size 0"));
}

TEST_CASE("a row pointing to a global heap object that does not exist is refused, not read") {
    // Found by fuzz_shd: libhdf5 1.10.8 reads heap->obj[index] without a bound check, so a
    // damaged index in a row's descriptor was a segmentation fault inside H5Dread.
    scratch dir("heap_index");
    const std::string path = dir / "index.h5";
    shd_test::write_raw(path, good_raw());
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t set = H5Dopen2(file, "spikes/units", H5P_DEFAULT);
    const haddr_t offset = H5Dget_offset(set);
    hid_t create = H5Fget_create_plist(file);
    std::size_t address_bytes = 0, length_bytes = 0;
    H5Pget_sizes(create, &address_bytes, &length_bytes);
    H5Pclose(create);
    H5Dclose(set);
    H5Fclose(file);
    REQUIRE(offset != HADDR_UNDEF);
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    // Row 1's heap object index (after its 4-byte length and the heap address) := 60000.
    io.seekp(static_cast<std::streamoff>(offset + (4 + address_bytes + 4) + 4 + address_bytes));
    const unsigned char index[4] = {0x60, 0xEA, 0, 0};
    io.write(reinterpret_cast<const char*>(index), 4);
    io.close();
    CHECK(contains(message_of<io_error>([&] { read_shd(path); }),
                   "sample 1: /spikes/units: a row points to a global heap object that does not exist"));
}

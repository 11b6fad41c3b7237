// Tests of io/npy.hpp: round trips for every dtype and rank, files written by NumPy, files we
// write checked by NumPy, and malformed files.
#include "python.hpp"

#include <spikegrad/io/npy.hpp>

#include <doctest/doctest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace spikegrad;
using test_io::scratch_file;

namespace {

/// A deterministic value of type T for element i, spanning negatives where T has them.
template <class T>
T sample_value(std::size_t i) {
    if constexpr (std::is_same_v<T, bool>)
        return i % 3 == 1;
    else if constexpr (std::is_floating_point_v<T>)
        return static_cast<T>(i) * T(0.37) - T(2.5);
    else if constexpr (std::is_signed_v<T>)
        return static_cast<T>(static_cast<long long>(i % 50) * 3 - 70);
    else
        return static_cast<T>(i * 7 % 251);
}

template <class T, std::size_t Rank>
void check_round_trip(const std::array<std::size_t, Rank>& shape) {
    tensor<T, Rank> original(shape);
    for (std::size_t i = 0; i < original.size(); ++i) original.data()[i] = sample_value<T>(i);
    const std::string path = scratch_file("round_trip.npy");
    io::save_npy(path, original);
    const auto loaded = io::load_npy<T, Rank>(path);
    REQUIRE(loaded.dimension() == Rank);
    for (std::size_t d = 0; d < Rank; ++d) CHECK(loaded.shape()[d] == shape[d]);
    REQUIRE(loaded.size() == original.size());
    for (std::size_t i = 0; i < loaded.size(); ++i) CHECK(loaded.data()[i] == original.data()[i]);

    const auto any = io::load_npy_any(path);
    CHECK(any.dtype == std::string(io::npy_dtype_of<T>()));
    CHECK(any.shape == std::vector<std::size_t>(shape.begin(), shape.end()));
    CHECK(any.data.size() == original.size() * sizeof(T));
}

template <class T>
void check_all_ranks() {
    check_round_trip<T, 0>({});
    check_round_trip<T, 1>({7});
    check_round_trip<T, 1>({0});
    check_round_trip<T, 2>({3, 4});
    check_round_trip<T, 2>({3, 0});
    check_round_trip<T, 3>({2, 3, 5});
    check_round_trip<T, 4>({2, 1, 3, 2});
}

std::string file_bytes(const std::string& path) {
    return io::read_file(path);
}

void write_bytes(const std::string& path, const std::string& bytes) {
    io::write_atomically(path, [&](std::ofstream& out) {
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    });
}

/// A hand-made .npy file: version 1.0 header with `dict`, then `data`.
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

template <class T>
std::string raw_bytes(const std::vector<T>& values) {
    return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

}  // namespace

TEST_CASE("npy round trip keeps dtype, shape and values for every dtype and rank") {
    check_all_ranks<float>();
    check_all_ranks<double>();
    check_all_ranks<std::int64_t>();
    check_all_ranks<std::int32_t>();
    check_all_ranks<std::int16_t>();
    check_all_ranks<std::int8_t>();
    check_all_ranks<std::uint64_t>();
    check_all_ranks<std::uint32_t>();
    check_all_ranks<std::uint16_t>();
    check_all_ranks<std::uint8_t>();
    check_all_ranks<bool>();
}

TEST_CASE("npy header is version 1.0, 64-byte aligned, and spells the dtype as NumPy does") {
    const std::string path = scratch_file("header.npy");
    io::save_npy(path, tensor<std::uint8_t, 2>({2, 3}, 1));
    const std::string bytes = file_bytes(path);
    REQUIRE(bytes.size() >= 10);
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header_length =
        static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    CHECK((10 + header_length) % 64 == 0);
    CHECK(bytes.size() == 10 + header_length + 6);
    const std::string header = bytes.substr(10, header_length);
    CHECK(header.find("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }") == 0);
    CHECK(header.back() == '\n');

    io::save_npy(path, std::vector<double>{1, 2, 3});
    CHECK(file_bytes(path).find("'shape': (3,)") != std::string::npos);
    io::save_npy_scalar(path, 2.5);
    CHECK(file_bytes(path).find("'shape': ()") != std::string::npos);
}

TEST_CASE("npy scalars are written as 0-d arrays and read back as values or 0-d tensors") {
    const std::string path = scratch_file("scalar.npy");
    io::save_npy_scalar(path, -1.25);
    CHECK(io::load_npy_scalar<double>(path) == -1.25);
    CHECK(io::load_npy<double, 0>(path)() == -1.25);
    CHECK(io::load_npy_any(path).shape.empty());
    CHECK(io::load_npy_any(path).as_doubles() == std::vector<double>{-1.25});
    io::save_npy_scalar(path, std::int64_t{-9});
    CHECK(io::load_npy_scalar<std::int32_t>(path) == -9);
    io::save_npy_scalar(path, true);
    CHECK(io::load_npy_scalar<bool>(path));
    io::save_npy(path, std::vector<float>{1, 2});
    CHECK_THROWS_AS(io::load_npy_scalar<float>(path), io_error);
}

TEST_CASE("npy loading converts numeric dtypes and refuses values that do not fit") {
    const std::string path = scratch_file("convert.npy");
    io::save_npy(path, std::vector<std::int32_t>{-3, 0, 7});
    const auto as_double = io::load_npy<double, 1>(path);
    CHECK(as_double(0) == -3.0);
    CHECK(as_double(2) == 7.0);
    const auto as_int8 = io::load_npy<std::int8_t, 1>(path);
    CHECK(as_int8(0) == -3);
    CHECK_THROWS_AS((io::load_npy<std::uint8_t, 1>(path)), io_error);  // -3 does not fit

    io::save_npy(path, std::vector<double>{1.0, 2.0, 300.0});
    CHECK(io::load_npy<std::int16_t, 1>(path)(2) == 300);
    CHECK_THROWS_AS((io::load_npy<std::int8_t, 1>(path)), io_error);  // 300 > 127
    io::save_npy(path, std::vector<double>{1.5});
    CHECK_THROWS_AS((io::load_npy<std::int64_t, 1>(path)), io_error);
    io::save_npy(path, std::vector<double>{std::numeric_limits<double>::quiet_NaN()});
    CHECK_THROWS_AS((io::load_npy<std::int64_t, 1>(path)), io_error);
    CHECK(std::isnan(io::load_npy<float, 1>(path)(0)));

    io::save_npy(path, std::vector<std::uint8_t>{0, 1, 1});
    const auto as_bool = io::load_npy<bool, 1>(path);
    CHECK(!as_bool(0));
    CHECK(as_bool(1));
    io::save_npy(path, std::vector<std::uint8_t>{0, 2});
    CHECK_THROWS_AS((io::load_npy<bool, 1>(path)), io_error);

    tensor<bool, 1> flags(std::array<std::size_t, 1>{3});
    flags(0) = true, flags(1) = false, flags(2) = true;
    io::save_npy(path, flags);
    const auto counts = io::load_npy<float, 1>(path);
    CHECK(counts(0) == 1.0f);
    CHECK(counts(1) == 0.0f);
}

TEST_CASE("npy_array holds any supported file and saves it back unchanged") {
    const std::string path = scratch_file("any.npy");
    tensor<std::uint16_t, 2> t({2, 2});
    t(0, 0) = 1, t(0, 1) = 2, t(1, 0) = 65535, t(1, 1) = 4;
    io::save_npy(path, t);
    const auto any = io::load_npy_any(path);
    CHECK(any.dtype == "<u2");
    CHECK(any.rank() == 2);
    CHECK(any.size() == 4);
    CHECK(any.item_size() == 2);
    CHECK(!any.is_floating());
    CHECK(any.as_doubles() == std::vector<double>{1, 2, 65535, 4});
    const auto back = any.to_tensor<std::int32_t, 2>();
    CHECK(back(1, 0) == 65535);
    CHECK_THROWS_AS((any.to_tensor<float, 1>()), shape_error);
    const std::string copy = scratch_file("any_copy.npy");
    io::save_npy(copy, any);
    CHECK(file_bytes(copy) == file_bytes(path));
}

TEST_CASE("npy version 2.0 headers are written when the header needs them and read back") {
    // 22000 unit extents make a header longer than 65535 bytes (NumPy itself caps ranks at 32 or
    // 64, so this is a test of our reader and writer only).
    const std::vector<std::size_t> shape(22000, 1);
    const double value = 4.5;
    const std::string path = scratch_file("v2.npy");
    io::save_npy(path, &value, shape);
    const std::string bytes = file_bytes(path);
    CHECK(bytes[6] == '\x02');
    const auto any = io::load_npy_any(path);
    CHECK(any.shape == shape);
    CHECK(any.as_doubles() == std::vector<double>{4.5});
}

TEST_CASE("malformed npy files raise io_error naming the file and the problem") {
    const std::string path = scratch_file("bad.npy");
    auto message_of = [&](auto&& load) {
        try {
            load();
        } catch (const io_error& e) {
            return std::string(e.what());
        }
        return std::string("no io_error");
    };
    auto load_2d = [&] { (void)io::load_npy<double, 2>(path); };

    SUBCASE("truncated data") {
        io::save_npy(path, tensor<double, 2>({3, 4}, 1.0));
        std::string bytes = file_bytes(path);
        write_bytes(path, bytes.substr(0, bytes.size() - 5));
        const auto message = message_of(load_2d);
        CHECK(message.find(path) != std::string::npos);
        CHECK(message.find("truncated") != std::string::npos);
        CHECK_THROWS_AS(io::load_npy_any(path), io_error);
    }
    SUBCASE("truncated header") {
        io::save_npy(path, tensor<double, 2>({3, 4}, 1.0));
        write_bytes(path, file_bytes(path).substr(0, 40));
        CHECK(message_of(load_2d).find("truncated") != std::string::npos);
    }
    SUBCASE("not an npy file") {
        write_bytes(path, "a,b,c\n1,2,3\n");
        const auto message = message_of(load_2d);
        CHECK(message.find(path) != std::string::npos);
        CHECK(message.find("not a .npy file") != std::string::npos);
        write_bytes(path, "");
        CHECK(message_of(load_2d).find("not a .npy file") != std::string::npos);
    }
    SUBCASE("missing file") {
        CHECK(message_of([&] {
                  (void)io::load_npy<double, 1>(scratch_file("none.npy"));
              }).find("cannot open") != std::string::npos);
    }
    SUBCASE("fortran order") {
        write_bytes(path, npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                                   raw_bytes(std::vector<double>{1, 2, 3, 4})));
        CHECK(message_of(load_2d).find("fortran_order") != std::string::npos);
    }
    SUBCASE("rank mismatch") {
        io::save_npy(path, std::vector<double>{1, 2, 3});
        const auto message = message_of(load_2d);
        CHECK(message.find("rank mismatch") != std::string::npos);
        CHECK(message.find("(3,)") != std::string::npos);
    }
    SUBCASE("big-endian dtype") {
        write_bytes(path, npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }",
                                   std::string(8, '\0')));
        CHECK(message_of(load_2d).find("big-endian") != std::string::npos);
    }
    SUBCASE("unknown dtype") {
        write_bytes(path, npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }",
                                   std::string(16, '\0')));
        CHECK(message_of(load_2d).find("unsupported dtype '<c16'") != std::string::npos);
        write_bytes(path, npy_file("{'descr': [('a', '<f8')], 'fortran_order': False, "
                                   "'shape': (1, 1), }",
                                   std::string(8, '\0')));
        CHECK(message_of(load_2d).find("structured") != std::string::npos);
    }
    SUBCASE("malformed header dict") {
        write_bytes(path, npy_file("{'descr': '<f8', 'shape': (1, 1), }", std::string(8, '\0')));
        CHECK(message_of(load_2d).find("malformed npy header") != std::string::npos);
        write_bytes(path, npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, -1), }",
                                   std::string(8, '\0')));
        CHECK(message_of(load_2d).find("malformed npy header") != std::string::npos);
        write_bytes(path, npy_file("garbage", ""));
        CHECK(message_of(load_2d).find("malformed npy header") != std::string::npos);
    }
    SUBCASE("unknown format version") {
        std::string bytes = npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }",
                                     std::string(8, '\0'));
        bytes[6] = '\x07';
        write_bytes(path, bytes);
        CHECK(message_of(load_2d).find("version 7") != std::string::npos);
    }
}

TEST_CASE("npy files written by NumPy are read with the values NumPy computed") {
    REQUIRE_MESSAGE(test_io::has_numpy(), "needs NumPy in " SPIKEGRAD_SYSTEM_PYTHON
                                          " (scripts/install-deps.sh installs python3-numpy)");
    const auto result = test_io::run_python(R"PY(
import numpy as np
np.save('np_f8.npy', np.arange(12, dtype='<f8').reshape(3, 4) * 0.5)
np.save('np_i4.npy', np.arange(-5, 5, dtype='<i4'))
np.save('np_i8.npy', np.array([-2**62, 0, 2**62 + 3], dtype='<i8'))
np.save('np_u8.npy', np.array([2**63 + 5, 1], dtype='<u8'))
np.save('np_u4.npy', np.array([4000000000, 7], dtype='<u4'))
np.save('np_u2.npy', np.array([[65535, 2], [3, 4]], dtype='<u2'))
np.save('np_i2.npy', np.array([-32768, 32767], dtype='<i2'))
np.save('np_u1.npy', (np.arange(24) * 11 % 256).astype(np.uint8).reshape(2, 3, 4))
np.save('np_b1.npy', np.array([[True, False, True]]))
np.save('np_f4.npy', np.linspace(0, 1, 5, dtype='<f4'))
np.save('np_scalar.npy', np.float64(3.25))
np.save('np_empty.npy', np.zeros((0, 3), dtype='<f4'))
np.save('np_fortran.npy', np.asfortranarray(np.arange(6, dtype='<f8').reshape(2, 3)))
np.save('np_big.npy', np.arange(4, dtype='>f8'))
with open('np_v2.npy', 'wb') as f:
    np.lib.format.write_array(f, np.arange(6, dtype='<i8').reshape(2, 3), version=(2, 0))
rng = np.random.default_rng(0)
r = rng.standard_normal((4, 5))
np.save('np_random.npy', r)
print(repr(float(r.sum())), repr(float(r[2, 3])))
)PY");
    REQUIRE_MESSAGE(result.status == 0, result.output);

    const auto f8 = io::load_npy<double, 2>(scratch_file("np_f8.npy"));
    REQUIRE(f8.shape()[0] == 3);
    REQUIRE(f8.shape()[1] == 4);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 4; ++j) CHECK(f8(i, j) == static_cast<double>(i * 4 + j) * 0.5);

    const auto i4 = io::load_npy<std::int32_t, 1>(scratch_file("np_i4.npy"));
    REQUIRE(i4.size() == 10);
    for (std::size_t i = 0; i < 10; ++i) CHECK(i4(i) == static_cast<int>(i) - 5);

    const auto i8 = io::load_npy<std::int64_t, 1>(scratch_file("np_i8.npy"));
    CHECK(i8(0) == -(std::int64_t{1} << 62));
    CHECK(i8(2) == (std::int64_t{1} << 62) + 3);
    const auto u8 = io::load_npy<std::uint64_t, 1>(scratch_file("np_u8.npy"));
    CHECK(u8(0) == (std::uint64_t{1} << 63) + 5);
    CHECK_THROWS_AS((io::load_npy<std::int64_t, 1>(scratch_file("np_u8.npy"))), io_error);
    CHECK(io::load_npy<std::uint32_t, 1>(scratch_file("np_u4.npy"))(0) == 4000000000u);
    const auto u2 = io::load_npy<std::uint16_t, 2>(scratch_file("np_u2.npy"));
    CHECK(u2(0, 0) == 65535);
    CHECK(u2(1, 1) == 4);
    const auto i2 = io::load_npy<std::int16_t, 1>(scratch_file("np_i2.npy"));
    CHECK(i2(0) == -32768);
    CHECK(i2(1) == 32767);
    const auto u1 = io::load_npy<std::uint8_t, 3>(scratch_file("np_u1.npy"));
    for (std::size_t i = 0; i < 24; ++i) CHECK(u1.data()[i] == i * 11 % 256);
    const auto b1 = io::load_npy<bool, 2>(scratch_file("np_b1.npy"));
    CHECK(b1.shape()[1] == 3);
    CHECK(b1(0, 0));
    CHECK(!b1(0, 1));
    const auto f4 = io::load_npy<float, 1>(scratch_file("np_f4.npy"));
    CHECK(f4(1) == 0.25f);
    CHECK(io::load_npy_scalar<double>(scratch_file("np_scalar.npy")) == 3.25);
    const auto empty = io::load_npy<float, 2>(scratch_file("np_empty.npy"));
    CHECK(empty.shape()[0] == 0);
    CHECK(empty.shape()[1] == 3);
    const auto v2 = io::load_npy<std::int64_t, 2>(scratch_file("np_v2.npy"));
    CHECK(v2(1, 2) == 5);
    CHECK_THROWS_AS((io::load_npy<double, 2>(scratch_file("np_fortran.npy"))), io_error);
    CHECK_THROWS_AS((io::load_npy<double, 1>(scratch_file("np_big.npy"))), io_error);

    // Python's repr of a float reads back to the same double.
    const auto space = result.output.find(' ');
    double sum = 0, element = 0;
    std::from_chars(result.output.data(), result.output.data() + space, sum);
    std::from_chars(result.output.data() + space + 1, result.output.data() + result.output.size(),
                    element);
    const auto random = io::load_npy<double, 2>(scratch_file("np_random.npy"));
    CHECK(random(2, 3) == element);
    double total = 0;
    for (double v : random) total += v;
    CHECK(total == doctest::Approx(sum).epsilon(1e-12));
}

TEST_CASE("npy files we write load in NumPy with the right dtype, shape and values") {
    REQUIRE_MESSAGE(test_io::has_numpy(), "needs NumPy in " SPIKEGRAD_SYSTEM_PYTHON
                                          " (scripts/install-deps.sh installs python3-numpy)");
    tensor<double, 2> f8({3, 4});
    for (std::size_t i = 0; i < f8.size(); ++i) f8.data()[i] = static_cast<double>(i) * 0.5;
    io::save_npy(scratch_file("sg_f8.npy"), f8);
    tensor<float, 3> f4({2, 3, 4});
    for (std::size_t i = 0; i < f4.size(); ++i) f4.data()[i] = static_cast<float>(i) / 8 - 1;
    io::save_npy(scratch_file("sg_f4.npy"), f4);
    io::save_npy(scratch_file("sg_i8.npy"), std::vector<std::int64_t>{-(std::int64_t{1} << 62), 5});
    io::save_npy(scratch_file("sg_i4.npy"), std::vector<std::int32_t>{-7, 8});
    io::save_npy(scratch_file("sg_i2.npy"), std::vector<std::int16_t>{-32768, 32767});
    io::save_npy(scratch_file("sg_i1.npy"), std::vector<std::int8_t>{-128, 127});
    io::save_npy(scratch_file("sg_u8.npy"),
                 std::vector<std::uint64_t>{(std::uint64_t{1} << 63) + 5});
    io::save_npy(scratch_file("sg_u4.npy"), std::vector<std::uint32_t>{4000000000u});
    io::save_npy(scratch_file("sg_u2.npy"), std::vector<std::uint16_t>{65535});
    io::save_npy(scratch_file("sg_u1.npy"), std::vector<std::uint8_t>{0, 255});
    tensor<bool, 2> b1({2, 2});
    b1(0, 0) = true, b1(0, 1) = false, b1(1, 0) = false, b1(1, 1) = true;
    io::save_npy(scratch_file("sg_b1.npy"), b1);
    io::save_npy_scalar(scratch_file("sg_scalar.npy"), 2.75);
    io::save_npy(scratch_file("sg_empty.npy"), tensor<float, 2>({0, 5}));

    const auto result = test_io::run_python(R"PY(
import numpy as np
def check(name, dtype, shape, values):
    a = np.load(name)
    assert a.dtype == np.dtype(dtype), (name, a.dtype)
    assert a.shape == shape, (name, a.shape)
    assert np.array_equal(a, np.asarray(values, dtype=dtype)), (name, a)
check('sg_f8.npy', '<f8', (3, 4), np.arange(12).reshape(3, 4) * 0.5)
check('sg_f4.npy', '<f4', (2, 3, 4), (np.arange(24) / 8 - 1).reshape(2, 3, 4))
check('sg_i8.npy', '<i8', (2,), [-2**62, 5])
check('sg_i4.npy', '<i4', (2,), [-7, 8])
check('sg_i2.npy', '<i2', (2,), [-32768, 32767])
check('sg_i1.npy', '|i1', (2,), [-128, 127])
check('sg_u8.npy', '<u8', (1,), [2**63 + 5])
check('sg_u4.npy', '<u4', (1,), [4000000000])
check('sg_u2.npy', '<u2', (1,), [65535])
check('sg_u1.npy', '|u1', (2,), [0, 255])
check('sg_b1.npy', '|b1', (2, 2), [[True, False], [False, True]])
check('sg_scalar.npy', '<f8', (), 2.75)
check('sg_empty.npy', '<f4', (0, 5), np.zeros((0, 5)))
print('all ok')
)PY");
    CHECK_MESSAGE(result.status == 0, result.output);
    CHECK(result.output.find("all ok") != std::string::npos);
}

TEST_CASE("a header claiming a huge shape raises io_error before allocating anything") {
    // 1e12 doubles (8 TB) promised, 16 bytes present: the reader allocated the promised size
    // before reading (std::bad_alloc, or an out-of-memory death under a fuzzer's limit).
    const std::string path = scratch_file("huge.npy");
    write_bytes(path, npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }",
                               std::string(16, '\0')));
    CHECK_THROWS_WITH_AS(io::load_npy_any(path),
                         doctest::Contains("truncated: header promises 8000000000000 data bytes"),
                         io_error);
    CHECK_THROWS_WITH_AS((io::load_npy<double, 2>(path)), doctest::Contains("truncated"), io_error);
    CHECK_THROWS_WITH_AS(io::load_npy_scalar<double>(path), doctest::Contains("truncated"), io_error);
}

// libFuzzer target: read_shd (data/shd.hpp). Two modes, by the input's first byte:
// - even: the rest of the input describes an SHD-layout file's content (samples, times of any
//   value incl. NaN, inf and negative, units of any 64-bit value, labels, class names, the
//   stored element types incl. h5py's float16, missing datasets, mismatched lengths), which
//   tests/shd/helpers.hpp's raw writer writes with the HDF5 C API; the reader's own checks get
//   the inputs they are for, in a valid HDF5 container.
// - odd: the rest is the file's bytes (damaged containers; failures inside libhdf5 on them
//   are HDF5's to fix, see docs/reliability.md).
// A file that reads is binned and jittered, as the examples do.
#include "../tests/shd/helpers.hpp"
#include "support.hpp"

#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/shd.hpp>
#include <spikegrad/data/transforms.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>

namespace {

hid_t pick_type(FuzzedDataProvider& in, bool times) {
    static const hid_t floats[] = {H5T_IEEE_F32LE, H5T_IEEE_F64LE, H5T_IEEE_F32BE, H5T_STD_I32LE};
    static const hid_t integers[] = {H5T_STD_U16LE, H5T_STD_I32LE, H5T_STD_I64LE, H5T_STD_U8LE,
                                     H5T_STD_U64LE, H5T_IEEE_F32LE};
    if (times) {
        const auto k = in.ConsumeIntegralInRange<int>(0, 4);
        if (k == 4) {
            static spikegrad::detail::h5::handle half =
                spikegrad::detail::h5::file_type(spikegrad::shd_element::float16);
            return half.get();
        }
        return floats[k];
    }
    return integers[in.ConsumeIntegralInRange<int>(0, 5)];
}

double pick_time(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
        case 0: return std::numeric_limits<double>::quiet_NaN();
        case 1: return std::numeric_limits<double>::infinity();
        case 2: return -in.ConsumeFloatingPointInRange<double>(0, 2);
        case 3: return in.ConsumeFloatingPoint<double>();
        default: return in.ConsumeFloatingPointInRange<double>(0, 1.6);
    }
}

long long pick_unit(FuzzedDataProvider& in) {
    return in.ConsumeBool() ? in.ConsumeIntegralInRange<long long>(0, 40)
                            : in.ConsumeIntegral<long long>();
}

void write_structured(const std::string& path, FuzzedDataProvider& in) {
    shd_test::raw_file f;
    f.with_times = in.ConsumeIntegralInRange<int>(0, 15) != 0;
    f.with_units = in.ConsumeIntegralInRange<int>(0, 15) != 0;
    f.with_labels = in.ConsumeIntegralInRange<int>(0, 15) != 0;
    f.time_type = pick_type(in, true);
    f.unit_type = pick_type(in, false);
    f.label_type = pick_type(in, false);
    const auto samples = in.ConsumeIntegralInRange<std::size_t>(0, 6);
    const bool mismatch = in.ConsumeIntegralInRange<int>(0, 7) == 0;
    for (std::size_t s = 0; s < samples; ++s) {
        const auto length = in.ConsumeIntegralInRange<std::size_t>(0, 12);
        std::vector<double> times;
        std::vector<long long> units;
        for (std::size_t e = 0; e < length; ++e) {
            times.push_back(pick_time(in));
            units.push_back(pick_unit(in));
        }
        if (mismatch && s == 0 && !units.empty()) units.pop_back();
        f.times.push_back(std::move(times));
        f.units.push_back(std::move(units));
        f.labels.push_back(in.ConsumeBool() ? in.ConsumeIntegralInRange<long long>(0, 4)
                                            : in.ConsumeIntegral<long long>());
    }
    if (mismatch && in.ConsumeBool() && !f.labels.empty()) f.labels.pop_back();
    const auto keys = in.ConsumeIntegralInRange<std::size_t>(0, 5);
    for (std::size_t k = 0; k < keys; ++k) f.keys.push_back(in.ConsumeRandomLengthString(8));
    shd_test::write_raw(path, f);
}

}  // namespace

// Raw mode reaches libhdf5's own parsing of damaged containers. Found there (HDF5 1.10.8 of
// Debian 12, H5C_protect): a corrupt size makes HDF5 call malloc(~1.7e19), which ASan aborts
// on by default; in a normal process malloc returns NULL, HDF5 fails the call and read_shd
// raises io_error, so the target lets malloc return NULL as it does outside ASan. HDF5 leaks
// a few bytes on that error path: leaks inside libhdf5 are suppressed, ours are still reported.
// The same holds for the 4 GiB that libhdf5 reserves inside H5Fopen when a damaged object
// header claims it (it then fails the read without touching the memory): allocations above
// 2 GiB return NULL here, so HDF5 fails at once instead of ASan mapping 4 GiB (2 s each).
extern "C" const char* __asan_default_options() {
    return "allocator_may_return_null=1:max_allocation_size_mb=2048";
}
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5"; }
// Also found in raw mode, inside libhdf5 1.10.8 itself: H5Dopen2 on a damaged object header
// strdup()s a name that is not terminated inside its buffer (a heap over-read in H5O message
// decoding; input fuzz/corpus/shd/libhdf5-overread-h5dopen, docs/reliability.md). Reports from
// interceptors (strdup, memcpy, ...) called by libhdf5 are HDF5's to fix, so they are
// suppressed; every report in our code and every other kind of report still stops the run.
extern "C" const char* __asan_default_suppressions() {
    return "interceptor_via_lib:libhdf5_serial.so";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace spikegrad;
    static const std::string path = fuzz::scratch_file("input.h5");
    // libhdf5 callocs its metadata cache (~1 MB) on every open and frees it on close; keeping
    // up to 64 MB of freed blocks in its free lists (16 MB a list) avoids a fresh mmap and its
    // page faults per execution (about half the time under ASan), without changing what is read.
    [[maybe_unused]] static const herr_t kept =
        H5set_free_list_limits(64 << 20, 16 << 20, 64 << 20, 16 << 20, 64 << 20, 16 << 20);
    if (size == 0) return 0;
    // Structured mode (the default): arbitrary SHD content in valid HDF5 containers, the part
    // of read_shd the project owns. SPIKEGRAD_FUZZ_SHD=mixed also feeds half the inputs to
    // libhdf5 as raw files: that reaches libhdf5's parsing of damaged object headers in
    // H5Fopen / H5Dopen2, where libhdf5 1.10.8 itself crashes on some inputs before read_shd can
    // check anything (docs/reliability.md, J), so CI and campaigns run structured.
    static const bool mixed = [] {
        const char* mode = std::getenv("SPIKEGRAD_FUZZ_SHD");
        return mode && std::string(mode) == "mixed";
    }();
    const bool raw = mixed && data[0] % 2 == 1;
    // Raw mode: 6 option bytes, then the file; structured mode: one stream for both.
    const std::size_t option_bytes = raw ? std::min<std::size_t>(6, size - 1) : size - 1;
    FuzzedDataProvider in(data + 1, option_bytes);
    shd_read_options options;
    options.n_units = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange<std::size_t>(1, 64);
    options.n_classes = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange<std::size_t>(1, 8);
    options.on_unsorted = in.ConsumeBool() ? unsorted_times::reject : unsorted_times::sort;
    options.chunk_samples = in.ConsumeIntegralInRange<std::size_t>(1, 4);
    options.read_extra = in.ConsumeBool();
    if (raw) {
        fuzz::write_file(path, data + 1 + option_bytes, size - 1 - option_bytes);
    } else {
        detail::h5::quiet_errors quiet;
        write_structured(path, in);
    }
    shd_file file;
    try {
        file = read_shd(path, options);
    } catch (const spikegrad::error&) {
        return 0;
    }
    try {
        const auto batch = bin_events(file.data, {.dt_ms = 14.0, .n_steps = 100});
        (void)batch;
        (void)jitter_per_spike(file.data, 0.025, 1);
    } catch (const spikegrad::error&) {
    }
    return 0;
}

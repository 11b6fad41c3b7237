/// \file
/// spikegrad: reading and writing the Spiking Heidelberg Digits / Spiking Speech Commands files
/// (Cramer, Stradmann, Schemmel, Zenke 2020, IEEE TNNLS; https://zenkelab.org/datasets/) with the
/// HDF5 C API: /spikes/times, /spikes/units (one variable-length row per sample), /labels, /extra.
/// The /extra model is shd_extra.hpp, the HDF5 handles hdf5.hpp; this header includes both.
#pragma once

#include "../core/error.hpp"
#include "dataset.hpp"
#include "hdf5.hpp"
#include "shd_extra.hpp"
#include "split.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <unistd.h>
#include <utility>
#include <vector>

namespace spikegrad {

/// Element type of /spikes/times in a written file.
enum class shd_time_type {
    /// IEEE single precision: our in-memory type, so writing then reading is lossless.
    float32,
    /// IEEE half precision in h5py's layout (reads as numpy float16); ~0.5 ms resolution at 1 s.
    float16,
};

/// Options of read_shd: input channels, class names, which extra datasets to keep.
struct shd_read_options {
    /// Input channels; 0 means the root attribute "n_units" when the file has one, else 700
    /// (the cochlea model of SHD and SSC). Units >= n_units raise data_error.
    std::size_t n_units = 0;
    /// Classes; 0 means the number of names in /extra/keys when present, else max label + 1.
    std::size_t n_classes = 0;
    /// Nominal sample length in seconds (SPEC section 6: 100 bins over 1.4 s).
    double duration_s = 1.4;
    /// A sample whose times decrease: data_error (reject, the default) or sorted, reported
    /// through `warning` and counted in the dataset's reordered_samples() (sort).
    unsorted_times on_unsorted = unsorted_times::reject;
    /// Samples read per HDF5 call: bounds the transient memory of the variable-length rows.
    std::size_t chunk_samples = 256;
    /// Read /extra (speaker, keys, meta_info); keys become the class names either way.
    bool read_extra = true;
    /// Called after every chunk with (samples done, samples in the file); quiet when empty.
    std::function<void(std::size_t done, std::size_t total)> progress{};
    /// Receives messages about sorted samples and skipped /extra entries; quiet when empty.
    std::function<void(const std::string& message)> warning{};
};

/// Options of write_shd: the time type on disk and whether class names are written.
struct shd_write_options {
    shd_time_type time_type = shd_time_type::float32;
    /// Write the dataset's class names as /extra/keys (in the string kind of extra's keys when
    /// it has some, replacing them), so that reading gives the same class names back; false
    /// writes extra's keys, if any, unchanged.
    bool write_class_names = true;
    std::size_t chunk_samples = 256;
    /// Called after every chunk written; an exception thrown here aborts the write cleanly.
    std::function<void(std::size_t done, std::size_t total)> progress{};
};

/// A file's content: the spikes (times in seconds) and the /extra fields beside them.
struct shd_file {
    spike_dataset data;
    shd_extra extra;

    /// Samples at `indices` with their speakers.
    shd_file subset(std::span<const std::size_t> indices) const {
        return {data.subset(indices), extra.select_samples(indices, data.size())};
    }
};

namespace detail::h5 {

/// The file type of an element, as h5py writes it (little-endian; float16 as h5py builds it).
inline handle file_type(shd_element element) {
    auto copy = [](hid_t type) { return handle(H5Tcopy(type), H5Tclose); };
    switch (element) {
        case shd_element::int8:
            return copy(H5T_STD_I8LE);
        case shd_element::uint8:
            return copy(H5T_STD_U8LE);
        case shd_element::int16:
            return copy(H5T_STD_I16LE);
        case shd_element::uint16:
            return copy(H5T_STD_U16LE);
        case shd_element::int32:
            return copy(H5T_STD_I32LE);
        case shd_element::uint32:
            return copy(H5T_STD_U32LE);
        case shd_element::int64:
            return copy(H5T_STD_I64LE);
        case shd_element::uint64:
            return copy(H5T_STD_U64LE);
        case shd_element::float32:
            return copy(H5T_IEEE_F32LE);
        case shd_element::float64:
            return copy(H5T_IEEE_F64LE);
        case shd_element::float16: {
            // h5py's recipe: sign bit 15, exponent bits 10-14 (bias 15), mantissa bits 0-9.
            handle type = copy(H5T_IEEE_F32LE);
            if (H5Tset_fields(type.get(), 15, 10, 5, 0, 10) < 0 || H5Tset_size(type.get(), 2) < 0 ||
                H5Tset_ebias(type.get(), 15) < 0)
                raise<io_error>("shd: cannot build the float16 type: ", last_error());
            return type;
        }
        case shd_element::string:
            return copy(H5T_C_S1);
    }
    return copy(H5T_IEEE_F64LE);
}

/// Whether a stored float type is little-endian IEEE half precision as h5py writes it (then we
/// convert the bits ourselves, see float_to_half).
inline bool is_ieee_half(hid_t type) {
    if (H5Tget_class(type) != H5T_FLOAT || H5Tget_size(type) != 2) return false;
    handle half = file_type(shd_element::float16);
    return H5Tequal(type, half.get()) > 0;
}

/// The element of a stored type, or false for types /extra does not carry (compound, enum...).
inline bool element_of(hid_t type, shd_element& out) {
    const H5T_class_t kind = H5Tget_class(type);
    const std::size_t size = H5Tget_size(type);
    if (kind == H5T_INTEGER) {
        const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
        switch (size) {
            case 1:
                out = is_signed ? shd_element::int8 : shd_element::uint8;
                return true;
            case 2:
                out = is_signed ? shd_element::int16 : shd_element::uint16;
                return true;
            case 4:
                out = is_signed ? shd_element::int32 : shd_element::uint32;
                return true;
            case 8:
                out = is_signed ? shd_element::int64 : shd_element::uint64;
                return true;
            default:
                return false;
        }
    }
    if (kind == H5T_FLOAT) {
        switch (size) {
            case 2:
                out = shd_element::float16;
                return true;
            case 4:
                out = shd_element::float32;
                return true;
            case 8:
                out = shd_element::float64;
                return true;
            default:
                return false;
        }
    }
    if (kind == H5T_STRING) {
        out = shd_element::string;
        return true;
    }
    return false;
}

/// The size of the file that holds `object`, in bytes (0 when HDF5 cannot say).
inline std::size_t file_size_of(hid_t object) {
    handle file(H5Iget_file_id(object), H5Fclose);
    hsize_t size = 0;
    if (!file.valid() || H5Fget_filesize(file.get(), &size) < 0) return 0;
    return static_cast<std::size_t>(size);
}

/// The name of the file that holds `object` (empty when HDF5 cannot say).
inline std::string file_name_of(hid_t object) {
    const ssize_t length = H5Fget_name(object, nullptr, 0);
    if (length <= 0) return {};
    std::string name(static_cast<std::size_t>(length) + 1, '\0');
    H5Fget_name(object, name.data(), name.size());
    name.resize(static_cast<std::size_t>(length));
    return name;
}

/// Reads one /extra dataset; false (with a reason) when its type is not carried.
inline bool read_extra_dataset(hid_t dataset, const std::string& name, shd_extra_dataset& out,
                               std::string& reason) {
    handle type(H5Dget_type(dataset), H5Tclose);
    shd_element element{};
    if (!type.valid() || !element_of(type.get(), element)) {
        reason = "its element type is neither a number nor a string";
        return false;
    }
    handle space(H5Dget_space(dataset), H5Sclose);
    if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) {
        reason = "it has a null dataspace";
        return false;
    }
    const auto dims = dims_of(dataset);
    std::size_t n = 1;
    out.name = name;
    out.type = element;
    out.shape.assign(dims.begin(), dims.end());
    bool overflow = false;
    for (hsize_t d : dims) {
        if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) overflow = true;
        n *= static_cast<std::size_t>(d);
    }
    // Every byte of content takes room in the file: a byte, or at least 1/1032 of one
    // (deflate's best ratio) in a chunked dataset, the only layout with filters. A damaged
    // dataspace must not make us allocate terabytes (found by fuzz_shd: 2^41 string pointers
    // for one /extra dataset), nor make libhdf5 look up millions of strings.
    const hsize_t stored = H5Dget_storage_size(dataset);
    handle create(H5Dget_create_plist(dataset), H5Pclose);
    const bool chunked = create.valid() && H5Pget_layout(create.get()) == H5D_CHUNKED;
    constexpr std::uint64_t deflate_ratio = 1032, slack = std::uint64_t{1} << 20;
    const std::uint64_t room =
        !chunked ? stored
        : stored > (std::numeric_limits<std::uint64_t>::max() - slack) / deflate_ratio
            ? std::numeric_limits<std::uint64_t>::max()
            : stored * deflate_ratio + slack;
    if (overflow || n > room) {
        reason = "it claims " + std::to_string(n) + " elements but stores " +
                 std::to_string(stored) + " bytes";
        return false;
    }
    if (element != shd_element::string) {
        out.numbers.assign(n, 0.0);
        if (n > 0 && is_ieee_half(type.get())) {
            std::vector<std::uint16_t> bits(n);
            if (H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data()) < 0) {
                reason = "reading it failed: " + last_error();
                return false;
            }
            for (std::size_t k = 0; k < n; ++k) out.numbers[k] = half_to_float(bits[k]);
        } else if (n > 0 && H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    out.numbers.data()) < 0) {
            reason = "reading it failed: " + last_error();
            return false;
        }
        return true;
    }
    // A damaged type can claim characters of a gigabyte each (found by fuzz_shd: libhdf5 then
    // allocates a conversion buffer of that size per string), or fixed-length strings larger
    // than the dataset's storage.
    if (H5Tis_variable_str(type.get()) > 0) {
        handle base(H5Tget_super(type.get()), H5Tclose);
        if (!base.valid() || H5Tget_size(base.get()) != 1) {
            reason = "its variable-length strings have characters of " +
                     std::to_string(base.valid() ? H5Tget_size(base.get()) : 0) +
                     " bytes (corrupt type)";
            return false;
        }
    } else if (n > 0 && H5Tget_size(type.get()) > room / n) {
        reason = "it claims " + std::to_string(n) + " strings of " +
                 std::to_string(H5Tget_size(type.get())) + " bytes but stores " +
                 std::to_string(stored) + " bytes";
        return false;
    }
    out.utf8 = H5Tget_cset(type.get()) == H5T_CSET_UTF8;
    handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_cset(memory.get(), out.utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    out.strings.clear();
    if (H5Tis_variable_str(type.get()) > 0) {
        out.string_size = 0;
        H5Tset_size(memory.get(), H5T_VARIABLE);
        std::vector<char*> pointers(n, nullptr);
        const std::size_t file_bytes = file_size_of(dataset);
        const auto claim = first_vlen_claim_above(dataset, file_name_of(dataset), file_bytes, 1);
        if (claim.found && claim.heap_damage) {
            reason = "string " + std::to_string(claim.index) + ": " + claim.heap_damage +
                     " (corrupt file)";
            return false;
        }
        if (claim.found) {
            reason = "string " + std::to_string(claim.index) + " claims " +
                     std::to_string(claim.length) + " bytes in a file of " +
                     std::to_string(file_bytes) + " bytes (corrupt file)";
            return false;
        }
        if (n > 0) {
            vlen_budget budget(vlen_budget::for_file(file_bytes));
            const herr_t status = H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL,
                                          budget.transfer(), pointers.data());
            for (char* p : pointers) out.strings.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(memory.get(), space.get(), budget.transfer(), pointers.data());
#else
            H5Dvlen_reclaim(memory.get(), space.get(), budget.transfer(), pointers.data());
#endif
            if (status < 0) {
                reason = budget.refused()
                             ? "its strings claim more than " + std::to_string(budget.limit()) +
                                   " bytes (corrupt file)"
                             : "reading it failed: " + last_error();
                out.strings.clear();
                return false;
            }
        }
        return true;
    }
    const std::size_t size = H5Tget_size(type.get());
    out.string_size = size;
    H5Tset_size(memory.get(), size);
    H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
    std::vector<char> buffer(n * size, '\0');
    if (n > 0 && H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
        reason = "reading it failed: " + last_error();
        return false;
    }
    const bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
    for (std::size_t k = 0; k < n; ++k) {
        std::string s(buffer.data() + k * size, size);
        s.resize(std::strlen(s.c_str()));
        if (space_padded) s.erase(s.find_last_not_of(' ') + 1);
        out.strings.push_back(std::move(s));
    }
    return true;
}

/// Walks a group of /extra in name order, reading every dataset it can carry.
inline void read_extra_group(hid_t group, const std::string& prefix, const std::string& path,
                             shd_extra& extra, const shd_read_options& options) {
    H5G_info_t info{};
    if (H5Gget_info(group, &info) < 0)
        raise<io_error>("shd: ", path, ": cannot list /extra/", prefix, ": ", last_error());
    for (hsize_t k = 0; k < info.nlinks; ++k) {
        const ssize_t length =
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, nullptr, 0, H5P_DEFAULT);
        if (length < 0) raise<io_error>("shd: ", path, ": cannot list /extra: ", last_error());
        std::string name(static_cast<std::size_t>(length) + 1, '\0');
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, name.data(), name.size(),
                           H5P_DEFAULT);
        name.resize(static_cast<std::size_t>(length));
        const std::string full = prefix.empty() ? name : prefix + "/" + name;
        handle object(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose);
        if (!object.valid()) {
            if (options.warning)
                options.warning("shd: " + path + ": /extra/" + full + " skipped: cannot open it");
            H5Eclear2(H5E_DEFAULT);
            continue;
        }
        const H5I_type_t kind = H5Iget_type(object.get());
        if (kind == H5I_GROUP) {
            read_extra_group(object.get(), full, path, extra, options);
        } else if (kind == H5I_DATASET) {
            shd_extra_dataset dataset;
            std::string reason;
            if (read_extra_dataset(object.get(), full, dataset, reason))
                extra.datasets.push_back(std::move(dataset));
            else if (options.warning)
                options.warning("shd: " + path + ": /extra/" + full + " skipped: " + reason);
        }
    }
}

inline void write_extra_dataset(hid_t file, hid_t link_list, const shd_extra_dataset& d,
                                const std::string& path) {
    const std::string where = "extra/" + d.name;
    std::size_t n = 1;
    for (std::size_t s : d.shape) n *= s;
    if (n != d.size())
        raise<shape_error>("shd: ", path, ": /", where, " has shape of ", n, " elements but ",
                           d.size(), " values");
    std::vector<hsize_t> dims(d.shape.begin(), d.shape.end());
    handle space(dims.empty()
                     ? H5Screate(H5S_SCALAR)
                     : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                 H5Sclose);
    handle type = file_type(d.type);
    handle memory;
    std::vector<const char*> pointers;
    std::vector<char> fixed;
    std::vector<std::uint16_t> halves;
    const void* buffer = d.numbers.data();
    if (d.type == shd_element::string) {
        H5Tset_cset(type.get(), d.utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        memory = handle(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_cset(memory.get(), d.utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        if (d.string_size == 0) {
            H5Tset_size(type.get(), H5T_VARIABLE);
            H5Tset_size(memory.get(), H5T_VARIABLE);
            for (const auto& s : d.strings) pointers.push_back(s.c_str());
            buffer = pointers.data();
        } else {
            // numpy 'S' strings: fixed size, zero padded, no terminator needed.
            H5Tset_size(type.get(), d.string_size);
            H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
            H5Tset_size(memory.get(), d.string_size);
            H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
            fixed.assign(n * d.string_size, '\0');
            for (std::size_t k = 0; k < n; ++k) {
                if (d.strings[k].size() > d.string_size)
                    raise<data_error>("shd: ", path, ": /", where, "[", k, "] is longer than ",
                                      d.string_size, " bytes");
                std::memcpy(fixed.data() + k * d.string_size, d.strings[k].data(),
                            d.strings[k].size());
            }
            buffer = fixed.data();
        }
    } else if (d.type == shd_element::float16) {
        halves.resize(n);
        for (std::size_t k = 0; k < n; ++k)
            halves[k] = float_to_half(static_cast<float>(d.numbers[k]));
        memory = file_type(shd_element::float16);
        buffer = halves.data();
    } else {
        memory = handle(H5Tcopy(H5T_NATIVE_DOUBLE), H5Tclose);
    }
    handle dataset(H5Dcreate2(file, where.c_str(), type.get(), space.get(), link_list, H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Dclose);
    if (!dataset.valid() ||
        (n > 0 && H5Dwrite(dataset.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0))
        raise<io_error>("shd: ", path, ": cannot write /", where, ": ", last_error());
}

/// Opens a required dataset; io_error naming the file and the path when it is missing.
inline handle open_dataset(hid_t file, const std::string& name, const std::string& path) {
    if (!exists(file, name)) raise<io_error>("shd: ", path, ": missing dataset /", name);
    handle dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid())
        raise<io_error>("shd: ", path, ": /", name, " is not a dataset: ", last_error());
    return dataset;
}

/// Number of rows of a rank-1 dataset; io_error for any other rank.
inline std::size_t rows_of(hid_t dataset, const std::string& name, const std::string& path) {
    const auto dims = dims_of(dataset);
    if (dims.size() != 1)
        raise<io_error>("shd: ", path, ": /", name, " has rank ", dims.size(), ", expected 1");
    return static_cast<std::size_t>(dims[0]);
}

/// Checks that a dataset holds variable-length rows of `base` class; returns the base size.
inline std::size_t check_vlen(hid_t dataset, H5T_class_t base, const char* expected,
                              const std::string& name, const std::string& path) {
    handle type(H5Dget_type(dataset), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_VLEN)
        raise<io_error>("shd: ", path, ": /", name, " is not variable-length, expected ", expected);
    handle super(H5Tget_super(type.get()), H5Tclose);
    if (H5Tget_class(super.get()) != base)
        raise<io_error>("shd: ", path, ": /", name, " has the wrong element type, expected ",
                        expected);
    // A damaged type can claim elements of any size; libhdf5 allocates by it (fuzz_shd).
    const std::size_t size = H5Tget_size(super.get());
    const bool usual = base == H5T_FLOAT ? (size == 2 || size == 4 || size == 8)
                                         : (size == 1 || size == 2 || size == 4 || size == 8);
    if (!usual)
        raise<io_error>("shd: ", path, ": /", name, " has elements of ", size,
                        " bytes (corrupt type), expected ", expected);
    return size;
}

}  // namespace detail::h5

/// Reads an SHD/SSC file. Every failure raises a typed error naming the file and, for bad
/// content, the sample and the field:
///   io_error   - missing or unreadable file, not HDF5, truncated; a missing /spikes/times,
///                /spikes/units or /labels; wrong types or ranks; different sample counts;
///   data_error - a sample whose times and units differ in length, a unit >= n_units, a
///                negative or NaN time, decreasing times (unless on_unsorted = sort), a label
///                outside [0, n_classes) (n_classes: the option, else the number of
///                /extra/keys, else max label + 1).
/// Memory: the rows are read `chunk_samples` at a time into HDF5's buffers, copied into the
/// dataset's storage (reserved once from a bound given by the file size) and freed at once.
/// The most classes read_shd infers from the labels alone (no /extra/keys, no n_classes).
inline constexpr std::size_t max_inferred_classes = 65536;

inline shd_file read_shd(const std::string& path, const shd_read_options& options = {}) {
    namespace fs = std::filesystem;
    using detail::h5::handle;
    using detail::h5::last_error;
    detail::h5::quiet_errors quiet;
    if (options.chunk_samples == 0) raise<option_error>("read_shd: chunk_samples must be > 0");
    if (!(options.duration_s > 0)) raise<option_error>("read_shd: duration_s must be > 0");
    std::error_code ec;
    if (!fs::exists(path, ec)) raise<io_error>("shd: ", path, ": no such file");
    if (!fs::is_regular_file(path, ec)) raise<io_error>("shd: ", path, ": not a regular file");
    const auto file_bytes = static_cast<std::size_t>(fs::file_size(path, ec));

    handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid())
        raise<io_error>("shd: ", path, ": not an HDF5 file, or truncated (HDF5: ", last_error(),
                        ")");
    handle times = detail::h5::open_dataset(file.get(), "spikes/times", path);
    handle units = detail::h5::open_dataset(file.get(), "spikes/units", path);
    handle labels_set = detail::h5::open_dataset(file.get(), "labels", path);
    const std::size_t time_bytes = detail::h5::check_vlen(
        times.get(), H5T_FLOAT, "variable-length float", "spikes/times", path);
    bool half_times = false;
    {
        handle type(H5Dget_type(times.get()), H5Tclose);
        handle base(H5Tget_super(type.get()), H5Tclose);
        half_times = detail::h5::is_ieee_half(base.get());
    }
    const std::size_t unit_bytes = detail::h5::check_vlen(
        units.get(), H5T_INTEGER, "variable-length integer", "spikes/units", path);
    {
        handle type(H5Dget_type(labels_set.get()), H5Tclose);
        if (H5Tget_class(type.get()) != H5T_INTEGER)
            raise<io_error>("shd: ", path, ": /labels is not an integer dataset");
    }
    const std::size_t n = detail::h5::rows_of(times.get(), "spikes/times", path);
    const std::size_t n_unit_rows = detail::h5::rows_of(units.get(), "spikes/units", path);
    const std::size_t n_labels = detail::h5::rows_of(labels_set.get(), "labels", path);
    if (n_unit_rows != n || n_labels != n)
        raise<io_error>("shd: ", path, ": /spikes/times has ", n, " samples, /spikes/units ",
                        n_unit_rows, ", /labels ", n_labels);
    // Unwritten (fill-value) rows take no room in a file: a corrupt header could claim
    // billions of samples, and their labels would be allocated before anything is read.
    if (n > file_bytes)
        raise<io_error>("shd: ", path, ": /labels claims ", n, " samples in a file of ",
                        file_bytes, " bytes");
    // A damaged row length would make libhdf5 allocate what it claims (see vlen_claim).
    for (const auto& [dataset, name, bytes] :
         {std::tuple{times.get(), "spikes/times", time_bytes},
          std::tuple{units.get(), "spikes/units", unit_bytes}}) {
        const auto claim = detail::h5::first_vlen_claim_above(
            dataset, path, file_bytes / std::max<std::size_t>(bytes, 1), bytes);
        if (claim.found && claim.heap_damage)
            raise<io_error>("shd: ", path, ": sample ", claim.index, ": /", name, ": ",
                            claim.heap_damage, " (corrupt file)");
        if (claim.found)
            raise<io_error>("shd: ", path, ": sample ", claim.index, ": /", name, " claims ",
                            claim.length, " events in a file of ", file_bytes,
                            " bytes (corrupt file)");
    }

    std::size_t n_units = options.n_units;
    if (n_units == 0) {
        n_units = 700;
        if (H5Aexists(file.get(), "n_units") > 0) {
            handle attribute(H5Aopen(file.get(), "n_units", H5P_DEFAULT), H5Aclose);
            std::uint64_t value = 0;
            if (!attribute.valid() || H5Aread(attribute.get(), H5T_NATIVE_UINT64, &value) < 0 ||
                value == 0)
                raise<io_error>("shd: ", path, ": unreadable root attribute n_units");
            n_units = static_cast<std::size_t>(value);
        }
    }

    shd_file out;
    if (options.read_extra && detail::h5::exists(file.get(), "extra")) {
        handle group(H5Gopen2(file.get(), "extra", H5P_DEFAULT), H5Gclose);
        if (group.valid()) detail::h5::read_extra_group(group.get(), "", path, out.extra, options);
    } else if (detail::h5::exists(file.get(), "extra/keys")) {
        handle keys(H5Dopen2(file.get(), "extra/keys", H5P_DEFAULT), H5Dclose);
        shd_extra_dataset names;
        std::string reason;
        if (keys.valid() && detail::h5::read_extra_dataset(keys.get(), "keys", names, reason))
            out.extra.datasets.push_back(std::move(names));
    }

    std::vector<std::int64_t> labels(n);
    if (n > 0 && H5Dread(labels_set.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         labels.data()) < 0)
        raise<io_error>("shd: ", path, ": cannot read /labels: ", last_error());

    std::vector<std::string> names = out.extra.keys();
    std::size_t n_classes = options.n_classes;
    if (n_classes == 0) {
        n_classes = names.size();
        if (names.empty())
            for (std::size_t s = 0; s < n; ++s) {
                // Inferred from the labels, each class gets a name: a corrupt label must not
                // ask for billions of them.
                if (labels[s] >= std::int64_t(max_inferred_classes))
                    raise<data_error>("shd: ", path, ": sample ", s, ": label ", labels[s],
                                      " in /labels would make ", labels[s], " + 1 classes (more "
                                      "than ", max_inferred_classes, " without /extra/keys; set "
                                      "shd_read_options::n_classes)");
                n_classes = std::max(
                    n_classes, static_cast<std::size_t>(std::max<std::int64_t>(labels[s], 0)) + 1);
            }
    } else if (!names.empty() && names.size() != n_classes) {
        // An explicit class count wins over keys that do not fit it (the keys stay in extra).
        if (options.warning)
            options.warning("shd: " + path + ": /extra/keys holds " + std::to_string(names.size()) +
                            " names for n_classes " + std::to_string(n_classes) +
                            "; classes are named by number");
        names.clear();
    }
    for (std::size_t s = 0; s < n; ++s)
        if (labels[s] < 0 || static_cast<std::size_t>(labels[s]) >= n_classes)
            raise<data_error>("shd: ", path, ": sample ", s, ": label ", labels[s], " outside [0, ",
                              n_classes, ") in /labels");
    if (names.empty())
        for (std::size_t c = 0; c < n_classes; ++c) names.push_back(std::to_string(c));

    out.data = spike_dataset(n_units, options.duration_s, time_unit::seconds, std::move(names));
    // Every event takes at least time_bytes + unit_bytes in the file, so this bounds the number
    // of events; the reserved pages that stay unused are never touched, hence never resident.
    out.data.reserve(n, file_bytes / std::max<std::size_t>(time_bytes + unit_bytes, 1));

    handle half_type = detail::h5::file_type(shd_element::float16);
    handle time_type(H5Tvlen_create(half_times ? half_type.get() : H5T_NATIVE_FLOAT), H5Tclose);
    handle unit_type(H5Tvlen_create(H5T_NATIVE_INT64), H5Tclose);
    std::vector<std::uint32_t> sample_units;
    std::vector<float> sample_times;
    detail::h5::vlen_budget budget(detail::h5::vlen_budget::for_file(file_bytes));
    for (std::size_t first = 0; first < n; first += options.chunk_samples) {
        const std::size_t count = std::min(options.chunk_samples, n - first);
        const hsize_t start = first, size = count;
        detail::h5::vlen_rows time_rows(time_type.get(), count, budget.transfer());
        detail::h5::vlen_rows unit_rows(unit_type.get(), count, budget.transfer());
        auto read_rows = [&](const handle& dataset, detail::h5::vlen_rows& rows, hid_t type,
                             const char* name) {
            handle space(H5Dget_space(dataset.get()), H5Sclose);
            budget.restart();
            if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &size, nullptr) <
                    0 ||
                H5Dread(dataset.get(), type, rows.space(), space.get(), budget.transfer(),
                        rows.data()) < 0) {
                if (budget.refused())
                    raise<io_error>("shd: ", path, ": samples ", first, "-", first + count - 1,
                                    ": /", name, " claims more than ", budget.limit(),
                                    " bytes of events in a file of ", file_bytes,
                                    " bytes (corrupt file)");
                raise<io_error>("shd: ", path, ": samples ", first, "-", first + count - 1,
                                ": cannot read /", name,
                                " (truncated or corrupt file?): ", last_error());
            }
        };
        read_rows(times, time_rows, time_type.get(), "spikes/times");
        read_rows(units, unit_rows, unit_type.get(), "spikes/units");
        for (std::size_t k = 0; k < count; ++k) {
            const std::size_t s = first + k;
            const std::size_t length = time_rows[k].len;
            if (unit_rows[k].len != length)
                raise<data_error>("shd: ", path, ": sample ", s, ": ", length,
                                  " times in /spikes/times but ", unit_rows[k].len,
                                  " units in /spikes/units");
            const auto* t = static_cast<const float*>(time_rows[k].p);
            if (half_times) {
                const auto* bits = static_cast<const std::uint16_t*>(time_rows[k].p);
                sample_times.resize(length);
                for (std::size_t e = 0; e < length; ++e)
                    sample_times[e] = detail::h5::half_to_float(bits[e]);
                t = sample_times.data();
            }
            const auto* u = static_cast<const std::int64_t*>(unit_rows[k].p);
            sample_units.resize(length);
            bool sorted = true;
            for (std::size_t e = 0; e < length; ++e) {
                if (std::isnan(t[e]))
                    raise<data_error>("shd: ", path, ": sample ", s, ": event ", e,
                                      ": time is NaN in /spikes/times");
                if (!std::isfinite(t[e]) || t[e] < 0)
                    raise<data_error>("shd: ", path, ": sample ", s, ": event ", e, ": time ", t[e],
                                      " is negative or infinite in /spikes/times");
                if (u[e] < 0 || static_cast<std::uint64_t>(u[e]) >= n_units)
                    raise<data_error>("shd: ", path, ": sample ", s, ": event ", e, ": unit ", u[e],
                                      " >= n_units ", n_units, " in /spikes/units");
                sample_units[e] = static_cast<std::uint32_t>(u[e]);
                if (e > 0 && t[e] < t[e - 1]) {
                    if (options.on_unsorted == unsorted_times::reject)
                        raise<data_error>("shd: ", path, ": sample ", s, ": event ", e, ": time ",
                                          t[e], " < ", t[e - 1],
                                          " of the event before (unsorted) in /spikes/times");
                    sorted = false;
                }
            }
            if (!sorted && options.warning)
                options.warning("shd: " + path + ": sample " + std::to_string(s) +
                                ": unsorted times in /spikes/times, sorted by (time, unit)");
            if (sorted) {
                // Equal times (common once rounded to float16) must list their units in order;
                // sorting those runs here is far cheaper than add_sample's full re-sort.
                for (std::size_t a = 0, b = 0; a < length; a = b) {
                    for (b = a + 1; b < length && t[b] == t[a];) ++b;
                    if (b - a > 1)
                        std::sort(sample_units.begin() + static_cast<std::ptrdiff_t>(a),
                                  sample_units.begin() + static_cast<std::ptrdiff_t>(b));
                }
            }
            out.data.add_sample(std::span<const float>(t, length), sample_units,
                                static_cast<std::int32_t>(labels[s]), options.on_unsorted);
        }
        if (options.progress) options.progress(first + count, n);
    }
    return out;
}

/// Writes `data` (times in seconds or milliseconds) and `extra` in the SHD layout:
/// /spikes/times vlen float32 (or float16), /spikes/units vlen uint16, /labels uint16,
/// /extra/... as given (with /extra/keys holding the class names, see shd_write_options), a
/// root attribute n_units only when n_units != 700. The file is built under a temporary name
/// beside `path` and renamed over it at the end: on any failure (including an exception from
/// the progress callback) the temporary is removed and an existing `path` is left untouched.
inline void write_shd(const std::string& path, const spike_dataset& data,
                      const shd_extra& extra = {}, const shd_write_options& options = {}) {
    namespace fs = std::filesystem;
    using detail::h5::handle;
    using detail::h5::last_error;
    detail::h5::quiet_errors quiet;
    if (options.chunk_samples == 0) raise<option_error>("write_shd: chunk_samples must be > 0");
    double scale = 1.0;
    if (data.unit() == time_unit::milliseconds)
        scale = 1e-3;
    else if (data.unit() == time_unit::steps)
        raise<option_error>("shd: ", path,
                            ": times are in steps; the files hold seconds "
                            "(convert with with_time_unit(time_unit::seconds, dt_s))");
    if (data.n_units() > 65536)
        raise<data_error>("shd: ", path, ": n_units ", data.n_units(),
                          " does not fit the uint16 /spikes/units");
    if (data.n_classes() > 65536)
        raise<data_error>("shd: ", path, ": ", data.n_classes(),
                          " classes do not fit the uint16 /labels");
    const std::size_t n = data.size();
    if (const auto* speaker = extra.find("speaker");
        speaker && (speaker->shape.size() != 1 || speaker->shape[0] != n))
        raise<shape_error>("shd: ", path, ": /extra/speaker has ", speaker->size(), " entries for ",
                           n, " samples");

    const fs::path target(path);
    std::error_code ec;
    if (target.has_parent_path() && !fs::is_directory(target.parent_path(), ec))
        raise<io_error>("shd: ", path, ": folder ", target.parent_path().string(),
                        " does not exist");
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    try {
        {
            handle file(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                        H5Fclose);
            if (!file.valid())
                raise<io_error>("shd: ", path, ": cannot create ", temporary, ": ", last_error());
            handle link_list(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
            H5Pset_create_intermediate_group(link_list.get(), 1);
            const hsize_t rows = n;
            handle space(H5Screate_simple(1, &rows, nullptr), H5Sclose);

            handle time_base = detail::h5::file_type(options.time_type == shd_time_type::float16
                                                         ? shd_element::float16
                                                         : shd_element::float32);
            handle time_file_type(H5Tvlen_create(time_base.get()), H5Tclose);
            handle unit_file_type(H5Tvlen_create(H5T_STD_U16LE), H5Tclose);
            const bool half = options.time_type == shd_time_type::float16;
            handle time_memory(H5Tvlen_create(half ? time_base.get() : H5T_NATIVE_FLOAT), H5Tclose);
            handle unit_memory(H5Tvlen_create(H5T_NATIVE_UINT32), H5Tclose);
            handle times(H5Dcreate2(file.get(), "spikes/times", time_file_type.get(), space.get(),
                                    link_list.get(), H5P_DEFAULT, H5P_DEFAULT),
                         H5Dclose);
            handle units(H5Dcreate2(file.get(), "spikes/units", unit_file_type.get(), space.get(),
                                    link_list.get(), H5P_DEFAULT, H5P_DEFAULT),
                         H5Dclose);
            if (!times.valid() || !units.valid())
                raise<io_error>("shd: ", path, ": cannot create /spikes: ", last_error());

            std::vector<hvl_t> time_rows, unit_rows;
            std::vector<float> scaled;
            std::vector<std::uint16_t> halves;
            for (std::size_t first = 0; first < n; first += options.chunk_samples) {
                const std::size_t count = std::min(options.chunk_samples, n - first);
                time_rows.assign(count, hvl_t{0, nullptr});
                unit_rows.assign(count, hvl_t{0, nullptr});
                if (scale != 1.0 || half) {
                    std::size_t total = 0;
                    for (std::size_t k = 0; k < count; ++k) total += data.sample(first + k).size();
                    if (scale != 1.0) scaled.resize(total);
                    if (half) halves.resize(total);
                }
                std::size_t offset = 0;
                for (std::size_t k = 0; k < count; ++k) {
                    const auto sample = data.sample(first + k);
                    const float* t = sample.times.data();
                    void* row = const_cast<float*>(t);  // HDF5 only reads it, during H5Dwrite
                    if (scale != 1.0) {
                        for (std::size_t e = 0; e < sample.size(); ++e)
                            scaled[offset + e] = static_cast<float>(sample.times[e] * scale);
                        t = scaled.data() + offset;
                        row = scaled.data() + offset;
                    }
                    if (half) {
                        for (std::size_t e = 0; e < sample.size(); ++e)
                            halves[offset + e] = detail::h5::float_to_half(t[e]);
                        row = halves.data() + offset;
                    }
                    offset += sample.size();
                    time_rows[k] = hvl_t{sample.size(), row};
                    unit_rows[k] =
                        hvl_t{sample.size(), const_cast<std::uint32_t*>(sample.units.data())};
                }
                const hsize_t start = first, size = count;
                handle memory_space(H5Screate_simple(1, &size, nullptr), H5Sclose);
                handle file_space(H5Dget_space(times.get()), H5Sclose);
                H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &size,
                                    nullptr);
                if (H5Dwrite(times.get(), time_memory.get(), memory_space.get(), file_space.get(),
                             H5P_DEFAULT, time_rows.data()) < 0 ||
                    H5Dwrite(units.get(), unit_memory.get(), memory_space.get(), file_space.get(),
                             H5P_DEFAULT, unit_rows.data()) < 0)
                    raise<io_error>("shd: ", path, ": samples ", first, "-", first + count - 1,
                                    ": write failed: ", last_error());
                if (options.progress) options.progress(first + count, n);
            }

            const std::vector<std::int32_t> labels = data.labels();
            handle labels_set(H5Dcreate2(file.get(), "labels", H5T_STD_U16LE, space.get(),
                                         H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              H5Dclose);
            if (!labels_set.valid() ||
                (n > 0 && H5Dwrite(labels_set.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL,
                                   H5P_DEFAULT, labels.data()) < 0))
                raise<io_error>("shd: ", path, ": cannot write /labels: ", last_error());

            for (const auto& dataset : extra.datasets)
                if (!(options.write_class_names && dataset.name == "keys"))
                    detail::h5::write_extra_dataset(file.get(), link_list.get(), dataset, path);
            if (options.write_class_names && data.n_classes() > 0) {
                // The dataset's class names are the keys, in the string kind of extra's keys.
                shd_extra_dataset keys = shd_extra_dataset::text("keys", data.class_names());
                if (const auto* old = extra.find("keys"); old && old->type == shd_element::string) {
                    keys.utf8 = old->utf8;
                    keys.string_size = old->string_size;
                    for (const auto& name : keys.strings)
                        if (keys.string_size > 0)
                            keys.string_size = std::max(keys.string_size, name.size());
                }
                detail::h5::write_extra_dataset(file.get(), link_list.get(), keys, path);
            }

            if (data.n_units() != 700) {
                const std::uint32_t value = static_cast<std::uint32_t>(data.n_units());
                handle scalar(H5Screate(H5S_SCALAR), H5Sclose);
                handle attribute(H5Acreate2(file.get(), "n_units", H5T_STD_U32LE, scalar.get(),
                                            H5P_DEFAULT, H5P_DEFAULT),
                                 H5Aclose);
                if (!attribute.valid() || H5Awrite(attribute.get(), H5T_NATIVE_UINT32, &value) < 0)
                    raise<io_error>("shd: ", path,
                                    ": cannot write attribute n_units: ", last_error());
            }
            labels_set.reset();
            times.reset();
            units.reset();
            if (!file.close())
                raise<io_error>("shd: ", path, ": closing (flushing) failed: ", last_error());
        }
        fs::rename(temporary, target, ec);
        if (ec) raise<io_error>("shd: ", path, ": cannot rename ", temporary, ": ", ec.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw;
    }
}

inline void write_shd(const std::string& path, const shd_file& file,
                      const shd_write_options& options = {}) {
    write_shd(path, file.data, file.extra, options);
}

/// The splits of one corpus as one file content (e.g. shd_train + shd_test, the builder's
/// input): samples in order, speakers concatenated when every part has them, the other /extra
/// fields (keys, meta_info) from the first part.
inline shd_file merge_shd(std::span<const shd_file> parts) {
    shd_file out;
    std::vector<spike_dataset> datasets;
    for (const auto& part : parts) datasets.push_back(part.data);
    out.data = merge_splits(datasets);
    if (parts.empty()) return out;
    out.extra = parts.front().extra;
    bool all_speakers = true;
    std::vector<double> speakers;
    for (const auto& part : parts) {
        const auto* s = part.extra.find("speaker");
        if (!s || s->type == shd_element::string || s->size() != part.data.size()) {
            all_speakers = false;
            break;
        }
        speakers.insert(speakers.end(), s->numbers.begin(), s->numbers.end());
    }
    for (auto it = out.extra.datasets.begin(); it != out.extra.datasets.end(); ++it) {
        if (it->name != "speaker") continue;
        if (!all_speakers) {
            out.extra.datasets.erase(it);
        } else {
            it->numbers = std::move(speakers);
            it->shape = {it->numbers.size()};
        }
        break;
    }
    return out;
}

}  // namespace spikegrad

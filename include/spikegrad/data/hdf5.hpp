/// \file
/// spikegrad: the thin RAII layer over the HDF5 C API that the SHD/SSC reader and writer use:
/// owned identifiers, a quiet error stack turned into messages, variable-length rows freed on
/// every path, and IEEE half conversion done by us (HDF5 1.10 rounds it wrongly). Needs HDF5.
/// In data/, not io/: it serves only the SHD files and keeps data/ -> core/ the only direction.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace spikegrad::detail::h5 {

/// Owns one HDF5 identifier and closes it with the matching H5?close.
class handle {
public:
    using closer = herr_t (*)(hid_t);
    handle() = default;
    handle(hid_t id, closer close) : id_(id), close_(close) {}
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    handle(handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
    handle& operator=(handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, -1);
            close_ = other.close_;
        }
        return *this;
    }
    ~handle() { reset(); }

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset() {
        if (id_ >= 0 && close_) close_(id_);
        id_ = -1;
    }
    /// Closes now and says whether HDF5 succeeded (a file's close flushes it).
    bool close() {
        const herr_t status = id_ >= 0 && close_ ? close_(id_) : 0;
        id_ = -1;
        return status >= 0;
    }

private:
    hid_t id_ = -1;
    closer close_ = nullptr;
};

/// Turns off HDF5's printing of its error stack for the lifetime of the object: failures
/// become our typed exceptions, and the library stays quiet.
class quiet_errors {
public:
    quiet_errors() {
        H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~quiet_errors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
    quiet_errors(const quiet_errors&) = delete;
    quiet_errors& operator=(const quiet_errors&) = delete;

private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
};

inline herr_t collect_error(unsigned, const H5E_error2_t* entry, void* data) {
    auto* out = static_cast<std::vector<std::string>*>(data);
    if (entry->desc && *entry->desc) out->emplace_back(entry->desc);
    return 0;
}

/// The outermost and innermost descriptions of HDF5's current error stack (then cleared).
inline std::string last_error() {
    std::vector<std::string> messages;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &messages);
    H5Eclear2(H5E_DEFAULT);
    if (messages.empty()) return "no HDF5 message";
    if (messages.size() == 1) return messages.front();
    return messages.front() + " (" + messages.back() + ")";
}

/// IEEE half (binary16) bits of a float, rounded to nearest, ties to even. Done here rather
/// than by HDF5: HDF5 1.10's soft float conversion drops the carry when rounding up across a
/// power of two (0.0156249 became 0.0078125 instead of 0.015625), unsorting sorted times.
inline std::uint16_t float_to_half(float value) {
    std::uint32_t x = 0;
    std::memcpy(&x, &value, sizeof x);
    const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t magnitude = x & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // NaN
    if (magnitude >= 0x47800000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 2^16
    std::uint32_t half = 0, rest = 0, halfway = 0;
    if (magnitude < 0x38800000u) {  // below 2^-14: a subnormal half (or zero)
        const std::uint32_t exponent = magnitude >> 23;
        if (exponent < 102) return sign;  // below 2^-25: rounds to zero
        const std::uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
        const std::uint32_t shift = 126 - exponent;  // 14 .. 24
        half = mantissa >> shift;
        rest = mantissa & ((1u << shift) - 1u);
        halfway = 1u << (shift - 1u);
    } else {  // rebias the exponent (127 - 15) and drop 13 mantissa bits
        half = (magnitude - 0x38000000u) >> 13;
        rest = magnitude & 0x1fffu;
        halfway = 0x1000u;
    }
    // A carry out of the mantissa correctly increments the exponent (up to infinity).
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);
}

inline float half_to_float(std::uint16_t bits) {
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1fu, mantissa = bits & 0x3ffu;
    std::uint32_t x = 0;
    if (exponent == 0) {
        const float value = std::ldexp(static_cast<float>(mantissa), -24);
        return sign ? -value : value;
    }
    if (exponent == 31)
        x = sign | 0x7f800000u | (mantissa << 13);
    else
        x = sign | ((exponent + 112) << 23) | (mantissa << 13);
    float value = 0;
    std::memcpy(&value, &x, sizeof value);
    return value;
}

/// Whether every component of a relative path exists (H5Lexists fails on a missing parent).
inline bool exists(hid_t location, const std::string& path) {
    std::size_t slash = 0;
    while (true) {
        slash = path.find('/', slash + 1);
        const std::string prefix = path.substr(0, slash);
        if (H5Lexists(location, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        if (slash == std::string::npos) return true;
    }
}

/// A transfer property list whose variable-length allocations stop at a byte budget.
/// libhdf5 1.10 trusts the length a stored variable-length element claims: a damaged file of
/// 60 KB made it allocate (and fill) 4.3 GB of strings (found by fuzz_shd). Genuine data cannot
/// take more memory than `limit` (a bound from the file's size), so past it the allocator
/// returns null, HDF5 fails the read, and the reader raises instead of exhausting memory.
class vlen_budget {
public:
    explicit vlen_budget(std::size_t limit) : limit_(limit) {
        transfer_ = handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
        if (transfer_.valid())
            H5Pset_vlen_mem_manager(transfer_.get(), &vlen_budget::allocate, this,
                                    &vlen_budget::release, this);
    }
    vlen_budget(const vlen_budget&) = delete;
    vlen_budget& operator=(const vlen_budget&) = delete;

    /// The property list to pass to H5Dread and to the reclaim of what it read.
    hid_t transfer() const { return transfer_.valid() ? transfer_.get() : H5P_DEFAULT; }
    /// Starts a new read: the budget is per read, since each read's rows are freed before the next.
    void restart() {
        used_ = 0;
        refused_ = false;
    }
    /// Whether an allocation was refused since the last restart.
    bool refused() const { return refused_; }
    std::size_t limit() const { return limit_; }

    /// The bound for a file of `file_bytes`: every stored element takes at least one byte and
    /// becomes at most 8 in memory (a uint8 read as int64), plus room for small files.
    static std::size_t for_file(std::size_t file_bytes) {
        constexpr std::size_t slack = std::size_t{1} << 20;
        const std::size_t most = (std::numeric_limits<std::size_t>::max() - slack) / 8;
        return 8 * std::min(file_bytes, most) + slack;
    }

private:
    static void* allocate(std::size_t size, void* self) {
        auto* budget = static_cast<vlen_budget*>(self);
        if (size > budget->limit_ - budget->used_) {
            budget->refused_ = true;
            return nullptr;
        }
        budget->used_ += size;
        return std::malloc(size);
    }
    static void release(void* memory, void*) { std::free(memory); }

    std::size_t limit_;
    std::size_t used_ = 0;
    bool refused_ = false;
    handle transfer_;
};

/// What no stored variable-length element may claim: none found, or the first that does.
struct vlen_claim {
    bool found = false;
    std::size_t index = 0;     ///< the element
    std::uint64_t length = 0;  ///< the length it claims (elements of its base type)
    /// Set when the global heap collection the element points into is damaged (then `length`
    /// is the collection's address).
    const char* heap_damage = nullptr;
};

/// Little-endian unsigned integer of `bytes` bytes (at most 8).
inline std::uint64_t read_le(const unsigned char* p, std::size_t bytes) {
    std::uint64_t x = 0;
    for (std::size_t k = bytes; k-- > 0;) x = x << 8 | p[k];
    return x;
}

/// Checks the global heap collection at `address` as libhdf5 1.10 parses it (file format
/// version 1: "GCOL", version, 3 reserved bytes, the collection size, then objects of a 2-byte
/// index, 2-byte reference count, 4 reserved bytes, a size and the data padded to 8 bytes;
/// index 0 is the free space). libhdf5 advances by each object's size without checking it: a
/// free-space object of size 0 makes it loop forever (found by fuzz_shd), and sizes beyond the
/// collection make it read past it. Returns what is wrong, or nullptr.
/// One object of a global heap collection: its index and size in bytes.
struct heap_object {
    std::uint64_t index = 0, bytes = 0;
};

inline const char* damaged_global_heap(std::ifstream& in, std::uint64_t address,
                                       std::size_t length_bytes, std::uint64_t file_bytes,
                                       std::vector<heap_object>& objects) {
    objects.clear();
    const std::size_t header = 8 + length_bytes, object_header = 8 + length_bytes;
    if (length_bytes == 0 || length_bytes > 8 || address >= file_bytes ||
        file_bytes - address < header)
        return "a global heap collection lies outside the file";
    unsigned char head[16] = {};
    in.clear();
    in.seekg(static_cast<std::streamoff>(address));
    if (!in.read(reinterpret_cast<char*>(head), static_cast<std::streamsize>(header)))
        return "a global heap collection lies outside the file";
    if (std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1)
        return "a global heap collection has no GCOL version 1 signature";
    const std::uint64_t size = read_le(head + 8, length_bytes);
    if (size < header || size > file_bytes - address)
        return "a global heap collection is larger than the file";
    std::vector<unsigned char> chunk(static_cast<std::size_t>(size));
    in.seekg(static_cast<std::streamoff>(address));
    if (!in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(size)))
        return "a global heap collection lies outside the file";
    std::uint64_t p = header;
    while (p < size) {
        if (size - p < object_header) break;  // a tail too small for an object: free space
        const std::uint64_t index = read_le(chunk.data() + p, 2);
        const std::uint64_t bytes = read_le(chunk.data() + p + 8, length_bytes);
        if (bytes > size) return "a global heap object is larger than its collection";
        const std::uint64_t need = index > 0 ? object_header + (bytes + 7) / 8 * 8 : bytes;
        if (need == 0) return "a global heap free-space object has size 0 (libhdf5 would loop forever)";
        if (need > size - p) return "a global heap object runs past its collection";
        if (index > 0) objects.push_back({index, bytes});
        p += need;
    }
    // Sorted by index for the row look-ups; a valid collection never repeats an index.
    std::sort(objects.begin(), objects.end(),
              [](const heap_object& a, const heap_object& b) { return a.index < b.index; });
    for (std::size_t k = 1; k < objects.size(); ++k)
        if (objects[k].index == objects[k - 1].index)
            return "a global heap collection holds two objects with the same index";
    return nullptr;
}

/// Checks the lengths the stored variable-length elements of a contiguous dataset claim, from
/// their raw descriptors (file format of HDF5 1.8-1.12: a 4-byte little-endian length, then a
/// global-heap id of sizeof_addr + 4 bytes), before HDF5 reads them: libhdf5 allocates and
/// clears a conversion buffer of the claimed length before it notices the heap object is
/// shorter, which a budget on our own allocations cannot stop (a damaged 60 KB file claimed
/// 4 GB for one string). Returns the first element claiming more than `most`. Chunked or
/// compact layouts, and descriptors that do not fill the storage exactly, are not checked
/// here (vlen_budget still bounds what we allocate).
inline vlen_claim first_vlen_claim_above(hid_t dataset, const std::string& path,
                                         std::uint64_t most, std::size_t element_bytes) {
    vlen_claim claim;
    handle create(H5Dget_create_plist(dataset), H5Pclose);
    if (!create.valid() || H5Pget_layout(create.get()) != H5D_CONTIGUOUS) return claim;
    const haddr_t offset = H5Dget_offset(dataset);
    if (offset == HADDR_UNDEF) return claim;  // never written: fill values, nothing claimed
    handle file(H5Iget_file_id(dataset), H5Fclose);
    handle file_create(file.valid() ? H5Fget_create_plist(file.get()) : -1, H5Pclose);
    std::size_t address_bytes = 0, length_bytes = 0;
    if (!file_create.valid() ||
        H5Pget_sizes(file_create.get(), &address_bytes, &length_bytes) < 0)
        return claim;
    handle space(H5Dget_space(dataset), H5Sclose);
    const hssize_t points = space.valid() ? H5Sget_simple_extent_npoints(space.get()) : -1;
    const std::size_t record = 4 + address_bytes + 4;
    if (points <= 0 || H5Dget_storage_size(dataset) != static_cast<hsize_t>(points) * record)
        return claim;
    std::ifstream in(path, std::ios::binary);
    in.seekg(0, std::ios::end);
    const auto file_bytes = static_cast<std::uint64_t>(in.tellg());
    std::vector<unsigned char> descriptors(static_cast<std::size_t>(points) * record);
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(descriptors.data()),
                 static_cast<std::streamsize>(descriptors.size())))
        return claim;  // beyond the end: HDF5's read reports the truncation
    // Each heap is parsed once; a row must point to an object that exists (libhdf5 1.10.8 reads
    // heap->obj[index] without a bound check: a SEGV, found by fuzz_shd) and that is no larger
    // than the row claims (libhdf5 copies the whole object into a buffer of the claimed size).
    // Rows of one heap are usually consecutive: the last heap is tried before the map.
    std::map<std::uint64_t, std::vector<heap_object>> heaps;
    const std::vector<heap_object>* last = nullptr;
    std::uint64_t last_address = 0;
    for (std::size_t k = 0; k < static_cast<std::size_t>(points); ++k) {
        const unsigned char* d = descriptors.data() + k * record;
        const std::uint64_t length = read_le(d, 4);
        if (length > most) return {true, k, length, nullptr};
        if (length == 0) continue;  // libhdf5 reads no heap for an empty element
        const std::uint64_t address = read_le(d + 4, address_bytes);
        const std::uint64_t index = read_le(d + 4 + address_bytes, 4);
        if (!last || last_address != address) {
            auto heap = heaps.find(address);
            if (heap == heaps.end()) {
                std::vector<heap_object> parsed;
                if (const char* damage =
                        damaged_global_heap(in, address, length_bytes, file_bytes, parsed))
                    return {true, k, address, damage};
                heap = heaps.emplace(address, std::move(parsed)).first;
            }
            last = &heap->second;
            last_address = address;
        }
        const auto object = std::lower_bound(
            last->begin(), last->end(), index,
            [](const heap_object& o, std::uint64_t i) { return o.index < i; });
        if (object == last->end() || object->index != index)
            return {true, k, address, "a row points to a global heap object that does not exist"};
        if (object->bytes > length * element_bytes)
            return {true, k, address, "a global heap object is larger than its row claims"};
    }
    return claim;
}

/// Frees the variable-length rows HDF5 allocated during a read, whatever happens after it.
/// `transfer`: the property list the read used (its allocator frees them).
class vlen_rows {
public:
    vlen_rows(hid_t memory_type, std::size_t n, hid_t transfer = H5P_DEFAULT)
        : type_(memory_type), transfer_(transfer), rows_(n, hvl_t{0, nullptr}) {
        const hsize_t count = n;
        space_ = handle(H5Screate_simple(1, &count, nullptr), H5Sclose);
    }
    vlen_rows(const vlen_rows&) = delete;
    vlen_rows& operator=(const vlen_rows&) = delete;
    ~vlen_rows() {
        if (space_.valid() && !rows_.empty()) {
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(type_, space_.get(), transfer_, rows_.data());
#else
            H5Dvlen_reclaim(type_, space_.get(), transfer_, rows_.data());
#endif
        }
    }
    hid_t space() const { return space_.get(); }
    hvl_t* data() { return rows_.data(); }
    const hvl_t& operator[](std::size_t i) const { return rows_[i]; }

private:
    hid_t type_;
    hid_t transfer_;
    std::vector<hvl_t> rows_;
    handle space_;
};

/// The dimensions of a dataset's dataspace (empty for a scalar, or when HDF5 fails).
inline std::vector<hsize_t> dims_of(hid_t dataset) {
    handle space(H5Dget_space(dataset), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) return {};
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
}

}  // namespace spikegrad::detail::h5

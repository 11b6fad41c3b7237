/// \file
/// spikegrad: NumPy .npy files (format 1.0/2.0/3.0 read, 1.0 written unless the header needs 2.0),
/// little-endian, C order, dtypes <f4 <f8 <i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1 |b1. Typed access returns
/// tensor<T, Rank>; npy_array holds any supported file for tools that learn the shape from it.
#pragma once

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "file.hpp"

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikegrad::io {

static_assert(std::endian::native == std::endian::little,
              "spikegrad::io npy support assumes a little-endian host");

/// The element types a .npy file may hold here: every fixed-width integer, float, double, bool.
template <class T>
concept npy_scalar = std::is_same_v<T, bool> || std::is_same_v<T, float> ||
    std::is_same_v<T, double> ||
    (std::is_integral_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
     !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t> &&
     (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8));

/// The dtype string NumPy writes for T ('<f8' for double, '|u1' for uint8, '|b1' for bool).
template <npy_scalar T>
constexpr std::string_view npy_dtype_of() {
    if constexpr (std::is_same_v<T, bool>)
        return "|b1";
    else if constexpr (std::is_same_v<T, float>)
        return "<f4";
    else if constexpr (std::is_same_v<T, double>)
        return "<f8";
    else if constexpr (std::is_signed_v<T>) {
        if constexpr (sizeof(T) == 1)
            return "|i1";
        else if constexpr (sizeof(T) == 2)
            return "<i2";
        else if constexpr (sizeof(T) == 4)
            return "<i4";
        else
            return "<i8";
    } else {
        if constexpr (sizeof(T) == 1)
            return "|u1";
        else if constexpr (sizeof(T) == 2)
            return "<u2";
        else if constexpr (sizeof(T) == 4)
            return "<u4";
        else
            return "<u8";
    }
}

namespace detail {

enum class npy_kind { boolean, signed_integer, unsigned_integer, floating };

/// One NumPy dtype spikegrad reads: its descr string, kind and element size.
struct npy_type {
    std::string_view descr;  // canonical spelling ('<u1' is read as '|u1')
    npy_kind kind;
    std::size_t size;
};

inline constexpr std::array<npy_type, 11> npy_types = {{
    {"|b1", npy_kind::boolean, 1},
    {"|i1", npy_kind::signed_integer, 1},
    {"<i2", npy_kind::signed_integer, 2},
    {"<i4", npy_kind::signed_integer, 4},
    {"<i8", npy_kind::signed_integer, 8},
    {"|u1", npy_kind::unsigned_integer, 1},
    {"<u2", npy_kind::unsigned_integer, 2},
    {"<u4", npy_kind::unsigned_integer, 4},
    {"<u8", npy_kind::unsigned_integer, 8},
    {"<f4", npy_kind::floating, 4},
    {"<f8", npy_kind::floating, 8},
}};

/// The supported type for a descr, accepting the equivalent spellings NumPy also reads
/// ('<u1', '<i1', '<b1'); io_error naming `path` for big-endian and unknown dtypes.
inline const npy_type& npy_lookup(std::string_view descr, const std::string& path) {
    if (descr.size() == 3) {
        std::string canonical(descr);
        if (descr[2] == '1' && (descr[0] == '<' || descr[0] == '=' || descr[0] == '>'))
            canonical[0] = '|';  // byte order means nothing for one-byte types
        if (descr[0] == '=' && descr[2] != '1') canonical[0] = '<';  // native = little here
        for (const auto& type : npy_types)
            if (type.descr == canonical) return type;
        if (descr[0] == '>' && descr[2] != '1')
            raise<io_error>(path, ": big-endian dtype '", std::string(descr),
                            "' is not supported (convert with arr.astype('<",
                            std::string(descr.substr(1)), "'))");
    }
    raise<io_error>(path, ": unsupported dtype '", std::string(descr),
                    "' (supported: <f4 <f8 <i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1 |b1)");
}

template <npy_scalar T>
const npy_type& npy_type_of() {
    return npy_lookup(npy_dtype_of<T>(), "");
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(shape[i]);
    }
    if (shape.size() == 1) out += ",";
    return out + ")";
}

/// Product of the extents; io_error when it overflows (a corrupt header).
inline std::size_t element_count(const std::vector<std::size_t>& shape, const std::string& path) {
    std::size_t count = 1;
    for (auto extent : shape) {
        if (extent != 0 && count > std::numeric_limits<std::size_t>::max() / extent)
            raise<io_error>(path, ": shape ", shape_text(shape), " overflows the address space");
        count *= extent;
    }
    return count;
}

/// The whole header block (magic, version, length, dict, padding) for a C-order array.
inline std::string npy_header(std::string_view descr, const std::vector<std::size_t>& shape) {
    std::string dict = "{'descr': '";
    dict += descr;
    dict += "', 'fortran_order': False, 'shape': ";
    dict += shape_text(shape);
    dict += ", }";
    // NumPy pads with spaces and a final newline so that the data starts 64-byte aligned.
    auto block = [&](std::size_t prefix) {
        std::size_t total = prefix + dict.size() + 1;
        std::size_t padded = (total + 63) / 64 * 64;
        std::string text = dict;
        text.append(padded - total, ' ');
        text += '\n';
        return text;
    };
    std::string text = block(10);
    std::string out = "\x93NUMPY";
    if (text.size() <= 0xFFFF) {
        out += '\x01';
        out += '\x00';
        out += static_cast<char>(text.size() & 0xFF);
        out += static_cast<char>((text.size() >> 8) & 0xFF);
    } else {
        text = block(12);
        out += '\x02';
        out += '\x00';
        for (int i = 0; i < 4; ++i) out += static_cast<char>((text.size() >> (8 * i)) & 0xFF);
    }
    return out + text;
}

/// What the header of a .npy file says.
struct npy_header_info {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
};

/// A parser for the Python literal dict of a .npy header; errors name the file.
class npy_header_parser {
public:
    npy_header_parser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

    npy_header_info parse() {
        npy_header_info info;
        bool has_descr = false, has_fortran = false, has_shape = false;
        expect('{');
        skip_space();
        while (peek() != '}') {
            std::string key = string_literal();
            expect(':');
            if (key == "descr") {
                skip_space();
                if (peek() == '[') fail("structured dtypes (a list as 'descr') are not supported");
                info.descr = string_literal();
                has_descr = true;
            } else if (key == "fortran_order") {
                info.fortran_order = boolean_literal();
                has_fortran = true;
            } else if (key == "shape") {
                info.shape = tuple_literal();
                has_shape = true;
            } else {
                fail("unexpected key '" + key + "' in the header");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
            } else if (peek() != '}') {
                fail("expected ',' or '}' in the header");
            }
        }
        ++pos_;
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the header dict");
        if (!has_descr || !has_fortran || !has_shape)
            fail("header lacks one of 'descr', 'fortran_order', 'shape'");
        return info;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        raise<io_error>(path_, ": malformed npy header: ", what);
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    std::string string_literal() {
        skip_space();
        char quote = peek();
        if (quote != '\'' && quote != '"') fail("expected a quoted string");
        std::size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string_view::npos) fail("unterminated string");
        std::string out(text_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return out;
    }
    bool boolean_literal() {
        skip_space();
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        fail("'fortran_order' must be True or False");
    }
    std::vector<std::size_t> tuple_literal() {
        expect('(');
        std::vector<std::size_t> out;
        skip_space();
        while (peek() != ')') {
            if (peek() < '0' || peek() > '9') fail("shape entries must be non-negative integers");
            std::size_t value = 0;
            while (peek() >= '0' && peek() <= '9') {
                std::size_t digit = static_cast<std::size_t>(peek() - '0');
                if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10)
                    fail("shape entry too large");
                value = value * 10 + digit;
                ++pos_;
            }
            if (peek() == 'L') ++pos_;  // Python 2 long suffix
            out.push_back(value);
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
            } else if (peek() != ')') {
                fail("expected ',' or ')' in the shape");
            }
        }
        ++pos_;
        return out;
    }

    std::string_view text_;
    const std::string& path_;
    std::size_t pos_ = 0;
};

/// Opens `path` and reads its header; the stream is left at the first data byte.
inline npy_header_info read_npy_header(std::ifstream& in, const std::string& path) {
    if (!in) raise<io_error>(path, ": cannot open for reading: ", std::strerror(errno));
    char prefix[8];
    in.read(prefix, 8);
    if (in.gcount() != 8 || std::memcmp(prefix, "\x93NUMPY", 6) != 0)
        raise<io_error>(path, ": not a .npy file (the magic string \\x93NUMPY is missing)");
    const int major = static_cast<unsigned char>(prefix[6]);
    std::size_t header_length = 0;
    if (major == 1) {
        unsigned char bytes[2];
        in.read(reinterpret_cast<char*>(bytes), 2);
        if (in.gcount() != 2) raise<io_error>(path, ": truncated npy header");
        header_length = bytes[0] | (std::size_t(bytes[1]) << 8);
    } else if (major == 2 || major == 3) {
        unsigned char bytes[4];
        in.read(reinterpret_cast<char*>(bytes), 4);
        if (in.gcount() != 4) raise<io_error>(path, ": truncated npy header");
        for (int i = 0; i < 4; ++i) header_length |= std::size_t(bytes[i]) << (8 * i);
    } else {
        raise<io_error>(path, ": unsupported npy format version ", major, ".",
                        static_cast<int>(static_cast<unsigned char>(prefix[7])));
    }
    if (header_length > (std::size_t(1) << 20))
        raise<io_error>(path, ": npy header of ", header_length, " bytes is implausibly long");
    std::string header(header_length, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_length));
    if (static_cast<std::size_t>(in.gcount()) != header_length)
        raise<io_error>(path, ": truncated npy header (", in.gcount(), " of ", header_length,
                        " bytes)");
    auto info = npy_header_parser(header, path).parse();
    if (info.fortran_order)
        raise<io_error>(path,
                        ": fortran_order is True; only C-order arrays are supported "
                        "(save np.ascontiguousarray(a))");
    const auto& type = npy_lookup(info.descr, path);  // rejects unknown and big-endian dtypes
    // The data must be in the file before anything is allocated for it: a corrupt shape
    // would otherwise ask for terabytes.
    const std::size_t count = element_count(info.shape, path);
    if (count > std::numeric_limits<std::size_t>::max() / type.size)
        raise<io_error>(path, ": shape ", shape_text(info.shape), " is too large");
    const std::size_t bytes = count * type.size;
    const auto data_start = in.tellg();
    in.seekg(0, std::ios::end);
    const auto file_end = in.tellg();
    in.seekg(data_start);
    if (data_start < 0 || file_end < data_start ||
        static_cast<std::size_t>(file_end - data_start) < bytes)
        raise<io_error>(path, ": truncated: header promises ", bytes, " data bytes for shape ",
                        shape_text(info.shape), " of ", info.descr, ", the file holds ",
                        data_start < 0 || file_end < data_start
                            ? 0
                            : static_cast<std::size_t>(file_end - data_start));
    return info;
}

/// Reads exactly `bytes` data bytes; io_error when the file holds fewer than the header says.
inline void read_npy_data(std::ifstream& in, void* out, std::size_t bytes, const std::string& path,
                          const npy_header_info& info) {
    if (bytes == 0) return;
    in.read(static_cast<char*>(out), static_cast<std::streamsize>(bytes));
    if (static_cast<std::size_t>(in.gcount()) != bytes)
        raise<io_error>(path, ": truncated: header promises ", bytes, " data bytes for shape ",
                        shape_text(info.shape), " of ", info.descr, ", the file holds ",
                        in.gcount());
}

template <class Source>
Source load_unaligned(const std::byte* p) {
    Source value;
    std::memcpy(&value, p, sizeof(Source));
    return value;
}

/// Converts `count` elements of a source type into T, checking that integers keep their value.
template <npy_scalar T>
void convert_elements(const std::byte* in, const npy_type& source, std::size_t count, T* out,
                      const std::string& path) {
    auto convert = [&]<class S>(S*) {
        for (std::size_t i = 0; i < count; ++i) {
            S value = load_unaligned<S>(in + i * sizeof(S));
            if constexpr (std::is_same_v<T, bool>) {
                if constexpr (!std::is_same_v<S, bool>) {
                    if (!(value == S(0) || value == S(1)))
                        raise<io_error>(path, ": element ", i, " (", static_cast<double>(value),
                                        ") of dtype ", std::string(source.descr),
                                        " is not 0 or 1, cannot convert to bool");
                }
                out[i] = value != S(0);
            } else if constexpr (std::is_floating_point_v<T>) {
                out[i] = static_cast<T>(value);
            } else if constexpr (std::is_floating_point_v<S>) {
                // Only integral values inside T's range: NaN, 0.5 or 1e30 raise.
                const bool integral = std::isfinite(value) && std::trunc(value) == value;
                const bool fits = integral &&
                                  static_cast<long double>(value) >=
                                      static_cast<long double>(std::numeric_limits<T>::min()) &&
                                  static_cast<long double>(value) <=
                                      static_cast<long double>(std::numeric_limits<T>::max());
                if (!fits)
                    raise<io_error>(path, ": element ", i, " (", static_cast<double>(value),
                                    ") of dtype ", std::string(source.descr),
                                    " is not an integer that fits the requested type ",
                                    std::string(npy_dtype_of<T>()));
                out[i] = static_cast<T>(value);
            } else {
                if (!std::in_range<T>(value))
                    raise<io_error>(path, ": element ", i, " (", value, ") of dtype ",
                                    std::string(source.descr), " does not fit the requested type ",
                                    std::string(npy_dtype_of<T>()));
                out[i] = static_cast<T>(value);
            }
        }
    };
    switch (source.kind) {
        case npy_kind::boolean: {
            for (std::size_t i = 0; i < count; ++i) {
                const bool value = in[i] != std::byte{0};
                if constexpr (std::is_same_v<T, bool>)
                    out[i] = value;
                else
                    out[i] = static_cast<T>(value ? 1 : 0);
            }
            return;
        }
        case npy_kind::floating:
            if (source.size == 4)
                convert(static_cast<float*>(nullptr));
            else
                convert(static_cast<double*>(nullptr));
            return;
        case npy_kind::signed_integer:
            if (source.size == 1)
                convert(static_cast<std::int8_t*>(nullptr));
            else if (source.size == 2)
                convert(static_cast<std::int16_t*>(nullptr));
            else if (source.size == 4)
                convert(static_cast<std::int32_t*>(nullptr));
            else
                convert(static_cast<std::int64_t*>(nullptr));
            return;
        case npy_kind::unsigned_integer:
            if (source.size == 1)
                convert(static_cast<std::uint8_t*>(nullptr));
            else if (source.size == 2)
                convert(static_cast<std::uint16_t*>(nullptr));
            else if (source.size == 4)
                convert(static_cast<std::uint32_t*>(nullptr));
            else
                convert(static_cast<std::uint64_t*>(nullptr));
            return;
    }
}

/// Reads the data of an opened file into `out` (count elements of T), converting if needed.
template <npy_scalar T>
void read_npy_elements(std::ifstream& in, const npy_header_info& info, T* out, std::size_t count,
                       const std::string& path) {
    const npy_type& source = npy_lookup(info.descr, path);
    const npy_type& target = npy_type_of<T>();
    if (count == 0) return;
    if (source.descr == target.descr && !std::is_same_v<T, bool>) {
        read_npy_data(in, out, count * sizeof(T), path, info);
        return;
    }
    std::vector<std::byte> raw(count * source.size);
    read_npy_data(in, raw.data(), raw.size(), path, info);
    convert_elements(raw.data(), source, count, out, path);
}

}  // namespace detail

/// Writes `count = prod(shape)` elements at `data` (C order) to `path` as a .npy file.
template <npy_scalar T>
void save_npy(const std::string& path, const T* data, const std::vector<std::size_t>& shape) {
    const std::size_t count = detail::element_count(shape, path);
    const std::string header = detail::npy_header(npy_dtype_of<T>(), shape);
    write_atomically(path, [&](std::ofstream& out) {
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        if (count == 0) return;
        if constexpr (std::is_same_v<T, bool>) {
            std::vector<char> bytes(count);
            for (std::size_t i = 0; i < count; ++i) bytes[i] = data[i] ? 1 : 0;
            out.write(bytes.data(), static_cast<std::streamsize>(count));
        } else {
            out.write(reinterpret_cast<const char*>(data),
                      static_cast<std::streamsize>(count * sizeof(T)));
        }
    });
}

/// Writes a tensor (any rank, 0 included) to `path` as a .npy file with T's dtype.
template <npy_scalar T, std::size_t Rank>
void save_npy(const std::string& path, const tensor<T, Rank>& array) {
    std::vector<std::size_t> shape(array.shape().begin(), array.shape().end());
    save_npy(path, array.data(), shape);
}

/// Writes a std::vector as a 1-d array.
template <npy_scalar T>
requires(!std::is_same_v<T, bool>) void save_npy(const std::string& path,
                                                 const std::vector<T>& values) {
    save_npy(path, values.data(), {values.size()});
}

/// Writes one number as a 0-d array (shape ()), what np.save(path, np.float64(x)) writes.
template <npy_scalar T>
void save_npy_scalar(const std::string& path, T value) {
    save_npy(path, &value, {});
}

/// Reads `path` into a tensor of rank Rank. The file's dtype is converted to T: any numeric
/// dtype to float/double (int64 beyond 2^53 and f8 -> f4 round); to an integer T only values that
/// are integers inside T's range (else io_error naming the element); to bool only 0/1 values.
/// io_error names the file for: not npy, truncated data, fortran order, big-endian or unknown
/// dtype, and a rank that is not Rank.
template <npy_scalar T, std::size_t Rank>
tensor<T, Rank> load_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const auto info = detail::read_npy_header(in, path);
    if (info.shape.size() != Rank)
        raise<io_error>(path, ": rank mismatch: the file holds shape ",
                        detail::shape_text(info.shape), " (rank ", info.shape.size(), "), rank ",
                        Rank, " was requested");
    const std::size_t count = detail::element_count(info.shape, path);
    std::array<std::size_t, Rank> shape{};
    for (std::size_t i = 0; i < Rank; ++i) shape[i] = info.shape[i];
    tensor<T, Rank> out(shape);
    detail::read_npy_elements(in, info, out.data(), count, path);
    return out;
}

/// Reads a 0-d array (or any array of exactly one element) as one value of type T.
template <npy_scalar T>
T load_npy_scalar(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const auto info = detail::read_npy_header(in, path);
    const std::size_t count = detail::element_count(info.shape, path);
    if (count != 1)
        raise<io_error>(path, ": expected a scalar, the file holds shape ",
                        detail::shape_text(info.shape));
    T value{};
    detail::read_npy_elements(in, info, &value, 1, path);
    return value;
}

/// Any supported .npy file: its dtype, shape and raw little-endian C-order bytes.
struct npy_array {
    std::string dtype{};               ///< canonical NumPy descr, e.g. "<f8", "|u1"
    std::vector<std::size_t> shape{};  ///< empty for a 0-d array
    std::vector<std::byte> data{};     ///< size() * item_size() bytes

    std::size_t rank() const { return shape.size(); }
    std::size_t size() const { return detail::element_count(shape, "npy_array"); }
    std::size_t item_size() const { return detail::npy_lookup(dtype, "npy_array").size; }
    bool is_floating() const {
        return detail::npy_lookup(dtype, "npy_array").kind == detail::npy_kind::floating;
    }

    /// The elements converted to T, with load_npy's conversion rules.
    template <npy_scalar T>
    std::vector<T> values() const {
        const auto& source = detail::npy_lookup(dtype, "npy_array");
        const std::size_t count = size();
        if (data.size() != count * source.size)
            raise<shape_error>("npy_array: ", data.size(), " bytes for shape ",
                               detail::shape_text(shape), " of ", dtype);
        std::vector<T> out(count);
        if constexpr (std::is_same_v<T, bool>) {
            auto flags = std::make_unique<bool[]>(count);
            detail::convert_elements(data.data(), source, count, flags.get(), "npy_array");
            for (std::size_t i = 0; i < count; ++i) out[i] = flags[i];
        } else if (count) {
            detail::convert_elements(data.data(), source, count, out.data(), "npy_array");
        }
        return out;
    }

    /// Every element as a double (int64/uint64 beyond 2^53 round).
    std::vector<double> as_doubles() const { return values<double>(); }

    /// The array as a tensor of rank Rank; shape_error when the rank differs.
    template <npy_scalar T, std::size_t Rank>
    tensor<T, Rank> to_tensor() const {
        if (shape.size() != Rank)
            raise<shape_error>("npy_array: shape ", detail::shape_text(shape), " has rank ",
                               shape.size(), ", rank ", Rank, " was requested");
        std::array<std::size_t, Rank> extents{};
        for (std::size_t i = 0; i < Rank; ++i) extents[i] = shape[i];
        tensor<T, Rank> out(extents);
        auto items = values<T>();
        for (std::size_t i = 0; i < items.size(); ++i) out.data()[i] = items[i];
        return out;
    }
};

/// Reads any supported .npy file without knowing its dtype or rank in advance.
inline npy_array load_npy_any(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const auto info = detail::read_npy_header(in, path);
    const auto& type = detail::npy_lookup(info.descr, path);
    npy_array out;
    out.dtype = std::string(type.descr);
    out.shape = info.shape;
    const std::size_t count = detail::element_count(info.shape, path);
    if (count > std::numeric_limits<std::size_t>::max() / type.size)
        raise<io_error>(path, ": shape ", detail::shape_text(info.shape), " is too large");
    out.data.resize(count * type.size);
    detail::read_npy_data(in, out.data.data(), out.data.size(), path, info);
    return out;
}

/// Writes an npy_array back to disk (dtype and shape as they are).
inline void save_npy(const std::string& path, const npy_array& array) {
    const auto& type = detail::npy_lookup(array.dtype, path);
    const std::size_t count = detail::element_count(array.shape, path);
    if (array.data.size() != count * type.size)
        raise<shape_error>(path, ": npy_array has ", array.data.size(), " bytes, shape ",
                           detail::shape_text(array.shape), " of ", array.dtype, " needs ",
                           count * type.size);
    const std::string header = detail::npy_header(type.descr, array.shape);
    write_atomically(path, [&](std::ofstream& out) {
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        if (!array.data.empty())
            out.write(reinterpret_cast<const char*>(array.data.data()),
                      static_cast<std::streamsize>(array.data.size()));
    });
}

}  // namespace spikegrad::io

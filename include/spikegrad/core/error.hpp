/// \file
/// spikegrad: the typed exceptions every module raises. One family per kind of failure; the
/// message names the object, the index and the offending value, e.g.
/// "shd: sample 17: unit 731 >= n_units 700 in /spikes/units".
#pragma once

#include "../config.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace spikegrad {

/// Base of every spikegrad exception.
class error : public std::runtime_error {
public:
    explicit error(const std::string& what) : std::runtime_error(what) {}
};

/// Sizes that do not fit together: layers that do not chain, tensors of the wrong shape.
class shape_error : public error {
public:
    using error::error;
};

/// Bad content in user data: an index out of range, a label outside the classes,
/// negative or unsorted times.
class data_error : public error {
public:
    using error::error;
};

/// A NaN or infinity where a number was needed (inputs, losses, parameters).
class numeric_error : public error {
public:
    using error::error;
};

/// Files that cannot be read or written, or whose content is malformed or truncated.
class io_error : public error {
public:
    using error::error;
};

/// An option with a value outside its documented range.
class option_error : public error {
public:
    using error::error;
};

namespace detail {

inline void append_all(std::string&) {}

template <class First, class... Rest>
void append_all(std::string& out, const First& first, const Rest&... rest) {
    if constexpr (std::is_convertible_v<const First&, std::string>) {
        out += std::string(first);
    } else if constexpr (std::is_same_v<First, char>) {
        out += first;
    } else if constexpr (std::is_floating_point_v<First>) {
        char buffer[32];
        auto result = std::to_chars(buffer, buffer + sizeof(buffer), first);
        out.append(buffer, result.ptr);
    } else {
        out += std::to_string(first);
    }
    append_all(out, rest...);
}

/// Concatenates strings and numbers into one message (no <sstream> in core headers).
template <class... Parts>
std::string message(const Parts&... parts) {
    std::string out;
    append_all(out, parts...);
    return out;
}

}  // namespace detail

/// Throws Error with the concatenation of parts.
template <class Error, class... Parts>
[[noreturn]] void raise(const Parts&... parts) {
#ifdef SPIKEGRAD_NO_EXCEPTIONS
    (void)sizeof...(parts);
    std::abort();
#else
    throw Error(detail::message(parts...));
#endif
}

}  // namespace spikegrad

/// \file
/// spikegrad: a minimal JSON value and writer for reports and run records (settings, results).
/// Writing only; keeps the core free of a JSON dependency. Non-finite numbers become null.
#pragma once

#include "../core/error.hpp"
#include "file.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace spikegrad::json {

class value;
using array = std::vector<value>;
/// Keys keep insertion order so files read in the order they were written.
using object = std::vector<std::pair<std::string, value>>;

/// A JSON value (null, bool, number, string, array, object) for the small files spikegrad writes
/// and reads.
class value {
public:
    value() : data_(nullptr) {}
    value(std::nullptr_t) : data_(nullptr) {}
    value(bool b) : data_(b) {}
    template <class T>
        requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
    value(T x) {
        if constexpr (std::is_integral_v<T>)
            data_ = static_cast<std::int64_t>(x);
        else
            data_ = static_cast<double>(x);
    }
    value(const char* s) : data_(std::string(s)) {}
    value(std::string s) : data_(std::move(s)) {}
    value(array a) : data_(std::move(a)) {}
    value(object o) : data_(std::move(o)) {}
    template <class T>
        requires(!std::is_same_v<T, value>)
    value(const std::vector<T>& items) {
        array a;
        a.reserve(items.size());
        for (const auto& item : items) a.emplace_back(item);
        data_ = std::move(a);
    }

    /// Member access on an object (inserted when missing); turns null into an object.
    value& operator[](const std::string& key) {
        if (std::holds_alternative<std::nullptr_t>(data_)) data_ = object{};
        auto* members = std::get_if<object>(&data_);
        if (!members) raise<shape_error>("json: '", key, "' looked up in a non-object value");
        for (auto& [k, v] : *members)
            if (k == key) return v;
        members->emplace_back(key, value());
        return members->back().second;
    }

    /// Appends to an array; turns null into an array.
    void push_back(value v) {
        if (std::holds_alternative<std::nullptr_t>(data_)) data_ = array{};
        auto* items = std::get_if<array>(&data_);
        if (!items) raise<shape_error>("json: push_back on a non-array value");
        items->push_back(std::move(v));
    }

    /// Text with `indent` spaces per level (0: one line).
    std::string dump(int indent = 2) const {
        std::string out;
        write(out, indent, 0);
        return out;
    }

private:
    static void write_string(std::string& out, const std::string& s) {
        out += '"';
        for (unsigned char c : s) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (c < 0x20) {
                        const char* hex = "0123456789abcdef";
                        out += "\\u00";
                        out += hex[c >> 4];
                        out += hex[c & 15];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
        }
        out += '"';
    }

    static void newline(std::string& out, int indent, int depth) {
        if (indent <= 0) return;
        out += '\n';
        out.append(static_cast<std::size_t>(indent * depth), ' ');
    }

    void write(std::string& out, int indent, int depth) const {
        if (std::holds_alternative<std::nullptr_t>(data_)) {
            out += "null";
        } else if (auto* b = std::get_if<bool>(&data_)) {
            out += *b ? "true" : "false";
        } else if (auto* i = std::get_if<std::int64_t>(&data_)) {
            out += std::to_string(*i);
        } else if (auto* d = std::get_if<double>(&data_)) {
            if (!std::isfinite(*d)) {
                out += "null";
            } else {
                char buffer[32];
                auto result = std::to_chars(buffer, buffer + sizeof(buffer), *d);
                out.append(buffer, result.ptr);
            }
        } else if (auto* s = std::get_if<std::string>(&data_)) {
            write_string(out, *s);
        } else if (auto* a = std::get_if<array>(&data_)) {
            const bool scalars = std::all_of(a->begin(), a->end(), [](const value& v) {
                return !std::holds_alternative<array>(v.data_) &&
                       !std::holds_alternative<object>(v.data_);
            });
            out += '[';
            for (std::size_t k = 0; k < a->size(); ++k) {
                if (k) out += scalars ? ", " : ",";
                if (!scalars) newline(out, indent, depth + 1);
                (*a)[k].write(out, indent, depth + 1);
            }
            if (!scalars && !a->empty()) newline(out, indent, depth);
            out += ']';
        } else if (auto* o = std::get_if<object>(&data_)) {
            out += '{';
            for (std::size_t k = 0; k < o->size(); ++k) {
                if (k) out += ',';
                newline(out, indent, depth + 1);
                write_string(out, (*o)[k].first);
                out += indent > 0 ? ": " : ":";
                (*o)[k].second.write(out, indent, depth + 1);
            }
            if (!o->empty()) newline(out, indent, depth);
            out += '}';
        }
    }

    std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, array, object> data_;
};

/// Writes `v` to `path` (through a temporary file renamed into place).
inline void save(const value& v, const std::string& path) {
    const std::string text = v.dump(2) + "\n";
    io::write_atomically(path, [&](std::ofstream& out) { out << text; }, false);
}

}  // namespace spikegrad::json

/// \file
/// spikegrad: CSV tables. csv_writer collects a header and rows of strings and numbers (RFC 4180
/// quoting, shortest round-trip numbers, NaN as "nan") and saves them atomically; read_csv returns
/// the header and the rows as strings, with column lookup by name.
#pragma once

#include "../core/error.hpp"
#include "file.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikegrad::io {

/// One CSV field, formatted when it is made: strings as they are (quoted on output when they
/// hold a comma, a quote or a line break), integers exactly, floating point with the shortest
/// text that reads back to the same value, NaN as "nan", infinities as "inf" / "-inf",
/// bools as "true" / "false".
class csv_field {
public:
    csv_field(std::string text) : text_(std::move(text)) {}
    csv_field(std::string_view text) : text_(text) {}
    csv_field(const char* text) : text_(text) {}
    template <class B>
    requires std::is_same_v<B, bool>  // no silent pointer or char -> bool conversion
    csv_field(B value) : text_(value ? "true" : "false") {}
    template <class T>
    requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
        csv_field(T value)
        : text_(format(value)) {}

    const std::string& text() const { return text_; }

    /// The shortest round-trip text of a number (what csv_field(x).text() holds).
    template <class T>
    requires std::is_arithmetic_v<T>
    static std::string format(T value) {
        if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(value)) return "nan";
            if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
        }
        char buffer[64];
        auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
        return std::string(buffer, result.ptr);
    }

private:
    std::string text_;
};

namespace detail {

inline bool csv_needs_quotes(std::string_view field) {
    return field.find_first_of(",\"\r\n") != std::string_view::npos;
}

inline void csv_append_field(std::string& out, std::string_view field) {
    if (!csv_needs_quotes(field)) {
        out += field;
        return;
    }
    out += '"';
    for (char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

inline void csv_append_record(std::string& out, const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        csv_append_field(out, fields[i]);
    }
    // A record of one empty field would read back as a blank line; quote it.
    if (fields.size() == 1 && fields[0].empty()) out += "\"\"";
    out += '\n';
}

}  // namespace detail

/// A table built in memory and written in one go:
///   io::csv_writer table({"f", "accuracy", "model"});
///   table.row(0.1, 0.93, "SGD-delay");
///   table.save("results.csv");
/// Every row must have as many fields as the header (shape_error otherwise). Lines end in "\n".
class csv_writer {
public:
    explicit csv_writer(std::vector<std::string> header) : header_(std::move(header)) {
        if (header_.empty()) raise<shape_error>("csv_writer: the header has no columns");
    }

    /// Appends one row; each argument becomes a csv_field.
    template <class... Fields>
    requires(sizeof...(Fields) > 0 && (std::is_constructible_v<csv_field, const Fields&> &&
                                       ...)) csv_writer& row(const Fields&... fields) {
        return add_row(std::vector<std::string>{csv_field(fields).text()...});
    }

    /// Appends one row of already made fields (for rows built in a loop).
    csv_writer& row(const std::vector<csv_field>& fields) {
        std::vector<std::string> texts;
        texts.reserve(fields.size());
        for (const auto& field : fields) texts.push_back(field.text());
        return add_row(std::move(texts));
    }

    const std::vector<std::string>& header() const { return header_; }
    std::size_t rows() const { return rows_.size(); }

    /// The whole table as CSV text.
    std::string str() const {
        std::string out;
        detail::csv_append_record(out, header_);
        for (const auto& fields : rows_) detail::csv_append_record(out, fields);
        return out;
    }

    /// Writes the table to `path` through a temporary file (never a half-written table).
    void save(const std::string& path) const {
        const std::string text = str();
        write_atomically(path, [&](std::ofstream& out) {
            out.write(text.data(), static_cast<std::streamsize>(text.size()));
        });
    }

private:
    csv_writer& add_row(std::vector<std::string> fields) {
        if (fields.size() != header_.size())
            raise<shape_error>("csv_writer: row ", rows_.size() + 1, " has ", fields.size(),
                               " fields, the header has ", header_.size());
        rows_.push_back(std::move(fields));
        return *this;
    }

    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

/// A parsed CSV file: the header, the rows as strings, and lookup by column name.
struct csv_table {
    std::string source{};  ///< file name, for messages
    std::vector<std::string> header{};
    std::vector<std::vector<std::string>> rows{};  ///< every row has header.size() fields

    std::size_t row_count() const { return rows.size(); }

    bool has_column(std::string_view name) const {
        for (const auto& column : header)
            if (column == name) return true;
        return false;
    }

    /// Index of a column; io_error naming the file and the columns it has when missing.
    std::size_t column(std::string_view name) const {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return i;
        std::string known;
        for (const auto& column : header) known += (known.empty() ? "" : ", ") + column;
        raise<io_error>(source, ": no column '", std::string(name), "' (columns: ", known, ")");
    }

    /// The field of row `row` (0-based, header excluded) in column `name`.
    const std::string& at(std::size_t row, std::string_view name) const {
        if (row >= rows.size())
            raise<io_error>(source, ": row ", row, " requested, the file has ", rows.size());
        return rows[row][column(name)];
    }

    /// The field as a number ("nan", "inf" and "-inf" included); io_error when it is not one.
    double number(std::size_t row, std::string_view name) const {
        return parse_number(at(row, name), row, name);
    }

    /// Every field of a column, as strings.
    std::vector<std::string> strings(std::string_view name) const {
        const std::size_t index = column(name);
        std::vector<std::string> out;
        out.reserve(rows.size());
        for (const auto& fields : rows) out.push_back(fields[index]);
        return out;
    }

    /// Every field of a column, as numbers.
    std::vector<double> numbers(std::string_view name) const {
        const std::size_t index = column(name);
        std::vector<double> out;
        out.reserve(rows.size());
        for (std::size_t row = 0; row < rows.size(); ++row)
            out.push_back(parse_number(rows[row][index], row, name));
        return out;
    }

private:
    double parse_number(std::string_view text, std::size_t row, std::string_view name) const {
        std::string_view digits = text;
        if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
        double value = 0;
        auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || result.ec != std::errc{} ||
            result.ptr != digits.data() + digits.size())
            raise<io_error>(source, ": row ", row + 1, ", column '", std::string(name), "': '",
                            std::string(text), "' is not a number");
        return value;
    }
};

/// Parses CSV text (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks;
/// "\n" and "\r\n" both end a record; blank lines are skipped). The first record is the header.
/// io_error naming `source` and the line for a ragged row, an unterminated quote, text after a
/// closing quote, or no header at all.
inline csv_table parse_csv(std::string_view text, const std::string& source = "csv") {
    csv_table table;
    table.source = source;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark

    std::size_t pos = 0, line = 1;
    bool have_header = false;
    while (pos < text.size()) {
        const std::size_t record_line = line;
        std::vector<std::string> fields;
        std::string field;
        bool at_record_end = false;
        bool blank = true;  // nothing but a line break so far
        while (!at_record_end) {
            if (pos < text.size() && text[pos] == '"') {
                blank = false;
                ++pos;
                for (;;) {
                    if (pos >= text.size())
                        raise<io_error>(source, ": line ", record_line,
                                        ": unterminated quoted field");
                    char c = text[pos++];
                    if (c == '"') {
                        if (pos < text.size() && text[pos] == '"') {
                            field += '"';
                            ++pos;
                        } else {
                            break;
                        }
                    } else {
                        if (c == '\n') ++line;
                        field += c;
                    }
                }
                if (pos < text.size() && text[pos] != ',' && text[pos] != '\n' &&
                    !(text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') &&
                    !(text[pos] == '\r' && pos + 1 == text.size()))
                    raise<io_error>(source, ": line ", line,
                                    ": unexpected character after a closing quote");
            } else {
                while (pos < text.size() && text[pos] != ',' && text[pos] != '\n' &&
                       !(text[pos] == '\r' && (pos + 1 == text.size() || text[pos + 1] == '\n')))
                    field += text[pos++];
                if (!field.empty()) blank = false;
            }
            if (pos >= text.size()) {
                at_record_end = true;
            } else if (text[pos] == ',') {
                blank = false;
                ++pos;
                fields.push_back(std::move(field));
                field.clear();
                continue;
            } else {
                if (text[pos] == '\r') ++pos;
                ++pos;  // '\n'
                ++line;
                at_record_end = true;
            }
            fields.push_back(std::move(field));
            field.clear();
        }
        if (blank) continue;
        if (!have_header) {
            table.header = std::move(fields);
            have_header = true;
        } else {
            if (fields.size() != table.header.size())
                raise<io_error>(source, ": line ", record_line, ": ", fields.size(),
                                " fields, the header has ", table.header.size());
            table.rows.push_back(std::move(fields));
        }
    }
    if (!have_header) raise<io_error>(source, ": empty CSV file, no header line");
    return table;
}

/// Reads and parses a CSV file (see parse_csv); errors name the file.
inline csv_table read_csv(const std::string& path) {
    return parse_csv(read_file(path), path);
}

}  // namespace spikegrad::io

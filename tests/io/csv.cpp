// Tests of io/csv.hpp: quoting and number formatting round trips, malformed files, and agreement
// with Python's csv module in both directions.
#include "python.hpp"

#include <spikegrad/io/csv.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace spikegrad;
using test_io::scratch_file;

namespace {

std::string hex(const std::string& text) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string unhex(const std::string& text) {
    auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2)
        out += static_cast<char>(value(text[i]) * 16 + value(text[i + 1]));
    return out;
}

const std::vector<std::string> tricky = {
    "plain", "with,comma", "with \"quotes\"", "two\nlines", "crlf\r\nline",
    "",      " spaces ",   "unicode µs → ✓",  "'single'",   "trailing,",
    "\"",    ",",          "tab\there"};

}  // namespace

TEST_CASE("csv fields with commas, quotes and line breaks survive a write and read") {
    io::csv_writer writer({"index", "text", "other"});
    for (std::size_t i = 0; i < tricky.size(); ++i)
        writer.row(static_cast<int>(i), tricky[i], tricky[tricky.size() - 1 - i]);
    CHECK(writer.rows() == tricky.size());
    const std::string path = scratch_file("tricky.csv");
    writer.save(path);
    const auto table = io::read_csv(path);
    CHECK(table.header == std::vector<std::string>{"index", "text", "other"});
    REQUIRE(table.row_count() == tricky.size());
    for (std::size_t i = 0; i < tricky.size(); ++i) {
        CHECK(table.at(i, "text") == tricky[i]);
        CHECK(table.at(i, "other") == tricky[tricky.size() - 1 - i]);
        CHECK(table.number(i, "index") == static_cast<double>(i));
    }
    CHECK(table.strings("text") == tricky);
}

TEST_CASE("csv quoting follows RFC 4180: only fields that need it are quoted, quotes doubled") {
    io::csv_writer writer({"a", "b"});
    writer.row("x,y", "say \"hi\"");
    writer.row("plain", "");
    CHECK(writer.str() == "a,b\n\"x,y\",\"say \"\"hi\"\"\"\nplain,\n");
    io::csv_writer single({"only"});
    single.row("");
    CHECK(single.str() == "only\n\"\"\n");
    CHECK(io::parse_csv(single.str()).rows.size() == 1);
}

TEST_CASE("csv numbers use the shortest text that reads back to the same value") {
    CHECK(io::csv_field(0.1).text() == "0.1");
    CHECK(io::csv_field(0.1f).text() == "0.1");
    CHECK(io::csv_field(1.0 / 3.0).text() == "0.3333333333333333");
    CHECK(io::csv_field(1e-7).text() == "1e-07");
    CHECK(io::csv_field(42).text() == "42");
    CHECK(io::csv_field(std::numeric_limits<std::int64_t>::min()).text() == "-9223372036854775808");
    CHECK(io::csv_field(std::numeric_limits<std::uint64_t>::max()).text() ==
          "18446744073709551615");
    CHECK(io::csv_field(std::numeric_limits<double>::quiet_NaN()).text() == "nan");
    CHECK(io::csv_field(-std::numeric_limits<double>::quiet_NaN()).text() == "nan");
    CHECK(io::csv_field(std::numeric_limits<double>::infinity()).text() == "inf");
    CHECK(io::csv_field(-std::numeric_limits<float>::infinity()).text() == "-inf");
    CHECK(io::csv_field(true).text() == "true");

    const std::vector<double> values = {0.1,
                                        1.0 / 3.0,
                                        -2.5e-300,
                                        6.02214076e23,
                                        1e-7,
                                        0.0,
                                        -0.0,
                                        std::numeric_limits<double>::max(),
                                        std::numeric_limits<double>::denorm_min()};
    io::csv_writer writer({"x"});
    for (double v : values) writer.row(v);
    writer.row(std::numeric_limits<double>::quiet_NaN());
    writer.row(-std::numeric_limits<double>::infinity());
    const auto table = io::parse_csv(writer.str(), "numbers");
    const auto back = table.numbers("x");
    REQUIRE(back.size() == values.size() + 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        CHECK(back[i] == values[i]);
        CHECK(std::signbit(back[i]) == std::signbit(values[i]));
    }
    CHECK(std::isnan(back[values.size()]));
    CHECK(back[values.size() + 1] == -std::numeric_limits<double>::infinity());
}

TEST_CASE("csv rows built in a loop and rows of the wrong length") {
    io::csv_writer writer({"f", "accuracy", "model"});
    std::vector<io::csv_field> fields = {0.5, 0.75, "SGD"};
    writer.row(fields);
    writer.row({0.25, 0.875, std::string("SGD-delay")});
    CHECK(writer.str() == "f,accuracy,model\n0.5,0.75,SGD\n0.25,0.875,SGD-delay\n");
    CHECK_THROWS_AS(writer.row(1, 2), shape_error);
    CHECK_THROWS_AS(writer.row({1.0, 2.0, 3.0, 4.0}), shape_error);
    CHECK_THROWS_AS(io::csv_writer({}), shape_error);
}

TEST_CASE("csv reading: CRLF, byte order mark, blank lines, column lookup") {
    const auto table =
        io::parse_csv("\xEF\xBB\xBFname,value\r\nalpha,1.5\r\n\r\nbeta,-2\r\n\n", "mem.csv");
    CHECK(table.header == std::vector<std::string>{"name", "value"});
    REQUIRE(table.row_count() == 2);
    CHECK(table.at(1, "name") == "beta");
    CHECK(table.numbers("value") == std::vector<double>{1.5, -2});
    CHECK(table.column("value") == 1);
    CHECK(table.has_column("name"));
    CHECK(!table.has_column("missing"));
    CHECK_THROWS_WITH_AS(table.column("missing"),
                         "mem.csv: no column 'missing' (columns: name, value)", io_error);
    CHECK_THROWS_AS(table.number(0, "name"), io_error);
    CHECK_THROWS_AS(table.at(5, "name"), io_error);
    CHECK(io::parse_csv("a\n+3\n").number(0, "a") == 3);
    CHECK(io::parse_csv("a,b\n1,2").rows.size() == 1);  // no final line break
}

TEST_CASE("csv ragged rows, broken quotes and empty files raise io_error naming the line") {
    CHECK_THROWS_WITH_AS(io::parse_csv("a,b\n1,2\n3\n", "r.csv"),
                         "r.csv: line 3: 1 fields, the header has 2", io_error);
    // A quoted line break counts as a line: the ragged record starts on line 4.
    CHECK_THROWS_WITH_AS(io::parse_csv("a,b\n\"x\ny\",2\n1,2,3\n", "q.csv"),
                         "q.csv: line 4: 3 fields, the header has 2", io_error);
    CHECK_THROWS_WITH_AS(io::parse_csv("a,b\n\"open,2\n", "u.csv"),
                         "u.csv: line 2: unterminated quoted field", io_error);
    CHECK_THROWS_AS(io::parse_csv("a,b\n\"x\"y,2\n", "t.csv"), io_error);
    CHECK_THROWS_AS(io::parse_csv("", "empty.csv"), io_error);
    CHECK_THROWS_AS(io::parse_csv("\n\n", "blank.csv"), io_error);
    CHECK_THROWS_AS(io::read_csv(scratch_file("does-not-exist.csv")), io_error);
}

TEST_CASE("csv files we write are parsed identically by Python's csv module, and vice versa") {
    // Python reads our file and compares every field with the hex-encoded expectation.
    io::csv_writer writer({"text", "number", "label"});
    std::string expected;
    for (std::size_t i = 0; i < tricky.size(); ++i) {
        writer.row(tricky[i], 0.1 * static_cast<double>(i), "row " + std::to_string(i));
        expected += hex(tricky[i]) + " " + hex(io::csv_field(0.1 * static_cast<double>(i)).text()) +
                    " " + hex("row " + std::to_string(i)) + "\n";
    }
    writer.save(scratch_file("ours.csv"));
    io::write_atomically(scratch_file("ours.expected"),
                         [&](std::ofstream& out) { out << expected; });

    // Python writes a file (its default CRLF line ends, minimal quoting) and its hex encoding.
    const auto result = test_io::run_python(R"PY(
import csv
with open('ours.csv', newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f))
assert rows[0] == ['text', 'number', 'label'], rows[0]
expected = [[bytes.fromhex(h).decode('utf-8') for h in line.split(' ')]
            for line in open('ours.expected').read().splitlines()]
assert rows[1:] == expected, (rows[1:], expected)
assert [float(r[1]) for r in rows[1:]] == [0.1 * i for i in range(len(expected))]

theirs = [['a', 'b,c'], ['x"y', 'multi\nline'], ['', 'µs'], ['1e-07', 'nan']]
with open('theirs.csv', 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f)
    w.writerow(['first', 'second'])
    w.writerows(theirs)
print(';'.join(' '.join(c.encode('utf-8').hex() for c in row) for row in theirs))
)PY");
    REQUIRE_MESSAGE(result.status == 0, result.output);
    const auto table = io::read_csv(scratch_file("theirs.csv"));
    CHECK(table.header == std::vector<std::string>{"first", "second"});
    std::vector<std::vector<std::string>> theirs;
    std::string line = result.output.substr(0, result.output.find('\n'));
    std::size_t start = 0;
    while (start <= line.size()) {
        const auto end = std::min(line.find(';', start), line.size());
        const std::string record = line.substr(start, end - start);
        const auto space = record.find(' ');
        theirs.push_back({unhex(record.substr(0, space)), unhex(record.substr(space + 1))});
        start = end + 1;
    }
    CHECK(table.rows == theirs);
    CHECK(std::isnan(table.number(3, "second")));
}

// Tests of examples/support/svg.hpp, the examples' figure writer: tick and histogram arithmetic,
// XML escaping, and figures that Python's xml.etree parses with the expected elements, also for
// degenerate data.
#include "../io/python.hpp"
#include "svg.hpp"  // examples/support (include path set in tests/CMakeLists.txt)

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace spikegrad;
using test_io::scratch_file;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
        ++count;
    return count;
}

/// Numbers in attributes (coordinates, sizes) never spell NaN or infinity.
bool has_non_finite_number(const std::string& svg) {
    for (const char* bad : {"nan", "NaN", "inf", "Inf"})
        for (auto pos = svg.find(bad); pos != std::string::npos; pos = svg.find(bad, pos + 1))
            if (pos > 0 && (svg[pos - 1] == '"' || svg[pos - 1] == ' ' || svg[pos - 1] == '-' ||
                            svg[pos - 1] == 'M' || svg[pos - 1] == 'L' || svg[pos - 1] == ','))
                return true;
    return false;
}

/// Parses an SVG file with Python's xml.etree and prints facts about it, one per line.
std::string inspect_with_python(const std::string& file) {
    const auto result = test_io::run_python(R"PY(
import re, sys
import xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(r')PY" + file + R"PY(').getroot()
assert root.tag == ns + 'svg', root.tag
number = re.compile(r'(?i)nan|inf')
for element in root.iter():
    for key, value in element.attrib.items():
        if key in ('d', 'x', 'y', 'width', 'height', 'viewBox', 'transform', 'stroke-width', 'opacity'):
            assert not number.search(value), (element.tag, key, value)
for group in root.iter(ns + 'g'):
    if 'series' in group.get('class', '').split():
        kind = group.get('class').split()[1]
        paths = group.findall(ns + 'path')
        print('series', kind, group.get('data-label'), len(paths),
              ' '.join(p.get('class') for p in paths))
for text in root.iter(ns + 'text'):
    cls = text.get('class')
    if cls in ('title', 'xlabel', 'ylabel', 'suptitle', 'reflabel', 'annotation', 'panel-letter'):
        print(cls, text.text)
for legend in root.iter(ns + 'g'):
    if legend.get('class') == 'legend':
        print('legend', '|'.join(t.text for t in legend.iter(ns + 'text')))
print('well-formed')
)PY");
    REQUIRE_MESSAGE(result.status == 0, result.output);
    return result.output;
}

}  // namespace

TEST_CASE("nice ticks use steps of 1, 2, 2.5 or 5 times a power of ten") {
    double step = 0;
    auto ticks = svg::detail::nice_ticks(0, 1, 5, false, &step);
    CHECK(step == doctest::Approx(0.2));
    REQUIRE(ticks.size() == 6);
    CHECK(ticks.front() == 0);
    CHECK(ticks.back() == doctest::Approx(1.0));
    ticks = svg::detail::nice_ticks(-0.05, 1.05, 4, false, &step);
    CHECK(step == doctest::Approx(0.5));
    CHECK(ticks == std::vector<double>{0, 0.5, 1.0});
    ticks = svg::detail::nice_ticks(-50, 1050, 5, false, &step);
    CHECK(step == 250);
    ticks = svg::detail::nice_ticks(-0.5, 3.5, 8, true, &step);
    CHECK(step == 1);  // integer axes (neuron indices) never get fractional ticks
    CHECK(ticks == std::vector<double>{0, 1, 2, 3});
    CHECK(svg::detail::nice_ticks(2, 2, 5, false, &step) == std::vector<double>{2});
}

TEST_CASE("tick labels have the decimals the step needs and a typographic minus") {
    CHECK(svg::detail::tick_label(0.5, 0.25) == "0.50");
    CHECK(svg::detail::tick_label(1, 0.5) == "1.0");
    CHECK(svg::detail::tick_label(250, 50) == "250");
    CHECK(svg::detail::tick_label(-0.2, 0.2) ==
          "\xE2\x88\x92"
          "0.2");
    CHECK(svg::detail::tick_label(1e-17, 0.1) == "0.0");
    CHECK(svg::detail::tick_label(2e6, 1e6) == "2e+06");
}

TEST_CASE("make_histogram matches NumPy's binning rules") {
    std::vector<double> values;
    for (int i = 0; i < 100; ++i) values.push_back(i);
    auto h = svg::make_histogram(values, 10);
    REQUIRE(h.counts.size() == 10);
    REQUIRE(h.edges.size() == 11);
    CHECK(h.edges.front() == 0);
    CHECK(h.edges.back() == 99);  // the last bin includes its right edge
    double total = 0;
    for (double c : h.counts) total += c;
    CHECK(total == 100);
    h = svg::make_histogram({0, 1, 2, 3, not_a_number, 10}, 4, {0, 4});
    CHECK(h.counts == std::vector<double>{1, 1, 1, 1});  // NaN and 10 are outside
    h = svg::make_histogram({5, 5, 5}, 2);
    CHECK(h.edges == std::vector<double>{4.5, 5, 5.5});
    CHECK(h.counts == std::vector<double>{0, 3});
    h = svg::make_histogram({0, 0.5, 1, 1.5}, 2, {0, 2}, true);
    CHECK(h.counts[0] * 1 + h.counts[1] * 1 == doctest::Approx(1));
    CHECK(svg::make_histogram({}, 3).counts == std::vector<double>{0, 0, 0});
    CHECK_THROWS_AS(svg::make_histogram(values, 0), option_error);
}

TEST_CASE("text is escaped for XML and invalid UTF-8 is replaced") {
    CHECK(svg::detail::escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    CHECK(svg::detail::escape("µs → ✓") == "µs → ✓");
    CHECK(svg::detail::escape("bad\xFF byte") == "bad\xEF\xBF\xBD byte");
    CHECK(svg::detail::escape("cut \xE2\x88") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(svg::detail::escape("ctrl\x01\x1b") == "ctrl  ");
}

TEST_CASE("a figure with every kind of series is well-formed XML with the expected elements") {
    svg::figure fig({.rows = 2,
                     .cols = 2,
                     .width = 900,
                     .height = 640,
                     .title = "Overview",
                     .panel_letters = true});
    const std::vector<double> f = {0, 0.2, 0.4, 0.6, 0.8, 1.0};
    const std::vector<double> sgd = {0.95, 0.9, 0.8, 0.76, 0.75, 0.75};
    const std::vector<double> sgd_std = {0.01, 0.02, 0.03, 0.02, 0.01, 0.02};
    const std::vector<float> delay = {0.96f, 0.94f, 0.9f, 0.85f, 0.78f, 0.75f};
    fig.panel(0, 0)
        .set({.title = "ISI task",
              .xlabel = "replacement fraction f",
              .ylabel = "accuracy",
              .ylim = {0.4, 1.0}})
        .line(f, sgd, {.label = "SGD", .marker = svg::marker_shape::circle, .errors = sgd_std})
        .line(f, delay, {.label = "SGD-delay", .errors = sgd_std, .band = true})
        .hline(0.5, {.label = "chance 50%"})
        .hline(0.75, {.label = "rate-only level", .in_legend = true})
        .vline(0.5, {.label = "f = 0.5"});

    std::mt19937 rng(3);
    std::uniform_real_distribution<double> time(0, 1000);
    std::vector<double> t1, u1, t2, u2;
    for (int i = 0; i < 5000; ++i) {
        t1.push_back(time(rng));
        u1.push_back(i % 100);
    }
    for (int i = 0; i < 800; ++i) {
        t2.push_back(time(rng));
        u2.push_back(i % 100);
    }
    fig.panel(0, 1)
        .set({.title = "Raster", .xlabel = "time (ms)", .ylabel = "neuron"})
        .raster(t1, u1, {.label = "original", .color = "#444444"})
        .raster(t2, u2, {.label = "moved", .mark = svg::raster_mark::dot});

    std::normal_distribution<double> normal(5, 2);
    std::vector<double> delays;
    for (int i = 0; i < 1000; ++i) delays.push_back(normal(rng));
    fig.panel(1, 0)
        .set({.title = "Delays", .xlabel = "delay (steps)", .ylabel = "count"})
        .hist(delays, {.label = "layer 1", .bins = 25});
    fig.panel(1, 1)
        .set({.title = "Per-class counts",
              .ylabel = "samples",
              .xticks = {0, 1, 2},
              .xtick_labels = {"whole", "part", "norm"}})
        .bar(std::vector<int>{0, 1, 2}, std::vector<int>{273, 250, 260}, {.label = "train"})
        .scatter(std::vector<double>{0, 1, 2}, std::vector<double>{100, 120, 110},
                 {.label = "points", .marker = svg::marker_shape::diamond})
        .fill_between(std::vector<double>{0, 2}, std::vector<double>{50, 60},
                      std::vector<double>{80, 90}, {.label = "range"})
        .text(0.5, 0.9, "note <&> \"quoted\"",
              {.anchor = svg::text_anchor::middle, .coords = svg::coordinates::axes});

    const std::string path = scratch_file("overview.svg");
    fig.save(path);
    const std::string svg = io::read_file(path);
    CHECK(svg == fig.str());
    CHECK(!has_non_finite_number(svg));
    CHECK(count_of(svg, "<clipPath") == 4);

    REQUIRE_MESSAGE(test_io::has_numpy(), "needs NumPy in " SPIKEGRAD_SYSTEM_PYTHON
                                          " (scripts/install-deps.sh installs python3-numpy)");
    const std::string report = inspect_with_python(path);
    CHECK(report.find("well-formed") != std::string::npos);
    // One <path> per raster series, however many events.
    CHECK(report.find("series raster original 1 raster\n") != std::string::npos);
    CHECK(report.find("series raster moved 1 raster\n") != std::string::npos);
    CHECK(report.find("series line SGD 3 line errorbars markers\n") != std::string::npos);
    CHECK(report.find("series line SGD-delay 2 band line\n") != std::string::npos);
    CHECK(report.find("series bar layer 1 1 bars\n") != std::string::npos);
    CHECK(report.find("series bar train 1 bars\n") != std::string::npos);
    CHECK(report.find("series scatter points 1 markers\n") != std::string::npos);
    CHECK(report.find("series band range 1 band\n") != std::string::npos);
    CHECK(report.find("legend SGD|SGD-delay|rate-only level\n") != std::string::npos);
    CHECK(report.find("legend original|moved\n") != std::string::npos);
    CHECK(report.find("legend train|points|range\n") != std::string::npos);
    CHECK(report.find("xlabel replacement fraction f\n") != std::string::npos);
    CHECK(report.find("ylabel accuracy\n") != std::string::npos);
    CHECK(report.find("xlabel time (ms)\n") != std::string::npos);
    CHECK(report.find("title Per-class counts\n") != std::string::npos);
    CHECK(report.find("suptitle Overview\n") != std::string::npos);
    CHECK(report.find("reflabel chance 50%\n") != std::string::npos);
    CHECK(report.find("reflabel f = 0.5\n") != std::string::npos);
    CHECK(report.find("reflabel rate-only level") == std::string::npos);  // in the legend instead
    CHECK(report.find("annotation note <&> \"quoted\"\n") != std::string::npos);
    CHECK(report.find("panel-letter D\n") != std::string::npos);
}

TEST_CASE("degenerate data gives a valid figure without NaN coordinates") {
    svg::figure fig({.rows = 3, .cols = 3, .width = 900, .height = 800});
    const std::vector<double> none;
    const std::vector<double> xs = {1, 2, 3, 4, 5};
    fig.panel(0).line(none, none, {.label = "empty"}).raster(none, none).hist(none).bar(none, none);
    fig.panel(1).line(xs, std::vector<double>{2, 2, 2, 2, 2}, {.label = "flat"});
    fig.panel(2).line(
        xs, std::vector<double>(5, not_a_number),
        {.label = "all missing", .marker = svg::marker_shape::square, .errors = {1, 1, 1, 1, 1}});
    fig.panel(3)
        .line(xs, std::vector<double>{1, not_a_number, 3, infinity, 5},
              {.marker = svg::marker_shape::circle,
               .errors = {not_a_number, 1, -1, 1, infinity},
               .band = true})
        .scatter(std::vector<double>{not_a_number, 1}, std::vector<double>{1, -infinity});
    fig.panel(4)
        .line(std::vector<double>{3}, std::vector<double>{7}, {.label = "one point"})
        .hline(not_a_number, {.label = "nan line"})
        .vline(infinity)
        .text(not_a_number, 1, "nowhere");
    fig.panel(5)
        .set({.xlim = {1, 1}, .ylim = {5, 2}})  // equal and reversed fixed limits
        .line(xs, xs);
    fig.panel(6)
        .set({.xscale = svg::scale::log, .yscale = svg::scale::log})
        .line(std::vector<double>{-1, 0, 1, 10, 100}, std::vector<double>{0, 1e-3, 1, 10, 1e4},
              {.label = "log with non-positive values"})
        .bar(std::vector<double>{1, 10}, std::vector<double>{5, 50});
    fig.panel(7).raster(std::vector<double>{0, 0, 0}, std::vector<double>{4, 4, 4});
    fig.panel(8)
        .set({.title = "huge values", .legend = {.location = svg::legend_location::outside_right}})
        .line(xs, std::vector<double>{1e300, -1e300, 1e-300, 0, 1}, {.label = "wide"})
        .hist(std::vector<double>{1, 1, 1}, {.label = "same"});
    const std::string svg = fig.str();
    CHECK(!has_non_finite_number(svg));
    REQUIRE_MESSAGE(test_io::has_numpy(), "needs NumPy in " SPIKEGRAD_SYSTEM_PYTHON);
    const std::string path = scratch_file("degenerate.svg");
    fig.save(path);
    CHECK(inspect_with_python(path).find("well-formed") != std::string::npos);
}

TEST_CASE("svg misuse raises typed errors") {
    CHECK_THROWS_AS(svg::figure({.rows = 0}), option_error);
    CHECK_THROWS_AS(svg::figure({.width = 10}), option_error);
    svg::figure fig({.rows = 1, .cols = 2});
    CHECK_THROWS_AS(fig.panel(1, 0), shape_error);
    CHECK_THROWS_AS(fig.panel(0, 2), shape_error);
    auto& ax = fig.panel(0, 1);
    const std::vector<double> three = {1, 2, 3}, two = {1, 2};
    CHECK_THROWS_AS(ax.line(three, two), shape_error);
    CHECK_THROWS_AS(ax.line(three, three, {.errors = {1}}), shape_error);
    CHECK_THROWS_AS(ax.raster(three, two), shape_error);
    CHECK_THROWS_AS(ax.bar(three, two), shape_error);
    CHECK(ax.series_count() == 0);
    CHECK_THROWS_AS(fig.save(scratch_file("no-such-folder/figure.svg")), io_error);
}

TEST_CASE("series without a colour take tab10 colours in order, rasters draw every event") {
    svg::figure fig;
    const std::vector<double> xs = {0, 1};
    auto& ax = fig.panel(0);
    ax.line(xs, xs).line(xs, xs, {.color = "black"}).line(xs, xs);
    const std::string svg = fig.str();
    CHECK(svg.find("stroke=\"#1f77b4\"") != std::string::npos);
    CHECK(svg.find("stroke=\"#ff7f0e\"") != std::string::npos);  // an explicit colour takes none
    CHECK(svg.find("stroke=\"#2ca02c\"") == std::string::npos);

    svg::figure raster_fig;
    std::vector<double> t, u;
    for (int i = 0; i < 3000; ++i) t.push_back(i % 1000), u.push_back(i % 7);
    raster_fig.panel(0).raster(t, u);
    const std::string raster = raster_fig.str();
    const auto start = raster.find("<path class=\"raster\" d=\"");
    REQUIRE(start != std::string::npos);
    const auto end = raster.find('"', start + 24);
    CHECK(count_of(raster.substr(start, end - start), "M") == 3000);
}

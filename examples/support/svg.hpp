// spikegrad: dependency-free SVG figures for the paper's plots: a grid of panels with nice ticks,
// light grid lines, tab10 colours and legends; lines with markers and error bars or bands,
// reference lines, spike rasters (one <path> per series), bars, histograms and text.
// Support code of the example programs, not a library header (docs/design.md, "Plotting lives
// with the examples"): it is not installed, and its test is tests/examples/svg.cpp.
#pragma once

#include <spikegrad/core/error.hpp>
#include <spikegrad/io/file.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace spikegrad::svg {

/// A limit left to the data.
inline constexpr double auto_limit = std::numeric_limits<double>::quiet_NaN();

/// An axis range; a NaN end is chosen from the data (with padding): `.ylim = {0, 1}`,
/// `.ylim = {.lo = 0}`.
struct limits {
    double lo = auto_limit;
    double hi = auto_limit;
};

enum class scale { linear, log };
enum class marker_shape { none, circle, square, triangle, diamond, cross, plus };
enum class legend_location {
    best,
    upper_right,
    upper_left,
    lower_left,
    lower_right,
    upper_center,
    lower_center,
    center_right,
    outside_right,
    none
};
enum class raster_mark { tick, dot };
enum class text_anchor { start, middle, end };
/// Where a reference line's label sits along it; automatic picks the spot with the least data.
enum class label_position { automatic, start, middle, end };
enum class coordinates { data, axes };  // axes: (0, 0) lower left, (1, 1) upper right

/// Matplotlib's tab10 colour cycle.
inline constexpr std::array<std::string_view, 10> tab10 = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

struct figure_options {
    int rows = 1;
    int cols = 1;
    double width = 640;          ///< pixels
    double height = 440;         ///< pixels
    std::string title{};         ///< above all panels
    bool panel_letters = false;  ///< bold A, B, C ... at each panel's top left
    double font_size = 12;       ///< axis labels; ticks and legend use font_size - 1
    std::string font_family = "DejaVu Sans, Helvetica, Arial, sans-serif";
    std::string background = "#ffffff";
    std::string id = "sg";  ///< prefix of element ids, distinct per figure inlined in one page
};

struct legend_options {
    legend_location location = legend_location::best;
    int columns = 1;
    std::string title{};
    bool frame = true;
};

struct axes_options {
    std::string title{};
    std::string xlabel{};
    std::string ylabel{};
    limits xlim{};
    limits ylim{};
    scale xscale = scale::linear;
    scale yscale = scale::linear;
    bool grid = true;
    bool box = false;                         ///< also draw the top and right spines
    std::vector<double> xticks{};             ///< explicit tick positions (empty: automatic)
    std::vector<std::string> xtick_labels{};  ///< labels for xticks (empty: the numbers)
    std::vector<double> yticks{};
    std::vector<std::string> ytick_labels{};
    legend_options legend{};
    double margin = 0.05;  ///< automatic limits pad the data range by this fraction per side
};

struct line_options {
    std::string label{};  ///< legend entry (empty: none)
    std::string color{};  ///< any CSS colour; empty: the next colour of the cycle
    double width = 1.75;
    std::string dash{};  ///< "", "dashed", "dotted", "dashdot" or an SVG dasharray "6,3"
    marker_shape marker = marker_shape::none;
    double marker_size = 6;
    std::vector<double> errors{};  ///< y +- errors[i] (e.g. the std over seeds); NaN: none
    bool band = false;             ///< draw errors as a shaded band instead of error bars
    double opacity = 1;
};

struct scatter_options {
    std::string label{};
    std::string color{};
    marker_shape marker = marker_shape::circle;
    double size = 6;
    double opacity = 0.85;
};

struct band_options {
    std::string label{};
    std::string color{};
    double opacity = 0.2;
};

struct bar_options {
    std::string label{};
    std::string color{};
    double width = 0.8;            ///< in x units
    double offset = 0;             ///< shift in x units (grouped bars)
    std::vector<double> errors{};  ///< error bars on top of the bars
    std::string edge_color{};      ///< empty: no outline
    double opacity = 1;
};

struct hist_options {
    std::string label{};
    std::string color{};
    int bins = 20;
    limits range{};        ///< NaN ends: the data's min / max
    bool density = false;  ///< normalise so that the bars' area is 1
    double opacity = 0.75;
    std::string edge_color = "#ffffff";
};

struct ref_line_options {
    std::string label{};  ///< written beside the line (e.g. "chance 50%")
    std::string color = "#555555";
    double width = 1.25;
    std::string dash = "dashed";
    label_position label_at = label_position::automatic;  ///< where along the line
    bool in_legend = false;  ///< put the label in the legend instead of beside the line
};

struct raster_options {
    std::string label{};
    std::string color{};
    raster_mark mark = raster_mark::tick;
    double tick_height = 0.8;  ///< in units of the y axis (one unit per neuron)
    double line_width = 1.0;   ///< tick stroke, pixels
    double dot_size = 2.5;     ///< dot diameter, pixels
    double opacity = 1;
};

struct text_options {
    double size = 0;  ///< pixels; 0: the tick label size
    std::string color = "#222222";
    text_anchor anchor = text_anchor::start;
    coordinates coords = coordinates::data;
    double rotation = 0;  ///< degrees, counter-clockwise
    bool bold = false;
};

/// Bin edges (bins + 1) and counts (or densities) of a histogram.
struct histogram {
    std::vector<double> edges{};
    std::vector<double> counts{};
};

/// NumPy's histogram: `bins` equal bins over `range` (NaN ends: the finite data's min / max; a
/// single value v gives [v - 0.5, v + 0.5]); the last bin includes its right edge; values outside
/// and NaN are ignored.
inline histogram make_histogram(const std::vector<double>& values, int bins, limits range = {},
                                bool density = false) {
    if (bins < 1) raise<option_error>("svg: histogram needs bins >= 1, got ", bins);
    double lo = range.lo, hi = range.hi;
    if (std::isnan(lo) || std::isnan(hi)) {
        double min = std::numeric_limits<double>::infinity(), max = -min;
        for (double v : values)
            if (std::isfinite(v)) min = std::min(min, v), max = std::max(max, v);
        if (min > max) min = 0, max = 1;
        if (std::isnan(lo)) lo = min;
        if (std::isnan(hi)) hi = max;
    }
    if (!(hi > lo)) lo -= 0.5, hi += 0.5;
    histogram out;
    out.edges.resize(static_cast<std::size_t>(bins) + 1);
    for (int i = 0; i <= bins; ++i) out.edges[i] = lo + (hi - lo) * i / bins;
    out.counts.assign(static_cast<std::size_t>(bins), 0.0);
    double total = 0;
    for (double v : values) {
        if (!(v >= lo && v <= hi)) continue;
        auto bin = static_cast<std::ptrdiff_t>((v - lo) / (hi - lo) * bins);
        bin = std::clamp<std::ptrdiff_t>(bin, 0, bins - 1);
        out.counts[static_cast<std::size_t>(bin)] += 1;
        total += 1;
    }
    if (density && total > 0)
        for (auto& c : out.counts) c /= total * (hi - lo) / bins;
    return out;
}

namespace detail {

/// Pixel coordinates: two decimals at most, never NaN (callers skip non-finite points).
inline void append_number(std::string& out, double v) {
    if (!std::isfinite(v)) v = 0;
    v = std::round(v * 100) / 100;
    if (v == 0) v = 0;  // no "-0"
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::fixed, 2);
    char* end = result.ptr;
    while (end > buffer && end[-1] == '0') --end;
    if (end > buffer && end[-1] == '.') --end;
    out.append(buffer, end);
}

inline std::string number(double v) {
    std::string out;
    append_number(out, v);
    return out;
}

/// Text for XML content and attributes: escapes markup, drops control characters that XML 1.0
/// forbids, replaces invalid UTF-8 with U+FFFD, so any user string gives a well-formed file.
inline std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
                case '&':
                    out += "&amp;";
                    break;
                case '<':
                    out += "&lt;";
                    break;
                case '>':
                    out += "&gt;";
                    break;
                case '"':
                    out += "&quot;";
                    break;
                case '\'':
                    out += "&#39;";
                    break;
                default:
                    out += (c < 0x20 && c != '\t') ? ' ' : static_cast<char>(c);
            }
            ++i;
            continue;
        }
        std::size_t length = c >= 0xF0 && c <= 0xF4  ? 4
                             : c >= 0xE0             ? 3
                             : c >= 0xC2 && c < 0xE0 ? 2
                                                     : 0;
        bool valid = length > 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k)
            valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        if (valid && length == 3) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            valid =
                !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
            if (valid && c == 0xEF && c1 == 0xBF && static_cast<unsigned char>(text[i + 2]) >= 0xBE)
                valid = false;  // U+FFFE, U+FFFF are not XML characters
        }
        if (valid && length == 4) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (valid) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

/// Advance widths of DejaVu Sans (per 1000 em) for ASCII 32..126; used to size boxes and
/// margins. Helvetica and Arial are narrower, so a fallback font never overflows a box.
inline constexpr std::array<short, 95> dejavu_widths = {
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361,  318, 337, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
    575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635,  611, 732, 684, 989, 685,
    611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352,  635, 634, 278, 278, 579,
    278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,  525, 636, 337, 636, 838};

/// Estimated width in pixels of `text` at font size `size`.
inline double text_width(std::string_view text, double size, bool bold = false) {
    double units = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 32 && c < 127)
            units += dejavu_widths[c - 32];
        else if ((c & 0xC0) != 0x80)
            units += 800;  // first byte of a non-ASCII character
    }
    return units / 1000.0 * size * (bold ? 1.1 : 1.0);
}

inline std::string dasharray(const std::string& dash, double width) {
    const double w = std::max(1.0, width);
    if (dash.empty() || dash == "solid") return "";
    if (dash == "dashed") return number(3.7 * w) + "," + number(1.6 * w);
    if (dash == "dotted") return number(1 * w) + "," + number(1.65 * w);
    if (dash == "dashdot")
        return number(6.4 * w) + "," + number(1.6 * w) + "," + number(w) + "," + number(1.6 * w);
    return dash;
}

/// Tick positions and their labels for one axis.
struct ticks {
    std::vector<double> values;  // in axis space (log10 for a log axis)
    std::vector<std::string> labels;
    std::vector<double> minor;
};

/// The label of a tick at `value` when ticks are `step` apart: as many decimals as the step
/// needs, a typographic minus, no "-0".
inline std::string tick_label(double value, double step) {
    if (std::abs(value) < std::abs(step) * 1e-9) value = 0;
    char buffer[64];
    std::to_chars_result result;
    const double magnitude = std::abs(value);
    if (magnitude >= 1e6 || (magnitude > 0 && magnitude < 1e-4)) {
        result =
            std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::general, 4);
    } else {
        int decimals = 0;
        for (; decimals < 8; ++decimals) {
            const double scaled = std::abs(step) * std::pow(10.0, decimals);
            if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
        }
        result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed,
                               decimals);
    }
    std::string out;
    for (char* p = buffer; p != result.ptr; ++p) {
        if (*p == '-')
            out += "\xE2\x88\x92";  // U+2212 MINUS SIGN
        else
            out += *p;
    }
    return out;
}

/// Matplotlib's MaxNLocator: at most `bins` intervals, steps 1, 2, 2.5, 5 times a power of ten.
inline std::vector<double> nice_ticks(double lo, double hi, int bins, bool integer,
                                      double* step_out) {
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) {
        if (step_out) *step_out = 1;
        return std::isfinite(lo) ? std::vector<double>{lo} : std::vector<double>{};
    }
    bins = std::max(1, bins);
    const double raw = (hi - lo) / bins;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    static constexpr double real_steps[] = {1, 2, 2.5, 5, 10};
    static constexpr double integer_steps[] = {1, 2, 5, 10};
    double step = 10 * magnitude;
    if (integer && magnitude < 10) {
        for (double m : integer_steps)
            if (m * magnitude >= raw - 1e-12 * raw) {
                step = m * magnitude;
                break;
            }
        step = std::max(1.0, std::round(step));
    } else {
        for (double m : real_steps)
            if (m * magnitude >= raw - 1e-12 * raw) {
                step = m * magnitude;
                break;
            }
    }
    if (step_out) *step_out = step;
    std::vector<double> out;
    const double first = std::ceil(lo / step - 1e-9);
    const double last = std::floor(hi / step + 1e-9);
    for (double k = first; k <= last && out.size() < 100; k += 1) {
        double v = k * step;
        if (std::abs(v) < step * 1e-9) v = 0;
        out.push_back(v);
    }
    return out;
}

inline double to_axis(double v, scale s) {
    if (s == scale::log) return v > 0 ? std::log10(v) : std::numeric_limits<double>::quiet_NaN();
    return v;
}

/// Ticks for an axis spanning [lo, hi] (axis space) over `pixels`, labels `font` px high.
inline ticks make_ticks(double lo, double hi, scale s, double pixels, bool horizontal, double font,
                        bool integer, const std::vector<double>& fixed,
                        const std::vector<std::string>& fixed_labels) {
    ticks out;
    if (!fixed.empty()) {
        for (std::size_t i = 0; i < fixed.size(); ++i) {
            const double v = to_axis(fixed[i], s);
            if (!std::isfinite(v)) continue;
            out.values.push_back(v);
            if (i < fixed_labels.size())
                out.labels.push_back(fixed_labels[i]);
            else {
                double step = fixed.size() > 1 ? std::abs(fixed[1] - fixed[0]) : 1;
                out.labels.push_back(tick_label(fixed[i], step > 0 ? step : 1));
            }
        }
        return out;
    }
    // About matplotlib's tick space at 100 dpi: ~40 px per x tick and ~28 px per y tick.
    const double spacing = (horizontal ? 3.6 : 2.6) * font;
    int bins = std::clamp(static_cast<int>(pixels / spacing), 2, 9);
    if (s == scale::log && hi - lo >= 1) {
        int every = 1;
        while ((std::floor(hi) - std::ceil(lo)) / every + 1 > bins + 1) ++every;
        for (double k = std::ceil(lo - 1e-9); k <= hi + 1e-9; k += 1) {
            const auto decade = static_cast<long>(k);
            if (decade % every != 0) continue;
            out.values.push_back(k);
            if (decade >= -4 && decade <= 5) {
                out.labels.push_back(
                    tick_label(std::pow(10.0, k), std::pow(10.0, std::min(0.0, k))));
            } else {
                out.labels.push_back("1e" + tick_label(k, 1));
            }
        }
        if (every == 1 && hi - lo < 7)
            for (double k = std::floor(lo); k <= hi; k += 1)
                for (int m = 2; m <= 9; ++m) {
                    const double v = k + std::log10(m);
                    if (v >= lo && v <= hi) out.minor.push_back(v);
                }
        return out;
    }
    for (;;) {
        double step = 1;
        std::vector<double> values, raw_values;
        if (s == scale::log) {
            raw_values = nice_ticks(std::pow(10.0, lo), std::pow(10.0, hi), bins, integer, &step);
            for (double v : raw_values) values.push_back(to_axis(v, s));
        } else {
            values = raw_values = nice_ticks(lo, hi, bins, integer, &step);
        }
        std::vector<std::string> labels;
        double widest = 0, total = 0;
        for (double v : raw_values) {
            labels.push_back(tick_label(v, step));
            const double w = text_width(labels.back(), font);
            widest = std::max(widest, w);
            total += w + font;
        }
        const bool crowded = horizontal ? total > pixels * 0.95
                                        : static_cast<double>(values.size()) * font * 1.6 > pixels;
        if (crowded && bins > 1) {
            --bins;
            continue;
        }
        out.values.clear();
        for (std::size_t i = 0; i < values.size(); ++i)
            if (std::isfinite(values[i])) {
                out.values.push_back(values[i]);
                out.labels.push_back(labels[i]);
            }
        return out;
    }
}

struct line_series {
    std::vector<double> x, y;
    line_options options;
};
struct scatter_series {
    std::vector<double> x, y;
    scatter_options options;
};
struct band_series {
    std::vector<double> x, lower, upper;
    band_options options;
};
struct bar_series {
    std::vector<double> x, height;
    bar_options options;
};
struct raster_series {
    std::vector<double> time, unit;
    raster_options options;
};
struct ref_line {
    bool horizontal;
    double value;
    ref_line_options options;
};
struct annotation {
    double x, y;
    std::string text;
    text_options options;
};

template <class Range>
concept number_range = requires(const Range& r) {
    std::begin(r);
    std::end(r);
    requires std::is_arithmetic_v<std::remove_cvref_t<decltype(*std::begin(r))>>;
};

template <number_range Range>
std::vector<double> to_doubles(const Range& values) {
    std::vector<double> out;
    for (auto v : values) out.push_back(static_cast<double>(v));
    return out;
}

/// SVG path data built command by command, with short numbers (two decimals at most).
class path {
public:
    path& move(double x, double y) { return pair('M', x, y); }
    path& line(double x, double y) { return pair('L', x, y); }
    path& line_by(double dx, double dy) { return pair('l', dx, dy); }
    path& horizontal(double x) { return single('H', x); }
    path& vertical(double y) { return single('V', y); }
    path& horizontal_by(double dx) { return single('h', dx); }
    path& vertical_by(double dy) { return single('v', dy); }
    /// Half a circle of radius r to the point (dx, dy) away.
    path& half_circle_by(double r, double dx, double dy) {
        pair('a', r, r);
        data_ += " 0 1 0 ";
        append_number(data_, dx);
        data_ += ' ';
        append_number(data_, dy);
        return *this;
    }
    path& close() {
        data_ += 'Z';
        return *this;
    }
    void reserve(std::size_t bytes) { data_.reserve(bytes); }
    bool empty() const { return data_.empty(); }
    const std::string& str() const { return data_; }

private:
    path& pair(char command, double a, double b) {
        data_ += command;
        append_number(data_, a);
        data_ += ' ';
        append_number(data_, b);
        return *this;
    }
    path& single(char command, double a) {
        data_ += command;
        append_number(data_, a);
        return *this;
    }
    std::string data_;
};

/// Adds the marker at (x, y) (closed shapes are filled, cross and plus stroked).
inline void append_marker(path& out, marker_shape shape, double x, double y, double size) {
    const double r = size / 2;
    switch (shape) {
        case marker_shape::none:
            return;
        case marker_shape::circle:
            out.move(x - r, y).half_circle_by(r, 2 * r, 0).half_circle_by(r, -2 * r, 0).close();
            return;
        case marker_shape::square: {
            const double side = 1.8 * r;
            out.move(x - side / 2, y - side / 2)
                .horizontal_by(side)
                .vertical_by(side)
                .horizontal_by(-side)
                .close();
            return;
        }
        case marker_shape::triangle:
            out.move(x, y - r * 1.3).line_by(r * 1.13, r * 1.95).line_by(-r * 2.26, 0).close();
            return;
        case marker_shape::diamond:
            out.move(x, y - r * 1.2)
                .line_by(r * 0.9, r * 1.2)
                .line_by(-r * 0.9, r * 1.2)
                .line_by(-r * 0.9, -r * 1.2)
                .close();
            return;
        case marker_shape::cross:
            out.move(x - r * 0.8, y - r * 0.8).line_by(1.6 * r, 1.6 * r);
            out.move(x - r * 0.8, y + r * 0.8).line_by(1.6 * r, -1.6 * r);
            return;
        case marker_shape::plus:
            out.move(x - r, y).line_by(2 * r, 0);
            out.move(x, y - r).line_by(0, 2 * r);
            return;
    }
}

inline bool marker_is_stroked(marker_shape shape) {
    return shape == marker_shape::cross || shape == marker_shape::plus;
}

struct rect {
    double left = 0, top = 0, width = 0, height = 0;
    double right() const { return left + width; }
    double bottom() const { return top + height; }
};

}  // namespace detail

class figure;

/// One panel: its data series, reference lines, annotations, and how its axes look.
/// Made by figure::panel; methods return *this so calls chain.
class axes {
public:
    explicit axes(axes_options options = {}) : options_(std::move(options)) {}

    /// Replaces every axes option at once (designated initialisers).
    axes& set(axes_options options) {
        options_ = std::move(options);
        return *this;
    }
    axes_options& options() { return options_; }
    const axes_options& options() const { return options_; }

    axes& title(std::string text) { return options_.title = std::move(text), *this; }
    axes& xlabel(std::string text) { return options_.xlabel = std::move(text), *this; }
    axes& ylabel(std::string text) { return options_.ylabel = std::move(text), *this; }
    axes& xlim(double lo, double hi) { return options_.xlim = {lo, hi}, *this; }
    axes& ylim(double lo, double hi) { return options_.ylim = {lo, hi}, *this; }
    axes& legend(legend_options options) { return options_.legend = std::move(options), *this; }

    /// A line through (xs[i], ys[i]); NaN points leave a gap. `.errors` adds error bars (or a
    /// band with `.band = true`). shape_error when the sizes differ.
    template <detail::number_range Xs, detail::number_range Ys>
    axes& line(const Xs& xs, const Ys& ys, line_options options = {}) {
        detail::line_series s{detail::to_doubles(xs), detail::to_doubles(ys), std::move(options)};
        check_sizes("line", s.options.label, s.x.size(), s.y.size(), "y");
        if (!s.options.errors.empty())
            check_sizes("line", s.options.label, s.x.size(), s.options.errors.size(), "errors");
        take_color(s.options.color);
        series_.emplace_back(std::move(s));
        return *this;
    }

    /// A line through (i, ys[i]).
    template <detail::number_range Ys>
    axes& line(const Ys& ys, line_options options = {}) {
        std::vector<double> xs;
        for (std::size_t i = 0; i < std::size(ys); ++i) xs.push_back(static_cast<double>(i));
        return line(xs, ys, std::move(options));
    }

    /// Markers at (xs[i], ys[i]) without a line.
    template <detail::number_range Xs, detail::number_range Ys>
    axes& scatter(const Xs& xs, const Ys& ys, scatter_options options = {}) {
        detail::scatter_series s{detail::to_doubles(xs), detail::to_doubles(ys),
                                 std::move(options)};
        check_sizes("scatter", s.options.label, s.x.size(), s.y.size(), "y");
        take_color(s.options.color);
        series_.emplace_back(std::move(s));
        return *this;
    }

    /// A shaded region between lower[i] and upper[i].
    template <detail::number_range Xs, detail::number_range Lo, detail::number_range Hi>
    axes& fill_between(const Xs& xs, const Lo& lower, const Hi& upper, band_options options = {}) {
        detail::band_series s{detail::to_doubles(xs), detail::to_doubles(lower),
                              detail::to_doubles(upper), std::move(options)};
        check_sizes("fill_between", s.options.label, s.x.size(), s.lower.size(), "lower");
        check_sizes("fill_between", s.options.label, s.x.size(), s.upper.size(), "upper");
        take_color(s.options.color);
        series_.emplace_back(std::move(s));
        return *this;
    }

    /// Bars of height heights[i] centred on xs[i] + offset (one <path> for the series).
    template <detail::number_range Xs, detail::number_range Hs>
    axes& bar(const Xs& xs, const Hs& heights, bar_options options = {}) {
        detail::bar_series s{detail::to_doubles(xs), detail::to_doubles(heights),
                             std::move(options)};
        check_sizes("bar", s.options.label, s.x.size(), s.height.size(), "heights");
        if (!s.options.errors.empty())
            check_sizes("bar", s.options.label, s.x.size(), s.options.errors.size(), "errors");
        take_color(s.options.color);
        series_.emplace_back(std::move(s));
        return *this;
    }

    /// Histogram of `values` drawn as adjacent bars (see make_histogram).
    template <detail::number_range Values>
    axes& hist(const Values& values, hist_options options = {}) {
        const auto h = make_histogram(detail::to_doubles(values), options.bins, options.range,
                                      options.density);
        std::vector<double> centres;
        for (std::size_t i = 0; i + 1 < h.edges.size(); ++i)
            centres.push_back((h.edges[i] + h.edges[i + 1]) / 2);
        const double width = h.edges.size() > 1 ? h.edges[1] - h.edges[0] : 1;
        return bar(centres, h.counts,
                   {.label = options.label,
                    .color = options.color,
                    .width = width,
                    .edge_color = options.edge_color,
                    .opacity = options.opacity});
    }

    /// Spike raster: one mark per event (times[i], units[i]), all in one <path>.
    template <detail::number_range Ts, detail::number_range Us>
    axes& raster(const Ts& times, const Us& units, raster_options options = {}) {
        detail::raster_series s{detail::to_doubles(times), detail::to_doubles(units),
                                std::move(options)};
        check_sizes("raster", s.options.label, s.time.size(), s.unit.size(), "units");
        take_color(s.options.color);
        series_.emplace_back(std::move(s));
        return *this;
    }

    /// A dashed horizontal line across the panel at y, labelled beside the line.
    axes& hline(double y, ref_line_options options = {}) {
        ref_lines_.push_back({true, y, std::move(options)});
        return *this;
    }
    /// A dashed vertical line across the panel at x.
    axes& vline(double x, ref_line_options options = {}) {
        ref_lines_.push_back({false, x, std::move(options)});
        return *this;
    }

    /// Text at (x, y), in data or axes coordinates.
    axes& text(double x, double y, std::string content, text_options options = {}) {
        annotations_.push_back({x, y, std::move(content), std::move(options)});
        return *this;
    }

    std::size_t series_count() const { return series_.size(); }

private:
    friend class figure;
    using series = std::variant<detail::line_series, detail::scatter_series, detail::band_series,
                                detail::bar_series, detail::raster_series>;
    using samples = std::vector<std::pair<double, double>>;  // pixels the data covers

    static void check_sizes(const char* kind, const std::string& label, std::size_t n,
                            std::size_t m, const char* what) {
        if (n != m)
            raise<shape_error>("svg: ", kind, " '", label, "': ", n, " x values, ", m, " ", what);
    }

    void take_color(std::string& color) {
        if (color.empty()) color = std::string(tab10[next_color_++ % tab10.size()]);
    }

    // --- layout and drawing, used by figure ----------------------------------------------------
    struct style {
        double font = 12, tick_font = 11, title_font = 13;
        std::string family;
    };
    struct frame {  // axis space -> pixels
        detail::rect box;
        double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
        scale xs = scale::linear, ys = scale::linear;
        double px(double x) const {
            const double v = detail::to_axis(x, xs);
            if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
            return clamp(box.left + (v - xlo) / (xhi - xlo) * box.width, box.left, box.width);
        }
        double py(double y) const {
            const double v = detail::to_axis(y, ys);
            if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
            return clamp(box.bottom() - (v - ylo) / (yhi - ylo) * box.height, box.top, box.height);
        }
        static double clamp(double p, double start, double extent) {
            // Far-away points are pulled in so that numbers stay short; the clip path hides them.
            const double reach = 20 * std::max(extent, 100.0);
            return std::clamp(p, start - reach, start + extent + reach);
        }
    };
    struct layout {  // what measuring a panel decides
        double left = 0, right = 0, top = 0, bottom = 0;
        double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
        detail::ticks xticks, yticks;
        double legend_width = 0, legend_height = 0;
    };
    struct extent {
        double lo = std::numeric_limits<double>::infinity();
        double hi = -std::numeric_limits<double>::infinity();
        void add(double v, scale s) {
            v = detail::to_axis(v, s);
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
        bool empty() const { return lo > hi; }
    };

    bool raster_only() const {
        if (series_.empty()) return false;
        for (const auto& s : series_)
            if (!std::holds_alternative<detail::raster_series>(s)) return false;
        return true;
    }

    /// Axis-space limits from the data, the reference lines and the fixed ends.
    std::pair<double, double> data_limits(bool x_axis) const {
        const scale s = x_axis ? options_.xscale : options_.yscale;
        extent e;
        bool has_bars = false, bars_positive = true, bars_negative = true;
        for (const auto& item : series_) {
            std::visit(
                [&](const auto& data) {
                    using T = std::decay_t<decltype(data)>;
                    if constexpr (std::is_same_v<T, detail::line_series>) {
                        const auto& v = x_axis ? data.x : data.y;
                        for (std::size_t i = 0; i < v.size(); ++i) {
                            if (!std::isfinite(data.x[i]) || !std::isfinite(data.y[i])) continue;
                            e.add(v[i], s);
                            if (!x_axis && !data.options.errors.empty() &&
                                std::isfinite(data.options.errors[i])) {
                                e.add(v[i] - std::abs(data.options.errors[i]), s);
                                e.add(v[i] + std::abs(data.options.errors[i]), s);
                            }
                        }
                    } else if constexpr (std::is_same_v<T, detail::scatter_series>) {
                        for (std::size_t i = 0; i < data.x.size(); ++i)
                            if (std::isfinite(data.x[i]) && std::isfinite(data.y[i]))
                                e.add(x_axis ? data.x[i] : data.y[i], s);
                    } else if constexpr (std::is_same_v<T, detail::band_series>) {
                        for (std::size_t i = 0; i < data.x.size(); ++i) {
                            if (x_axis)
                                e.add(data.x[i], s);
                            else
                                e.add(data.lower[i], s), e.add(data.upper[i], s);
                        }
                    } else if constexpr (std::is_same_v<T, detail::bar_series>) {
                        for (std::size_t i = 0; i < data.x.size(); ++i) {
                            if (!std::isfinite(data.x[i]) || !std::isfinite(data.height[i]))
                                continue;
                            if (x_axis) {
                                const double c = data.x[i] + data.options.offset;
                                e.add(c - data.options.width / 2, s);
                                e.add(c + data.options.width / 2, s);
                            } else {
                                has_bars = true;
                                const double h = data.height[i];
                                bars_positive = bars_positive && h >= 0;
                                bars_negative = bars_negative && h <= 0;
                                double err = 0;
                                if (!data.options.errors.empty() &&
                                    std::isfinite(data.options.errors[i]))
                                    err = std::abs(data.options.errors[i]);
                                e.add(h + (h >= 0 ? err : -err), s);
                                if (s == scale::linear) e.add(0, s);
                            }
                        }
                    } else {
                        for (std::size_t i = 0; i < data.time.size(); ++i) {
                            if (!std::isfinite(data.time[i]) || !std::isfinite(data.unit[i]))
                                continue;
                            if (x_axis)
                                e.add(data.time[i], s);
                            else
                                e.add(data.unit[i] - 0.5, s), e.add(data.unit[i] + 0.5, s);
                        }
                    }
                },
                item);
        }
        for (const auto& ref : ref_lines_)
            if (ref.horizontal != x_axis) e.add(ref.value, s);

        const limits fixed = x_axis ? options_.xlim : options_.ylim;
        const double fixed_lo = detail::to_axis(fixed.lo, s),
                     fixed_hi = detail::to_axis(fixed.hi, s);
        double lo = e.lo, hi = e.hi;
        if (e.empty()) {
            lo = 0;  // nothing to show: [0, 1] (a decade on a log axis)
            hi = 1;
        }
        if (std::isfinite(fixed_lo)) lo = fixed_lo;
        if (std::isfinite(fixed_hi)) hi = fixed_hi;
        if (std::isfinite(fixed_lo) && std::isfinite(fixed_hi)) {
            if (hi < lo) std::swap(lo, hi);
            if (hi == lo) lo -= 0.5, hi += 0.5;
            return {lo, hi};
        }
        if (hi < lo) std::swap(lo, hi);
        if (hi == lo) {
            const double pad = lo != 0 ? std::abs(lo) * 0.1 : 1;
            if (!std::isfinite(fixed_lo)) lo -= pad;
            if (!std::isfinite(fixed_hi)) hi += pad;
            return {lo, hi};
        }
        const bool tight = !x_axis && raster_only();
        const double pad = tight ? 0 : options_.margin * (hi - lo);
        double padded_lo = std::isfinite(fixed_lo) ? lo : lo - pad;
        double padded_hi = std::isfinite(fixed_hi) ? hi : hi + pad;
        // Bars stand on zero: no margin beyond the baseline (matplotlib's sticky edges).
        if (!x_axis && has_bars && s == scale::linear) {
            if (bars_positive && lo == 0 && !std::isfinite(fixed_lo)) padded_lo = 0;
            if (bars_negative && hi == 0 && !std::isfinite(fixed_hi)) padded_hi = 0;
        }
        return {padded_lo, padded_hi};
    }

    bool integer_y() const { return raster_only() && options_.yscale == scale::linear; }

    struct legend_entry {
        enum class sample { line, marker, patch, band, raster, ref };
        sample kind = sample::line;
        std::string label, color, dash;
        double width = 1.5, opacity = 1;
        marker_shape marker = marker_shape::none;
        double marker_size = 6;
        raster_mark mark = raster_mark::tick;
    };

    std::vector<legend_entry> legend_entries() const {
        std::vector<legend_entry> out;
        for (const auto& item : series_) {
            std::visit(
                [&](const auto& s) {
                    using T = std::decay_t<decltype(s)>;
                    const auto& o = s.options;
                    if (o.label.empty()) return;
                    legend_entry entry{};
                    entry.label = o.label;
                    entry.color = o.color;
                    if constexpr (std::is_same_v<T, detail::line_series>) {
                        entry.kind = o.band && !o.errors.empty() ? legend_entry::sample::band
                                                                 : legend_entry::sample::line;
                        entry.dash = o.dash;
                        entry.width = o.width;
                        entry.marker = o.marker;
                        entry.marker_size = o.marker_size;
                        entry.opacity = o.opacity;
                    } else if constexpr (std::is_same_v<T, detail::scatter_series>) {
                        entry.kind = legend_entry::sample::marker;
                        entry.marker = o.marker;
                        entry.marker_size = o.size;
                        entry.opacity = o.opacity;
                    } else if constexpr (std::is_same_v<T, detail::band_series>) {
                        entry.kind = legend_entry::sample::patch;
                        entry.opacity = o.opacity;
                    } else if constexpr (std::is_same_v<T, detail::bar_series>) {
                        entry.kind = legend_entry::sample::patch;
                        entry.opacity = o.opacity;
                    } else {
                        entry.kind = legend_entry::sample::raster;
                        entry.mark = o.mark;
                        entry.width = o.line_width;
                        entry.marker_size = o.dot_size;
                        entry.opacity = o.opacity;
                    }
                    out.push_back(std::move(entry));
                },
                item);
        }
        for (const auto& ref : ref_lines_) {
            if (!ref.options.in_legend || ref.options.label.empty()) continue;
            legend_entry entry{};
            entry.kind = legend_entry::sample::ref;
            entry.label = ref.options.label;
            entry.color = ref.options.color;
            entry.dash = ref.options.dash;
            entry.width = ref.options.width;
            out.push_back(std::move(entry));
        }
        return out;
    }

    static constexpr double legend_sample = 24, legend_pad = 7, legend_gap = 7;

    std::pair<double, double> legend_size(const style& st) const {
        const auto entries = legend_entries();
        if (entries.empty() || options_.legend.location == legend_location::none) return {0, 0};
        const int columns =
            std::clamp(options_.legend.columns, 1, static_cast<int>(entries.size()));
        const std::size_t rows = (entries.size() + columns - 1) / columns;
        double label_width = 0;
        for (const auto& e : entries)
            label_width = std::max(label_width, detail::text_width(e.label, st.tick_font));
        const double column_width = legend_sample + legend_gap + label_width;
        double width = 2 * legend_pad + columns * column_width + (columns - 1) * 14;
        double height = 2 * legend_pad - 4 + static_cast<double>(rows) * st.tick_font * 1.55;
        if (!options_.legend.title.empty()) {
            width = std::max(width, 2 * legend_pad + detail::text_width(options_.legend.title,
                                                                        st.tick_font, true));
            height += st.tick_font * 1.55;
        }
        return {width, height};
    }

    /// Margins and ticks of this panel inside a cell of the given size.
    layout measure(double cell_width, double cell_height, const style& st) const {
        layout out;
        std::tie(out.xlo, out.xhi) = data_limits(true);
        std::tie(out.ylo, out.yhi) = data_limits(false);
        std::tie(out.legend_width, out.legend_height) = legend_size(st);
        const bool outside =
            options_.legend.location == legend_location::outside_right && out.legend_width > 0;
        double plot_width = cell_width - 80 - (outside ? out.legend_width + 12 : 0);
        double plot_height = cell_height - 70;
        for (int pass = 0; pass < 2; ++pass) {
            make_ticks(out, plot_width, plot_height, st);
            double ytick_width = 0;
            for (const auto& label : out.yticks.labels)
                ytick_width = std::max(ytick_width, detail::text_width(label, st.tick_font));
            double last_xtick = 0;
            if (!out.xticks.labels.empty() &&
                out.xhi - out.xticks.values.back() < 0.02 * (out.xhi - out.xlo))
                last_xtick = detail::text_width(out.xticks.labels.back(), st.tick_font) / 2;
            out.left =
                8 + (options_.ylabel.empty() ? 0 : st.font + 8) + ytick_width + tick_length + 4;
            out.bottom =
                tick_length + 4 + st.tick_font + (options_.xlabel.empty() ? 0 : st.font + 8) + 8;
            out.top = std::max(8 + st.tick_font / 2,
                               options_.title.empty() ? 10.0 : 8 + st.title_font + 10);
            out.right = std::max(12.0, last_xtick + 4) + (outside ? out.legend_width + 12 : 0);
            plot_width = cell_width - out.left - out.right;
            plot_height = cell_height - out.top - out.bottom;
        }
        return out;
    }

    /// Ticks for a plot area of the given size (again after the figure aligns the panels).
    void make_ticks(layout& out, double plot_width, double plot_height, const style& st) const {
        out.xticks =
            detail::make_ticks(out.xlo, out.xhi, options_.xscale, std::max(plot_width, 40.0), true,
                               st.tick_font, false, options_.xticks, options_.xtick_labels);
        out.yticks = detail::make_ticks(out.ylo, out.yhi, options_.yscale,
                                        std::max(plot_height, 40.0), false, st.tick_font,
                                        integer_y(), options_.yticks, options_.ytick_labels);
    }

    static constexpr double tick_length = 4;

    /// Appends this panel to `svg`; `box` is the plot area, `cell` the whole cell.
    void draw(std::string& svg, const layout& lay, const detail::rect& box, const style& st,
              const std::string& clip_id, const std::string& letter,
              const detail::rect& cell) const {
        using detail::append_number;
        using detail::escape;
        using detail::number;
        frame f{box, lay.xlo, lay.xhi, lay.ylo, lay.yhi, options_.xscale, options_.yscale};
        // Axis lines sit on pixel centres so that one-pixel strokes stay sharp.
        auto snap = [](double v) { return std::floor(v) + 0.5; };
        auto axis_px = [&](double v) {
            return snap(box.left + (v - f.xlo) / (f.xhi - f.xlo) * box.width);
        };
        auto axis_py = [&](double v) {
            return snap(box.bottom() - (v - f.ylo) / (f.yhi - f.ylo) * box.height);
        };

        svg += "<g class=\"axes\">\n";
        svg += "<clipPath id=\"" + clip_id + "\"><rect x=\"" + number(box.left) + "\" y=\"" +
               number(box.top) + "\" width=\"" + number(box.width) + "\" height=\"" +
               number(box.height) + "\"/></clipPath>\n";

        // Grid lines (major ticks only), behind the data.
        if (options_.grid) {
            detail::path d;
            for (double v : lay.xticks.values) {
                const double x = axis_px(v);
                if (x >= box.left && x <= box.right()) d.move(x, box.top).vertical(box.bottom());
            }
            for (double v : lay.yticks.values) {
                const double y = axis_py(v);
                if (y >= box.top && y <= box.bottom()) d.move(box.left, y).horizontal(box.right());
            }
            if (!d.empty())
                svg += "<path class=\"grid\" d=\"" + d.str() +
                       "\" stroke=\"#e6e6e6\" stroke-width=\"1\" fill=\"none\"/>\n";
        }

        svg += "<g clip-path=\"url(#" + clip_id + ")\">\n";
        samples occupied;  // where the data is, for placing labels and the legend
        for (const auto& item : series_)
            std::visit([&](const auto& s) { draw_series(svg, f, s, occupied); }, item);

        // Reference lines.
        for (const auto& ref : ref_lines_) {
            const double p = ref.horizontal ? f.py(ref.value) : f.px(ref.value);
            if (!std::isfinite(p)) continue;
            const auto& o = ref.options;
            detail::path d;
            if (ref.horizontal)
                d.move(box.left, p).horizontal(box.right());
            else
                d.move(p, box.top).vertical(box.bottom());
            svg += "<path class=\"refline\" d=\"" + d.str() + "\" stroke=\"" + escape(o.color) +
                   "\" stroke-width=\"" + number(o.width) + "\" fill=\"none\"";
            const auto dash = detail::dasharray(o.dash, o.width);
            if (!dash.empty()) svg += " stroke-dasharray=\"" + dash + "\"";
            svg += "/>\n";
        }
        svg += "</g>\n";

        // Reference line labels (outside the clip so they are never cut), placed where they
        // cover the fewest data samples unless `label_at` fixes the spot.
        for (const auto& ref : ref_lines_) {
            const auto& o = ref.options;
            if (o.label.empty() || o.in_legend) continue;
            const double p = ref.horizontal ? f.py(ref.value) : f.px(ref.value);
            if (!std::isfinite(p)) continue;
            if (ref.horizontal && (p < box.top - 1 || p > box.bottom() + 1)) continue;
            if (!ref.horizontal && (p < box.left - 1 || p > box.right() + 1)) continue;
            const double w = detail::text_width(o.label, st.tick_font), h = st.tick_font;
            struct spot {
                double x, y;  // text position (baseline)
                text_anchor anchor;
                detail::rect area;
            };
            std::vector<spot> spots;
            auto add = [&](label_position along, bool first_side) {
                spot c{};
                if (ref.horizontal) {
                    const bool above = first_side;
                    c.y = above ? p - 4 - o.width / 2 : p + h + 1 + o.width / 2;
                    if (along == label_position::start)
                        c.x = box.left + 5, c.anchor = text_anchor::start;
                    else if (along == label_position::middle)
                        c.x = box.left + box.width / 2, c.anchor = text_anchor::middle;
                    else
                        c.x = box.right() - 5, c.anchor = text_anchor::end;
                } else {
                    const bool right = first_side;
                    c.x = right ? p + 5 : p - 5;
                    c.anchor = right ? text_anchor::start : text_anchor::end;
                    if (along == label_position::start)
                        c.y = box.bottom() - 6;
                    else if (along == label_position::middle)
                        c.y = box.top + box.height / 2 + h / 2;
                    else
                        c.y = box.top + h + 4;
                }
                const double left = c.anchor == text_anchor::start    ? c.x
                                    : c.anchor == text_anchor::middle ? c.x - w / 2
                                                                      : c.x - w;
                c.area = {left, c.y - h * 0.8, w, h};
                if (c.area.top < box.top - 1 || c.area.bottom() > box.bottom() + 1 ||
                    c.area.left < box.left - 1 || c.area.right() > box.right() + 1)
                    return;  // would stick out of the panel
                spots.push_back(c);
            };
            const std::array<label_position, 3> order =
                o.label_at == label_position::automatic
                    ? std::array{label_position::end, label_position::start, label_position::middle}
                    : std::array{o.label_at, o.label_at, o.label_at};
            for (auto along : order) add(along, true);
            for (auto along : order) add(along, false);
            if (spots.empty())
                add(o.label_at == label_position::automatic ? label_position::end : o.label_at,
                    true);
            if (spots.empty()) continue;
            std::size_t best = 0, best_count = std::numeric_limits<std::size_t>::max();
            for (std::size_t k = 0; k < spots.size(); ++k) {
                const auto& a = spots[k].area;
                std::size_t count = 0;
                for (const auto& [x, y] : occupied)
                    if (x >= a.left - 2 && x <= a.right() + 2 && y >= a.top - 2 &&
                        y <= a.bottom() + 2)
                        ++count;
                if (count < best_count) best = k, best_count = count;
            }
            const auto& c = spots[best];
            // Later labels and the legend avoid this one.
            for (double q = 0; q <= 1.0; q += 0.125)
                for (double r = 0; r <= 1.0; r += 0.5)
                    occupied.emplace_back(c.area.left + q * c.area.width,
                                          c.area.top + r * c.area.height);
            const char* anchor = c.anchor == text_anchor::start    ? "start"
                                 : c.anchor == text_anchor::middle ? "middle"
                                                                   : "end";
            svg += "<text class=\"reflabel\" x=\"" + number(c.x) + "\" y=\"" + number(c.y) +
                   "\" text-anchor=\"" + anchor + "\" font-size=\"" + number(st.tick_font) +
                   "\" fill=\"" + escape(o.color) +
                   "\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" "
                   "paint-order=\"stroke\">" +
                   escape(o.label) + "</text>\n";
        }

        // Spines, ticks and tick labels.
        {
            // The spines sit just outside the plot area, on pixel centres.
            const double L = box.left - 0.5, R = box.right(), T = box.top, B = box.bottom() + 0.5;
            detail::path spines;
            spines.move(L, T).vertical(B).horizontal(R);
            if (options_.box) spines.vertical(T).horizontal(L);
            svg += "<path class=\"spines\" d=\"" + spines.str() +
                   "\" stroke=\"#333333\" stroke-width=\"1\" fill=\"none\"/>\n";
            auto on_x_axis = [&](double x) { return x >= L - 0.5 && x <= R + 0.5; };
            auto on_y_axis = [&](double y) { return y >= T - 0.5 && y <= B + 0.5; };
            detail::path major, minor;
            for (double v : lay.xticks.values)
                if (on_x_axis(axis_px(v))) major.move(axis_px(v), B).vertical_by(tick_length);
            for (double v : lay.yticks.values)
                if (on_y_axis(axis_py(v))) major.move(L, axis_py(v)).horizontal_by(-tick_length);
            for (double v : lay.xticks.minor)
                if (on_x_axis(axis_px(v))) minor.move(axis_px(v), B).vertical_by(tick_length * 0.6);
            for (double v : lay.yticks.minor)
                if (on_y_axis(axis_py(v)))
                    minor.move(L, axis_py(v)).horizontal_by(-tick_length * 0.6);
            if (!major.empty())
                svg += "<path class=\"ticks\" d=\"" + major.str() +
                       "\" stroke=\"#333333\" stroke-width=\"1\" fill=\"none\"/>\n";
            if (!minor.empty())
                svg += "<path class=\"minor-ticks\" d=\"" + minor.str() +
                       "\" stroke=\"#333333\" stroke-width=\"0.6\" fill=\"none\"/>\n";

            svg += "<g class=\"tick-labels\" font-size=\"" + number(st.tick_font) +
                   "\" fill=\"#333333\">\n";
            const double x_baseline = B + tick_length + 3 + st.tick_font * 0.8;
            for (std::size_t i = 0; i < lay.xticks.values.size(); ++i) {
                const double x = axis_px(lay.xticks.values[i]);
                if (!on_x_axis(x)) continue;
                svg += "<text x=\"" + number(x) + "\" y=\"" + number(x_baseline) +
                       "\" text-anchor=\"middle\">" + escape(lay.xticks.labels[i]) + "</text>\n";
            }
            for (std::size_t i = 0; i < lay.yticks.values.size(); ++i) {
                const double y = axis_py(lay.yticks.values[i]);
                if (!on_y_axis(y)) continue;
                svg += "<text x=\"" + number(L - tick_length - 3) + "\" y=\"" +
                       number(y + st.tick_font * 0.35) + "\" text-anchor=\"end\">" +
                       escape(lay.yticks.labels[i]) + "</text>\n";
            }
            svg += "</g>\n";
        }

        // Axis labels and title.
        if (!options_.xlabel.empty()) {
            const double y = box.bottom() + tick_length + 3 + st.tick_font + 6 + st.font * 0.8;
            svg += "<text class=\"xlabel\" x=\"" + number(box.left + box.width / 2) + "\" y=\"" +
                   number(y) + "\" text-anchor=\"middle\" font-size=\"" + number(st.font) +
                   "\" fill=\"#222222\">" + escape(options_.xlabel) + "</text>\n";
        }
        if (!options_.ylabel.empty()) {
            double ytick_width = 0;
            for (const auto& label : lay.yticks.labels)
                ytick_width = std::max(ytick_width, detail::text_width(label, st.tick_font));
            const double x = std::max(cell.left + 6 + st.font * 0.8,
                                      box.left - tick_length - 3 - ytick_width - 8);
            const double y = box.top + box.height / 2;
            svg += "<text class=\"ylabel\" x=\"" + number(x) + "\" y=\"" + number(y) +
                   "\" text-anchor=\"middle\" font-size=\"" + number(st.font) +
                   "\" fill=\"#222222\" transform=\"rotate(-90 " + number(x) + " " + number(y) +
                   ")\">" + escape(options_.ylabel) + "</text>\n";
        }
        if (!options_.title.empty()) {
            svg += "<text class=\"title\" x=\"" + number(box.left + box.width / 2) + "\" y=\"" +
                   number(box.top - 9) + "\" text-anchor=\"middle\" font-size=\"" +
                   number(st.title_font) + "\" fill=\"#111111\">" + escape(options_.title) +
                   "</text>\n";
        }
        if (!letter.empty()) {
            const double y = options_.title.empty() ? cell.top + 8 + st.title_font : box.top - 9;
            svg += "<text class=\"panel-letter\" x=\"" + number(cell.left + 6) + "\" y=\"" +
                   number(y) + "\" font-size=\"" + number(st.title_font + 2) +
                   "\" font-weight=\"bold\" fill=\"#111111\">" + escape(letter) + "</text>\n";
        }

        // Annotations.
        for (const auto& a : annotations_) {
            const auto& o = a.options;
            double x, y;
            if (o.coords == coordinates::axes) {
                x = box.left + a.x * box.width;
                y = box.bottom() - a.y * box.height;
            } else {
                x = f.px(a.x);
                y = f.py(a.y);
            }
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            const double size = o.size > 0 ? o.size : st.tick_font;
            const char* anchor = o.anchor == text_anchor::start    ? "start"
                                 : o.anchor == text_anchor::middle ? "middle"
                                                                   : "end";
            svg += "<text class=\"annotation\" x=\"" + number(x) + "\" y=\"" + number(y) +
                   "\" text-anchor=\"" + anchor + "\" font-size=\"" + number(size) + "\" fill=\"" +
                   escape(o.color) + "\"";
            if (o.bold) svg += " font-weight=\"bold\"";
            if (o.rotation != 0 && std::isfinite(o.rotation))
                svg += " transform=\"rotate(" + number(-o.rotation) + " " + number(x) + " " +
                       number(y) + ")\"";
            svg += ">" + escape(a.text) + "</text>\n";
        }

        for (const auto& ref : ref_lines_) {
            const double p = ref.horizontal ? f.py(ref.value) : f.px(ref.value);
            if (!std::isfinite(p)) continue;
            if (ref.horizontal)
                sample_segment(occupied, box.left, p, box.right(), p);
            else
                sample_segment(occupied, p, box.top, p, box.bottom());
        }
        draw_legend(svg, lay, box, st, occupied);
        svg += "</g>\n";
    }

    static void append_style(std::string& svg, const std::string& color, double opacity) {
        svg += "\"" + detail::escape(color) + "\"";
        if (opacity < 1 && std::isfinite(opacity))
            svg += " opacity=\"" + detail::number(opacity) + "\"";
    }

    static void sample_segment(samples& occupied, double x0, double y0, double x1, double y1) {
        const double length = std::hypot(x1 - x0, y1 - y0);
        const int steps = std::clamp(static_cast<int>(length / 6), 1, 200);
        for (int k = 0; k <= steps; ++k)
            occupied.emplace_back(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps);
    }

    static void open_group(std::string& svg, const char* kind, const std::string& label) {
        svg += "<g class=\"series ";
        svg += kind;
        svg += "\" data-label=\"" + detail::escape(label) + "\">\n";
    }

    /// A shaded region between lower and upper: one closed polygon per run of finite points.
    static void append_band(std::string& svg, const frame& f, const std::vector<double>& xs,
                            const std::vector<double>& lower, const std::vector<double>& upper,
                            const std::string& color, double opacity, samples& occupied) {
        auto finite = [&](std::size_t k) {
            return std::isfinite(f.px(xs[k])) && std::isfinite(f.py(lower[k])) &&
                   std::isfinite(f.py(upper[k]));
        };
        detail::path d;
        for (std::size_t i = 0; i < xs.size();) {
            if (!finite(i)) {
                ++i;
                continue;
            }
            std::size_t end = i;
            while (end < xs.size() && finite(end)) ++end;
            for (std::size_t k = i; k < end; ++k) {
                const double x = f.px(xs[k]), y = f.py(upper[k]);
                k == i ? d.move(x, y) : d.line(x, y);
                occupied.emplace_back(x, y);
            }
            for (std::size_t k = end; k-- > i;) {
                d.line(f.px(xs[k]), f.py(lower[k]));
                occupied.emplace_back(f.px(xs[k]), f.py(lower[k]));
            }
            d.close();
            i = end;
        }
        if (d.empty()) return;
        svg += "<path class=\"band\" d=\"" + d.str() + "\" stroke=\"none\" fill=";
        append_style(svg, color, opacity);
        svg += "/>\n";
    }

    /// Vertical error bars with caps from lower[i] to upper[i] at xs[i].
    static detail::path error_bars(const frame& f, const std::vector<double>& xs,
                                   const std::vector<double>& centre,
                                   const std::vector<double>& errors, samples* occupied) {
        constexpr double cap = 3;
        detail::path d;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double error = std::abs(errors[i]);
            const double x = f.px(xs[i]);
            const double low = f.py(centre[i] - error), high = f.py(centre[i] + error);
            if (!std::isfinite(x) || !std::isfinite(low) || !std::isfinite(high) ||
                !std::isfinite(f.py(centre[i])))
                continue;
            d.move(x, low).vertical(high);
            d.move(x - cap, low).horizontal_by(2 * cap);
            d.move(x - cap, high).horizontal_by(2 * cap);
            if (occupied) occupied->emplace_back(x, low), occupied->emplace_back(x, high);
        }
        return d;
    }

    void draw_series(std::string& svg, const frame& f, const detail::line_series& s,
                     samples& occupied) const {
        const auto& o = s.options;
        open_group(svg, "line", o.label);
        const bool has_errors = !o.errors.empty();
        if (has_errors && o.band) {
            std::vector<double> lower(s.y.size()), upper(s.y.size());
            for (std::size_t i = 0; i < s.y.size(); ++i) {
                lower[i] = s.y[i] - std::abs(o.errors[i]);
                upper[i] = s.y[i] + std::abs(o.errors[i]);
            }
            append_band(svg, f, s.x, lower, upper, o.color, 0.2 * o.opacity, occupied);
        }
        // The line, broken at non-finite points.
        detail::path d;
        bool pen_down = false;
        double last_x = 0, last_y = 0;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            const double x = f.px(s.x[i]), y = f.py(s.y[i]);
            if (!std::isfinite(x) || !std::isfinite(y)) {
                pen_down = false;
                continue;
            }
            if (pen_down) {
                d.line(x, y);
                sample_segment(occupied, last_x, last_y, x, y);
            } else {
                d.move(x, y);
                occupied.emplace_back(x, y);
            }
            pen_down = true;
            last_x = x, last_y = y;
        }
        if (o.width > 0 && !d.empty()) {
            svg += "<path class=\"line\" d=\"" + d.str() + "\" fill=\"none\" stroke=";
            append_style(svg, o.color, o.opacity);
            svg += " stroke-width=\"" + detail::number(o.width) +
                   "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"";
            const auto dash = detail::dasharray(o.dash, o.width);
            if (!dash.empty()) svg += " stroke-dasharray=\"" + dash + "\"";
            svg += "/>\n";
        }
        if (has_errors && !o.band) {
            const auto bars = error_bars(f, s.x, s.y, o.errors, &occupied);
            if (!bars.empty()) {
                svg += "<path class=\"errorbars\" d=\"" + bars.str() + "\" fill=\"none\" stroke=";
                append_style(svg, o.color, o.opacity);
                svg += " stroke-width=\"" + detail::number(std::max(1.0, o.width * 0.7)) + "\"/>\n";
            }
        }
        append_markers(svg, f, s.x, s.y, o.marker, o.marker_size, o.color, o.opacity);
        svg += "</g>\n";
    }

    static void append_markers(std::string& svg, const frame& f, const std::vector<double>& xs,
                               const std::vector<double>& ys, marker_shape shape, double size,
                               const std::string& color, double opacity) {
        std::vector<double> px, py;
        for (std::size_t i = 0; i < xs.size(); ++i)
            px.push_back(f.px(xs[i])), py.push_back(f.py(ys[i]));
        append_markers(svg, px, py, shape, size, color, opacity);
    }

    /// Markers at pixel positions, all in one <path>.
    static void append_markers(std::string& svg, const std::vector<double>& px,
                               const std::vector<double>& py, marker_shape shape, double size,
                               const std::string& color, double opacity) {
        if (shape == marker_shape::none) return;
        detail::path d;
        for (std::size_t i = 0; i < px.size(); ++i)
            if (std::isfinite(px[i]) && std::isfinite(py[i]))
                detail::append_marker(d, shape, px[i], py[i], size);
        if (d.empty()) return;
        svg += "<path class=\"markers\" d=\"" + d.str() + "\"";
        if (detail::marker_is_stroked(shape)) {
            svg += " fill=\"none\" stroke=";
            append_style(svg, color, opacity);
            svg += " stroke-width=\"1.5\"";
        } else {
            svg += " fill=";
            append_style(svg, color, opacity);
            svg += " stroke=\"#ffffff\" stroke-width=\"0.8\"";
        }
        svg += "/>\n";
    }

    void draw_series(std::string& svg, const frame& f, const detail::scatter_series& s,
                     samples& occupied) const {
        open_group(svg, "scatter", s.options.label);
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            const double x = f.px(s.x[i]), y = f.py(s.y[i]);
            if (std::isfinite(x) && std::isfinite(y)) occupied.emplace_back(x, y);
        }
        append_markers(svg, f, s.x, s.y, s.options.marker, s.options.size, s.options.color,
                       s.options.opacity);
        svg += "</g>\n";
    }

    void draw_series(std::string& svg, const frame& f, const detail::band_series& s,
                     samples& occupied) const {
        open_group(svg, "band", s.options.label);
        append_band(svg, f, s.x, s.lower, s.upper, s.options.color, s.options.opacity, occupied);
        svg += "</g>\n";
    }

    void draw_series(std::string& svg, const frame& f, const detail::bar_series& s,
                     samples& occupied) const {
        const auto& o = s.options;
        open_group(svg, "bar", o.label);
        // On a log axis the bars rise from the bottom of the panel.
        const double base = options_.yscale == scale::log ? std::pow(10.0, f.ylo) : 0.0;
        detail::path d;
        std::vector<double> centres;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            const double c = s.x[i] + o.offset;
            centres.push_back(c);
            const double x0 = f.px(c - o.width / 2), x1 = f.px(c + o.width / 2);
            const double y0 = f.py(base), y1 = f.py(s.height[i]);
            if (!std::isfinite(x0) || !std::isfinite(x1) || !std::isfinite(y0) ||
                !std::isfinite(y1))
                continue;
            d.move(x0, y0).vertical(y1).horizontal(x1).vertical(y0).close();
            for (double q = 0; q <= 1.0; q += 0.25)
                for (double r = 0; r <= 1.0; r += 0.25)
                    occupied.emplace_back(x0 + (x1 - x0) * q, y0 + (y1 - y0) * r);
        }
        if (!d.empty()) {
            svg += "<path class=\"bars\" d=\"" + d.str() + "\" fill=";
            append_style(svg, o.color, o.opacity);
            if (!o.edge_color.empty())
                svg += " stroke=\"" + detail::escape(o.edge_color) + "\" stroke-width=\"0.8\"";
            svg += "/>\n";
        }
        if (!o.errors.empty()) {
            const auto bars = error_bars(f, centres, s.height, o.errors, &occupied);
            if (!bars.empty())
                svg += "<path class=\"errorbars\" d=\"" + bars.str() +
                       "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1.1\"/>\n";
        }
        svg += "</g>\n";
    }

    void draw_series(std::string& svg, const frame& f, const detail::raster_series& s,
                     samples& occupied) const {
        const auto& o = s.options;
        open_group(svg, "raster", o.label);
        detail::path d;
        d.reserve(s.time.size() * 16);
        const std::size_t stride = std::max<std::size_t>(1, s.time.size() / 4000);
        const double half_height = std::max(0.75, std::abs(f.py(0) - f.py(o.tick_height)) / 2);
        for (std::size_t i = 0; i < s.time.size(); ++i) {
            const double x = f.px(s.time[i]), y = f.py(s.unit[i]);
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            // A dot is a zero-length segment drawn with a round cap.
            if (o.mark == raster_mark::tick)
                d.move(x, y - half_height).vertical_by(2 * half_height);
            else
                d.move(x, y).horizontal_by(0);
            if (i % stride == 0) occupied.emplace_back(x, y);
        }
        if (!d.empty()) {
            svg += "<path class=\"raster\" d=\"" + d.str() + "\" fill=\"none\" stroke=";
            append_style(svg, o.color, o.opacity);
            if (o.mark == raster_mark::tick)
                svg += " stroke-width=\"" + detail::number(o.line_width) + "\"";
            else
                svg +=
                    " stroke-width=\"" + detail::number(o.dot_size) + "\" stroke-linecap=\"round\"";
            svg += "/>\n";
        }
        svg += "</g>\n";
    }

    /// Legend position: the requested corner, or for `best` the candidate that covers the
    /// fewest data samples (ties go to the earlier candidate, upper right first).
    detail::rect legend_box(const layout& lay, const detail::rect& box,
                            const samples& occupied) const {
        const double w = lay.legend_width, h = lay.legend_height, inset = 8;
        auto at = [&](legend_location where) {
            const double l = box.left + inset, r = box.right() - inset - w;
            const double t = box.top + inset, b = box.bottom() - inset - h;
            const double cx = box.left + (box.width - w) / 2, cy = box.top + (box.height - h) / 2;
            switch (where) {
                case legend_location::upper_left:
                    return detail::rect{l, t, w, h};
                case legend_location::lower_left:
                    return detail::rect{l, b, w, h};
                case legend_location::lower_right:
                    return detail::rect{r, b, w, h};
                case legend_location::upper_center:
                    return detail::rect{cx, t, w, h};
                case legend_location::lower_center:
                    return detail::rect{cx, b, w, h};
                case legend_location::center_right:
                    return detail::rect{r, cy, w, h};
                case legend_location::outside_right:
                    return detail::rect{box.right() + 12, box.top, w, h};
                default:
                    return detail::rect{r, t, w, h};
            }
        };
        const auto where = options_.legend.location;
        if (where != legend_location::best) return at(where);
        static constexpr legend_location candidates[] = {
            legend_location::upper_right,  legend_location::upper_left,
            legend_location::lower_left,   legend_location::lower_right,
            legend_location::center_right, legend_location::lower_center,
            legend_location::upper_center};
        detail::rect best = at(candidates[0]);
        std::size_t best_count = std::numeric_limits<std::size_t>::max();
        for (auto candidate : candidates) {
            const auto r = at(candidate);
            std::size_t count = 0;
            for (const auto& [x, y] : occupied)
                if (x >= r.left - 3 && x <= r.right() + 3 && y >= r.top - 3 && y <= r.bottom() + 3)
                    ++count;
            if (count < best_count) best = r, best_count = count;
        }
        return best;
    }

    void draw_legend(std::string& svg, const layout& lay, const detail::rect& box, const style& st,
                     const samples& occupied) const {
        using detail::append_number;
        using detail::number;
        const auto entries = legend_entries();
        if (entries.empty() || lay.legend_width <= 0) return;
        const auto r = legend_box(lay, box, occupied);
        svg += "<g class=\"legend\">\n";
        if (options_.legend.frame)
            svg += "<rect x=\"" + number(r.left) + "\" y=\"" + number(r.top) + "\" width=\"" +
                   number(r.width) + "\" height=\"" + number(r.height) +
                   "\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\" "
                   "stroke-width=\"0.8\"/>\n";
        const double row_height = st.tick_font * 1.55;
        double y = r.top + legend_pad - 2;
        if (!options_.legend.title.empty()) {
            svg += "<text x=\"" + number(r.left + r.width / 2) + "\" y=\"" +
                   number(y + row_height / 2 + st.tick_font * 0.35) +
                   "\" text-anchor=\"middle\" font-size=\"" + number(st.tick_font) +
                   "\" font-weight=\"bold\" fill=\"#222222\">" +
                   detail::escape(options_.legend.title) + "</text>\n";
            y += row_height;
        }
        const int columns =
            std::clamp(options_.legend.columns, 1, static_cast<int>(entries.size()));
        double label_width = 0;
        for (const auto& e : entries)
            label_width = std::max(label_width, detail::text_width(e.label, st.tick_font));
        const double column_width = legend_sample + legend_gap + label_width + 14;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const auto& e = entries[i];
            const double x0 = r.left + legend_pad + static_cast<double>(i % columns) * column_width;
            const double cy = y + static_cast<double>(i / columns) * row_height + row_height / 2;
            const double x1 = x0 + legend_sample;
            const std::vector<double> centre = {(x0 + x1) / 2};  // where markers go
            std::string color = detail::escape(e.color);
            auto opacity = [&](double value) {
                return value < 1 ? " opacity=\"" + number(value) + "\"" : std::string();
            };
            switch (e.kind) {
                case legend_entry::sample::band:
                    svg += "<rect x=\"" + number(x0) + "\" y=\"" + number(cy - 5) + "\" width=\"" +
                           number(legend_sample) + "\" height=\"10\" fill=\"" + color +
                           "\" opacity=\"" + number(0.2 * e.opacity) + "\"/>\n";
                    [[fallthrough]];
                case legend_entry::sample::line:
                case legend_entry::sample::ref: {
                    svg += "<path d=\"M" + number(x0) + " " + number(cy) + "H" + number(x1) +
                           "\" stroke=\"" + color + "\" stroke-width=\"" + number(e.width) + "\"" +
                           opacity(e.opacity);
                    const auto dash = detail::dasharray(e.dash, e.width);
                    if (!dash.empty()) svg += " stroke-dasharray=\"" + dash + "\"";
                    svg += "/>\n";
                    if (e.marker != marker_shape::none) {
                        append_markers(svg, centre, {cy}, e.marker, e.marker_size, e.color,
                                       e.opacity);
                    }
                    break;
                }
                case legend_entry::sample::marker:
                    append_markers(svg, centre, {cy}, e.marker, e.marker_size, e.color, e.opacity);
                    break;
                case legend_entry::sample::patch:
                    svg += "<rect x=\"" + number(x0 + 4) + "\" y=\"" + number(cy - 5) +
                           "\" width=\"" + number(legend_sample - 8) + "\" height=\"10\" fill=\"" +
                           color + "\"" + opacity(e.opacity) + "/>\n";
                    break;
                case legend_entry::sample::raster: {
                    detail::path d;
                    for (int k = 0; k < 4; ++k) {
                        const double x = x0 + 4 + k * (legend_sample - 8) / 3;
                        if (e.mark == raster_mark::tick)
                            d.move(x, cy - 5).vertical_by(10);
                        else
                            d.move(x, cy).horizontal_by(0);
                    }
                    svg += "<path d=\"" + d.str() + "\" fill=\"none\" stroke=\"" + color +
                           "\" stroke-width=\"" +
                           number(e.mark == raster_mark::tick ? std::max(1.0, e.width)
                                                              : std::max(3.0, e.marker_size)) +
                           "\"" + (e.mark == raster_mark::dot ? " stroke-linecap=\"round\"" : "") +
                           opacity(e.opacity) + "/>\n";
                    break;
                }
            }
            svg += "<text x=\"" + number(x1 + legend_gap) + "\" y=\"" +
                   number(cy + st.tick_font * 0.35) + "\" font-size=\"" + number(st.tick_font) +
                   "\" fill=\"#222222\">" + detail::escape(e.label) + "</text>\n";
        }
        svg += "</g>\n";
    }

    axes_options options_;
    std::vector<series> series_;
    std::vector<detail::ref_line> ref_lines_;
    std::vector<detail::annotation> annotations_;
    std::size_t next_color_ = 0;
};

/// A figure: a rows x cols grid of panels, written as one SVG document.
///   svg::figure fig({.rows = 1, .cols = 2, .width = 900, .height = 360});
///   fig.panel(0, 0).line(f, accuracy, {.label = "SGD", .errors = std}).hline(0.5, {.label =
///   "chance"}); fig.save("accuracy.svg");
/// Panels in one column share their left/right margins and panels in one row their top/bottom
/// margins, so the plot areas line up.
class figure {
public:
    explicit figure(figure_options options = {}) : options_(std::move(options)) {
        if (options_.rows < 1 || options_.cols < 1)
            raise<option_error>("svg: a figure needs rows >= 1 and cols >= 1, got ", options_.rows,
                                " x ", options_.cols);
        if (!(options_.width >= 50) || !(options_.height >= 50) || !std::isfinite(options_.width) ||
            !std::isfinite(options_.height))
            raise<option_error>("svg: figure size ", options_.width, " x ", options_.height,
                                " is too small (at least 50 x 50 pixels)");
        panels_.resize(static_cast<std::size_t>(options_.rows * options_.cols));
    }

    /// The panel at (row, col); shape_error outside the grid.
    axes& panel(int row, int col) {
        if (row < 0 || row >= options_.rows || col < 0 || col >= options_.cols)
            raise<shape_error>("svg: panel (", row, ", ", col, ") is outside the ", options_.rows,
                               " x ", options_.cols, " grid");
        return panels_[static_cast<std::size_t>(row * options_.cols + col)];
    }
    /// The panel at `index` in row-major order.
    axes& panel(int index) {
        return panel(index / std::max(1, options_.cols), index % std::max(1, options_.cols));
    }

    int rows() const { return options_.rows; }
    int cols() const { return options_.cols; }
    const figure_options& options() const { return options_; }

    /// The SVG document.
    std::string str() const {
        using detail::number;
        axes::style st;
        st.font = options_.font_size;
        st.tick_font = options_.font_size - 1;
        st.title_font = options_.font_size + 1;
        st.family = options_.font_family;
        const double W = options_.width, H = options_.height;
        const double title_height = options_.title.empty() ? 0 : st.title_font + 14;
        const double cell_w = W / options_.cols, cell_h = (H - title_height) / options_.rows;

        std::vector<axes::layout> layouts;
        for (const auto& p : panels_) layouts.push_back(p.measure(cell_w, cell_h, st));
        std::vector<double> left(options_.cols, 0), right(options_.cols, 0);
        std::vector<double> top(options_.rows, 0), bottom(options_.rows, 0);
        for (int r = 0; r < options_.rows; ++r)
            for (int c = 0; c < options_.cols; ++c) {
                const auto& l = layouts[static_cast<std::size_t>(r * options_.cols + c)];
                left[c] = std::max(left[c], l.left);
                right[c] = std::max(right[c], l.right);
                top[r] = std::max(top[r], l.top);
                bottom[r] = std::max(bottom[r], l.bottom);
            }

        std::string svg;
        svg.reserve(1 << 16);
        svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + number(W) +
               "\" height=\"" + number(H) + "\" viewBox=\"0 0 " + number(W) + " " + number(H) +
               "\" font-family=\"" + detail::escape(options_.font_family) + "\">\n";
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"" +
               detail::escape(options_.background) + "\"/>\n";
        if (!options_.title.empty())
            svg += "<text class=\"suptitle\" x=\"" + number(W / 2) + "\" y=\"" +
                   number(8 + st.title_font + 1) + "\" text-anchor=\"middle\" font-size=\"" +
                   number(st.title_font + 1) + "\" font-weight=\"bold\" fill=\"#111111\">" +
                   detail::escape(options_.title) + "</text>\n";
        for (int r = 0; r < options_.rows; ++r)
            for (int c = 0; c < options_.cols; ++c) {
                const std::size_t index = static_cast<std::size_t>(r * options_.cols + c);
                const detail::rect cell{c * cell_w, title_height + r * cell_h, cell_w, cell_h};
                // Whole-pixel plot areas keep the axis lines sharp.
                const double x0 = std::round(cell.left + left[c]),
                             y0 = std::round(cell.top + top[r]);
                const double x1 = std::round(cell.right() - right[c]);
                const double y1 = std::round(cell.bottom() - bottom[r]);
                const detail::rect box{x0, y0, std::max(x1 - x0, 10.0), std::max(y1 - y0, 10.0)};
                const std::string letter = options_.panel_letters && index < 26
                                               ? std::string(1, static_cast<char>('A' + index))
                                               : std::string();
                panels_[index].make_ticks(layouts[index], box.width, box.height, st);
                panels_[index].draw(svg, layouts[index], box, st,
                                    options_.id + "-clip-" + std::to_string(index), letter, cell);
            }
        svg += "</svg>\n";
        return svg;
    }

    /// Writes the SVG to `path` through a temporary file.
    void save(const std::string& path) const {
        const std::string text = str();
        io::write_atomically(path, [&](std::ofstream& out) {
            out.write(text.data(), static_cast<std::streamsize>(text.size()));
        });
    }

private:
    figure_options options_;
    std::vector<axes> panels_;
};

}  // namespace spikegrad::svg

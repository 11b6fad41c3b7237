// Tests of data/variants.hpp: the whole -> part -> norm builder against reports computed by hand
// on a crafted dataset, norm's identical per-neuron counts checked with the independent
// bin_events, and the uniformity of norm's random choice.
#include "helpers.hpp"

#include <spikegrad/core/random.hpp>
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/variants.hpp>
#include <spikegrad/data/variants_report.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace spikegrad;

namespace {

using index_list = std::vector<std::size_t>;

/// The crafted dataset (time unit: steps, 10 bins of 1 step, collapse mode). Binned counts
/// c[m][i] (distinct bins a neuron fires in):
///
///        n0 n1 n2 n3 n4   events  binned
///   s0:  3  2  1  2  2      11      10     class a; n0 has two spikes in bin 1 (1.25, 1.75)
///   s1:  3  2  1  2  2      10      10     class a
///   s2:  3  2  4  2  1      12      12     class a
///   s3:  3  2  4  1  2      12      12     class a
///   s4:  3  2  4  1  2      13      12     class a; n3 also fires at 10.5, outside the window
///   s5:  3  2  4  1  2      12      12     class b
///   s6:  3  2  4  1  2      12      12     class b
///   s7:  3  2  4  1  2      12      12     class b
///   s8:  3  2  4  1  2      12      12     class b
///   s9:  3  1  4  2  2      12      12     class b
///
/// Bins used: n0 {1,4,7}; n1 {2,5} or {2}; n2 {0,3,6,9} or {3}; n3 {1,8} or {8}; n4 {4,6} or {6}.
spike_dataset crafted() {
    const int c[10][5] = {{3, 2, 1, 2, 2}, {3, 2, 1, 2, 2}, {3, 2, 4, 2, 1}, {3, 2, 4, 1, 2},
                          {3, 2, 4, 1, 2}, {3, 2, 4, 1, 2}, {3, 2, 4, 1, 2}, {3, 2, 4, 1, 2},
                          {3, 2, 4, 1, 2}, {3, 1, 4, 2, 2}};
    const std::map<std::pair<int, int>, std::vector<int>> bins{
        {{0, 3}, {1, 4, 7}},    {{1, 2}, {2, 5}}, {{1, 1}, {2}},
        {{2, 4}, {0, 3, 6, 9}}, {{2, 1}, {3}},    {{3, 2}, {1, 8}},
        {{3, 1}, {8}},          {{4, 2}, {4, 6}}, {{4, 1}, {6}}};
    spike_dataset data(5, 10, time_unit::steps, {"a", "b"});
    for (int m = 0; m < 10; ++m) {
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (int i = 0; i < 5; ++i)
            for (int b : bins.at({i, c[m][i]})) {
                times.push_back(static_cast<float>(b) + 0.25f);
                units.push_back(static_cast<std::uint32_t>(i));
            }
        if (m == 0) {
            times.push_back(1.75f);
            units.push_back(0);
        }
        if (m == 4) {
            times.push_back(10.5f);
            units.push_back(3);
        }
        data.add_sample(times, units, m < 5 ? 0 : 1);
    }
    return data;
}

variant_options crafted_options() {
    variant_options o;
    o.eps = 0.2;  // with M = 10: |M_i| = 2 is 0.2, the case where < and <= differ
    o.binning = {.dt_ms = 1.0, .n_steps = 10};
    return o;
}

/// Per-neuron binned counts of every sample, through bin_events (independent of the builder).
std::vector<std::vector<std::size_t>> binned_counts(const spike_dataset& data,
                                                    const binning_options& binning) {
    const event_batch batch = bin_events(data, binning);
    std::vector<std::vector<std::size_t>> out(data.size(),
                                              std::vector<std::size_t>(data.n_units()));
    for (std::size_t b = 0; b < batch.n_samples; ++b) {
        const auto view = batch.sample(b);
        for (std::size_t t = 0; t < batch.n_steps; ++t)
            for (std::size_t e = view.begin(t); e < view.end(t); ++e)
                out[b][view.units[e]] += static_cast<std::size_t>(view.value(e));
    }
    return out;
}

/// norm's spikes are spikes of part (same time, same neuron) and never two in one bin.
void check_norm_inside_part(const variant_sets& v, const binning_options& binning) {
    REQUIRE(v.norm.size() == v.part.size());
    for (std::size_t s = 0; s < v.norm.size(); ++s) {
        const auto n = v.norm.sample(s), p = v.part.sample(s);
        CHECK(n.label == p.label);
        std::multiset<std::pair<float, std::uint32_t>> part_events;
        for (std::size_t e = 0; e < p.size(); ++e) part_events.insert({p.times[e], p.units[e]});
        std::set<std::pair<std::uint32_t, std::int64_t>> cells;
        for (std::size_t e = 0; e < n.size(); ++e) {
            CHECK(part_events.count({n.times[e], n.units[e]}) >= 1);
            const auto bin = static_cast<std::int64_t>(std::floor(n.times[e] / bin_width(v.norm, binning)));
            CHECK(bin < static_cast<std::int64_t>(binning.n_steps));
            CHECK(cells.insert({n.units[e], bin}).second);
        }
    }
}

void check_stats(const spike_count_stats& s, std::size_t min, double mean, std::size_t max) {
    CHECK(s.min == min);
    CHECK(s.mean == doctest::Approx(mean));
    CHECK(s.max == max);
}

}  // namespace

TEST_CASE("paper rules on the crafted dataset give the hand-computed report") {
    // Step 1: c_min = [3, 1, 1, 1, 1] -> bad {1, 2, 3, 4}; M_1 = {s9}, M_2 = {s0, s1},
    //   M_3 = {s3..s8}, M_4 = {s2}.
    // Step 2 (|M_i|/M < 0.2, class floor 50% = 2.5 samples of 5):
    //   n1: 0.1 < 0.2, class b 5 -> 4 >= 2.5: remove s9.   n2: 0.2 < 0.2 is false.
    //   n3: 0.6, no.   n4: 0.1 < 0.2, class a 5 -> 4: remove s2.
    //   removed {2, 9}, 1 per class, 4 + 4 left.
    // Step 3 over {0,1,3,4,5,6,7,8}: c_min = [3, 2, 1, 1, 2]; keep >= 2: {0, 1, 4}.
    // Step 4: norm has 3 + 2 + 2 = 7 spikes per sample.
    // Step 5: whole 5 per class (all 10); part 4 per class = the 8 remaining samples.
    //   whole events 11,10,12,12,13,12,12,12,12,12: 10 / 11.8 / 13; binned 10 / 11.6 / 12.
    //   part (n0, n1, n4) events s0 4+2+2 = 8, the others 3+2+2 = 7: 7 / 57/8 / 8; binned 7.
    const spike_dataset data = crafted();
    const variant_sets v = build_variants(data, crafted_options());
    const variant_report& r = v.report;
    CHECK(r.n_samples == 10);
    CHECK(r.n_units == 5);
    CHECK(r.input_per_class == index_list{5, 5});
    CHECK(r.min_count == index_list{3, 1, 1, 1, 1});
    CHECK(r.bad_neurons == index_list{1, 2, 3, 4});
    CHECK(r.bad_sample_counts == index_list{1, 2, 6, 1});
    CHECK(r.rescued_neurons == index_list{1, 4});
    CHECK(r.capped_neurons.empty());
    CHECK(r.removed_samples == index_list{2, 9});
    CHECK(r.removed_per_class == index_list{1, 1});
    CHECK(r.remaining_per_class == index_list{4, 4});
    CHECK(r.min_count_after == index_list{3, 2, 1, 1, 2});
    CHECK(r.kept_neurons == index_list{0, 1, 4});
    CHECK(r.norm_counts == index_list{3, 2, 2});
    CHECK(r.norm_spikes_per_sample == 7);
    CHECK(r.whole_per_class == 5);
    CHECK(r.part_per_class == 4);
    CHECK(r.whole_samples == index_list{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(r.part_samples == index_list{0, 1, 3, 4, 5, 6, 7, 8});
    check_stats(r.whole_spikes, 10, 11.8, 13);
    check_stats(r.whole_binned, 10, 11.6, 12);
    check_stats(r.part_spikes, 7, 7.125, 8);
    check_stats(r.part_binned, 7, 7.0, 7);

    // The datasets themselves.
    CHECK(v.whole.size() == 10);
    CHECK(v.whole.n_units() == 5);
    CHECK(v.part.n_units() == 3);
    CHECK(v.norm.n_units() == 3);
    REQUIRE(v.part.size() == 8);
    // part's sample 0 is input s0 restricted to n0, n1, n4 renumbered 0, 1, 2: times
    // n0 {1.25, 1.75, 4.25, 7.25}, n1 {2.25, 5.25}, n4 -> 2 {4.25, 6.25}, sorted by (time, unit).
    const auto p0 = v.part.sample(0);
    const std::vector<float> times0{1.25f, 1.75f, 2.25f, 4.25f, 4.25f, 5.25f, 6.25f, 7.25f};
    const std::vector<std::uint32_t> units0{0, 0, 1, 0, 2, 1, 2, 0};
    CHECK(std::vector<float>(p0.times.begin(), p0.times.end()) == times0);
    CHECK(std::vector<std::uint32_t>(p0.units.begin(), p0.units.end()) == units0);
    // norm: exactly [3, 2, 2] per neuron in every sample, on the engine's view too.
    for (const auto& row : binned_counts(v.norm, crafted_options().binning))
        CHECK(row == index_list{3, 2, 2});
    for (std::size_t s = 0; s < v.norm.size(); ++s) CHECK(v.norm.sample(s).size() == 7);
    check_norm_inside_part(v, crafted_options().binning);
    // In s0, n0's bin 1 holds two spikes; norm keeps only the earliest (1.25), never 1.75.
    const auto n0 = v.norm.sample(0);
    CHECK(std::find(n0.times.begin(), n0.times.end(), 1.75f) == n0.times.end());
}

TEST_CASE("the released code's rules give the hand-computed report") {
    // |M_i|/M <= 0.2, total cap 2000, keep c_min >= 1.
    // Step 2: n1 removes s9; n2 (0.2 <= 0.2) removes s0, s1; n3 no; n4 removes s2.
    //   removed {0, 1, 2, 9}: 3 of class a, 1 of class b; 2 + 4 left.
    // Step 3 over {3..8}: c_min = [3, 2, 4, 1, 2], all >= 1: every neuron kept; 12 per sample.
    // Step 5: part 2 per class: s3, s4 and two of s5..s8 (all with 12 events, binned 12);
    //   s3 has 12 events, s4 13 (the spike at 10.5 stays in part): events 12 / 12.25 / 13.
    variant_options o = crafted_options();
    o.rescue = rescue_rule::at_most_eps;
    o.cap = removal_cap::total;
    o.keep = keep_rule::at_least_one;
    const variant_sets v = build_variants(crafted(), o);
    const variant_report& r = v.report;
    CHECK(r.rescued_neurons == index_list{1, 2, 4});
    CHECK(r.removed_samples == index_list{0, 1, 2, 9});
    CHECK(r.removed_per_class == index_list{3, 1});
    CHECK(r.remaining_per_class == index_list{2, 4});
    CHECK(r.min_count_after == index_list{3, 2, 4, 1, 2});
    CHECK(r.kept_neurons == index_list{0, 1, 2, 3, 4});
    CHECK(r.norm_spikes_per_sample == 12);
    CHECK(r.part_per_class == 2);
    REQUIRE(r.part_samples.size() == 4);
    CHECK(r.part_samples[0] == 3);
    CHECK(r.part_samples[1] == 4);
    CHECK(r.part_samples[2] >= 5);
    check_stats(r.part_spikes, 12, 12.25, 13);
    check_stats(r.part_binned, 12, 12.0, 12);
    for (const auto& row : binned_counts(v.norm, o.binning))
        CHECK(row == index_list{3, 2, 4, 1, 2});
    check_norm_inside_part(v, o.binning);
}

TEST_CASE("the total-removal cap refuses a neuron whose removal would exceed it") {
    // <= rule, cap 2 samples, keep >= 1. n1 removes s9 (1 <= 2); n2 would make 3 > 2: capped;
    // n4 removes s2 (2 <= 2). Left {0,1,3,...,8}: c_min = [3, 2, 1, 1, 2], all kept, 9 per
    // sample. part: 4 per class = those 8 samples; events 11, 10, 12, 13, 12, 12, 12, 12:
    // 10 / 94/8 / 13; binned 10, 10, 12 x 6: 10 / 92/8 / 12.
    variant_options o = crafted_options();
    o.rescue = rescue_rule::at_most_eps;
    o.cap = removal_cap::total;
    o.max_removed = 2;
    o.keep = keep_rule::at_least_one;
    const variant_sets v = build_variants(crafted(), o);
    const variant_report& r = v.report;
    CHECK(r.rescued_neurons == index_list{1, 4});
    CHECK(r.capped_neurons == index_list{2});
    CHECK(r.removed_samples == index_list{2, 9});
    CHECK(r.norm_counts == index_list{3, 2, 1, 1, 2});
    CHECK(r.norm_spikes_per_sample == 9);
    CHECK(r.part_samples == index_list{0, 1, 3, 4, 5, 6, 7, 8});
    check_stats(r.part_spikes, 10, 11.75, 13);
    check_stats(r.part_binned, 10, 11.5, 12);
    for (const auto& row : binned_counts(v.norm, o.binning))
        CHECK(row == index_list{3, 2, 1, 1, 2});
}

TEST_CASE("the class floor refuses a neuron whose removal would halve a class") {
    // <= rule, class floor 50%, keep >= theta. n1 removes s9 (b: 4 left); n2 removes s0, s1
    // (a: 3 left >= 2.5); n4 would leave a with 2 < 2.5: capped. Removed {0, 1, 9}.
    // Left {2..8}: c_min = [3, 2, 4, 1, 1] -> keep {0, 1, 2}, 9 per sample; 3 per class.
    variant_options o = crafted_options();
    o.rescue = rescue_rule::at_most_eps;
    const variant_sets v = build_variants(crafted(), o);
    const variant_report& r = v.report;
    CHECK(r.rescued_neurons == index_list{1, 2});
    CHECK(r.capped_neurons == index_list{4});
    CHECK(r.removed_samples == index_list{0, 1, 9});
    CHECK(r.remaining_per_class == index_list{3, 4});
    CHECK(r.min_count_after == index_list{3, 2, 4, 1, 1});
    CHECK(r.kept_neurons == index_list{0, 1, 2});
    CHECK(r.norm_spikes_per_sample == 9);
    CHECK(r.part_per_class == 3);
    check_stats(r.part_spikes, 9, 9.0, 9);
    // whole_after_removal balances whole from the 7 samples left: 3 per class.
    o.whole_after_removal = true;
    const variant_report r2 = build_variants(crafted(), o).report;
    CHECK(r2.whole_per_class == 3);
    CHECK(r2.whole_samples.size() == 6);
    CHECK(std::find(r2.whole_samples.begin(), r2.whole_samples.end(), 9) == r2.whole_samples.end());
}

TEST_CASE("the report prints as a table and saves as JSON") {
    const variant_sets v = build_variants(crafted(), crafted_options());
    const std::string text = to_string(v.report);
    CHECK(text.find("bad neurons      : 4 (c_min < 2)") != std::string::npos);
    CHECK(text.find("samples removed  : 2, 8 left") != std::string::npos);
    CHECK(text.find("kept neurons     : 3") != std::string::npos);
    CHECK(text.find("7 / 7 / 7") != std::string::npos);
    const std::string json = to_json(v.report).dump(0);
    CHECK(json.find("\"kept_neurons\":[0, 1, 4]") != std::string::npos);
    CHECK(json.find("\"norm_spikes_per_sample\":7") != std::string::npos);
    CHECK(json.find("\"removed_per_class\":[1, 1]") != std::string::npos);
    shd_test::scratch dir("report");
    save_json(v.report, dir / "report.json");
    CHECK(shd_test::slurp(dir / "report.json").find("\"rescue\": \"|M_i|/M < eps\"") !=
          std::string::npos);
}

TEST_CASE("norm has identical per-neuron binned counts on SHD-like data in seconds") {
    // 3 classes x 40 samples, 50 neurons, times in [0, 1.5) s (some beyond the 1.4 s window),
    // binned at SHD's 100 bins of 14 ms. Neurons 0, 7, ..., 49 fire 1-3 times (bad, and too
    // often so to be rescued); the others 6-25 times, so they survive with varied c_min.
    spike_dataset data(50, 1.4, time_unit::seconds, {"a", "b", "c"});
    rng generator(3);
    for (int m = 0; m < 120; ++m) {
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        for (std::uint32_t i = 0; i < 50; ++i) {
            const auto n = i % 7 == 0 ? 1 + generator.below(3) : 6 + generator.below(20);
            for (std::uint64_t k = 0; k < n; ++k) {
                times.push_back(static_cast<float>(generator.uniform(0.0, 1.5)));
                units.push_back(i);
            }
        }
        data.add_sample(times, units, m % 3);
    }
    variant_options o;  // paper defaults: 100 bins of 0.014 s
    const variant_sets v = build_variants(data, o);
    const auto& r = v.report;
    REQUIRE(r.kept_neurons.size() == 42);
    for (std::size_t k : r.kept_neurons) CHECK(k % 7 != 0);
    CHECK(v.norm.size() == 3 * r.part_per_class);
    for (const auto& row : binned_counts(v.norm, o.binning)) CHECK(row == r.norm_counts);
    // Count mode on the norm raster gives the same numbers: one spike per chosen bin.
    binning_options counting = o.binning;
    counting.count = true;
    for (const auto& row : binned_counts(v.norm, counting)) CHECK(row == r.norm_counts);
    check_norm_inside_part(v, o.binning);
    // Every kept neuron fires >= theta times in every part sample on the binned view.
    for (const auto& row : binned_counts(v.part, o.binning))
        for (std::size_t k = 0; k < row.size(); ++k) CHECK(row[k] >= r.norm_counts[k]);
    // Same seed, same result; another seed, another choice of spikes.
    const variant_sets again = build_variants(data, o);
    const auto a = v.norm.sample(5), b = again.norm.sample(5);
    CHECK(std::equal(a.times.begin(), a.times.end(), b.times.begin(), b.times.end()));
    o.seed = 7;
    const variant_sets other = build_variants(data, o);
    bool differs = false;
    for (std::size_t s = 0; s < std::min(other.norm.size(), v.norm.size()); ++s) {
        const auto x = v.norm.sample(s), y = other.norm.sample(s);
        differs |= !std::equal(x.times.begin(), x.times.end(), y.times.begin(), y.times.end());
    }
    CHECK(differs);
}

TEST_CASE("norm chooses each subset of a neuron's bins uniformly") {
    // One class, one neuron firing in bins {0,1,2,3} in 800 samples and in {0,1} in one more:
    // c_min = 2 (not bad), so every full sample keeps 2 of its 4 bins. Uniform choice: each
    // bin with p = 1/2 (mean 400, sigma sqrt(800/4) = 14.1), each of the 6 pairs with
    // p = 1/6 (mean 133.3, sigma sqrt(800 * 5/36) = 10.5). Bounds at 4 sigma.
    spike_dataset data(1, 4, time_unit::steps, {"only"});
    const std::vector<float> full{0.5f, 1.5f, 2.5f, 3.5f}, least{0.5f, 1.5f};
    const std::vector<std::uint32_t> zeros(4, 0);
    data.add_sample(least, std::span<const std::uint32_t>(zeros.data(), 2), 0);
    for (int m = 0; m < 800; ++m) data.add_sample(full, zeros, 0);
    const variant_sets v = build_variants(data, {.binning = {.dt_ms = 1.0, .n_steps = 4}});
    REQUIRE(v.report.norm_counts == index_list{2});
    REQUIRE(v.norm.size() == 801);
    std::vector<int> per_bin(4, 0);
    std::map<std::pair<int, int>, int> per_pair;
    for (std::size_t s = 1; s < v.norm.size(); ++s) {
        const auto sample = v.norm.sample(s);
        REQUIRE(sample.size() == 2);
        const int a = static_cast<int>(sample.times[0]), b = static_cast<int>(sample.times[1]);
        ++per_bin[static_cast<std::size_t>(a)];
        ++per_bin[static_cast<std::size_t>(b)];
        ++per_pair[{a, b}];
    }
    for (int count : per_bin) CHECK(std::abs(count - 400) < 4 * 14.1);
    CHECK(per_pair.size() == 6);
    for (const auto& [pair, count] : per_pair) CHECK(std::abs(count - 800.0 / 6) < 4 * 10.5);
}

TEST_CASE("build_variants rejects impossible options") {
    CHECK_THROWS_AS(build_variants(crafted(), {.eps = 1.5}), option_error);
    CHECK_THROWS_AS(build_variants(crafted(), {.class_floor = -0.1}), option_error);
}

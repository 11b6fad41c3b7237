// Tests of data/split.hpp: the released code's fraction split and the stratified split are
// disjoint, have the sizes computed by hand, preserve class proportions, and their indices
// work with spike_dataset::subset and event_batch::select.
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/split.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

using namespace spikegrad;

namespace {

using index_list = std::vector<std::size_t>;

void check_disjoint(const index_split& s, std::size_t n) {
    std::set<std::size_t> all;
    for (const auto* list : {&s.train, &s.validation, &s.test}) {
        CHECK(std::is_sorted(list->begin(), list->end()));
        for (std::size_t i : *list) {
            CHECK(i < n);
            CHECK(all.insert(i).second);
        }
    }
}

}  // namespace

TEST_CASE("the fraction split cuts 0-60%, 60-75% and 75-90% of a shuffled set") {
    // n = 1000: int(0.6 n) = 600, int(0.75 n) = 750, int(0.9 n) = 900.
    const index_split s = split_by_fraction(1000);
    CHECK(s.train.size() == 600);
    CHECK(s.validation.size() == 150);
    CHECK(s.test.size() == 150);
    check_disjoint(s, 1000);
    // Shuffled: the training set is not simply 0..599.
    CHECK(s.train.back() > 599);
    // n = 5460 (SHD-norm): int(3276.0) = 3276, int(4095.0) = 4095, int(4914.0) = 4914.
    const index_split shd = split_by_fraction(5460);
    CHECK(shd.train.size() == 3276);
    CHECK(shd.validation.size() == 819);
    CHECK(shd.test.size() == 819);
    // Without shuffling the cuts are the positions themselves; n = 7: int(4.2) = 4,
    // int(5.25) = 5, int(6.3) = 6.
    const index_split plain = split_by_fraction(7, {.shuffle = false});
    CHECK(plain.train == index_list{0, 1, 2, 3});
    CHECK(plain.validation == index_list{4});
    CHECK(plain.test == index_list{5});
    // Seeded: the same seed gives the same split, another seed another one.
    CHECK(split_by_fraction(1000).train == s.train);
    CHECK(split_by_fraction(1000, {.seed = 1}).train != s.train);
    CHECK_THROWS_AS(split_by_fraction(10, {.train_end = 0.8, .validation_end = 0.7}), option_error);
}

TEST_CASE("the stratified split keeps every class's proportions") {
    // Classes of 100, 40 and 20 samples, interleaved. Per class, cumulative bounds
    // round(0.6 n), round(0.75 n), round(0.9 n): 60/75/90, 24/30/36, 12/15/18, so train
    // 60 + 24 + 12 = 96, validation 15 + 6 + 3 = 24, test 15 + 6 + 3 = 24.
    std::vector<std::int32_t> labels;
    for (int k = 0; k < 100; ++k) {
        labels.push_back(0);
        if (k < 40) labels.push_back(1);
        if (k < 20) labels.push_back(2);
    }
    const index_split s = stratified_split(labels);
    check_disjoint(s, labels.size());
    auto per_class = [&](const index_list& list) {
        index_list counts(3, 0);
        for (std::size_t i : list) ++counts[static_cast<std::size_t>(labels[i])];
        return counts;
    };
    CHECK(per_class(s.train) == index_list{60, 24, 12});
    CHECK(per_class(s.validation) == index_list{15, 6, 3});
    CHECK(per_class(s.test) == index_list{15, 6, 3});
    CHECK(stratified_split(labels).test == s.test);
    CHECK(stratified_split(labels, {.seed = 9}).test != s.test);
    const std::vector<std::int32_t> bad{0, -1};
    CHECK_THROWS_AS(stratified_split(bad), data_error);
    CHECK_THROWS_AS(stratified_split(labels, {.train = 0.9, .validation = 0.2}), option_error);
}

TEST_CASE("split indices select the same samples from a dataset and from its event batch") {
    spike_dataset data(4, 10, time_unit::steps, {"a", "b"});
    for (int m = 0; m < 40; ++m) {
        const std::vector<float> times{static_cast<float>(m % 10)};
        const std::vector<std::uint32_t> units{static_cast<std::uint32_t>(m % 4)};
        data.add_sample(times, units, m % 2);
    }
    const index_split s = stratified_split(data);
    const spike_dataset train = data.subset(s.train);
    const event_batch batch = bin_events(data, {.dt_ms = 1.0}).select(s.train);
    REQUIRE(train.size() == s.train.size());
    REQUIRE(batch.n_samples == s.train.size());
    for (std::size_t k = 0; k < s.train.size(); ++k) {
        CHECK(train.label(k) == data.label(s.train[k]));
        CHECK(batch.labels[k] == data.label(s.train[k]));
        CHECK(train.sample(k).times[0] == data.sample(s.train[k]).times[0]);
    }
}

TEST_CASE("merge_splits concatenates datasets with the same units and classes") {
    spike_dataset a(3, 1.0, time_unit::seconds, {"x", "y"}),
        b(3, 1.4, time_unit::seconds, {"x", "y"});
    const std::vector<float> t{0.5f};
    const std::vector<std::uint32_t> u{2};
    a.add_sample(t, u, 1);
    b.add_sample(t, u, 0);
    b.add_sample(t, u, 1);
    const std::vector<spike_dataset> parts{a, b};
    const spike_dataset merged = merge_splits(parts);
    CHECK(merged.size() == 3);
    CHECK(merged.labels() == std::vector<std::int32_t>{1, 0, 1});
    CHECK(merged.duration() == doctest::Approx(1.4));
    const std::vector<spike_dataset> mismatched{
        a, spike_dataset(4, 1.0, time_unit::seconds, {"x", "y"})};
    CHECK_THROWS_AS(merge_splits(mismatched), shape_error);
}

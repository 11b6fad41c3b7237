// Tests of data/dataset.hpp: shared storage of subsets, sorting on insert, bad input.
#include "common.hpp"

#include <doctest/doctest.h>
#include <spikegrad/data/dataset.hpp>

#include <limits>
#include <vector>

using namespace spikegrad;
using namespace test_data;

namespace {

spike_dataset five_samples() {
    spike_dataset data = make(4, 10, time_unit::steps, 2);
    for (std::int32_t s = 0; s < 5; ++s)
        add(data, {{float(s), 0}, {float(s) + 0.5f, std::uint32_t(s % 4)}}, s % 2);
    return data;
}

}  // namespace

TEST_CASE("a subset shares the event storage of its parent") {
    const spike_dataset whole = five_samples();
    const std::vector<std::size_t> picks{3, 1};
    const spike_dataset part = whole.subset(picks);
    REQUIRE(part.size() == 2);
    CHECK(part.sample(0).times.data() == whole.sample(3).times.data());
    CHECK(part.sample(1).units.data() == whole.sample(1).units.data());
    CHECK(part.label(0) == whole.label(3));
    CHECK(part.storage_index(0) == 3);

    const std::vector<std::size_t> again{1};
    const spike_dataset nested = part.subset(again);
    CHECK(nested.storage_index(0) == 1);
    CHECK(nested.sample(0).times.data() == whole.sample(1).times.data());
}

TEST_CASE("adding a sample to a subset copies it and leaves the parent unchanged") {
    const spike_dataset whole = five_samples();
    const std::vector<std::size_t> picks{4, 0};
    spike_dataset part = whole.subset(picks);
    add(part, {{7.f, 2}}, 1);
    REQUIRE(part.size() == 3);
    CHECK(whole.size() == 5);
    CHECK(part.sample(0).times[0] == 4.f);
    CHECK(part.sample(2).times[0] == 7.f);
    CHECK(part.sample(0).times.data() != whole.sample(4).times.data());
    CHECK(whole.n_spikes() == 10);
}

TEST_CASE("add_sample sorts events by time and then by unit") {
    spike_dataset data = make(5, 10, time_unit::steps, 1);
    add(data, {{3.f, 1}, {1.f, 4}, {3.f, 0}, {0.5f, 2}, {1.f, 3}}, 0);
    const auto s = data.sample(0);
    const std::vector<float> times(s.times.begin(), s.times.end());
    const std::vector<std::uint32_t> units(s.units.begin(), s.units.end());
    CHECK(times == std::vector<float>{0.5f, 1.f, 1.f, 3.f, 3.f});
    CHECK(units == std::vector<std::uint32_t>{2, 3, 4, 0, 1});
}

TEST_CASE("add_sample counts the samples it sorted, and rejects unsorted times when asked") {
    spike_dataset data = make(5, 10, time_unit::steps, 1);
    CHECK(data.reordered_samples() == 0);
    add(data, {{1.f, 0}, {2.f, 1}}, 0);          // in order
    add(data, {{1.f, 3}, {1.f, 2}, {2.f, 0}}, 0);  // equal times out of unit order: no count
    CHECK(data.reordered_samples() == 0);
    add(data, {{3.f, 1}, {1.f, 4}}, 0);          // decreasing: sorted and counted
    CHECK(data.reordered_samples() == 1);
    CHECK(data.sample(1).units[0] == 2);
    CHECK(data.sample(2).times[0] == 1.f);

    const std::vector<float> times{0.5f, 2.f, 1.5f};
    const std::vector<std::uint32_t> units{0, 1, 2};
    const std::string text = message_of<data_error>(
        [&] { data.add_sample(times, units, 0, unsorted_times::reject); });
    CHECK(contains(text, "sample 3: event 2: time 1.5 < 2 of the event before (unsorted"));
    CHECK(data.size() == 3);  // nothing added
    // Rejecting keeps in-order samples, and puts equal times in unit order.
    const std::vector<float> tied{1.f, 1.f};
    const std::vector<std::uint32_t> reversed{4, 1};
    data.add_sample(tied, reversed, 0, unsorted_times::reject);
    CHECK(data.sample(3).units[0] == 1);
    CHECK(data.reordered_samples() == 1);
    // A fresh dataset of the same kind starts counting at 0.
    CHECK(data.empty_like().reordered_samples() == 0);
}

TEST_CASE("a negative or NaN time raises data_error naming the sample, event and time") {
    spike_dataset data = five_samples();
    const std::string negative = message_of<data_error>([&] { add(data, {{1.f, 0}, {-2.f, 1}}, 0); });
    CHECK(contains(negative, "sample 5"));
    CHECK(contains(negative, "event 1"));
    CHECK(contains(negative, "time -2"));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::string not_a_number = message_of<data_error>([&] { add(data, {{nan, 0}}, 0); });
    CHECK(contains(not_a_number, "sample 5"));
    CHECK(contains(not_a_number, "time"));
    const float inf = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(add(data, {{inf, 0}}, 0), data_error);
    CHECK(data.size() == 5);
}

TEST_CASE("a unit at or above n_units raises data_error naming the unit and n_units") {
    spike_dataset data = five_samples();
    const std::string text = message_of<data_error>([&] { add(data, {{1.f, 4}}, 0); });
    CHECK(contains(text, "sample 5"));
    CHECK(contains(text, "unit 4 >= n_units 4"));
    CHECK(data.size() == 5);
}

TEST_CASE("a label outside the classes raises data_error naming the label") {
    spike_dataset data = five_samples();
    const std::string text = message_of<data_error>([&] { add(data, {{1.f, 0}}, 2); });
    CHECK(contains(text, "sample 5"));
    CHECK(contains(text, "label 2"));
    CHECK_THROWS_AS(add(data, {{1.f, 0}}, -1), data_error);
}

TEST_CASE("times and units of different lengths raise shape_error naming both lengths") {
    spike_dataset data = five_samples();
    const std::vector<float> times{1.f, 2.f};
    const std::vector<std::uint32_t> units{0};
    const std::string text = message_of<shape_error>([&] { data.add_sample(times, units, 0); });
    CHECK(contains(text, "sample 5"));
    CHECK(contains(text, "2 times but 1 units"));
}

TEST_CASE("a subset index past the end raises shape_error") {
    const spike_dataset whole = five_samples();
    const std::vector<std::size_t> picks{0, 5};
    CHECK_THROWS_AS((void)whole.subset(picks), shape_error);
    CHECK_THROWS_AS((void)whole.sample(5), shape_error);
}

TEST_CASE("a non-positive duration is rejected") {
    CHECK_THROWS_AS(make(3, 0, time_unit::steps, 1), option_error);
    CHECK_THROWS_AS(make(3, -1, time_unit::seconds, 1), option_error);
}

TEST_CASE("class_counts and n_spikes count samples and events by hand") {
    const spike_dataset data = five_samples();
    CHECK(data.class_counts() == std::vector<std::size_t>{3, 2});
    CHECK(data.n_spikes() == 10);
    CHECK(data.labels() == std::vector<std::int32_t>{0, 1, 0, 1, 0});
}

TEST_CASE("with_time_unit converts seconds to steps of dt and milliseconds") {
    spike_dataset data = make(2, 1.4, time_unit::seconds, 1);
    add(data, {{0.028f, 0}, {0.7f, 1}}, 0);
    const spike_dataset steps = data.with_time_unit(time_unit::steps, 0.014);
    CHECK(steps.unit() == time_unit::steps);
    CHECK(steps.duration() == doctest::Approx(100));
    CHECK(steps.sample(0).times[0] == doctest::Approx(2.f).epsilon(1e-6));
    CHECK(steps.sample(0).times[1] == doctest::Approx(50.f).epsilon(1e-6));
    const spike_dataset ms = data.with_time_unit(time_unit::milliseconds);
    CHECK(ms.duration() == doctest::Approx(1400));
    CHECK(ms.sample(0).times[1] == doctest::Approx(700.f).epsilon(1e-6));
    CHECK_THROWS_AS((void)data.with_time_unit(time_unit::steps), option_error);
}

// event_batch: building, selecting, validating, and the raster round trip.
#include <spikegrad/core/events.hpp>

#include <doctest/doctest.h>

using namespace spikegrad;

TEST_CASE("add_sample sorts events by step, collapses repeats and keeps labels") {
    event_batch batch(5, 4, 2);
    const std::vector<std::uint32_t> steps = {3, 0, 3, 3, 1};
    const std::vector<std::uint32_t> units = {2, 1, 0, 2, 3};
    batch.add_sample(steps, units, {}, 1);
    CHECK(batch.n_samples == 1);
    CHECK(batch.n_events() == 4);  // (3, 2) twice collapses
    const auto s = batch.sample(0);
    CHECK(s.end(0) - s.begin(0) == 1);
    CHECK(s.units[s.begin(0)] == 1);
    CHECK(s.end(3) - s.begin(3) == 2);
    CHECK(batch.labels == std::vector<std::int32_t>{1});
    CHECK_THROWS_AS(batch.add_sample(std::vector<std::uint32_t>{5}, std::vector<std::uint32_t>{0}, {}, 0),
                    data_error);
}

TEST_CASE("weighted events sum in one bin") {
    event_batch batch(3, 2);
    batch.add_sample(std::vector<std::uint32_t>{1, 1}, std::vector<std::uint32_t>{0, 0},
                     std::vector<float>{0.5f, 2.f});
    CHECK(batch.n_events() == 1);
    CHECK(batch.values[0] == 2.5f);
}

TEST_CASE("select picks samples in the given order, and raster round trips") {
    event_batch batch(4, 3, 3);
    for (std::uint32_t b = 0; b < 3; ++b)
        batch.add_sample(std::vector<std::uint32_t>{b, 3}, std::vector<std::uint32_t>{b, 0}, {},
                         static_cast<std::int32_t>(b));
    const std::vector<std::size_t> order = {2, 0};
    const auto picked = batch.select(order);
    picked.validate();
    CHECK(picked.labels == std::vector<std::int32_t>{2, 0});
    const auto raster = raster_from_events<float>(picked);
    CHECK(raster(2, 0, 2) == 1.f);
    CHECK(raster(0, 1, 0) == 1.f);
    CHECK(raster(3, 0, 0) == 1.f);
    const auto back = events_from_raster(raster, 3);
    CHECK(back.units == picked.units);
    CHECK(back.offsets == picked.offsets);
    CHECK_THROWS_AS(batch.select(std::vector<std::size_t>{3}), shape_error);
}

TEST_CASE("validate names the sample, step and unit of bad content") {
    event_batch batch(4, 3, 2);
    batch.add_sample(std::vector<std::uint32_t>{1}, std::vector<std::uint32_t>{2}, {}, 0);
    batch.add_sample(std::vector<std::uint32_t>{2}, std::vector<std::uint32_t>{1}, {}, 1);
    batch.units[1] = 9;
    CHECK_THROWS_WITH_AS(batch.validate("input"), "input: sample 1: step 2: unit 9 >= n_units 3",
                         data_error);
    batch.units[1] = 1;
    batch.labels[0] = 4;
    CHECK_THROWS_WITH_AS(batch.validate("input"), doctest::Contains("label 4 outside [0, 2)"),
                         data_error);
}

// Tests of data/binning.hpp against hand-computed bins: half-open edges, collapse and count
// modes, the released code's numpy.digitize edges, step counts and bad options.
#include "common.hpp"

#include <doctest/doctest.h>
#include <spikegrad/data/binning.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <utility>
#include <vector>

using namespace spikegrad;
using namespace test_data;

namespace {

/// (step, unit, value) of every event of sample b.
std::vector<std::tuple<std::size_t, std::uint32_t, float>> cells(const event_batch& batch,
                                                                 std::size_t b) {
    std::vector<std::tuple<std::size_t, std::uint32_t, float>> out;
    const auto view = batch.sample(b);
    for (std::size_t t = 0; t < batch.n_steps; ++t)
        for (std::size_t e = view.begin(t); e < view.end(t); ++e)
            out.emplace_back(t, view.units[e], view.value(e));
    return out;
}

using cell = std::tuple<std::size_t, std::uint32_t, float>;

}  // namespace

TEST_CASE("half-open bins put time t in bin floor(t / dt) and drop t >= n_steps dt") {
    spike_dataset data = make(3, 10, time_unit::steps, 1);
    add(data, {{0.f, 0}, {0.999f, 1}, {1.f, 0}, {2.5f, 2}, {9.999f, 1}, {10.f, 0}, {12.f, 2}}, 0);
    const event_batch batch = bin_events(data, {.dt_ms = 1.0});
    REQUIRE(batch.n_steps == 10);
    CHECK(cells(batch, 0) ==
          std::vector<cell>{{0, 0, 1.f}, {0, 1, 1.f}, {1, 0, 1.f}, {2, 2, 1.f}, {9, 1, 1.f}});
    CHECK(batch.binary());
    batch.validate();
}

TEST_CASE("half-open bins of 2.5 steps split times at 2.5, 5 and 7.5") {
    spike_dataset data = make(1, 10, time_unit::steps, 1);
    add(data, {{2.4f, 0}, {2.5f, 0}, {4.99f, 0}, {5.f, 0}, {7.5f, 0}}, 0);
    const event_batch batch = bin_events(data, {.dt_ms = 2.5});
    REQUIRE(batch.n_steps == 4);
    CHECK(cells(batch, 0) == std::vector<cell>{{0, 0, 1.f}, {1, 0, 1.f}, {2, 0, 1.f}, {3, 0, 1.f}});
}

TEST_CASE("several spikes of one unit in one bin collapse to one spike") {
    spike_dataset data = make(2, 4, time_unit::steps, 1);
    add(data, {{1.1f, 0}, {1.2f, 1}, {1.5f, 0}, {1.9f, 0}, {3.f, 0}}, 0);
    const event_batch batch = bin_events(data, {.dt_ms = 1.0});
    CHECK(cells(batch, 0) == std::vector<cell>{{1, 0, 1.f}, {1, 1, 1.f}, {3, 0, 1.f}});
    CHECK(batch.n_events() == 3);
}

TEST_CASE("count mode keeps the number of spikes per bin and unit as the event value") {
    spike_dataset data = make(2, 4, time_unit::steps, 1);
    add(data, {{1.1f, 0}, {1.2f, 1}, {1.5f, 0}, {1.9f, 0}, {3.f, 0}}, 0);
    const event_batch batch = bin_events(data, {.dt_ms = 1.0, .count = true});
    CHECK_FALSE(batch.binary());
    CHECK(cells(batch, 0) == std::vector<cell>{{1, 0, 3.f}, {1, 1, 1.f}, {3, 0, 1.f}});
}

TEST_CASE("numpy digitize edges never use bin 0 and drop times at or past the last edge") {
    // edges = linspace(0, 5, 5) = {0, 1.25, 2.5, 3.75, 5}; digitize gives i with
    // edges[i-1] <= t < edges[i], and 5 for t >= 5 (outside the 5 bins).
    spike_dataset data = make(1, 5, time_unit::steps, 1);
    add(data, {{0.f, 0}, {1.2f, 0}, {1.3f, 0}, {2.5f, 0}, {4.9f, 0}, {5.f, 0}}, 0);
    const event_batch batch =
        bin_events(data, {.dt_ms = 1.0, .edges = bin_edges::digitize_linspace});
    REQUIRE(batch.n_steps == 5);
    CHECK(cells(batch, 0) == std::vector<cell>{{1, 0, 1.f}, {2, 0, 1.f}, {3, 0, 1.f}, {4, 0, 1.f}});
}

TEST_CASE("n_steps defaults to ceil(duration / dt), SHD's 1.4 s at 1.4 / 100 s giving 100") {
    const spike_dataset shd = make(700, 1.4, time_unit::seconds, 20);
    CHECK(binned_steps(shd, {.dt_ms = 1400.0 / 100}) == 100);
    const spike_dataset ten = make(1, 10, time_unit::steps, 1);
    CHECK(binned_steps(ten, {.dt_ms = 3.0}) == 4);
    CHECK(binned_steps(ten, {.dt_ms = 1.0}) == 10);
    CHECK(binned_steps(ten, {.dt_ms = 1.0, .n_steps = 200}) == 200);
}

TEST_CASE("seconds bin at SHD's dt: 0.0142 s is bin 1 and 1.3999 s is bin 99") {
    spike_dataset data = make(700, 1.4, time_unit::seconds, 20);
    add(data, {{0.0142f, 699}, {1.3999f, 3}, {0.f, 0}}, 19);
    const event_batch batch = bin_events(data, {.dt_ms = 1400.0 / 100});
    CHECK(cells(batch, 0) == std::vector<cell>{{0, 0, 1.f}, {1, 699, 1.f}, {99, 3, 1.f}});
    CHECK(batch.labels == std::vector<std::int32_t>{19});
    CHECK(batch.n_classes == 20);
}

TEST_CASE("a zero, negative or NaN dt raises option_error") {
    const spike_dataset data = make(1, 10, time_unit::steps, 1);
    CHECK_THROWS_AS(bin_events(data, {.dt_ms = 0}), option_error);
    CHECK_THROWS_AS(bin_events(data, {.dt_ms = -1}), option_error);
    CHECK_THROWS_AS(bin_events(data, {.dt_ms = std::numeric_limits<double>::quiet_NaN()}),
                    option_error);
}

TEST_CASE("binning keeps sample order and labels and its raster holds the collapsed spikes") {
    const spike_dataset data = continuous_dataset(20, 7, 50, 3, 11);
    const event_batch batch = bin_events(data, {.dt_ms = 1.0});
    REQUIRE(batch.n_samples == 20);
    CHECK(batch.labels == data.labels());
    batch.validate();
    const auto raster = raster_from_events(batch);
    for (std::size_t b = 0; b < data.size(); ++b) {
        // Independent reference: the set of (floor(t), unit) cells of the sample.
        std::set<std::pair<std::size_t, std::uint32_t>> expected;
        const auto s = data.sample(b);
        for (std::size_t e = 0; e < s.size(); ++e)
            expected.insert({static_cast<std::size_t>(std::floor(s.times[e])), s.units[e]});
        double total = 0;
        for (std::size_t t = 0; t < batch.n_steps; ++t)
            for (std::size_t u = 0; u < data.n_units(); ++u) {
                const float x = raster(t, b, u);
                CHECK((x == 0.f || x == 1.f));
                CHECK((x == 1.f) == (expected.count({t, std::uint32_t(u)}) == 1));
                total += x;
            }
        CHECK(total == static_cast<double>(expected.size()));
    }
}

TEST_CASE("binning a subset equals selecting the same samples of the binned whole") {
    const spike_dataset data = continuous_dataset(12, 5, 30, 2, 5);
    const std::vector<std::size_t> picks{7, 2, 11};
    const event_batch from_subset = bin_events(data.subset(picks), {.dt_ms = 2.0});
    const event_batch selected = bin_events(data, {.dt_ms = 2.0}).select(picks);
    CHECK(from_subset.offsets == selected.offsets);
    CHECK(from_subset.units == selected.units);
    CHECK(from_subset.labels == selected.labels);
}

TEST_CASE("bin_events counts the events outside its bins and the samples they empty") {
    spike_dataset data = make(2, 10, time_unit::steps, 1);
    add(data, {{1.0f, 0}, {4.5f, 1}, {7.0f, 0}, {9.5f, 1}}, 0);  // two events past step 5
    add(data, {{6.0f, 0}, {8.0f, 1}}, 0);                         // every event past step 5
    add(data, {}, 0);                                             // empty from the start
    const event_batch batch = bin_events(data, {.dt_ms = 1.0, .n_steps = 5});
    CHECK(batch.dropped_events == 4);
    CHECK(batch.emptied_samples == 1);
    CHECK(batch.n_events() == 2);
    const event_batch whole = bin_events(data, {.dt_ms = 1.0});
    CHECK(whole.dropped_events == 0);
    CHECK(whole.emptied_samples == 0);
}

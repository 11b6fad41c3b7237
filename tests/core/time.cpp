// Time has one owner: a dataset's unit, the binning's dt_ms, the batch's grid and the network's
// dt agree or raise; decay factors and delay bounds come from the grid (closed forms).
#include "../data/common.hpp"

#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/synthetic/isi.hpp>
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace spikegrad;
using test_data::add;
using test_data::contains;
using test_data::make;

TEST_CASE("time_grid converts ms and steps and gives exp(-dt / tau)") {
    const time_grid grid{14.0, 100};
    CHECK(grid.duration_ms() == doctest::Approx(1400.0));
    CHECK(grid.steps(896.0) == doctest::Approx(64.0));
    CHECK(grid.ms(3.0) == doctest::Approx(42.0));
    CHECK(grid.decay(20.0) == doctest::Approx(std::exp(-14.0 / 20.0)).epsilon(1e-15));
    CHECK_THROWS_AS((void)time_grid{}.decay(20.0), option_error);
    CHECK(same_step(1400.0 / 100, 14.0));
    CHECK(!same_step(14.0, 14.1));
}

TEST_CASE("bin_events reads the dataset's unit: seconds, ms and steps of a known length agree") {
    spike_dataset seconds = make(3, 1.4, time_unit::seconds, 2);
    add(seconds, {{0.0f, 0}, {0.0139f, 1}, {0.0141f, 2}, {1.399f, 0}}, 1);
    const spike_dataset ms = seconds.with_time_unit(time_unit::milliseconds);
    const event_batch a = bin_events(seconds, {.dt_ms = 14.0});
    const event_batch b = bin_events(ms, {.dt_ms = 14.0});
    CHECK(a.n_steps == 100);
    CHECK(a.dt_ms == 14.0);
    CHECK(a.grid().n_steps == 100);
    CHECK(a.offsets == b.offsets);
    CHECK(a.units == b.units);
    // Events at 0 and 13.9 ms share bin 0; 14.1 ms is bin 1; 1399 ms is bin 99.
    CHECK(a.sample(0).end(0) - a.sample(0).begin(0) == 2);
    CHECK(a.sample(0).end(1) - a.sample(0).begin(1) == 1);
    CHECK(a.sample(0).end(99) - a.sample(0).begin(99) == 1);
    // A dataset in steps of 2 ms binned at 4 ms puts two steps in a bin.
    const spike_dataset steps = seconds.with_time_unit(time_unit::steps, 0.002);
    CHECK(steps.ms_per_unit() == doctest::Approx(2.0));
    const event_batch c = bin_events(steps, {.dt_ms = 4.0});
    CHECK(c.n_steps == 350);
    CHECK(c.dt_ms == 4.0);
}

TEST_CASE("the ISI generator records its step length, so binning at dt_ms keeps one step a bin") {
    const auto task = make_isi_task({.n_points = 50, .n_steps = 200, .dt_ms = 2.0});
    CHECK(task.data.unit() == time_unit::steps);
    CHECK(task.data.ms_per_unit() == 2.0);
    const event_batch batch = bin_events(task.data, {.dt_ms = 2.0});
    CHECK(batch.n_steps == 200);
}

TEST_CASE("a network refuses a batch binned at another dt, naming both") {
    using net_t = network<dense<lif>, dense<readout>>;
    spike_dataset data = make(3, 1.4, time_unit::seconds, 2);
    add(data, {{0.1f, 0}, {0.5f, 2}}, 0);
    const event_batch batch = bin_events(data, {.dt_ms = 14.0});
    net_t wrong({3, 4, 2}, {.dt_ms = 1.0});
    try {
        (void)wrong.forward(batch);
        FAIL("no error");
    } catch (const shape_error& e) {
        CHECK(contains(e.what(), "dt_ms 14"));
        CHECK(contains(e.what(), "dt_ms 1"));
    }
    net_t right({3, 4, 2}, {.dt_ms = batch.dt_ms});
    CHECK_NOTHROW((void)right.forward(batch));
    // A hand-made batch (dt unknown) runs at the network's dt.
    event_batch by_hand(5, 3, 2);
    by_hand.add_sample(std::vector<std::uint32_t>{0, 1}, std::vector<std::uint32_t>{0, 2});
    CHECK_NOTHROW((void)wrong.forward(by_hand));
}

TEST_CASE("delay bounds are given in ms and become steps of the network's grid") {
    using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
    net_t at_14({3, 4, 2}, {.dt_ms = 14.0}, {.delay = {.max_ms = 896.0}}, {});
    net_t at_1({3, 4, 2}, {.dt_ms = 1.0}, {.delay = {.max_ms = 896.0}}, {});
    const auto& store14 = at_14.parameters();
    const auto& store1 = at_1.parameters();
    CHECK(store14.info(store14.find("layer0.delay")).upper == doctest::Approx(64.0));
    CHECK(store1.info(store1.find("layer0.delay")).upper == doctest::Approx(896.0));
    // The leak follows the grid too: the same tau gives exp(-dt / tau) per step.
    CHECK_THROWS_AS((net_t({3, 4, 2}, {.dt_ms = 14.0}, {.delay = {.max_ms = 1.0, .init_high = 2.0}}, {})),
                    option_error);
}

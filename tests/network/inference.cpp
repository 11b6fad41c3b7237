// Inference (forward without a tape, evaluate) keeps only two steps of each hidden layer's
// state; its outputs must equal, bit for bit, those of the taped forward pass that training
// uses (the whole [T, n] trace), for every neuron model and with delays. The two passes share
// the neuron's step, not the indexing of its state, so a wrong row would show here.
#include "../support/finite_differences.hpp"
#include "../support/smooth_spike.hpp"

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

using namespace spikegrad;
using spikegrad::testing::random_batch;
using spikegrad::testing::smooth_spike;

namespace {

template <class Net>
void check_inference_equals_taped_forward(Net& net, const event_batch& batch) {
    typename Net::tape kept;
    const auto taped = net.forward(batch, kept);
    const auto taped_activity = net.activity();
    const auto plain = net.forward(batch);
    REQUIRE(plain.shape() == taped.shape());
    std::size_t differ = 0;
    for (std::size_t k = 0; k < plain.size(); ++k) differ += plain.data()[k] != taped.data()[k];
    CHECK(differ == 0);
    // the hidden layers' spikes too, not only the readout
    for (std::size_t l = 0; l + 1 < taped_activity.size(); ++l) {
        CAPTURE(l);
        CHECK(net.activity()[l].per_neuron == taped_activity[l].per_neuron);
    }
    std::size_t spikes = 0;
    for (std::size_t l = 0; l + 1 < taped_activity.size(); ++l)
        for (auto c : taped_activity[l].per_neuron) spikes += c;
    CHECK(spikes > 0);  // a silent network would compare nothing
    // evaluate (no tape) against train_step's loss (taped forward)
    const auto evaluated = net.evaluate(batch, max_membrane_cross_entropy{});
    const auto trained = net.train_step(batch, max_membrane_cross_entropy{});
    CHECK(evaluated.loss_sum == trained.loss_sum);
    CHECK(evaluated.correct == trained.correct);
}

}  // namespace

TEST_CASE("inference with two steps of state equals the taped forward pass bit for bit") {
    const auto batch = random_batch(6, 40, 12, 4, 0.2, 3);
    SUBCASE("LIF, binary spikes, axonal delays") {
        network<dense<lif, fast_sigmoid, axonal_delay>, dense<lif, fast_sigmoid>, dense<readout>>
            net({12, 16, 10, 4}, {.dt_ms = 1.0, .seed = 5},
                {.delay = {.max_ms = 8}, .init_scale = 4}, {.init_scale = 3}, {});
        check_inference_equals_taped_forward(net, batch);
    }
    SUBCASE("adaptive LIF (two state channels) and CUBA LIF") {
        network<dense<adaptive_lif, fast_sigmoid>, dense<cuba_lif, fast_sigmoid>, dense<readout>>
            net({12, 16, 10, 4}, {.dt_ms = 1.0, .seed = 6}, {.init_scale = 4}, {.init_scale = 4},
                {});
        check_inference_equals_taped_forward(net, batch);
    }
    SUBCASE("SRM alpha, real-valued spikes of a smooth surrogate") {
        network<dense<srm_alpha, fast_sigmoid>, dense<lif, smooth_spike>, dense<readout>> net(
            {12, 16, 10, 4}, {.dt_ms = 1.0, .seed = 7}, {.init_scale = 4}, {.init_scale = 3}, {});
        check_inference_equals_taped_forward(net, batch);
    }
}

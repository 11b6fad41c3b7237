// Expected error: "this loss reads the membrane"
#include <spikegrad/spikegrad.hpp>
int main() {
    spikegrad::network<spikegrad::dense<spikegrad::lif>, spikegrad::dense<spikegrad::lif>> net({1, 1, 1});
    net.train_step(spikegrad::event_batch(1, 1, 1), spikegrad::final_membrane_cross_entropy{});
}

// Expected error: "this loss reads output spikes"
#include <spikegrad/spikegrad.hpp>
int main() {
    spikegrad::network<spikegrad::dense<spikegrad::lif>, spikegrad::dense<spikegrad::readout>> net({1, 1, 1});
    net.train_step(spikegrad::event_batch(1, 1, 1), spikegrad::spikemax{});
}

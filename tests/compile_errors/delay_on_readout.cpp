// Expected error: "axonal delays need a spiking neuron"
#include <spikegrad/spikegrad.hpp>
int main() { spikegrad::network<spikegrad::dense<spikegrad::lif>, spikegrad::dense<spikegrad::readout, spikegrad::fast_sigmoid, spikegrad::axonal_delay>> net({1, 1, 1}); }

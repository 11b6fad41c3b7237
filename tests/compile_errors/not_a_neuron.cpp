// Expected error: "Neuron is not a neuron policy"
#include <spikegrad/spikegrad.hpp>
struct not_a_neuron {};
int main() { spikegrad::network<spikegrad::dense<not_a_neuron>, spikegrad::dense<spikegrad::readout>> net({1, 1, 1}); }

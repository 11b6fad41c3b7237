// Expected error: "every layer but the last must spike"
#include <spikegrad/spikegrad.hpp>
int main() { spikegrad::network<spikegrad::dense<spikegrad::readout>, spikegrad::dense<spikegrad::readout>> net({1, 1, 1}); }

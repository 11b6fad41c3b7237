// Expected error: "Surrogate is not a surrogate policy"
#include <spikegrad/spikegrad.hpp>
struct not_a_surrogate { double grad(double x) const { return x; } };
int main() { spikegrad::network<spikegrad::dense<spikegrad::lif, not_a_surrogate>, spikegrad::dense<spikegrad::readout>> net({1, 1, 1}); }

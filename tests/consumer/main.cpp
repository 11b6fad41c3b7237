// Builds against an installed spikegrad and runs one forward pass.
#include <spikegrad/spikegrad.hpp>

#include <cstdio>

int main() {
    using namespace spikegrad;
    spike_dataset_placeholder_check();
    return 0;
}

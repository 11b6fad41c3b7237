// libFuzzer target: load_checkpoint (train/checkpoint.hpp) with an Adam optimiser. The target
// rewrites the input's last 8 bytes to the checksum of the rest before loading, so mutations
// reach the parser and the checks behind the checksum (which any other change fails at once).
// Odd-length inputs are loaded as they are, so the checksum path is fuzzed too. A load that
// succeeds is followed by a forward pass, a training step and an optimiser step.
#include "support.hpp"

#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace spikegrad;
    static const std::string path = fuzz::scratch_file("input.ckpt");
    std::vector<std::uint8_t> bytes(data, data + size);
    if (size >= 8 && size % 2 == 0) {
        const std::string body(reinterpret_cast<const char*>(data), size - 8);
        const std::uint64_t hash = detail::checkpoint_writer::fnv1a(body);
        std::memcpy(bytes.data() + size - 8, &hash, 8);
    }
    fuzz::write_file(path, bytes.data(), bytes.size());
    auto net = fuzz::make_net();
    optimizer<adam> opt(net.parameters(), 1e-2);
    try {
        load_checkpoint(path, net, &opt);
    } catch (const spikegrad::error&) {
        return 0;
    }
    try {
        fuzz::exercise(net);
        opt.step(net.parameters(), net.gradients());
    } catch (const spikegrad::error&) {
    }
    return 0;
}

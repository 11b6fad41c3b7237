// libFuzzer target: io::load_parameters_npy. The input is up to seven .npy files separated by
// the line "#next-file#" (W0, b0, d0, tau0, W1, b1, tau1 in that order; an empty part leaves
// the file out). A load that succeeds is followed by a forward pass and a training step, so
// values the loader lets through (delays, time constants) reach the kernels.
#include "support.hpp"

#include <spikegrad/io/parameters_npy.hpp>

#include <array>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace spikegrad;
    static const std::array<const char*, 7> stems = {"W0", "b0", "d0", "tau0", "W1", "b1", "tau1"};
    static const std::string folder = fuzz::scratch_file("parameters");
    static const bool made = std::filesystem::create_directories(folder) || true;
    (void)made;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string_view separator = "\n#next-file#\n";
    std::size_t start = 0;
    for (std::size_t k = 0; k < stems.size(); ++k) {
        const std::string path = folder + "/" + stems[k] + ".npy";
        std::size_t end = start <= input.size() ? input.find(separator, start) : input.npos;
        if (end == input.npos) end = input.size();
        if (start < input.size() && end > start)
            fuzz::write_file(path, data + start, end - start);
        else
            std::filesystem::remove(path);
        start = end + separator.size();
    }
    auto net = fuzz::make_net();
    try {
        io::load_parameters_npy(net, folder);
    } catch (const spikegrad::error&) {
        return 0;
    }
    try {
        fuzz::exercise(net);
    } catch (const spikegrad::error&) {
    }
    return 0;
}

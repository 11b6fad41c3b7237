// libFuzzer target: the .npy reader (io/npy.hpp) on arbitrary bytes. Every failure must be a
// spikegrad::error; anything else (a crash, a sanitizer report, another exception) is a bug.
#include "support.hpp"

#include <spikegrad/io/npy.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace spikegrad;
    static const std::string path = fuzz::scratch_file("input.npy");
    fuzz::write_file(path, data, size);
    // One reader a run (each opens the file), chosen by the input's length.
    try {
        switch (size % 4) {
            case 0: {
                const auto any = io::load_npy_any(path);
                (void)any.as_doubles();
                (void)any.values<std::int64_t>();
                (void)any.values<bool>();
                if (any.rank() == 2) (void)any.to_tensor<float, 2>();
                break;
            }
            case 1: (void)io::load_npy<float, 2>(path); break;
            case 2: (void)io::load_npy<std::uint8_t, 1>(path); break;
            default: (void)io::load_npy_scalar<double>(path); break;
        }
    } catch (const spikegrad::error&) {
    }
    return 0;
}

// Writes the fuzz targets' seed corpus with spikegrad's own writers: fuzz_make_seeds <corpus>
// fills <corpus>/<target>/ (committed as fuzz/corpus/). Rerun it when a format changes.
#include "support.hpp"

#include <spikegrad/io/npy.hpp>
#include <spikegrad/io/parameters_npy.hpp>
#if SPIKEGRAD_FUZZ_HDF5
#include <spikegrad/data/shd.hpp>
#endif

#include <array>
#include <cstdio>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) { return spikegrad::io::read_file(path); }

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace spikegrad;
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_seeds <corpus folder>\n");
        return 2;
    }
    const fs::path corpus = argv[1];
    const std::string tmp = fuzz::scratch_file("seed");

    // .npy: every dtype family and a few ranks.
    io::save_npy(tmp, tensor<float, 2>({2, 3}, 1.5f));
    put(corpus / "npy", "float32_2d.npy", slurp(tmp));
    io::save_npy(tmp, tensor<std::int64_t, 1>({4}, -7));
    put(corpus / "npy", "int64_1d.npy", slurp(tmp));
    io::save_npy(tmp, tensor<std::uint8_t, 1>({3}, 1));
    put(corpus / "npy", "uint8_1d.npy", slurp(tmp));
    io::save_npy_scalar(tmp, 2.5);
    put(corpus / "npy", "double_0d.npy", slurp(tmp));
    io::save_npy(tmp, tensor<double, 3>({1, 2, 2}, 0.25));
    put(corpus / "npy", "double_3d.npy", slurp(tmp));

    // Parameter folders: the fuzz network's own files, joined by the separator.
    auto net = fuzz::make_net();
    const std::string folder = fuzz::scratch_file("seed_parameters");
    io::save_parameters_npy(net, folder);
    const std::array<const char*, 7> stems = {"W0", "b0", "d0", "tau0", "W1", "b1", "tau1"};
    std::string joined;
    for (std::size_t k = 0; k < stems.size(); ++k) {
        const std::string path = folder + "/" + stems[k] + ".npy";
        if (k > 0) joined += "\n#next-file#\n";
        if (fs::exists(path)) joined += slurp(path);
    }
    put(corpus / "parameters_npy", "all_files", joined);
    // Only the weights (the other files are optional).
    put(corpus / "parameters_npy", "weights_only",
        slurp(folder + "/W0.npy") + "\n#next-file#\n\n#next-file#\n\n#next-file#\n\n#next-file#\n" +
            slurp(folder + "/W1.npy"));

    // Checkpoints: with and without Adam state, after a training step.
    optimizer<adam> opt(net.parameters(), 1e-2);
    fuzz::exercise(net);
    opt.step(net.parameters(), net.gradients());
    save_checkpoint(tmp, net, &opt);
    std::string with_state = slurp(tmp);
    if (with_state.size() % 2 != 0) with_state.insert(with_state.size() - 8, 1, '\0');
    put(corpus / "checkpoint", "with_adam.ckpt", with_state);
    save_checkpoint(tmp, net);
    put(corpus / "checkpoint", "parameters_only.ckpt", slurp(tmp));

    // Transforms and structured SHD inputs: bytes the harness turns into datasets.
    std::string pattern;
    for (int k = 0; k < 256; ++k) pattern += static_cast<char>((k * 37 + 11) & 0xFF);
    put(corpus / "transforms", "pattern", pattern);
    put(corpus / "transforms", "zeros", std::string(128, '\0'));
    put(corpus / "shd", "structured_pattern", std::string(1, '\0') + pattern);
    put(corpus / "shd", "structured_ones", std::string(1, '\0') + std::string(200, '\x01'));
#if SPIKEGRAD_FUZZ_HDF5
    // Raw mode: a valid file of two samples (float32 and float16 times), after 6 option bytes.
    spike_dataset data(8, 1.4, time_unit::seconds, {"a", "b"});
    data.add_sample(std::vector<float>{0.1f, 0.2f, 0.9f}, std::vector<std::uint32_t>{1, 2, 7}, 0);
    data.add_sample(std::vector<float>{0.05f}, std::vector<std::uint32_t>{3}, 1);
    const std::string options(6, '\0');
    write_shd(tmp, data);
    put(corpus / "shd", "raw_float32.h5", std::string(1, '\x01') + options + slurp(tmp));
    write_shd(tmp, data, {}, {.time_type = shd_time_type::float16});
    put(corpus / "shd", "raw_float16.h5", std::string(1, '\x01') + options + slurp(tmp));
#endif
    std::printf("fuzz_make_seeds: wrote the corpus to %s\n", corpus.c_str());
    return 0;
}

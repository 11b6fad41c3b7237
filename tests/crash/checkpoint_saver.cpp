// Helper of the crash test (kill_during_save.py): `save <path>` writes checkpoints to <path>
// in an endless loop, the n-th with every weight and every Adam state value equal to n and the
// optimiser at step n, continuing from the n on disk; `check <path>` loads the file and prints
// its n, or fails when the file is not one complete checkpoint.
#include <spikegrad/spikegrad.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

using namespace spikegrad;

namespace {

// About 0.8 MB of parameters and twice that of Adam state: a save takes long enough that
// most kills land inside one.
using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;

net_t make() { return net_t({200, 1000, 10}, {.seed = 7, .threads = 1}, {.delay = {.max_ms = 8.}}, {}); }

/// n when the file is the complete checkpoint number n; throws or returns -1 otherwise.
long long held(const std::string& path, net_t& net, optimizer<adam>& opt) {
    load_checkpoint(path, net, &opt);
    const auto n = static_cast<float>(opt.steps());
    auto all_n = [n](const auto& values) {
        return std::all_of(values.begin(), values.end(), [n](float v) { return v == n; });
    };
    const auto& store = net.parameters();
    const bool whole = all_n(store.values(store.find("layer0.weight"))) &&
                       all_n(store.values(store.find("layer1.weight"))) &&
                       all_n(opt.slots()[0]) && all_n(opt.slots()[1]);
    return whole ? static_cast<long long>(opt.steps()) : -1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: checkpoint_saver save|check <path>\n");
        return 2;
    }
    const std::string mode = argv[1], path = argv[2];
    auto net = make();
    optimizer<adam> opt(net.parameters(), 1e-3);
    try {
        if (mode == "check") {
            const long long n = held(path, net, opt);
            if (n < 0) {
                std::fprintf(stderr, "%s: a checkpoint whose values are not all its step\n", path.c_str());
                return 1;
            }
            std::printf("%lld\n", n);
            return 0;
        }
        std::size_t n = 0;
        if (std::filesystem::exists(path)) {
            const long long on_disk = held(path, net, opt);
            if (on_disk < 0) return 1;
            n = static_cast<std::size_t>(on_disk);
        }
        auto& store = net.parameters();
        for (;;) {
            ++n;
            const auto v = static_cast<float>(n);
            for (const char* name : {"layer0.weight", "layer1.weight"})
                for (auto& w : store.values(store.find(name))) w = v;
            for (auto& slot : opt.slots()) std::fill(slot.begin(), slot.end(), v);
            opt.set_steps(n, 1.0);
            save_checkpoint(path, net, &opt);
            if (mode == "once") return 0;
        }
    } catch (const error& e) {
        std::fprintf(stderr, "checkpoint_saver: %s\n", e.what());
        return 1;
    }
}

// Memory and time per training sample of the exact event-driven engine against surrogate BPTT
// on 700-128-128-20 at T = 100 and T = 1000 steps of 1 ms (issue 13). Inputs: Poisson spikes
// of every input unit at `rate_hz`; both engines get the same spike times (BPTT: on the 1 ms
// grid). Hidden weights are scaled so that the hidden layers fire a few % of neuron-ms; the
// program prints the measured activity of both engines next to the numbers, since the engines'
// neurons differ (CUBA LIF with tau_s = 5 ms here, LIF in the BPTT engine).
//
//   bench_event_driven [samples] [threads] [rate_hz] [event_scale] [bptt_scale] [bptt_scale2]
//   (SPIKEGRAD_BENCH_ONLY=exact_grid1ms,bptt runs only the engines named)
// Times are process CPU time per sample (run with threads = 1 to compare engines). Memory:
// `tape_bytes` is what each engine keeps of one sample's forward pass for its backward pass
// (event engine: event_tape::bytes(); BPTT: every layer's trace and spike lists, measured by
// network::memory()); `scratch_bytes` is the transient of the backward pass on top of it (event
// engine: the largest layer's rebuilt events; BPTT: one thread's [T, width] buffers). The last
// lines print the ratios against BPTT.
#include <spikegrad/engine/event_driven.hpp>
#include <spikegrad/spikegrad.hpp>
#include <spikegrad/train/optimizer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

using namespace spikegrad;

namespace {
/// CPU time of this process in ms: the machine is shared, so wall time measures the others too.
double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}
}  // namespace

int main(int argc, char** argv) {
    // SPIKEGRAD_BENCH_ONLY=name[,name...] runs only those engines (for profiling one of them)
    const char* only = std::getenv("SPIKEGRAD_BENCH_ONLY");
    auto selected = [only](const std::string& name) {
        if (!only) return true;
        const std::string list = std::string(",") + only + ",";
        return list.find("," + name + ",") != std::string::npos;
    };
    const std::size_t samples = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 32;
    const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    const double rate_hz = argc > 3 ? std::atof(argv[3]) : 10;
    const double event_scale = argc > 4 ? std::atof(argv[4]) : 1.0;
    const double bptt_scale = argc > 5 ? std::atof(argv[5]) : 8.0;
    const double bptt_scale2 = argc > 6 ? std::atof(argv[6]) : 5.0;  // second hidden layer
    std::printf("T_steps,engine,cpu_ms_per_sample,median_ms_per_sample,tape_bytes,"
                "scratch_bytes,hidden1_pct,hidden2_pct,input_spikes\n");
    struct row {
        std::size_t T;
        std::string engine;
        double ms;
        std::size_t tape, scratch;
    };
    std::vector<row> rows;
    for (std::size_t T : {std::size_t(100), std::size_t(1000)}) {
        rng random(7);
        std::vector<timed_spikes<float>> set(samples);
        event_batch binned(T, 700, 20);
        binned.dt_ms = 1.0;
        std::size_t input_spikes = 0;
        for (auto& s : set) {
            std::vector<std::pair<float, std::uint32_t>> spikes;
            for (std::uint32_t u = 0; u < 700; ++u) {
                double t = 0;
                for (;;) {
                    t += -std::log(1 - random.uniform()) * 1000.0 / rate_hz;
                    if (t >= double(T)) break;
                    spikes.push_back({float(t), u});
                }
            }
            std::sort(spikes.begin(), spikes.end());
            std::vector<std::uint32_t> steps, units;
            for (auto [t, u] : spikes) {
                s.add(t, u);
                steps.push_back(std::min<std::uint32_t>(std::uint32_t(t), std::uint32_t(T - 1)));
                units.push_back(u);
            }
            s.label = static_cast<int>(random.below(20));
            binned.add_sample(steps, units, {}, s.label);
            input_spikes += spikes.size();
        }
        std::vector<std::size_t> all(samples);
        std::iota(all.begin(), all.end(), std::size_t(0));

        // every engine is set up first, then timed in interleaved rounds (the machine is
        // shared: a slow spell then hits every engine alike); each figure is the fastest
        // round, the median in its own column
        struct engine {
            std::string name;
            std::function<void()> step;  // one train_step + optimiser step, parameters restored
            std::size_t tape = 0, scratch = 0;
            double h1 = 0, h2 = 0;
            std::vector<double> ms;
        };
        std::vector<engine> engines;
        const double steps = double(samples) * 128.0 * double(T);
        const event_loss loss{.kind = event_loss_kind::max_voltage};
        // exact event-driven (and its grid variant, threshold tested every 1 ms as BPTT's
        // grid): max-over-time readout voltage cross-entropy
        auto add_event = [&](double grid_ms, bool compact, const char* name) {
            if (!selected(name)) return;
            // (`new`: the constructor's braced arguments do not pass through make_shared)
            std::shared_ptr<event_network<float>> net(new event_network<float>(
                {700, 128, 128, 20},
                {.duration_ms = double(T), .seed = 1, .threads = threads, .grid_ms = grid_ms,
                 .compact_tape = compact},
                {{.delay = true, .delay_init_ms = 5, .weight_mean = 0.02 * event_scale,
                  .weight_std = 0.25 * event_scale},
                 {.delay = true, .delay_init_ms = 5, .weight_mean = 0.035 * event_scale,
                  .weight_std = 0.6 * event_scale},
                 {.spiking = false, .weight_mean = 0, .weight_std = 0.2}}));
            auto opt = std::make_shared<optimizer<adam, float>>(net->parameters(), 1e-3);
            engine e{name};
            event_tape<float> tape;
            for (const auto& s : set) {
                net->forward(s, loss, tape);
                e.h1 += double(tape.layers[0].spikes.size());
                e.h2 += double(tape.layers[1].spikes.size());
            }
            e.h1 *= 100 / steps, e.h2 *= 100 / steps;
            auto saved = std::make_shared<std::vector<float>>(net->parameters().flat());
            engines.push_back(std::move(e));
            auto* out = &engines.back();  // engines is reserved: the address stays
            out->step = [net, opt, saved, &set, &all, loss, out]() {
                const auto result = net->train_step(set, all, loss);
                out->tape = std::max(out->tape, result.tape_bytes);
                out->scratch = std::max(out->scratch, result.scratch_bytes);
                opt->step(net->parameters(), net->gradients());
                net->parameters().flat() = *saved;
            };
        };
        engines.reserve(5);
        add_event(0.0, false, "exact");
        add_event(0.0, true, "exact_compact");
        add_event(1.0, false, "exact_grid1ms");
        add_event(1.0, true, "exact_grid1ms_compact");

        // surrogate BPTT: the same shape, interpolated axonal delays, max-membrane CE
        using net_t = network<dense<lif, fast_sigmoid, axonal_delay>,
                              dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
        std::shared_ptr<net_t> bptt;
        if (selected("bptt")) {
            bptt.reset(new net_t({700, 128, 128, 20},
                                 {.dt_ms = 1.0, .seed = 1, .threads = threads},
                                 {.delay = {.max_ms = 20}, .init_scale = bptt_scale},
                                 {.delay = {.max_ms = 20}, .init_scale = bptt_scale2}, {}));
            auto opt = std::make_shared<optimizer<adam, float>>(bptt->parameters(), 1e-3);
            auto saved = std::make_shared<std::vector<float>>(bptt->parameters().flat());
            engine e{"bptt"};
            e.step = [bptt, opt, saved, &binned]() {
                bptt->train_step(binned, max_membrane_cross_entropy{});
                opt->step(bptt->parameters(), bptt->gradients());
                bptt->parameters().flat() = *saved;
            };
            engines.push_back(std::move(e));
        }
        const std::size_t rounds = T == 100 ? 9 : 5;
        for (std::size_t r = 0; r < rounds; ++r)
            for (auto& e : engines) {
                const double t0 = cpu_ms();
                e.step();
                e.ms.push_back((cpu_ms() - t0) / double(samples));
            }
        if (bptt) {
            // what BPTT keeps per sample: x = v - theta of every neuron and step, the readout
            // membrane, the spike lists before and after the delays
            const auto memory = bptt->memory();
            const auto& active = bptt->activity();  // of the last step's batch
            auto& e = engines.back();
            e.tape = memory.tape_bytes, e.scratch = memory.scratch_bytes;
            e.h1 = 100 * active[0].rate(), e.h2 = 100 * active[1].rate();
        }
        for (auto& e : engines) {
            std::sort(e.ms.begin(), e.ms.end());
            std::printf("%zu,%s,%.3f,%.3f,%zu,%zu,%.2f,%.2f,%.0f\n", T, e.name.c_str(), e.ms.front(),
                        e.ms[e.ms.size() / 2], e.tape, e.scratch, e.h1, e.h2,
                        double(input_spikes) / double(samples));
            rows.push_back({T, e.name, e.ms.front(), e.tape, e.scratch});
        }
        std::fflush(stdout);
    }
    std::printf("\nratios against surrogate BPTT at the same T (> 1: the event engine is "
                "smaller / faster)\nT_steps,engine,tape_ratio,tape_plus_scratch_ratio,speed_ratio\n");
    for (const auto& r : rows) {
        if (r.engine == "bptt") continue;
        for (const auto& b : rows)
            if (b.T == r.T && b.engine == "bptt")
                std::printf("%zu,%s,%.1f,%.1f,%.2f\n", r.T, r.engine.c_str(),
                            double(b.tape) / double(r.tape),
                            double(b.tape + b.scratch) / double(r.tape + r.scratch), b.ms / r.ms);
    }
    return 0;
}

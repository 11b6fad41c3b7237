// quickstart: spikegrad in one screen. Generate the paper's ISI task, bin it at 1 ms, train
// a 10 -> 100 -> 2 LIF network on spike timing, test it, save it.
#include <spikegrad/data/binning.hpp>
#include <spikegrad/data/split.hpp>
#include <spikegrad/data/synthetic/isi.hpp>
#include <spikegrad/spikegrad.hpp>

#include <cstdio>

int main() {
    using namespace spikegrad;

    // Data: 10 neurons whose spike pairs encode a class in their inter-spike interval.
    const auto task = make_isi_task({.n_points = 2000});
    const event_batch events = bin_events(task.data, {.dt_ms = 1.0});  // 1 ms steps, T = 1000
    const auto parts = split_by_fraction(events.n_samples);           // 60 / 15 / 15 %
    const auto train = events.select(parts.train), validation = events.select(parts.validation),
               test = events.select(parts.test);

    // Model: LIF hidden layer with a learnable shared time constant, leaky readout.
    using net_t = network<dense<lif, fast_sigmoid>, dense<readout>>;
    net_t net({10, 100, 2}, {.dt_ms = events.dt_ms, .seed = 1},  // the step binning chose
              {.neuron = {.tau_ms = 50, .train_tau = tau_training::shared, .tau_min_ms = 10,
                          .tau_max_ms = 200}},
              {.neuron = {.tau_ms = 500}});

    // Training: Nadam, cross-entropy on the final readout membrane, best model by validation.
    trainer<net_t, final_membrane_cross_entropy, nadam> fit(
        net, {.lr = 2e-3, .epochs = 15, .batch = 32, .progress = progress_mode::lines},
        {}, {}, {{.kind = parameter_kind::time_constant, .lr = 0.05}});
    fit.run(train, validation);

    const auto result = fit.evaluate(test);
    std::printf("test accuracy %.1f%%, learned tau %.1f ms\n", 100 * result.accuracy(),
                double(net.parameter("layer0.tau")(0)));
    save_checkpoint("isi_quickstart.ckpt", net);
    return 0;
}

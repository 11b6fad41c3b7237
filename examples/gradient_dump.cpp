// gradient_dump: cross-check spikegrad against another framework. Reads a network's
// parameters and one batch from .npy files, runs forward, the loss and BPTT, and writes the
// loss, the readout record and every gradient as .npy (contract in docs/gradient_dump.md).
//
//   gradient_dump --params DIR --input X.npy --labels y.npy --loss ce_final
//                 --surrogate fast_sigmoid:100 --beta 0.9 --theta 1 --reset subtract --out DIR
#include <spikegrad/io/npy.hpp>
#include <spikegrad/io/parameters_npy.hpp>
#include <spikegrad/spikegrad.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <variant>

using namespace spikegrad;

struct settings {
    std::string params, input, labels, loss = "ce_final", surrogate = "fast_sigmoid:100";
    std::string reset = "subtract", delay = "auto", out;
    double beta = 0.9, theta = 1.0, max_delay = 64.0, dt_ms = 1.0;
    int threads = 1;
};

using any_loss = std::variant<final_membrane_cross_entropy, max_membrane_cross_entropy,
                              count_cross_entropy, spikemax, spike_rate, count_mse>;

any_loss loss_named(const std::string& name) {
    if (name == "ce_final") return final_membrane_cross_entropy{};
    if (name == "ce_max") return max_membrane_cross_entropy{};
    if (name == "ce_count") return count_cross_entropy{};
    if (name == "spikemax") return spikemax{};
    if (name == "spikemax_softmax") return spikemax{.kind = spikemax::form::softmax};
    if (name == "spike_rate") return spike_rate{};
    if (name == "mse_count") return count_mse{};
    raise<option_error>("--loss '", name,
                        "' is unknown (ce_final, ce_max, ce_count, spikemax, spikemax_softmax, "
                        "spike_rate, mse_count)");
}

/// network<hidden x (Depth - 1), last>
template <std::size_t Depth, class Hidden, class Last, class... Built>
struct stack {
    using type = typename stack<Depth - 1, Hidden, Last, Hidden, Built...>::type;
};
template <class Hidden, class Last, class... Built>
struct stack<1, Hidden, Last, Built...> {
    using type = network<Built..., Last>;
};

template <std::size_t Depth, class Last, class Delay, class Loss>
void run(const settings& s, const std::vector<std::size_t>& sizes, const Loss& loss) {
    using hidden = dense<lif, any_surrogate, Delay>;
    using last = dense<Last, any_surrogate>;
    using net_t = typename stack<Depth, hidden, last>::type;
    const double tau = tau_from_beta(s.beta, s.dt_ms);
    const lif::params neuron{.tau_ms = tau, .theta = s.theta,
                             .reset = s.reset == "zero" ? reset_mode::zero : reset_mode::subtract};
    typename hidden::options h;
    h.neuron = neuron;
    h.surrogate = parse_surrogate(s.surrogate);
    if constexpr (Delay::enabled) {
        h.delay.max_ms = s.max_delay * s.dt_ms;
        h.delay.forward = s.delay == "shift" ? axonal_delay::mode::shift : axonal_delay::mode::interpolate;
    }
    typename last::options l;
    l.surrogate = h.surrogate;
    if constexpr (std::is_same_v<Last, readout>)
        l.neuron = {.tau_ms = tau};
    else
        l.neuron = neuron;
    auto make = [&]<std::size_t... I>(std::index_sequence<I...>) {
        return net_t(sizes, {.dt_ms = s.dt_ms, .threads = s.threads},
                     [&](std::size_t) { return h; }(I)..., l);
    };
    net_t net = make(std::make_index_sequence<Depth - 1>{});
    io::load_parameters_npy(net, s.params);

    const auto X = io::load_npy<float, 3>(s.input);  // [T, B, n_in]
    if (X.shape(2) != sizes.front())
        raise<shape_error>(s.input, ": ", X.shape(2), " inputs but W0 has ", sizes.front(), " rows");
    for (float x : X)
        if (x != 0.f && x != 1.f)
            raise<data_error>(s.input, ": inputs must be 0 or 1 (found ", x, ")");
    event_batch batch = events_from_raster(X, sizes.back());
    const auto y = io::load_npy<std::int64_t, 1>(s.labels);
    if (y.size() != batch.n_samples)
        raise<shape_error>(s.labels, ": ", y.size(), " labels for a batch of ", batch.n_samples);
    for (auto label : y) batch.labels.push_back(static_cast<std::int32_t>(label));

    typename net_t::tape tape;
    const auto record = net.forward(batch, tape);
    const auto result = evaluate_loss(loss, record, std::span<const std::int32_t>(batch.labels));
    net.backward(batch, tape, result.gradient);

    std::filesystem::create_directories(s.out);
    io::save_npy_scalar(s.out + "/loss.npy", static_cast<float>(result.value));
    tensor<float, 3> readout_tbn({record.shape(1), record.shape(0), record.shape(2)});
    for (std::size_t b = 0; b < record.shape(0); ++b)
        for (std::size_t t = 0; t < record.shape(1); ++t)
            for (std::size_t i = 0; i < record.shape(2); ++i) readout_tbn(t, b, i) = record(b, t, i);
    io::save_npy(s.out + "/readout.npy", readout_tbn);
    io::save_gradients_npy(net, s.out);
    std::printf("gradient_dump: %zu layers %s, loss %s = %.6g, %zu gradients written to %s\n",
                Depth, net.architecture().c_str(), Loss::name, double(result.value),
                net.parameters().count(), s.out.c_str());
}

template <class Last, class Delay, class Loss>
void dispatch_depth(const settings& s, const std::vector<std::size_t>& sizes, const Loss& loss) {
    switch (sizes.size() - 1) {
        case 1: return run<1, Last, Delay>(s, sizes, loss);
        case 2: return run<2, Last, Delay>(s, sizes, loss);
        case 3: return run<3, Last, Delay>(s, sizes, loss);
        case 4: return run<4, Last, Delay>(s, sizes, loss);
        default:
            raise<shape_error>("gradient_dump: ", sizes.size() - 1,
                               " layers found in --params; 1 to 4 are supported");
    }
}

int main(int argc, char** argv) {
    settings s;
    CLI::App app{"spikegrad gradient_dump: loss, readout record and every gradient of one batch"};
    app.add_option("--params", s.params, "folder with W0.npy, b0.npy, W1.npy, ... (d0.npy: delays)")
        ->required()->check(CLI::ExistingDirectory);
    app.add_option("--input", s.input, "X.npy: float32 [T, B, n_in] of 0/1")->required()
        ->check(CLI::ExistingFile);
    app.add_option("--labels", s.labels, "y.npy: int64 [B]")->required()->check(CLI::ExistingFile);
    app.add_option("--loss", s.loss, "ce_final, ce_max, ce_count, spikemax, spikemax_softmax, "
                                      "spike_rate or mse_count")->capture_default_str();
    app.add_option("--surrogate", s.surrogate, "name[:param], e.g. fast_sigmoid:100, arctan:2")
        ->capture_default_str();
    app.add_option("--beta", s.beta, "membrane leak per step (all layers)")->capture_default_str()
        ->check(CLI::Range(1e-9, 1.0 - 1e-9));
    app.add_option("--theta", s.theta, "firing threshold")->capture_default_str();
    app.add_option("--reset", s.reset, "subtract or zero")->capture_default_str()
        ->check(CLI::IsMember({"subtract", "zero"}));
    app.add_option("--delay", s.delay, "auto (delays when d0.npy exists), none, interpolate or shift")
        ->capture_default_str()->check(CLI::IsMember({"auto", "none", "interpolate", "shift"}));
    app.add_option("--max-delay", s.max_delay, "upper bound of the delays, in steps")->capture_default_str();
    app.add_option("--threads", s.threads, "threads (results are bit-identical for a given count)")
        ->capture_default_str();
    app.add_option("--out", s.out, "output folder (created)")->required();
    CLI11_PARSE(app, argc, argv);

    try {
        std::vector<std::size_t> sizes;
        for (std::size_t k = 0; std::filesystem::exists(s.params + "/W" + std::to_string(k) + ".npy"); ++k) {
            const auto W = io::load_npy_any(s.params + "/W" + std::to_string(k) + ".npy");
            if (W.rank() != 2)
                raise<shape_error>(s.params, "/W", k, ".npy: rank ", W.rank(), ", expected [n_in, n_out]");
            if (sizes.empty()) sizes.push_back(W.shape[0]);
            if (W.shape[0] != sizes.back())
                raise<shape_error>(s.params, "/W", k, ".npy: ", W.shape[0], " rows but the layer before has ",
                                   sizes.back(), " outputs");
            sizes.push_back(W.shape[1]);
        }
        if (sizes.empty()) raise<io_error>(s.params, ": no W0.npy");
        const bool delays = s.delay == "auto" ? std::filesystem::exists(s.params + "/d0.npy") : s.delay != "none";
        const any_loss loss = loss_named(s.loss);
        std::visit(
            [&](const auto& l) {
                using L = std::decay_t<decltype(l)>;
                using Last = std::conditional_t<L::reads == record_kind::spikes, lif, readout>;
                if (delays)
                    dispatch_depth<Last, axonal_delay>(s, sizes, l);
                else
                    dispatch_depth<Last, no_delay>(s, sizes, l);
            },
            loss);
    } catch (const spikegrad::error& e) {
        std::fprintf(stderr, "gradient_dump: %s\n", e.what());
        return 1;
    }
    return 0;
}

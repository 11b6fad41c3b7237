/// \file
/// spikegrad: the exact event-driven gradient engine (EventProp: Wunderlich and Pehle 2021,
/// Sci. Rep. 11:12829; with delays: Meszaros, Knight and Nowotny 2025, arXiv 2501.07331).
/// A feed-forward network of current-based LIF neurons with optional adaptive thresholds runs
/// in continuous time: between events the state moves in closed form, spike times are roots
/// of V - theta - B, and the backward pass carries the adjoint between the taped events in
/// closed form with jumps at spikes. Gradients for weights, axonal delays, thresholds and the
/// adaptation jump beta are exact (no surrogate, no time grid; `grid_ms` > 0 gives the
/// time-driven grid variant, which converges to them). See docs/event_driven.md.
#pragma once

#include "../config.hpp"
#include "../core/activity.hpp"
#include "../core/error.hpp"
#include "../core/parameters.hpp"
#include "../core/step_stats.hpp"
#include "../core/random.hpp"
#include "../simd/kernels.hpp"
#include "event/loss.hpp"
#include "event/propagator.hpp"
#include "event/tape.hpp"
#include "event/timed_batch.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace spikegrad {

/// One dense layer of the event engine: weights [n_in, n_out] and its neurons.
struct event_layer_options {
    double tau_m_ms = 20.0;
    double tau_s_ms = 5.0;
    /// Non-spiking leaky readout (the last layer only) for the voltage losses.
    bool spiking = true;
    double theta = 1.0;
    bool train_theta = false;
    double theta_min = 1e-3;
    /// Threshold adaptation: B jumps by `adaptation` (beta) at each spike, decays with
    /// tau_adapt_ms; 0 is plain LIF.
    double adaptation = 0.0;
    bool train_adaptation = false;
    double tau_adapt_ms = 100.0;
    /// Learnable time constants: one tau_m, one tau_s and (adaptive layers) one tau_adapt for
    /// the whole layer, starting at the values above, with exact gradients by the adjoint
    /// integral dL/dtau = int mu^T df/dtau dt (needs a forward replay in the backward pass,
    /// kept to O(sqrt(arrivals)) states by checkpointing); kept in [tau_min_ms, tau_max_ms].
    /// On a readout: the max-voltage readout by the same integral, the weighted-voltage one by
    /// the closed-form derivative of its arrival weights.
    bool train_tau = false;
    double tau_min_ms = 0.5;
    double tau_max_ms = 1000.0;
    /// A learnable axonal delay per neuron of this layer's output, in [0, delay_max_ms],
    /// initialised uniformly in [0, delay_init_ms].
    bool delay = false;
    double delay_init_ms = 0.0;
    double delay_max_ms = 100.0;
    /// Weights ~ N(weight_mean, weight_std) (absolute values: first-spike networks need a
    /// positive mean to fire at all).
    double weight_mean = 0.0;
    double weight_std = 1.0;
    /// A learnable delay per synapse into this layer (weights' shape [n_in, n_out]), in
    /// [0, synapse_delay_max_ms], initialised uniformly in [0, synapse_delay_init_ms]; it adds
    /// to the axonal delay of the source (if any). Each presynaptic spike then arrives n_out
    /// times, once per target, so the arrivals (and the work) grow n_out-fold.
    bool synapse_delay = false;
    double synapse_delay_init_ms = 0.0;
    double synapse_delay_max_ms = 100.0;
};

/// Settings of an event_network: window, time constants, adaptation, delays, initialisation.
struct event_network_options {
    /// The simulated window [0, duration_ms]; spikes and arrivals after it are dropped.
    double duration_ms = 100.0;
    std::uint64_t seed = 1;
    int threads = 0;
    /// A learnable delay per input unit (the DelGrad setting), in [0, input_delay_max_ms].
    bool input_delay = false;
    double input_delay_init_ms = 0.0;
    double input_delay_max_ms = 100.0;
    /// Grazing guard: a crossing with slope gdot below this (threshold units per ms) is
    /// counted, and its jump divides by this instead of gdot.
    double min_crossing_slope = 1e-9;
    /// Bracketing step for adaptive neurons as a fraction of min(tau_m, tau_s, tau_adapt).
    double bracket_fraction = 0.125;
    /// 0: exact crossing times. > 0: the grid variant: arrivals move to the next multiple of
    /// grid_ms and the threshold is tested only at those multiples (spike times on the grid;
    /// the state between grid points stays exact, no root finding), and the backward pass
    /// applies the exact engine's jumps and arrival credits at those times; it converges to
    /// the exact engine as grid_ms shrinks. Readouts stay exact between arrivals.
    double grid_ms = 0.0;
    /// Keep only the spikes on the tape (time, neuron, gap step: 8 bytes a spike in float);
    /// the backward pass rebuilds each layer's arrivals from the layer below and its
    /// pre-spike states by a replay of that layer (no crossing search), one layer at a time.
    /// Same gradients as the full tape (to rounding), about 10x less tape than a BPTT trace,
    /// at the cost of that replay. false: the tape also keeps arrivals and pre-spike states.
    bool compact_tape = false;
};

/// The exact event-driven network: continuous-time forward, EventProp adjoint, exact gradients.
template <class S = float>
class event_network {
public:
    using scalar_type = S;

    event_network(std::vector<std::size_t> sizes, event_network_options options,
                  std::vector<event_layer_options> layers)
        : sizes_(std::move(sizes)), options_(options), layer_options_(std::move(layers)) {
        if (sizes_.size() < 2) raise<shape_error>("event_network: need at least two sizes");
        if (layer_options_.size() != sizes_.size() - 1)
            raise<shape_error>("event_network: ", sizes_.size() - 1, " layers but ",
                               layer_options_.size(), " layer options");
        if (!(options_.duration_ms > 0))
            raise<option_error>("event_network: duration_ms ", options_.duration_ms,
                                " must be > 0");
        if (!(options_.grid_ms >= 0) || !std::isfinite(options_.grid_ms))
            raise<option_error>("event_network: grid_ms ", options_.grid_ms,
                                " must be 0 (exact crossings) or a finite step > 0");
        rng random(options_.seed);
        if (options_.input_delay)
            input_delay_ = store_.add("input.delay", parameter_kind::delay, {sizes_[0]}, 0.0,
                                      options_.input_delay_max_ms);
        for (std::size_t l = 0; l < layer_options_.size(); ++l) {
            const auto& o = layer_options_[l];
            if (!o.spiking && l + 1 != layer_options_.size())
                raise<option_error>("event_network: layer ", l,
                                    " is a readout; only the last layer may be");
            if (!(o.tau_m_ms > 0 && o.tau_s_ms > 0 && o.tau_adapt_ms > 0))
                raise<option_error>("event_network: layer ", l, ": time constants must be > 0");
            if (!(o.theta >= o.theta_min && o.theta_min > 0))
                raise<option_error>("event_network: layer ", l, ": theta ", o.theta,
                                    " must be >= theta_min > 0");
            if (o.adaptation < 0)
                raise<option_error>("event_network: layer ", l, ": adaptation ", o.adaptation,
                                    " must be >= 0");
            if (o.train_tau) {
                if (!(o.tau_min_ms > 0 && o.tau_max_ms >= o.tau_min_ms) ||
                    !std::isfinite(o.tau_max_ms))
                    raise<option_error>("event_network: layer ", l, ": tau range [",
                                        o.tau_min_ms, ", ", o.tau_max_ms,
                                        "] must satisfy 0 < tau_min_ms <= tau_max_ms < inf");
                for (double tau : {o.tau_m_ms, o.tau_s_ms, o.tau_adapt_ms})
                    if (tau < o.tau_min_ms || tau > o.tau_max_ms)
                        raise<option_error>("event_network: layer ", l, ": time constant ", tau,
                                            " ms outside the trainable range [", o.tau_min_ms,
                                            ", ", o.tau_max_ms, "]");
            }
            if (sizes_[l + 1] > event_tape<S>::max_neurons)
                raise<shape_error>("event_network: layer ", l, " has ", sizes_[l + 1],
                                   " neurons; at most ", event_tape<S>::max_neurons,
                                   " (the tape names a neuron in 16 bits)");
            const std::string prefix = "layer" + std::to_string(l);
            layer_state ls;
            ls.n_in = sizes_[l];
            ls.n_out = sizes_[l + 1];
            const bool adaptive = o.adaptation > 0 || o.train_adaptation;
            ls.prop = event::propagator<S>(o.tau_m_ms, o.tau_s_ms,
                                           adaptive ? o.tau_adapt_ms
                                                    : std::numeric_limits<double>::infinity());
            ls.adaptive = adaptive;
            ls.weight = store_.add(prefix + ".weight", parameter_kind::weight,
                                   {ls.n_in, ls.n_out});
            for (auto& w : store_.values(ls.weight))
                w = S(o.weight_mean + o.weight_std * random.normal());
            if (o.spiking) {
                ls.theta = store_.add(prefix + ".threshold", parameter_kind::threshold,
                                      {ls.n_out}, o.theta_min);
                for (auto& t : store_.values(ls.theta)) t = S(o.theta);
                ls.beta = store_.add(prefix + ".adaptation", parameter_kind::threshold,
                                     {ls.n_out}, 0.0);
                for (auto& b : store_.values(ls.beta)) b = S(o.adaptation);
            }
            if (o.train_tau) {
                auto add_tau = [&](const char* name, double value) {
                    const auto p = store_.add(prefix + "." + name, parameter_kind::time_constant,
                                              {1}, o.tau_min_ms, o.tau_max_ms);
                    store_.values(p)[0] = S(value);
                    return p;
                };
                ls.tau_m = add_tau("tau_m", o.tau_m_ms);
                ls.tau_s = add_tau("tau_s", o.tau_s_ms);
                if (adaptive && o.spiking) ls.tau_b = add_tau("tau_adapt", o.tau_adapt_ms);
            }
            if (o.synapse_delay) {
                if (double(ls.n_in) * double(ls.n_out) > double(std::numeric_limits<std::uint32_t>::max()))
                    raise<shape_error>("event_network: layer ", l, ": ", ls.n_in, " x ", ls.n_out,
                                       " synapses; per-synapse delays name a synapse in 32 bits");
                if (!(o.synapse_delay_max_ms >= 0) || !std::isfinite(o.synapse_delay_max_ms) ||
                    !(o.synapse_delay_init_ms >= 0) ||
                    o.synapse_delay_init_ms > o.synapse_delay_max_ms)
                    raise<option_error>("event_network: layer ", l, ": synapse delays need 0 <= "
                                        "synapse_delay_init_ms <= synapse_delay_max_ms < inf (",
                                        o.synapse_delay_init_ms, ", ", o.synapse_delay_max_ms, ")");
                ls.synapse_delay = store_.add(prefix + ".synapse_delay", parameter_kind::delay,
                                              {ls.n_in, ls.n_out}, 0.0, o.synapse_delay_max_ms);
                for (auto& d : store_.values(ls.synapse_delay))
                    d = S(o.synapse_delay_init_ms * random.uniform());
            }
            if (o.delay && l + 1 < layer_options_.size()) {
                ls.delay = store_.add(prefix + ".delay", parameter_kind::delay, {ls.n_out}, 0.0,
                                      o.delay_max_ms);
                for (auto& d : store_.values(*ls.delay)) d = S(o.delay_init_ms * random.uniform());
            }
            layers_.push_back(ls);
        }
        if (options_.input_delay)
            for (auto& d : store_.values(*input_delay_))
                d = S(options_.input_delay_init_ms * random.uniform());
        gradients_.assign(store_.size(), S(0));
    }

    parameter_store<S>& parameters() { return store_; }
    const parameter_store<S>& parameters() const { return store_; }
    std::vector<S>& gradients() { return gradients_; }
    const std::vector<S>& gradients() const { return gradients_; }
    const std::vector<std::size_t>& sizes() const { return sizes_; }
    const event_network_options& options() const { return options_; }
    std::size_t n_outputs() const { return sizes_.back(); }
    bool spiking_output() const { return layer_options_.back().spiking; }
    int threads() const { return options_.threads > 0 ? options_.threads : max_threads(); }

    /// The structure checkpoints compare (train/checkpoint.hpp): scalar, sizes, which layers
    /// spike and carry delays, input delays.
    std::string architecture() const {
        std::string out = std::is_same_v<S, float> ? "float" : "double";
        if (options_.input_delay) out += "|input_delay[" + std::to_string(sizes_[0]) + "]";
        for (std::size_t l = 0; l < layer_options_.size(); ++l) {
            const auto& o = layer_options_[l];
            out += std::string("|event_") + (o.synapse_delay ? "synapse_delay+" : "") +
                   (o.spiking ? "cuba_lif" : "readout") + (o.delay && l + 1 < layer_options_.size() ? "+delay" : "") + "[" +
                   std::to_string(sizes_[l]) + "->" + std::to_string(sizes_[l + 1]) + "]";
        }
        return out;
    }

    /// The settings that change what the network computes (checkpoints record and compare
    /// them, network/settings.hpp): the window, the grid and each layer's time constants.
    template <class Record>
    void describe_settings(Record& r) const {
        r.add("duration_ms", options_.duration_ms);
        r.add("grid_ms", options_.grid_ms);
        for (std::size_t l = 0; l < layer_options_.size(); ++l) {
            const std::string layer = "layer" + std::to_string(l);
            const auto& o = layer_options_[l];
            r.add(layer + ".tau_m_ms", o.tau_m_ms);
            r.add(layer + ".tau_s_ms", o.tau_s_ms);
            if (o.spiking) r.add(layer + ".tau_adapt_ms", o.tau_adapt_ms);
        }
    }

    /// Trainable flags: gradients of fixed thresholds / adaptations are zeroed after backward.
    bool trains(std::size_t parameter) const {
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            if (parameter == layers_[l].theta) return layer_options_[l].train_theta;
            if (parameter == layers_[l].beta) return layer_options_[l].train_adaptation;
        }
        return true;
    }

    /// Runs one sample; the tape then holds every layer's spikes (a full tape: also its
    /// arrivals and pre-spike states) and the output quantities `loss` reads.
    void forward(const timed_spikes<S>& sample, const event_loss& loss,
                 event_tape<S>& tape) const {
        check_sample(sample);
        check_loss(loss);
        tape.layers.resize(layers_.size());
        for (auto& layer : tape.layers) layer.clear();  // buffers kept between samples
        tape.grazing = 0;
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            // a compact tape runs each layer from the transient arrivals buffer
            auto& arrivals =
                options_.compact_tape ? tape.rebuilt.arrivals : tape.layers[l].arrivals;
            make_arrivals(sample, tape, l, arrivals);
            const bool last = l + 1 == layers_.size();
            if (!last || layer_options_[l].spiking)
                run_spiking(l, arrivals, tape);
            else if (loss.kind == event_loss_kind::max_voltage)
                run_readout_max(l, arrivals, tape);
            else
                run_readout_weighted(l, arrivals, tape, loss);
        }
        if (options_.compact_tape) tape.rebuilt.arrivals.clear();
        const std::size_t n = n_outputs();
        if (spiking_output()) {
            tape.first_spike_ms.assign(n, S(options_.duration_ms));
            tape.first_spike.assign(n, -1);
            const auto& spikes = tape.layers.back().spikes;
            for (std::size_t k = 0; k < spikes.size(); ++k) {
                const auto j = spikes[k].neuron;
                if (tape.first_spike[j] < 0 || spikes[k].time < tape.first_spike_ms[j]) {
                    tape.first_spike_ms[j] = spikes[k].time;
                    tape.first_spike[j] = static_cast<std::int64_t>(k);
                }
            }
        }
    }

    /// The loss of the taped sample; with `grad_out` its gradient w.r.t. the output quantities.
    S output_loss(const event_tape<S>& tape, const event_loss& loss, int label, S* grad_out,
                  S scale) const {
        const std::size_t n = n_outputs();
        if (loss.reads_spikes()) {
            std::vector<char> fired(n);
            for (std::size_t k = 0; k < n; ++k) fired[k] = tape.first_spike[k] >= 0;
            return loss.evaluate(tape.first_spike_ms.data(),
                                 reinterpret_cast<const bool*>(fired.data()), n, label, grad_out,
                                 scale);
        }
        return loss.evaluate(tape.scores.data(), static_cast<const bool*>(nullptr), n, label,
                             grad_out, scale);
    }

    /// The predicted class of a taped sample.
    std::size_t predict(const event_tape<S>& tape, const event_loss& loss) const {
        return loss.reads_spikes()
                   ? event_loss::predict(true, tape.first_spike_ms.data(), n_outputs())
                   : event_loss::predict(false, tape.scores.data(), n_outputs());
    }

    /// Backward pass of a taped sample: adds dL/dparameters to `grad` (the store's layout)
    /// given dL/d(output quantities) `grad_out`; with `input_grad`, adds dL/d(input spike
    /// time) per input spike. Returns the grazing crossings met.
    std::size_t backward(const timed_spikes<S>& sample, const event_tape<S>& tape,
                         const event_loss& loss, const S* grad_out, std::span<S> grad,
                         std::vector<S>* input_grad = nullptr, S push_scale = S(1)) const {
        std::vector<S> above;  // dL/dt of the current layer's spikes
        std::vector<S> below;
        const std::size_t L = layers_.size();
        const auto& out = tape.layers.back();
        if (spiking_output()) {
            above.assign(out.spikes.size(), S(0));
            for (std::size_t k = 0; k < n_outputs(); ++k)
                if (tape.first_spike[k] >= 0) above[tape.first_spike[k]] += grad_out[k];
        }
        std::size_t grazing = 0;
        for (std::size_t l = L; l-- > 0;) {
            const bool last = l + 1 == L;
            const bool spiking_layer = !last || layer_options_[l].spiking;
            const layer_events lt = events_of(sample, tape, l, spiking_layer);
            // dL/d(input spike times) only for input delays or when asked for
            if (l == 0 && !input_delay_ && !input_grad)
                below.clear();
            else
                below.assign(l == 0 ? sample.size() : tape.layers[l - 1].spikes.size(), S(0));
            if (spiking_layer)
                grazing += backward_spiking(l, lt, above, grad, below, nullptr, nullptr,
                                            !last && loss.regularises_counts()
                                                ? count_injection(l, lt, loss, push_scale).data()
                                                : nullptr);
            else if (loss.kind == event_loss_kind::max_voltage)
                backward_spiking(l, lt, above, grad, below, &tape.peaks, grad_out);
            else
                backward_weighted(l, lt, loss, grad_out, grad, below);
            if (last && loss.dead_weight_push != 0 && spiking_output()) {
                S* dw = grad.data() + store_.info(layers_[l].weight).offset;
                for (std::size_t j = 0; j < n_outputs(); ++j)
                    if (tape.first_spike[j] < 0)
                        for (std::size_t i = 0; i < layers_[l].n_in; ++i)
                            dw[i * layers_[l].n_out + j] -= S(loss.dead_weight_push) * push_scale;
            }
            // the arrivals' credit goes to the source spikes' times and their delays
            const std::optional<std::size_t> delay =
                l == 0 ? input_delay_ : layers_[l - 1].delay;
            if (delay) {
                S* dd = grad.data() + store_.info(*delay).offset;
                // below[k] = dL/d(time of spike k), which moves with its source's delay
                if (l == 0) {
                    // summed in the fixed input order, so the bits do not depend on the
                    // order the sample lists its spikes in
                    std::vector<std::uint32_t> order;
                    input_order(sample, order);
                    for (std::size_t q = 0; q < sample.size(); ++q) {
                        const std::size_t k = order.empty() ? q : order[q];
                        dd[sample.units[k]] += below[k];
                    }
                } else
                    for (std::size_t k = 0; k < tape.layers[l - 1].spikes.size(); ++k)
                        dd[tape.layers[l - 1].spikes[k].neuron] += below[k];
            }
            above.swap(below);
        }
        if (input_grad) input_grad->assign(above.begin(), above.end());
        for (std::size_t p = 0; p < store_.count(); ++p)
            if (!trains(p)) {
                const auto& info = store_.info(p);
                std::fill(grad.begin() + info.offset, grad.begin() + info.offset + info.size,
                          S(0));
            }
        return grazing;
    }

    /// Forward, loss and backward of one sample; adds scale * dL/dparameters to `grad`.
    S sample_gradient(const timed_spikes<S>& sample, const event_loss& loss, event_tape<S>& tape,
                      std::span<S> grad, S scale = S(1),
                      std::vector<S>* input_grad = nullptr) const {
        forward(sample, loss, tape);
        std::vector<S> grad_out(n_outputs());
        const S value = output_loss(tape, loss, sample.label, grad_out.data(), scale);
        backward(sample, tape, loss, grad_out.data(), grad, input_grad);
        return value;
    }

    struct batch_result {
        double loss = 0;
        /// Mean prediction credit: a label tied with k - 1 other classes at the top counts 1/k
        /// (prediction_credit), so a silent output layer scores chance, not class 0's share.
        double accuracy = 0;
        std::size_t ties = 0;     // samples with several classes tied at the top
        std::size_t spikes = 0;   // hidden + output spikes, summed over the samples
        std::size_t grazing = 0;  // grazing crossings met
        std::size_t silent_outputs = 0;
        std::size_t tape_bytes = 0;  // the largest tape of one sample
        /// The largest transient of one layer's backward pass (rebuilt arrivals, gaps,
        /// pre-spike states), per thread.
        std::size_t scratch_bytes = 0;
    };

    /// One training step's gradient: gradients() = mean over `indices` of dL/dparameters.
    /// Samples are split over threads, each with its own buffer, summed in thread order.
    batch_result train_step(const std::vector<timed_spikes<S>>& samples,
                            std::span<const std::size_t> indices, const event_loss& loss) {
        return run_batch(samples, indices, loss, true);
    }
    /// Loss and accuracy without gradients.
    batch_result evaluate(const std::vector<timed_spikes<S>>& samples,
                          std::span<const std::size_t> indices, const event_loss& loss) const {
        return const_cast<event_network*>(this)->run_batch(samples, indices, loss, false);
    }

    // The interface trainer<> drives (train/trainer.hpp), on a timed_batch.
    std::size_t n_inputs() const { return sizes_.front(); }
    /// Layers (the trainer's per-layer gradient norms).
    std::size_t depth() const { return layers_.size(); }
    step_stats train_step(const timed_batch<S>& batch, const event_loss& loss) {
        return stats_of(run_batch(batch.samples, all_of(batch), loss, true), batch.n_samples);
    }
    step_stats evaluate(const timed_batch<S>& batch, const event_loss& loss,
                        std::vector<int>* predictions = nullptr) const {
        return stats_of(const_cast<event_network*>(this)->run_batch(
                            batch.samples, all_of(batch), loss, false, predictions),
                        batch.n_samples);
    }
    /// Spikes per neuron of every layer in the last batch run; a readout layer is not
    /// spiking. One "step" is one millisecond of sample time (rate() = spikes per neuron-ms).
    const network_activity& activity() const { return activity_; }
    void end_epoch(std::size_t) {}

private:
    struct layer_state {
        std::size_t n_in = 0, n_out = 0;
        event::propagator<S> prop;
        bool adaptive = false;
        std::size_t weight = 0;
        std::size_t theta = npos, beta = npos;
        std::optional<std::size_t> delay;
        std::size_t tau_m = npos, tau_s = npos, tau_b = npos;  // learnable time constants
        /// Per-synapse delays into this layer: an arrival's `source` is then the synapse
        /// source * n_out + target, and it adds one weight to one neuron.
        std::size_t synapse_delay = npos;
        bool synaptic() const { return synapse_delay != npos; }
    };
    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

    struct thread_space {
        event_tape<S> tape;
        std::vector<S> grad;
        std::vector<S> scores;
        network_activity activity;
        batch_result result;
    };

    /// Layer l's propagator at the current time constants (the learnable ones from the store).
    event::propagator<S> propagator_of(std::size_t l) const {
        const auto& ls = layers_[l];
        event::propagator<S> p = ls.prop;
        if (ls.tau_m != npos) {
            const S tb = ls.tau_b == npos ? ls.prop.tau_b() : store_.values(ls.tau_b)[0];
            p = event::propagator<S>(double(store_.values(ls.tau_m)[0]),
                                     double(store_.values(ls.tau_s)[0]), double(tb));
        }
        if (options_.grid_ms > 0) p.use_grid(S(options_.grid_ms));
        return p;
    }

    network_activity empty_activity() const {
        network_activity a(layers_.size());
        for (std::size_t l = 0; l < layers_.size(); ++l)
            a[l].reset(layer_options_[l].spiking, layers_[l].n_out);
        return a;
    }
    /// One sample's spikes per neuron; its duration counts as one step per millisecond.
    void add_activity(const event_tape<S>& tape, network_activity& a) const {
        const auto ms = static_cast<std::size_t>(std::llround(options_.duration_ms));
        for (std::size_t l = 0; l < layers_.size() && l < tape.layers.size(); ++l) {
            if (!a[l].spiking) continue;
            a[l].steps += std::max<std::size_t>(1, ms);
            for (const auto& sp : tape.layers[l].spikes) ++a[l].per_neuron[sp.neuron];
        }
    }

    static std::vector<std::size_t> all_of(const timed_batch<S>& batch) {
        std::vector<std::size_t> all(batch.n_samples);
        std::iota(all.begin(), all.end(), std::size_t(0));
        return all;
    }
    static step_stats stats_of(const batch_result& r, std::size_t samples) {
        step_stats out;
        out.samples = samples;
        out.loss_sum = r.loss * double(samples);
        out.correct = r.accuracy * double(samples);
        out.ties = r.ties;
        return out;
    }
    /// The scores whose top is the prediction: -first spike time, or the readout scores.
    static void prediction_scores(const event_tape<S>& tape, const event_loss& loss,
                                  std::vector<S>& scores) {
        if (loss.reads_spikes()) {
            scores.resize(tape.first_spike_ms.size());
            for (std::size_t k = 0; k < scores.size(); ++k) scores[k] = -tape.first_spike_ms[k];
        } else {
            scores = tape.scores;
        }
    }

    batch_result run_batch(const std::vector<timed_spikes<S>>& samples,
                           std::span<const std::size_t> indices, const event_loss& loss,
                           bool with_gradient, std::vector<int>* predictions = nullptr) {
        check_loss(loss);
        const std::size_t B = indices.size();
        if (B == 0) raise<shape_error>("event_network: empty batch");
        for (auto b : indices)
            if (b >= samples.size())
                raise<shape_error>("event_network: sample index ", b, " >= ", samples.size());
        const int count = static_cast<int>(
            std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads()), B)));
        std::vector<thread_space> spaces(static_cast<std::size_t>(count));
        for (auto& s : spaces) {
            if (with_gradient) s.grad.assign(store_.size(), S(0));
            s.activity = empty_activity();
        }
        if (predictions) predictions->assign(B, -1);
        const S scale = S(1) / S(B);
#if SPIKEGRAD_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(count)
#endif
        for (std::int64_t b = 0; b < static_cast<std::int64_t>(B); ++b) {
#if SPIKEGRAD_HAS_OPENMP
            auto& space = spaces[static_cast<std::size_t>(omp_get_thread_num())];
#else
            auto& space = spaces[0];
#endif
            const auto& sample = samples[indices[static_cast<std::size_t>(b)]];
            forward(sample, loss, space.tape);
            std::vector<S> grad_out(n_outputs());
            const S value = output_loss(space.tape, loss, sample.label,
                                        with_gradient ? grad_out.data() : nullptr, scale);
            if (with_gradient)
                backward(sample, space.tape, loss, grad_out.data(), space.grad, nullptr, scale);
            auto& r = space.result;
            r.loss += double(value);
            prediction_scores(space.tape, loss, space.scores);
            const auto credit = credit_of(space.scores.data(), space.scores.size(), sample.label);
            r.accuracy += credit.credit;
            r.ties += credit.tie ? 1 : 0;
            if (predictions)
                (*predictions)[std::size_t(b)] = int(predict(space.tape, loss));
            add_activity(space.tape, space.activity);
            r.spikes += space.tape.spike_count();
            r.grazing += space.tape.grazing;
            r.tape_bytes = std::max(r.tape_bytes, space.tape.bytes());
            r.scratch_bytes = std::max(r.scratch_bytes, space.tape.scratch_bytes());
            if (spiking_output())
                for (auto k : space.tape.first_spike) r.silent_outputs += k < 0;
        }
        batch_result total;
        if (with_gradient) std::fill(gradients_.begin(), gradients_.end(), S(0));
        activity_ = empty_activity();
        for (const auto& s : spaces) {
            activity_ += s.activity;
            total.loss += s.result.loss;
            total.accuracy += s.result.accuracy;
            total.ties += s.result.ties;
            total.spikes += s.result.spikes;
            total.grazing += s.result.grazing;
            total.silent_outputs += s.result.silent_outputs;
            total.tape_bytes = std::max(total.tape_bytes, s.result.tape_bytes);
            total.scratch_bytes = std::max(total.scratch_bytes, s.result.scratch_bytes);
            if (with_gradient)
                for (std::size_t k = 0; k < gradients_.size(); ++k) gradients_[k] += s.grad[k];
        }
        total.loss /= double(B);
        total.accuracy /= double(B);
        if (!std::isfinite(total.loss))
            raise<numeric_error>("event_network: the batch loss is ", total.loss);
        return total;
    }

    void check_loss(const event_loss& loss) const {
        loss.check();
        if (loss.reads_spikes() != spiking_output())
            raise<option_error>("event_network: loss ", to_string(loss.kind), " needs ",
                                loss.reads_spikes() ? "a spiking" : "a readout (spiking = false)",
                                " output layer");
    }

    void check_sample(const timed_spikes<S>& sample) const {
        if (sample.times_ms.size() != sample.units.size())
            raise<shape_error>("event_network: ", sample.times_ms.size(), " times but ",
                               sample.units.size(), " units");
        for (std::size_t k = 0; k < sample.size(); ++k) {
            if (sample.units[k] >= sizes_[0])
                raise<data_error>("event_network: input spike ", k, ": unit ", sample.units[k],
                                  " >= n_in ", sizes_[0]);
            if (!std::isfinite(sample.times_ms[k]) || sample.times_ms[k] < S(0))
                raise<data_error>("event_network: input spike ", k, ": time ",
                                  double(sample.times_ms[k]), " must be finite and >= 0");
        }
    }

    /// The arrivals of layer l, sorted by time. Exact engine: ties by source neuron, then by
    /// spike index. Grid variant: ties in the order the sources' spikes are pushed, a fixed
    /// one: the input layer's spikes by (time, unit) (the sample is sorted first if it is
    /// not), the later layers' by spike index (the layer below's spikes are taped in an order
    /// its arrivals fix: interval, then neuron). Simultaneous arrivals are summed, so their
    /// order changes no state, only the bookkeeping and the last bits of float sums; in
    /// either engine it does not depend on the order of the input spikes.
    void make_arrivals(const timed_spikes<S>& sample, const event_tape<S>& tape, std::size_t l,
                       std::vector<typename event_tape<S>::arrival>& arrivals) const {
        arrivals.clear();
        if (options_.grid_ms > 0) return make_grid_arrivals(sample, tape, l, arrivals);
        const std::optional<std::size_t> delay = l == 0 ? input_delay_ : layers_[l - 1].delay;
        const S* d = delay ? store_.values(*delay).data() : nullptr;
        const S end = S(options_.duration_ms);
        const auto& ls = layers_[l];
        const S* ds = ls.synaptic() ? store_.values(ls.synapse_delay).data() : nullptr;
        // with per-synapse delays a spike arrives once per target, as synapse source * n + j
        auto push = [&](S t, std::uint32_t source, std::size_t k) {
            const S a = d ? t + d[source] : t;
            if (!ds) {
                if (a < end) arrivals.push_back({a, source, static_cast<std::uint32_t>(k)});
                return;
            }
            const std::size_t first = std::size_t(source) * ls.n_out;
            for (std::size_t j = 0; j < ls.n_out; ++j)
                if (a + ds[first + j] < end)
                    arrivals.push_back({a + ds[first + j], static_cast<std::uint32_t>(first + j),
                                        static_cast<std::uint32_t>(k)});
        };
        if (l == 0)
            for (std::size_t k = 0; k < sample.size(); ++k)
                push(sample.times_ms[k], sample.units[k], k);
        else {
            const auto& spikes = tape.layers[l - 1].spikes;
            for (std::size_t k = 0; k < spikes.size(); ++k)
                push(spikes[k].time, spikes[k].neuron, k);
        }
        std::sort(arrivals.begin(), arrivals.end(), [](const auto& a, const auto& b) {
            if (a.time != b.time) return a.time < b.time;
            if (a.source != b.source) return a.source < b.source;
            return a.spike < b.spike;
        });
    }

    /// The input spikes' indices in the fixed order (time, then unit, then index), or nothing
    /// when the sample is in that order already (the usual case: timed_spikes are sorted).
    static void input_order(const timed_spikes<S>& sample, std::vector<std::uint32_t>& order) {
        order.clear();
        const auto before = [&](std::size_t a, std::size_t b) {
            if (sample.times_ms[a] != sample.times_ms[b])
                return sample.times_ms[a] < sample.times_ms[b];
            return sample.units[a] < sample.units[b];
        };
        bool sorted = true;
        for (std::size_t k = 1; k < sample.size() && sorted; ++k) sorted = !before(k, k - 1);
        if (sorted) return;
        order.resize(sample.size());
        std::iota(order.begin(), order.end(), std::uint32_t(0));
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return before(a, b) || (!before(b, a) && a < b);
        });
    }

    /// The grid variant's arrivals (make_arrivals): each moves to the next grid point (one
    /// within rounding of a grid point stays there), so the arrivals of one step share one
    /// interval. Pushed in the fixed order, with their step numbers kept; when the steps come
    /// out non-decreasing (the input layer without input delays) nothing is sorted, otherwise
    /// one stable counting sort by step (a stable sort where the grid has far more steps than
    /// arrivals) keeps the push order among ties.
    void make_grid_arrivals(const timed_spikes<S>& sample, const event_tape<S>& tape,
                            std::size_t l,
                            std::vector<typename event_tape<S>::arrival>& arrivals) const {
        using arrival = typename event_tape<S>::arrival;
        const std::optional<std::size_t> delay = l == 0 ? input_delay_ : layers_[l - 1].delay;
        const S* d = delay ? store_.values(*delay).data() : nullptr;
        const S end = S(options_.duration_ms);
        const S h = S(options_.grid_ms);
        const S slack = std::numeric_limits<S>::epsilon() * S(64) * std::max(S(1), end);
        const auto& ls = layers_[l];
        const S* ds = ls.synaptic() ? store_.values(ls.synapse_delay).data() : nullptr;
        const std::size_t fan = ds ? ls.n_out : 1;
        // per-thread buffers, kept between calls
        thread_local std::vector<std::uint32_t> order, steps, start;
        thread_local std::vector<arrival> sorted;
        const std::size_t n_spikes = l == 0 ? sample.size() : tape.layers[l - 1].spikes.size();
        order.clear();
        if (l == 0) input_order(sample, order);
        const bool canonical_input = order.empty();
        arrivals.resize(n_spikes * fan);
        steps.resize(n_spikes * fan);
        std::size_t count = 0;
        std::uint32_t last_step = 0, max_step = 0;
        bool monotone = true;
        auto emit = [&](S a, std::uint32_t source, std::size_t k) {
            const S q = std::max(S(0), std::ceil((a - slack) / h));
            const S at = q * h;
            if (!(at < end)) return;
            const auto step = static_cast<std::uint32_t>(q);
            arrivals[count] = {at, source, static_cast<std::uint32_t>(k)};
            steps[count++] = step;
            monotone = monotone && step >= last_step;
            last_step = step;
            max_step = std::max(max_step, step);
        };
        auto push = [&](S t, std::uint32_t source, std::size_t k) {
            const S a = d ? t + d[source] : t;
            if (!ds) return emit(a, source, k);
            const std::size_t first = std::size_t(source) * ls.n_out;
            for (std::size_t j = 0; j < ls.n_out; ++j)
                emit(a + ds[first + j], static_cast<std::uint32_t>(first + j), k);
        };
        if (l == 0) {
            for (std::size_t q = 0; q < n_spikes; ++q) {
                const std::size_t k = canonical_input ? q : order[q];
                push(sample.times_ms[k], sample.units[k], k);
            }
        } else {
            const auto& spikes = tape.layers[l - 1].spikes;
            for (std::size_t k = 0; k < n_spikes; ++k) push(spikes[k].time, spikes[k].neuron, k);
        }
        arrivals.resize(count);
        if (monotone) return;
        const std::size_t keys = std::size_t(max_step) + 1;
        if (keys > 2 * count + 64) {
            std::stable_sort(arrivals.begin(), arrivals.end(),
                             [](const arrival& a, const arrival& b) { return a.time < b.time; });
            return;
        }
        start.assign(keys + 1, 0);
        for (std::size_t q = 0; q < count; ++q) ++start[steps[q] + 1];
        for (std::size_t k = 0; k < keys; ++k) start[k + 1] += start[k];
        sorted.resize(count);
        for (std::size_t q = 0; q < count; ++q) sorted[start[steps[q]]++] = arrivals[q];
        arrivals.swap(sorted);
    }

    /// What the backward pass reads of one layer: its arrivals, spikes, their gaps and
    /// pre-spike states, from a full tape or rebuilt into the tape's scratch.
    struct layer_events {
        std::span<const typename event_tape<S>::arrival> arrivals;
        std::span<const typename event_tape<S>::spike> spikes;
        std::span<const std::uint32_t> gaps;
        std::span<const event::neuron_state<S>> before;
    };

    /// Layer l's events for the backward pass. A compact tape's arrivals are rebuilt from the
    /// sample (l = 0) or the layer below's spikes and the current delays (as in the forward
    /// pass), and its pre-spike states by replay_before.
    layer_events events_of(const timed_spikes<S>& sample, const event_tape<S>& tape,
                           std::size_t l, bool spiking_layer) const {
        const auto& lt = tape.layers[l];
        auto& r = tape.rebuilt;
        lt.gaps(r.gaps);
        layer_events ev;
        ev.spikes = lt.spikes;
        ev.gaps = r.gaps;
        if (!options_.compact_tape) {
            ev.arrivals = lt.arrivals;
            ev.before = lt.before;
            r.measure();
            return ev;
        }
        make_arrivals(sample, tape, l, r.arrivals);
        ev.arrivals = r.arrivals;
        r.before.clear();
        if (spiking_layer) replay_before(l, ev, r.before);
        ev.before = r.before;
        r.measure();
        return ev;
    }

    /// The state V-, I-, B- of every taped spike of layer l, by running the layer again over
    /// its arrivals with the spikes known (no crossing search): each neuron with spikes in an
    /// interval moves piecewise from spike to spike, the rest of the layer in one pass.
    void replay_before(std::size_t l, const layer_events& ev,
                       std::vector<event::neuron_state<S>>& before) const {
        const auto& ls = layers_[l];
        const auto prop = propagator_of(l);
        const std::size_t n = ls.n_out, K = ev.spikes.size(), M = ev.arrivals.size();
        const S* w = store_.values(ls.weight).data();
        const S* beta = store_.values(ls.beta).data();
        before.resize(K);
        const bool with_b = moves_threshold(l);
        std::vector<S> v(n, S(0)), i(n, S(0)), b(n, S(0));
        std::vector<std::pair<std::size_t, event::neuron_state<S>>> ends;
        std::vector<std::size_t> at_end;
        std::size_t k = 0;
        S t_prev = 0;
        same_time group(ev.arrivals);
        for (std::size_t m = 0; m <= M; ++m) {
            const S t_next = m < M ? ev.arrivals[m].time : S(options_.duration_ms);
            const S length = t_next - t_prev;
            if (length > S(0)) {
                ends.clear();
                at_end.clear();
                while (k < K && ev.gaps[k] == m) {
                    const std::size_t j = ev.spikes[k].neuron;
                    if (ev.spikes[k].time == t_next) {  // its only spike here, at the end
                        at_end.push_back(k++);
                        continue;
                    }
                    event::neuron_state<S> x{v[j], i[j], b[j]};
                    S t_cur = t_prev;
                    for (; k < K && ev.gaps[k] == m && ev.spikes[k].neuron == j; ++k) {
                        x = event::propagator<S>::apply(prop.over(ev.spikes[k].time - t_cur), x);
                        before[k] = x;
                        x.v = 0;
                        x.b += beta[j];
                        t_cur = ev.spikes[k].time;
                    }
                    ends.push_back({j, event::propagator<S>::apply(prop.over(t_next - t_cur), x)});
                }
                const auto f = prop.over(length);
                for (std::size_t j = 0; j < n; ++j) {
                    const S v0 = v[j];
                    v[j] = f.a_m * v0 + f.k * i[j];
                    i[j] = f.a_s * i[j];
                }
                if (with_b)
                    for (std::size_t j = 0; j < n; ++j) b[j] = f.a_b * b[j];
                for (const auto& [j, x] : ends) v[j] = x.v, i[j] = x.i, b[j] = x.b;
                // a spike at the interval's end (the grid's one-step intervals) leaves from
                // the state the whole layer reached there
                for (const std::size_t q : at_end) {
                    const std::size_t j = ev.spikes[q].neuron;
                    before[q] = {v[j], i[j], b[j]};
                    v[j] = 0;
                    b[j] += beta[j];
                }
            }
            if (m == M) break;
            const std::size_t last = group.from(m);
            group.add_rows(n, w, i.data(), ls.synaptic());
            m = last - 1;
            t_prev = t_next;
        }
        if (k != K)
            raise<shape_error>("event_network: layer ", l, ": ", K - k,
                               " taped spikes lie outside the rebuilt arrivals (was the tape "
                               "made by another network or parameter state?)");
    }

    /// Walks a layer's arrivals one time at a time (on the grid, a step's arrivals; in
    /// continuous time usually one), with the sources of that time's arrivals contiguous for
    /// the row kernels.
    class same_time {
    public:
        explicit same_time(std::span<const typename event_tape<S>::arrival> arrivals)
            : arrivals_(arrivals) {}
        /// The arrivals from `first` on at arrivals[first]'s time; returns one past the last.
        std::size_t from(std::size_t first) {
            const S t = arrivals_[first].time;
            sources_.clear();
            std::size_t last = first;
            for (; last < arrivals_.size() && arrivals_[last].time == t; ++last)
                sources_.push_back(arrivals_[last].source);
            return last;
        }
        /// The arrivals up to `last` at arrivals[last]'s time (sources latest first); returns
        /// the first of them.
        std::size_t until(std::size_t last) {
            const S t = arrivals_[last].time;
            sources_.clear();
            std::size_t first = last + 1;
            for (; first > 0 && arrivals_[first - 1].time == t; --first)
                sources_.push_back(arrivals_[first - 1].source);
            return first;
        }
        const std::uint32_t* sources() const { return sources_.data(); }
        std::size_t count() const { return sources_.size(); }
        /// current += the weight rows (of w, [n_in, n]) of the current time's arrivals, summed
        /// in registers in arrival order (the same additions as one row after the other).
        /// With per-synapse delays (`synaptic`), each arrival adds its one weight to its target.
        void add_rows(std::size_t n, const S* w, S* current, bool synaptic) const {
            if (synaptic) {
                for (const auto syn : sources_) current[syn % n] += w[syn];
                return;
            }
            simd::gather_rows(n, w, sources(), count(), current, current);
        }

    private:
        std::span<const typename event_tape<S>::arrival> arrivals_;
        std::vector<std::uint32_t> sources_;
    };

    int pieces(const layer_state& ls, const event::propagator<S>& prop, S length) const {
        if (!ls.adaptive) return 1;
        const S h = S(options_.bracket_fraction) *
                    std::min({prop.tau_m(), prop.tau_s(), prop.tau_b()});
        return std::max(1, static_cast<int>(std::ceil(length / h)));
    }

    /// Spiking layer: state per neuron, interval by interval between arrivals. The whole layer
    /// moves in one vectorisable pass (structure of arrays); only neurons that may cross in
    /// the interval are searched, one by one.
    void run_spiking(std::size_t l, std::span<const typename event_tape<S>::arrival> arrivals,
                     event_tape<S>& tape) const {
        const auto& ls = layers_[l];
        const auto prop = propagator_of(l);
        const std::size_t n = ls.n_out;
        const S* w = store_.values(ls.weight).data();
        const S* theta = store_.values(ls.theta).data();
        const S* beta = store_.values(ls.beta).data();
        const bool with_b = moves_threshold(l);
        std::vector<S> v(n, S(0)), i(n, S(0)), b(n, S(0)), v1(n), i1(n), b1(n, S(0));
        std::vector<S> candidate(n);
        std::vector<std::uint32_t> which(n + simd::compaction_slack);
        const S grid_step = S(options_.grid_ms);
        const std::size_t M = arrivals.size();
        S t_prev = 0;
        same_time group(arrivals);
        for (std::size_t m = 0; m <= M; ++m) {
            const S t_next = m < M ? arrivals[m].time : S(options_.duration_ms);
            const S length = t_next - t_prev;
            if (length > S(0)) {
                const auto f = prop.over(length);
                const S adaptive = ls.adaptive ? S(1) : S(0);
                // on the grid, an interval of one step holds one test point, its end
                const bool one_step = grid_step > S(0) && length <= grid_step * (1 + S(1e-4));
                const bool whole_step = one_step && length >= grid_step * (1 - S(1e-4));
                propagate_layer(n, f, adaptive, one_step, with_b, v.data(), i.data(), b.data(),
                                theta, v1.data(), i1.data(), b1.data(), candidate.data());
                const std::size_t searched =
                    simd::indices_at_least(n, candidate.data(), S(0.5), which.data());
                auto& lt = tape.layers[l];
                for (std::size_t c = 0; c < searched; ++c) {  // in increasing neuron order
                    const std::size_t j = which[c];
                    if (whole_step) {
                        // the interval's one test point is its end, where propagate_layer
                        // left the state (first_grid_crossing would find the same)
                        if (v1[j] - theta[j] - b1[j] < S(0)) continue;  // above at the start only
                        const event::neuron_state<S> at{v1[j], i1[j], b1[j]};
                        // the secant slope over this step (spike_slope), from both its ends
                        if (((v1[j] - b1[j]) - (v[j] - b[j])) / length <
                            S(options_.min_crossing_slope))
                            ++tape.grazing;
                        lt.add_spike(t_next, j, static_cast<std::uint32_t>(m));
                        if (!options_.compact_tape) lt.before.push_back(at);
                        v1[j] = 0;
                        b1[j] += beta[j];
                        continue;
                    }
                    const auto x = spikes_in_interval(ls, prop, tape, j, m, t_prev, length,
                                                      {v[j], i[j], b[j]}, theta[j], beta[j]);
                    v1[j] = x.v, i1[j] = x.i, b1[j] = x.b;
                }
                v.swap(v1), i.swap(i1), b.swap(b1);
            }
            if (m == M) break;
            // the arrivals at t_next together (the zero-length intervals between them hold
            // no spike); the next interval is the one ending at arrival `last`
            const std::size_t last = group.from(m);
            group.add_rows(n, w, i.data(), ls.synaptic());
            m = last - 1;
            t_prev = t_next;
        }
    }

    /// dg/dt at a spike for its jump: the slope at the crossing in the exact engine; on the
    /// grid, the secant over the step in which g = V - theta - B crossed 0 (always positive,
    /// where the slope at the grid point may not be: see propagator::secant_slope).
    S spike_slope(const event::propagator<S>& prop, const event::neuron_state<S>& x) const {
        return options_.grid_ms > 0 ? prop.secant_slope(x) : prop.crossing_slope(x);
    }

    /// Whether layer l's threshold offset B can leave 0: an adaptive layer, or one whose
    /// jump beta was set by hand. Where it cannot, B's buffers stay 0 and are not touched.
    bool moves_threshold(std::size_t l) const {
        const auto& ls = layers_[l];
        if (ls.adaptive) return true;
        const auto beta = store_.values(ls.beta);
        return std::any_of(beta.begin(), beta.end(), [](S x) { return x != S(0); });
    }

    /// The whole layer over one interval with factors f (branch-free over distinct buffers,
    /// so that the compiler vectorises it), and which neurons may cross in it; with
    /// `end_only` (a grid interval of one step), those at or above threshold at its end.
    /// Without `with_b`, B is 0 throughout (b0 and b1 hold zeros and are not read).
    static void propagate_layer(std::size_t n, const event::propagator_factors<S>& f,
                                S adaptive, bool end_only, bool with_b, const S* SPIKEGRAD_RESTRICT v0,
                                const S* SPIKEGRAD_RESTRICT i0, const S* SPIKEGRAD_RESTRICT b0,
                                const S* SPIKEGRAD_RESTRICT theta, S* SPIKEGRAD_RESTRICT v1,
                                S* SPIKEGRAD_RESTRICT i1, S* SPIKEGRAD_RESTRICT b1,
                                S* SPIKEGRAD_RESTRICT flag) {
        const S a_m = f.a_m, k = f.k, a_s = f.a_s, a_b = f.a_b;
        if (end_only && !with_b) {
            for (std::size_t j = 0; j < n; ++j) {
                v1[j] = a_m * v0[j] + k * i0[j];
                i1[j] = a_s * i0[j];
                const S at_start = v0[j] - theta[j] >= S(0) ? S(1) : S(0);
                flag[j] = std::max(at_start, v1[j] - theta[j] >= S(0) ? S(1) : S(0));
            }
            return;
        }
        if (end_only) {
            for (std::size_t j = 0; j < n; ++j) {
                v1[j] = a_m * v0[j] + k * i0[j];
                i1[j] = a_s * i0[j];
                b1[j] = a_b * b0[j];
                const S at_start = v0[j] - theta[j] - b0[j] >= S(0) ? S(1) : S(0);
                flag[j] = std::max(at_start, v1[j] - theta[j] - b1[j] >= S(0) ? S(1) : S(0));
            }
            return;
        }
        for (std::size_t j = 0; j < n; ++j) {
            v1[j] = a_m * v0[j] + k * i0[j];
            i1[j] = a_s * i0[j];
            b1[j] = a_b * b0[j];
            flag[j] = may_cross(adaptive, v0[j], i0[j], b0[j], v1[j], i1[j], b1[j], theta[j]);
        }
    }

    /// The readout layer over one interval (V, I to V1, I1), and which neurons may beat
    /// their peak so far `best` in it: at its end, or at an interior maximum (V rises at the
    /// start, falls at the end, and I0 >= V bounds it).
    static void readout_interval(std::size_t n, const event::propagator_factors<S>& f,
                                 const S* SPIKEGRAD_RESTRICT v0, const S* SPIKEGRAD_RESTRICT i0,
                                 const S* SPIKEGRAD_RESTRICT best, S* SPIKEGRAD_RESTRICT v1,
                                 S* SPIKEGRAD_RESTRICT i1, S* SPIKEGRAD_RESTRICT flag) {
        const S a_m = f.a_m, k = f.k, a_s = f.a_s;
        for (std::size_t j = 0; j < n; ++j) {
            v1[j] = a_m * v0[j] + k * i0[j];
            i1[j] = a_s * i0[j];
            const S at_end = v1[j] > best[j] ? S(1) : S(0);
            const S inside = (i0[j] > v0[j] ? S(1) : S(0)) * (i1[j] < v1[j] ? S(1) : S(0)) *
                             (i0[j] > best[j] ? S(1) : S(0));
            flag[j] = std::max(at_end, inside);
        }
    }

    /// False only when g = V - theta - B stays below 0 on an interval from `start` to `end`.
    /// V(s) <= max(V0, I0, 0) (V relaxes towards a current that decays to 0). Without
    /// adaptation V has at most one extremum, so g's maximum is at an end unless V rises at
    /// the start and falls at the end.
    /// 1 where g may reach 0 in the interval, else 0 (as S, so that the layer loop vectorises).
    /// g >= 0 at the start happens only in the grid variant (a crossing between grid points).
    static S may_cross(S adaptive, S v0, S i0, S b0, S v1, S i1, S b1, S theta) {
        const S at_start = v0 - theta - b0 >= S(0) ? S(1) : S(0);
        const S at_end = std::max(at_start, v1 - theta - b1 >= S(0) ? S(1) : S(0));
        const S reachable =
            std::max(v0, std::max(i0, S(0))) >= theta + std::min(b0, b1) ? S(1) : S(0);
        const S peak_inside = (i0 > v0 ? S(1) : S(0)) * (i1 < v1 ? S(1) : S(0));
        return std::max(at_end, reachable * std::max(adaptive, peak_inside));
    }

    event::neuron_state<S> spikes_in_interval(const layer_state& ls,
                                              const event::propagator<S>& prop, event_tape<S>& tape,
                                              std::size_t j, std::size_t m, S t_prev, S length,
                                              event::neuron_state<S> s, S theta, S beta) const {
        S done = 0;
        for (;;) {
            const S rest = length - done;
            const bool grid = options_.grid_ms > 0;
            event::neuron_state<S> at;
            const S found =
                grid ? event::first_grid_crossing(prop, s, theta, t_prev + done, rest,
                                                  S(options_.grid_ms), &at)
                     : event::first_crossing(prop, s, theta, rest, pieces(ls, prop, rest));
            if (found < S(0)) return event::propagator<S>::apply(prop.over(rest), s);
            s = grid ? at : event::propagator<S>::apply(prop.over(found), s);
            done += found;
            if (spike_slope(prop, s) < S(options_.min_crossing_slope)) ++tape.grazing;
            auto& lt = tape.layers[std::size_t(&ls - layers_.data())];
            lt.add_spike(t_prev + done, j, static_cast<std::uint32_t>(m));
            if (!options_.compact_tape) lt.before.push_back(s);
            s.v = 0;
            s.b += beta;
            if (!(rest - found > S(0))) return s;
        }
    }

    /// Readout of the maximum over [0, T] of V: interior maxima (V' = 0, I = V), kinks at
    /// arrivals and the window's end are the candidates.
    void run_readout_max(std::size_t l,
                         std::span<const typename event_tape<S>::arrival> arrivals,
                         event_tape<S>& tape) const {
        const auto& ls = layers_[l];
        const auto prop = propagator_of(l);
        const std::size_t n = ls.n_out;
        const S* w = store_.values(ls.weight).data();
        // V and I of every readout neuron, before and after an interval; the peak so far
        std::vector<S> xv(n, S(0)), xi(n, S(0)), xv1(n), xi1(n), best(n, S(0)), flag(n);
        std::vector<std::uint32_t> which(n + simd::compaction_slack);
        tape.peaks.assign(n, {});
        const std::size_t M = arrivals.size();
        S t_prev = 0;
        using kind = typename event_tape<S>::peak_kind;
        same_time group(arrivals);
        for (std::size_t m = 0; m <= M; ++m) {
            const S t_next = m < M ? arrivals[m].time : S(options_.duration_ms);
            const S length = t_next - t_prev;
            if (length > S(0)) {
                const auto f = prop.over(length);
                readout_interval(n, f, xv.data(), xi.data(), best.data(), xv1.data(), xi1.data(),
                                 flag.data());
                const std::size_t changed =
                    simd::indices_at_least(n, flag.data(), S(0.5), which.data());
                for (std::size_t c = 0; c < changed; ++c) {
                    const std::size_t j = which[c];
                    const event::neuron_state<S> start{xv[j], xi[j], S(0)};
                    auto& peak = tape.peaks[j];
                    // an interior maximum, V' = 0 inside; V <= max(V0, I0) bounds it, so it
                    // is looked for only where it could beat the peak so far
                    if (start.i > start.v && xi1[j] < xv1[j] && start.i > peak.value) {
                        auto slope = [&](S s) {
                            const auto y = event::propagator<S>::apply(prop.over(s), start);
                            return std::pair<S, S>{-prop.crossing_slope(y), -prop.crossing_curvature(y)};
                        };
                        S s = prop.peak_time(start);
                        if (!(s >= S(0) && s <= length))
                            s = event::safeguarded_root<S>(slope, S(0), length);
                        const S v = event::propagator<S>::apply(prop.over(s), start).v;
                        if (v > peak.value)
                            peak = {v, t_prev + s, kind::interior, static_cast<std::uint32_t>(m), 0};
                    }
                    if (xv1[j] > peak.value)
                        peak = {xv1[j], t_next, m < M ? kind::arrival : kind::end,
                                static_cast<std::uint32_t>(m), xi1[j]};
                    best[j] = peak.value;
                }
                xv.swap(xv1), xi.swap(xi1);
            }
            if (m == M) break;
            const std::size_t last = group.from(m);
            group.add_rows(n, w, xi.data(), ls.synaptic());
            m = last - 1;
            t_prev = t_next;
        }
        tape.scores.resize(n);
        for (std::size_t j = 0; j < n; ++j) tape.scores[j] = tape.peaks[j].value;
    }

    /// The exp-weighted mean of the readout, y = (1/T) int_0^T e^{-t/Tw} V(t) dt, is linear in
    /// the arrivals: y_j = sum_m w_{src(m), j} Phi(a_m) with Phi in closed form.
    struct weighting {
        S T, inv_tw;
        event::propagator<S> prop;
        // J(L) = int_0^L e^{-u/Tw} k(u) du and Phi(a), Phi'(a)
        std::pair<S, S> phi(S a) const {
            const S L = T - a;
            const S tm = prop.tau_m(), ts = prop.tau_s();
            const S r_m = inv_tw + 1 / tm, r_s = inv_tw + 1 / ts;
            S J;
            if (tm == ts)
                J = (-std::expm1(-r_m * L) - r_m * L * std::exp(-r_m * L)) / (tm * r_m * r_m);
            else
                J = (-std::expm1(-L * r_s) / r_s + std::expm1(-L * r_m) / r_m) /
                    (tm * (1 / tm - 1 / ts));
            const S e_a = std::exp(-a * inv_tw);
            const S k_L = prop.kernel(L, std::exp(-L / tm));
            const S value = e_a * J / T;
            const S slope = (-inv_tw * e_a * J - e_a * std::exp(-L * inv_tw) * k_L) / T;
            return {value, slope};
        }
        /// dPhi/dtau_m and dPhi/dtau_s at a (in double: the general form's two terms cancel
        /// as tau_m nears tau_s). With F(r) = (1 - e^{-rL}) / r, r_x = 1/Tw + 1/tau_x,
        /// J = tau_s (F(r_s) - F(r_m)) / (tau_s - tau_m); at tau_m == tau_s = tau, with
        /// M_n = int_0^L u^n e^{-ru} du, dJ/dtau_m = M_2 / (2 tau^3) - M_1 / tau^2 and
        /// dJ/dtau_s = M_2 / (2 tau^3) (the partial derivatives of k at the limit).
        std::pair<double, double> tau_slopes(S a) const {
            const double L = double(T) - double(a), iw = double(inv_tw);
            const double tm = double(prop.tau_m()), ts = double(prop.tau_s());
            double dm, ds;
            if (prop.tau_m() == prop.tau_s()) {
                const double r = iw + 1 / tm, x = r * L, e = std::exp(-x);
                const double m1 = (-std::expm1(-x) - x * e) / (r * r);
                const double m2 = (-2 * std::expm1(-x) - e * x * (2 + x)) / (r * r * r);
                dm = m2 / (2 * tm * tm * tm) - m1 / (tm * tm);
                ds = m2 / (2 * tm * tm * tm);
            } else {
                const auto F = [L](double r) { return -std::expm1(-r * L) / r; };
                const auto F_slope = [&](double r) { return (L * std::exp(-r * L) - F(r)) / r; };
                const double r_m = iw + 1 / tm, r_s = iw + 1 / ts, c = ts / (ts - tm);
                const double J = c * (F(r_s) - F(r_m));
                dm = J / (ts - tm) + c * F_slope(r_m) / (tm * tm);
                ds = -J * tm / (ts * (ts - tm)) - c * F_slope(r_s) / (ts * ts);
            }
            const double scale = std::exp(-double(a) * iw) / double(T);
            return {scale * dm, scale * ds};
        }
    };
    weighting make_weighting(std::size_t l, const event_loss& loss) const {
        const double tw = loss.weight_tau_ms == 0 ? options_.duration_ms : loss.weight_tau_ms;
        return {S(options_.duration_ms), std::isinf(tw) ? S(0) : S(1.0 / tw), propagator_of(l)};
    }

    void run_readout_weighted(std::size_t l,
                              std::span<const typename event_tape<S>::arrival> arrivals,
                              event_tape<S>& tape, const event_loss& loss) const {
        const auto& ls = layers_[l];
        const S* w = store_.values(ls.weight).data();
        const auto weights = make_weighting(l, loss);
        tape.scores.assign(ls.n_out, S(0));
        for (const auto& a : arrivals) {
            const S value = weights.phi(a.time).first;
            if (ls.synaptic()) {
                tape.scores[a.source % ls.n_out] += value * w[a.source];
                continue;
            }
            const S* row = w + std::size_t(a.source) * ls.n_out;
            for (std::size_t j = 0; j < ls.n_out; ++j) tape.scores[j] += value * row[j];
        }
    }

    void backward_weighted(std::size_t l, const layer_events& lt,
                           const event_loss& loss, const S* grad_out, std::span<S> grad,
                           std::vector<S>& below) const {
        const auto& ls = layers_[l];
        const S* w = store_.values(ls.weight).data();
        S* dw = grad.data() + store_.info(ls.weight).offset;
        const auto weights = make_weighting(l, loss);
        S* dsyn = ls.synaptic() ? grad.data() + store_.info(ls.synapse_delay).offset : nullptr;
        // learnable time constants: y_j = sum_m w Phi(a_m) gives dL/dtau = sum_m
        // (sum_j dL/dy_j w_{src,j}) dPhi(a_m)/dtau
        const bool tau_gradient = ls.tau_m != npos;
        double d_tau_m = 0, d_tau_s = 0;
        auto add_tau = [&](S a, S weighted_grad) {
            if (!tau_gradient) return;
            const auto [dm, ds] = weights.tau_slopes(a);
            d_tau_m += double(weighted_grad) * dm;
            d_tau_s += double(weighted_grad) * ds;
        };
        for (const auto& a : lt.arrivals) {
            const auto [value, slope] = weights.phi(a.time);
            if (dsyn) {  // one synapse, one target
                const std::size_t j = a.source % ls.n_out;
                dw[a.source] += value * grad_out[j];
                const S da = slope * w[a.source] * grad_out[j];
                dsyn[a.source] += da;
                if (!below.empty()) below[a.spike] += da;
                add_tau(a.time, w[a.source] * grad_out[j]);
                continue;
            }
            const S* row = w + std::size_t(a.source) * ls.n_out;
            S* drow = dw + std::size_t(a.source) * ls.n_out;
            S dot = 0;
            for (std::size_t j = 0; j < ls.n_out; ++j) {
                drow[j] += value * grad_out[j];
                dot += row[j] * grad_out[j];
            }
            if (!below.empty()) below[a.spike] += slope * dot;
            add_tau(a.time, dot);
        }
        if (tau_gradient) {
            grad[store_.info(ls.tau_m).offset] += S(d_tau_m);
            grad[store_.info(ls.tau_s).offset] += S(d_tau_s);
        }
    }

    /// The forward state of a layer at the start of every interval (just after the previous
    /// arrival), recomputed from the tape for the time-constant gradients: one replay pass
    /// keeps every K-th interval's state (K ~ sqrt(intervals)), and the backward pass replays
    /// the block of K intervals it enters from that checkpoint, so the layer holds
    /// O(sqrt(arrivals) x neurons) states, never a full membrane trace. Spikes are not
    /// searched again: each replayed neuron restarts from its taped pre-spike state.
    class state_replay {
    public:
        state_replay(const event_network& net, std::size_t l,
                     const layer_events& lt)
            : net_(net), l_(l), lt_(lt), n_(net.layers_[l].n_out),
              intervals_(lt.arrivals.size() + 1),
              block_(std::max<std::size_t>(
                  1, static_cast<std::size_t>(std::ceil(std::sqrt(double(intervals_)))))),
              prop_(net.propagator_of(l)) {
            const auto& ls = net.layers_[l];
            beta_ = ls.beta != npos ? net.store_.values(ls.beta).data() : nullptr;
            checkpoints_.assign(((intervals_ + block_ - 1) / block_) * 3 * n_, S(0));
            states_.assign(block_ * 3 * n_, S(0));
            std::vector<S> x(3 * n_, S(0));
            std::size_t cursor = 0;
            for (std::size_t m = 0; m < intervals_; ++m) {
                if (m % block_ == 0)
                    std::copy(x.begin(), x.end(), checkpoints_.begin() + (m / block_) * 3 * n_);
                if (m + 1 < intervals_) advance(m, cursor, x.data());
            }
        }
        /// The state of neuron j at the start of interval m.
        event::neuron_state<S> at(std::size_t m, std::size_t j) {
            const std::size_t b = m / block_;
            if (b != loaded_) load(b);
            const S* x = states_.data() + (m - b * block_) * 3 * n_;
            return {x[j], x[n_ + j], x[2 * n_ + j]};
        }

    private:
        void load(std::size_t b) {
            const std::size_t first = b * block_;
            const std::size_t last = std::min(intervals_, first + block_);
            std::vector<S> x(checkpoints_.begin() + b * 3 * n_,
                             checkpoints_.begin() + (b + 1) * 3 * n_);
            const auto& gaps = lt_.gaps;
            std::size_t cursor = static_cast<std::size_t>(
                std::partition_point(gaps.begin(), gaps.end(),
                                     [&](std::uint32_t g) { return g < first; }) -
                gaps.begin());
            for (std::size_t m = first; m < last; ++m) {
                std::copy(x.begin(), x.end(), states_.begin() + (m - first) * 3 * n_);
                if (m + 1 < last) advance(m, cursor, x.data());
            }
            loaded_ = b;
        }
        /// From the start of interval m to the start of m + 1 (after arrival m).
        void advance(std::size_t m, std::size_t& cursor, S* x) const {
            const auto& arrivals = lt_.arrivals;
            const std::size_t M = arrivals.size();
            const S t_prev = m > 0 ? arrivals[m - 1].time : S(0);
            const S t_next = m < M ? arrivals[m].time : S(net_.options_.duration_ms);
            S* v = x;
            S* i = x + n_;
            S* b = x + 2 * n_;
            if (t_next - t_prev > S(0)) {
                const auto f = prop_.over(t_next - t_prev);
                for (std::size_t j = 0; j < n_; ++j) {
                    v[j] = f.a_m * v[j] + f.k * i[j];
                    i[j] = f.a_s * i[j];
                    b[j] = f.a_b * b[j];
                }
                // a neuron that spiked here restarts from its last spike of the interval
                const auto& spikes = lt_.spikes;
                const auto& gaps = lt_.gaps;
                while (cursor < spikes.size() && gaps[cursor] == m) {
                    std::size_t last = cursor;
                    while (last + 1 < spikes.size() && gaps[last + 1] == m &&
                           spikes[last + 1].neuron == spikes[cursor].neuron)
                        ++last;
                    const auto& sp = spikes[last];
                    const auto& before = lt_.before[last];
                    const std::size_t j = sp.neuron;
                    const auto y = event::propagator<S>::apply(
                        prop_.over(t_next - sp.time),
                        {S(0), before.i, before.b + beta_[j]});
                    v[j] = y.v, i[j] = y.i, b[j] = y.b;
                    cursor = last + 1;
                }
            }
            if (m < M) {
                const S* w = net_.store_.values(net_.layers_[l_].weight).data();
                const std::size_t source = arrivals[m].source;
                if (net_.layers_[l_].synaptic()) {
                    i[source % n_] += w[source];
                    return;
                }
                const S* row = w + source * n_;
                for (std::size_t j = 0; j < n_; ++j) i[j] += row[j];
            }
        }

        const event_network& net_;
        std::size_t l_;
        const layer_events& lt_;
        std::size_t n_, intervals_, block_;
        event::propagator<S> prop_;
        const S* beta_ = nullptr;
        std::vector<S> checkpoints_, states_;
        std::size_t loaded_ = npos;
    };

    /// The spike-count regulariser's injection into mu_V(t_k-) at every spike of each neuron
    /// of hidden layer l (event_loss::count_target): lambda (n_j - target) * scale.
    std::vector<S> count_injection(std::size_t l, const layer_events& lt, const event_loss& loss,
                                   S scale) const {
        std::vector<std::size_t> counts(layers_[l].n_out, 0);
        for (const auto& sp : lt.spikes) ++counts[sp.neuron];
        std::vector<S> out(counts.size());
        for (std::size_t j = 0; j < counts.size(); ++j) {
            const double excess = double(counts[j]) - loss.count_target;
            const double lambda = excess > 0 ? loss.count_lambda_upper : loss.count_lambda_lower;
            out[j] = S(lambda * excess) * scale;
        }
        return out;
    }

    /// A point inside an interval where a neuron's adjoint jumps: one of its spikes, or the
    /// interior maximum of a max-voltage readout.
    struct split {
        std::uint32_t gap, neuron;
        S time;
        std::int64_t spike;  // -1: readout injection
    };

    /// The adjoint of one layer, from T back to 0: P(s)^T between events, at each arrival
    /// dL/dw += mu_I and dL/da = w (mu_I / tau_s - mu_V / tau_m), at each spike the jump with
    /// gdot = (I - V-)/tau_m + B-/tau_B. `peaks` (max-voltage readout) injects dL/dV_max.
    std::size_t backward_spiking(std::size_t l, const layer_events& lt,
                                 const std::vector<S>& above, std::span<S> grad,
                                 std::vector<S>& below,
                                 const std::vector<typename event_tape<S>::peak>* peaks,
                                 const S* grad_out = nullptr,
                                 const S* inject = nullptr) const {
        using kind = typename event_tape<S>::peak_kind;
        const auto& ls = layers_[l];
        const auto prop = propagator_of(l);
        const std::size_t n = ls.n_out;
        const S* w = store_.values(ls.weight).data();
        S* dw = grad.data() + store_.info(ls.weight).offset;
        const bool spiking = !peaks;
        const S* beta = spiking ? store_.values(ls.beta).data() : nullptr;
        S* dtheta = spiking ? grad.data() + store_.info(ls.theta).offset : nullptr;
        S* dbeta = spiking ? grad.data() + store_.info(ls.beta).offset : nullptr;
        const S tm = prop.tau_m(), ts = prop.tau_s(), tb = prop.tau_b();
        const S min_slope = S(options_.min_crossing_slope);
        std::vector<split> splits;
        if (spiking) {
            splits.reserve(lt.spikes.size());
            for (std::size_t k = 0; k < lt.spikes.size(); ++k)
                splits.push_back({lt.gaps[k], lt.spikes[k].neuron, lt.spikes[k].time,
                                  static_cast<std::int64_t>(k)});
        } else {
            for (std::size_t j = 0; j < n; ++j)
                if ((*peaks)[j].kind == kind::interior)
                    splits.push_back({(*peaks)[j].gap, static_cast<std::uint32_t>(j),
                                      (*peaks)[j].time, -1});
            std::sort(splits.begin(), splits.end(), [](const split& a, const split& b) {
                return a.gap != b.gap ? a.gap < b.gap : a.neuron < b.neuron;
            });
        }
        // the adjoint of every neuron, as a structure of arrays so the layer loops vectorise
        std::vector<S> mu_v(n, S(0)), mu_i(n, S(0)), mu_b(n, S(0));
        const std::size_t M = lt.arrivals.size();
        if (!spiking)
            for (std::size_t j = 0; j < n; ++j)
                if ((*peaks)[j].kind == kind::end) mu_v[j] += grad_out[j];
        std::size_t grazing = 0;
        // each spike's 1 / gdot, with the grazing guard, in one pass the compiler vectorises
        std::vector<S> inv_slope(spiking ? lt.spikes.size() : 0);
        for (std::size_t k = 0; k < inv_slope.size(); ++k)
            inv_slope[k] = spike_slope(prop, lt.before[k]);
        for (auto& q : inv_slope) {
            grazing += q < min_slope;
            q = S(1) / std::max(q, min_slope);
        }
        auto jump = [&](std::size_t j, const split& sp, event::neuron_state<S>& m) {
            if (sp.spike < 0) {
                m.v += grad_out[j];
                return;
            }
            const auto& x = lt.before[static_cast<std::size_t>(sp.spike)];
            const S adapt_term = m.b * beta[j] * prop.inv_tau_b();
            const S total =
                above[static_cast<std::size_t>(sp.spike)] - m.v * x.i * prop.inv_tau_m() + adapt_term;
            const S r = total * inv_slope[static_cast<std::size_t>(sp.spike)];
            dtheta[j] += r;
            dbeta[j] += m.b;
            m.v = inject ? inject[j] - r : -r;
            m.b += r;
        };
        // time-constant gradients: int mu_V (I - V), int mu_I I, int mu_B B over [0, T]
        const bool tau_gradient = ls.tau_m != npos;
        std::optional<state_replay> replay;
        if (tau_gradient) replay.emplace(*this, l, lt);
        double moment_vi = 0, moment_ii = 0, moment_bb = 0;
        auto add_moments = [&](const typename event::propagator<S>::interval_moments& q,
                               double sign) {
            moment_vi += sign * double(q.vi);
            moment_ii += sign * double(q.ii);
            moment_bb += sign * double(q.bb);
        };
        // dL/d(arrival time) per unit weight, mu_I / tau_s - mu_V / tau_m, while mu is unchanged
        // (not needed when nobody reads dL/d(arrival time): `below` empty)
        const bool credit_times = !below.empty();
        const bool synaptic = ls.synaptic();
        S* dsyn = synaptic ? grad.data() + store_.info(ls.synapse_delay).offset : nullptr;
        std::vector<S> credit(n);
        bool stale = true;
        std::size_t cursor = splits.size();  // splits of gaps >= the current one lie past it
        std::vector<std::pair<std::size_t, event::neuron_state<S>>> saved;
        // readout maxima at the kink of an arrival (V_max = V(a-)), latest first
        std::vector<std::pair<std::uint32_t, std::uint32_t>> kinks;  // (gap, neuron)
        if (!spiking)
            for (std::size_t j = 0; j < n; ++j)
                if ((*peaks)[j].kind == kind::arrival)
                    kinks.push_back({(*peaks)[j].gap, static_cast<std::uint32_t>(j)});
        std::sort(kinks.begin(), kinks.end());
        same_time group(lt.arrivals);
        for (std::size_t m = M + 1; m-- > 0;) {
            if (m < M) {
                // the arrivals at one time (the grid's steps) together: the zero-length
                // intervals between them change no adjoint, so they share mu and its credit
                const std::size_t last = m + 1;
                m = group.until(m);
                if (synaptic)
                    for (std::size_t q = m; q < last; ++q) {
                        const std::size_t syn = lt.arrivals[q].source;
                        dw[syn] += mu_i[syn % n];
                    }
                else
                    simd::scatter_rows(n, mu_i.data(), group.sources(), group.count(), dw);
                if (credit_times || synaptic) {
                    if (stale) {
                        const S inv_ts = S(1) / ts, inv_tm = S(1) / tm;
                        for (std::size_t j = 0; j < n; ++j)
                            credit[j] = mu_i[j] * inv_ts - mu_v[j] * inv_tm;
                        stale = false;
                    }
                    for (std::size_t q = m; q < last; ++q) {
                        const auto& a = lt.arrivals[q];
                        // dL/d(arrival time): to the synapse's delay, and to the spike's time
                        // (and so to the axonal delay) through `below`
                        const S da = synaptic ? w[a.source] * credit[a.source % n]
                                              : simd::dot(n, w + std::size_t(a.source) * n,
                                                          credit.data());
                        if (synaptic) dsyn[a.source] += da;
                        if (credit_times) below[a.spike] += da;
                    }
                }
                // a maximum at this time's kink is taped at its first arrival; with synapse
                // delays the kink is that of the first arrival there at its neuron (if none
                // reaches it, V is smooth there and nothing moves the maximum's time)
                for (; !kinks.empty() && kinks.back().first == m; kinks.pop_back()) {
                    const std::size_t j = kinks.back().second;
                    const auto& p = (*peaks)[j];
                    mu_v[j] += grad_out[j];
                    stale = true;
                    std::size_t q = m;
                    if (synaptic)
                        while (q < last && lt.arrivals[q].source % n != j) ++q;
                    if (q == last) continue;
                    const S da = grad_out[j] * (p.current_before - p.value) / tm;
                    if (synaptic) dsyn[lt.arrivals[q].source] += da;
                    if (credit_times) below[lt.arrivals[q].spike] += da;
                }
            }
            const S t_prev = m > 0 ? lt.arrivals[m - 1].time : S(0);
            const S t_next = m < M ? lt.arrivals[m].time : S(options_.duration_ms);
            const S length = t_next - t_prev;
            std::size_t first = cursor;
            while (first > 0 && splits[first - 1].gap == m) --first;
            if (length > S(0)) {
                // a spike at the interval's end (every spike of the grid variant's one-step
                // intervals) jumps in place: the layer-wide step then carries it back
                for (std::size_t k = first; k < cursor; ++k)
                    if (splits[k].time == t_next) {
                        const std::size_t j = splits[k].neuron;
                        event::neuron_state<S> state{mu_v[j], mu_i[j], mu_b[j]};
                        jump(j, splits[k], state);
                        mu_v[j] = state.v, mu_i[j] = state.i, mu_b[j] = state.b;
                    }
                // the neurons with events inside the interval go piecewise
                saved.clear();
                for (std::size_t k = first; k < cursor; ++k)
                    if (splits[k].time != t_next &&
                        (saved.empty() || saved.back().first != splits[k].neuron))
                        saved.push_back({splits[k].neuron,
                                         {mu_v[splits[k].neuron], mu_i[splits[k].neuron],
                                          mu_b[splits[k].neuron]}});
                const auto f = prop.over(length);
                if (tau_gradient) {
                    // every neuron over the whole interval; those with splits are redone
                    // piecewise below (their whole-interval term taken out again)
                    const auto q = prop.moments_over(length, f);
                    for (std::size_t j = 0; j < n; ++j)
                        add_moments(event::propagator<S>::moments(q, replay->at(m, j),
                                                                  {mu_v[j], mu_i[j], mu_b[j]}),
                                    1.0);
                    for (const auto& [j, mu_end] : saved)
                        add_moments(event::propagator<S>::moments(q, replay->at(m, j), mu_end),
                                    -1.0);
                }
                stale = true;
                for (std::size_t j = 0; j < n; ++j) {  // P(s)^T mu
                    mu_i[j] = f.k * mu_v[j] + f.a_s * mu_i[j];
                    mu_v[j] = f.a_m * mu_v[j];
                }
                // a_b is exactly 1 without adaptation (tau_b infinite): mu_B stays as it is
                if (f.a_b != S(1))
                    for (std::size_t j = 0; j < n; ++j) mu_b[j] = f.a_b * mu_b[j];
                // neurons with spikes in this interval: piecewise, latest event first
                std::size_t k = cursor;
                for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
                    const std::size_t j = it->first;
                    auto state = it->second;
                    S t_cur = t_next;
                    while (k > first && splits[k - 1].neuron > j) --k;  // all at the end
                    while (k > first && splits[k - 1].neuron == j) {
                        const auto& sp = splits[--k];
                        if (sp.time == t_next) continue;  // jumped above
                        const auto piece = prop.over(t_cur - sp.time);
                        if (tau_gradient) {
                            // the forward state just after the split: reset after a spike,
                            // unchanged at a readout's maximum
                            const auto x0 = replay->at(m, j);
                            const auto after =
                                sp.spike >= 0
                                    ? event::neuron_state<S>{S(0),
                                                             lt.before[std::size_t(sp.spike)].i,
                                                             lt.before[std::size_t(sp.spike)].b +
                                                                 beta[j]}
                                    : event::propagator<S>::apply(prop.over(sp.time - t_prev), x0);
                            add_moments(event::propagator<S>::moments(
                                            prop.moments_over(t_cur - sp.time, piece), after, state),
                                        1.0);
                        }
                        state = event::propagator<S>::apply_transposed(piece, state);
                        jump(j, sp, state);
                        t_cur = sp.time;
                    }
                    const auto piece = prop.over(t_cur - t_prev);
                    if (tau_gradient)
                        add_moments(event::propagator<S>::moments(
                                        prop.moments_over(t_cur - t_prev, piece),
                                        replay->at(m, j), state),
                                    1.0);
                    state = event::propagator<S>::apply_transposed(piece, state);
                    mu_v[j] = state.v, mu_i[j] = state.i, mu_b[j] = state.b;
                }
            } else {
                // a zero-length interval holds no spike: the crossing search needs length > 0
            }
            cursor = first;
        }
        if (tau_gradient) {
            grad[store_.info(ls.tau_m).offset] += S(-moment_vi / (double(tm) * double(tm)));
            grad[store_.info(ls.tau_s).offset] += S(moment_ii / (double(ts) * double(ts)));
            if (ls.tau_b != npos)
                grad[store_.info(ls.tau_b).offset] += S(moment_bb / (double(tb) * double(tb)));
        }
        return grazing;
    }

    std::vector<std::size_t> sizes_;
    event_network_options options_;
    std::vector<event_layer_options> layer_options_;
    std::vector<layer_state> layers_;
    std::optional<std::size_t> input_delay_;
    parameter_store<S> store_;
    std::vector<S> gradients_;
    mutable network_activity activity_;
};

}  // namespace spikegrad

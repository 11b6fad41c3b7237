/// \file
/// spikegrad: the layer dense<Neuron, Surrogate, Delay>: a dense synapse feeding a neuron's
/// dynamics, the surrogate with which the surrogate-BPTT engine differentiates its spikes, and
/// an optional axonal delay on the output. The policies are checked by the concepts in
/// concepts.hpp, so a misfitting one fails here with one sentence.
#pragma once

#include "../concepts.hpp"
#include "../core/events.hpp"
#include "../core/parameters.hpp"
#include "../core/random.hpp"
#include "../core/time.hpp"
#include "../core/trace.hpp"
#include "../delay/none.hpp"
#include "../engine/surrogate_bptt.hpp"
#include "../surrogate/fast_sigmoid.hpp"
#include "../surrogate/windowed.hpp"
#include "../synapse/dense.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spikegrad {

/// Where a layer's spike derivative is nonzero: |x| <= window, x = v - theta per step.
template <class S>
struct gradient_gate {
    const S* distance = nullptr;  // x [T, n]
    S window = S(0);
};

/// Layer policy: a dense synapse, a neuron's dynamics, its surrogate and an optional axonal delay.
template <class Neuron, class Surrogate = fast_sigmoid, class Delay = no_delay>
struct dense {
    static_assert(neuron_policy<Neuron>,
                  "dense<Neuron, ...>: Neuron is not a neuron policy: it needs a nested `params` "
                  "struct, `static constexpr bool spiking`, a `name` and a `dynamics<Scalar>` "
                  "template with step/adjoint_step (see spikegrad/concepts.hpp and neuron/lif.hpp)");
    static_assert(surrogate_policy<Surrogate>,
                  "dense<Neuron, Surrogate, ...>: Surrogate is not a surrogate policy: it needs "
                  "`spike(x)` and `grad(x)` templated on float, double and xsimd::batch, and "
                  "`static constexpr bool binary` (see spikegrad/concepts.hpp)");
    static_assert(delay_policy<Delay>,
                  "dense<Neuron, Surrogate, Delay>: Delay is not a delay policy: it needs a "
                  "nested `params` struct, `static constexpr bool enabled` and a `model<Scalar>` "
                  "with declare/prepare (see delay/none.hpp and delay/axonal.hpp)");
    static_assert(!Delay::enabled || Neuron::spiking,
                  "dense<Neuron, Surrogate, Delay>: axonal delays need a spiking neuron");

    using neuron_type = Neuron;
    using surrogate_type = Surrogate;
    using delay_type = Delay;
    static constexpr bool spiking = Neuron::spiking;
    static constexpr bool delayed = Delay::enabled;

    /// "dense<lif,fast_sigmoid,axonal_delay>": how architectures and checkpoints name it.
    static std::string name() {
        return std::string("dense<") + Neuron::name + "," + Surrogate::name + "," + Delay::name +
               ">";
    }

    struct options {
        typename Neuron::params neuron{};
        Surrogate surrogate{};
        typename Delay::params delay{};
        bool bias = true;
        /// Weights start ~ U(-s / sqrt(n_in), s / sqrt(n_in)) with s = init_scale; biases at 0.
        double init_scale = 1.0;
        /// [opt-in] Weight normalisation of the dense weights (see dense_synapse::options).
        bool weight_norm = false;
        /// [opt-in] Sparse spiking gradient descent (Perez-Nieves and Goodman 2021): in the
        /// backward pass, neurons with |v - theta| > this pass no gradient (the surrogate is
        /// cut to this window, see windowed<>), and the layer above skips computing their
        /// input gradients. Infinity (the default) keeps the exact surrogate gradient.
        double sparse_gradient_threshold = std::numeric_limits<double>::infinity();
    };

    template <class S>
    class layer {
    public:
        using neuron_model = typename Neuron::template dynamics<S>;
        using delay_model = typename Delay::template model<S>;
        static constexpr std::size_t channels = neuron_model::trace_channels;

        layer() = default;
        layer(const options& o, std::size_t n_in, std::size_t n_out)
            : options_(o), synapse_({.bias = o.bias, .init_scale = o.init_scale, .weight_norm = o.weight_norm},
                       n_in, n_out),
              neuron_(o.neuron, n_out), delay_(o.delay, n_out) {
            if (!(o.sparse_gradient_threshold >= 0))
                raise<option_error>("dense: sparse_gradient_threshold ",
                                    o.sparse_gradient_threshold, " must be >= 0");
        }

        std::size_t n_in() const { return synapse_.n_in(); }
        std::size_t n_out() const { return synapse_.n_out(); }
        const options& layer_options() const { return options_; }
        const neuron_model& neuron() const { return neuron_; }
        const delay_model& delay() const { return delay_; }
        const dense_synapse<S>& synapse() const { return synapse_; }
        std::size_t weight_index() const { return synapse_.weight_index(); }
        std::size_t bias_index() const { return synapse_.bias_index(); }
        std::size_t work_size() const { return neuron_.work_size(); }

        /// |v - theta| beyond which this layer's surrogate gradient is exactly 0: the sparse
        /// gradient threshold or the surrogate's own support, whichever is smaller.
        double gradient_window() const {
            double window = options_.sparse_gradient_threshold;
            if constexpr (requires { options_.surrogate.support(); })
                window = std::min(window, options_.surrogate.support());
            return window;
        }

        /// Whether the layer above may compute this layer's input gradient only inside
        /// gate(tape) (elsewhere the neuron ignores it).
        bool sparse_output_gradient() const {
            if constexpr (spiking && !delayed && Surrogate::binary &&
                          requires { Neuron::gates_output_gradient; }) {
                if constexpr (Neuron::gates_output_gradient)
                    return std::isfinite(gradient_window());
            }
            return false;
        }
        gradient_gate<S> gate(const layer_tape<S>& tape) const {
            return {tape.trace.data(), static_cast<S>(gradient_window())};
        }

        /// Registers "layer<index>.weight", ".bias" and the neuron's and delay's parameters.
        void declare(parameter_store<S>& store, std::size_t index, rng& random,
                     const time_grid& grid) {
            const std::string prefix = "layer" + std::to_string(index);
            synapse_.declare(store, prefix, random);
            neuron_.declare(store, prefix);
            delay_.declare(store, prefix, random, grid);
        }

        /// Derived quantities for this parameter state: leaks, thresholds, delay split, W^T.
        void prepare(const S* values, const time_grid& grid, bool with_transpose) {
            neuron_.prepare(values, grid);
            delay_.prepare(values);
            synapse_.prepare(values, with_transpose);
        }

        /// Once per batch, after the samples' gradients are summed: the synapse's
        /// reparametrisation (weight normalisation) applied to dL/dW.
        void finish_gradients(const S* values, S* grads) const {
            synapse_.finish_gradients(values, grads);
        }

        /// One sample's forward pass: currents from the input events, the neuron's dynamics,
        /// and (spiking layers) the output spikes, delayed when the layer has a delay.
        /// Without `keep_trace` (inference) a spiking layer keeps only its last two steps of
        /// state: its spikes are its output, and no backward pass will read the trace.
        template <class V>
        void forward(event_view<V> input, std::size_t T, layer_tape<S>& tape, S* current,
                     S* work, const S* values, bool keep_trace = true) const {
            // Step by step: the step's current (in `current`'s first row), the neuron's step,
            // its spikes, so that neither a [T, n] current nor the trace passes through L2
            // between loops.
            const bool two_rows = spiking && !keep_trace && T > 2;
            tape.trace.resize((two_rows ? 2 : T) * n_out() * channels);
            const auto current_of = [&](std::size_t t, S* row) {
                synapse_.current_step(input, t, row, values);
            };
            event_train<S>* spikes = nullptr;
            if constexpr (spiking) spikes = &tape.spikes;
            surrogate_bptt::forward_fused(neuron_, current_of, T, options_.surrogate,
                                          tape.trace.data(), work, current, spikes, two_rows);
            if constexpr (delayed) delay_.forward(tape.spikes, T, tape.delayed);
        }

        /// What the next layer receives (spiking layers only).
        event_view<S> output(const layer_tape<S>& tape) const {
            if constexpr (delayed)
                return tape.delayed.view();
            else
                return tape.spikes.view();
        }

        /// The layer's output as a dense [T, n_out] record: the membrane for a readout, the
        /// (delayed) spikes for a spiking layer.
        void write_record(const layer_tape<S>& tape, std::size_t T, S* record) const {
            const std::size_t n = n_out();
            if constexpr (!spiking) {
                std::copy(tape.trace.begin(), tape.trace.begin() + T * n, record);
            } else {
                std::fill(record, record + T * n, S(0));
                const auto out = output(tape);
                for (std::size_t t = 0; t < T; ++t)
                    for (std::size_t e = out.begin(t); e < out.end(t); ++e)
                        record[t * n + out.units[e]] += out.value(e);
            }
        }

        /// One sample's backward pass. g_out = dL/d(output)[T, n_out] (membrane for a
        /// readout, delayed spikes otherwise). Adds parameter gradients to `grads` and, when
        /// g_in is given, writes dL/d(input)[T, n_in]. g_spikes and g_current are scratch.
        template <class V>
        void backward(event_view<V> input, const layer_tape<S>& tape, std::size_t T,
                      const S* g_out, S* g_spikes, S* g_current, S* work, const S* values,
                      S* grads, S* g_in) const {
            const S* g_neuron = g_out;
            if constexpr (delayed) {
                delay_.backward(tape.spikes, g_out, T, g_spikes, grads);
                g_neuron = g_spikes;
            }
            if (std::isfinite(options_.sparse_gradient_threshold))
                surrogate_bptt::backward(neuron_, tape.trace.data(), g_neuron, T,
                                         windowed<Surrogate>{options_.surrogate,
                                                             options_.sparse_gradient_threshold},
                                         g_current, work, values, grads);
            else
                surrogate_bptt::backward(neuron_, tape.trace.data(), g_neuron, T,
                                         options_.surrogate, g_current, work, values, grads);
            synapse_.accumulate(input, g_current, T, grads);
            if (g_in) synapse_.input_gradient(T, g_current, g_in);
        }

        /// The input gradient only inside the gate of the layer below (see dense_synapse).
        void sparse_input_gradient(std::size_t T, const S* g_current, const S* values,
                                   const gradient_gate<S>& below, S* g_in,
                                   std::uint32_t* active) const {
            synapse_.sparse_input_gradient(T, g_current, values, below.distance, below.window,
                                           g_in, active);
        }

    private:
        options options_{};
        dense_synapse<S> synapse_{};
        neuron_model neuron_{};
        delay_model delay_{};
    };
};

}  // namespace spikegrad

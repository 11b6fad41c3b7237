// spikegrad: the dense layer dense<Neuron, Surrogate, Delay>: all-to-all weights stored
// [n_in, n_out] (an input event adds one contiguous row), optional bias, a neuron policy,
// the surrogate that stands in for dH/dv in BPTT, and an optional axonal delay on the output.
#pragma once

#include "../concepts.hpp"
#include "../core/events.hpp"
#include "../core/random.hpp"
#include "../delay/none.hpp"
#include "../network/parameters.hpp"
#include "../network/trace.hpp"
#include "../simd/kernels.hpp"
#include "../surrogate/fast_sigmoid.hpp"
#include "../surrogate/windowed.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spikegrad {

template <class Neuron, class Surrogate = fast_sigmoid, class Delay = no_delay>
struct dense {
    static_assert(neuron_policy<Neuron>,
                  "dense<Neuron, ...>: Neuron is not a neuron policy: it needs a nested "
                  "`params` struct, `static constexpr bool spiking` and a `model<Scalar>` "
                  "template (see spikegrad/concepts.hpp and neuron/lif.hpp)");
    static_assert(surrogate_policy<Surrogate>,
                  "dense<Neuron, Surrogate, ...>: Surrogate is not a surrogate policy: it needs "
                  "`spike(x)` and `grad(x)` templated on float, double and xsimd::batch, and "
                  "`static constexpr bool binary` (see spikegrad/concepts.hpp)");
    static_assert(delay_policy<Delay>,
                  "dense<Neuron, Surrogate, Delay>: Delay is not a delay policy: it needs a "
                  "nested `params` struct, `static constexpr bool enabled` and a `model<Scalar>` "
                  "template (see delay/none.hpp and delay/axonal.hpp)");
    static_assert(!Delay::enabled || Neuron::spiking,
                  "dense<Neuron, Surrogate, Delay>: axonal delays need a spiking neuron");

    using neuron_type = Neuron;
    using surrogate_type = Surrogate;
    using delay_type = Delay;
    static constexpr bool spiking = Neuron::spiking;
    static constexpr bool delayed = Delay::enabled;

    struct options {
        typename Neuron::params neuron{};
        Surrogate surrogate{};
        typename Delay::params delay{};
        bool bias = true;
        /// Weights start ~ U(-s / sqrt(n_in), s / sqrt(n_in)) with s = init_scale; biases at 0.
        double init_scale = 1.0;
        /// [opt-in] Sparse spiking gradient descent (Perez-Nieves and Goodman 2021): in the
        /// backward pass, neurons with |v - theta| > this pass no gradient (the surrogate is
        /// cut to this window, see windowed<>), and the layer above skips computing their
        /// input gradients. Infinity (the default) keeps the exact surrogate gradient.
        double sparse_gradient_threshold = std::numeric_limits<double>::infinity();
    };

    template <class S>
    class layer {
    public:
        using neuron_model = typename Neuron::template model<S>;
        using delay_model = typename Delay::template model<S>;
        static constexpr std::size_t channels = neuron_model::trace_channels;

        layer() = default;
        layer(const options& o, std::size_t n_in, std::size_t n_out)
            : options_(o), n_in_(n_in), n_out_(n_out), neuron_(o.neuron, n_out),
              delay_(o.delay, n_out) {
            if (n_in == 0 || n_out == 0)
                raise<shape_error>("dense: sizes ", n_in, " -> ", n_out, " must be positive");
            if (!(o.init_scale >= 0) || !std::isfinite(o.init_scale))
                raise<option_error>("dense: init_scale ", o.init_scale, " must be >= 0");
            if (!(o.sparse_gradient_threshold >= 0))
                raise<option_error>("dense: sparse_gradient_threshold ",
                                    o.sparse_gradient_threshold, " must be >= 0");
        }

        std::size_t n_in() const { return n_in_; }
        std::size_t n_out() const { return n_out_; }
        const options& layer_options() const { return options_; }
        const neuron_model& neuron() const { return neuron_; }
        const delay_model& delay() const { return delay_; }
        std::size_t weight_index() const { return weight_; }
        std::size_t bias_index() const { return bias_; }
        std::size_t work_size() const { return neuron_.work_size(); }

        /// |v - theta| beyond which this layer's surrogate gradient is exactly 0: the sparse
        /// gradient threshold or the surrogate's own support, whichever is smaller.
        double gradient_window() const {
            double window = options_.sparse_gradient_threshold;
            if constexpr (requires { options_.surrogate.support(); })
                window = std::min(window, options_.surrogate.support());
            return window;
        }

        /// Whether the layer above may compute this layer's input gradient only where
        /// |v - theta| <= gradient_window() (elsewhere the neuron ignores it).
        bool sparse_output_gradient() const {
            if constexpr (spiking && !delayed && Surrogate::binary &&
                          requires { Neuron::gates_output_gradient; }) {
                if constexpr (Neuron::gates_output_gradient)
                    return std::isfinite(gradient_window());
            }
            return false;
        }

        /// The thresholded membrane v[t, j] of a sample (channel 0 of its trace).
        const S* membrane(const layer_tape<S>& tape) const { return tape.trace.data(); }
        S threshold() const { return neuron_.theta(); }

        /// Registers "layer<index>.weight", ".bias" and the neuron's and delay's parameters.
        void declare(parameter_store<S>& store, std::size_t index, rng& random) {
            const std::string prefix = "layer" + std::to_string(index);
            weight_ = store.add(prefix + ".weight", parameter_kind::weight, {n_in_, n_out_});
            const double bound = options_.init_scale / std::sqrt(static_cast<double>(n_in_));
            for (auto& w : store.values(weight_)) w = static_cast<S>(random.uniform(-bound, bound));
            if (options_.bias) bias_ = store.add(prefix + ".bias", parameter_kind::bias, {n_out_});
            neuron_.declare(store, prefix);
            delay_.declare(store, prefix, random);
            weight_offset_ = store.info(weight_).offset;
            if (options_.bias) bias_offset_ = store.info(bias_).offset;
        }

        /// Derived quantities for this parameter state: leaks, delay split, W transposed.
        void prepare(const S* values, double dt_ms, bool with_transpose) {
            neuron_.prepare(values, dt_ms);
            delay_.prepare(values);
            if (with_transpose) {
                weights_t_.resize(n_in_ * n_out_);
                simd::transpose(n_in_, n_out_, values + weight_offset_, weights_t_.data());
            }
        }

        /// One sample's forward pass: currents from the input events, the neuron's dynamics,
        /// and (spiking layers) the output spikes, delayed when the layer has a delay.
        template <class V>
        void forward(event_view<V> input, std::size_t T, layer_tape<S>& tape, S* current,
                     S* work, const S* values) const {
            const S* weights = values + weight_offset_;
            const S* bias = options_.bias ? values + bias_offset_ : nullptr;
            for (std::size_t t = 0; t < T; ++t) {
                const std::size_t first = input.begin(t), count = input.end(t) - first;
                simd::gather_rows(n_out_, weights, input.units + first, count, bias,
                                  current + t * n_out_,
                                  input.values ? input.values + first : nullptr);
            }
            tape.trace.resize(T * n_out_ * channels);
            neuron_.forward(current, T, options_.surrogate, tape.trace.data(), work);
            if constexpr (spiking) {
                emit_spikes(tape.trace.data(), T, tape.spikes);
                if constexpr (delayed) delay_.forward(tape.spikes, T, tape.delayed);
            }
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
            if constexpr (!spiking) {
                std::copy(tape.trace.begin(), tape.trace.begin() + T * n_out_, record);
            } else {
                std::fill(record, record + T * n_out_, S(0));
                const auto out = output(tape);
                for (std::size_t t = 0; t < T; ++t)
                    for (std::size_t e = out.begin(t); e < out.end(t); ++e)
                        record[t * n_out_ + out.units[e]] += out.value(e);
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
                neuron_.backward(tape.trace.data(), g_neuron, T,
                                 windowed<Surrogate>{options_.surrogate,
                                                     options_.sparse_gradient_threshold},
                                 g_current, work, values, grads);
            else
                neuron_.backward(tape.trace.data(), g_neuron, T, options_.surrogate, g_current,
                                 work, values, grads);
            if (options_.bias) {
                S* db = grads + bias_offset_;
                for (std::size_t t = 0; t < T; ++t) simd::add_row(n_out_, g_current + t * n_out_, db);
            }
            S* dw = grads + weight_offset_;
            for (std::size_t t = 0; t < T; ++t) {
                const std::size_t first = input.begin(t), count = input.end(t) - first;
                if (count == 0) continue;
                simd::scatter_rows(n_out_, g_current + t * n_out_, input.units + first, count, dw,
                                   input.values ? input.values + first : nullptr);
            }
            if (g_in) simd::matmul(T, n_out_, n_in_, g_current, weights_t_.data(), g_in);
        }

        /// g_in[t, i] = sum_j g_current[t, j] W[i, j] where |v_in[t, i] - theta| <= window
        /// (the layer below's gradient window), 0 or the full sum elsewhere: the input
        /// gradient that a layer below with sparse_output_gradient() reads. Entries outside
        /// the window are not needed; while they are more than a quarter of the total, each
        /// needed one is a dot product with a row of W, else the whole matrix product is
        /// cheaper. `active` is scratch for n_in + simd::compaction_slack indices.
        void sparse_input_gradient(std::size_t T, const S* g_current, const S* values,
                                   const S* v_in, S theta, S window, S* g_in,
                                   std::uint32_t* active) const {
            std::size_t needed = 0;
            for (std::size_t t = 0; t < T; ++t)
                needed += simd::count_within(n_in_, v_in + t * n_in_, theta, window);
            if (4 * needed > T * n_in_) {
                simd::matmul(T, n_out_, n_in_, g_current, weights_t_.data(), g_in);
                return;
            }
            const S* weights = values + weight_offset_;
            std::fill(g_in, g_in + T * n_in_, S(0));
            for (std::size_t t = 0; t < T; ++t) {
                const S* g = g_current + t * n_out_;
                if (simd::all_zero(n_out_, g)) continue;
                const std::size_t count =
                    simd::indices_within(n_in_, v_in + t * n_in_, theta, window, active);
                S* out = g_in + t * n_in_;
                for (std::size_t k = 0; k < count; ++k)
                    out[active[k]] = simd::dot(n_out_, g, weights + std::size_t(active[k]) * n_out_);
            }
        }

    private:
        void emit_spikes(const S* trace, std::size_t T, event_train<S>& out) const {
            out.clear();
            const S theta = neuron_.theta();
            const auto& sg = options_.surrogate;
            for (std::size_t t = 0; t < T; ++t) {
                const S* v = trace + t * n_out_;
                if constexpr (Surrogate::binary) {
                    const std::size_t count = out.units.size();
                    out.units.resize(count + n_out_ + simd::compaction_slack);
                    const std::size_t found =
                        simd::indices_at_least(n_out_, v, theta, out.units.data() + count);
                    out.units.resize(count + found);
                } else {
                    for (std::size_t j = 0; j < n_out_; ++j) {
                        const S s = sg.spike(v[j] - theta);
                        if (s != S(0)) {
                            out.units.push_back(static_cast<std::uint32_t>(j));
                            out.values.push_back(s);
                        }
                    }
                }
                out.offsets.push_back(out.units.size());
            }
        }

        options options_{};
        std::size_t n_in_ = 0, n_out_ = 0;
        neuron_model neuron_{};
        delay_model delay_{};
        std::size_t weight_ = 0, bias_ = 0;
        std::size_t weight_offset_ = 0, bias_offset_ = 0;
        std::vector<S> weights_t_;
    };
};

}  // namespace spikegrad

/// \file
/// spikegrad: network<Layers...>, a feedforward SNN composed at compile time. Forward runs the
/// time loop layer by layer for each sample; backward is BPTT through the same loop in reverse.
/// Samples of a batch are split over threads (OpenMP); each thread accumulates gradients in its
/// own buffer and the buffers are summed in thread order, so a fixed thread count gives
/// bit-identical results.
#pragma once

#include "../concepts.hpp"
#include "../config.hpp"
#include "../core/activity.hpp"
#include "../core/error.hpp"
#include "../core/events.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../loss/common.hpp"
#include "../simd/kernels.hpp"
#include "../core/parameters.hpp"
#include "../core/time.hpp"
#include "../core/trace.hpp"
#include "layer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikegrad {

/// Options of a network: step length, initialisation seed, threads.
struct network_options {
    /// Step length in ms: leaks are beta = exp(-dt_ms / tau_ms) and delay bounds in ms become
    /// steps with it. Pass the binned batch's `dt_ms`; every batch that knows its step length
    /// must agree (shape_error otherwise).
    double dt_ms = 1.0;
    /// Seed of the parameter initialisation.
    std::uint64_t seed = 0;
    /// Threads a batch is split over; 0 means OpenMP's default (all cores), 1 is serial.
    int threads = 0;
};

namespace detail {

/// Per-thread scratch that is not part of a network's value: copies start empty.
template <class T>
struct scratch {
    T value{};
    scratch() = default;
    scratch(const scratch&) {}
    scratch(scratch&&) noexcept = default;
    scratch& operator=(const scratch&) { return *this; }
    scratch& operator=(scratch&&) noexcept = default;
};

/// The invariants of event_batch::validate that cost O(samples x steps): sizes, ordered
/// offsets, labels. The per-event ones are sample_looks_valid's, checked by the thread that
/// runs the sample, on events it is about to read anyway. (validate, which walks every event
/// with a test per event and names the first bad one, runs only when these fail.)
inline bool shape_looks_valid(const event_batch& batch) {
    const auto& offsets = batch.offsets;
    if (offsets.size() != batch.n_samples * batch.n_steps + 1 || offsets.front() != 0 ||
        offsets.back() != batch.units.size())
        return false;
    if (!batch.values.empty() && batch.values.size() != batch.units.size()) return false;
    if (!batch.labels.empty() && batch.labels.size() != batch.n_samples) return false;
    bool ordered = true;
    for (std::size_t r = 0; r + 1 < offsets.size(); ++r) ordered &= offsets[r] <= offsets[r + 1];
    bool labels = true;
    if (batch.n_classes > 0)
        for (const std::int32_t label : batch.labels)
            labels &= label >= 0 && static_cast<std::size_t>(label) < batch.n_classes;
    return ordered && labels;
}

/// Every event of sample b names a unit < n_units and carries a finite value.
inline bool sample_looks_valid(const event_batch& batch, std::size_t b) {
    const std::size_t first = batch.offsets[b * batch.n_steps];
    const std::size_t last = batch.offsets[(b + 1) * batch.n_steps];
    std::uint32_t top = 0;
    for (std::size_t e = first; e < last; ++e) top = std::max(top, batch.units[e]);
    bool finite = true;
    if (!batch.values.empty())
        for (std::size_t e = first; e < last; ++e) finite &= std::isfinite(batch.values[e]);
    return finite && (first == last || top < batch.n_units);
}

}  // namespace detail

/// A feed-forward SNN of the layers Layers... in Scalar (float or double): forward, BPTT, training
/// steps.
template <class Scalar, class... Layers>
class basic_network {
    static_assert(std::is_floating_point_v<Scalar>,
                  "basic_network<Scalar, ...>: Scalar must be float or double");
    static_assert(sizeof...(Layers) >= 1, "network<...>: a network needs at least one layer");

public:
    using scalar_type = Scalar;
    static constexpr std::size_t depth = sizeof...(Layers);
    using layer_specs = std::tuple<Layers...>;
    using last_layer_spec = std::tuple_element_t<depth - 1, layer_specs>;
    static constexpr bool spiking_output = last_layer_spec::spiking;
    /// Per-sample record of every layer, kept between forward and backward.
    using sample_tape = std::array<layer_tape<Scalar>, depth>;
    using tape = std::vector<sample_tape>;

private:
    static constexpr bool hidden_layers_spike = [] {
        std::size_t k = 0;
        bool ok = true;
        ((ok = ok && (k++ == depth - 1 || Layers::spiking)), ...);
        return ok;
    }();
    static_assert(hidden_layers_spike,
                  "network<...>: every layer but the last must spike; a non-spiking readout "
                  "can only be the last layer");

    using layer_tuple = std::tuple<typename Layers::template layer<Scalar>...>;

    struct workspace {
        std::vector<Scalar> current, g_a, g_b, g_spikes, work, record, g_record, scores;
        sample_tape tape;
        std::vector<Scalar> grads;
        std::vector<std::uint32_t> active;  // sparse input gradients: indices of a step
        network_activity activity;           // spikes per neuron of the samples it ran
    };

public:
    /// Layer sizes {n_in, n_hidden..., n_out}: one more entry than layers.
    explicit basic_network(std::vector<std::size_t> sizes, network_options options = {})
        : basic_network(std::move(sizes), options, typename Layers::options{}...) {}

    basic_network(std::vector<std::size_t> sizes, network_options options,
                  typename Layers::options... layer_options)
        : sizes_(std::move(sizes)), options_(options) {
        if (sizes_.size() != depth + 1)
            raise<shape_error>("network: ", sizes_.size(), " sizes given for ", depth,
                               " layers (need ", depth + 1, ": inputs, then each layer's outputs)");
        if (!(options_.dt_ms > 0) || !std::isfinite(options_.dt_ms))
            raise<option_error>("network: dt_ms ", options_.dt_ms, " must be positive");
        if (options_.threads < 0)
            raise<option_error>("network: threads ", options_.threads, " must be >= 0");
        build(std::index_sequence_for<Layers...>{}, std::forward_as_tuple(layer_options...));
        gradients_.assign(store_.size(), Scalar(0));
    }

    const std::vector<std::size_t>& sizes() const { return sizes_; }
    std::size_t n_inputs() const { return sizes_.front(); }
    std::size_t n_outputs() const { return sizes_.back(); }
    const network_options& options() const { return options_; }

    parameter_store<Scalar>& parameters() { return store_; }
    const parameter_store<Scalar>& parameters() const { return store_; }
    /// dL/dparameters of the last backward or train_step, in the store's layout.
    std::vector<Scalar>& gradients() { return gradients_; }
    const std::vector<Scalar>& gradients() const { return gradients_; }

    /// A tensor view of a parameter's values or gradient, shaped as registered.
    auto parameter(const std::string& name) { return view(store_.flat(), name); }
    auto gradient(const std::string& name) { return view(gradients_, name); }

    template <std::size_t I>
    const auto& layer() const {
        return std::get<I>(layers_);
    }

    int threads() const { return options_.threads > 0 ? options_.threads : max_threads(); }
    void set_threads(int count) {
        if (count < 0) raise<option_error>("network: threads ", count, " must be >= 0");
        options_.threads = count;
    }

    /// The network's clock (n_steps 0: any length).
    time_grid grid() const { return {options_.dt_ms, 0}; }

    /// A description of the architecture: scalar type, every layer's policies and sizes.
    std::string architecture() const { return architecture_of(sizes_); }
    /// The architecture string of this type with the layer sizes `sizes` (depth + 1 of them).
    static std::string architecture_of(const std::vector<std::size_t>& sizes) {
        std::string out = std::is_same_v<Scalar, float> ? "float" : "double";
        std::size_t k = 0;
        ((out += "|" + Layers::name() + "[" + std::to_string(sizes.at(k)) + "->" +
                 std::to_string(sizes.at(k + 1)) + "]",
          ++k),
         ...);
        return out;
    }

    /// Inference: the last layer's record [B, T, n_out] (membrane for a readout, spikes
    /// otherwise) without keeping anything for backward.
    tensor<Scalar, 3> forward(const event_batch& batch) const {
        check_input(batch, "forward");
        prepare(false);
        const std::size_t T = batch.n_steps, n = n_outputs();
        tensor<Scalar, 3> record({batch.n_samples, T, n});
        for_each_sample(batch, [&](std::size_t b, workspace& ws) {
            forward_sample(batch.sample(b), T, ws, ws.tape, false);
            last().write_record(ws.tape[depth - 1], T, record.data() + b * T * n);
        }, false, "forward");
        return record;
    }

    /// Forward keeping the per-sample tape that backward needs.
    tensor<Scalar, 3> forward(const event_batch& batch, tape& kept) const {
        check_input(batch, "forward");
        prepare(false);
        const std::size_t T = batch.n_steps, n = n_outputs();
        tensor<Scalar, 3> record({batch.n_samples, T, n});
        kept.resize(batch.n_samples);
        for_each_sample(batch, [&](std::size_t b, workspace& ws) {
            forward_sample(batch.sample(b), T, ws, kept[b]);
            last().write_record(kept[b][depth - 1], T, record.data() + b * T * n);
        }, false, "forward");
        return record;
    }

    /// BPTT from dL/d(record) [B, T, n_out]; sets gradients() (it does not accumulate).
    void backward(const event_batch& batch, const tape& kept, const tensor<Scalar, 3>& g_record) {
        const std::size_t T = batch.n_steps, n = n_outputs();
        if (kept.size() != batch.n_samples)
            raise<shape_error>("backward: tape holds ", kept.size(), " samples, batch has ",
                               batch.n_samples);
        if (g_record.shape(0) != batch.n_samples || g_record.shape(1) != T ||
            g_record.shape(2) != n)
            raise<shape_error>("backward: gradient shape [", g_record.shape(0), ", ",
                               g_record.shape(1), ", ", g_record.shape(2), "] but record is [",
                               batch.n_samples, ", ", T, ", ", n, "]");
        prepare(true);
        const int used = for_each_sample(
            batch,
            [&](std::size_t b, workspace& ws) {
                backward_sample(batch.sample(b), T, ws, kept[b], g_record.data() + b * T * n);
            },
            true);
        reduce_gradients(used);
    }

    /// Forward, loss and backward of one batch, sample by sample (no batch-wide tape).
    /// Sets gradients() to d(mean loss)/d(parameters); returns the loss and accuracy.
    /// `mean_over` (0: the batch's size) is the number of samples the mean divides by: a
    /// data-parallel step (spikegrad::mpi) runs one shard of a larger global batch.
    template <class Loss>
    step_stats train_step(const event_batch& batch, const Loss& loss, std::size_t mean_over = 0) {
        check_loss<Loss>();
        check_input(batch, "train_step");
        check_labels(batch, "train_step");
        prepare(true);
        const std::size_t T = batch.n_steps, n = n_outputs();
        const Scalar scale =
            Scalar(1) / static_cast<Scalar>(mean_over > 0 ? mean_over : batch.n_samples);
        std::vector<Scalar> losses(batch.n_samples);
        std::vector<prediction_credit> hits(batch.n_samples);
        const int used = for_each_sample(
            batch,
            [&](std::size_t b, workspace& ws) {
                forward_sample(batch.sample(b), T, ws, ws.tape);
                last().write_record(ws.tape[depth - 1], T, ws.record.data());
                losses[b] = loss.evaluate(ws.record.data(), T, n, batch.labels[b],
                                          ws.g_record.data(), scale);
                loss.scores(ws.record.data(), T, n, ws.scores.data());
                hits[b] = credit_of(ws.scores.data(), n, batch.labels[b]);
                backward_sample(batch.sample(b), T, ws, ws.tape, ws.g_record.data());
            },
            true, "train_step");
        reduce_gradients(used);
        return summarise(losses, hits, "train_step");
    }

    /// Loss and accuracy of a labelled batch; optionally the predicted classes.
    template <class Loss>
    step_stats evaluate(const event_batch& batch, const Loss& loss,
                        std::vector<int>* predictions = nullptr) const {
        check_loss<Loss>();
        check_input(batch, "evaluate");
        check_labels(batch, "evaluate");
        prepare(false);
        const std::size_t T = batch.n_steps, n = n_outputs();
        std::vector<Scalar> losses(batch.n_samples);
        std::vector<prediction_credit> hits(batch.n_samples);
        if (predictions) predictions->assign(batch.n_samples, -1);
        for_each_sample(batch, [&](std::size_t b, workspace& ws) {
            forward_sample(batch.sample(b), T, ws, ws.tape, false);
            last().write_record(ws.tape[depth - 1], T, ws.record.data());
            losses[b] = loss.evaluate(ws.record.data(), T, n, batch.labels[b],
                                      static_cast<Scalar*>(nullptr), Scalar(1));
            loss.scores(ws.record.data(), T, n, ws.scores.data());
            hits[b] = credit_of(ws.scores.data(), n, batch.labels[b]);
            if (predictions) (*predictions)[b] = argmax(ws.scores.data(), n);  // first on ties
        }, false, "evaluate");
        return summarise(losses, hits, "evaluate");
    }

    /// The per-thread gradient sums of the last backward or train_step, in thread order (the
    /// samples are split statically into contiguous runs, one per thread): gradients() is their
    /// sum from the left, part 0 first, before finish_gradients(). spikegrad::mpi continues that
    /// sum across processes.
    std::size_t gradient_parts() const { return used_parts_.value; }
    const Scalar* gradient_part(std::size_t k) const {
        if (k >= used_parts_.value)
            raise<shape_error>("network: gradient part ", k, " of ", used_parts_.value);
        return workspaces_.value[k].grads.data();
    }

    /// Turns the summed raw gradients in gradients() into the parameters' gradients where a
    /// layer reparametrises its weights (weight normalisation: dL/dW -> dL/dv, dL/dg); nothing
    /// otherwise. train_step and backward call it; a caller that sums gradient_part()s itself
    /// (spikegrad::mpi) calls it once after the sum.
    void finish_gradients() {
        const Scalar* values = store_.flat().data();
        std::apply([&](auto&... layer) { (layer.finish_gradients(values, gradients_.data()), ...); },
                   layers_);
    }

    /// Per-layer spiking activity of the samples of the last forward, train_step or evaluate.
    const network_activity& activity() const { return activity_.value; }

    /// Memory of BPTT per sample: the tape of the last sample thread 0 ran in a train_step or
    /// a taped forward (every layer's trace and spike lists, what the backward pass reads of
    /// the forward pass; inference keeps two steps of each hidden layer's state), and one
    /// thread's scratch ([T, width] currents and gradient buffers, the output record).
    struct memory_use {
        std::size_t tape_bytes = 0;
        std::size_t scratch_bytes = 0;
    };
    memory_use memory() const {
        memory_use m;
        if (workspaces_.value.empty()) return m;
        const auto& ws = workspaces_.value[0];
        for (const auto& layer : ws.tape) m.tape_bytes += layer.bytes();
        for (const auto* v : {&ws.current, &ws.g_a, &ws.g_b, &ws.g_spikes, &ws.work, &ws.record,
                              &ws.g_record, &ws.scores})
            m.scratch_bytes += v->size() * sizeof(Scalar);
        m.scratch_bytes += ws.active.size() * sizeof(std::uint32_t);
        return m;
    }

    /// Spike counts per hidden layer of the last tape (for activity regularisers and plots).
    static std::vector<std::size_t> spike_counts(const sample_tape& sample) {
        std::vector<std::size_t> counts;
        for (const auto& layer : sample) counts.push_back(layer.spikes.size());
        return counts;
    }

    /// End-of-epoch hook: grows adaptive delay caps ([variant] of the released code).
    void end_epoch(std::size_t epoch) {
        for_each_layer([&](auto& layer) {
            if constexpr (requires { layer.delay().parameter_index(); }) {
                const std::size_t k = layer.delay().parameter_index();
                const auto& info = store_.info(k);
                const double cap =
                    layer.delay().adapt_cap(epoch, store_.flat().data(), info.upper);
                if (cap != info.upper) store_.set_bounds(k, info.lower, cap);
            }
        });
    }

private:
    template <std::size_t... I, class Tuple>
    void build(std::index_sequence<I...>, Tuple&& opts) {
        rng random(options_.seed);
        layers_ = layer_tuple(typename Layers::template layer<Scalar>(
            std::get<I>(opts), sizes_[I], sizes_[I + 1])...);
        (std::get<I>(layers_).declare(store_, I, random, grid()), ...);
        // Scratch rows hold layer outputs and the gradients sent back to hidden layers, never
        // the network's input (events): its width does not count.
        max_width_ = *std::max_element(sizes_.begin() + 1, sizes_.end());
    }

    template <class F>
    void for_each_layer(F&& f) {
        std::apply([&](auto&... layer) { (f(layer), ...); }, layers_);
    }

    auto& last() const { return std::get<depth - 1>(layers_); }

    template <class Loss>
    static constexpr void check_loss() {
        static_assert(loss_policy<Loss>,
                      "network: Loss is not a loss policy: it needs `static constexpr "
                      "record_kind reads`, evaluate(record, T, n, label, grad, scale) and "
                      "scores(record, T, n, out) (see spikegrad/concepts.hpp)");
        static_assert(Loss::reads != record_kind::membrane || !spiking_output,
                      "network: this loss reads the membrane, so the last layer must be a "
                      "non-spiking readout (dense<readout>)");
        static_assert(Loss::reads != record_kind::spikes || spiking_output,
                      "network: this loss reads output spikes, so the last layer must spike "
                      "(e.g. dense<lif>)");
    }

    auto view(std::vector<Scalar>& flat, const std::string& name) {
        const auto& info = store_.info(store_.find(name));
        return xt::adapt(flat.data() + info.offset, info.size, xt::no_ownership(), info.shape);
    }

    void check_input(const event_batch& batch, const char* what) const {
        if (batch.n_units != n_inputs())
            raise<shape_error>(what, ": input has ", batch.n_units, " units but layer 0 expects ",
                               n_inputs());
        if (batch.n_steps == 0) raise<shape_error>(what, ": input has zero steps");
        if (batch.grid().known() && !same_step(batch.dt_ms, options_.dt_ms))
            raise<shape_error>(what, ": input is binned at dt_ms ", batch.dt_ms,
                               " but the network steps at dt_ms ", options_.dt_ms,
                               " (construct it with network_options{.dt_ms = batch.dt_ms})");
        if (!detail::shape_looks_valid(batch)) batch.validate(std::string(what) + ": input");
    }

    void check_labels(const event_batch& batch, const char* what) const {
        if (batch.labels.size() != batch.n_samples)
            raise<data_error>(what, ": the batch has ", batch.labels.size(), " labels for ",
                              batch.n_samples, " samples");
        for (std::size_t b = 0; b < batch.n_samples; ++b)
            if (batch.labels[b] < 0 || static_cast<std::size_t>(batch.labels[b]) >= n_outputs())
                raise<data_error>(what, ": sample ", b, ": label ", batch.labels[b],
                                  " outside [0, ", n_outputs(), ") (the network has ",
                                  n_outputs(), " outputs)");
    }

    step_stats summarise(const std::vector<Scalar>& losses,
                         const std::vector<prediction_credit>& hits, const char* what) const {
        step_stats stats;
        for (std::size_t b = 0; b < losses.size(); ++b) {
            if (!std::isfinite(losses[b]))
                raise<numeric_error>(what, ": sample ", b, ": loss is ",
                                     static_cast<double>(losses[b]));
            stats.loss_sum += static_cast<double>(losses[b]);
            stats.correct += hits[b].credit;
            stats.ties += hits[b].tie ? 1 : 0;
        }
        stats.samples = losses.size();
        return stats;
    }

    void prepare(bool for_backward) const {
        const Scalar* values = store_.flat().data();
        std::size_t k = 0;
        std::apply(
            [&](auto&... layer) {
                ((layer.prepare(values, grid(), for_backward && k++ > 0)), ...);
            },
            layers_);
    }

    /// Runs f(b, workspace) for every sample, split statically over the threads; returns how
    /// many workspaces were used. With `gradients`, each used workspace's grads start at zero.
    /// With `check` (the caller's name for messages), each sample's events are checked first.
    template <class F>
    int for_each_sample(const event_batch& batch, F&& f, bool gradients = false,
                        const char* check = nullptr) const {
        const std::size_t B = batch.n_samples;
        const int count = static_cast<int>(
            std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads()), B)));
        auto& spaces = workspaces_.value;
        if (spaces.size() < static_cast<std::size_t>(count)) spaces.resize(count);
        const std::size_t T = batch.n_steps;
        for (int k = 0; k < count; ++k) {
            auto& ws = spaces[k];
            const std::size_t wide = T * max_width_;
            ws.current.resize(wide);
            ws.g_a.resize(wide);
            ws.g_b.resize(wide);
            ws.g_spikes.resize(wide);
            ws.work.resize(max_work());
            ws.record.resize(T * n_outputs());
            ws.g_record.resize(T * n_outputs());
            ws.scores.resize(n_outputs());
            ws.active.resize(max_width_ + simd::compaction_slack);
            if (gradients) ws.grads.assign(store_.size(), Scalar(0));
            reset_activity(ws.activity);
        }
        std::exception_ptr failure;
#if SPIKEGRAD_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(count)
        for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(B); ++b) {
            try {
                if (check && !detail::sample_looks_valid(batch, static_cast<std::size_t>(b)))
                    batch.validate(std::string(check) + ": input");
                f(static_cast<std::size_t>(b), spaces[omp_get_thread_num()]);
            } catch (...) {
#pragma omp critical(spikegrad_failure)
                if (!failure) failure = std::current_exception();
            }
        }
#else
        for (std::size_t b = 0; b < B; ++b) {
            if (check && !detail::sample_looks_valid(batch, b))
                batch.validate(std::string(check) + ": input");
            f(b, spaces[0]);
        }
#endif
        if (failure) std::rethrow_exception(failure);
        auto& total = activity_.value;
        reset_activity(total);
        for (int k = 0; k < count; ++k) total += spaces[k].activity;
        return count;
    }

    void reset_activity(network_activity& activity) const {
        activity.resize(depth);
        std::size_t k = 0;
        ((activity[k].reset(Layers::spiking, sizes_[k + 1]), ++k), ...);
    }

    /// Adds one sample's spikes (before delays) to the thread's activity.
    static void count_activity(const sample_tape& kept, std::size_t T, network_activity& activity) {
        for (std::size_t k = 0; k < depth; ++k) {
            auto& a = activity[k];
            if (!a.spiking) continue;
            a.steps += T;
            for (const std::uint32_t unit : kept[k].spikes.units) ++a.per_neuron[unit];
        }
    }

    void reduce_gradients(int used) {
        used_parts_.value = static_cast<std::size_t>(used);
        auto& spaces = workspaces_.value;
        std::copy(spaces[0].grads.begin(), spaces[0].grads.end(), gradients_.begin());
        for (int k = 1; k < used; ++k)
            simd::add_row(gradients_.size(), spaces[k].grads.data(), gradients_.data());
        finish_gradients();
    }

    std::size_t max_work() const {
        std::size_t w = 1;
        std::apply([&](const auto&... layer) { ((w = std::max(w, layer.work_size())), ...); },
                   layers_);
        return w;
    }

    template <std::size_t I>
    void forward_layer(event_view<float> input, std::size_t T, workspace& ws,
                       sample_tape& kept, bool keep_trace) const {
        const Scalar* values = store_.flat().data();
        if constexpr (I == 0)
            std::get<0>(layers_).forward(input, T, kept[0], ws.current.data(), ws.work.data(),
                                         values, keep_trace);
        else
            std::get<I>(layers_).forward(std::get<I - 1>(layers_).output(kept[I - 1]), T,
                                         kept[I], ws.current.data(), ws.work.data(), values,
                                         keep_trace);
    }

    /// One sample through every layer; without `keep_trace` (inference: no backward pass
    /// follows) the spiking layers keep only two steps of state.
    void forward_sample(event_view<float> input, std::size_t T, workspace& ws,
                        sample_tape& kept, bool keep_trace = true) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (forward_layer<I>(input, T, ws, kept, keep_trace), ...);
        }(std::make_index_sequence<depth>{});
        count_activity(kept, T, ws.activity);
    }

    template <std::size_t I>
    void backward_layer(event_view<float> input, std::size_t T, workspace& ws,
                        const sample_tape& kept, const Scalar* g_out, bool flip) const {
        const Scalar* values = store_.flat().data();
        const auto& layer = std::get<I>(layers_);
        if constexpr (I == 0) {
            layer.backward(input, kept[0], T, g_out, ws.g_spikes.data(), ws.current.data(),
                           ws.work.data(), values, ws.grads.data(), static_cast<Scalar*>(nullptr));
        } else {
            Scalar* g_in = flip ? ws.g_b.data() : ws.g_a.data();
            const auto& below = std::get<I - 1>(layers_);
            // Where the layer below cannot use an input gradient (its surrogate gradient is
            // exactly 0 there), it is not computed.
            const bool sparse = below.sparse_output_gradient();
            layer.backward(below.output(kept[I - 1]), kept[I], T, g_out, ws.g_spikes.data(),
                           ws.current.data(), ws.work.data(), values, ws.grads.data(),
                           sparse ? static_cast<Scalar*>(nullptr) : g_in);
            if (sparse)
                layer.sparse_input_gradient(T, ws.current.data(), values, below.gate(kept[I - 1]),
                                            g_in, ws.active.data());
            backward_layer<I - 1>(input, T, ws, kept, g_in, !flip);
        }
    }

    void backward_sample(event_view<float> input, std::size_t T, workspace& ws,
                         const sample_tape& kept, const Scalar* g_record) const {
        backward_layer<depth - 1>(input, T, ws, kept, g_record, false);
    }

    std::vector<std::size_t> sizes_;
    network_options options_;
    parameter_store<Scalar> store_;
    std::vector<Scalar> gradients_;
    mutable layer_tuple layers_;
    std::size_t max_width_ = 0;
    mutable detail::scratch<std::vector<workspace>> workspaces_;
    mutable detail::scratch<network_activity> activity_;
    detail::scratch<std::size_t> used_parts_;
};

/// The float network, the common case.
template <class... Layers>
using network = basic_network<float, Layers...>;

}  // namespace spikegrad

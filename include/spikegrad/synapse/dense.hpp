/// \file
/// spikegrad: the dense synapse: all-to-all weights stored [n_in, n_out] (an input event adds
/// one contiguous row), an optional bias, and their gradients. Any gradient engine that turns
/// input events into currents (and currents' gradients back) uses it; the layer that puts a
/// neuron behind it is network/layer.hpp.
#pragma once

#include "../core/error.hpp"
#include "../core/events.hpp"
#include "../core/parameters.hpp"
#include "../core/random.hpp"
#include "../simd/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spikegrad {

/// All-to-all weights [n_in, n_out] and an optional bias: currents from input events, and their
/// gradients.
template <class S>
class dense_synapse {
public:
    struct options {
        bool bias = true;
        /// Weights start ~ U(-s / sqrt(n_in), s / sqrt(n_in)) with s = init_scale; biases at 0.
        double init_scale = 1.0;
        /// [opt-in] Weight normalisation (Salimans and Kingma 2016; the paper's code wraps
        /// every dense layer in torch's weight_norm over the input dimension): each output
        /// j's weights are W[:, j] = g[j] v[:, j] / ||v[:, j]||, with "<prefix>.weight" = v
        /// and "<prefix>.gain" = g trained. g starts at ||v[:, j]||, so the initial W is the
        /// unnormalised one.
        bool weight_norm = false;
    };

    dense_synapse() = default;
    dense_synapse(const options& o, std::size_t n_in, std::size_t n_out)
        : options_(o), n_in_(n_in), n_out_(n_out) {
        if (n_in == 0 || n_out == 0)
            raise<shape_error>("dense: sizes ", n_in, " -> ", n_out, " must be positive");
        if (!(o.init_scale >= 0) || !std::isfinite(o.init_scale))
            raise<option_error>("dense: init_scale ", o.init_scale, " must be >= 0");
    }

    std::size_t n_in() const { return n_in_; }
    std::size_t n_out() const { return n_out_; }
    std::size_t weight_index() const { return weight_; }
    std::size_t bias_index() const { return bias_; }
    bool has_bias() const { return options_.bias; }
    bool weight_normalised() const { return options_.weight_norm; }
    std::size_t gain_index() const { return gain_; }

    /// The effective weights W [n_in, n_out] for this parameter state (after prepare(values)
    /// when weight-normalised): what exporters and inference engines must use.
    const S* weights(const S* values) const {
        return options_.weight_norm ? effective_.data() : values + weight_offset_;
    }

    /// Registers "<prefix>.weight" (drawn from `random`) and "<prefix>.bias" (zeros).
    void declare(parameter_store<S>& store, const std::string& prefix, rng& random) {
        weight_ = store.add(prefix + ".weight", parameter_kind::weight, {n_in_, n_out_});
        const double bound = options_.init_scale / std::sqrt(static_cast<double>(n_in_));
        for (auto& w : store.values(weight_)) w = static_cast<S>(random.uniform(-bound, bound));
        if (options_.bias) bias_ = store.add(prefix + ".bias", parameter_kind::bias, {n_out_});
        if (options_.weight_norm) {
            gain_ = store.add(prefix + ".gain", parameter_kind::weight, {n_out_});
            const auto v = store.values(weight_);
            auto g = store.values(gain_);
            for (std::size_t j = 0; j < n_out_; ++j) {
                double norm2 = 0;
                for (std::size_t i = 0; i < n_in_; ++i)
                    norm2 += double(v[i * n_out_ + j]) * double(v[i * n_out_ + j]);
                g[j] = static_cast<S>(std::sqrt(norm2));
            }
        }
        weight_offset_ = store.info(weight_).offset;
        if (options_.bias) bias_offset_ = store.info(bias_).offset;
        if (options_.weight_norm) gain_offset_ = store.info(gain_).offset;
    }

    /// The effective weights (weight normalisation) and W transposed, for input gradients
    /// (only layers that pass gradients down need it).
    void prepare(const S* values, bool with_transpose) {
        if (options_.weight_norm) normalise(values);
        if (!with_transpose) return;
        weights_t_.resize(n_in_ * n_out_);
        simd::transpose(n_in_, n_out_, weights(values), weights_t_.data());
    }

    /// Turns the summed dL/dW in the weight slot of `grads` into dL/dv there and dL/dg in the
    /// gain slot (weight normalisation; nothing otherwise). Called once per batch, after the
    /// per-sample gradients are summed, with the state of the last prepare(values):
    /// dL/dg[j] = sum_i dW[i, j] v[i, j] / |v_j|,
    /// dL/dv[i, j] = g[j] / |v_j| (dW[i, j] - dL/dg[j] v[i, j] / |v_j|).
    void finish_gradients(const S* values, S* grads) const {
        if (!options_.weight_norm) return;
        const S* v = values + weight_offset_;
        const S* g = values + gain_offset_;
        S* dw = grads + weight_offset_;
        S* dg = grads + gain_offset_;
        for (std::size_t j = 0; j < n_out_; ++j) {
            double dot = 0;
            for (std::size_t i = 0; i < n_in_; ++i)
                dot += double(dw[i * n_out_ + j]) * double(v[i * n_out_ + j]);
            const double inv = inverse_norms_[j], d_gain = dot * inv;
            dg[j] += static_cast<S>(d_gain);
            const double scale = double(g[j]) * inv, along = d_gain * inv;
            for (std::size_t i = 0; i < n_in_; ++i) {
                S& d = dw[i * n_out_ + j];
                d = static_cast<S>(scale * (double(d) - along * double(v[i * n_out_ + j])));
            }
        }
    }

    /// current[t, j] = bias[j] + sum over input events e at t of value(e) W[unit(e), j].
    template <class V>
    void currents(event_view<V> input, std::size_t T, S* current, const S* values) const {
        const S* weights = this->weights(values);
        const S* bias = options_.bias ? values + bias_offset_ : nullptr;
        for (std::size_t t = 0; t < T; ++t) {
            const std::size_t first = input.begin(t), count = input.end(t) - first;
            simd::gather_rows(n_out_, weights, input.units + first, count, bias,
                              current + t * n_out_, input.values ? input.values + first : nullptr);
        }
    }

    /// current[j] = bias[j] + sum over input events e at step t of value(e) W[unit(e), j]: one
    /// step of currents().
    template <class V>
    void current_step(event_view<V> input, std::size_t t, S* current, const S* values) const {
        const std::size_t first = input.begin(t), count = input.end(t) - first;
        simd::gather_rows(n_out_, weights(values), input.units + first, count,
                          options_.bias ? values + bias_offset_ : nullptr, current,
                          input.values ? input.values + first : nullptr);
    }

    /// Adds dL/dW and dL/db from dL/dcurrent [T, n_out] to `grads`. The events are grouped
    /// by input unit (a counting sort of the sample's events), so that each touched row of
    /// dL/dW is read and written once: dW[i] += value * g_current[t] over unit i's events, in
    /// step order (the order, and so the rounding, of adding step by step). Steps after the
    /// last one with a nonzero current gradient (with max-over-time losses, often many) add
    /// nothing and are skipped.
    template <class V>
    void accumulate(event_view<V> input, const S* g_current, std::size_t T, S* grads) const {
        std::size_t steps = T;
        while (steps > 0 && simd::all_zero(n_out_, g_current + (steps - 1) * n_out_)) --steps;
        if (options_.bias) {
            S* db = grads + bias_offset_;
            for (std::size_t t = 0; t < steps; ++t) simd::add_row(n_out_, g_current + t * n_out_, db);
        }
        if (steps == 0) return;
        S* dw = grads + weight_offset_;
        const std::size_t first = input.begin(0), events = input.begin(steps) - first;
        if (events == 0) return;
        // Per-thread scratch, taken by reference once (not a TLS look-up per access).
        thread_local std::vector<std::uint32_t> start_scratch, order_scratch;
        thread_local std::vector<V> weight_scratch;
        auto& start = start_scratch;
        auto& order = order_scratch;
        auto& weights = weight_scratch;
        start.assign(n_in_ + 1, 0);
        order.resize(events);
        const std::uint32_t* units = input.units;
        for (std::size_t e = first; e < first + events; ++e) ++start[units[e] + 1];
        for (std::size_t i = 0; i < n_in_; ++i) start[i + 1] += start[i];
        // start[i] is now the slot of unit i's first event; fill in step order.
        if (input.values) weights.resize(events);
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t e = input.begin(t); e < input.end(t); ++e) {
                const std::uint32_t slot = start[units[e]]++;
                order[slot] = static_cast<std::uint32_t>(t);
                if (input.values) weights[slot] = input.values[e];
            }
        // start[i] is now the end of unit i's events (the beginning of unit i + 1's).
        std::uint32_t begin = 0;
        for (std::size_t i = 0; i < n_in_; ++i) {
            const std::uint32_t end = start[i];
            if (end > begin) {
                S* row = dw + i * n_out_;
                simd::gather_rows(n_out_, g_current, order.data() + begin, end - begin, row, row,
                                  input.values ? weights.data() + begin : nullptr);
            }
            begin = end;
        }
    }

    /// g_in[t, i] = sum_j g_current[t, j] W[i, j] (needs prepare(values, true)).
    void input_gradient(std::size_t T, const S* g_current, S* g_in) const {
        simd::matmul(T, n_out_, n_in_, g_current, weights_t_.data(), g_in);
    }

    /// The same where |x_in[t, i]| <= window (the layer below's gradient window around its
    /// threshold), 0 or the full sum elsewhere. Entries outside the window are not needed;
    /// while they are more than a quarter of the total, each needed one is a dot product with
    /// a row of W, else the whole matrix product is cheaper. `active` is scratch for
    /// n_in + simd::compaction_slack indices.
    void sparse_input_gradient(std::size_t T, const S* g_current, const S* values, const S* x_in,
                               S window, S* g_in, std::uint32_t* active) const {
        std::size_t needed = 0;
        for (std::size_t t = 0; t < T; ++t)
            needed += simd::count_within(n_in_, x_in + t * n_in_, S(0), window);
        if (4 * needed > T * n_in_) {
            input_gradient(T, g_current, g_in);
            return;
        }
        const S* weights = this->weights(values);
        std::fill(g_in, g_in + T * n_in_, S(0));
        for (std::size_t t = 0; t < T; ++t) {
            const S* g = g_current + t * n_out_;
            if (simd::all_zero(n_out_, g)) continue;
            const std::size_t count =
                simd::indices_within(n_in_, x_in + t * n_in_, S(0), window, active);
            S* out = g_in + t * n_in_;
            for (std::size_t k = 0; k < count; ++k)
                out[active[k]] = simd::dot(n_out_, g, weights + std::size_t(active[k]) * n_out_);
        }
    }

private:
    /// effective_ = g v / |v| column by column; a zero column gives zero weights (and a zero
    /// gradient) where torch's weight_norm would give NaN.
    void normalise(const S* values) {
        const S* v = values + weight_offset_;
        const S* g = values + gain_offset_;
        effective_.resize(n_in_ * n_out_);
        inverse_norms_.assign(n_out_, 0.0);
        for (std::size_t i = 0; i < n_in_; ++i)
            for (std::size_t j = 0; j < n_out_; ++j)
                inverse_norms_[j] += double(v[i * n_out_ + j]) * double(v[i * n_out_ + j]);
        for (auto& n : inverse_norms_) n = n > 0 ? 1.0 / std::sqrt(n) : 0.0;
        for (std::size_t i = 0; i < n_in_; ++i)
            for (std::size_t j = 0; j < n_out_; ++j)
                effective_[i * n_out_ + j] =
                    static_cast<S>(double(g[j]) * inverse_norms_[j] * double(v[i * n_out_ + j]));
    }

    options options_{};
    std::size_t n_in_ = 0, n_out_ = 0;
    std::size_t weight_ = 0, bias_ = 0, gain_ = 0;
    std::size_t weight_offset_ = 0, bias_offset_ = 0, gain_offset_ = 0;
    std::vector<S> weights_t_, effective_;
    std::vector<double> inverse_norms_;
};

}  // namespace spikegrad

/// \file
/// spikegrad: one SpikingGamma layer (Koopman, Otte, Bohte, arXiv 2602.01978): every input
/// feeds a gamma cascade of K buckets (gamma/buckets.hpp), and neuron j reads
///   a_j[t] = sum_i sum_k w_ij v_(j|ij)k b_ik[t] + bias_j,    y_j = ReLU(a_j) (hidden) or a_j (last),
/// with bucket weights v per neuron [n_out, K] (default) or per synapse [n_in, n_out, K]. A
/// learned mix of buckets is a learnable smoothed delay. The layer has no self-recurrence:
/// its only memory is the linear bucket recursion, which is what makes exact online gradients
/// cheap (gamma/network.hpp). Choices the paper leaves open: docs/spiking_gamma.md.
#pragma once

#include "../core/error.hpp"
#include "../core/parameters.hpp"
#include "../core/random.hpp"
#include "../core/time.hpp"
#include "buckets.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace spikegrad {

/// Whose bucket weights v are: one set of K per neuron (the default) or per synapse.
enum class bucket_weights { per_neuron, per_synapse };

/// Settings of a SpikingGamma layer: buckets K, tau, bucket-weight sharing, initialisation.
struct gamma_layer_options {
    /// Buckets per cascade, K.
    std::size_t buckets = 4;
    /// Time constant of every bucket of the layer (alpha = exp(-dt / tau)), ms; not trained.
    double tau_ms = 10;
    bucket_weights weights = bucket_weights::per_neuron;
    /// Weights ~ U(+-init_scale / sqrt(n_in)).
    double init_scale = 1;
    /// Initial bias of every neuron. A small positive value keeps hidden ReLUs active at the
    /// start of training (a heuristic against dead units; docs/spiking_gamma.md).
    double bias_init = 0;
};

/// One SpikingGamma layer: gamma cascades per input and the neurons' weighted bucket sums.
template <class S>
class gamma_layer {
public:
    /// Per-sample state of the forward pass (constant in T).
    struct state {
        std::vector<S> c;  // neuron buckets [n_out, K] (per-neuron weights)
        std::vector<S> b;  // input buckets [n_in, K] (gradients, per-synapse weights)
        std::vector<S> R;  // sum_i w_ij r_i, the receiver's weighted reconstruction [n_out]
        std::vector<S> a, y;
    };

    gamma_layer() = default;
    gamma_layer(const gamma_layer_options& o, std::size_t n_in, std::size_t n_out, bool hidden,
                bool first)
        : options_(o), n_in_(n_in), n_out_(n_out), hidden_(hidden), first_(first) {
        if (o.buckets == 0) raise<option_error>("gamma_layer: buckets must be >= 1");
        if (!(o.tau_ms > 0) || !std::isfinite(o.tau_ms))
            raise<option_error>("gamma_layer: tau_ms ", o.tau_ms, " must be > 0");
        if (!std::isfinite(o.bias_init) || !std::isfinite(o.init_scale) || !(o.init_scale >= 0))
            raise<option_error>("gamma_layer: init_scale ", o.init_scale, " and bias_init ",
                                o.bias_init, " must be finite (init_scale >= 0)");
        if (n_in == 0 || n_out == 0)
            raise<shape_error>("gamma_layer: sizes ", n_in, " -> ", n_out, " must be >= 1");
    }

    std::size_t n_in() const { return n_in_; }
    std::size_t n_out() const { return n_out_; }
    std::size_t buckets() const { return options_.buckets; }
    bool hidden() const { return hidden_; }
    bool first() const { return first_; }
    bool per_synapse() const { return options_.weights == bucket_weights::per_synapse; }
    S alpha() const { return alpha_; }
    const gamma_layer_options& options() const { return options_; }
    /// Offsets of the layer's parameters in the store, and their total count.
    std::size_t weight_offset() const { return w_; }
    std::size_t bucket_offset() const { return v_; }
    std::size_t bias_offset() const { return bias_; }
    std::size_t parameter_begin() const { return w_; }
    std::size_t parameter_end() const { return bias_ + n_out_; }

    void declare(parameter_store<S>& store, std::size_t index, rng& random) {
        const std::string prefix = "layer" + std::to_string(index) + ".";
        const std::size_t K = options_.buckets;
        const auto w = store.add(prefix + "weight", parameter_kind::weight, {n_in_, n_out_});
        const auto v = per_synapse()
                           ? store.add(prefix + "bucket_weight", parameter_kind::weight, {n_in_, n_out_, K})
                           : store.add(prefix + "bucket_weight", parameter_kind::weight, {n_out_, K});
        const auto bias = store.add(prefix + "bias", parameter_kind::bias, {n_out_});
        w_ = store.info(w).offset;
        v_ = store.info(v).offset;
        bias_ = store.info(bias).offset;
        const double s = options_.init_scale / std::sqrt(double(n_in_));
        for (auto& x : store.values(w)) x = S(random.uniform(-s, s));
        // Bucket mixes start near uniform (a smoothed delay of K tau / 2 on average).
        for (auto& x : store.values(v)) x = S((1.0 + random.uniform(-0.5, 0.5)) / double(K));
        for (auto& x : store.values(bias)) x = S(options_.bias_init);
    }

    void prepare(double dt_ms) { alpha_ = S(time_grid{dt_ms, 1}.decay(options_.tau_ms)); }

    /// v(i, j, k) of the current parameters.
    S bucket_weight(const S* p, std::size_t i, std::size_t j, std::size_t k) const {
        const std::size_t K = options_.buckets;
        return per_synapse() ? p[v_ + (i * n_out_ + j) * K + k] : p[v_ + j * K + k];
    }
    /// Q_ijk = w_ij v(i, j, k): the weight of input bucket (i, k) in a_j.
    S coefficient(const S* p, std::size_t i, std::size_t j, std::size_t k) const {
        return p[w_ + i * n_out_ + j] * bucket_weight(p, i, j, k);
    }

    /// Zero state; `inputs` keeps the input buckets (needed by gradients, per-synapse weights).
    void reset(state& s, bool inputs) const {
        const std::size_t K = options_.buckets;
        s.c.assign(per_synapse() ? 0 : n_out_ * K, S(0));
        s.b.assign(inputs || per_synapse() ? n_in_ * K : 0, S(0));
        s.R.assign(n_out_, S(0));
        s.a.assign(n_out_, S(0));
        s.y.assign(n_out_, S(0));
    }

    /// One step. The input is either impulses (first layer: `units`/`values` of the step's
    /// events, values nullptr = all ones) or the lower layer's reconstruction r with its
    /// quanta m (hidden input: r changes only where m != 0 unless `dense_r`, then every r_i
    /// may have changed and R is recomputed), with `r_decay` its per-step leak.
    void step_impulses(state& s, const S* p, const std::uint32_t* units, const float* values,
                       std::size_t n_events) const {
        const std::size_t K = options_.buckets;
        if (!s.b.empty()) {
            gamma_leak(s.b.data(), n_in_, K, alpha_);
            for (std::size_t e = 0; e < n_events; ++e)
                s.b[units[e] * K] += values ? S(values[e]) : S(1);
        }
        if (!per_synapse()) {
            gamma_leak(s.c.data(), n_out_, K, alpha_);
            for (std::size_t e = 0; e < n_events; ++e) {
                const S x = values ? S(values[e]) : S(1);
                const S* row = p + w_ + std::size_t(units[e]) * n_out_;
                for (std::size_t j = 0; j < n_out_; ++j) s.c[j * K] += x * row[j];
            }
        }
        finish(s, p);
    }

    void step_levels(state& s, const S* p, const S* r, const long* m, S quantum, S r_decay,
                     bool dense_r) const {
        const std::size_t K = options_.buckets;
        const S gain = S(1) - alpha_;
        if (!s.b.empty()) {
            gamma_leak(s.b.data(), n_in_, K, alpha_);
            for (std::size_t i = 0; i < n_in_; ++i) s.b[i * K] += gain * r[i];
        }
        if (!per_synapse()) {
            if (dense_r) {
                std::fill(s.R.begin(), s.R.end(), S(0));
                for (std::size_t i = 0; i < n_in_; ++i) {
                    if (r[i] == S(0)) continue;
                    const S* row = p + w_ + i * n_out_;
                    for (std::size_t j = 0; j < n_out_; ++j) s.R[j] += r[i] * row[j];
                }
            } else {
                if (r_decay != S(1))
                    for (auto& x : s.R) x *= r_decay;
                for (std::size_t i = 0; i < n_in_; ++i) {
                    if (m[i] == 0) continue;
                    const S q = S(m[i]) * quantum;
                    const S* row = p + w_ + i * n_out_;
                    for (std::size_t j = 0; j < n_out_; ++j) s.R[j] += q * row[j];
                }
            }
            gamma_leak(s.c.data(), n_out_, K, alpha_);
            for (std::size_t j = 0; j < n_out_; ++j) s.c[j * K] += gain * s.R[j];
        }
        finish(s, p);
    }

    /// dL/dQ_ijk = ga_j b_ik folded into the parameters' gradients (exact given the inputs).
    void add_parameter_gradients(const S* ga, const S* b, const S* p, S* g) const {
        const std::size_t K = options_.buckets;
        for (std::size_t j = 0; j < n_out_; ++j) g[bias_ + j] += ga[j];
        for (std::size_t i = 0; i < n_in_; ++i) {
            const S* bi = b + i * K;
            bool any = false;
            for (std::size_t k = 0; k < K; ++k) any = any || bi[k] != S(0);
            if (!any) continue;
            for (std::size_t j = 0; j < n_out_; ++j) {
                if (ga[j] == S(0)) continue;
                S gw = 0;
                const S w = p[w_ + i * n_out_ + j];
                for (std::size_t k = 0; k < K; ++k) {
                    const S gq = ga[j] * bi[k];
                    gw += gq * bucket_weight(p, i, j, k);
                    if (per_synapse()) g[v_ + (i * n_out_ + j) * K + k] += gq * w;
                    else g[v_ + j * K + k] += gq * w;
                }
                g[w_ + i * n_out_ + j] += gw;
            }
        }
    }

    /// gb_ik += sum_j Q_ijk ga_j: the gradient reaching the input buckets.
    void add_bucket_gradient(const S* ga, const S* p, S* gb) const {
        const std::size_t K = options_.buckets;
        for (std::size_t j = 0; j < n_out_; ++j) {
            if (ga[j] == S(0)) continue;
            for (std::size_t i = 0; i < n_in_; ++i)
                for (std::size_t k = 0; k < K; ++k) gb[i * K + k] += coefficient(p, i, j, k) * ga[j];
        }
    }

    /// dy/da of the layer's nonlinearity: the exact ReLU derivative (0 at a <= 0), 1 when last.
    S slope(S a) const { return hidden_ ? (a > S(0) ? S(1) : S(0)) : S(1); }

private:
    void finish(state& s, const S* p) const {
        const std::size_t K = options_.buckets;
        for (std::size_t j = 0; j < n_out_; ++j) {
            S a = p[bias_ + j];
            if (per_synapse()) {
                for (std::size_t i = 0; i < n_in_; ++i)
                    for (std::size_t k = 0; k < K; ++k) a += coefficient(p, i, j, k) * s.b[i * K + k];
            } else {
                for (std::size_t k = 0; k < K; ++k) a += p[v_ + j * K + k] * s.c[j * K + k];
            }
            s.a[j] = a;
            s.y[j] = hidden_ ? std::max(a, S(0)) : a;
        }
    }

    gamma_layer_options options_{};
    std::size_t n_in_ = 0, n_out_ = 0;
    bool hidden_ = true, first_ = true;
    S alpha_ = S(0);
    std::size_t w_ = 0, v_ = 0, bias_ = 0;
};

}  // namespace spikegrad

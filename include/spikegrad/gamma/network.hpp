/// \file
/// spikegrad: the SpikingGamma network and its three gradient engines (issue 14; Koopman,
/// Otte, Bohte, arXiv 2602.01978). Layers of gamma neurons (gamma/layer.hpp) talk through
/// sigma-delta spikes (gamma/sigma_delta.hpp); the last layer is a linear readout whose output
/// y[t] a per-step loss reads. The coder counts as identity in the backward pass and ReLU has
/// its exact derivative, so no surrogate gradient appears anywhere. Engines:
///  - unrolled: full-sequence BPTT through the linear bucket recursions (memory grows with T);
///  - online_exact: forward-mode sensitivities filtered through the same bucket recursion;
///    equals `unrolled` exactly; memory O(parameters x K) for two layers (more below that),
///    constant in T;
///  - online_instantaneous: exact eligibilities for each layer's own parameters (its input
///    buckets), error sent down through the upper buckets' DC gain; memory O(neurons x K).
/// Offers what trainer<> uses (parameters, gradients, train_step, evaluate, activity, ...).
#pragma once

#include "../config.hpp"
#include "../core/activity.hpp"
#include "../core/error.hpp"
#include "../core/events.hpp"
#include "../core/parameters.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../loss/common.hpp"
#include "../network/network.hpp"
#include "layer.hpp"
#include "sigma_delta.hpp"

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdlib>
#include <cstddef>
#include <exception>
#include <string>
#include <vector>

namespace spikegrad {

enum class gamma_training { unrolled, online_exact, online_instantaneous };

inline const char* to_string(gamma_training mode) {
    switch (mode) {
        case gamma_training::unrolled: return "unrolled";
        case gamma_training::online_exact: return "online_exact";
        case gamma_training::online_instantaneous: return "online_instantaneous";
    }
    return "?";
}

/// Settings of a gamma_network: dt, engine, coder and layer options.
struct gamma_network_options {
    double dt_ms = 1.0;
    std::uint64_t seed = 0;
    /// Threads a batch is split over; 0 means OpenMP's default, 1 is serial.
    int threads = 0;
    gamma_training training = gamma_training::online_instantaneous;
    /// The coder between layers (theta = 0: analog transmission).
    sigma_delta_options coder{};
};

/// A loss an online engine can use: it returns step t's term from y[t] alone.
template <class L, class S>
concept per_step_loss = requires(const L loss, const S* y, S* g, std::size_t n) {
    { loss.step(y, n, 0, n, n, g, S(1)) } -> std::same_as<S>;
    loss.accumulate_scores(y, n, n, n, g);
};

/// A SpikingGamma network of Depth layers with its unrolled and online gradient engines.
template <class Scalar = float, std::size_t Depth = 2>
class gamma_network {
    static_assert(std::is_floating_point_v<Scalar>, "gamma_network: Scalar must be float or double");
    static_assert(Depth >= 1, "gamma_network: at least one layer");

public:
    using scalar_type = Scalar;
    using layer_type = gamma_layer<Scalar>;
    static constexpr std::size_t depth = Depth;

    /// sizes {n_in, hidden..., n_out} (Depth + 1 entries); `layers` has one entry per layer,
    /// or a single entry used for all.
    gamma_network(std::vector<std::size_t> sizes, gamma_network_options options = {},
                  std::vector<gamma_layer_options> layers = {{}})
        : sizes_(std::move(sizes)), options_(options) {
        if (sizes_.size() != Depth + 1)
            raise<shape_error>("gamma_network: ", sizes_.size(), " sizes given for ", Depth,
                               " layers (need ", Depth + 1, ")");
        if (layers.size() != 1 && layers.size() != Depth)
            raise<shape_error>("gamma_network: ", layers.size(), " layer options for ", Depth,
                               " layers (give 1 or ", Depth, ")");
        if (!(options_.dt_ms > 0))
            raise<option_error>("gamma_network: dt_ms ", options_.dt_ms, " must be > 0");
        coder_ = sigma_delta_encoder<Scalar>(options_.coder, options_.dt_ms);
        rng random(options_.seed);
        for (std::size_t l = 0; l < Depth; ++l) {
            layers_[l] = layer_type(layers.size() == 1 ? layers[0] : layers[l], sizes_[l],
                                    sizes_[l + 1], l + 1 < Depth, l == 0);
            layers_[l].declare(store_, l, random);
            layers_[l].prepare(options_.dt_ms);
            owners_[l] = owners_of(layers_[l]);
        }
        gradients_.assign(store_.size(), Scalar(0));
    }

    std::size_t n_inputs() const { return sizes_.front(); }
    std::size_t n_outputs() const { return sizes_.back(); }
    const std::vector<std::size_t>& sizes() const { return sizes_; }
    const gamma_network_options& options() const { return options_; }
    const layer_type& layer(std::size_t l) const { return layers_.at(l); }
    void set_training(gamma_training mode) { options_.training = mode; }
    gamma_training training() const { return options_.training; }

    parameter_store<Scalar>& parameters() { return store_; }
    const parameter_store<Scalar>& parameters() const { return store_; }
    std::vector<Scalar>& gradients() { return gradients_; }
    const std::vector<Scalar>& gradients() const { return gradients_; }
    const network_activity& activity() const { return activity_.value; }
    void end_epoch(std::size_t) {}

    /// The settings that change what the network computes (checkpoints record and compare
    /// them, network/settings.hpp): dt, the coder, and each layer's tau and initialisation-
    /// independent options (K and the bucket-weight sharing are in architecture()).
    template <class Record>
    void describe_settings(Record& r) const {
        r.add("dt_ms", options_.dt_ms);
        r.add("coder.theta", options_.coder.theta);
        r.add("coder.signed_spikes", options_.coder.signed_spikes);
        r.add("coder.decay_ms", options_.coder.decay_ms);
        for (std::size_t l = 0; l < Depth; ++l)
            r.add("layer" + std::to_string(l) + ".tau_ms", layers_[l].options().tau_ms);
    }

    std::string architecture() const {
        std::string out = std::is_same_v<Scalar, float> ? "float" : "double";
        for (std::size_t l = 0; l < Depth; ++l) {
            const auto& o = layers_[l].options();
            out += "|gamma" + std::string(layers_[l].hidden() ? "_relu" : "_linear") + "(K=" +
                   std::to_string(o.buckets) +
                   (layers_[l].per_synapse() ? ",per_synapse" : "") + ")[" +
                   std::to_string(sizes_[l]) + "->" + std::to_string(sizes_[l + 1]) + "]";
        }
        return out;
    }

    /// Bytes of the state one sample's training holds in the current mode, for T steps: the
    /// bucket states, coder state, and the tape (unrolled) or sensitivities (online_exact).
    std::size_t training_state_bytes(std::size_t T) const {
        std::size_t values = 0;
        for (std::size_t l = 0; l < Depth; ++l) {
            const auto& L = layers_[l];
            const std::size_t K = L.buckets();
            values += L.n_in() * K + (L.per_synapse() ? 0 : L.n_out() * K) + 3 * L.n_out();
            if (l + 1 < Depth) values += 2 * L.n_out();  // coder r and m
            if (options_.training == gamma_training::unrolled)
                values += T * (L.n_in() * K + 2 * L.n_out());  // b[t], a[t], gy[t]
            if (options_.training == gamma_training::online_exact && l > 0) {
                const auto& M = layers_[l - 1];
                values += (M.parameter_begin() * L.n_in() + M.parameter_end() - M.parameter_begin()) * K;
                values += L.n_in() * K;  // gb
            }
            if (options_.training == gamma_training::online_instantaneous)
                values += L.n_in() * K + L.n_out();  // gb, ga
        }
        return values * sizeof(Scalar);
    }

    /// Inference: the readout's y over time, [B, T, n_out].
    tensor<Scalar, 3> forward(const event_batch& batch) const {
        check_input(batch, "forward");
        const std::size_t T = batch.n_steps, n = n_outputs();
        tensor<Scalar, 3> record({batch.n_samples, T, n});
        for_each_sample(batch, [&](std::size_t b, workspace& ws) {
            run(batch.sample(b), T, ws, false, [&](std::size_t t) {
                std::copy(ws.states[Depth - 1].y.begin(), ws.states[Depth - 1].y.end(),
                          record.data() + (b * T + t) * n);
            });
        }, false);
        return record;
    }

    /// Forward, loss and gradients of one batch with the configured engine; gradients() is
    /// set to d(mean loss)/d(parameters).
    template <class Loss>
    step_stats train_step(const event_batch& batch, const Loss& loss) {
        check_loss<Loss>();
        check_input(batch, "train_step");
        check_labels(batch, "train_step");
        const Scalar scale = Scalar(1) / static_cast<Scalar>(batch.n_samples);
        std::vector<Scalar> losses(batch.n_samples);
        std::vector<prediction_credit> hits(batch.n_samples);
        const int used = for_each_sample(batch, [&](std::size_t b, workspace& ws) {
            const auto input = batch.sample(b);
            const int label = batch.labels[b];
            if (options_.training == gamma_training::unrolled)
                losses[b] = unrolled_sample(input, batch.n_steps, label, loss, scale, ws);
            else
                losses[b] = online_sample(input, batch.n_steps, label, loss, scale, ws);
            hits[b] = credit_of(ws.scores.data(), n_outputs(), label);
        }, true);
        auto& spaces = workspaces_.value;
        std::copy(spaces[0].grads.begin(), spaces[0].grads.end(), gradients_.begin());
        for (int k = 1; k < used; ++k)
            for (std::size_t p = 0; p < gradients_.size(); ++p) gradients_[p] += spaces[k].grads[p];
        return summarise(losses, hits, "train_step");
    }

    template <class Loss>
    step_stats evaluate(const event_batch& batch, const Loss& loss,
                        std::vector<int>* predictions = nullptr) const {
        check_loss<Loss>();
        check_input(batch, "evaluate");
        check_labels(batch, "evaluate");
        const std::size_t T = batch.n_steps, n = n_outputs();
        std::vector<Scalar> losses(batch.n_samples);
        std::vector<prediction_credit> hits(batch.n_samples);
        if (predictions) predictions->assign(batch.n_samples, -1);
        for_each_sample(batch, [&](std::size_t b, workspace& ws) {
            const int label = batch.labels[b];
            Scalar total = 0;
            std::fill(ws.scores.begin(), ws.scores.end(), Scalar(0));
            run(batch.sample(b), T, ws, false, [&](std::size_t t) {
                const Scalar* y = ws.states[Depth - 1].y.data();
                total += loss.step(y, n, label, t, T, static_cast<Scalar*>(nullptr), Scalar(1));
                loss.accumulate_scores(y, n, t, T, ws.scores.data());
            });
            losses[b] = total;
            hits[b] = credit_of(ws.scores.data(), n, label);
            if (predictions) (*predictions)[b] = argmax(ws.scores.data(), n);
        }, false);
        return summarise(losses, hits, "evaluate");
    }

private:
    struct workspace {
        std::array<typename layer_type::state, Depth> states;
        std::array<std::vector<Scalar>, Depth> r;   // coder reconstructions (hidden layers)
        std::array<std::vector<long>, Depth> m;     // quanta of the step
        std::vector<Scalar> grads, scores, record, g_record;
        // unrolled tape: per layer [T, n_in K] input buckets and [T, n_out] pre-activations
        std::array<std::vector<Scalar>, Depth> tape_b, tape_a;
        std::vector<Scalar> gy, gy_lower, lambda, ga, gb, ga_lower;
        // online_exact: sensitivities of layer l's input buckets (advance_sensitivities)
        std::array<std::vector<Scalar>, Depth> sens, own;
        network_activity activity;
    };

    template <class Loss>
    static constexpr void check_loss() {
        static_assert(per_step_loss<Loss, Scalar>,
                      "gamma_network: the loss must be per step (step(y, n, label, t, T, grad, "
                      "scale) and accumulate_scores), e.g. per_step_cross_entropy");
    }

    void check_input(const event_batch& batch, const char* what) const {
        if (batch.n_units != n_inputs())
            raise<shape_error>(what, ": input has ", batch.n_units, " units but layer 0 expects ",
                               n_inputs());
        if (batch.n_steps == 0) raise<shape_error>(what, ": input has zero steps");
        if (batch.grid().known() && !same_step(batch.dt_ms, options_.dt_ms))
            raise<shape_error>(what, ": input is binned at dt_ms ", batch.dt_ms,
                               " but the network steps at dt_ms ", options_.dt_ms);
        batch.validate(std::string(what) + ": input");
    }

    void check_labels(const event_batch& batch, const char* what) const {
        if (batch.labels.size() != batch.n_samples)
            raise<data_error>(what, ": the batch has ", batch.labels.size(), " labels for ",
                              batch.n_samples, " samples");
        for (std::size_t b = 0; b < batch.n_samples; ++b)
            if (batch.labels[b] < 0 || static_cast<std::size_t>(batch.labels[b]) >= n_outputs())
                raise<data_error>(what, ": sample ", b, ": label ", batch.labels[b],
                                  " outside [0, ", n_outputs(), ")");
    }

    step_stats summarise(const std::vector<Scalar>& losses,
                         const std::vector<prediction_credit>& hits, const char* what) const {
        step_stats stats;
        for (std::size_t b = 0; b < losses.size(); ++b) {
            if (!std::isfinite(losses[b]))
                raise<numeric_error>(what, ": sample ", b, ": loss is ", double(losses[b]));
            stats.loss_sum += double(losses[b]);
            stats.correct += hits[b].credit;
            stats.ties += hits[b].tie ? 1 : 0;
        }
        stats.samples = losses.size();
        return stats;
    }

    int threads() const { return options_.threads > 0 ? options_.threads : max_threads(); }

    template <class F>
    int for_each_sample(const event_batch& batch, F&& f, bool gradients) const {
        const std::size_t B = batch.n_samples;
        const int count = static_cast<int>(
            std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(threads()), B)));
        auto& spaces = workspaces_.value;
        if (spaces.size() < std::size_t(count)) spaces.resize(std::size_t(count));
        for (int k = 0; k < count; ++k) {
            auto& ws = spaces[k];
            if (gradients) ws.grads.assign(store_.size(), Scalar(0));
            ws.scores.assign(n_outputs(), Scalar(0));
            ws.activity.resize(Depth);
            for (std::size_t l = 0; l < Depth; ++l) ws.activity[l].reset(l + 1 < Depth, sizes_[l + 1]);
        }
        std::exception_ptr failure;
#if SPIKEGRAD_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(count)
        for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(B); ++b) {
            try {
                f(std::size_t(b), spaces[omp_get_thread_num()]);
            } catch (...) {
#pragma omp critical(spikegrad_gamma_failure)
                if (!failure) failure = std::current_exception();
            }
        }
#else
        for (std::size_t b = 0; b < B; ++b) f(b, spaces[0]);
#endif
        if (failure) std::rethrow_exception(failure);
        auto& total = activity_.value;
        total.assign(Depth, {});
        for (std::size_t l = 0; l < Depth; ++l) total[l].reset(l + 1 < Depth, sizes_[l + 1]);
        for (int k = 0; k < count; ++k) total += spaces[k].activity;
        return count;
    }

    /// The forward pass of one sample; after every step t, `each(t)` sees the states.
    template <class Each>
    void run(event_view<float> input, std::size_t T, workspace& ws, bool inputs, Each&& each) const {
        const Scalar* p = store_.flat().data();
        for (std::size_t l = 0; l < Depth; ++l) {
            layers_[l].reset(ws.states[l], inputs);
            ws.r[l].assign(sizes_[l + 1], Scalar(0));
            ws.m[l].assign(sizes_[l + 1], 0);
        }
        for (std::size_t l = 0; l + 1 < Depth; ++l) ws.activity[l].steps += T;
        for (std::size_t t = 0; t < T; ++t) {
            const std::size_t first = input.begin(t), count = input.end(t) - first;
            layers_[0].step_impulses(ws.states[0], p, input.units + first,
                                     input.values ? input.values + first : nullptr, count);
            for (std::size_t l = 1; l < Depth; ++l) {
                const std::size_t below = l - 1;
                coder_.step(ws.states[below].y.data(), ws.r[below].data(), ws.m[below].data(),
                            sizes_[l]);
                auto& per_neuron = ws.activity[below].per_neuron;
                for (std::size_t i = 0; i < sizes_[l]; ++i)
                    per_neuron[i] += std::size_t(std::labs(ws.m[below][i]));
                layers_[l].step_levels(ws.states[l], p, ws.r[below].data(), ws.m[below].data(),
                                       coder_.theta(), coder_.decay(), coder_.analog());
            }
            each(t);
        }
    }

    // ---- unrolled: BPTT over the whole sequence ------------------------------------------
    template <class Loss>
    Scalar unrolled_sample(event_view<float> input, std::size_t T, int label, const Loss& loss,
                           Scalar scale, workspace& ws) const {
        const std::size_t n = n_outputs();
        for (std::size_t l = 0; l < Depth; ++l) {
            ws.tape_b[l].resize(T * sizes_[l] * layers_[l].buckets());
            ws.tape_a[l].resize(T * sizes_[l + 1]);
        }
        ws.record.resize(T * n);
        run(input, T, ws, true, [&](std::size_t t) {
            for (std::size_t l = 0; l < Depth; ++l) {
                const auto& s = ws.states[l];
                std::copy(s.b.begin(), s.b.end(), ws.tape_b[l].begin() + std::ptrdiff_t(t * s.b.size()));
                std::copy(s.a.begin(), s.a.end(), ws.tape_a[l].begin() + std::ptrdiff_t(t * s.a.size()));
            }
            std::copy(ws.states[Depth - 1].y.begin(), ws.states[Depth - 1].y.end(),
                      ws.record.begin() + std::ptrdiff_t(t * n));
        });
        ws.g_record.assign(T * n, Scalar(0));
        const Scalar value = loss.evaluate(ws.record.data(), T, n, label, ws.g_record.data(), scale);
        loss.scores(ws.record.data(), T, n, ws.scores.data());
        const Scalar* p = store_.flat().data();
        ws.gy = ws.g_record;
        for (std::size_t l = Depth; l-- > 0;) {
            const auto& L = layers_[l];
            const std::size_t K = L.buckets(), n_in = L.n_in(), n_out = L.n_out();
            ws.lambda.assign(n_in * K, Scalar(0));
            ws.ga.resize(n_out);
            if (l > 0) ws.gy_lower.assign(T * n_in, Scalar(0));
            for (std::size_t t = T; t-- > 0;) {
                const Scalar* a = ws.tape_a[l].data() + t * n_out;
                const Scalar* b = ws.tape_b[l].data() + t * n_in * K;
                for (std::size_t j = 0; j < n_out; ++j) ws.ga[j] = ws.gy[t * n_out + j] * L.slope(a[j]);
                L.add_parameter_gradients(ws.ga.data(), b, p, ws.grads.data());
                if (l == 0) continue;
                gamma_leak_adjoint(ws.lambda.data(), n_in, K, L.alpha());
                L.add_bucket_gradient(ws.ga.data(), p, ws.lambda.data());
                const Scalar gain = Scalar(1) - L.alpha();
                for (std::size_t i = 0; i < n_in; ++i) ws.gy_lower[t * n_in + i] = gain * ws.lambda[i * K];
            }
            if (l > 0) std::swap(ws.gy, ws.gy_lower);
        }
        return value;
    }

    // ---- online: per-step gradients, memory constant in T ------------------------------
    template <class Loss>
    Scalar online_sample(event_view<float> input, std::size_t T, int label, const Loss& loss,
                         Scalar scale, workspace& ws) const {
        const std::size_t n = n_outputs();
        const bool exact = options_.training == gamma_training::online_exact;
        const Scalar* p = store_.flat().data();
        Scalar* g = ws.grads.data();
        if (exact)
            for (std::size_t l = 1; l < Depth; ++l) {
                const auto& M = layers_[l - 1];
                const std::size_t K = layers_[l].buckets();
                ws.sens[l].assign(M.parameter_begin() * sizes_[l] * K, Scalar(0));
                ws.own[l].assign((M.parameter_end() - M.parameter_begin()) * K, Scalar(0));
            }
        std::vector<Scalar> g_out(n);
        Scalar total = 0;
        std::fill(ws.scores.begin(), ws.scores.end(), Scalar(0));
        run(input, T, ws, true, [&](std::size_t t) {
            if (exact) advance_sensitivities(ws, p);
            const Scalar* y = ws.states[Depth - 1].y.data();
            total += loss.step(y, n, label, t, T, g_out.data(), scale);
            loss.accumulate_scores(y, n, t, T, ws.scores.data());
            bool any = false;
            for (Scalar x : g_out) any = any || x != Scalar(0);
            if (!any) return;
            if (exact) exact_gradient(ws, p, g_out.data(), g);
            else instantaneous_gradient(ws, p, g_out.data(), g);
        });
        return total;
    }

    void instantaneous_gradient(workspace& ws, const Scalar* p, const Scalar* g_out, Scalar* g) const {
        ws.ga.assign(g_out, g_out + n_outputs());
        for (std::size_t l = Depth; l-- > 0;) {
            const auto& L = layers_[l];
            L.add_parameter_gradients(ws.ga.data(), ws.states[l].b.data(), p, g);
            if (l == 0) break;
            const std::size_t K = L.buckets(), n_in = L.n_in();
            ws.gb.assign(n_in * K, Scalar(0));
            L.add_bucket_gradient(ws.ga.data(), p, ws.gb.data());
            // Every bucket's DC gain from r_i is (1 - alpha) / (1 - alpha) = 1.
            ws.ga_lower.assign(n_in, Scalar(0));
            const auto& below = layers_[l - 1];
            for (std::size_t i = 0; i < n_in; ++i) {
                Scalar sum = 0;
                for (std::size_t k = 0; k < K; ++k) sum += ws.gb[i * K + k];
                ws.ga_lower[i] = sum * below.slope(ws.states[l - 1].a[i]);
            }
            std::swap(ws.ga, ws.ga_lower);
        }
    }

    /// The neuron of layer l whose a it feeds, for every parameter of layer l (a parameter of
    /// a layer acts on one of its neurons only, so its sensitivities are one row of K).
    static std::vector<std::size_t> owners_of(const layer_type& L) {
        const std::size_t n = L.n_out(), K = L.buckets(), begin = L.parameter_begin();
        std::vector<std::size_t> owner(L.parameter_end() - begin);
        for (std::size_t q = L.weight_offset(); q < L.bucket_offset(); ++q)
            owner[q - begin] = (q - L.weight_offset()) % n;
        for (std::size_t q = L.bucket_offset(); q < L.bias_offset(); ++q) {
            const std::size_t local = q - L.bucket_offset();
            owner[q - begin] = L.per_synapse() ? (local / K) % n : local / K;
        }
        for (std::size_t q = L.bias_offset(); q < L.parameter_end(); ++q)
            owner[q - begin] = q - L.bias_offset();
        return owner;
    }

    /// Forward-mode sensitivities of layer l's input buckets b^l, advanced one step:
    ///   S^l[t] = A S^l[t-1] + e_1 (1 - alpha_l) dr^(l-1)[t]/dtheta
    /// for every parameter below l (the coder counts as identity: dr/dy = 1). The parameters of
    /// layer l - 1 reach one neuron each: own[l] holds one row of K per parameter. Those of
    /// the layers further down reach all of them: sens[l] is [P, n_(l-1), K]. Layers are
    /// advanced upwards, so S^(l-1) is already at step t when S^l uses it.
    void advance_sensitivities(workspace& ws, const Scalar* p) const {
        for (std::size_t l = 1; l < Depth; ++l) {
            const auto& L = layers_[l];
            const auto& M = layers_[l - 1];  // the layer below, whose y feeds l
            const std::size_t K = L.buckets(), n_m = M.n_out(), P = M.parameter_begin();
            const std::size_t KM = M.buckets(), n_mi = M.n_in();
            auto& S = ws.sens[l];
            auto& own = ws.own[l];
            gamma_leak(S.data(), P * n_m, K, L.alpha());
            gamma_leak(own.data(), own.size() / K, K, L.alpha());
            const Scalar gain = Scalar(1) - L.alpha();
            const auto& sm = ws.states[l - 1];
            for (std::size_t i = 0; i < n_m; ++i) {
                const Scalar slope = M.slope(sm.a[i]);
                if (slope == Scalar(0)) continue;
                const Scalar f = gain * slope;
                // Parameters below layer l - 1 act through S^(l-1): d a_i = sum Q_(i2 i k) dS.
                if (l >= 2) {
                    const auto& N = layers_[l - 2];
                    const std::size_t P_below = N.parameter_begin();
                    const auto& S_below = ws.sens[l - 1];
                    const auto& own_below = ws.own[l - 1];
                    const auto& owner = owners_[l - 2];
                    for (std::size_t q = 0; q < P_below; ++q) {
                        Scalar d = 0;
                        const Scalar* row = S_below.data() + q * n_mi * KM;
                        for (std::size_t i2 = 0; i2 < n_mi; ++i2)
                            for (std::size_t k = 0; k < KM; ++k)
                                d += M.coefficient(p, i2, i, k) * row[i2 * KM + k];
                        S[(q * n_m + i) * K] += f * d;
                    }
                    for (std::size_t q = P_below; q < P; ++q) {
                        const std::size_t i2 = owner[q - P_below];
                        const Scalar* row = own_below.data() + (q - P_below) * KM;
                        Scalar d = 0;
                        for (std::size_t k = 0; k < KM; ++k) d += M.coefficient(p, i2, i, k) * row[k];
                        S[(q * n_m + i) * K] += f * d;
                    }
                }
                // Layer l - 1's own parameters act directly (its input buckets do not depend
                // on them): d a_i / d w_(i2 i) = sum_k v b_(i2 k), d a_i / d v = w b, d a_i / d bias_i = 1.
                own[(M.bias_offset() - P + i) * K] += f;
                for (std::size_t i2 = 0; i2 < n_mi; ++i2) {
                    const Scalar w = p[M.weight_offset() + i2 * n_m + i];
                    Scalar dw = 0;
                    for (std::size_t k = 0; k < KM; ++k) {
                        const Scalar bk = sm.b[i2 * KM + k];
                        dw += M.bucket_weight(p, i2, i, k) * bk;
                        const std::size_t v = M.per_synapse() ? M.bucket_offset() + (i2 * n_m + i) * KM + k
                                                              : M.bucket_offset() + i * KM + k;
                        own[(v - P) * K] += f * w * bk;
                    }
                    own[(M.weight_offset() + i2 * n_m + i - P) * K] += f * dw;
                }
            }
        }
    }

    void exact_gradient(workspace& ws, const Scalar* p, const Scalar* g_out, Scalar* g) const {
        const auto& L = layers_[Depth - 1];
        L.add_parameter_gradients(g_out, ws.states[Depth - 1].b.data(), p, g);
        if constexpr (Depth >= 2) {
            const auto& M = layers_[Depth - 2];
            const std::size_t K = L.buckets(), n_in = L.n_in(), P = M.parameter_begin();
            ws.gb.assign(n_in * K, Scalar(0));
            L.add_bucket_gradient(g_out, p, ws.gb.data());
            const auto& S = ws.sens[Depth - 1];
            for (std::size_t q = 0; q < P; ++q) {
                Scalar sum = 0;
                const Scalar* row = S.data() + q * n_in * K;
                for (std::size_t e = 0; e < n_in * K; ++e) sum += ws.gb[e] * row[e];
                g[q] += sum;
            }
            const auto& own = ws.own[Depth - 1];
            const auto& owner = owners_[Depth - 2];
            for (std::size_t q = P; q < M.parameter_end(); ++q) {
                const Scalar* row = own.data() + (q - P) * K;
                const Scalar* gb = ws.gb.data() + owner[q - P] * K;
                Scalar sum = 0;
                for (std::size_t k = 0; k < K; ++k) sum += gb[k] * row[k];
                g[q] += sum;
            }
        }
    }

    std::vector<std::size_t> sizes_;
    gamma_network_options options_;
    parameter_store<Scalar> store_;
    std::vector<Scalar> gradients_;
    std::array<layer_type, Depth> layers_;
    std::array<std::vector<std::size_t>, Depth> owners_;
    sigma_delta_encoder<Scalar> coder_;
    mutable detail::scratch<std::vector<workspace>> workspaces_;
    mutable detail::scratch<network_activity> activity_;
};

}  // namespace spikegrad

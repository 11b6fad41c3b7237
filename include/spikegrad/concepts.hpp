/// \file
/// spikegrad: the policy concepts. Each states the whole contract a policy must meet, so a
/// policy that does not fit fails with one static_assert sentence naming what it lacks,
/// instead of pages of template errors deep inside a layer.
#pragma once

#include "core/parameters.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "core/trace.hpp"

#include <xsimd/xsimd.hpp>

#include <concepts>
#include <cstddef>
#include <string>

namespace spikegrad {

/// What a loss reads from the last layer: its membrane (non-spiking readout) or its spikes.
enum class record_kind { membrane, spikes };

/// spike(x) and grad(x) of x = v - theta, for scalars and SIMD batches.
template <class T>
concept surrogate_policy = requires(const T s, float x, double y, xsimd::batch<float> b) {
    { T::binary } -> std::convertible_to<bool>;
    { T::name } -> std::convertible_to<const char*>;
    { s.spike(x) } -> std::same_as<float>;
    { s.grad(x) } -> std::same_as<float>;
    { s.grad(y) } -> std::same_as<double>;
    { s.grad(b) } -> std::same_as<xsimd::batch<float>>;
};

namespace detail {
/// The spike nonlinearity a gradient engine hands to a neuron's step (a concept probe).
struct spike_probe {
    static constexpr bool binary = true;
    template <class V>
    V spike(const V& x) const { return x; }
    template <class V>
    V grad(const V& x) const { return x; }
};
}  // namespace detail

/// A neuron's dynamics at one scalar type (see neuron/lif.hpp for the reference): its
/// parameters, the discrete step over all n neurons, that step's adjoint given the engine's
/// spike derivative, and the scratch both need. Trace channel 0 holds x = v - theta for
/// spiking neurons (spikes where x >= 0) and the membrane for a readout.
template <class D, class P, class S>
concept neuron_dynamics = requires(D d, const D cd, const P& p, parameter_store<S>& store,
                                   const S* in, S* out, const time_grid& grid,
                                   const detail::spike_probe& spike) {
    { D::trace_channels } -> std::convertible_to<std::size_t>;
    D(p, std::size_t{1});
    d.declare(store, std::string{});
    d.prepare(in, grid);
    { cd.size() } -> std::convertible_to<std::size_t>;
    { cd.work_size() } -> std::convertible_to<std::size_t>;
    cd.begin_forward(out);
    cd.step(in, in, out, std::size_t{1}, out, spike);
    cd.begin_adjoint(out);
    cd.adjoint_step(in, in, out, std::size_t{1}, out, spike);
    cd.end_adjoint(in, in, out);
};

/// A neuron model: constants in `params`, whether it spikes, a name, and its dynamics at
/// float and double.
template <class T>
concept neuron_policy = requires {
    typename T::params;
    { T::spiking } -> std::convertible_to<bool>;
    { T::name } -> std::convertible_to<const char*>;
    typename T::template dynamics<float>;
    typename T::template dynamics<double>;
} && neuron_dynamics<typename T::template dynamics<float>, typename T::params, float> &&
     neuron_dynamics<typename T::template dynamics<double>, typename T::params, double>;

/// A delay applied to a layer's output spikes: parameters declared on the network's time
/// grid, prepared from the parameter values; forward/backward on event trains when enabled.
template <class T>
concept delay_policy = requires(typename T::template model<float> m, parameter_store<float>& store,
                                rng& random, const time_grid& grid, const float* values) {
    typename T::params;
    { T::enabled } -> std::convertible_to<bool>;
    { T::name } -> std::convertible_to<const char*>;
    requires std::constructible_from<typename T::template model<float>, typename T::params,
                                     std::size_t>;
    m.declare(store, std::string{}, random, grid);
    m.prepare(values);
} && (!T::enabled || requires(const typename T::template model<float> m, event_train<float>& train,
                              const float* g, float* out) {
         m.forward(train, std::size_t{1}, train);
         m.backward(train, g, std::size_t{1}, out, out);
     });

/// A per-sample loss on the last layer's record [T, n] (see loss/).
template <class T>
concept loss_policy = requires(const T loss, const float* record, float* out, std::size_t n,
                               int label) {
    { T::reads } -> std::convertible_to<record_kind>;
    { loss.evaluate(record, n, n, label, out, 1.f) } -> std::same_as<float>;
    loss.scores(record, n, n, out);
};

}  // namespace spikegrad

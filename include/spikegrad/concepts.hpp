// spikegrad: the policy concepts. A policy that does not fit fails with one static_assert
// sentence naming what it lacks, instead of pages of template errors.
#pragma once

#include <xsimd/xsimd.hpp>

#include <concepts>
#include <cstddef>

namespace spikegrad {

/// What a loss reads from the last layer: its membrane (non-spiking readout) or its spikes.
enum class record_kind { membrane, spikes };

/// spike(x) and grad(x) of x = v - theta, for scalars and SIMD batches.
template <class T>
concept surrogate_policy = requires(const T s, float x, double y, xsimd::batch<float> b) {
    { T::binary } -> std::convertible_to<bool>;
    { s.spike(x) } -> std::same_as<float>;
    { s.grad(x) } -> std::same_as<float>;
    { s.grad(y) } -> std::same_as<double>;
    { s.grad(b) } -> std::same_as<xsimd::batch<float>>;
};

/// A neuron model: constants in `params`, dynamics in `model<Scalar>`.
template <class T>
concept neuron_policy = requires {
    typename T::params;
    { T::spiking } -> std::convertible_to<bool>;
    typename T::template model<float>;
    typename T::template model<double>;
};

/// A delay applied to a layer's output spikes.
template <class T>
concept delay_policy = requires {
    typename T::params;
    { T::enabled } -> std::convertible_to<bool>;
    typename T::template model<float>;
};

/// A per-sample loss on the last layer's record [T, n] (see loss/).
template <class T>
concept loss_policy = requires(const T loss, const float* record, float* out, std::size_t n,
                               int label) {
    { T::reads } -> std::convertible_to<record_kind>;
    { loss.evaluate(record, n, n, label, out, 1.f) } -> std::same_as<float>;
    loss.scores(record, n, n, out);
};

}  // namespace spikegrad

/// \file
/// spikegrad: not a surrogate but a real-valued activation with its exact derivative:
/// spike(x) = max(0, x), grad(x) = 1 for x > 0. With dense<lif, rectifier> at threshold 0 and
/// one time step, a layer is a ReLU unit, so MLP baselines (the paper's MLP on spike counts)
/// run on the same engine.
#pragma once

#include "heaviside.hpp"

#include <limits>

namespace spikegrad {

/// Test surrogate: a smooth rectified output instead of spikes (for finite-difference checks).
struct rectifier {
    static constexpr bool binary = false;
    static constexpr const char* name = "rectifier";

    template <class V>
    V spike(const V& x) const {
        using S = simd::scalar_of_t<V>;
        return simd::max(x, V(S(0)));
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        return simd::select(x > V(S(0)), V(S(1)), V(S(0)));
    }
    double support() const { return std::numeric_limits<double>::infinity(); }
};

}  // namespace spikegrad

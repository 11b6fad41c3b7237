/// \file
/// spikegrad: the arctan surrogate of snnTorch and SpikingJelly:
/// dH/dx ~ (alpha / 2) / (1 + (pi alpha x / 2)^2), alpha = 2.
#pragma once

#include "heaviside.hpp"

#include <limits>
#include <numbers>

namespace spikegrad {

/// Surrogate policy: the arctan derivative of snnTorch and SpikingJelly, steepness alpha.
struct arctan {
    double alpha = 2.0;

    static constexpr bool binary = true;
    static constexpr const char* name = "arctan";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        const V z = V(std::numbers::pi_v<S> * S(alpha) / S(2)) * x;
        return V(S(alpha) / S(2)) / (V(S(1)) + z * z);
    }
    double support() const { return std::numeric_limits<double>::infinity(); }
};

}  // namespace spikegrad

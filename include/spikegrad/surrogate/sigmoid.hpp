/// \file
/// spikegrad: the logistic surrogate (snnTorch's sigmoid, slope 25):
/// dH/dx ~ slope * sigma(slope x) * (1 - sigma(slope x)).
#pragma once

#include "heaviside.hpp"

#include <limits>

namespace spikegrad {

/// Surrogate policy: the derivative of a logistic sigmoid of the given slope.
struct sigmoid {
    double slope = 25.0;

    static constexpr bool binary = true;
    static constexpr const char* name = "sigmoid";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        // sigma(z)(1 - sigma(z)) = e^-|z| / (1 + e^-|z|)^2, stable for large |z|.
        const V e = simd::exp(-simd::abs(V(S(slope)) * x));
        const V d = V(S(1)) + e;
        return V(S(slope)) * e / (d * d);
    }
    double support() const { return std::numeric_limits<double>::infinity(); }
};

}  // namespace spikegrad

/// \file
/// spikegrad: the straight-through estimator (Bengio et al. 2013): dH/dx ~ 1.
#pragma once

#include "heaviside.hpp"

#include <limits>

namespace spikegrad {

/// Surrogate policy: the straight-through estimator (derivative 1).
struct straight_through {
    static constexpr bool binary = true;
    static constexpr const char* name = "straight_through";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V&) const {
        using S = simd::scalar_of_t<V>;
        return V(S(1));
    }
    double support() const { return std::numeric_limits<double>::infinity(); }
};

}  // namespace spikegrad

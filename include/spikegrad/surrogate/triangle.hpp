/// \file
/// spikegrad: the triangular pseudo-derivative of Bellec et al. 2018 (LSNN):
/// dH/dx ~ gamma * max(0, 1 - |x| / width), gamma = 0.3, width = 1 (in units of theta).
#pragma once

#include "heaviside.hpp"

namespace spikegrad {

/// Surrogate policy: a triangular derivative of height gamma and half-width width.
struct triangle {
    double gamma = 0.3;
    double width = 1.0;

    static constexpr bool binary = true;
    static constexpr const char* name = "triangle";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        return V(S(gamma)) * simd::max(V(S(0)), V(S(1)) - simd::abs(x) / V(S(width)));
    }
    double support() const { return width; }
};

}  // namespace spikegrad

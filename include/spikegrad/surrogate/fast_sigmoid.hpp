/// \file
/// spikegrad: the fast-sigmoid (SuperSpike) surrogate, the paper's eq. 1:
/// dH/dx ~ 1 / (alpha |x| + 1)^2 with alpha = 100 (Zenke and Ganguli 2018; Norse's "super").
#pragma once

#include "heaviside.hpp"

#include <limits>

namespace spikegrad {

/// Surrogate policy: SuperSpike's fast sigmoid derivative 1 / (1 + alpha |x|)^2.
struct fast_sigmoid {
    double alpha = 100.0;

    static constexpr bool binary = true;
    static constexpr const char* name = "fast_sigmoid";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        const V d = V(S(alpha)) * simd::abs(x) + V(S(1));
        return V(S(1)) / (d * d);
    }
    /// |x| beyond which grad is exactly zero (never, for this surrogate).
    double support() const { return std::numeric_limits<double>::infinity(); }
};

}  // namespace spikegrad

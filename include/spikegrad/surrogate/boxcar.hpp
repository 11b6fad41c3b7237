/// \file
/// spikegrad: the rectangular surrogate (Wu et al. 2018, STBP): dH/dx ~ 1 / width where
/// |x| < width / 2, else 0 (unit area), width = 1.
#pragma once

#include "heaviside.hpp"

namespace spikegrad {

/// Surrogate policy: a rectangular window of the given width around the threshold.
struct boxcar {
    double width = 1.0;

    static constexpr bool binary = true;
    static constexpr const char* name = "boxcar";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        return simd::select(simd::abs(x) < V(S(width) / S(2)), V(S(1) / S(width)), V(S(0)));
    }
    double support() const { return width / 2; }
};

}  // namespace spikegrad

// Test-only surrogate: the forward "spike" is a smooth sigmoid(k x) instead of the Heaviside,
// and grad is its exact derivative, so BPTT must equal finite differences of the forward.
#pragma once

#include <spikegrad/simd/vector.hpp>

namespace spikegrad::testing {

struct smooth_spike {
    double slope = 4.0;

    static constexpr bool binary = false;
    static constexpr const char* name = "smooth_spike";

    template <class V>
    V spike(const V& x) const {
        using S = simd::scalar_of_t<V>;
        return V(S(1)) / (V(S(1)) + simd::exp(-V(S(slope)) * x));
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        const V s = spike(x);
        return V(S(slope)) * s * (V(S(1)) - s);
    }
    double support() const { return 1e300; }
};

}  // namespace spikegrad::testing

/// \file
/// spikegrad: SLAYER's exponential spike-escape density (Shrestha and Orchard 2018), the
/// surrogate of the released SHD code: rho(u) = scale_rho / (tau_rho theta) *
/// exp(-|u - theta| / (tau_rho theta)); SHD constants theta 10, tau_rho 0.1, scale_rho 0.1.
#pragma once

#include "heaviside.hpp"

#include <limits>

namespace spikegrad {

/// Surrogate policy: SLAYER's exponential spike-escape kernel, scaled by the neuron's threshold.
struct slayer_exponential {
    /// The neuron's threshold the kernel is scaled by (keep equal to the neuron's theta).
    double theta = 10.0;
    double tau_rho = 0.1;
    double scale_rho = 0.1;

    static constexpr bool binary = true;
    static constexpr const char* name = "slayer_exponential";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        const S width = S(tau_rho) * S(theta);
        return V(S(scale_rho) / width) * simd::exp(-simd::abs(x) / V(width));
    }
    double support() const { return std::numeric_limits<double>::infinity(); }
};

}  // namespace spikegrad

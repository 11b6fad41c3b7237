/// \file
/// spikegrad: a surrogate cut to a window around the threshold: dH/dx ~ inner(x) where
/// |x| <= window, else exactly 0 (Perez-Nieves and Goodman 2021, "Sparse spiking gradient
/// descent": neurons far from threshold pass no gradient, so the input gradients they would
/// receive need not be computed). dense's sparse_gradient_threshold applies it to a layer.
#pragma once

#include "fast_sigmoid.hpp"
#include "heaviside.hpp"

#include <algorithm>
#include <limits>

namespace spikegrad {

/// Surrogate policy: Inner's derivative cut to zero outside |x| <= window (sparse gradients).
template <class Inner = fast_sigmoid>
struct windowed {
    Inner inner{};
    /// Half-width of the window, in units of v - theta.
    double window = std::numeric_limits<double>::infinity();

    static constexpr bool binary = Inner::binary;
    static constexpr const char* name = "windowed";

    template <class V>
    V spike(const V& x) const {
        return inner.spike(x);
    }
    template <class V>
    V grad(const V& x) const {
        using S = simd::scalar_of_t<V>;
        return simd::select(simd::abs(x) <= V(S(window)), inner.grad(x), V(S(0)));
    }
    /// |x| beyond which grad is exactly zero.
    double support() const {
        if constexpr (requires { inner.support(); })
            return std::min(window, inner.support());
        else
            return window;
    }
};

}  // namespace spikegrad

/// \file
/// spikegrad: the forward half every surrogate shares: the Heaviside step H(x) with H(0) = 1,
/// where x = v - theta is the membrane's distance to threshold.
#pragma once

#include "../simd/vector.hpp"

namespace spikegrad {

/// H(x): 1 where x >= 0, else 0; scalar or batch.
template <class V>
SPIKEGRAD_ALWAYS_INLINE V heaviside(const V& x) {
    using S = simd::scalar_of_t<V>;
    return simd::select(x >= V(S(0)), V(S(1)), V(S(0)));
}

}  // namespace spikegrad

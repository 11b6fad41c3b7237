/// \file
/// spikegrad: the absent delay: a layer's spikes reach the next layer in the same step. Zero
/// cost: no parameters, no buffers, no work.
#pragma once

#include "../core/random.hpp"
#include "../core/time.hpp"
#include "../core/parameters.hpp"

#include <cstddef>
#include <string>

namespace spikegrad {

/// Delay policy: no delay (the layer's spikes go straight to the next layer).
struct no_delay {
    struct params {};

    static constexpr bool enabled = false;
    static constexpr const char* name = "no_delay";

    template <class S>
    struct model {
        model() = default;
        model(const params&, std::size_t) {}
        void declare(parameter_store<S>&, const std::string&, rng&, const time_grid&) {}
        void prepare(const S*) {}
    };
};

}  // namespace spikegrad

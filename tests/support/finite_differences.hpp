// Test helper: compares every gradient the network computes with central differences of the
// mean loss, in double precision.
#pragma once

#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace spikegrad::testing {

struct gradient_check {
    std::size_t checked = 0;
    std::size_t failed = 0;
    double worst_relative = 0;
    std::string worst_name;
};

/// Checks d(mean loss)/d(parameter) for every element of every parameter whose name passes
/// `select`, against the five-point central difference (error O(step^4)).
/// relative error = |g - fd| / max(|g|, |fd|, floor). The quotient's rounding error is about
/// 18 eps |L| / (12 step) (1.5e-13 at step 1e-3 for L ~ 1), so gradients below `floor`
/// (default 1e-6 at step 1e-3, scaled by |L| when the loss exceeds 1 and by 1e-3 / step, as
/// the rounding error is) are compared with the absolute tolerance tolerance * floor.
template <class Net, class Loss, class Select>
gradient_check check_gradients(Net& net, const event_batch& batch, const Loss& loss,
                               Select&& select, double tolerance, double step = 1e-3,
                               double floor = 1e-6) {
    const double base = net.train_step(batch, loss).loss();
    floor *= std::max(1.0, std::abs(base)) * 1e-3 / step;
    const std::vector<double> analytic(net.gradients().begin(), net.gradients().end());
    auto& values = net.parameters().flat();
    gradient_check result;
    for (const auto& info : net.parameters().infos()) {
        if (!select(info)) continue;
        for (std::size_t k = 0; k < info.size; ++k) {
            const std::size_t at = info.offset + k;
            const double saved = values[at];
            auto loss_at = [&](double offset) {
                values[at] = saved + offset;
                return net.evaluate(batch, loss).loss();
            };
            const double numeric = (loss_at(-2 * step) - 8 * loss_at(-step) + 8 * loss_at(step) -
                                    loss_at(2 * step)) /
                                   (12 * step);
            values[at] = saved;
            const double scale = std::max({std::abs(numeric), std::abs(analytic[at]), floor});
            const double relative = std::abs(numeric - analytic[at]) / scale;
            ++result.checked;
            if (relative > tolerance) {
                ++result.failed;
                if (result.failed <= 5)
                    MESSAGE(info.name << "[" << k << "]: analytic " << analytic[at]
                                      << " numeric " << numeric << " relative " << relative);
            }
            if (relative > result.worst_relative) {
                result.worst_relative = relative;
                result.worst_name = info.name + "[" + std::to_string(k) + "]";
            }
        }
    }
    return result;
}

/// A labelled random binary batch: each input fires with probability `density` per step.
inline event_batch random_batch(std::size_t samples, std::size_t steps, std::size_t units,
                                std::size_t classes, double density, std::uint64_t seed) {
    rng random(seed);
    event_batch batch(steps, units, classes);
    std::vector<std::uint32_t> when, which;
    for (std::size_t b = 0; b < samples; ++b) {
        when.clear();
        which.clear();
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t i = 0; i < units; ++i)
                if (random.bernoulli(density)) {
                    when.push_back(static_cast<std::uint32_t>(t));
                    which.push_back(static_cast<std::uint32_t>(i));
                }
        batch.add_sample(when, which, {}, static_cast<std::int32_t>(b % classes));
    }
    return batch;
}

}  // namespace spikegrad::testing

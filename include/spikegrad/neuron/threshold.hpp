/// \file
/// spikegrad: the firing threshold of a spiking neuron as a parameter: fixed, one trainable
/// value per layer, or one per neuron (needed by the exact-gradient engine, whose gradients
/// with respect to thresholds are part of its method), clamped to [theta_min, theta_max].
#pragma once

#include "../core/error.hpp"
#include "../core/parameters.hpp"
#include "leak.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace spikegrad {

/// A layer's firing threshold, fixed or trainable (shared or per neuron), clamped to its bounds.
template <class Scalar>
class threshold {
public:
    threshold() = default;
    threshold(double theta, training mode, double theta_min, double theta_max, std::size_t n,
              const char* what)
        : theta_(theta), mode_(mode), min_(theta_min), max_(theta_max), n_(n),
          values_(n, static_cast<Scalar>(theta)) {
        if (!std::isfinite(theta))
            raise<option_error>(what, ": theta ", theta, " must be a finite number");
        if (mode != training::fixed && !(theta_min <= theta && theta <= theta_max))
            raise<option_error>(what, ": trainable theta needs theta_min ", theta_min,
                                " <= theta ", theta, " <= theta_max ", theta_max);
    }

    /// Registers the trainable threshold (if any) as "<prefix>.threshold".
    void declare(parameter_store<Scalar>& store, const std::string& prefix) {
        if (mode_ == training::fixed) return;
        const std::size_t count = mode_ == training::shared ? 1 : n_;
        param_ = store.add(prefix + ".threshold", parameter_kind::threshold, {count}, min_, max_);
        for (auto& theta : store.values(param_)) theta = static_cast<Scalar>(theta_);
        offset_ = store.info(param_).offset;
    }

    /// The per-neuron thresholds for this parameter state.
    void prepare(const Scalar* values) {
        if (mode_ == training::fixed) return;
        for (std::size_t j = 0; j < n_; ++j)
            values_[j] = values[mode_ == training::shared ? offset_ : offset_ + j];
    }

    const Scalar* values() const { return values_.data(); }
    bool trainable() const { return mode_ != training::fixed; }

    /// Adds dL/dtheta to `grads` given the per-neuron sums in `dtheta`.
    void accumulate(const Scalar* dtheta, Scalar* grads) const {
        if (!trainable()) return;
        for (std::size_t j = 0; j < n_; ++j)
            grads[mode_ == training::shared ? offset_ : offset_ + j] += dtheta[j];
    }

private:
    double theta_ = 1;
    training mode_ = training::fixed;
    double min_ = 0, max_ = 0;
    std::size_t n_ = 0;
    std::size_t param_ = 0, offset_ = 0;
    std::vector<Scalar> values_;
};

}  // namespace spikegrad

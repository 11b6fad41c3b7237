/// \file
/// spikegrad: the membrane leak shared by LIF, CUBA-LIF and the readout: beta = exp(-dt/tau),
/// tau fixed or trainable (one per layer or one per neuron) and clamped to [tau_min, tau_max].
/// The chain rule to tau: d beta / d tau = beta dt / tau^2.
#pragma once

#include "../core/error.hpp"
#include "../core/parameters.hpp"
#include "../core/time.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace spikegrad {

/// Whether and how a neuron parameter (time constant, threshold) is learned: not at all, one
/// value shared by the layer, or one value per neuron.
enum class training { fixed, shared, per_neuron };
/// The name this enum had before thresholds became trainable too.
using tau_training = training;

/// tau (ms) whose leak per step of dt_ms is beta: tau = -dt / ln(beta).
inline double tau_from_beta(double beta, double dt_ms) {
    if (!(beta > 0 && beta < 1))
        raise<option_error>("tau_from_beta: beta ", beta, " must lie in (0, 1)");
    return -dt_ms / std::log(beta);
}

/// The membrane leak beta = exp(-dt/tau) of a layer, tau fixed or trainable (shared or per neuron).
template <class Scalar>
class leak {
public:
    leak() = default;
    leak(double tau_ms, tau_training training, double tau_min_ms, double tau_max_ms,
         std::size_t n, const char* what)
        : tau_ms_(tau_ms), training_(training), tau_min_(tau_min_ms), tau_max_(tau_max_ms),
          n_(n), beta_(n, Scalar(0)) {
        if (!(tau_ms > 0) || !std::isfinite(tau_ms))
            raise<option_error>(what, ": tau_ms ", tau_ms, " must be a positive number");
        if (training != tau_training::fixed && !(tau_min_ms > 0 && tau_min_ms <= tau_ms &&
                                                 tau_ms <= tau_max_ms))
            raise<option_error>(what, ": trainable tau needs 0 < tau_min_ms ", tau_min_ms,
                                " <= tau_ms ", tau_ms, " <= tau_max_ms ", tau_max_ms);
    }

    /// Registers the trainable tau (if any) as "<prefix>.tau" and sets its initial value.
    void declare(parameter_store<Scalar>& store, const std::string& prefix) {
        if (training_ == tau_training::fixed) return;
        const std::size_t count = training_ == tau_training::shared ? 1 : n_;
        param_ = store.add(prefix + ".tau", parameter_kind::time_constant, {count}, tau_min_,
                           tau_max_);
        for (auto& tau : store.values(param_)) tau = static_cast<Scalar>(tau_ms_);
        offset_ = store.info(param_).offset;
    }

    /// Computes beta per neuron from the current tau values on this time grid.
    void prepare(const Scalar* values, const time_grid& grid) {
        dt_ms_ = grid.dt_ms;
        for (std::size_t j = 0; j < n_; ++j) {
            const double tau = training_ == tau_training::fixed ? tau_ms_
                               : training_ == tau_training::shared
                                   ? static_cast<double>(values[offset_])
                                   : static_cast<double>(values[offset_ + j]);
            beta_[j] = static_cast<Scalar>(grid.decay(tau));
        }
    }

    const Scalar* beta() const { return beta_.data(); }
    /// The time constant of neuron j in ms (for closed-form propagators).
    double tau_ms(std::size_t j) const { return -dt_ms_ / std::log(static_cast<double>(beta_[j])); }
    bool trainable() const { return training_ != tau_training::fixed; }

    /// Adds dL/dtau to `grads` given dL/dbeta per neuron.
    void accumulate(const Scalar* dbeta, const Scalar* values, Scalar* grads) const {
        if (!trainable()) return;
        for (std::size_t j = 0; j < n_; ++j) {
            const std::size_t k = training_ == tau_training::shared ? offset_ : offset_ + j;
            const Scalar tau = values[k];
            grads[k] += dbeta[j] * beta_[j] * static_cast<Scalar>(dt_ms_) / (tau * tau);
        }
    }

private:
    double tau_ms_ = 20;
    tau_training training_ = tau_training::fixed;
    double tau_min_ = 1, tau_max_ = 1000;
    double dt_ms_ = 1;
    std::size_t n_ = 0;
    std::size_t param_ = 0, offset_ = 0;
    std::vector<Scalar> beta_;
};

}  // namespace spikegrad

/// \file
/// spikegrad: losses with a gradient under exact (event-driven) differentiation. First-spike
/// time cross-entropy (Wunderlich and Pehle 2021, eq. 11; Goltz et al. 2021), cross-entropy on
/// the exp-weighted time average of a leaky readout (mlGeNN's SHD readout, Nowotny et al. 2024)
/// and on the readout's maximum over time. A spike count is piecewise constant in every
/// parameter, so its exact gradient is zero almost everywhere: such losses are refused.
#pragma once

#include "../../core/error.hpp"
#include "../../loss/common.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace spikegrad {

/// first_spike_time: cross-entropy on first-spike times; spike_time: squared error of the
/// first-spike times to target times; max_voltage / weighted_voltage: cross-entropy on a
/// readout; spike_count: refused.
enum class event_loss_kind { first_spike_time, max_voltage, weighted_voltage, spike_count, spike_time };

inline const char* to_string(event_loss_kind kind) {
    switch (kind) {
        case event_loss_kind::first_spike_time: return "first_spike_time";
        case event_loss_kind::max_voltage: return "max_voltage";
        case event_loss_kind::weighted_voltage: return "weighted_voltage";
        case event_loss_kind::spike_count: return "spike_count";
        case event_loss_kind::spike_time: return "spike_time";
    }
    return "?";
}

/// A loss of the exact engine: its kind and constants; count losses are refused.
struct event_loss {
    event_loss_kind kind = event_loss_kind::first_spike_time;
    /// first_spike_time: logits z_k = -t_k / tau0_ms, plus alpha (exp(t_label / tau1_ms) - 1),
    /// which pulls the correct neuron's spike earlier (Goltz et al.'s regulariser).
    double tau0_ms = 1.0;
    double alpha = 0.0;
    double tau1_ms = 10.0;
    /// weighted_voltage: scores y_k = (1/T) int_0^T exp(-t / weight_tau_ms) V_k(t) dt;
    /// 0 takes weight_tau_ms = T (mlGeNN's avg_var_exp_weight); infinity gives the plain mean.
    double weight_tau_ms = 0.0;
    /// spike_time: L = 1/2 sum_k ((t_k - target_k) / tau0_ms)^2 over the outputs' first-spike
    /// times, target_k = target_ms[label * n_outputs + k]; a silent output counts as firing at
    /// the window's end and gets no gradient (use dead_weight_push).
    std::vector<double> target_ms;
    /// Heuristic for dead neurons (no exact gradient exists for a neuron that never fires):
    /// an output neuron that does not fire gets dL/dw -= dead_weight_push on all its input
    /// weights ("weight bumping", Goltz et al. 2021). 0 turns it off.
    double dead_weight_push = 0.0;
    /// Heuristic spike-count regulariser of the hidden layers (mlGeNN's, Nowotny et al. 2024,
    /// injected at the adjoint jump; a count has no exact gradient): at each spike of hidden
    /// neuron j, the adjoint mu_V(t_k-) gains lambda (n_j - count_target) times the sample's
    /// weight in the batch, n_j being j's spike count in the sample and lambda =
    /// count_lambda_upper above the target, count_lambda_lower at or below it. Descent then
    /// lowers the input weights of neurons that fire more than the target and raises those
    /// of neurons that fire less (but still fire: a silent neuron has no jump to inject at).
    /// Both 0 (the default) turn it off.
    double count_target = 0.0;
    double count_lambda_upper = 0.0;
    double count_lambda_lower = 0.0;
    bool regularises_counts() const { return count_lambda_upper != 0 || count_lambda_lower != 0; }

    /// option_error for a loss without an exact gradient.
    void check() const {
        if (kind == event_loss_kind::spike_count)
            raise<option_error>(
                "event_driven: a spike-count loss has zero exact gradient (a count is piecewise "
                "constant in weights, delays and thresholds); use first_spike_time, "
                "max_voltage or weighted_voltage");
        if ((kind == event_loss_kind::first_spike_time || kind == event_loss_kind::spike_time) &&
            !(tau0_ms > 0 && tau1_ms > 0))
            raise<option_error>("event_loss: tau0_ms ", tau0_ms, " and tau1_ms ", tau1_ms,
                                " must be > 0");
        if (!(count_target >= 0) || !std::isfinite(count_target) ||
            !(count_lambda_upper >= 0) || !std::isfinite(count_lambda_upper) ||
            !(count_lambda_lower >= 0) || !std::isfinite(count_lambda_lower))
            raise<option_error>("event_loss: count_target ", count_target, ", count_lambda_upper ",
                                count_lambda_upper, " and count_lambda_lower ", count_lambda_lower,
                                " must be finite and >= 0");
        if (kind == event_loss_kind::weighted_voltage && !(weight_tau_ms >= 0))
            raise<option_error>("event_loss: weight_tau_ms ", weight_tau_ms, " must be >= 0");
    }
    bool reads_spikes() const {
        return kind == event_loss_kind::first_spike_time || kind == event_loss_kind::spike_time;
    }

    /// The loss of one sample from the output quantities (first-spike times or scores) and,
    /// when `grad` is given, its derivative with respect to them, times `scale`.
    /// `fired[k]` says whether output k fired (a silent output has no time to move).
    template <class S>
    S evaluate(const S* values, const bool* fired, std::size_t n, int label, S* grad,
               S scale) const {
        if (kind == event_loss_kind::spike_time) {
            if (n == 0 || target_ms.size() % n != 0 || label < 0 ||
                static_cast<std::size_t>(label) >= target_ms.size() / n)
                raise<data_error>("event_loss: spike_time has ", target_ms.size(),
                                  " target times, not one per output (", n, ") for label ", label);
            S loss = 0;
            for (std::size_t k = 0; k < n; ++k) {
                const S error = (values[k] - S(target_ms[static_cast<std::size_t>(label) * n + k])) /
                                S(tau0_ms);
                loss += S(0.5) * error * error;
                if (grad) grad[k] = fired[k] ? scale * error / S(tau0_ms) : S(0);
            }
            return loss;
        }
        if (label < 0 || static_cast<std::size_t>(label) >= n)
            raise<data_error>("event_loss: label ", label, " outside the ", n, " outputs");
        if (kind != event_loss_kind::first_spike_time)
            return detail::cross_entropy(values, n, label, grad, scale);
        std::vector<S> z(n), dz(n);
        for (std::size_t k = 0; k < n; ++k) z[k] = -values[k] / S(tau0_ms);
        S loss = detail::cross_entropy(z.data(), n, label, grad ? dz.data() : nullptr, S(1));
        const S t_label = values[label];
        loss += S(alpha) * (std::exp(t_label / S(tau1_ms)) - S(1));
        if (grad) {
            for (std::size_t k = 0; k < n; ++k)
                grad[k] = fired[k] ? -scale * dz[k] / S(tau0_ms) : S(0);
            if (fired[label])
                grad[label] += scale * S(alpha / tau1_ms) * std::exp(t_label / S(tau1_ms));
        }
        return loss;
    }

    /// The predicted class: the earliest spike (first_spike_time) or the largest score;
    /// ties go to the lowest index.
    template <class S>
    static std::size_t predict(bool earliest, const S* values, std::size_t n) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < n; ++k)
            if (earliest ? values[k] < values[best] : values[k] > values[best]) best = k;
        return best;
    }
};

}  // namespace spikegrad

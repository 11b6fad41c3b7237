/// \file
/// spikegrad: current-based LIF (SLAYER's CUBA, Norse's LIF with synaptic current): a synaptic
/// current i[t] = alpha i[t-1] + I[t] (alpha = exp(-dt/tau_syn)) drives the LIF membrane
/// v[t] = beta v[t-1] + i[t] - theta s[t-1]. The synaptic filter is linear, so its adjoint is
/// the same filter run backwards in time: lambda_i[t] = lambda_v[t] + alpha lambda_i[t+1].
#pragma once

#include "../simd/kernels.hpp"
#include "lif.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

namespace spikegrad {

/// Neuron policy: current-based LIF, a synaptic current filter in front of the LIF membrane.
struct cuba_lif {
    struct params {
        double tau_syn_ms = 5.0;
        lif::params membrane{};
    };

    static constexpr bool spiking = true;
    /// dL/ds enters the adjoint only through the membrane's dL/ds * spike'(x) (see lif.hpp).
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "cuba_lif";

    template <class S>
    class dynamics {
    public:
        static constexpr std::size_t trace_channels = 1;  // x[t] = v[t] - theta

        dynamics() = default;
        dynamics(const params& p, std::size_t n) : p_(p), n_(n), membrane_(p.membrane, n) {
            if (!(p.tau_syn_ms > 0) || !std::isfinite(p.tau_syn_ms))
                raise<option_error>("cuba_lif: tau_syn_ms ", p.tau_syn_ms, " must be positive");
        }

        void declare(parameter_store<S>& store, const std::string& prefix) {
            membrane_.declare(store, prefix);
        }
        void prepare(const S* values, const time_grid& grid) {
            membrane_.prepare(values, grid);
            alpha_ = static_cast<S>(grid.decay(p_.tau_syn_ms));
        }
        std::size_t size() const { return n_; }
        /// The synaptic current (or its adjoint) after the membrane's scratch.
        std::size_t work_size() const { return membrane_.work_size() + n_; }

        void begin_forward(S* work) const { std::fill(work, work + work_size(), S(0)); }

        template <class Spike>
        void step(const S* current, const S* prev, S* now, std::size_t stride, S* work,
                  const Spike& spike) const {
            S* i = work + membrane_.work_size();
            simd::scale_add(n_, alpha_, i, current);  // i = alpha i + I
            membrane_.step(i, prev, now, stride, work, spike);
        }

        void begin_adjoint(S* work) const {
            membrane_.begin_adjoint(work);
            std::fill(work + membrane_.work_size(), work + work_size(), S(0));
        }

        template <class Spike>
        void adjoint_step(const S* now, const S* g_spike, S* g_current, std::size_t stride,
                          S* work, const Spike& spike) const {
            membrane_.adjoint_step(now, g_spike, g_current, stride, work, spike);
            S* lambda_i = work + membrane_.work_size();
            simd::scale_add(n_, alpha_, lambda_i, g_current);  // lambda_i = alpha lambda_i + lambda_v
            std::copy(lambda_i, lambda_i + n_, g_current);
        }

        void end_adjoint(const S* work, const S* values, S* grads) const {
            membrane_.end_adjoint(work, values, grads);
        }

    private:
        params p_{};
        std::size_t n_ = 0;
        lif::dynamics<S> membrane_{};
        S alpha_ = 0;
    };
};

}  // namespace spikegrad

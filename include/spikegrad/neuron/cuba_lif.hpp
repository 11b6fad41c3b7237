// spikegrad: current-based LIF (SLAYER's CUBA, Norse's LIF with synaptic current): a synaptic
// current i[t] = alpha i[t-1] + I[t] (alpha = exp(-dt/tau_syn)) drives the LIF membrane
// v[t] = beta v[t-1] + i[t] - theta s[t-1]. The synaptic filter is linear, so its adjoint is
// the same filter run backwards in time.
#pragma once

#include "../simd/kernels.hpp"
#include "lif.hpp"

#include <cmath>
#include <cstddef>
#include <string>

namespace spikegrad {

struct cuba_lif {
    struct params {
        double tau_syn_ms = 5.0;
        lif::params membrane{};
    };

    static constexpr bool spiking = true;
    /// dL/ds enters backward only as dL/ds * surrogate.grad(trace channel 0 - theta): where
    /// that surrogate gradient is exactly 0, the layer above may skip the input gradient.
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "cuba_lif";

    template <class S>
    class model {
    public:
        static constexpr std::size_t trace_channels = 1;

        model() = default;
        model(const params& p, std::size_t n) : p_(p), n_(n), membrane_(p.membrane, n) {
            if (!(p.tau_syn_ms > 0) || !std::isfinite(p.tau_syn_ms))
                raise<option_error>("cuba_lif: tau_syn_ms ", p.tau_syn_ms, " must be positive");
        }

        void declare(parameter_store<S>& store, const std::string& prefix) {
            membrane_.declare(store, prefix);
        }
        void prepare(const S* values, double dt_ms) {
            membrane_.prepare(values, dt_ms);
            alpha_ = static_cast<S>(std::exp(-dt_ms / p_.tau_syn_ms));
        }
        S theta() const { return membrane_.theta(); }
        std::size_t work_size() const { return membrane_.work_size(); }

        /// Filters the currents in place (current is the layer's scratch), then runs the LIF.
        template <class Surrogate>
        void forward(S* current, std::size_t T, const Surrogate& sg, S* trace, S* work) const {
            filter(current, T, false);
            membrane_.forward(current, T, sg, trace, work);
        }

        template <class Surrogate>
        void backward(const S* trace, const S* g_out, std::size_t T, const Surrogate& sg,
                      S* g_current, S* work, const S* values, S* grads) const {
            membrane_.backward(trace, g_out, T, sg, g_current, work, values, grads);
            filter(g_current, T, true);
        }

    private:
        /// x[t] += alpha x[t-1] forwards, or x[t] += alpha x[t+1] backwards (the adjoint).
        void filter(S* x, std::size_t T, bool reverse) const {
            for (std::size_t k = 1; k < T; ++k) {
                const std::size_t t = reverse ? T - 1 - k : k;
                const std::size_t from = reverse ? t + 1 : t - 1;
                simd::axpy(n_, alpha_, x + from * n_, x + t * n_);
            }
        }

        params p_{};
        std::size_t n_ = 0;
        lif::model<S> membrane_{};
        S alpha_ = 0;
    };
};

}  // namespace spikegrad

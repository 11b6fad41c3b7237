/// \file
/// spikegrad: [variant] SLAYER's spike response model (Shrestha and Orchard 2018), SPEC section 2:
/// u(t) = sum_i W_i (eps * s_i)(t) + sum_k nu(t - t_k), eps(t) = (t/tau_sr) e^(1 - t/tau_sr),
/// nu(t) = -scale_ref theta (t/tau_ref) e^(1 - t/tau_ref); spike when u >= theta. Both kernels
/// k a^k are second-order IIR filters (p[t] = a p[t-1] + x[t], q[t] = a q[t-1] + a p[t-1] gives
/// q[t] = sum_k k a^k x[t-k]), so the neuron is four state variables, no convolution. SLAYER
/// defines the time constants in steps of its grid, and so do we (they do not scale with dt).
#pragma once

#include "../core/error.hpp"
#include "../core/parameters.hpp"
#include "../core/time.hpp"
#include "../simd/vector.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

namespace spikegrad {

/// Neuron policy: SLAYER's spike response model with alpha kernels (the released code's neuron).
struct srm_alpha {
    struct params {
        /// SHD constants (in steps): theta 10, tau_sr 1, tau_ref 2, scale_ref 2;
        /// the paper's synthetic runs: theta 1, tau_sr 1, tau_ref 1.
        double theta = 10.0;
        double tau_sr_steps = 1.0;
        double tau_ref_steps = 2.0;
        double scale_ref = 2.0;
        /// SLAYER differentiates only the synaptic response; false also differentiates the
        /// refractory response to the neuron's own spikes.
        bool detach_refractory = true;
    };

    static constexpr bool spiking = true;
    /// dL/ds enters the adjoint only as dL/ds * spike'(u - theta) (see lif.hpp).
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "srm_alpha";

    template <class S>
    class dynamics {
    public:
        static constexpr std::size_t trace_channels = 1;  // x[t] = u[t] - theta

        dynamics() = default;
        dynamics(const params& p, std::size_t n) : p_(p), n_(n) {
            if (!(p.tau_sr_steps > 0) || !(p.tau_ref_steps > 0) || !std::isfinite(p.tau_sr_steps) ||
                !std::isfinite(p.tau_ref_steps))
                raise<option_error>("srm_alpha: tau_sr_steps ", p.tau_sr_steps,
                                    " and tau_ref_steps ", p.tau_ref_steps, " must be positive");
            a_ = static_cast<S>(std::exp(-1.0 / p.tau_sr_steps));
            b_ = static_cast<S>(std::exp(-1.0 / p.tau_ref_steps));
            k_sr_ = static_cast<S>(std::numbers::e / p.tau_sr_steps);
            k_ref_ = static_cast<S>(-p.scale_ref * p.theta * std::numbers::e / p.tau_ref_steps);
        }

        void declare(parameter_store<S>&, const std::string&) {}
        void prepare(const S*, const time_grid&) {}
        std::size_t size() const { return n_; }
        /// Four filter states (forward) or their adjoints (backward).
        std::size_t work_size() const { return 4 * n_; }

        void begin_forward(S* work) const { std::fill(work, work + 4 * n_, S(0)); }

        template <class Spike>
        void step(const S* current, const S*, S* now, std::size_t, S* work,
                  const Spike& spike) const {
            S* p = work;
            S* q = work + n_;
            S* pr = work + 2 * n_;
            S* qr = work + 3 * n_;
            const S theta = S(p_.theta);
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V pv = simd::load<V>(p + j), prv = simd::load<V>(pr + j);
                const V qv = V(a_) * (simd::load<V>(q + j) + pv);
                const V qrv = V(b_) * (simd::load<V>(qr + j) + prv);
                const V x = V(k_sr_) * qv + V(k_ref_) * qrv - V(theta);
                const V s = spike.spike(x);
                simd::store(q + j, qv);
                simd::store(qr + j, qrv);
                simd::store(p + j, V(a_) * pv + simd::load<V>(current + j));
                simd::store(pr + j, V(b_) * prv + s);
                simd::store(now + j, x);
            });
        }

        void begin_adjoint(S* work) const { std::fill(work, work + 4 * n_, S(0)); }

        /// Adjoint states: lp = dL/dp, lq = dL/dq (synapse), lpr, lqr (refractory).
        template <class Spike>
        void adjoint_step(const S* now, const S* g_spike, S* g_current, std::size_t, S* work,
                          const Spike& spike) const {
            S* lp = work;
            S* lq = work + n_;
            S* lpr = work + 2 * n_;
            S* lqr = work + 3 * n_;
            const bool detach = p_.detach_refractory;
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V lq_next = simd::load<V>(lq + j), lp_next = simd::load<V>(lp + j);
                const V lqr_next = simd::load<V>(lqr + j), lpr_next = simd::load<V>(lpr + j);
                const V lpr_now = V(b_) * (lqr_next + lpr_next);
                V gs = simd::load<V>(g_spike + j);
                if (!detach) gs = gs + lpr_now;
                const V gu = gs * spike.grad(simd::load<V>(now + j));
                const V lp_now = V(a_) * (lq_next + lp_next);
                simd::store(lq + j, V(k_sr_) * gu + V(a_) * lq_next);
                simd::store(lp + j, lp_now);
                simd::store(lqr + j, V(k_ref_) * gu + V(b_) * lqr_next);
                simd::store(lpr + j, lpr_now);
                simd::store(g_current + j, lp_now);
            });
        }

        void end_adjoint(const S*, const S*, S*) const {}

    private:
        params p_{};
        std::size_t n_ = 0;
        S a_ = 0, b_ = 0, k_sr_ = 0, k_ref_ = 0;
    };
};

}  // namespace spikegrad

// spikegrad: [variant] SLAYER's spike response model (Shrestha and Orchard 2018), SPEC section 2:
// u(t) = sum_i W_i (eps * s_i)(t) + sum_k nu(t - t_k), eps(t) = (t/tau_sr) e^(1 - t/tau_sr),
// nu(t) = -scale_ref theta (t/tau_ref) e^(1 - t/tau_ref); spike when u >= theta. Both kernels
// k a^k are second-order IIR filters (p[t] = a p[t-1] + x[t], q[t] = a q[t-1] + a p[t-1] gives
// q[t] = sum_k k a^k x[t-k]), so the neuron is four state variables, no convolution.
#pragma once

#include "../core/error.hpp"
#include "../network/parameters.hpp"
#include "../simd/vector.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

namespace spikegrad {

struct srm_alpha {
    struct params {
        /// SHD constants (in steps): theta 10, tau_sr 1, tau_ref 2, scale_ref 2;
        /// the paper's synthetic runs: theta 1, tau_sr 1, tau_ref 1.
        double theta = 10.0;
        double tau_sr_ms = 1.0;
        double tau_ref_ms = 2.0;
        double scale_ref = 2.0;
        /// SLAYER differentiates only the synaptic response; false also differentiates the
        /// refractory response to the neuron's own spikes.
        bool detach_refractory = true;
    };

    static constexpr bool spiking = true;
    /// dL/ds enters backward only as dL/ds * surrogate.grad(trace channel 0 - theta): where
    /// that surrogate gradient is exactly 0, the layer above may skip the input gradient.
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "srm_alpha";

    template <class S>
    class model {
    public:
        static constexpr std::size_t trace_channels = 1;  // u[t]

        model() = default;
        model(const params& p, std::size_t n) : p_(p), n_(n) {
            if (!(p.tau_sr_ms > 0) || !(p.tau_ref_ms > 0) || !std::isfinite(p.tau_sr_ms) ||
                !std::isfinite(p.tau_ref_ms))
                raise<option_error>("srm_alpha: tau_sr_ms ", p.tau_sr_ms, " and tau_ref_ms ",
                                    p.tau_ref_ms, " must be positive");
        }

        void declare(parameter_store<S>&, const std::string&) {}
        void prepare(const S*, double dt_ms) {
            const double tau_sr = p_.tau_sr_ms / dt_ms, tau_ref = p_.tau_ref_ms / dt_ms;
            a_ = static_cast<S>(std::exp(-1.0 / tau_sr));
            b_ = static_cast<S>(std::exp(-1.0 / tau_ref));
            k_sr_ = static_cast<S>(std::numbers::e / tau_sr);
            k_ref_ = static_cast<S>(-p_.scale_ref * p_.theta * std::numbers::e / tau_ref);
        }
        S theta() const { return S(p_.theta); }
        std::size_t work_size() const { return 4 * n_; }

        template <class Surrogate>
        void forward(const S* current, std::size_t T, const Surrogate& sg, S* trace,
                     S* work) const {
            S* p = work;
            S* q = work + n_;
            S* pr = work + 2 * n_;
            S* qr = work + 3 * n_;
            std::fill(work, work + 4 * n_, S(0));
            const S theta = S(p_.theta);
            for (std::size_t t = 0; t < T; ++t) {
                const S* in = current + t * n_;
                S* u_row = trace + t * n_;
                simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                    using V = typename decltype(tag)::type;
                    const V pv = simd::load<V>(p + j), prv = simd::load<V>(pr + j);
                    const V qv = V(a_) * (simd::load<V>(q + j) + pv);
                    const V qrv = V(b_) * (simd::load<V>(qr + j) + prv);
                    const V u = V(k_sr_) * qv + V(k_ref_) * qrv;
                    const V s = sg.spike(u - V(theta));
                    simd::store(q + j, qv);
                    simd::store(qr + j, qrv);
                    simd::store(p + j, V(a_) * pv + simd::load<V>(in + j));
                    simd::store(pr + j, V(b_) * prv + s);
                    simd::store(u_row + j, u);
                });
            }
        }

        template <class Surrogate>
        void backward(const S* trace, const S* g_out, std::size_t T, const Surrogate& sg,
                      S* g_current, S* work, const S*, S*) const {
            // Adjoint states: lp = dL/dp, lq = dL/dq (synapse), lpr, lqr (refractory).
            S* lp = work;
            S* lq = work + n_;
            S* lpr = work + 2 * n_;
            S* lqr = work + 3 * n_;
            std::fill(work, work + 4 * n_, S(0));
            const S theta = S(p_.theta);
            const bool detach = p_.detach_refractory;
            for (std::size_t t = T; t-- > 0;) {
                const S* u_row = trace + t * n_;
                const S* g_row = g_out + t * n_;
                S* gi_row = g_current + t * n_;
                simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                    using V = typename decltype(tag)::type;
                    const V lq_next = simd::load<V>(lq + j), lp_next = simd::load<V>(lp + j);
                    const V lqr_next = simd::load<V>(lqr + j), lpr_next = simd::load<V>(lpr + j);
                    const V lpr_now = V(b_) * (lqr_next + lpr_next);
                    V gs = simd::load<V>(g_row + j);
                    if (!detach) gs = gs + lpr_now;
                    const V gu = gs * sg.grad(simd::load<V>(u_row + j) - V(theta));
                    const V lp_now = V(a_) * (lq_next + lp_next);
                    simd::store(lq + j, V(k_sr_) * gu + V(a_) * lq_next);
                    simd::store(lp + j, lp_now);
                    simd::store(lqr + j, V(k_ref_) * gu + V(b_) * lqr_next);
                    simd::store(lpr + j, lpr_now);
                    simd::store(gi_row + j, lp_now);
                });
            }
        }

    private:
        params p_{};
        std::size_t n_ = 0;
        S a_ = 0, b_ = 0, k_sr_ = 0, k_ref_ = 0;
    };
};

}  // namespace spikegrad

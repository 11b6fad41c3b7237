/// \file
/// spikegrad: the adaptive-threshold LIF (Bellec et al. 2018, LSNN; 2020, e-prop): a LIF whose
/// threshold rises by `adaptation` with every spike and relaxes with tau_adapt:
/// a[t] = rho a[t-1] + s[t-1], theta_eff[t] = theta + adaptation a[t], rho = exp(-dt/tau_adapt),
/// v[t] = beta v[t-1] + I[t] - theta_eff[t-1] s[t-1] (subtract) or beta (1 - s[t-1]) v[t-1] + I[t];
/// s[t] = H(v[t] - theta_eff[t]). Dynamics only: the step and its exact adjoint (see lif.hpp).
#pragma once

#include "../core/time.hpp"
#include "../simd/vector.hpp"
#include "leak.hpp"
#include "lif.hpp"
#include "threshold.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

namespace spikegrad {

/// Neuron policy: LIF with an adaptive threshold that rises after each spike and decays back.
struct adaptive_lif {
    struct params {
        /// The LIF part: tau, resting threshold theta, reset, trainability and bounds.
        lif::params membrane{};
        /// Threshold increase per spike, in units of the membrane (Bellec et al.: beta).
        double adaptation = 0.2;
        /// Relaxation time constant of the adaptation in ms.
        double tau_adapt_ms = 200.0;
    };

    static constexpr bool spiking = true;
    /// dL/ds enters the adjoint only as dL/ds * spike'(x) (see lif.hpp).
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "adaptive_lif";

    template <class S>
    class dynamics {
    public:
        /// Channel 0: x[t] = v[t] - theta_eff[t]; channel 1: the adaptation a[t].
        static constexpr std::size_t trace_channels = 2;

        dynamics() = default;
        dynamics(const params& p, std::size_t n)
            : p_(p), n_(n),
              leak_(p.membrane.tau_ms, p.membrane.train_tau, p.membrane.tau_min_ms,
                    p.membrane.tau_max_ms, n, "adaptive_lif"),
              theta_(p.membrane.theta, p.membrane.train_theta, p.membrane.theta_min,
                     p.membrane.theta_max, n, "adaptive_lif") {
            if (!(p.tau_adapt_ms > 0) || !std::isfinite(p.tau_adapt_ms))
                raise<option_error>("adaptive_lif: tau_adapt_ms ", p.tau_adapt_ms,
                                    " must be positive");
            if (!std::isfinite(p.adaptation))
                raise<option_error>("adaptive_lif: adaptation ", p.adaptation, " must be finite");
        }

        void declare(parameter_store<S>& store, const std::string& prefix) {
            leak_.declare(store, prefix);
            theta_.declare(store, prefix);
        }
        void prepare(const S* values, const time_grid& grid) {
            leak_.prepare(values, grid);
            theta_.prepare(values);
            rho_ = static_cast<S>(grid.decay(p_.tau_adapt_ms));
        }
        std::size_t size() const { return n_; }
        /// Scratch: dL/dv and dL/da of the next step, dL/dbeta and dL/dtheta sums.
        std::size_t work_size() const { return 4 * n_; }

        void begin_forward(S*) const {}

        template <class Spike>
        void step(const S* current, const S* prev, S* now, std::size_t stride, S*,
                  const Spike& spike) const {
            const S* beta = leak_.beta();
            const S* theta = theta_.values();
            const bool subtract = p_.membrane.reset == reset_mode::subtract;
            const S k = static_cast<S>(p_.adaptation);
            S* a_now = now + stride;
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V th = simd::load<V>(theta + j);
                V v = simd::load<V>(current + j);
                V a(S(0));
                if (prev) {
                    const V xp = simd::load<V>(prev + j);
                    const V ap = simd::load<V>(prev + stride + j);
                    const V effective = th + V(k) * ap;
                    const V vp = xp + effective;
                    const V sp = spike.spike(xp);
                    a = V(rho_) * ap + sp;
                    v = subtract ? v + simd::load<V>(beta + j) * vp - effective * sp
                                 : v + simd::load<V>(beta + j) * (V(S(1)) - sp) * vp;
                }
                simd::store(a_now + j, a);
                simd::store(now + j, v - th - V(k) * a);
            });
        }

        void begin_adjoint(S* work) const { std::fill(work, work + 4 * n_, S(0)); }

        template <class Spike>
        void adjoint_step(const S* now, const S* g_spike, S* g_current, std::size_t stride,
                          S* work, const Spike& spike) const {
            const S* beta = leak_.beta();
            const S* theta = theta_.values();
            const bool subtract = p_.membrane.reset == reset_mode::subtract;
            const bool detach = p_.membrane.detach_reset;
            const bool train_beta = leak_.trainable(), train_theta = theta_.trainable();
            const S k = static_cast<S>(p_.adaptation);
            const S* a_now = now + stride;
            S* gv_next = work;
            S* ga_next = work + n_;
            S* dbeta = work + 2 * n_;
            S* dtheta = work + 3 * n_;
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V x = simd::load<V>(now + j);
                const V a = simd::load<V>(a_now + j);
                const V effective = simd::load<V>(theta + j) + V(k) * a;
                const V v = x + effective;
                const V s = spike.spike(x);
                const V b = simd::load<V>(beta + j);
                const V gvn = simd::load<V>(gv_next + j), gan = simd::load<V>(ga_next + j);
                // dL/ds[t]: the layer above, the adaptation a[t+1], and (kept) the reset.
                V gs = simd::load<V>(g_spike + j) + gan;
                V carry;
                if (subtract) {
                    if (!detach) gs = gs - effective * gvn;
                    carry = b * gvn;
                    if (train_beta) simd::store(dbeta + j, simd::load<V>(dbeta + j) + gvn * v);
                } else {
                    if (!detach) gs = gs - b * v * gvn;
                    carry = b * (V(S(1)) - s) * gvn;
                    if (train_beta)
                        simd::store(dbeta + j,
                                    simd::load<V>(dbeta + j) + gvn * (V(S(1)) - s) * v);
                }
                const V gx = gs * spike.grad(x);
                // theta_eff[t] enters x[t] and (subtractive) the reset at t + 1.
                V g_effective = -gx;
                if (subtract) g_effective = g_effective - s * gvn;
                if (train_theta) simd::store(dtheta + j, simd::load<V>(dtheta + j) + g_effective);
                const V gv = gx + carry;
                simd::store(g_current + j, gv);
                simd::store(gv_next + j, gv);
                simd::store(ga_next + j, V(k) * g_effective + V(rho_) * gan);
            });
        }

        void end_adjoint(const S* work, const S* values, S* grads) const {
            if (leak_.trainable()) leak_.accumulate(work + 2 * n_, values, grads);
            theta_.accumulate(work + 3 * n_, grads);
        }

    private:
        params p_{};
        std::size_t n_ = 0;
        leak<S> leak_{};
        spikegrad::threshold<S> theta_{};
        S rho_ = 0;
    };
};

}  // namespace spikegrad

/// \file
/// spikegrad: the leaky integrate-and-fire neuron, the paper's hidden unit (SPEC section 2):
/// v[t] = beta v[t-1] + I[t] - theta s[t-1] (subtractive reset) or
/// v[t] = beta (1 - s[t-1]) v[t-1] + I[t] (reset to zero); s[t] = H(v[t] - theta).
/// Only the dynamics live here: the discrete step, its exact local derivatives (the step's
/// adjoint, given whatever derivative of the spike a gradient engine chooses) and the
/// continuous-time propagator v(t + s) = v(t) exp(-s / tau) between events.
#pragma once

#include "../core/time.hpp"
#include "../simd/vector.hpp"
#include "leak.hpp"
#include "threshold.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

namespace spikegrad {

enum class reset_mode { subtract, zero };

/// Neuron policy: the leaky integrate-and-fire neuron with subtractive or zero reset.
struct lif {
    struct params {
        double tau_ms = 20.0;
        double theta = 1.0;
        reset_mode reset = reset_mode::subtract;
        /// The reset term carries no gradient (snnTorch's and SLAYER's default); false keeps it.
        bool detach_reset = true;
        training train_tau = training::fixed;
        double tau_min_ms = 1.0;
        double tau_max_ms = 1000.0;
        /// Trainable threshold (one per layer or per neuron), clamped to [theta_min, theta_max].
        training train_theta = training::fixed;
        double theta_min = 0.0;
        double theta_max = std::numeric_limits<double>::infinity();
    };

    static constexpr bool spiking = true;
    /// dL/ds enters the adjoint only as dL/ds * spike'(x): where an engine's spike derivative
    /// is exactly 0, the layer above may skip computing dL/ds.
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "lif";

    template <class S>
    class dynamics {
    public:
        /// Kept per step and neuron: x[t] = v[t] - theta (before the reset).
        static constexpr std::size_t trace_channels = 1;

        dynamics() = default;
        dynamics(const params& p, std::size_t n)
            : p_(p), n_(n), leak_(p.tau_ms, p.train_tau, p.tau_min_ms, p.tau_max_ms, n, "lif"),
              theta_(p.theta, p.train_theta, p.theta_min, p.theta_max, n, "lif") {}

        void declare(parameter_store<S>& store, const std::string& prefix) {
            leak_.declare(store, prefix);
            theta_.declare(store, prefix);
        }
        void prepare(const S* values, const time_grid& grid) {
            leak_.prepare(values, grid);
            theta_.prepare(values);
        }
        const params& options() const { return p_; }
        std::size_t size() const { return n_; }
        /// Scratch per layer: dL/dv of the next step, dL/dbeta and dL/dtheta sums.
        std::size_t work_size() const { return 3 * n_; }

        void begin_forward(S*) const {}

        /// One step for all neurons: `now` = x[t] from the input currents I[t] and x[t-1]
        /// (`prev`, nullptr at t = 0); `spike` is the engine's spike nonlinearity.
        template <class Spike>
        void step(const S* current, const S* prev, S* now, std::size_t, S*,
                  const Spike& spike) const {
            const S* beta = leak_.beta();
            const S* theta = theta_.values();
            const bool subtract = p_.reset == reset_mode::subtract;
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V th = simd::load<V>(theta + j);
                V v = simd::load<V>(current + j);
                if (prev) {
                    const V xp = simd::load<V>(prev + j);
                    const V vp = xp + th;
                    const V sp = spike.spike(xp);
                    v = subtract ? v + simd::load<V>(beta + j) * vp - th * sp
                                 : v + simd::load<V>(beta + j) * (V(S(1)) - sp) * vp;
                }
                simd::store(now + j, v - th);
            });
        }

        void begin_adjoint(S* work) const { std::fill(work, work + 3 * n_, S(0)); }

        /// The adjoint of step t: from dL/ds[t] (g_spike) and dL/dv[t+1] (kept in work) to
        /// dL/dI[t] (g_current) and dL/dv[t]; sums dL/dbeta and dL/dtheta.
        template <class Spike>
        void adjoint_step(const S* now, const S* g_spike, S* g_current, std::size_t, S* work,
                          const Spike& spike) const {
            const S* beta = leak_.beta();
            const S* theta = theta_.values();
            const bool subtract = p_.reset == reset_mode::subtract;
            const bool detach = p_.detach_reset;
            const bool train_beta = leak_.trainable(), train_theta = theta_.trainable();
            S* g_next = work;
            S* dbeta = work + n_;
            S* dtheta = work + 2 * n_;
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V x = simd::load<V>(now + j);
                const V th = simd::load<V>(theta + j);
                const V v = x + th;
                const V s = spike.spike(x);
                const V b = simd::load<V>(beta + j);
                const V gvn = simd::load<V>(g_next + j);
                V gs = simd::load<V>(g_spike + j);
                V carry;
                if (subtract) {
                    if (!detach) gs = gs - th * gvn;
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
                if (train_theta) {
                    // theta enters x[t] = v[t] - theta and (subtractive) the reset at t + 1.
                    V d = simd::load<V>(dtheta + j) - gx;
                    if (subtract) d = d - s * gvn;
                    simd::store(dtheta + j, d);
                }
                const V gv = gx + carry;
                simd::store(g_current + j, gv);
                simd::store(g_next + j, gv);
            });
        }

        /// After the last adjoint step: the parameter gradients from the sums.
        void end_adjoint(const S* work, const S* values, S* grads) const {
            if (leak_.trainable()) leak_.accumulate(work + n_, values, grads);
            theta_.accumulate(work + 2 * n_, grads);
        }

        /// Continuous time between events: the membrane after `elapsed_ms` without input.
        S propagate(std::size_t j, S v, double elapsed_ms) const {
            return static_cast<S>(static_cast<double>(v) * std::exp(-elapsed_ms / leak_.tau_ms(j)));
        }
        S threshold(std::size_t j) const { return theta_.values()[j]; }

        /// The leak per step of every neuron (after prepare): the firmware export reads it.
        const S* beta() const { return leak_.beta(); }

    private:
        params p_{};
        std::size_t n_ = 0;
        leak<S> leak_{};
        spikegrad::threshold<S> theta_{};
    };
};

}  // namespace spikegrad

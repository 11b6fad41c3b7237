// spikegrad: the leaky integrate-and-fire neuron, the paper's hidden unit (SPEC section 2):
// v[t] = beta v[t-1] + I[t] - theta s[t-1] (subtractive reset) or
// v[t] = beta (1 - s[t-1]) v[t-1] + I[t] (reset to zero); s[t] = H(v[t] - theta).
#pragma once

#include "../simd/vector.hpp"
#include "leak.hpp"

#include <cstddef>
#include <string>

namespace spikegrad {

enum class reset_mode { subtract, zero };

struct lif {
    struct params {
        double tau_ms = 20.0;
        double theta = 1.0;
        reset_mode reset = reset_mode::subtract;
        /// The reset term carries no gradient (snnTorch's and SLAYER's default); false keeps it.
        bool detach_reset = true;
        tau_training train_tau = tau_training::fixed;
        double tau_min_ms = 1.0;
        double tau_max_ms = 1000.0;
    };

    static constexpr bool spiking = true;
    /// dL/ds enters backward only as dL/ds * surrogate.grad(trace channel 0 - theta): where
    /// that surrogate gradient is exactly 0, the layer above may skip the input gradient.
    static constexpr bool gates_output_gradient = true;
    static constexpr const char* name = "lif";

    template <class S>
    class model {
    public:
        static constexpr std::size_t trace_channels = 1;  // v[t] before the reset

        model() = default;
        model(const params& p, std::size_t n)
            : p_(p), n_(n), leak_(p.tau_ms, p.train_tau, p.tau_min_ms, p.tau_max_ms, n, "lif") {}

        void declare(parameter_store<S>& store, const std::string& prefix) {
            leak_.declare(store, prefix);
        }
        void prepare(const S* values, double dt_ms) { leak_.prepare(values, dt_ms); }
        S theta() const { return S(p_.theta); }
        const params& options() const { return p_; }
        std::size_t work_size() const { return n_; }

        /// trace[t, j] = v[t] of neuron j for t in [0, T), from the input currents I[t, j].
        template <class Surrogate>
        void forward(const S* current, std::size_t T, const Surrogate& sg, S* trace,
                     S* /*work*/) const {
            const S* beta = leak_.beta();
            const S theta = S(p_.theta);
            const bool subtract = p_.reset == reset_mode::subtract;
            for (std::size_t t = 0; t < T; ++t) {
                const S* in = current + t * n_;
                const S* prev = t ? trace + (t - 1) * n_ : nullptr;
                S* v_out = trace + t * n_;
                simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                    using V = typename decltype(tag)::type;
                    const V b = simd::load<V>(beta + j);
                    V v = simd::load<V>(in + j);
                    if (prev) {
                        const V vp = simd::load<V>(prev + j);
                        const V sp = sg.spike(vp - V(theta));
                        v = subtract ? v + b * vp - V(theta) * sp : v + b * (V(S(1)) - sp) * vp;
                    }
                    simd::store(v_out + j, v);
                });
            }
        }

        /// From dL/ds[t, j] (g_out), the gradient with respect to the input currents, and dL/dtau.
        template <class Surrogate>
        void backward(const S* trace, const S* g_out, std::size_t T, const Surrogate& sg,
                      S* g_current, S* work, const S* values, S* grads) const {
            const S* beta = leak_.beta();
            const S theta = S(p_.theta);
            const bool subtract = p_.reset == reset_mode::subtract;
            const bool detach = p_.detach_reset;
            const bool train = leak_.trainable();
            S* dbeta = work;
            if (train) std::fill(dbeta, dbeta + n_, S(0));
            for (std::size_t t = T; t-- > 0;) {
                const S* v_row = trace + t * n_;
                const S* g_row = g_out + t * n_;
                const S* next = t + 1 < T ? g_current + (t + 1) * n_ : nullptr;
                S* gv_row = g_current + t * n_;
                simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                    using V = typename decltype(tag)::type;
                    const V v = simd::load<V>(v_row + j);
                    const V x = v - V(theta);
                    const V s = sg.spike(x);
                    const V b = simd::load<V>(beta + j);
                    const V gvn = next ? simd::load<V>(next + j) : V(S(0));
                    V gs = simd::load<V>(g_row + j);
                    V carry;
                    if (subtract) {
                        if (!detach) gs = gs - V(theta) * gvn;
                        carry = b * gvn;
                        if (train) simd::store(dbeta + j, simd::load<V>(dbeta + j) + gvn * v);
                    } else {
                        if (!detach) gs = gs - b * v * gvn;
                        carry = b * (V(S(1)) - s) * gvn;
                        if (train)
                            simd::store(dbeta + j,
                                        simd::load<V>(dbeta + j) + gvn * (V(S(1)) - s) * v);
                    }
                    simd::store(gv_row + j, gs * sg.grad(x) + carry);
                });
            }
            if (train) leak_.accumulate(dbeta, values, grads);
        }

    private:
        params p_{};
        std::size_t n_ = 0;
        leak<S> leak_{};
    };
};

}  // namespace spikegrad

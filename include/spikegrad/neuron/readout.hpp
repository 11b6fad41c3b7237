// spikegrad: the non-spiking leaky readout (SPEC section 2): v[t] = beta v[t-1] + I[t], no
// threshold; its membrane over time is the record the losses read.
#pragma once

#include "../simd/vector.hpp"
#include "leak.hpp"

#include <cstddef>
#include <string>

namespace spikegrad {

struct readout {
    struct params {
        double tau_ms = 20.0;
        tau_training train_tau = tau_training::fixed;
        double tau_min_ms = 1.0;
        double tau_max_ms = 1000.0;
    };

    static constexpr bool spiking = false;
    static constexpr const char* name = "readout";

    template <class S>
    class model {
    public:
        static constexpr std::size_t trace_channels = 1;  // the membrane v[t]

        model() = default;
        model(const params& p, std::size_t n)
            : p_(p), n_(n), leak_(p.tau_ms, p.train_tau, p.tau_min_ms, p.tau_max_ms, n, "readout") {}

        void declare(parameter_store<S>& store, const std::string& prefix) {
            leak_.declare(store, prefix);
        }
        void prepare(const S* values, double dt_ms) { leak_.prepare(values, dt_ms); }
        S theta() const { return S(0); }
        const params& options() const { return p_; }
        std::size_t work_size() const { return n_; }

        template <class Surrogate>
        void forward(const S* current, std::size_t T, const Surrogate&, S* trace, S*) const {
            const S* beta = leak_.beta();
            for (std::size_t t = 0; t < T; ++t) {
                const S* in = current + t * n_;
                const S* prev = t ? trace + (t - 1) * n_ : nullptr;
                S* v_out = trace + t * n_;
                simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                    using V = typename decltype(tag)::type;
                    V v = simd::load<V>(in + j);
                    if (prev) v = v + simd::load<V>(beta + j) * simd::load<V>(prev + j);
                    simd::store(v_out + j, v);
                });
            }
        }

        /// From dL/dv[t, j] (g_out: the loss reads the membrane directly) to dL/dI and dL/dtau.
        template <class Surrogate>
        void backward(const S* trace, const S* g_out, std::size_t T, const Surrogate&,
                      S* g_current, S* work, const S* values, S* grads) const {
            const S* beta = leak_.beta();
            const bool train = leak_.trainable();
            S* dbeta = work;
            if (train) std::fill(dbeta, dbeta + n_, S(0));
            for (std::size_t t = T; t-- > 0;) {
                const S* next = t + 1 < T ? g_current + (t + 1) * n_ : nullptr;
                const S* v_row = trace + t * n_;
                const S* g_row = g_out + t * n_;
                S* gv_row = g_current + t * n_;
                simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                    using V = typename decltype(tag)::type;
                    V gv = simd::load<V>(g_row + j);
                    if (next) {
                        const V gvn = simd::load<V>(next + j);
                        gv = gv + simd::load<V>(beta + j) * gvn;
                        if (train)
                            simd::store(dbeta + j,
                                        simd::load<V>(dbeta + j) + gvn * simd::load<V>(v_row + j));
                    }
                    simd::store(gv_row + j, gv);
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

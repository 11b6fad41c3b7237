/// \file
/// spikegrad: the non-spiking leaky readout (SPEC section 2): v[t] = beta v[t-1] + I[t], no
/// threshold; its membrane over time is the record the losses read. Dynamics only (see lif.hpp).
#pragma once

#include "../core/time.hpp"
#include "../simd/vector.hpp"
#include "leak.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

namespace spikegrad {

/// Neuron policy: the non-spiking leaky readout whose membrane the losses read.
struct readout {
    struct params {
        double tau_ms = 20.0;
        training train_tau = training::fixed;
        double tau_min_ms = 1.0;
        double tau_max_ms = 1000.0;
    };

    static constexpr bool spiking = false;
    static constexpr const char* name = "readout";

    template <class S>
    class dynamics {
    public:
        static constexpr std::size_t trace_channels = 1;  // the membrane v[t]

        dynamics() = default;
        dynamics(const params& p, std::size_t n)
            : p_(p), n_(n), leak_(p.tau_ms, p.train_tau, p.tau_min_ms, p.tau_max_ms, n, "readout") {}

        void declare(parameter_store<S>& store, const std::string& prefix) {
            leak_.declare(store, prefix);
        }
        void prepare(const S* values, const time_grid& grid) { leak_.prepare(values, grid); }
        const params& options() const { return p_; }
        std::size_t size() const { return n_; }
        /// Scratch: dL/dv of the next step and the dL/dbeta sums.
        std::size_t work_size() const { return 2 * n_; }

        void begin_forward(S*) const {}

        template <class Spike>
        void step(const S* current, const S* prev, S* now, std::size_t, S*, const Spike&) const {
            const S* beta = leak_.beta();
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                V v = simd::load<V>(current + j);
                if (prev) v = v + simd::load<V>(beta + j) * simd::load<V>(prev + j);
                simd::store(now + j, v);
            });
        }

        void begin_adjoint(S* work) const { std::fill(work, work + 2 * n_, S(0)); }

        /// From dL/dv[t] (g_out: the loss reads the membrane directly) to dL/dI[t].
        template <class Spike>
        void adjoint_step(const S* now, const S* g_out, S* g_current, std::size_t, S* work,
                          const Spike&) const {
            const S* beta = leak_.beta();
            const bool train = leak_.trainable();
            S* g_next = work;
            S* dbeta = work + n_;
            simd::vectorize<S>(n_, [&](auto tag, std::size_t j) {
                using V = typename decltype(tag)::type;
                const V gvn = simd::load<V>(g_next + j);
                const V gv = simd::load<V>(g_out + j) + simd::load<V>(beta + j) * gvn;
                if (train)
                    simd::store(dbeta + j, simd::load<V>(dbeta + j) + gvn * simd::load<V>(now + j));
                simd::store(g_current + j, gv);
                simd::store(g_next + j, gv);
            });
        }

        void end_adjoint(const S* work, const S* values, S* grads) const {
            if (leak_.trainable()) leak_.accumulate(work + n_, values, grads);
        }

        /// Continuous time between events: the membrane after `elapsed_ms` without input.
        S propagate(std::size_t j, S v, double elapsed_ms) const {
            return static_cast<S>(static_cast<double>(v) * std::exp(-elapsed_ms / leak_.tau_ms(j)));
        }

        /// The leak per step of every neuron (after prepare): the firmware export reads it.
        const S* beta() const { return leak_.beta(); }

    private:
        params p_{};
        std::size_t n_ = 0;
        leak<S> leak_{};
    };
};

}  // namespace spikegrad

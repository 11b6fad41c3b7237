/// \file
/// spikegrad: the gamma memory (de Vries and Principe 1992) used by SpikingGamma neurons
/// (Koopman, Otte, Bohte, arXiv 2602.01978): K leaky buckets in a cascade. Bucket 1 integrates
/// its input, bucket k > 1 receives (1 - alpha) of bucket k - 1, every bucket leaks by
/// alpha = exp(-dt / tau). The recursion (docs/spiking_gamma.md, section 1):
///   b_1[t] = alpha b_1[t-1] + u[t]
///   b_k[t] = alpha b_k[t-1] + (1 - alpha) b_{k-1}[t-1]        (k = 2..K)
/// so bucket k's impulse response is the discrete gamma (negative-binomial) kernel
///   h_k[t] = C(t, k-1) (1 - alpha)^(k-1) alpha^(t-k+1)   (t >= k-1), sum_t h_k = 1/(1-alpha),
/// whose mean delay is k / (1 - alpha) - 1 steps (-> k tau as dt -> 0).
#pragma once

#include "../core/error.hpp"

#include <cmath>
#include <cstddef>

namespace spikegrad {

/// One bank of n cascades of K buckets, state [n, K] row-major (bucket k of channel i is
/// b[i * K + k], k = 0 for bucket 1). Leaks every bucket and spills bucket k-1's previous
/// value into bucket k; the caller then adds the input of the step to bucket 1 (b[i * K]).
template <class S>
void gamma_leak(S* b, std::size_t n, std::size_t K, S alpha) {
    const S spill = S(1) - alpha;
    for (std::size_t i = 0; i < n; ++i) {
        S* row = b + i * K;
        for (std::size_t k = K - 1; k > 0; --k) row[k] = alpha * row[k] + spill * row[k - 1];
        row[0] = alpha * row[0];
    }
}

/// The adjoint of gamma_leak (its transpose): g_prev[k] = alpha g[k] + (1 - alpha) g[k+1].
template <class S>
void gamma_leak_adjoint(S* g, std::size_t n, std::size_t K, S alpha) {
    const S spill = S(1) - alpha;
    for (std::size_t i = 0; i < n; ++i) {
        S* row = g + i * K;
        for (std::size_t k = 0; k + 1 < K; ++k) row[k] = alpha * row[k] + spill * row[k + 1];
        row[K - 1] = alpha * row[K - 1];
    }
}

/// The closed-form impulse response of bucket `k` (1-based) at step t >= 0, for a unit input
/// at step 0: C(t, k-1) (1 - alpha)^(k-1) alpha^(t-k+1), zero for t < k - 1.
inline double gamma_kernel(std::size_t k, std::size_t t, double alpha) {
    if (k == 0) raise<option_error>("gamma_kernel: buckets are numbered from 1");
    if (t + 1 < k) return 0.0;
    const double m = double(k - 1), s = double(t);
    const double log_binomial = std::lgamma(s + 1) - std::lgamma(m + 1) - std::lgamma(s - m + 1);
    const double log_alpha_part = (s - m) * std::log(alpha);
    return std::exp(log_binomial + m * std::log1p(-alpha) + log_alpha_part);
}

/// Mean delay of bucket k (1-based) in steps: k / (1 - alpha) - 1.
inline double gamma_mean_delay_steps(std::size_t k, double alpha) {
    return double(k) / (1.0 - alpha) - 1.0;
}

/// Variance of bucket k's delay in steps^2: k alpha / (1 - alpha)^2.
inline double gamma_delay_variance_steps(std::size_t k, double alpha) {
    return double(k) * alpha / ((1.0 - alpha) * (1.0 - alpha));
}

}  // namespace spikegrad

/// \file
/// spikegrad: Spikemax (Shrestha, Zhu and Sun 2022), the paper's SHD/SSC loss (SPEC section 4):
/// N_i = max(1, sum_t s_i[t]), p_i = N_i / sum_j N_j, L = -log p_y, dL/ds_i[t] = (p_i - y_i) / N_i
/// (the clamp passes the gradient straight through, so a silent true class is pushed to fire).
/// Softmax form: p = softmax(scale N / W). Optional sliding window of width W (mean over windows).
#pragma once

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace spikegrad {

/// Loss policy: the paper's Spikemax, cross-entropy over spike-count ratios (or their softmax) per
/// window.
struct spikemax {
    enum class form { count_ratio, softmax };
    form kind = form::count_ratio;
    /// Window width in steps; 0 means one window over the whole record.
    std::size_t window = 0;
    /// Softmax form only: logits are scale * N_i / W (spike rates times scale).
    double scale = 1.0;

    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "spikemax";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale_grad) const {
        const std::size_t W = window == 0 || window > T ? T : window;
        const std::size_t windows = T - W + 1;
        // c[k, i]: dL/dN_i of window k (ending at step k + W - 1), already divided by windows.
        std::vector<S> counts(n), c(windows * n);
        S loss = 0;
        detail::count_rows(record, 0, W, n, counts.data());
        for (std::size_t k = 0; k < windows; ++k) {
            if (k > 0)
                for (std::size_t i = 0; i < n; ++i)
                    counts[i] += record[(k + W - 1) * n + i] - record[(k - 1) * n + i];
            S* ck = c.data() + k * n;
            if (kind == form::count_ratio) {
                S total = 0;
                for (std::size_t i = 0; i < n; ++i) total += std::max(S(1), counts[i]);
                const S ny = std::max(S(1), counts[label]);
                loss += -std::log(ny / total);
                for (std::size_t i = 0; i < n; ++i) {
                    const S ni = std::max(S(1), counts[i]);
                    ck[i] = (ni / total - (static_cast<int>(i) == label ? S(1) : S(0))) / ni;
                }
            } else {
                std::vector<S> z(n);
                const S factor = S(scale) / static_cast<S>(W);
                for (std::size_t i = 0; i < n; ++i) z[i] = factor * counts[i];
                loss += detail::cross_entropy(z.data(), n, label, ck, factor);
            }
        }
        loss /= static_cast<S>(windows);
        if (grad) {
            // dL/ds_i[t] = sum of c over the windows that contain t (prefix sums over k).
            std::vector<S> prefix((windows + 1) * n, S(0));
            for (std::size_t k = 0; k < windows; ++k)
                for (std::size_t i = 0; i < n; ++i)
                    prefix[(k + 1) * n + i] = prefix[k * n + i] + c[k * n + i];
            for (std::size_t t = 0; t < T; ++t) {
                const std::size_t first = t + 1 >= W ? t + 1 - W : 0;  // windows k with
                const std::size_t last = std::min(t, windows - 1);     // k <= t <= k + W - 1
                for (std::size_t i = 0; i < n; ++i)
                    grad[t * n + i] = first <= last ? scale_grad / static_cast<S>(windows) *
                                                          (prefix[(last + 1) * n + i] - prefix[first * n + i])
                                                    : S(0);
            }
        }
        return loss;
    }

    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

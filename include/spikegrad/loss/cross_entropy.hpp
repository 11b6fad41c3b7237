/// \file
/// spikegrad: cross-entropy losses on the last layer's record. The paper's synthetic tasks use
/// the readout membrane at the final step (SPEC section 4); max-over-time membrane and spike
/// counts are the other common logits (snnTorch's ce_max_membrane_loss, ce_count_loss).
#pragma once

#include "common.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikegrad {

/// L = CE(softmax(v[T-1]), y) on the readout membrane at the last step.
struct final_membrane_cross_entropy {
    static constexpr record_kind reads = record_kind::membrane;
    static constexpr const char* name = "ce_final";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        if (grad) std::fill(grad, grad + T * n, S(0));
        return detail::cross_entropy(record + (T - 1) * n, n, label,
                                     grad ? grad + (T - 1) * n : nullptr, scale);
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        std::copy(record + (T - 1) * n, record + T * n, out);
    }
};

/// L = CE(softmax(max_t v[t]), y); the gradient flows to the step of each maximum.
struct max_membrane_cross_entropy {
    static constexpr record_kind reads = record_kind::membrane;
    static constexpr const char* name = "ce_max";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        std::vector<S> z(n);
        if (!grad) {
            scores(record, T, n, z.data());
            return detail::cross_entropy(z.data(), n, label, static_cast<S*>(nullptr), scale);
        }
        // step by step over contiguous rows, branch-free: the first maximum on ties
        std::vector<std::uint32_t> when(n, 0);
        std::copy(record, record + n, z.begin());
        for (std::size_t t = 1; t < T; ++t) {
            const S* row = record + t * n;
            const auto step = static_cast<std::uint32_t>(t);
            for (std::size_t i = 0; i < n; ++i) {
                const bool up = row[i] > z[i];
                z[i] = up ? row[i] : z[i];
                when[i] = up ? step : when[i];
            }
        }
        std::vector<S> dz(n);
        const S loss = detail::cross_entropy(z.data(), n, label, dz.data(), scale);
        std::fill(grad, grad + T * n, S(0));
        for (std::size_t i = 0; i < n; ++i) grad[std::size_t(when[i]) * n + i] = dz[i];
        return loss;
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        std::copy(record, record + n, out);
        for (std::size_t t = 1; t < T; ++t)
            for (std::size_t i = 0; i < n; ++i) out[i] = std::max(out[i], record[t * n + i]);
    }
};

/// L = CE(softmax(mean_t v[t]), y): every step of the readout membrane contributes (the
/// time-averaged readout of Zenke and Vogels 2021 and of SHD recipes); dL/dv[t] = dL/dz / T.
struct mean_membrane_cross_entropy {
    static constexpr record_kind reads = record_kind::membrane;
    static constexpr const char* name = "ce_mean";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        std::vector<S> z(n), dz(n);
        scores(record, T, n, z.data());
        const S loss = detail::cross_entropy(z.data(), n, label, grad ? dz.data() : nullptr, scale);
        if (grad)
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t i = 0; i < n; ++i) grad[t * n + i] = dz[i] / static_cast<S>(T);
        return loss;
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        std::fill(out, out + n, S(0));
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < n; ++i) out[i] += record[t * n + i];
        for (std::size_t i = 0; i < n; ++i) out[i] /= static_cast<S>(T);
    }
};

/// L = CE(softmax(N), y) with N_i = sum_t s_i[t], the output spike counts.
struct count_cross_entropy {
    static constexpr record_kind reads = record_kind::spikes;
    static constexpr const char* name = "ce_count";

    template <class S>
    S evaluate(const S* record, std::size_t T, std::size_t n, int label, S* grad, S scale) const {
        std::vector<S> counts(n), dz(n);
        detail::count_rows(record, 0, T, n, counts.data());
        const S loss =
            detail::cross_entropy(counts.data(), n, label, grad ? dz.data() : nullptr, scale);
        if (grad)
            for (std::size_t t = 0; t < T; ++t) std::copy(dz.begin(), dz.end(), grad + t * n);
        return loss;
    }
    template <class S>
    void scores(const S* record, std::size_t T, std::size_t n, S* out) const {
        detail::count_rows(record, 0, T, n, out);
    }
};

}  // namespace spikegrad

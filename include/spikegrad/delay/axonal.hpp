/// \file
/// spikegrad: learnable axonal delays, the paper's "SGD-delay" model (SPEC section 3): one
/// non-negative delay d per output neuron, learned in steps of the network's grid (its bound
/// is given in ms and converted once, when the layer is declared), applied to the layer's
/// spikes before the next layer. Default forward: linear interpolation between floor(d) and
/// floor(d) + 1, so the
/// output is continuous in d and its gradient exact; [variant] SLAYER's integer shift.
#pragma once

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/time.hpp"
#include "../core/parameters.hpp"
#include "../core/trace.hpp"
#include "../simd/vector.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spikegrad {

/// Delay policy: one learnable non-negative axonal delay per output neuron, in steps.
struct axonal_delay {
    enum class mode {
        /// y[t] = (1 - phi) x[t - k] + phi x[t - k - 1], k = floor(d), phi = d - k.
        interpolate,
        /// [variant] SLAYER: y[t] = x[t - floor(d)], gradient -sum_t g[t] (y[t] - y[t-1]).
        shift,
    };

    struct params {
        /// Upper bound of every delay in ms (the released SHD code: 64 steps of 14 ms;
        /// synthetic: 15 steps of 1 ms).
        double max_ms = 64.0;
        /// Initial delays ~ U[init_low, init_high) in steps (the code: U[0, 1)).
        double init_low = 0.0;
        double init_high = 1.0;
        mode forward = mode::interpolate;
        /// [variant] the released code's adaptive cap: from epoch `adaptive_after_epoch` on,
        /// the layer's cap grows by 1 step whenever the 85th-percentile delay exceeds cap - 5.
        bool adaptive_cap = false;
        std::size_t adaptive_after_epoch = 250;
        double adaptive_percentile = 0.85;
        double adaptive_margin = 5.0;
    };

    static constexpr bool enabled = true;
    static constexpr const char* name = "axonal_delay";

    template <class S>
    class model {
    public:
        model() = default;
        model(const params& p, std::size_t n) : p_(p), n_(n) {
            if (!(p.max_ms >= 0) || !std::isfinite(p.max_ms))
                raise<option_error>("axonal_delay: max_ms ", p.max_ms, " must be >= 0");
            if (!(p.init_low >= 0 && p.init_low <= p.init_high))
                raise<option_error>("axonal_delay: need 0 <= init_low ", p.init_low,
                                    " <= init_high ", p.init_high);
        }

        /// Registers "<prefix>.delay" (in steps of `grid`, bounded by max_ms / dt).
        void declare(parameter_store<S>& store, const std::string& prefix, rng& random,
                     const time_grid& grid) {
            const double max_steps = grid.steps(p_.max_ms);
            if (p_.init_high > max_steps + 1)
                raise<option_error>("axonal_delay: init_high ", p_.init_high,
                                    " steps exceeds max_ms ", p_.max_ms, " (", max_steps,
                                    " steps of ", grid.dt_ms, " ms) + 1 step");
            param_ = store.add(prefix + ".delay", parameter_kind::delay, {n_}, 0.0, max_steps);
            for (auto& d : store.values(param_))
                d = static_cast<S>(std::min<double>(random.uniform(p_.init_low, p_.init_high),
                                                    max_steps));
            offset_ = store.info(param_).offset;
            whole_.assign(n_, 0);
            whole_steps_.assign(n_, S(0));
            flat_shift_.assign(n_, 0);
            fraction_.assign(n_, S(0));
        }

        std::size_t parameter_index() const { return param_; }
        const params& options() const { return p_; }

        /// Splits each delay into whole steps k and the fraction phi used by forward/backward.
        void prepare(const S* values) {
            constexpr std::size_t W = xsimd::batch<S>::size;
            batch_low_.assign(n_ / W, 0);
            batch_span_.assign(n_ / W, 0);
            max_whole_ = 0;
            for (std::size_t j = 0; j < n_; ++j) {
                const S d = values[offset_ + j];
                if (!(d >= S(0) && std::isfinite(d))) {
                    // A NaN (or out-of-range) delay: the neuron's spikes never arrive and pass
                    // back no gradient; the trainer reports the NaN parameter itself. Its gather
                    // lanes are discarded (k = inf), so any in-range index serves.
                    whole_[j] = never;
                    whole_steps_[j] = std::numeric_limits<S>::infinity();
                    flat_shift_[j] = 0;
                    fraction_[j] = S(0);
                    continue;
                }
                const S k = std::floor(d);
                whole_[j] = static_cast<std::size_t>(k);
                max_whole_ = std::max(max_whole_, whole_[j]);
                whole_steps_[j] = k;
                flat_shift_[j] = static_cast<std::int32_t>(std::min<double>(
                    static_cast<double>(k) * static_cast<double>(n_) + static_cast<double>(j),
                    std::numeric_limits<std::int32_t>::max()));
                fraction_[j] = p_.forward == mode::interpolate ? d - k : S(0);
            }
            for (std::size_t c = 0; c < n_ / W; ++c) {
                const auto [low, high] =
                    std::minmax_element(whole_.begin() + c * W, whole_.begin() + (c + 1) * W);
                batch_low_[c] = *low;
                batch_span_[c] = *high - *low;
            }
        }

        /// Delayed spike train of `in` (events past step T - 1 are dropped). The output
        /// carries values: 1 - phi at t + k and phi at t + k + 1.
        void forward(const event_train<S>& in, std::size_t T, event_train<S>& out) const {
            out.offsets.assign(T + 1, 0);
            const auto input = in.view();
            // Count events per target step, then place them (a counting sort by time).
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t e = input.begin(t); e < input.end(t); ++e) {
                    const std::size_t j = input.units[e];
                    const std::size_t target = t + whole_[j];
                    if (target < T) ++out.offsets[target + 1];
                    if (fraction_[j] != S(0) && target + 1 < T) ++out.offsets[target + 2];
                }
            for (std::size_t t = 0; t < T; ++t) out.offsets[t + 1] += out.offsets[t];
            const std::size_t total = out.offsets[T];
            out.units.resize(total);
            out.values.resize(total);
            // offsets[t] serves as the write cursor of step t, then everything shifts back.
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t e = input.begin(t); e < input.end(t); ++e) {
                    const auto j = input.units[e];
                    const S x = input.value(e);
                    const std::size_t target = t + whole_[j];
                    const S phi = fraction_[j];
                    if (target < T) {
                        out.units[out.offsets[target]] = j;
                        out.values[out.offsets[target]++] = x * (S(1) - phi);
                    }
                    if (phi != S(0) && target + 1 < T) {
                        out.units[out.offsets[target + 1]] = j;
                        out.values[out.offsets[target + 1]++] = x * phi;
                    }
                }
            for (std::size_t t = T; t > 0; --t) out.offsets[t] = out.offsets[t - 1];
            out.offsets[0] = 0;
            if (p_.forward == mode::shift && in.binary()) out.values.clear();
        }

        /// From g_y = dL/dy[t, j] (delayed signal) to g_x = dL/dx[t, j] (the neuron's spikes)
        /// and dL/dd_j = sum over input events x at t of x (g_y[t+k+1] - g_y[t+k]).
        void backward(const event_train<S>& in, const S* g_y, std::size_t T, S* g_x,
                      S* grads) const {
            using B = xsimd::batch<S>;
            constexpr std::size_t W = B::size;
            // g_x[t, j] = (1 - phi_j) g_y[t + k_j, j] + phi_j g_y[t + k_j + 1, j], zero past
            // T, a batch of neurons at a time. When the whole steps k_j of a batch lie within
            // a few steps of each other, the rows t + k_min .. t + k_max + 1 of g_y are loaded
            // and blended lane by lane; otherwise g_y is gathered at [t + k_j, j] (indices
            // clamped into the array, values outside [0, T) replaced by 0). Gathers cost about
            // ten times a row load on the CPUs we measured.
            const bool gather =
                W > 1 && (static_cast<double>(T + max_whole_) + 2) * static_cast<double>(n_) <
                             static_cast<double>(std::numeric_limits<std::int32_t>::max());
            const std::size_t vector_end = gather ? n_ - n_ % W : 0;
            const auto last = static_cast<std::int32_t>(gather ? T * n_ - 1 : 0);
            for (std::size_t t = 0; t < T; ++t) {
                S* row = g_x + t * n_;
                const B now(static_cast<S>(t)), next(static_cast<S>(t + 1)), end(static_cast<S>(T));
                const auto shift = static_cast<std::int32_t>(gather ? t * n_ : 0);
                const auto after = static_cast<std::int32_t>(gather ? (t + 1) * n_ : 0);
                for (std::size_t j = 0; j < vector_end; j += W) {
                    const B k = B::load_unaligned(whole_steps_.data() + j);
                    const B phi = B::load_unaligned(fraction_.data() + j);
                    B g0(S(0)), g1(S(0));
                    const std::size_t low = batch_low_[j / W], span = batch_span_[j / W];
                    if (span == 0 && t + low + 1 < T) {  // one delay step for the batch
                        g0 = B::load_unaligned(g_y + (t + low) * n_ + j);
                        g1 = B::load_unaligned(g_y + (t + low + 1) * n_ + j);
                    } else if (span <= blend_span) {
                        const B k1 = k + B(S(1));
                        for (std::size_t d = low; d <= low + span + 1 && t + d < T; ++d) {
                            const B rows = B::load_unaligned(g_y + (t + d) * n_ + j);
                            const B step(static_cast<S>(d));
                            g0 = xsimd::select(k == step, rows, g0);
                            g1 = xsimd::select(k1 == step, rows, g1);
                        }
                    } else {
                        const std::int32_t* base = flat_shift_.data() + j;
                        g0 = xsimd::select(k + now < end,
                                           simd::gather_clamped<B>(g_y, base, shift, last), g0);
                        g1 = xsimd::select(k + next < end,
                                           simd::gather_clamped<B>(g_y, base, after, last), g1);
                    }
                    ((B(S(1)) - phi) * g0 + phi * g1).store_unaligned(row + j);
                }
                for (std::size_t j = vector_end; j < n_; ++j) {
                    const std::size_t target = t + whole_[j];
                    const S phi = fraction_[j];
                    S g = target < T ? (S(1) - phi) * g_y[target * n_ + j] : S(0);
                    if (phi != S(0) && target + 1 < T) g += phi * g_y[(target + 1) * n_ + j];
                    row[j] = g;
                }
            }
            const auto input = in.view();
            S* dd = grads + offset_;
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t e = input.begin(t); e < input.end(t); ++e) {
                    const auto j = input.units[e];
                    const std::size_t target = t + whole_[j];
                    const S now = target < T ? g_y[target * n_ + j] : S(0);
                    const S after = target + 1 < T ? g_y[(target + 1) * n_ + j] : S(0);
                    dd[j] += input.value(e) * (after - now);
                }
        }

        /// The released code's adaptive cap, called at the end of every epoch: returns the new
        /// upper bound of this layer's delays (unchanged unless the rule fires).
        double adapt_cap(std::size_t epoch, const S* values, double cap) const {
            if (!p_.adaptive_cap || epoch < p_.adaptive_after_epoch || n_ == 0) return cap;
            std::vector<S> sorted(values + offset_, values + offset_ + n_);
            const auto rank = static_cast<std::size_t>(
                std::ceil(static_cast<double>(p_.adaptive_percentile) * static_cast<double>(n_)));
            const std::size_t k = std::min(n_ - 1, rank == 0 ? 0 : rank - 1);
            std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k),
                             sorted.end());
            return static_cast<double>(sorted[k]) > cap - p_.adaptive_margin ? cap + 1 : cap;
        }

    private:
        params p_{};
        std::size_t n_ = 0;
        std::size_t param_ = 0, offset_ = 0;
        /// Batches whose whole steps span at most this many steps are blended from rows.
        static constexpr std::size_t blend_span = 2;
        /// The whole steps of a delay that is not a number: past any sequence.
        static constexpr std::size_t never = std::numeric_limits<std::size_t>::max() / 4;

        std::vector<std::size_t> whole_;
        std::size_t max_whole_ = 0;
        std::vector<std::size_t> batch_low_, batch_span_;  // per batch of neurons: min k, max - min
        std::vector<S> whole_steps_;            // k_j as a number
        std::vector<std::int32_t> flat_shift_;  // k_j n + j, for the gathers
        std::vector<S> fraction_;
    };
};

}  // namespace spikegrad

/// \file
/// spikegrad: the closed-form continuous-time propagator of a current-based LIF neuron with an
/// optional adaptive threshold (Wunderlich and Pehle 2021, Sci. Rep. 11:12829, eqs. 1-2):
/// tau_m dV/dt = -V + I, tau_s dI/dt = -I, tau_B dB/dt = -B. Over an elapsed time s the state
/// (V, I, B) maps linearly, x(s) = P(s) x(0); the adjoint maps back by P(s)^T. Also the
/// threshold-crossing search g(s) = V(s) - theta - B(s) = 0 (bracketing + safeguarded Newton),
/// and its time-driven counterpart that tests g only on a grid of step h.
#pragma once

#include "../../config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

namespace spikegrad::event {

/// The state of one neuron: membrane V, synaptic current I, threshold adaptation B.
template <class S>
struct neuron_state {
    S v = 0;
    S i = 0;
    S b = 0;
};

/// P(s) = [[a_m, k, 0], [0, a_s, 0], [0, 0, a_b]] for one elapsed time s.
template <class S>
struct propagator_factors {
    S a_m = 1;  // exp(-s / tau_m)
    S a_s = 1;  // exp(-s / tau_s)
    S a_b = 1;  // exp(-s / tau_B)
    S k = 0;    // V's response at s to I(0) = 1, V(0) = 0
};

/// The time constants of one layer (ms) and everything derived from them.
template <class S>
class propagator {
public:
    propagator() = default;
    propagator(double tau_m_ms, double tau_s_ms, double tau_b_ms)
        : tau_m_(S(tau_m_ms)),
          tau_s_(S(tau_s_ms)),
          tau_b_(S(tau_b_ms)),
          rate_gap_(S(1.0 / tau_m_ms - 1.0 / tau_s_ms)),
          inv_tau_m_(S(1.0 / tau_m_ms)),
          inv_tau_b_(std::isinf(tau_b_ms) ? S(0) : S(1.0 / tau_b_ms)) {}

    S tau_m() const { return tau_m_; }
    S tau_s() const { return tau_s_; }
    S tau_b() const { return tau_b_; }

    /// k(s) = tau_s / (tau_s - tau_m) (e^{-s/tau_s} - e^{-s/tau_m}), written as
    /// e^{-s/tau_m} expm1(s delta) / (tau_m delta), delta = 1/tau_m - 1/tau_s, which is exact
    /// for every delta and tends to (s / tau) e^{-s/tau} (the tau_m == tau_s limit).
    S kernel(S s, S a_m) const {
        if (rate_gap_ == S(0)) return s / tau_m_ * a_m;
        return a_m * std::expm1(s * rate_gap_) / (tau_m_ * rate_gap_);
    }

    /// P(s). With a grid (use_grid), the factors of the first grid_table multiples of h are
    /// computed once and reused whenever s is such a multiple up to rounding; any other s is
    /// computed directly, so the result never depends on the table.
    SPIKEGRAD_ALWAYS_INLINE propagator_factors<S> over(S s) const {
        if (s == S(0)) return {};  // the identity (a spike at its interval's end)
        if (h_ > S(0)) {
            const S q = s * inv_h_;
            const S k = std::nearbyint(q);
            if (k >= S(1) && k <= S(grid_table) &&
                std::abs(s - k * h_) <= std::numeric_limits<S>::epsilon() * S(64) * std::max(S(1), s)) {
                const auto at = static_cast<std::size_t>(k) - 1;
                if (!ready_[at]) {
                    table_[at] = compute(k * h_);
                    ready_[at] = true;
                }
                return table_[at];
            }
        }
        return compute(s);
    }

    /// Reuse the factors of grid multiples k h, k = 1..grid_table (the grid variant's intervals).
    void use_grid(S h) {
        h_ = h;
        inv_h_ = S(1) / h;
        ready_.fill(false);
        const auto f = compute(h);  // the one-step inverse for secant_slope
        back_.a_m = S(1) / f.a_m;
        back_.a_s = S(1) / f.a_s;
        back_.a_b = S(1) / f.a_b;
        step_k_ = f.k;
    }
    static constexpr std::size_t grid_table = 64;

    propagator_factors<S> compute(S s) const {
        propagator_factors<S> f;
        f.a_m = std::exp(-s / tau_m_);
        f.a_s = std::exp(-s / tau_s_);
        f.a_b = std::isinf(tau_b_) ? S(1) : std::exp(-s / tau_b_);
        f.k = kernel(s, f.a_m);
        return f;
    }

    /// The interval integrals that the time-constant gradients need (the adjoint form
    /// dL/dtau = int mu^T df/dtau dt): over an interval of length L with the state x0 at its
    /// start and the adjoint mu_L at its end, mu(s) = P(L - s)^T mu_L and x(s) = P(s) x0, so
    ///   int mu_V (I - V) ds = mu_L.v (x0.i (tau_m k(L) - q_m) - x0.v L a_m),
    ///   int mu_I I ds       = x0.i (mu_L.v q_s + mu_L.i L a_s),
    ///   int mu_B B ds       = mu_L.b x0.b L a_b,
    /// with q_m = int a_m(L - s) k(s) ds = (L^2 / tau_m) e^{-L/tau_m} phi2(L delta) and
    /// q_s = int k(L - s) a_s(s) ds = (L^2 / tau_m) e^{-L/tau_s} phi2(-L delta),
    /// phi2(x) = (e^x - 1 - x) / x^2 (-> 1/2 at the tau_m == tau_s limit).
    struct interval_moments {
        S vi = 0;  // int mu_V (I - V)
        S ii = 0;  // int mu_I I
        S bb = 0;  // int mu_B B
    };
    struct moment_factors {
        S length = 0, tm_k = 0, q_m = 0, q_s = 0, a_m = 1, a_s = 1, a_b = 1;
    };
    moment_factors moments_over(S length, const propagator_factors<S>& f) const {
        const double L = double(length), tm = double(tau_m_), ts = double(tau_s_);
        const double x = L * (1.0 / tm - 1.0 / ts);
        const double scale = L * L / tm;
        return {length,
                f.k * tau_m_,
                S(scale * decayed_phi2(L / tm, x)),
                S(scale * decayed_phi2(L / ts, -x)),
                f.a_m,
                f.a_s,
                f.a_b};
    }
    static interval_moments moments(const moment_factors& q, const neuron_state<S>& x0,
                                     const neuron_state<S>& mu_end) {
        return {mu_end.v * (x0.i * (q.tm_k - q.q_m) - x0.v * q.length * q.a_m),
                x0.i * (mu_end.v * q.q_s + mu_end.i * q.length * q.a_s),
                mu_end.b * x0.b * q.length * q.a_b};
    }
    /// e^{-a} (e^x - 1 - x) / x^2 without overflow (x - a <= 0 here) or cancellation.
    static double decayed_phi2(double a, double x) {
        if (std::abs(x) < 0.05)
            return std::exp(-a) *
                   (0.5 + x * (1.0 / 6 + x * (1.0 / 24 + x * (1.0 / 120 + x * (1.0 / 720 + x / 5040)))));
        if (x > 0) return (std::exp(x - a) - std::exp(-a) * (1 + x)) / (x * x);
        return std::exp(-a) * (std::expm1(x) - x) / (x * x);
    }

    static neuron_state<S> apply(const propagator_factors<S>& f, const neuron_state<S>& x) {
        return {f.a_m * x.v + f.k * x.i, f.a_s * x.i, f.a_b * x.b};
    }
    /// The adjoint (mu_V, mu_I, mu_B) carried back over the same elapsed time: P(s)^T mu.
    static neuron_state<S> apply_transposed(const propagator_factors<S>& f,
                                            const neuron_state<S>& mu) {
        return {f.a_m * mu.v, f.k * mu.v + f.a_s * mu.i, f.a_b * mu.b};
    }

    /// Where V has its maximum, V' = 0 (I = V), for a state with I > V now and an extremum
    /// ahead: with V(s) = A e^{-s/tau_m} + B e^{-s/tau_s}, B = I tau_s / (tau_s - tau_m),
    /// s = ln(-B tau_m / (A tau_s)) / (1/tau_s - 1/tau_m); at tau_m == tau_s,
    /// s = tau_m (I - V) / I. Negative where the closed form is ill-conditioned (time
    /// constants within 0.1% of each other) or has no root: the caller searches instead.
    S peak_time(const neuron_state<S>& x) const {
        if (rate_gap_ == S(0)) return x.i > S(0) ? tau_m_ * (x.i - x.v) / x.i : S(-1);
        if (std::abs(rate_gap_) * tau_m_ < S(1e-3)) return S(-1);
        const S b = x.i * tau_s_ / (tau_s_ - tau_m_);
        const S a = x.v - b;
        const S ratio = -b * tau_m_ / (a * tau_s_);
        if (!(ratio > S(0)) || !std::isfinite(ratio)) return S(-1);
        const S s = std::log(ratio) / (-rate_gap_);
        return std::isfinite(s) && s >= S(0) ? s : S(-1);
    }

    /// dx/dt = A x (the generator).
    neuron_state<S> derivative(const neuron_state<S>& x) const {
        return {(x.i - x.v) / tau_m_, -x.i / tau_s_, std::isinf(tau_b_) ? S(0) : -x.b / tau_b_};
    }

    /// The slope of g = V - theta - B: (I - V)/tau_m + B/tau_B (the `gdot` of the jumps).
    S crossing_slope(const neuron_state<S>& x) const {
        return (x.i - x.v) * inv_tau_m_ + x.b * inv_tau_b_;
    }
    /// The grid variant's crossing slope: the mean slope of g = V - theta - B over the grid
    /// step of length h that ends at the state x (a grid point reached without arrivals inside
    /// the step). g rose across 0 in that step, so this secant is positive, where the slope
    /// at the grid point itself is 0 or negative once V has passed its maximum inside the step;
    /// it tends to the slope at the crossing as h shrinks. The step's start is recovered by
    /// inverting P(h) (one step: no error growth).
    /// Needs use_grid(h) (which inverts P(h) once).
    S secant_slope(const neuron_state<S>& x) const {
        const S i0 = x.i * back_.a_s;
        const S v0 = (x.v - step_k_ * i0) * back_.a_m;
        const S b0 = x.b * back_.a_b;
        return ((x.v - x.b) - (v0 - b0)) * inv_h_;
    }
    S inv_tau_m() const { return inv_tau_m_; }
    /// 1 / tau_B, 0 without adaptation (tau_B infinite).
    S inv_tau_b() const { return inv_tau_b_; }
    /// d/ds of the slope: g''.
    S crossing_curvature(const neuron_state<S>& x) const {
        const S dv = (x.i - x.v) / tau_m_;
        const S di = -x.i / tau_s_;
        return (di - dv) / tau_m_ - (std::isinf(tau_b_) ? S(0) : x.b / (tau_b_ * tau_b_));
    }

private:
    S tau_m_ = 20;
    S tau_s_ = 5;
    S tau_b_ = std::numeric_limits<S>::infinity();
    S rate_gap_ = 0;
    S inv_tau_m_ = S(1) / S(20);
    S inv_tau_b_ = 0;
    S h_ = 0;  // grid step of the factor table (0: none)
    S inv_h_ = 0;
    propagator_factors<S> back_{};  // 1 / a_m, 1 / a_s, 1 / a_b of one grid step
    S step_k_ = 0;                  // k of one grid step
    mutable std::array<propagator_factors<S>, grid_table> table_{};
    mutable std::array<bool, grid_table> ready_{};
};

/// Root of f in [lo, hi] with f(lo) < 0 <= f(hi) (Numerical Recipes' rtsafe): Newton steps,
/// replaced by bisection whenever a step would leave the bracket or fails to halve the previous
/// step (the safeguard); the bracket shrinks at every evaluation. `fd(s)` returns {f, f'}.
template <class S, class F>
S safeguarded_root(F&& fd, S lo, S hi) {
    S x = lo + S(0.5) * (hi - lo);
    S step_before = hi - lo, step = step_before;
    const S tolerance = std::numeric_limits<S>::epsilon() * 2;
    for (int iteration = 0; iteration < 100; ++iteration) {
        const auto [f, slope] = fd(x);
        if (f == S(0)) return x;
        if (f > S(0))
            hi = x;
        else
            lo = x;
        const bool newton_inside = slope != S(0) && ((x - f / slope) - lo) * ((x - f / slope) - hi) < S(0);
        if (!newton_inside || std::abs(S(2) * f) > std::abs(step_before * slope)) {
            step_before = step;
            step = S(0.5) * (hi - lo);
            x = lo + step;
        } else {
            step_before = step;
            step = f / slope;
            x -= step;
        }
        if (std::abs(step) <= tolerance * std::max(S(1), std::abs(x)) ||
            hi - lo <= tolerance * std::max(S(1), std::abs(hi)))
            return x;
    }
    return x;
}

/// The first time s in (0, length] at which g(s) = V(s) - theta - B(s) reaches 0 from below,
/// starting from `x` with g(0) < 0; negative when g stays below 0. The interval is cut into
/// `pieces` parts; within a part g has at most one maximum (for LIF one part suffices: V is
/// a sum of two exponentials, so V' changes sign at most once), found as the root of g'
/// where g' goes from positive to negative; a crossing is bracketed either by g(end) >= 0 or
/// by g(maximum) >= 0 and then solved by safeguarded Newton.
template <class S>
S first_crossing(const propagator<S>& p, const neuron_state<S>& x, S theta, S length,
                 int pieces) {
    auto state_at = [&](S s) { return propagator<S>::apply(p.over(s), x); };
    auto g_at = [&](S s) {
        const auto y = state_at(s);
        return std::pair<S, S>{y.v - theta - y.b, p.crossing_slope(y)};
    };
    auto slope_at = [&](S s) {
        const auto y = state_at(s);
        return std::pair<S, S>{-p.crossing_slope(y), -p.crossing_curvature(y)};
    };
    S left = 0;
    auto [g_left, slope_left] = std::pair<S, S>{x.v - theta - x.b, p.crossing_slope(x)};
    for (int piece = 1; piece <= pieces; ++piece) {
        const S right = piece == pieces ? length : length * S(piece) / S(pieces);
        const auto [g_right, slope_right] = g_at(right);
        if (g_right >= S(0)) return safeguarded_root<S>(g_at, left, right);
        if (slope_left > S(0) && slope_right < S(0)) {
            // the maximum of g in (left, right): the root of -g', which goes from < 0 to > 0
            const S peak = safeguarded_root<S>(slope_at, left, right);
            if (g_at(peak).first >= S(0)) return safeguarded_root<S>(g_at, left, peak);
        }
        left = right;
        g_left = g_right;
        slope_left = slope_right;
    }
    (void)g_left;
    return S(-1);
}

/// The grid variant's crossing: the first grid point t_k = k h in [start, start + length]
/// (k an integer, k h > start up to rounding) at which g >= 0, as an offset from `start`;
/// negative when g stays below 0 at every grid point there. The state between grid points is
/// still exact (the same closed-form propagator); only the threshold test is on the grid, as
/// in a time-driven simulator with exact exponential propagators. `x` may have g(0) >= 0 (a
/// crossing between grid points not yet emitted). With `at`, the state there (the one the
/// threshold test saw).
template <class S>
S first_grid_crossing(const propagator<S>& p, const neuron_state<S>& x, S theta, S start,
                      S length, S h, neuron_state<S>* at = nullptr) {
    const S end = start + length;
    // a grid point within rounding of `start` was tested as the previous interval's end
    const S slack = std::numeric_limits<S>::epsilon() * S(64) * std::max(S(1), std::abs(end));
    S k = std::floor(start / h) + S(1);
    if (k * h - start <= slack) k += S(1);
    S offset = std::max(S(0), k * h - start);
    if (offset > length + slack) return S(-1);
    auto y = propagator<S>::apply(p.over(offset), x);
    auto found = [&](S s) {
        if (at) *at = y;
        return std::min(s, length);
    };
    if (y.v - theta - y.b >= S(0)) return found(offset);
    // the one-step propagator only when the interval holds a second grid point (the usual
    // interval, between arrivals snapped to the grid, holds one)
    k += S(1);
    if (k * h - start > length + slack) return S(-1);
    const auto step = p.over(h);
    for (;;) {
        offset = k * h - start;
        y = propagator<S>::apply(step, y);
        if (y.v - theta - y.b >= S(0)) return found(offset);
        k += S(1);
        if (k * h - start > length + slack) return S(-1);
    }
}

}  // namespace spikegrad::event

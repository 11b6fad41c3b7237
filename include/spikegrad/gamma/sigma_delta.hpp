/// \file
/// spikegrad: sigma-delta spike coding between SpikingGamma layers (O'Connor and Welling 2016,
/// "Sigma-delta quantized networks"). The sender keeps the receivers' reconstruction r of its
/// graded output y and emits quanta of size theta: signed by default, so |y - r| < theta at
/// every step and the spike count follows the variation of y, not the step length.
#pragma once

#include "../core/error.hpp"
#include "../core/time.hpp"

#include <cmath>
#include <cstddef>
#include <cstdlib>

namespace spikegrad {

/// Settings of the sigma-delta coder: the quantum theta and signed or positive spikes.
struct sigma_delta_options {
    /// Quantum of one spike; 0 transmits y itself (analog, no spikes: finite-difference tests
    /// and an ablation).
    double theta = 0.1;
    /// Signed spikes (+-theta), the default: |y - r| < theta always. Unsigned (on-only) spikes
    /// cannot lower r, so r decays with decay_ms (> 0 required) and only y - r < theta holds.
    bool signed_spikes = true;
    double decay_ms = 0;
};

/// The sender side of n channels: r holds the reconstruction the receivers integrate.
template <class S>
class sigma_delta_encoder {
public:
    sigma_delta_encoder() = default;
    sigma_delta_encoder(const sigma_delta_options& o, double dt_ms) : options_(o) {
        if (!(o.theta >= 0) || !std::isfinite(o.theta))
            raise<option_error>("sigma_delta: theta ", o.theta, " must be >= 0");
        if (!o.signed_spikes && o.theta > 0) {
            if (!(o.decay_ms > 0))
                raise<option_error>("sigma_delta: unsigned spikes need decay_ms > 0 (got ",
                                    o.decay_ms, ")");
            decay_ = S(time_grid{dt_ms, 1}.decay(o.decay_ms));
        }
    }

    bool analog() const { return options_.theta == 0; }
    S theta() const { return S(options_.theta); }
    /// Per-step factor of the reconstruction (1 for signed spikes).
    S decay() const { return decay_; }

    /// Encodes one step: updates r[i] towards y[i] and writes the signed number of quanta of
    /// channel i to m[i] (0: no spike). Returns the number of spikes (sum of |m|).
    std::size_t step(const S* y, S* r, long* m, std::size_t n) const {
        std::size_t spikes = 0;
        if (analog()) {
            for (std::size_t i = 0; i < n; ++i) {
                r[i] = y[i];
                m[i] = 0;
            }
            return 0;
        }
        const S q = theta();
        for (std::size_t i = 0; i < n; ++i) {
            r[i] *= decay_;
            const S e = y[i] - r[i];
            long count = static_cast<long>(std::trunc(e / q));
            if (!options_.signed_spikes && count < 0) count = 0;
            m[i] = count;
            r[i] += S(count) * q;
            spikes += static_cast<std::size_t>(std::labs(count));
        }
        return spikes;
    }

private:
    sigma_delta_options options_{};
    S decay_ = S(1);
};

}  // namespace spikegrad

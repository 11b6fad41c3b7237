/// \file
/// spikegrad: training-time augmentation of a timed_batch by a random shift of the input
/// channels: every time the trainer draws a batch, each sample's units move by one integer
/// drawn uniformly from [-max_shift, max_shift] (spikes moved outside [0, n_units) are
/// dropped); the spike times stay. For frequency-ordered inputs (SHD's cochlea channels) this
/// is a pitch shift, mlGeNN's "random_shift" for EventProp on SHD (Nowotny et al. 2024).
#pragma once

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "timed_batch.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace spikegrad {

/// A timed_batch whose select() returns shifted copies of the selected samples (max_shift 0:
/// plain copies, for a validation set of the same type). The stream is the set's own: with a
/// fixed seed and the trainer's fixed order of draws, the shifts are the same run to run.
template <class S>
struct channel_shifted_batch : timed_batch<S> {
    std::size_t max_shift = 0;

    channel_shifted_batch() = default;
    channel_shifted_batch(timed_batch<S> set, std::size_t shift, std::uint64_t seed)
        : timed_batch<S>(std::move(set)), max_shift(shift), random_(seed) {
        if (shift > 0 && shift >= this->n_units)
            raise<option_error>("channel_shifted_batch: max_shift ", shift, " must be below the ",
                                this->n_units, " input units");
    }

    /// The samples at `indices`, each with its units shifted by its own random offset.
    channel_shifted_batch select(std::span<const std::size_t> indices) const {
        channel_shifted_batch out;
        static_cast<timed_batch<S>&>(out) = timed_batch<S>::select(indices);
        out.max_shift = 0;  // a drawn batch is not drawn from again
        if (max_shift == 0) return out;
        const auto width = static_cast<std::int64_t>(2 * max_shift + 1);
        for (auto& sample : out.samples) {
            const std::int64_t shift =
                static_cast<std::int64_t>(random_.below(std::uint64_t(width))) -
                static_cast<std::int64_t>(max_shift);
            std::size_t kept = 0;
            for (std::size_t e = 0; e < sample.size(); ++e) {
                const std::int64_t unit = std::int64_t(sample.units[e]) + shift;
                if (unit < 0 || unit >= std::int64_t(this->n_units)) continue;
                sample.times_ms[kept] = sample.times_ms[e];
                sample.units[kept] = static_cast<std::uint32_t>(unit);
                ++kept;
            }
            sample.times_ms.resize(kept);
            sample.units.resize(kept);
        }
        return out;
    }

private:
    mutable rng random_{0};
};

}  // namespace spikegrad

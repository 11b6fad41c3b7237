/// \file
/// spikegrad: a seeded random generator whose streams are identical on every machine and
/// compiler. The standard library's distributions are implementation-defined, so the
/// distributions are written here (xoshiro256** engine, seeded through splitmix64).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <utility>
#include <vector>

namespace spikegrad {

/// xoshiro256** (Blackman and Vigna 2018) with portable distributions.
class rng {
public:
    using result_type = std::uint64_t;

    explicit rng(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (auto& word : state_) word = splitmix64(x);
    }

    /// A generator for an independent stream derived from (this seed, stream id), without
    /// advancing this one: per-sample or per-thread randomness that does not depend on order.
    [[nodiscard]] rng fork(std::uint64_t stream) const {
        std::uint64_t x = state_[0] ^ (stream * 0x9E3779B97F4A7C15ull) ^ state_[3];
        return rng(splitmix64(x));
    }

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type(0); }

    result_type operator()() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

    /// Uniform in [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n must be > 0.
    std::uint64_t below(std::uint64_t n) {
        __uint128_t m = static_cast<__uint128_t>((*this)()) * n;
        auto low = static_cast<std::uint64_t>(m);
        if (low < n) {
            const std::uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                m = static_cast<__uint128_t>((*this)()) * n;
                low = static_cast<std::uint64_t>(m);
            }
        }
        return static_cast<std::uint64_t>(m >> 64);
    }

    /// Uniform integer in [low, high] (inclusive).
    std::int64_t integer(std::int64_t low, std::int64_t high) {
        return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
    }

    /// True with probability p.
    bool bernoulli(double p) { return uniform() < p; }

    /// Standard normal (Box-Muller; both values of a pair are used).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = 0;
        do u1 = uniform(); while (u1 <= 0.0);
        const double u2 = uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        const double angle = 2.0 * std::numbers::pi * u2;
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }

    double normal(double mean, double sigma) { return mean + sigma * normal(); }

    /// Poisson(mu): Knuth's product method below mu = 30, Hormann's PTRS above.
    std::uint64_t poisson(double mu) {
        if (!(mu > 0)) return 0;
        if (mu < 30) {
            const double limit = std::exp(-mu);
            std::uint64_t k = 0;
            double product = uniform();
            while (product > limit) {
                ++k;
                product *= uniform();
            }
            return k;
        }
        const double slam = std::sqrt(mu);
        const double loglam = std::log(mu);
        const double b = 0.931 + 2.53 * slam;
        const double a = -0.059 + 0.02483 * b;
        const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
        const double vr = 0.9277 - 3.6224 / (b - 2);
        while (true) {
            const double u = uniform() - 0.5;
            const double v = uniform();
            const double us = 0.5 - std::fabs(u);
            const double k = std::floor((2 * a / us + b) * u + mu + 0.43);
            if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
                -mu + k * loglam - std::lgamma(k + 1))
                return static_cast<std::uint64_t>(k);
        }
    }

    /// Fisher-Yates shuffle.
    template <class T>
    void shuffle(std::span<T> items) {
        for (std::size_t i = items.size(); i > 1; --i) {
            const auto j = static_cast<std::size_t>(below(i));
            std::swap(items[i - 1], items[j]);
        }
    }

    template <class T>
    void shuffle(std::vector<T>& items) {
        shuffle(std::span<T>(items));
    }

    /// k distinct indices of [0, n), in increasing order (selection sampling, Knuth's S).
    std::vector<std::size_t> choose(std::size_t n, std::size_t k) {
        std::vector<std::size_t> chosen;
        chosen.reserve(k);
        for (std::size_t i = 0; i < n && chosen.size() < k; ++i) {
            if (below(n - i) < k - chosen.size()) chosen.push_back(i);
        }
        return chosen;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4]{};
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace spikegrad

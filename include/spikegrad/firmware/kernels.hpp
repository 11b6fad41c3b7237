/// \file
/// spikegrad firmware: the per-step kernels of the firmware engine over one layer's parameters
/// (layer_params), scalar loops only. Shared by the compile-time engine (firmware/engine.hpp) and
/// the host's run-time copy that export_firmware uses to measure a quantised model's accuracy.
///
/// The float kernels repeat the host engine's forward pass operation by operation: the LIF and
/// readout steps of neuron/lif.hpp and neuron/readout.hpp, the event-row sums of
/// synapse/dense.hpp (bias, then each event's row in event order) and the event order of
/// delay/axonal.hpp. Freestanding C++17: no heap, no exceptions, no RTTI, no iostream.
#pragma once

// The C headers every freestanding compiler provides (no C++ standard library needed: Debian's
// gcc-arm-none-eabi comes without libstdc++).
#include <stddef.h>
#include <stdint.h>
// Host builds with AVX2: the sign extensions of integer weights (kernels::lanes::load).
#if defined(__AVX2__) && !defined(__arm__) && !defined(__thumb__)
#include <immintrin.h>
#endif

namespace spikegrad::firmware {

namespace meta {
template <class A, class B>
inline constexpr bool is_same = false;
template <class A>
inline constexpr bool is_same<A, A> = true;
/// std::conditional for freestanding builds: A if C, else B.
template <bool C, class A, class B>
struct conditional {
    using type = A;
};
/// std::conditional for freestanding builds: A if C, else B.
template <class A, class B>
struct conditional<false, A, B> {
    using type = B;
};
template <bool C, class A, class B>
using conditional_t = typename conditional<C, A, B>::type;
/// std::bool_constant for freestanding builds.
template <bool B>
struct flag {
    static constexpr bool value = B;
};
/// The element type of a pointer to const T: T.
template <class P>
struct pointee;
/// The element type of a pointer to const (freestanding: no type_traits header).
template <class T>
struct pointee<const T*> {
    using type = T;
};
/// The element type of a pointer to const (freestanding: no type_traits header).
template <class T>
struct pointee<const T* const> {
    using type = T;
};
}  // namespace meta

/// How a model's numbers are stored: IEEE float, or fixed point with int16 / int8 weights
/// (membranes, currents, biases and thresholds are int32 in units of the layer's weight scale).
enum class number_format : uint8_t { float32, int16, int8 };
/// The fixed-point membrane leak: v * beta (beta in Q decay_bits, rounded half up), or
/// v - (v >> shift) (the bit-shift decay of Xylo-class hardware, beta = 1 - 2^-shift).
enum class decay_kind : uint8_t { multiply, shift };
enum class neuron_kind : uint8_t { lif, readout };
enum class reset_kind : uint8_t { subtract, zero };
/// How the last layer's record becomes class scores (the losses' scores() in loss/): the
/// final membrane, its maximum or mean over time, or the output spike count.
enum class score_rule : uint8_t { last, max, mean, count };

/// Delay fractions in fixed point: Q7 (128 = one whole step).
inline constexpr int32_t fraction_one = 128;
inline constexpr int fraction_bits = 7;

/// One layer's parameters. W: the weight type (float, int16_t, int8_t); V: membranes,
/// currents, biases and thresholds (float, or int32 in units of the weight scale).
template <class W, class V>
struct layer_params {
    size_t n_in = 0, n_out = 0;
    neuron_kind neuron = neuron_kind::lif;
    reset_kind reset = reset_kind::subtract;
    bool has_bias = false;
    bool delayed = false;
    const W* weight = nullptr;      // [n_in][n_out]: an input event adds one row
    const V* bias = nullptr;        // [n_out]
    const V* threshold = nullptr;   // [n_out] (lif)
    const float* beta = nullptr;    // [n_out] float format: exp(-dt / tau)
    decay_kind decay = decay_kind::multiply;
    int decay_bits = 15;
    const int32_t* decay_factor = nullptr;  // [n_out] beta in Q decay_bits
    const uint8_t* decay_shift = nullptr;   // [n_out]
    const uint16_t* delay_whole = nullptr;  // [n_out] whole steps k
    const float* delay_fraction = nullptr;       // [n_out] float format: phi in [0, 1)
    const uint8_t* delay_fraction_q = nullptr;  // [n_out] fixed point: phi in Q7
    /// Fixed point: real value = integer * scale (for reports and printing).
    float scale = 1.0f;
};

template <class V>
inline constexpr bool is_fixed_v = !meta::is_same<V, float>;

inline constexpr size_t words_for(size_t n) { return (n + 31) / 32; }

template <class W, class V>
constexpr bool has_fraction(const layer_params<W, V>& L, size_t j) {
    if constexpr (is_fixed_v<V>)
        return L.delay_fraction_q[j] != 0;
    else
        return L.delay_fraction[j] != 0.0f;
}

/// Arrival steps a delayed layer's ring holds: its spike of step t arrives at t + k_j (weight
/// 1 - phi_j) and t + k_j + 1 (weight phi_j), so max k + 2 slots; 1 for a layer without delays.
template <class W, class V>
constexpr size_t arrival_slots(const layer_params<W, V>& L) {
    if (!L.delayed) return 1;
    size_t oldest = 0;
    for (size_t j = 0; j < L.n_out; ++j)
        if (size_t(L.delay_whole[j]) + 1 > oldest) oldest = size_t(L.delay_whole[j]) + 1;
    return oldest + 1;
}

/// A layer's spikes of the current step: one row of `words` bits.
struct history_view {
    uint32_t* bits = nullptr;
    size_t words = 1;
    uint32_t* row() const { return bits; }
    bool spiked(size_t j) const { return (bits[j / 32] >> (j % 32)) & 1u; }
};

/// A delayed layer's pending arrivals, written when its neurons spike: `slots` rows of `words`
/// bits each for the on-time events (weight 1 - phi_j) and the late ones (weight phi_j), row
/// s % slots for arrival step s. The layer above reads and clears the row of its step, so each
/// step costs the spikes sent and the events received, not the delays' span.
struct arrival_ring {
    uint32_t* on_time = nullptr;
    uint32_t* late = nullptr;
    size_t slots = 1, words = 1;
};

namespace kernels {

/// The leak of one fixed-point membrane.
template <class W, class V>
inline int32_t decay(const layer_params<W, V>& L, int32_t v, size_t j) {
    if (L.decay == decay_kind::shift) return v - (v >> L.decay_shift[j]);
    const int64_t p = static_cast<int64_t>(v) * L.decay_factor[j] +
                           (int64_t(1) << (L.decay_bits - 1));
    return static_cast<int32_t>(p >> L.decay_bits);
}

/// The fixed-point leak v - (v >> shift_j).
struct shift_leak {
    const uint8_t* shift;
    int32_t operator()(int32_t x, size_t j) const { return x - (x >> shift[j]); }
};
/// The fixed-point leak v * beta_j in Q bits, rounded half up (as decay()).
struct multiply_leak {
    const int32_t* factor;
    int bits;
    int64_t half;
    int32_t operator()(int32_t x, size_t j) const {
        return static_cast<int32_t>((static_cast<int64_t>(x) * factor[j] + half) >> bits);
    }
};

#if !defined(__arm__) && !defined(__thumb__) && (defined(__GNUC__) || defined(__clang__))
/// Host builds: 8 neurons at a time in GCC/Clang vectors (GCC 12 does not vectorise the scalar
/// loop once the model's constexpr arrays are inlined: "control flow in loop"); the same
/// integer operations lane by lane, so the results are identical.
namespace lanes_lif {
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef int64_t i64x8 __attribute__((vector_size(64)));
typedef uint8_t u8x8 __attribute__((vector_size(8)));

// Vectors by reference only: a vector argument or result by value changes the ABI between
// SSE and AVX builds (GCC's -Wpsabi).
inline void load(i32x8& x, const int32_t* p) { __builtin_memcpy(&x, p, sizeof x); }
inline void leak_lanes(i32x8& out, const shift_leak& leak, const i32x8& x, size_t j) {
    u8x8 s8;
    __builtin_memcpy(&s8, leak.shift + j, sizeof s8);
    out = x - (x >> __builtin_convertvector(s8, i32x8));
}
inline void leak_lanes(i32x8& out, const multiply_leak& leak, const i32x8& x, size_t j) {
    i32x8 factor;
    load(factor, leak.factor + j);
    const i64x8 p = __builtin_convertvector(x, i64x8) * __builtin_convertvector(factor, i64x8) +
                    leak.half;
    out = __builtin_convertvector(p >> leak.bits, i32x8);
}
}  // namespace lanes_lif
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"  // as gather_block's
#endif
/// One fixed-point LIF step after the first: v = I + leak(v') - theta s' (Subtract) or
/// s' ? I : I + leak(v'), with s' = v' >= theta (what set the previous step's bit). No
/// branches; host builds run 8 neurons at a time.
template <bool Subtract, class Leak>
inline void fixed_lif_update(const int32_t* __restrict threshold, const int32_t* __restrict in,
                             int32_t* __restrict v, size_t n, Leak leak) {
    size_t j = 0;
#if !defined(__arm__) && !defined(__thumb__) && (defined(__GNUC__) || defined(__clang__))
    for (; j + 8 <= n; j += 8) {
        using lanes_lif::i32x8;
        i32x8 th, vp, x, leak_of_vp;
        lanes_lif::load(th, threshold + j);
        lanes_lif::load(vp, v + j);
        lanes_lif::load(x, in + j);
        lanes_lif::leak_lanes(leak_of_vp, leak, vp, j);
        const i32x8 leaked = x + leak_of_vp;
        const i32x8 fired = vp >= th;  // -1 where the neuron spiked, else 0
        i32x8 out;
        if constexpr (Subtract)
            out = leaked - (th & fired);
        else
            out = (x & fired) | (leaked & ~fired);
        __builtin_memcpy(v + j, &out, sizeof out);
    }
#endif
    for (; j < n; ++j) {
        const int32_t th = threshold[j], vp = v[j];
        const int32_t leaked = in[j] + leak(vp, j);
        if constexpr (Subtract)
            v[j] = leaked - (vp >= th ? th : 0);
        else
            v[j] = vp >= th ? in[j] : leaked;
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// I = bias (or 0).
template <class W, class V>
inline void begin_currents(const layer_params<W, V>& L, V* I) {
    for (size_t j = 0; j < L.n_out; ++j) I[j] = L.has_bias ? L.bias[j] : V(0);
}

/// Scratch of one step's currents, sized for the widest layer n: the events of the layer below
/// (2 n units, values and keys: a delayed neuron sends two) and n fixed-point sums.
struct step_scratch {
    uint16_t* units = nullptr;
    float* values = nullptr;
    int32_t* fractions = nullptr;
    int32_t* sums = nullptr;
    uint32_t* keys = nullptr;  // 2 n: the float delayed events' sort keys
};

/// Output columns summed in registers at a time on a microcontroller: 16 floats, half the
/// FPv4 register file of a Cortex-M4F.
inline constexpr size_t block_columns = 16;

// GCC 12 warns that a tail loop's "iteration 2^62" would overflow once the row width is a
// known constant (a false positive: the loop bound is the width); the code is well defined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif
/// out[j, j + B) += sum_e value_e W[unit_e, j, j + B), summed in registers event by event, so
/// each column's sum has the host's order (bias, then the events one after the other).
template <size_t B, class W, class A, class Value>
inline void gather_block(const W* weight, size_t n, size_t j, const uint16_t* units,
                         const Value* values, size_t count, A* out) {
    A acc[B];
    for (size_t u = 0; u < B; ++u) acc[u] = out[j + u];
    for (size_t e = 0; e < count; ++e) {
        const W* row = weight + size_t(units[e]) * n + j;
        if (values) {
            const Value a = values[e];
            for (size_t u = 0; u < B; ++u) acc[u] = acc[u] + a * row[u];
        } else {
            for (size_t u = 0; u < B; ++u) acc[u] = acc[u] + row[u];
        }
    }
    for (size_t u = 0; u < B; ++u) out[j + u] = acc[u];
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if !defined(__arm__) && !defined(__thumb__) && (defined(__GNUC__) || defined(__clang__))
/// On a host (the benchmarks, export_firmware's accuracy runs): the same sums in GCC/Clang
/// vectors of 8 lanes, Blocks vectors at a time, so that the independent column sums hide the
/// add latency (compilers do not reliably vectorise gather_block themselves). Lane u adds
/// exactly what gather_block adds to column u, in the same order: the results are identical.
namespace lanes {
/// A GCC/Clang vector of 8 lanes of T (`type`).
template <class T>
struct of8;
/// 8 lanes of float.
template <>
struct of8<float> {
    typedef float type __attribute__((vector_size(32)));
};
/// 8 lanes of int32_t.
template <>
struct of8<int32_t> {
    typedef int32_t type __attribute__((vector_size(32)));
};
/// 8 lanes of int16_t.
template <>
struct of8<int16_t> {
    typedef int16_t type __attribute__((vector_size(16)));
};

/// 8 weights from `p` as accumulator lanes (integer weights widened; int8 through int16, which
/// GCC 12 turns into two sign extensions instead of eight scalar ones).
template <class A, class W>
inline void load(typename of8<A>::type& out, const W* p) {
#ifdef __AVX2__
    // GCC 12 widens a vector through two or five shuffles; AVX2 sign-extends from memory in one.
    if constexpr (meta::is_same<A, int32_t> && meta::is_same<W, int8_t>) {
        out = (typename of8<A>::type)_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)p));
        return;
    } else if constexpr (meta::is_same<A, int32_t> && meta::is_same<W, int16_t>) {
        out = (typename of8<A>::type)_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i*)p));
        return;
    }
#endif
    if constexpr (meta::is_same<W, int8_t>) {
        const typename of8<int16_t>::type w = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
        out = __builtin_convertvector(w, typename of8<A>::type);
    } else {
        typename of8<W>::type w;
        __builtin_memcpy(&w, p, sizeof w);
        if constexpr (meta::is_same<A, W>)
            out = w;
        else
            out = __builtin_convertvector(w, typename of8<A>::type);
    }
}

template <size_t Blocks, class W, class A, class Value>
inline void gather_vectors(const W* weight, size_t n, size_t j, const uint16_t* units,
                           const Value* values, size_t count, A* out) {
    using vec = typename of8<A>::type;
    vec acc[Blocks];
    for (size_t b = 0; b < Blocks; ++b) __builtin_memcpy(&acc[b], out + j + 8 * b, sizeof(vec));
    // Prefetch distance in events (4, 8 and 12 measured the same on Zen 3).
    constexpr size_t ahead = 4, line_elements = 64 / sizeof(W);
    for (size_t e = 0; e < count; ++e) {
        const W* row = weight + size_t(units[e]) * n + j;
        if (e + ahead < count) {
            // The rows are in random order: fetch a later event's row while this one is summed.
            const W* next = weight + size_t(units[e + ahead]) * n + j;
            for (size_t k = 0; k < 8 * Blocks; k += line_elements) __builtin_prefetch(next + k);
        }
        if (values) {
            const A a = static_cast<A>(values[e]);
            for (size_t b = 0; b < Blocks; ++b) {
                vec w;
                load<A>(w, row + 8 * b);
                acc[b] = acc[b] + a * w;
            }
        } else {
            for (size_t b = 0; b < Blocks; ++b) {
                vec w;
                load<A>(w, row + 8 * b);
                acc[b] = acc[b] + w;
            }
        }
    }
    for (size_t b = 0; b < Blocks; ++b) __builtin_memcpy(out + j + 8 * b, &acc[b], sizeof(vec));
}
}  // namespace lanes
#endif

/// out[0, n) += sum_e (value_e) W[unit_e, :] (values == nullptr: every value is 1).
template <class W, class A, class Value>
inline void gather_rows(const W* weight, size_t n, const uint16_t* units, const Value* values,
                        size_t count, A* out) {
    size_t j = 0;
#if !defined(__arm__) && !defined(__thumb__) && (defined(__GNUC__) || defined(__clang__))
    for (; j + 64 <= n; j += 64) lanes::gather_vectors<8>(weight, n, j, units, values, count, out);
    for (; j + 8 <= n; j += 8) lanes::gather_vectors<1>(weight, n, j, units, values, count, out);
#else
    for (; j + block_columns <= n; j += block_columns)
        gather_block<block_columns>(weight, n, j, units, values, count, out);
#endif
    for (; j + 4 <= n; j += 4) gather_block<4>(weight, n, j, units, values, count, out);
    for (; j < n; ++j) gather_block<1>(weight, n, j, units, values, count, out);
}

/// I += W[e, :] for the step's input events, in their order.
template <class W, class V>
inline void event_currents(const layer_params<W, V>& L, const uint16_t* units, size_t count,
                           V* I) {
    gather_rows(L.weight, L.n_out, units, static_cast<const V*>(nullptr), count, I);
}

/// I += W[j, :] for the spikes of the layer below at this step, neuron ascending.
template <class W, class V>
inline void spike_currents(const layer_params<W, V>& L, const history_view& below, V* I,
                           const step_scratch& scratch) {
    const uint32_t* bits = below.row();
    size_t count = 0;
    for (size_t w = 0; w < below.words; ++w)
        for (uint32_t m = bits[w]; m; m &= m - 1)
            scratch.units[count++] = static_cast<uint16_t>(w * 32 + size_t(__builtin_ctz(m)));
    gather_rows(L.weight, L.n_out, scratch.units, static_cast<const V*>(nullptr), count, I);
}

/// After a delayed layer `B`'s step t: each neuron that spiked (bits `now`) is put in the ring
/// row of step t + k_j (on time) and, when phi_j != 0, of step t + k_j + 1 (late).
template <class W, class V>
inline void schedule_arrivals(const layer_params<W, V>& B, const uint32_t* now, uint32_t t,
                              const arrival_ring& ring) {
    const size_t base = t % ring.slots;
    for (size_t w = 0; w < ring.words; ++w)
        for (uint32_t m = now[w]; m; m &= m - 1) {
            const unsigned bit = unsigned(__builtin_ctz(m));
            const size_t j = w * 32 + bit;
            size_t slot = base + B.delay_whole[j];  // < 2 slots: k_j + 1 < slots
            if (slot >= ring.slots) slot -= ring.slots;
            ring.on_time[slot * ring.words + w] |= uint32_t(1) << bit;
            if (has_fraction(B, j)) {
                slot = slot + 1 == ring.slots ? 0 : slot + 1;
                ring.late[slot * ring.words + w] |= uint32_t(1) << bit;
            }
        }
}

/// The currents from the delayed spikes of the layer below (its params `B`) arriving at step
/// t, read from its ring (and cleared there). Float adds value * W[j, :] event by event in the
/// host's order (delay/axonal.hpp: source step ascending, that is age k_j or k_j + 1
/// descending, then neuron ascending), so the events are sorted by that key; a value of 1
/// multiplies exactly. Fixed point sums fraction (Q7) * W[j, :] in int32, exactly in any order,
/// and rounds the sum back to weight units.
template <class W, class V, class BW>
inline void delayed_currents(const layer_params<W, V>& L, const layer_params<BW, V>& B,
                             const arrival_ring& ring, uint32_t t, V* I,
                             const step_scratch& scratch) {
    uint32_t* on_time = ring.on_time + (t % ring.slots) * ring.words;
    uint32_t* late = ring.late + (t % ring.slots) * ring.words;
    size_t count = 0;
    if constexpr (is_fixed_v<V>) {
        for (size_t w = 0; w < ring.words; ++w) {
            for (uint32_t m = on_time[w]; m; m &= m - 1) {
                const size_t j = w * 32 + size_t(__builtin_ctz(m));
                scratch.units[count] = static_cast<uint16_t>(j);
                scratch.fractions[count++] = fraction_one - B.delay_fraction_q[j];
            }
            for (uint32_t m = late[w]; m; m &= m - 1) {
                const size_t j = w * 32 + size_t(__builtin_ctz(m));
                scratch.units[count] = static_cast<uint16_t>(j);
                scratch.fractions[count++] = B.delay_fraction_q[j];
            }
            on_time[w] = late[w] = 0;
        }
        if (count == 0) return;
        for (size_t k = 0; k < L.n_out; ++k) scratch.sums[k] = 0;
        gather_rows(L.weight, L.n_out, scratch.units, scratch.fractions, count, scratch.sums);
        for (size_t k = 0; k < L.n_out; ++k)
            I[k] += (scratch.sums[k] + fraction_one / 2) >> fraction_bits;
    } else {
        // Key: (slots - age) in the high half, the neuron in the low half (n < 2^16).
        uint32_t* keys = scratch.keys;
        for (size_t w = 0; w < ring.words; ++w) {
            for (uint32_t m = on_time[w]; m; m &= m - 1) {
                const size_t j = w * 32 + size_t(__builtin_ctz(m));
                keys[count++] = uint32_t(ring.slots - B.delay_whole[j]) << 16 | uint32_t(j);
            }
            for (uint32_t m = late[w]; m; m &= m - 1) {
                const size_t j = w * 32 + size_t(__builtin_ctz(m));
                keys[count++] = uint32_t(ring.slots - B.delay_whole[j] - 1) << 16 | uint32_t(j);
            }
            on_time[w] = late[w] = 0;
        }
        if (count == 0) return;
        for (size_t e = 1; e < count; ++e) {  // insertion sort: a few dozen events
            const uint32_t key = keys[e];
            size_t k = e;
            for (; k > 0 && keys[k - 1] > key; --k) keys[k] = keys[k - 1];
            keys[k] = key;
        }
        for (size_t e = 0; e < count; ++e) {
            const size_t j = keys[e] & 0xFFFFu;
            const bool is_late = (keys[e] >> 16) != ring.slots - B.delay_whole[j];
            const float phi = B.delay_fraction[j];
            scratch.units[e] = static_cast<uint16_t>(j);
            scratch.values[e] = is_late ? phi : 1.0f - phi;  // x phi, x (1 - phi)
        }
        gather_rows(L.weight, L.n_out, scratch.units, scratch.values, count, I);
    }
}

/// neuron/lif.hpp's step: v = I + beta v' - theta s' (subtract) or I + beta (1 - s') v'
/// (zero); s = v >= theta. Float keeps x = v - theta (the host's trace) in `membrane`, fixed
/// point v. `history` gets this step's spikes. Float updates every membrane first (a
/// loop without branches, which compilers vectorise) and then packs the spike bits.
template <class W, class V>
inline void lif_step(const layer_params<W, V>& L, const V* I, V* membrane,
                     const history_view& history, uint32_t t) {
    uint32_t* now = history.row();
    if constexpr (is_fixed_v<V>) {
        // The previous step's spike is v' >= theta (what set its bit), so the loops read no
        // bits and have no branches; the leak's kind is chosen once per step.
        const int32_t* __restrict threshold = L.threshold;
        const int32_t* __restrict in = I;
        int32_t* __restrict v = membrane;
        const size_t n = L.n_out;
        if (t == 0) {
            for (size_t j = 0; j < n; ++j) v[j] = in[j];
        } else if (L.decay == decay_kind::shift) {
            const shift_leak leak{L.decay_shift};
            if (L.reset == reset_kind::subtract)
                fixed_lif_update<true>(threshold, in, v, n, leak);
            else
                fixed_lif_update<false>(threshold, in, v, n, leak);
        } else {
            const multiply_leak leak{L.decay_factor, L.decay_bits,
                                     int64_t(1) << (L.decay_bits - 1)};
            if (L.reset == reset_kind::subtract)
                fixed_lif_update<true>(threshold, in, v, n, leak);
            else
                fixed_lif_update<false>(threshold, in, v, n, leak);
        }
        for (size_t w = 0; w * 32 < n; ++w) {
            uint32_t word = 0;
            const size_t end = n - w * 32 < 32 ? n - w * 32 : 32;
            for (size_t b = 0; b < end; ++b)
                word |= uint32_t(v[w * 32 + b] >= threshold[w * 32 + b]) << b;
            now[w] = word;
        }
    } else {
        // Distinct arrays (restrict lets compilers vectorise without run-time overlap checks).
        // The host's theta s' and beta (1 - s') are selects here (s' = x' >= 0), so the loops
        // have no branches: theta * 0 = +-0 and subtracting +-0 or 0 leaves the same x = v -
        // theta for every finite theta (export_firmware refuses others); beta * 0 * v' = 0 * v'
        // since beta > 0.
        const float* __restrict threshold = L.threshold;
        const float* __restrict beta = L.beta;
        const float* __restrict in = I;
        float* __restrict x = membrane;
        const size_t n = L.n_out;
        if (t == 0) {
            for (size_t j = 0; j < n; ++j) x[j] = in[j] - threshold[j];
        } else if (L.reset == reset_kind::subtract) {
            for (size_t j = 0; j < n; ++j) {
                const float th = threshold[j], xp = x[j];
                const float vp = xp + th, reset = xp >= 0.0f ? th : 0.0f;
                const float v = in[j] + beta[j] * vp - reset;
                x[j] = v - th;
            }
        } else {
            for (size_t j = 0; j < n; ++j) {
                const float th = threshold[j], xp = x[j];
                const float vp = xp + th, leak = xp >= 0.0f ? 0.0f : beta[j];
                const float v = in[j] + leak * vp;
                x[j] = v - th;
            }
        }
        for (size_t w = 0; w * 32 < n; ++w) {
            uint32_t word = 0;
            const size_t end = n - w * 32 < 32 ? n - w * 32 : 32;
            for (size_t b = 0; b < end; ++b)
                word |= uint32_t(membrane[w * 32 + b] >= 0.0f) << b;
            now[w] = word;
        }
    }
}

/// neuron/readout.hpp's step: v = I + beta v'.
template <class W, class V>
inline void readout_step(const layer_params<W, V>& L, const V* I, V* membrane, uint32_t t) {
    for (size_t j = 0; j < L.n_out; ++j) {
        if constexpr (is_fixed_v<V>)
            membrane[j] = t > 0 ? I[j] + decay(L, membrane[j], j) : I[j];
        else
            membrane[j] = t > 0 ? I[j] + L.beta[j] * membrane[j] : I[j];
    }
}

/// Scores after step t (the losses' scores(): float sums in the host's order; fixed point
/// sums in int64, the mean left undivided).
template <class Score, class V>
inline void accumulate_scores(score_rule rule, size_t n, const V* membrane,
                              const uint32_t* spikes, uint32_t t, Score* scores) {
    for (size_t i = 0; i < n; ++i) {
        const Score v = static_cast<Score>(membrane[i]);
        switch (rule) {
        case score_rule::last: scores[i] = v; break;
        // std::max(out, v) keeps out unless out < v (loss/cross_entropy.hpp).
        case score_rule::max: scores[i] = (t == 0 || scores[i] < v) ? v : scores[i]; break;
        case score_rule::mean: scores[i] = (t == 0 ? Score(0) : scores[i]) + v; break;
        case score_rule::count:
            scores[i] = (t == 0 ? Score(0) : scores[i]) +
                        Score(((spikes[i / 32] >> (i % 32)) & 1u) ? 1 : 0);
            break;
        }
    }
}

/// The first index of the largest score (the host's argmax).
template <class Score>
inline size_t argmax(const Score* scores, size_t n) {
    size_t k = 0;
    for (size_t i = 1; i < n; ++i)
        if (scores[i] > scores[k]) k = i;
    return k;
}

}  // namespace kernels
}  // namespace spikegrad::firmware

/// \file
/// spikegrad: the thin SIMD layer. One templated formula serves float, double and
/// xsimd::batch: policies call simd::abs / exp / select / load / store, and vectorize() runs
/// a kernel over full batches and then a scalar tail, so scalar tests exercise vector code.
#pragma once

#include "../config.hpp"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace spikegrad::simd {

template <class T>
struct is_batch : std::false_type {};
template <class T, class A>
struct is_batch<xsimd::batch<T, A>> : std::true_type {};
template <class T>
inline constexpr bool is_batch_v = is_batch<T>::value;

/// The scalar type of V (V itself for scalars).
template <class V>
struct scalar_of {
    using type = V;
};
/// The scalar type of an xsimd batch: its element type.
template <class T, class A>
struct scalar_of<xsimd::batch<T, A>> {
    using type = T;
};
template <class V>
using scalar_of_t = typename scalar_of<V>::type;

/// Number of lanes of V (1 for scalars).
template <class V>
inline constexpr std::size_t lanes = [] {
    if constexpr (is_batch_v<V>)
        return V::size;
    else
        return std::size_t(1);
}();

template <class V>
SPIKEGRAD_ALWAYS_INLINE V load(const scalar_of_t<V>* p) {
    if constexpr (is_batch_v<V>)
        return V::load_unaligned(p);
    else
        return *p;
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE void store(scalar_of_t<V>* p, const V& v) {
    if constexpr (is_batch_v<V>)
        v.store_unaligned(p);
    else
        *p = v;
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE V broadcast(scalar_of_t<V> x) {
    return V(x);
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE V abs(const V& x) {
    if constexpr (is_batch_v<V>)
        return xsimd::abs(x);
    else
        return std::abs(x);
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE V exp(const V& x) {
    if constexpr (is_batch_v<V>)
        return xsimd::exp(x);
    else
        return std::exp(x);
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE V atan(const V& x) {
    if constexpr (is_batch_v<V>)
        return xsimd::atan(x);
    else
        return std::atan(x);
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE V max(const V& a, const V& b) {
    if constexpr (is_batch_v<V>)
        return xsimd::max(a, b);
    else
        return a < b ? b : a;
}

template <class V>
SPIKEGRAD_ALWAYS_INLINE V min(const V& a, const V& b) {
    if constexpr (is_batch_v<V>)
        return xsimd::min(a, b);
    else
        return b < a ? b : a;
}

/// Where cond holds, a; else b (cond is bool for scalars, batch_bool for batches).
template <class Cond, class V>
SPIKEGRAD_ALWAYS_INLINE V select(const Cond& cond, const V& a, const V& b) {
    if constexpr (is_batch_v<V>)
        return xsimd::select(cond, a, b);
    else
        return cond ? a : b;
}

/// Sum of the lanes (x itself for scalars).
template <class V>
SPIKEGRAD_ALWAYS_INLINE scalar_of_t<V> reduce_add(const V& x) {
    if constexpr (is_batch_v<V>)
        return xsimd::hadd(x);
    else
        return x;
}

/// Lane i of a comparison result as bit i (a scalar bool gives bit 0): AVX-512 comparisons
/// are mask registers already; SSE/AVX use movemask; other instruction sets go lane by lane.
template <class T, class A>
SPIKEGRAD_ALWAYS_INLINE std::uint64_t bitmask(const xsimd::batch_bool<T, A>& b) {
    // Dispatch on the register's size, not its type: type traits on __m128 and friends make
    // g++ warn that their attributes are ignored.
    using R = typename xsimd::batch_bool<T, A>::register_type;
    constexpr std::size_t bytes = sizeof(R);
    if constexpr (bytes <= 8) {  // an AVX-512 mask register: one bit per lane already
        return static_cast<std::uint64_t>(static_cast<R>(b));
    }
#if defined(__AVX__)
    else if constexpr (bytes == 32 && std::is_same_v<T, float>) {
        return static_cast<std::uint32_t>(_mm256_movemask_ps(b));
    } else if constexpr (bytes == 32 && std::is_same_v<T, double>) {
        return static_cast<std::uint32_t>(_mm256_movemask_pd(b));
    }
#endif
#if defined(__SSE2__)
    else if constexpr (bytes == 16 && std::is_same_v<T, float>) {
        return static_cast<std::uint32_t>(_mm_movemask_ps(b));
    } else if constexpr (bytes == 16 && std::is_same_v<T, double>) {
        return static_cast<std::uint32_t>(_mm_movemask_pd(b));
    }
#endif
    else {
        bool lanes[xsimd::batch_bool<T, A>::size];
        b.store_unaligned(lanes);
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < xsimd::batch_bool<T, A>::size; ++i)
            bits |= std::uint64_t(lanes[i]) << i;
        return bits;
    }
}
SPIKEGRAD_ALWAYS_INLINE std::uint64_t bitmask(bool b) { return b ? 1 : 0; }

/// Lanes i of base[min(offset[i] + shift, last)]: a gather whose indices are clamped into the
/// array (AVX-512 / AVX2 gather instructions for float; lane by lane elsewhere). Needs
/// offset[i] >= 0 and 0 <= shift <= last + 1; the clamp is taken before the addition, as
/// min(offset[i], last - shift) + shift, so no offset (INT32_MAX included) can overflow.
template <class V>
SPIKEGRAD_ALWAYS_INLINE V gather_clamped(const scalar_of_t<V>* base, const std::int32_t* offset,
                                         std::int32_t shift, std::int32_t last) {
    using S = scalar_of_t<V>;
    const std::int32_t room = last - shift;  // >= -1: both operands are in [0, INT32_MAX]
    if constexpr (!is_batch_v<V>) {
        return base[std::min(*offset, room) + shift];
    }
#if defined(__AVX512F__)
    else if constexpr (std::is_same_v<S, float> && V::size == 16) {
        // The masked forms: GCC 12 warns about the unmasked ones' undefined inputs.
        const __m512i index = _mm512_add_epi32(
            _mm512_mask_min_epi32(_mm512_setzero_si512(), __mmask16(0xFFFF),
                                  _mm512_loadu_si512(offset), _mm512_set1_epi32(room)),
            _mm512_set1_epi32(shift));
        return V(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), __mmask16(0xFFFF), index, base,
                                          sizeof(float)));
    }
#endif
#if defined(__AVX2__)
    else if constexpr (std::is_same_v<S, float> && V::size == 8) {
        const __m256i index = _mm256_add_epi32(
            _mm256_min_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(offset)),
                             _mm256_set1_epi32(room)),
            _mm256_set1_epi32(shift));
        return V(_mm256_i32gather_ps(base, index, sizeof(float)));
    }
#endif
    else {
        alignas(64) S lanes[V::size];
        for (std::size_t i = 0; i < V::size; ++i) lanes[i] = base[std::min(offset[i], room) + shift];
        return V::load_aligned(lanes);
    }
}

/// Tag telling a kernel which vector type to use for this chunk.
template <class V>
struct chunk {
    using type = V;
};

/// Calls `f(chunk<batch<S>>{}, j)` for j = 0, W, 2W, ... while a full batch fits, then
/// `f(chunk<S>{}, j)` for each remaining element.
template <class S, class F>
SPIKEGRAD_ALWAYS_INLINE void vectorize(std::size_t n, F&& f) {
    using B = xsimd::batch<S>;
    std::size_t j = 0;
    for (; j + B::size <= n; j += B::size) f(chunk<B>{}, j);
    for (; j < n; ++j) f(chunk<S>{}, j);
}

}  // namespace spikegrad::simd

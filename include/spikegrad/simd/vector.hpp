// spikegrad: the thin SIMD layer. One templated formula serves float, double and
// xsimd::batch: policies call simd::abs / exp / select / load / store, and vectorize() runs
// a kernel over full batches and then a scalar tail, so scalar tests exercise vector code.
#pragma once

#include "../config.hpp"

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstddef>
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

/// Tag telling a kernel which vector type to use for this chunk.
template <class V>
struct chunk {
    using type = V;
};

/// Calls f(chunk<batch<S>>{}, j) for j = 0, W, 2W, ... while a full batch fits, then
/// f(chunk<S>{}, j) for each remaining element.
template <class S, class F>
SPIKEGRAD_ALWAYS_INLINE void vectorize(std::size_t n, F&& f) {
    using B = xsimd::batch<S>;
    std::size_t j = 0;
    for (; j + B::size <= n; j += B::size) f(chunk<B>{}, j);
    for (; j < n; ++j) f(chunk<S>{}, j);
}

}  // namespace spikegrad::simd

/// \file
/// spikegrad: the few vector kernels every inner loop uses: row add and scaled row add, the sum
/// of a step's event rows held in registers (an input event adds one contiguous weight row),
/// its mirror image that adds a gradient row to every event's row, and the small matrix
/// product that sends a layer's current gradient back to its inputs.
#pragma once

#include "dispatch.hpp"
#include "vector.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace spikegrad::simd {

/// y[0..n) += x[0..n)
template <class S>
SPIKEGRAD_ALWAYS_INLINE void add_row(std::size_t n, const S* SPIKEGRAD_RESTRICT x,
                                     S* SPIKEGRAD_RESTRICT y) {
    vectorize<S>(n, [&](auto tag, std::size_t j) {
        using V = typename decltype(tag)::type;
        simd::store(y + j, simd::load<V>(y + j) + simd::load<V>(x + j));
    });
}

/// y[0..n) += a * x[0..n)
template <class S>
SPIKEGRAD_ALWAYS_INLINE void axpy(std::size_t n, S a, const S* SPIKEGRAD_RESTRICT x,
                                  S* SPIKEGRAD_RESTRICT y) {
    vectorize<S>(n, [&](auto tag, std::size_t j) {
        using V = typename decltype(tag)::type;
        simd::store(y + j, simd::load<V>(y + j) + V(a) * simd::load<V>(x + j));
    });
}

/// x[0..n) = a * x[0..n) + y[0..n) (a first-order filter step; its adjoint is the same)
template <class S>
SPIKEGRAD_ALWAYS_INLINE void scale_add(std::size_t n, S a, S* SPIKEGRAD_RESTRICT x,
                                       const S* SPIKEGRAD_RESTRICT y) {
    vectorize<S>(n, [&](auto tag, std::size_t j) {
        using V = typename decltype(tag)::type;
        simd::store(x + j, simd::load<V>(y + j) + V(a) * simd::load<V>(x + j));
    });
}

/// y[0..n) = x[0..n)
template <class S>
SPIKEGRAD_ALWAYS_INLINE void copy_row(std::size_t n, const S* SPIKEGRAD_RESTRICT x,
                                      S* SPIKEGRAD_RESTRICT y) {
    std::copy(x, x + n, y);
}

namespace detail {

/// Calls f.template operator()<U>() with U = count, for count in [0, Max] (a run-time number
/// of batches turned into a compile-time one, so that a block's accumulators are registers).
template <std::size_t Max, class F>
SPIKEGRAD_ALWAYS_INLINE void with_batches(std::size_t count, F&& f) {
    if constexpr (Max == 0) {
        (void)count;
        f.template operator()<0>();
    } else {
        if (count == Max)
            f.template operator()<Max>();
        else
            with_batches<Max - 1>(count, f);
    }
}

/// Batches a register block of the row kernels holds (8 x 16 floats with AVX-512: a row of
/// 128 in one pass).
inline constexpr std::size_t block_batches = 8;

/// out[j, j + U W) = init + sum_k value_k rows[index[k]][j, j + U W), summed in registers.
template <std::size_t U, class S, class Index, class Value>
SPIKEGRAD_ALWAYS_INLINE void gather_block(std::size_t n, std::size_t j,
                                          const S* SPIKEGRAD_RESTRICT rows, const Index* index,
                                          const Value* values, std::size_t count, const S* init,
                                          S* out) {
    using B = xsimd::batch<S>;
    constexpr std::size_t W = B::size;
    B acc[U > 0 ? U : 1];
#pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u)
        acc[u] = init ? B::load_unaligned(init + j + u * W) : B(S(0));
    for (std::size_t k = 0; k < count; ++k) {
        const S* row = rows + std::size_t(index[k]) * n + j;
        if (values) {
            const B a(static_cast<S>(values[k]));
#pragma GCC unroll 8
            for (std::size_t u = 0; u < U; ++u)
                acc[u] = acc[u] + a * B::load_unaligned(row + u * W);
        } else {
#pragma GCC unroll 8
            for (std::size_t u = 0; u < U; ++u) acc[u] = acc[u] + B::load_unaligned(row + u * W);
        }
    }
#pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u) acc[u].store_unaligned(out + j + u * W);
}

/// rows[index[k]][j, j + U W) += value_k x[j, j + U W) for every k, x held in registers.
template <std::size_t U, class S, class Index, class Value>
SPIKEGRAD_ALWAYS_INLINE void scatter_block(std::size_t n, std::size_t j,
                                           const S* SPIKEGRAD_RESTRICT x, const Index* index,
                                           const Value* values, std::size_t count,
                                           S* SPIKEGRAD_RESTRICT rows) {
    using B = xsimd::batch<S>;
    constexpr std::size_t W = B::size;
    B g[U > 0 ? U : 1];
#pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u) g[u] = B::load_unaligned(x + j + u * W);
    for (std::size_t k = 0; k < count; ++k) {
        S* row = rows + std::size_t(index[k]) * n + j;
        if (values) {
            const B a(static_cast<S>(values[k]));
#pragma GCC unroll 8
            for (std::size_t u = 0; u < U; ++u)
                (B::load_unaligned(row + u * W) + a * g[u]).store_unaligned(row + u * W);
        } else {
#pragma GCC unroll 8
            for (std::size_t u = 0; u < U; ++u)
                (B::load_unaligned(row + u * W) + g[u]).store_unaligned(row + u * W);
        }
    }
}

template <class S, class Index, class Value>
void gather_rows(std::size_t n, const S* rows, const Index* index, const Value* values,
                 std::size_t count, const S* init, S* out) {
    constexpr std::size_t W = xsimd::batch<S>::size, U = block_batches;
    std::size_t j = 0;
    for (; j + U * W <= n; j += U * W) gather_block<U>(n, j, rows, index, values, count, init, out);
    const std::size_t rest = (n - j) / W;
    with_batches<U - 1>(rest, [&]<std::size_t R>() {
        if constexpr (R > 0) gather_block<R>(n, j, rows, index, values, count, init, out);
    });
    for (j += rest * W; j < n; ++j) {
        S acc = init ? init[j] : S(0);
        for (std::size_t k = 0; k < count; ++k) {
            const S w = rows[std::size_t(index[k]) * n + j];
            acc = values ? acc + static_cast<S>(values[k]) * w : acc + w;
        }
        out[j] = acc;
    }
}

template <class S, class Index, class Value>
void scatter_rows(std::size_t n, const S* x, const Index* index, const Value* values,
                  std::size_t count, S* rows) {
    constexpr std::size_t W = xsimd::batch<S>::size, U = block_batches;
    std::size_t j = 0;
    for (; j + U * W <= n; j += U * W) scatter_block<U>(n, j, x, index, values, count, rows);
    const std::size_t rest = (n - j) / W;
    with_batches<U - 1>(rest, [&]<std::size_t R>() {
        if constexpr (R > 0) scatter_block<R>(n, j, x, index, values, count, rows);
    });
    for (j += rest * W; j < n; ++j)
        for (std::size_t k = 0; k < count; ++k) {
            S& y = rows[std::size_t(index[k]) * n + j];
            y = values ? y + static_cast<S>(values[k]) * x[j] : y + x[j];
        }
}

}  // namespace detail

/// out[0..n) = init[0..n) + sum_k values[k] * rows[index[k] * n + 0..n): the input current of
/// one step from its events (rows of a [*, n] weight matrix). init == nullptr starts at 0,
/// values == nullptr means every value is 1. Each block of columns is summed in registers,
/// events in order, so the result equals adding the rows one after the other. init may be
/// out (accumulate into out); neither may overlap the rows read.
template <class S, class Index, class Value = S>
void gather_rows(std::size_t n, const S* rows, const Index* index, std::size_t count,
                 const S* init, S* out, const Value* values = nullptr) {
#if SPIKEGRAD_DISPATCH
    if constexpr (std::is_same_v<S, float> && std::is_same_v<Index, std::uint32_t> &&
                  std::is_same_v<Value, float>) {
        detail::kernels().gather_rows(n, rows, index, values, count, init, out);
        return;
    }
#endif
    if (values)
        detail::gather_rows(n, rows, index, values, count, init, out);
    else
        detail::gather_rows(n, rows, index, static_cast<const Value*>(nullptr), count, init, out);
}

/// rows[index[k] * n + 0..n) += values[k] * x[0..n) for k in order (the weight gradient of
/// one step's events); values == nullptr means every value is 1. Repeated indices are fine.
template <class S, class Index, class Value = S>
void scatter_rows(std::size_t n, const S* x, const Index* index, std::size_t count, S* rows,
                  const Value* values = nullptr) {
    if (values)
        detail::scatter_rows(n, x, index, values, count, rows);
    else
        detail::scatter_rows(n, x, index, static_cast<const Value*>(nullptr), count, rows);
}

/// True when x[0..n) holds only zeros.
template <class S>
bool all_zero(std::size_t n, const S* x) {
    using B = xsimd::batch<S>;
    std::size_t j = 0;
    for (; j + B::size <= n; j += B::size)
        if (xsimd::any(B::load_unaligned(x + j) != B(S(0)))) return false;
    for (; j < n; ++j)
        if (x[j] != S(0)) return false;
    return true;
}

/// Room indices_at_least and indices_within need after the last index they may write.
inline constexpr std::size_t compaction_slack = 64;

namespace detail {

/// Writes to out the j in [0, n) where hit(x[j..]) holds, in increasing order, and returns
/// how many; hit takes a batch or a scalar. With AVX-512 a batch's indices are compressed
/// without a branch (whole vectors stored past the count: room for n + compaction_slack);
/// elsewhere the set bits of the comparison mask are walked.
template <class S, class Hit>
SPIKEGRAD_ALWAYS_INLINE std::size_t compact_indices(std::size_t n, const S* x, Hit&& hit,
                                                    std::uint32_t* out) {
    using B = xsimd::batch<S>;
    std::size_t count = 0, j = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<S, float> && B::size == 16) {
        const __m512i step = _mm512_set1_epi32(16);
        __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (; j + 16 <= n; j += 16) {
            const auto bits = static_cast<__mmask16>(bitmask(hit(B::load_unaligned(x + j))));
            _mm512_storeu_si512(out + count, _mm512_maskz_compress_epi32(bits, index));
            count += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(bits)));
            index = _mm512_add_epi32(index, step);
        }
    }
#endif
    for (; j + B::size <= n; j += B::size)
        for (std::uint64_t bits = bitmask(hit(B::load_unaligned(x + j))); bits != 0;
             bits &= bits - 1)
            out[count++] = static_cast<std::uint32_t>(j + std::size_t(std::countr_zero(bits)));
    for (; j < n; ++j)
        if (hit(x[j])) out[count++] = static_cast<std::uint32_t>(j);
    return count;
}

}  // namespace detail

/// Writes to out the indices j in [0, n) with x[j] >= threshold, in increasing order, and
/// returns how many: the compaction of a step's membranes into spike indices. `out` must have
/// room for n + compaction_slack entries.
template <class S>
std::size_t indices_at_least(std::size_t n, const S* x, S threshold, std::uint32_t* out) {
#if SPIKEGRAD_DISPATCH
    if constexpr (std::is_same_v<S, float>) return detail::kernels().indices_at_least(n, x, threshold, out);
#endif
    return detail::compact_indices(
        n, x,
        [threshold](const auto& v) { return v >= std::decay_t<decltype(v)>(threshold); }, out);
}

/// The indices j in [0, n) with |x[j] - center| <= radius, like indices_at_least.
template <class S>
std::size_t indices_within(std::size_t n, const S* x, S center, S radius, std::uint32_t* out) {
    return detail::compact_indices(
        n, x,
        [center, radius](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            return simd::abs(v - V(center)) <= V(radius);
        },
        out);
}

/// How many j in [0, n) have |x[j] - center| <= radius.
template <class S>
std::size_t count_within(std::size_t n, const S* x, S center, S radius) {
    using B = xsimd::batch<S>;
    std::size_t count = 0, j = 0;
    for (; j + B::size <= n; j += B::size)
        count += static_cast<std::size_t>(std::popcount(
            bitmask(xsimd::abs(B::load_unaligned(x + j) - B(center)) <= B(radius))));
    for (; j < n; ++j) count += std::abs(x[j] - center) <= radius ? 1 : 0;
    return count;
}

/// sum_j a[j] b[j], a batch of partial sums at a time.
template <class S>
S dot(std::size_t n, const S* SPIKEGRAD_RESTRICT a, const S* SPIKEGRAD_RESTRICT b) {
    using B = xsimd::batch<S>;
    B sum0(S(0)), sum1(S(0));
    std::size_t j = 0;
    for (; j + 2 * B::size <= n; j += 2 * B::size) {
        sum0 = xsimd::fma(B::load_unaligned(a + j), B::load_unaligned(b + j), sum0);
        sum1 = xsimd::fma(B::load_unaligned(a + j + B::size), B::load_unaligned(b + j + B::size),
                          sum1);
    }
    for (; j + B::size <= n; j += B::size)
        sum0 = xsimd::fma(B::load_unaligned(a + j), B::load_unaligned(b + j), sum0);
    S sum = xsimd::hadd(sum0 + sum1);
    for (; j < n; ++j) sum += a[j] * b[j];
    return sum;
}

namespace detail {

/// C[i0.., j, j + V W) for R rows of A at a time over the whole of k; the V batches of a row
/// of B are loaded once and serve R rows of C.
template <std::size_t R, std::size_t V, class S>
SPIKEGRAD_ALWAYS_INLINE void matmul_tile(std::size_t i, std::size_t j, std::size_t k,
                                         std::size_t n, const S* SPIKEGRAD_RESTRICT a,
                                         const S* SPIKEGRAD_RESTRICT b, S* SPIKEGRAD_RESTRICT c) {
    using B = xsimd::batch<S>;
    constexpr std::size_t W = B::size;
    B acc[R][V];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) acc[r][v] = B(S(0));
    for (std::size_t p = 0; p < k; ++p) {
        B row[V];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) row[v] = B::load_unaligned(b + p * n + j + v * W);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < R; ++r) {
            const B x(a[(i + r) * k + p]);
#pragma GCC unroll 8
            for (std::size_t v = 0; v < V; ++v) acc[r][v] = xsimd::fma(x, row[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) acc[r][v].store_unaligned(c + (i + r) * n + j + v * W);
}

/// Register tile of the matrix product: rows of A by batches of B. 5 x 4 fills 20 of the 32
/// registers of AVX-512; instruction sets with 16 registers get 3 x 2. (x86-64 builds without
/// AVX-512 run the dispatched float kernels of dispatch.hpp instead: 6 x 2 on AVX2.)
template <class S>
inline constexpr bool many_registers = sizeof(xsimd::batch<S>) >= 64;
template <class S>
inline constexpr std::size_t tile_rows = many_registers<S> ? 5 : 3;
template <class S>
inline constexpr std::size_t tile_batches = many_registers<S> ? 4 : 2;

/// Rows [first, last) of C over the column panel [j, j + V W): tiles of tile_rows rows, then
/// single rows. A panel of B (k x V W) stays in L1 while the rows of A pass.
template <std::size_t V, class S>
SPIKEGRAD_ALWAYS_INLINE void matmul_panel(std::size_t first, std::size_t last, std::size_t j,
                                          std::size_t k, std::size_t n, const S* a, const S* b,
                                          S* c) {
    constexpr std::size_t R = tile_rows<S>;
    std::size_t i = first;
    for (; i + R <= last; i += R) matmul_tile<R, V>(i, j, k, n, a, b, c);
    for (; i < last; ++i) matmul_tile<1, V>(i, j, k, n, a, b, c);
}

}  // namespace detail

/// C[m, n] = A[m, k] * B[k, n], all row-major and contiguous. Leading and trailing rows of A
/// that are all zero give zero rows of C without work (in BPTT the gradient of the last
/// steps is often exactly zero). The rest goes in column panels of four batches, so a panel of
/// B stays in L1, and register tiles (AVX-512: five rows by four batches), so each loaded
/// batch of B serves several rows of C; each element of C is one FMA chain over p in order.
template <class S>
void matmul(std::size_t m, std::size_t k, std::size_t n, const S* SPIKEGRAD_RESTRICT a,
            const S* SPIKEGRAD_RESTRICT b, S* SPIKEGRAD_RESTRICT c) {
    using B = xsimd::batch<S>;
    constexpr std::size_t W = B::size, V = detail::tile_batches<S>;
    std::size_t first = 0, last = m;
    while (first < last && all_zero(k, a + first * k)) ++first;
    while (last > first && all_zero(k, a + (last - 1) * k)) --last;
    std::fill(c, c + first * n, S(0));
    std::fill(c + last * n, c + m * n, S(0));
    if (first == last) return;
#if SPIKEGRAD_DISPATCH
    if constexpr (std::is_same_v<S, float>) {
        detail::kernels().matmul_rows(first, last, k, n, a, b, c);
        return;
    }
#endif
    std::size_t j = 0;
    for (; j + V * W <= n; j += V * W) detail::matmul_panel<V>(first, last, j, k, n, a, b, c);
    const std::size_t rest = (n - j) / W;
    detail::with_batches<V - 1>(rest, [&]<std::size_t R>() {
        if constexpr (R > 0) detail::matmul_panel<R>(first, last, j, k, n, a, b, c);
    });
    j += rest * W;
    if (j < n)
        for (std::size_t i = first; i < last; ++i)
            for (std::size_t q = j; q < n; ++q) {
                S sum = 0;
                for (std::size_t p = 0; p < k; ++p) sum += a[i * k + p] * b[p * n + q];
                c[i * n + q] = sum;
            }
}

/// Transpose of a row-major [rows, cols] matrix into [cols, rows].
template <class S>
void transpose(std::size_t rows, std::size_t cols, const S* SPIKEGRAD_RESTRICT in,
               S* SPIKEGRAD_RESTRICT out) {
    constexpr std::size_t block = 32;
    for (std::size_t r0 = 0; r0 < rows; r0 += block)
        for (std::size_t c0 = 0; c0 < cols; c0 += block)
            for (std::size_t r = r0; r < std::min(rows, r0 + block); ++r)
                for (std::size_t c = c0; c < std::min(cols, c0 + block); ++c)
                    out[c * rows + r] = in[r * cols + c];
}

}  // namespace spikegrad::simd

// spikegrad: the few vector kernels every inner loop uses: row add and scaled row add (an
// input event adds one contiguous weight row), fill, sum of rows, and the small matrix
// product that sends a layer's current gradient back to its inputs.
#pragma once

#include "vector.hpp"

#include <algorithm>
#include <cstddef>

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

/// y[0..n) = x[0..n)
template <class S>
SPIKEGRAD_ALWAYS_INLINE void copy_row(std::size_t n, const S* SPIKEGRAD_RESTRICT x,
                                      S* SPIKEGRAD_RESTRICT y) {
    std::copy(x, x + n, y);
}

/// C[m, n] = A[m, k] * B[k, n], all row-major and contiguous. Register-blocked over four rows
/// of A and two vectors of columns, so each loaded row of B serves four rows of C.
template <class S>
void matmul(std::size_t m, std::size_t k, std::size_t n, const S* SPIKEGRAD_RESTRICT a,
            const S* SPIKEGRAD_RESTRICT b, S* SPIKEGRAD_RESTRICT c) {
    using B = xsimd::batch<S>;
    constexpr std::size_t W = B::size;
    constexpr std::size_t R = 4;
    std::size_t i = 0;
    for (; i + R <= m; i += R) {
        const S* a0 = a + (i + 0) * k;
        const S* a1 = a + (i + 1) * k;
        const S* a2 = a + (i + 2) * k;
        const S* a3 = a + (i + 3) * k;
        std::size_t j = 0;
        for (; j + 2 * W <= n; j += 2 * W) {
            B c00(S(0)), c01(S(0)), c10(S(0)), c11(S(0)), c20(S(0)), c21(S(0)), c30(S(0)),
                c31(S(0));
            for (std::size_t p = 0; p < k; ++p) {
                const B b0 = B::load_unaligned(b + p * n + j);
                const B b1 = B::load_unaligned(b + p * n + j + W);
                const B x0(a0[p]), x1(a1[p]), x2(a2[p]), x3(a3[p]);
                c00 = xsimd::fma(x0, b0, c00);
                c01 = xsimd::fma(x0, b1, c01);
                c10 = xsimd::fma(x1, b0, c10);
                c11 = xsimd::fma(x1, b1, c11);
                c20 = xsimd::fma(x2, b0, c20);
                c21 = xsimd::fma(x2, b1, c21);
                c30 = xsimd::fma(x3, b0, c30);
                c31 = xsimd::fma(x3, b1, c31);
            }
            c00.store_unaligned(c + (i + 0) * n + j);
            c01.store_unaligned(c + (i + 0) * n + j + W);
            c10.store_unaligned(c + (i + 1) * n + j);
            c11.store_unaligned(c + (i + 1) * n + j + W);
            c20.store_unaligned(c + (i + 2) * n + j);
            c21.store_unaligned(c + (i + 2) * n + j + W);
            c30.store_unaligned(c + (i + 3) * n + j);
            c31.store_unaligned(c + (i + 3) * n + j + W);
        }
        for (; j < n; ++j) {
            S s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (std::size_t p = 0; p < k; ++p) {
                const S bv = b[p * n + j];
                s0 += a0[p] * bv;
                s1 += a1[p] * bv;
                s2 += a2[p] * bv;
                s3 += a3[p] * bv;
            }
            c[(i + 0) * n + j] = s0;
            c[(i + 1) * n + j] = s1;
            c[(i + 2) * n + j] = s2;
            c[(i + 3) * n + j] = s3;
        }
    }
    for (; i < m; ++i) {
        S* ci = c + i * n;
        std::fill(ci, ci + n, S(0));
        for (std::size_t p = 0; p < k; ++p) axpy(n, a[i * k + p], b + p * n, ci);
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

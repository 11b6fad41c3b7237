/// \file
/// spikegrad: the body of the run-time dispatched float kernels (row sums, the register-tiled
/// matrix product, spike compaction), written once with GCC vector types and included once per
/// instruction set by dispatch.hpp, inside a `#pragma GCC target` region and a namespace of
/// its own. SPIKEGRAD_ISA_WIDTH (floats per vector) and SPIKEGRAD_ISA_FMA select the variant.
/// No include guard on purpose; include only from dispatch.hpp.

using vec = float __attribute__((vector_size(4 * SPIKEGRAD_ISA_WIDTH), aligned(4), may_alias));
using ivec =
    std::int32_t __attribute__((vector_size(4 * SPIKEGRAD_ISA_WIDTH), aligned(4), may_alias));
inline constexpr std::size_t width = SPIKEGRAD_ISA_WIDTH;

SPIKEGRAD_ALWAYS_INLINE vec load(const float* p) { return *reinterpret_cast<const vec*>(p); }
SPIKEGRAD_ALWAYS_INLINE void store(float* p, vec v) { *reinterpret_cast<vec*>(p) = v; }
SPIKEGRAD_ALWAYS_INLINE vec splat(float x) {
#if SPIKEGRAD_ISA_WIDTH == 16
    return vec{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
#elif SPIKEGRAD_ISA_WIDTH == 8
    return vec{x, x, x, x, x, x, x, x};  // a broadcast (vec{} + x adds a scalar 0 first)
#else
    return vec{x, x, x, x};
#endif
}
/// a * b + c, one rounding where the instruction set has FMA.
SPIKEGRAD_ALWAYS_INLINE vec fmadd(vec a, vec b, vec c) {
#if SPIKEGRAD_ISA_FMA && SPIKEGRAD_ISA_WIDTH == 16
    return (vec)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif SPIKEGRAD_ISA_FMA
    return (vec)__builtin_ia32_vfmaddps256((__v8sf)a, (__v8sf)b, (__v8sf)c);
#else
    return a * b + c;
#endif
}

/// Calls `f.template operator()<U>()` for U = count in [0, Max].
template <std::size_t Max, class F>
SPIKEGRAD_ALWAYS_INLINE void with_count(std::size_t count, F&& f) {
    if constexpr (Max == 0) {
        (void)count;
        f.template operator()<0>();
    } else {
        if (count == Max)
            f.template operator()<Max>();
        else
            with_count<Max - 1>(count, f);
    }
}

/// Vectors a row-sum block keeps in registers (of 16).
inline constexpr std::size_t block = 8;

template <std::size_t U>
SPIKEGRAD_ALWAYS_INLINE void gather_block(std::size_t n, std::size_t j, const float* rows,
                                          const std::uint32_t* index, const float* values,
                                          std::size_t count, const float* init, float* out) {
    vec acc[U > 0 ? U : 1];
#pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u) acc[u] = init ? load(init + j + u * width) : vec{};
    if (values) {
        for (std::size_t k = 0; k < count; ++k) {
            const float* row = rows + std::size_t(index[k]) * n + j;
            const vec a = splat(values[k]);
#pragma GCC unroll 8
            for (std::size_t u = 0; u < U; ++u) acc[u] = fmadd(a, load(row + u * width), acc[u]);
        }
    } else {
        for (std::size_t k = 0; k < count; ++k) {
            const float* row = rows + std::size_t(index[k]) * n + j;
#pragma GCC unroll 8
            for (std::size_t u = 0; u < U; ++u) acc[u] = acc[u] + load(row + u * width);
        }
    }
#pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u) store(out + j + u * width, acc[u]);
}

/// out[0..n) = init + sum_k values[k] rows[index[k]][0..n), rows in order (see kernels.hpp).
inline void gather_rows(std::size_t n, const float* rows, const std::uint32_t* index,
                        const float* values, std::size_t count, const float* init, float* out) {
    std::size_t j = 0;
    for (; j + block * width <= n; j += block * width)
        gather_block<block>(n, j, rows, index, values, count, init, out);
    const std::size_t rest = (n - j) / width;
    with_count<block - 1>(rest, [&]<std::size_t R>() {
        if constexpr (R > 0) gather_block<R>(n, j, rows, index, values, count, init, out);
    });
    for (j += rest * width; j < n; ++j) {
        float acc = init ? init[j] : 0.f;
        for (std::size_t k = 0; k < count; ++k) {
            const float w = rows[std::size_t(index[k]) * n + j];
#if SPIKEGRAD_ISA_FMA
            acc = values ? __builtin_fmaf(values[k], w, acc) : acc + w;
#else
            acc = values ? acc + values[k] * w : acc + w;
#endif
        }
        out[j] = acc;
    }
}

/// Matrix-product register tile: R rows of C by V vectors, one FMA chain per element over p.
template <std::size_t R, std::size_t V>
SPIKEGRAD_ALWAYS_INLINE void matmul_tile(std::size_t i, std::size_t j, std::size_t k,
                                         std::size_t n, const float* SPIKEGRAD_RESTRICT a,
                                         const float* SPIKEGRAD_RESTRICT b,
                                         float* SPIKEGRAD_RESTRICT c) {
    vec acc[R][V];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[r][v] = vec{};
    const float* arow = a + i * k;
    for (std::size_t p = 0; p < k; ++p) {
        vec row[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) row[v] = load(b + p * n + j + v * width);
#pragma GCC unroll 8
        for (std::size_t r = 0; r < R; ++r) {
            const vec x = splat(arow[r * k + p]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v) acc[r][v] = fmadd(x, row[v], acc[r][v]);
        }
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) store(c + (i + r) * n + j + v * width, acc[r][v]);
}

/// AVX2: 6 x 2 (12 accumulators, 2 row vectors and a broadcast of the 16 registers: both FMA
/// pipes busy); AVX-512 (32 registers): 8 x 2; SSE2 (no FMA, a product register per chain):
/// 4 x 2.
inline constexpr std::size_t tile_rows = SPIKEGRAD_ISA_WIDTH == 16 ? 8 : SPIKEGRAD_ISA_FMA ? 6 : 4;
inline constexpr std::size_t tile_vectors = 2;

template <std::size_t V>
SPIKEGRAD_ALWAYS_INLINE void matmul_panel(std::size_t first, std::size_t last, std::size_t j,
                                          std::size_t k, std::size_t n, const float* a,
                                          const float* b, float* c) {
    std::size_t i = first;
    for (; i + tile_rows <= last; i += tile_rows) matmul_tile<tile_rows, V>(i, j, k, n, a, b, c);
    with_count<tile_rows - 1>(last - i, [&]<std::size_t R>() {
        if constexpr (R > 0) matmul_tile<R, V>(i, j, k, n, a, b, c);
    });
}

/// Rows [first, last) of C[m, n] = A[m, k] B[k, n]: column panels of tile_vectors vectors (a
/// k x 16 panel of B stays in L1 while the rows of A pass), then a one-vector panel, then
/// scalar columns.
inline void matmul_rows(std::size_t first, std::size_t last, std::size_t k, std::size_t n,
                        const float* a, const float* b, float* c) {
    std::size_t j = 0;
    for (; j + tile_vectors * width <= n; j += tile_vectors * width)
        matmul_panel<tile_vectors>(first, last, j, k, n, a, b, c);
    for (; j + width <= n; j += width) matmul_panel<1>(first, last, j, k, n, a, b, c);
    for (; j < n; ++j)
        for (std::size_t i = first; i < last; ++i) {
            float sum = 0;
            for (std::size_t p = 0; p < k; ++p)
#if SPIKEGRAD_ISA_FMA
                sum = __builtin_fmaf(a[i * k + p], b[p * n + j], sum);
#else
                sum += a[i * k + p] * b[p * n + j];
#endif
            c[i * n + j] = sum;
        }
}

/// The j in [0, n) with x[j] >= threshold, in order; returns how many. AVX2: the comparison
/// mask picks a row of a 256-entry table of packed lane numbers (no branch per spike), and
/// 8 indices are stored whatever the count (room for n + compaction_slack); AVX-512: the mask
/// compresses the lane numbers.
inline std::size_t indices_at_least(std::size_t n, const float* x, float threshold,
                                    std::uint32_t* out) {
    std::size_t count = 0, j = 0;
    const vec th = splat(threshold);
#if SPIKEGRAD_ISA_WIDTH == 16
    // the comparison mask compresses the lane numbers (16 indices stored whatever the count)
    __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (; j + 16 <= n; j += 16) {
        const __mmask16 bits = _mm512_cmp_ps_mask((__m512)load(x + j), (__m512)th, _CMP_GE_OQ);
        _mm512_storeu_si512(out + count, _mm512_maskz_compress_epi32(bits, index));
        count += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(bits)));
        index = _mm512_add_epi32(index, _mm512_set1_epi32(16));
    }
#elif SPIKEGRAD_ISA_WIDTH == 8
    for (; j + 8 <= n; j += 8) {
        const unsigned bits = static_cast<unsigned>(
            _mm256_movemask_ps((__m256)(load(x + j) >= th)));
        const __m256i lanes =
            _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(lane_table[bits])));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + count),
                            _mm256_add_epi32(lanes, _mm256_set1_epi32(static_cast<int>(j))));
        count += static_cast<std::size_t>(__builtin_popcount(bits));
    }
#else
    for (; j + width <= n; j += width)
        for (unsigned bits = static_cast<unsigned>(
                 _mm_movemask_ps((__m128)(load(x + j) >= th)));
             bits != 0; bits &= bits - 1)
            out[count++] = static_cast<std::uint32_t>(j + std::size_t(__builtin_ctz(bits)));
#endif
    for (; j < n; ++j)
        if (x[j] >= threshold) out[count++] = static_cast<std::uint32_t>(j);
    return count;
}

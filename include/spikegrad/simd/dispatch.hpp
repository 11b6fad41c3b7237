/// \file
/// spikegrad: run-time choice of the instruction set for the few hot float kernels (row sums,
/// the matrix product, spike compaction), so that a default build (no -march: SSE2 on x86-64)
/// runs them with AVX-512 or AVX2 + FMA where the CPU has it. The choice is made once, by CPU
/// detection (__builtin_cpu_supports); SPIKEGRAD_ISA=sse2 or =avx2 in the environment caps it
/// there (tests, comparisons; an unknown value is reported on stderr and ignored). A fixed instruction set gives
/// bit-identical results; the sets differ in the last bits (fused multiply-add or not, and the
/// order of the matrix product's partial sums).
#pragma once

#include "../config.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// GCC on x86-64 only (`#pragma GCC target` regions and __builtin_cpu_supports); builds for
// AVX-512 machines (-march=native there) keep the compile-time xsimd kernels of kernels.hpp,
// which use the 16-float vectors. Define SPIKEGRAD_NO_DISPATCH to turn dispatch off.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX512F__) && \
    !defined(SPIKEGRAD_NO_DISPATCH)
#define SPIKEGRAD_DISPATCH 1
#include <immintrin.h>
#else
#define SPIKEGRAD_DISPATCH 0
#endif

namespace spikegrad::simd {

/// The instruction sets the dispatched kernels come in.
enum class isa { sse2, avx2, avx512 };

inline const char* isa_name(isa i) {
    return i == isa::avx512 ? "avx512f" : i == isa::avx2 ? "avx2+fma" : "sse2";
}

}  // namespace spikegrad::simd

#if SPIKEGRAD_DISPATCH
namespace spikegrad::simd::detail {

/// lane_table[m]: the numbers of the set bits of m, one byte each, lowest first.
inline constexpr std::array<std::uint64_t, 256> lane_table = [] {
    std::array<std::uint64_t, 256> table{};
    for (unsigned m = 0; m < 256; ++m) {
        std::uint64_t packed = 0;
        unsigned slot = 0;
        for (unsigned lane = 0; lane < 8; ++lane)
            if (m & (1u << lane)) packed |= std::uint64_t(lane) << (8 * slot++);
        table[m] = packed;
    }
    return table;
}();

namespace sse2 {
#define SPIKEGRAD_ISA_WIDTH 4
#define SPIKEGRAD_ISA_FMA 0
#include "isa_kernels.hpp"
#undef SPIKEGRAD_ISA_WIDTH
#undef SPIKEGRAD_ISA_FMA
}  // namespace sse2

namespace avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SPIKEGRAD_ISA_WIDTH 8
#define SPIKEGRAD_ISA_FMA 1
#include "isa_kernels.hpp"
#undef SPIKEGRAD_ISA_WIDTH
#undef SPIKEGRAD_ISA_FMA
#pragma GCC pop_options
}  // namespace avx2

namespace avx512 {
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#define SPIKEGRAD_ISA_WIDTH 16
#define SPIKEGRAD_ISA_FMA 1
#include "isa_kernels.hpp"
#undef SPIKEGRAD_ISA_WIDTH
#undef SPIKEGRAD_ISA_FMA
#pragma GCC pop_options
}  // namespace avx512

/// The float kernels of one instruction set, chosen once at run time.
struct kernel_table {
    isa set;
    void (*gather_rows)(std::size_t, const float*, const std::uint32_t*, const float*,
                        std::size_t, const float*, float*);
    void (*matmul_rows)(std::size_t, std::size_t, std::size_t, std::size_t, const float*,
                        const float*, float*);
    std::size_t (*indices_at_least)(std::size_t, const float*, float, std::uint32_t*);
};

inline constexpr kernel_table sse2_kernels{isa::sse2, sse2::gather_rows, sse2::matmul_rows,
                                           sse2::indices_at_least};
inline constexpr kernel_table avx2_kernels{isa::avx2, avx2::gather_rows, avx2::matmul_rows,
                                           avx2::indices_at_least};
inline constexpr kernel_table avx512_kernels{isa::avx512, avx512::gather_rows,
                                             avx512::matmul_rows, avx512::indices_at_least};

/// Whether this CPU runs the kernels of set i.
inline bool cpu_has(isa i) {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (i == isa::avx512) return avx2 && __builtin_cpu_supports("avx512f");
    return i == isa::avx2 ? avx2 : true;
}

/// The highest set SPIKEGRAD_ISA allows: "sse2", "avx2" or "avx512"; unset or empty allows
/// all; anything else allows all too and sets `recognised` to false.
inline isa isa_cap(const char* value, bool& recognised) {
    recognised = true;
    if (!value || !*value || std::strcmp(value, "avx512") == 0) return isa::avx512;
    if (std::strcmp(value, "avx2") == 0) return isa::avx2;
    if (std::strcmp(value, "sse2") == 0) return isa::sse2;
    recognised = false;
    return isa::avx512;
}

/// The best set this CPU has within the cap.
inline const kernel_table& kernels_for(isa cap) {
    if (cap == isa::avx512 && cpu_has(isa::avx512)) return avx512_kernels;
    if (cap != isa::sse2 && cpu_has(isa::avx2)) return avx2_kernels;
    return sse2_kernels;
}

inline const kernel_table& choose_kernels() {
    const char* forced = std::getenv("SPIKEGRAD_ISA");
    bool recognised = true;
    const isa cap = isa_cap(forced, recognised);
    const kernel_table& chosen = kernels_for(cap);
    if (!recognised)
        std::fprintf(stderr,
                     "spikegrad: SPIKEGRAD_ISA=%s is not one of sse2, avx2, avx512; using %s\n",
                     forced, isa_name(chosen.set));
    return chosen;
}

/// The kernels for this CPU, chosen on first use.
inline const kernel_table& kernels() {
    static const kernel_table& chosen = choose_kernels();
    return chosen;
}

}  // namespace spikegrad::simd::detail
#endif

namespace spikegrad::simd {

/// The instruction set the float row kernels, matmul and compaction run with (chosen once).
inline const char* active_isa() {
#if SPIKEGRAD_DISPATCH
    return isa_name(detail::kernels().set);
#elif defined(__AVX512F__)
    return "avx512 (compile time)";
#elif defined(__AVX2__)
    return "avx2 (compile time)";
#else
    return "compile time (xsimd default)";
#endif
}

}  // namespace spikegrad::simd

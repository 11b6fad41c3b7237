/// \file
/// spikegrad: version, feature macros and the one place that decides how errors are raised.
/// SPIKEGRAD_NO_EXCEPTIONS (firmware builds) turns every raise() into std::abort();
/// SPIKEGRAD_USE_OPENMP is set by the CMake target when OpenMP is found.
#pragma once

// The one place the version is written: CMakeLists.txt reads these three lines (keep their form,
// "#define SPIKEGRAD_VERSION_<PART> <number>") for project(VERSION) and the package version file.
#define SPIKEGRAD_VERSION_MAJOR 0
#define SPIKEGRAD_VERSION_MINOR 1
#define SPIKEGRAD_VERSION_PATCH 0

#define SPIKEGRAD_DETAIL_STRINGIFY_(x) #x
#define SPIKEGRAD_DETAIL_STRINGIFY(x) SPIKEGRAD_DETAIL_STRINGIFY_(x)
/// "MAJOR.MINOR.PATCH", built from the three numbers above.
#define SPIKEGRAD_VERSION_STRING                                                               \
    SPIKEGRAD_DETAIL_STRINGIFY(SPIKEGRAD_VERSION_MAJOR)                                        \
    "." SPIKEGRAD_DETAIL_STRINGIFY(SPIKEGRAD_VERSION_MINOR)                                    \
    "." SPIKEGRAD_DETAIL_STRINGIFY(SPIKEGRAD_VERSION_PATCH)

#if defined(SPIKEGRAD_USE_OPENMP) && defined(_OPENMP)
#define SPIKEGRAD_HAS_OPENMP 1
#include <omp.h>
#else
#define SPIKEGRAD_HAS_OPENMP 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SPIKEGRAD_RESTRICT __restrict__
#define SPIKEGRAD_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SPIKEGRAD_RESTRICT
#define SPIKEGRAD_ALWAYS_INLINE inline
#endif

namespace spikegrad {

/// Threads the engine uses for a batch (1 without OpenMP).
inline int max_threads() noexcept {
#if SPIKEGRAD_HAS_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

}  // namespace spikegrad

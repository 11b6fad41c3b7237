// The SIMD kernels against plain loops, for sizes that exercise full batches and tails.
#include <spikegrad/simd/kernels.hpp>
#include <spikegrad/core/random.hpp>

#include <doctest/doctest.h>

#include <vector>

using namespace spikegrad;

TEST_CASE_TEMPLATE("matmul equals the triple loop for every size mix", S, float, double) {
    rng random(3);
    for (std::size_t m : {1, 3, 4, 7, 100})
        for (std::size_t k : {1, 5, 20})
            for (std::size_t n : {1, 3, 16, 33, 128}) {
                std::vector<S> a(m * k), b(k * n), c(m * n), reference(m * n, S(0));
                for (auto& x : a) x = S(random.uniform(-1, 1));
                for (auto& x : b) x = S(random.uniform(-1, 1));
                simd::matmul(m, k, n, a.data(), b.data(), c.data());
                for (std::size_t i = 0; i < m; ++i)
                    for (std::size_t p = 0; p < k; ++p)
                        for (std::size_t j = 0; j < n; ++j) reference[i * n + j] += a[i * k + p] * b[p * n + j];
                for (std::size_t q = 0; q < m * n; ++q)
                    CHECK(c[q] == doctest::Approx(reference[q]).epsilon(1e-5));
            }
}

TEST_CASE_TEMPLATE("axpy, add_row and transpose equal their loops", S, float, double) {
    rng random(4);
    for (std::size_t n : {1, 5, 16, 37}) {
        std::vector<S> x(n), y(n), z(n);
        for (auto& v : x) v = S(random.uniform(-1, 1));
        for (auto& v : y) v = S(random.uniform(-1, 1));
        z = y;
        simd::axpy(n, S(0.5), x.data(), z.data());
        for (std::size_t k = 0; k < n; ++k) CHECK(z[k] == doctest::Approx(y[k] + S(0.5) * x[k]));
        z = y;
        simd::add_row(n, x.data(), z.data());
        for (std::size_t k = 0; k < n; ++k) CHECK(z[k] == doctest::Approx(y[k] + x[k]));
    }
    std::vector<S> m(7 * 45), t(45 * 7);
    for (auto& v : m) v = S(random.uniform(-1, 1));
    simd::transpose(7, 45, m.data(), t.data());
    for (std::size_t r = 0; r < 7; ++r)
        for (std::size_t c = 0; c < 45; ++c) CHECK(t[c * 7 + r] == m[r * 45 + c]);
}

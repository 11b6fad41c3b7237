// The SIMD kernels against plain loops, for sizes that exercise full batches and tails.
#include <spikegrad/simd/kernels.hpp>
#include <spikegrad/core/random.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
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

TEST_CASE_TEMPLATE("gather_rows sums the indexed rows onto init in event order", S, float, double) {
    rng random(5);
    for (std::size_t n : {1, 3, 16, 20, 37, 128, 300}) {
        const std::size_t rows = 9;
        std::vector<S> table(rows * n), init(n), out(n);
        for (auto& v : table) v = S(random.uniform(-1, 1));
        for (auto& v : init) v = S(random.uniform(-1, 1));
        const std::vector<std::uint32_t> index = {4, 0, 8, 4, 2};  // repeats are allowed
        const std::vector<float> weight = {0.5f, -2.f, 1.f, 0.25f, 3.f};
        for (const bool weighted : {false, true})
            for (const bool with_init : {false, true}) {
                simd::gather_rows(n, table.data(), index.data(), index.size(),
                                  with_init ? init.data() : nullptr, out.data(),
                                  weighted ? weight.data() : nullptr);
                for (std::size_t j = 0; j < n; ++j) {
                    S expected = with_init ? init[j] : S(0);
                    for (std::size_t k = 0; k < index.size(); ++k)
                        expected += (weighted ? S(weight[k]) : S(1)) * table[index[k] * n + j];
                    CHECK(out[j] == doctest::Approx(expected).epsilon(1e-6));
                }
            }
        // init == out accumulates in place.
        out = init;
        simd::gather_rows(n, table.data(), index.data(), index.size(), out.data(), out.data());
        for (std::size_t j = 0; j < n; ++j) {
            S expected = init[j];
            for (auto i : index) expected += table[i * n + j];
            CHECK(out[j] == doctest::Approx(expected).epsilon(1e-6));
        }
    }
}

TEST_CASE_TEMPLATE("scatter_rows adds x to every indexed row, repeated rows included", S, float, double) {
    rng random(6);
    for (std::size_t n : {1, 5, 16, 20, 37, 128, 300}) {
        const std::size_t rows = 7;
        std::vector<S> x(n), table(rows * n);
        for (auto& v : x) v = S(random.uniform(-1, 1));
        for (auto& v : table) v = S(random.uniform(-1, 1));
        const std::vector<std::uint32_t> index = {3, 6, 3, 0};
        const std::vector<double> weight = {2.0, -1.0, 0.5, 1.5};
        for (const bool weighted : {false, true}) {
            auto result = table;
            simd::scatter_rows(n, x.data(), index.data(), index.size(), result.data(),
                               weighted ? weight.data() : nullptr);
            auto expected = table;
            for (std::size_t k = 0; k < index.size(); ++k)
                for (std::size_t j = 0; j < n; ++j)
                    expected[index[k] * n + j] += (weighted ? S(weight[k]) : S(1)) * x[j];
            for (std::size_t q = 0; q < rows * n; ++q)
                CHECK(result[q] == doctest::Approx(expected[q]).epsilon(1e-6));
        }
    }
}

TEST_CASE_TEMPLATE("indices_at_least lists the elements at or above the threshold in order", S,
                   float, double) {
    rng random(7);
    for (std::size_t n : {1, 7, 16, 20, 33, 128, 129}) {
        for (const double rate : {0.0, 0.05, 0.5, 1.0}) {
            std::vector<S> x(n);
            for (auto& v : x) v = random.uniform() < rate ? S(1 + random.uniform()) : S(random.uniform());
            if (n > 3) x[3] = S(1);  // exactly at the threshold counts
            std::vector<std::uint32_t> out(n + simd::compaction_slack, 777), expected;
            for (std::size_t j = 0; j < n; ++j)
                if (x[j] >= S(1)) expected.push_back(static_cast<std::uint32_t>(j));
            const std::size_t count = simd::indices_at_least(n, x.data(), S(1), out.data());
            REQUIRE(count == expected.size());
            CHECK(std::equal(expected.begin(), expected.end(), out.begin()));
        }
    }
}

TEST_CASE_TEMPLATE("matmul gives zero rows for all-zero leading and trailing rows of A", S, float,
                   double) {
    rng random(8);
    const std::size_t m = 12, k = 9, n = 40;
    std::vector<S> a(m * k, S(0)), b(k * n), c(m * n, S(5));
    for (auto& x : b) x = S(random.uniform(-1, 1));
    for (std::size_t i = 3; i < 7; ++i)
        if (i != 5)  // an all-zero row in the middle goes through the product
            for (std::size_t p = 0; p < k; ++p) a[i * k + p] = S(random.uniform(-1, 1));
    simd::matmul(m, k, n, a.data(), b.data(), c.data());
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            S expected = 0;
            for (std::size_t p = 0; p < k; ++p) expected += a[i * k + p] * b[p * n + j];
            CHECK(c[i * n + j] == doctest::Approx(expected).epsilon(1e-6));
        }
    std::fill(a.begin(), a.end(), S(0));
    simd::matmul(m, k, n, a.data(), b.data(), c.data());
    CHECK(std::all_of(c.begin(), c.end(), [](S x) { return x == S(0); }));
}

TEST_CASE_TEMPLATE("bitmask and gather_clamped agree with lane-by-lane loops", S, float, double) {
    using B = xsimd::batch<S>;
    alignas(64) S lanes[B::size];
    for (std::size_t i = 0; i < B::size; ++i) lanes[i] = S(i % 3 == 0 ? 1 : -1);
    const std::uint64_t bits = simd::bitmask(B::load_aligned(lanes) > B(S(0)));
    for (std::size_t i = 0; i < B::size; ++i) CHECK(((bits >> i) & 1) == (i % 3 == 0 ? 1u : 0u));
    CHECK(simd::bitmask(true) == 1);
    std::vector<S> base(50);
    for (std::size_t i = 0; i < base.size(); ++i) base[i] = S(i);
    std::vector<std::int32_t> offset(B::size);
    for (std::size_t i = 0; i < B::size; ++i) offset[i] = static_cast<std::int32_t>(7 * i);
    B got = simd::gather_clamped<B>(base.data(), offset.data(), 3, 49);
    got.store_aligned(lanes);
    for (std::size_t i = 0; i < B::size; ++i)
        CHECK(lanes[i] == S(std::min<std::int32_t>(offset[i] + 3, 49)));
}

TEST_CASE_TEMPLATE("gather_clamped clamps offsets up to INT32_MAX without overflowing", S, float,
                   double) {
    // base[min(offset + shift, last)] taken in exact (64-bit) arithmetic: an offset of
    // INT32_MAX (a delay that is not a number) must land on `last`, not wrap negative.
    using B = xsimd::batch<S>;
    std::vector<S> base(64);
    for (std::size_t i = 0; i < base.size(); ++i) base[i] = S(i);
    std::vector<std::int32_t> offset(B::size);
    for (std::size_t i = 0; i < B::size; ++i)
        offset[i] = i % 2 ? std::numeric_limits<std::int32_t>::max() : static_cast<std::int32_t>(i);
    for (const std::int32_t shift : {0, 5, 40, 63, 64}) {
        CAPTURE(shift);
        alignas(64) S lanes[B::size];
        simd::gather_clamped<B>(base.data(), offset.data(), shift, 63).store_aligned(lanes);
        for (std::size_t i = 0; i < B::size; ++i)
            CHECK(lanes[i] == S(std::min<std::int64_t>(std::int64_t(offset[i]) + shift, 63)));
        CHECK(simd::gather_clamped<S>(base.data(), offset.data() + 1, shift, 63) == S(63));
    }
}

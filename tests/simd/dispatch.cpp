// The run-time dispatched kernels: each instruction set's variant against plain loops, the
// variants against each other, and the same input giving the same bits twice.
#include <spikegrad/simd/kernels.hpp>
#include <spikegrad/core/random.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace spikegrad;

TEST_CASE("the dispatched kernels name the instruction set they chose") {
    const std::string name = simd::active_isa();
    CHECK(!name.empty());
#if SPIKEGRAD_DISPATCH
    using simd::isa;
    const char* forced = std::getenv("SPIKEGRAD_ISA");
    const std::string force = forced ? forced : "";
    if (force == "sse2")
        CHECK(name == "sse2");
    else if (force != "avx2" && simd::detail::cpu_has(isa::avx512))
        CHECK(name == "avx512f");
    else if (simd::detail::cpu_has(isa::avx2))
        CHECK(name == "avx2+fma");
    else
        CHECK(name == "sse2");
#endif
}

#if SPIKEGRAD_DISPATCH
TEST_CASE("SPIKEGRAD_ISA caps the instruction set, and an unknown value is flagged") {
    using simd::isa;
    bool recognised = false;
    CHECK(simd::detail::isa_cap(nullptr, recognised) == isa::avx512);
    CHECK(recognised);
    CHECK(simd::detail::isa_cap("", recognised) == isa::avx512);
    CHECK(simd::detail::isa_cap("sse2", recognised) == isa::sse2);
    CHECK(recognised);
    CHECK(simd::detail::isa_cap("avx2", recognised) == isa::avx2);
    CHECK(simd::detail::isa_cap("avx512", recognised) == isa::avx512);
    CHECK(recognised);
    CHECK(simd::detail::isa_cap("avx", recognised) == isa::avx512);
    CHECK_FALSE(recognised);
    // the cap is never exceeded, and what is chosen is what the CPU runs
    CHECK(simd::detail::kernels_for(isa::sse2).set == isa::sse2);
    const auto capped = simd::detail::kernels_for(isa::avx2).set;
    CHECK(capped != isa::avx512);
    CHECK(simd::detail::cpu_has(capped));
    CHECK(simd::detail::cpu_has(simd::detail::kernels_for(isa::avx512).set));
}

namespace {

std::vector<const simd::detail::kernel_table*> available() {
    using simd::isa;
    std::vector<const simd::detail::kernel_table*> out{&simd::detail::sse2_kernels};
    if (simd::detail::cpu_has(isa::avx2)) out.push_back(&simd::detail::avx2_kernels);
    if (simd::detail::cpu_has(isa::avx512)) out.push_back(&simd::detail::avx512_kernels);
    return out;
}

}  // namespace

TEST_CASE("every instruction set's matmul equals the triple loop and repeats bit for bit") {
    rng random(11);
    for (const auto* table : available())
        for (std::size_t m : {1, 5, 6, 7, 8, 13, 17, 100})
            for (std::size_t k : {1, 20, 128})
                for (std::size_t n : {1, 7, 8, 16, 20, 33, 48, 128}) {
                    CAPTURE(simd::isa_name(table->set));
                    std::vector<float> a(m * k), b(k * n), c(m * n), again(m * n);
                    for (auto& x : a) x = float(random.uniform(-1, 1));
                    for (auto& x : b) x = float(random.uniform(-1, 1));
                    table->matmul_rows(0, m, k, n, a.data(), b.data(), c.data());
                    table->matmul_rows(0, m, k, n, a.data(), b.data(), again.data());
                    CHECK(std::memcmp(c.data(), again.data(), c.size() * sizeof(float)) == 0);
                    for (std::size_t i = 0; i < m; ++i)
                        for (std::size_t j = 0; j < n; ++j) {
                            double sum = 0;
                            for (std::size_t p = 0; p < k; ++p)
                                sum += double(a[i * k + p]) * double(b[p * n + j]);
                            CHECK(c[i * n + j] == doctest::Approx(sum).epsilon(1e-4));
                        }
                }
}

TEST_CASE("every instruction set's gather_rows and compaction equal their loops") {
    rng random(12);
    for (const auto* table : available())
        for (std::size_t n : {1, 3, 8, 16, 20, 37, 64, 128, 130, 255}) {
            CAPTURE(simd::isa_name(table->set));
            CAPTURE(n);
            const std::size_t rows = 9;
            std::vector<float> matrix(rows * n), init(n), out(n), values(6);
            for (auto& x : matrix) x = float(random.uniform(-1, 1));
            for (auto& x : init) x = float(random.uniform(-1, 1));
            for (auto& x : values) x = float(random.uniform(-1, 1));
            const std::vector<std::uint32_t> index{3, 0, 8, 3, 5, 1};
            for (const bool weighted : {false, true}) {
                table->gather_rows(n, matrix.data(), index.data(), weighted ? values.data() : nullptr,
                                   index.size(), init.data(), out.data());
                for (std::size_t j = 0; j < n; ++j) {
                    double sum = init[j];
                    for (std::size_t k = 0; k < index.size(); ++k)
                        sum += (weighted ? values[k] : 1.0) * matrix[index[k] * n + j];
                    CHECK(out[j] == doctest::Approx(sum).epsilon(1e-5));
                }
            }
            std::vector<float> x(n);
            for (auto& v : x) v = float(random.uniform(-1, 1));
            std::vector<std::uint32_t> found(n + simd::compaction_slack), expected;
            for (std::size_t j = 0; j < n; ++j)
                if (x[j] >= 0.25f) expected.push_back(std::uint32_t(j));
            const std::size_t count = table->indices_at_least(n, x.data(), 0.25f, found.data());
            REQUIRE(count == expected.size());
            for (std::size_t k = 0; k < count; ++k) CHECK(found[k] == expected[k]);
        }
}
#endif

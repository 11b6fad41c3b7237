// Surrogates against their closed forms (written out here, independently), scalar against
// SIMD lanes, the areas they enclose, and the run-time parser.
#include <spikegrad/spikegrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

using namespace spikegrad;

namespace {

const double xs[] = {-3.0, -0.7, -0.1, -0.01, 0.0, 0.004, 0.05, 0.3, 1.0, 2.5};

template <class Surrogate, class Closed>
void check_closed_form(const Surrogate& sg, Closed closed) {
    for (double x : xs) {
        CAPTURE(x);
        CHECK(sg.grad(x) == doctest::Approx(closed(x)).epsilon(1e-14));
        CHECK(sg.grad(float(x)) == doctest::Approx(closed(x)).epsilon(1e-6));
        CHECK(sg.spike(x) == (x >= 0 ? 1.0 : 0.0));
    }
}

/// Every lane of the SIMD version equals the scalar version.
template <class Surrogate>
void check_lanes(const Surrogate& sg) {
    using B = xsimd::batch<float>;
    alignas(64) float in[B::size], out[B::size];
    for (std::size_t k = 0; k < B::size; ++k) in[k] = -1.5f + 0.37f * float(k);
    sg.grad(B::load_aligned(in)).store_aligned(out);
    for (std::size_t k = 0; k < B::size; ++k)
        CHECK(out[k] == doctest::Approx(sg.grad(in[k])).epsilon(1e-6));
}

/// Trapezoid integral of grad over [-L, L].
template <class Surrogate>
double area(const Surrogate& sg, double L, std::size_t n = 400000) {
    double sum = 0, h = 2 * L / double(n);
    for (std::size_t k = 0; k <= n; ++k) {
        const double w = (k == 0 || k == n) ? 0.5 : 1.0;
        sum += w * sg.grad(-L + h * double(k));
    }
    return sum * h;
}

}  // namespace

TEST_CASE("fast sigmoid is 1 / (alpha |x| + 1)^2 with alpha = 100 (the paper's eq. 1)") {
    check_closed_form(fast_sigmoid{}, [](double x) { return 1 / std::pow(100 * std::abs(x) + 1, 2); });
    check_closed_form(fast_sigmoid{.alpha = 5}, [](double x) { return 1 / std::pow(5 * std::abs(x) + 1, 2); });
    check_lanes(fast_sigmoid{});
    // Its area is 2 / alpha.
    CHECK(area(fast_sigmoid{.alpha = 10}, 2000) == doctest::Approx(0.2).epsilon(1e-3));
}

TEST_CASE("SLAYER's exponential is scale_rho / (tau_rho theta) exp(-|x| / (tau_rho theta))") {
    // SHD constants: theta 10, tau_rho 0.1, scale_rho 0.1 give 0.1 exp(-|x|).
    check_closed_form(slayer_exponential{}, [](double x) { return 0.1 * std::exp(-std::abs(x)); });
    check_lanes(slayer_exponential{});
    CHECK(area(slayer_exponential{}, 60) == doctest::Approx(0.2).epsilon(1e-4));
}

TEST_CASE("arctan is (alpha/2) / (1 + (pi alpha x / 2)^2) and has unit area") {
    check_closed_form(arctan{}, [](double x) {
        return 1.0 / (1 + std::pow(std::numbers::pi * x, 2));
    });
    check_lanes(arctan{});
    CHECK(area(arctan{}, 5000) == doctest::Approx(1.0).epsilon(1e-3));
}

TEST_CASE("sigmoid is the logistic derivative with slope 25 and has unit area") {
    check_closed_form(sigmoid{}, [](double x) {
        const double s = 1 / (1 + std::exp(-25 * x));
        return 25 * s * (1 - s);
    });
    check_lanes(sigmoid{});
    CHECK(area(sigmoid{}, 5) == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("triangle is gamma max(0, 1 - |x| / width), zero outside its support") {
    check_closed_form(triangle{}, [](double x) { return 0.3 * std::max(0.0, 1 - std::abs(x)); });
    check_lanes(triangle{});
    CHECK(triangle{}.grad(1.0001) == 0.0);
    CHECK(area(triangle{}, 2) == doctest::Approx(0.3).epsilon(1e-6));
}

TEST_CASE("boxcar is 1 / width inside |x| < width / 2 and has unit area") {
    check_closed_form(boxcar{}, [](double x) { return std::abs(x) < 0.5 ? 1.0 : 0.0; });
    check_lanes(boxcar{});
    CHECK(area(boxcar{.width = 0.4}, 1) == doctest::Approx(1.0).epsilon(1e-4));
}

TEST_CASE("straight-through passes the gradient unchanged") {
    check_closed_form(straight_through{}, [](double) { return 1.0; });
}

TEST_CASE("parse_surrogate reads name:param and rejects unknown names and bad parameters") {
    const auto s = parse_surrogate("fast_sigmoid:25");
    CHECK(s.grad(0.1) == doctest::Approx(1 / std::pow(25 * 0.1 + 1, 2)));
    CHECK(parse_surrogate("arctan").grad(0.2) == doctest::Approx(arctan{}.grad(0.2)));
    CHECK(parse_surrogate("boxcar:2").grad(0.9) == doctest::Approx(0.5));
    CHECK(parse_surrogate("slayer").grad(0.5) == doctest::Approx(slayer_exponential{}.grad(0.5)));
    CHECK_THROWS_WITH_AS(parse_surrogate("superspike"), doctest::Contains("unknown"), option_error);
    CHECK_THROWS_AS(parse_surrogate("sigmoid:abc"), option_error);
    CHECK_THROWS_AS(parse_surrogate("sigmoid:-1"), option_error);
}

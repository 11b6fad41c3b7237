/// \file
/// spikegrad: a surrogate chosen at run time (tools, sweeps over surrogates): one of the
/// built-in families with its parameter, parsed from "name[:param]" (e.g. "fast_sigmoid:100").
#pragma once

#include "../core/error.hpp"
#include "arctan.hpp"
#include "boxcar.hpp"
#include "fast_sigmoid.hpp"
#include "sigmoid.hpp"
#include "slayer_exponential.hpp"
#include "straight_through.hpp"
#include "triangle.hpp"

#include <cstdlib>
#include <string>

namespace spikegrad {

/// Surrogate policy chosen at run time: one of the surrogate families with its constant.
struct any_surrogate {
    enum class family { fast_sigmoid, slayer_exponential, arctan, sigmoid, triangle, boxcar,
                        straight_through };
    family kind = family::fast_sigmoid;
    spikegrad::fast_sigmoid fast{};
    spikegrad::slayer_exponential slayer{};
    spikegrad::arctan atan{};
    spikegrad::sigmoid logistic{};
    spikegrad::triangle tri{};
    spikegrad::boxcar box{};

    static constexpr bool binary = true;
    static constexpr const char* name = "any_surrogate";

    template <class V>
    V spike(const V& x) const {
        return heaviside(x);
    }
    template <class V>
    V grad(const V& x) const {
        switch (kind) {
            case family::fast_sigmoid: return fast.grad(x);
            case family::slayer_exponential: return slayer.grad(x);
            case family::arctan: return atan.grad(x);
            case family::sigmoid: return logistic.grad(x);
            case family::triangle: return tri.grad(x);
            case family::boxcar: return box.grad(x);
            case family::straight_through: return straight_through{}.grad(x);
        }
        return x;
    }
    double support() const {
        switch (kind) {
            case family::triangle: return tri.support();
            case family::boxcar: return box.support();
            default: return fast.support();
        }
    }
};

/// Parses "fast_sigmoid[:alpha]", "slayer_exponential[:scale_rho]", "arctan[:alpha]",
/// "sigmoid[:slope]", "triangle[:gamma]", "boxcar[:width]", "straight_through".
inline any_surrogate parse_surrogate(const std::string& text) {
    const auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    double param = 0;
    const bool has_param = colon != std::string::npos;
    if (has_param) {
        const std::string value = text.substr(colon + 1);
        char* end = nullptr;
        param = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !(param > 0))
            raise<option_error>("surrogate '", text, "': parameter '", value,
                                "' is not a positive number");
    }
    any_surrogate s;
    using f = any_surrogate::family;
    if (name == "fast_sigmoid") {
        s.kind = f::fast_sigmoid;
        if (has_param) s.fast.alpha = param;
    } else if (name == "slayer_exponential" || name == "slayer") {
        s.kind = f::slayer_exponential;
        if (has_param) s.slayer.scale_rho = param;
    } else if (name == "arctan" || name == "atan") {
        s.kind = f::arctan;
        if (has_param) s.atan.alpha = param;
    } else if (name == "sigmoid") {
        s.kind = f::sigmoid;
        if (has_param) s.logistic.slope = param;
    } else if (name == "triangle") {
        s.kind = f::triangle;
        if (has_param) s.tri.gamma = param;
    } else if (name == "boxcar") {
        s.kind = f::boxcar;
        if (has_param) s.box.width = param;
    } else if (name == "straight_through") {
        s.kind = f::straight_through;
    } else {
        raise<option_error>("surrogate '", name,
                            "' is unknown (fast_sigmoid, slayer_exponential, arctan, sigmoid, "
                            "triangle, boxcar, straight_through)");
    }
    return s;
}

}  // namespace spikegrad

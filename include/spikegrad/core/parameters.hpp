/// \file
/// spikegrad: the parameter store. Every trainable tensor of a network (weights, biases, time
/// constants, delays) lives in one flat array; layers keep offsets, never pointers, so a copy
/// of a network is a real copy, gradients and optimiser state share the same layout, and a
/// checkpoint is the flat array plus this table of names, shapes and bounds.
#pragma once

#include "error.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace spikegrad {

/// What a parameter is; optimiser groups select parameters by kind.
enum class parameter_kind { weight, bias, time_constant, delay, threshold };

inline const char* to_string(parameter_kind kind) {
    switch (kind) {
        case parameter_kind::weight: return "weight";
        case parameter_kind::bias: return "bias";
        case parameter_kind::time_constant: return "time_constant";
        case parameter_kind::delay: return "delay";
        case parameter_kind::threshold: return "threshold";
    }
    return "?";
}

/// One entry of the parameter table: name, kind, place in the flat array, shape and clamp bounds.
struct parameter_info {
    std::string name;  // "layer0.weight"
    parameter_kind kind = parameter_kind::weight;
    std::size_t offset = 0;
    std::size_t size = 0;
    std::vector<std::size_t> shape;
    /// After every optimiser step the values are clamped into [lower, upper].
    double lower = -std::numeric_limits<double>::infinity();
    double upper = std::numeric_limits<double>::infinity();
};

/// Every trainable tensor of a network in one flat array, with its table of names, shapes and
/// bounds.
template <class Scalar>
class parameter_store {
public:
    /// Registers a parameter of this shape (zero-filled) and returns its index.
    std::size_t add(std::string name, parameter_kind kind, std::vector<std::size_t> shape,
                    double lower = -std::numeric_limits<double>::infinity(),
                    double upper = std::numeric_limits<double>::infinity()) {
        parameter_info info;
        info.name = std::move(name);
        info.kind = kind;
        info.offset = values_.size();
        info.size = 1;
        for (auto extent : shape) info.size *= extent;
        info.shape = std::move(shape);
        info.lower = lower;
        info.upper = upper;
        values_.resize(values_.size() + info.size, Scalar(0));
        infos_.push_back(std::move(info));
        return infos_.size() - 1;
    }

    std::size_t count() const { return infos_.size(); }
    std::size_t size() const { return values_.size(); }
    const std::vector<parameter_info>& infos() const { return infos_; }
    const parameter_info& info(std::size_t index) const { return infos_.at(index); }

    std::span<Scalar> values(std::size_t index) {
        const auto& i = infos_.at(index);
        return {values_.data() + i.offset, i.size};
    }
    std::span<const Scalar> values(std::size_t index) const {
        const auto& i = infos_.at(index);
        return {values_.data() + i.offset, i.size};
    }

    /// Index of the parameter called `name`; shape_error when there is none.
    std::size_t find(const std::string& name) const {
        for (std::size_t k = 0; k < infos_.size(); ++k)
            if (infos_[k].name == name) return k;
        raise<shape_error>("parameters: no parameter named '", name, "'");
    }

    /// Changes the clamp range of a parameter (adaptive delay caps).
    void set_bounds(std::size_t index, double lower, double upper) {
        infos_.at(index).lower = lower;
        infos_.at(index).upper = upper;
    }

    std::vector<Scalar>& flat() { return values_; }
    const std::vector<Scalar>& flat() const { return values_; }

    /// Clamps every parameter into its [lower, upper] bounds.
    void project() {
        for (const auto& i : infos_) {
            if (std::isinf(i.lower) && std::isinf(i.upper)) continue;
            for (std::size_t k = i.offset; k < i.offset + i.size; ++k)
                values_[k] = static_cast<Scalar>(
                    std::clamp(static_cast<double>(values_[k]), i.lower, i.upper));
        }
    }

    /// numeric_error naming the first parameter element that is NaN or infinite.
    void check_finite(const std::string& context) const {
        for (const auto& i : infos_)
            for (std::size_t k = 0; k < i.size; ++k)
                if (!std::isfinite(values_[i.offset + k]))
                    raise<numeric_error>(context, ": parameter ", i.name, "[", k, "] is ",
                                         static_cast<double>(values_[i.offset + k]));
    }

private:
    std::vector<Scalar> values_;
    std::vector<parameter_info> infos_;
};

}  // namespace spikegrad

/// \file
/// spikegrad: a network's parameters and gradients as a folder of .npy files, the exchange
/// format with NumPy and PyTorch: layer k's weight [n_in, n_out] is W<k>.npy, its bias b<k>.npy,
/// its axonal delays d<k>.npy and its time constants tau<k>.npy; gradients carry a "d" prefix
/// (dW0.npy, db0.npy, dd0.npy, dtau0.npy).
#pragma once

#include "../core/error.hpp"
#include "../core/parameters.hpp"
#include "npy.hpp"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace spikegrad::io {

/// The file stem of parameter "layer<k>.<what>" (W, b, d or tau followed by k).
inline std::string npy_stem(const std::string& parameter) {
    const auto dot = parameter.find('.');
    if (parameter.rfind("layer", 0) != 0 || dot == std::string::npos)
        raise<shape_error>("parameters_npy: unexpected parameter name '", parameter, "'");
    const std::string index = parameter.substr(5, dot - 5);
    const std::string what = parameter.substr(dot + 1);
    if (what == "weight") return "W" + index;
    if (what == "bias") return "b" + index;
    if (what == "delay") return "d" + index;
    if (what == "tau") return "tau" + index;
    return what + index;
}

namespace detail {

template <class S>
void save_flat(const std::string& folder, const std::string& prefix,
               const std::vector<parameter_info>& infos, const std::vector<S>& flat) {
    std::filesystem::create_directories(folder);
    for (const auto& info : infos) {
        std::vector<float> values(flat.begin() + static_cast<std::ptrdiff_t>(info.offset),
                                  flat.begin() + static_cast<std::ptrdiff_t>(info.offset + info.size));
        save_npy(folder + "/" + prefix + npy_stem(info.name) + ".npy", values.data(), info.shape);
    }
}

/// data_error unless value lies in the parameter's [lower, upper] (a delay of -0.5 would mark
/// its neuron as never firing, a time constant of 0 divides by zero).
inline void check_in_bounds(const std::string& source, const parameter_info& info,
                            std::size_t k, double value) {
    if (!(value >= info.lower && value <= info.upper))
        raise<data_error>(source, ": ", info.name, "[", k, "] = ", value, " is outside [",
                          info.lower, ", ", info.upper, "]");
}

}  // namespace detail

/// Writes every parameter as float32 .npy files into `folder` (created when missing).
template <class Net>
void save_parameters_npy(const Net& net, const std::string& folder) {
    detail::save_flat(folder, "", net.parameters().infos(), net.parameters().flat());
}

/// Writes the gradients of the last backward/train_step as float32 dW0.npy, db0.npy, ...
template <class Net>
void save_gradients_npy(const Net& net, const std::string& folder) {
    detail::save_flat(folder, "d", net.parameters().infos(), net.gradients());
}

/// Reads W<k>.npy, b<k>.npy, d<k>.npy and tau<k>.npy from `folder` into the network. Every
/// weight file must be present; biases, delays and time constants keep their values when their
/// file is absent (with `require_all`, a missing file is an error). Shapes must match exactly
/// (a shared tau may be given as one value), and every value must be finite and within its
/// parameter's bounds (numeric_error / data_error naming e.g. layer0.delay[3] and the value).
/// Nothing changes unless every file is valid.
template <class Net>
void load_parameters_npy(Net& net, const std::string& folder, bool require_all = false) {
    using S = typename Net::scalar_type;
    auto& store = net.parameters();
    std::vector<S> values = store.flat();
    for (const auto& info : store.infos()) {
        const std::string path = folder + "/" + npy_stem(info.name) + ".npy";
        if (!std::filesystem::exists(path)) {
            if (require_all || info.kind == parameter_kind::weight)
                raise<io_error>(path, ": missing (parameter ", info.name, ", shape ",
                                detail::shape_text(info.shape), ")");
            continue;
        }
        const npy_array array = load_npy_any(path);
        if (array.shape != info.shape && !(array.size() == info.size && array.rank() <= 1))
            raise<shape_error>(path, ": shape ", detail::shape_text(array.shape), " but ",
                               info.name, " is ", detail::shape_text(info.shape));
        const auto data = array.values<double>();
        for (std::size_t k = 0; k < info.size; ++k) {
            if (!std::isfinite(data[k]))
                raise<numeric_error>(path, ": ", info.name, "[", k, "] is ", data[k],
                                     " (not finite)");
            detail::check_in_bounds(path, info, k, data[k]);
            values[info.offset + k] = static_cast<S>(data[k]);
        }
    }
    store.flat() = std::move(values);
}

}  // namespace spikegrad::io

/// \file
/// spikegrad: the network a checkpoint describes, rebuilt from the file alone. The layer types
/// are the caller's (a compile-time choice: `Net`); the sizes come from the weight shapes, the
/// step length and every layer's neuron, surrogate, delay, bias and sparse-gradient settings
/// from the recorded settings (read_settings, network/settings.hpp), weight normalisation from
/// the presence of "<layer>.gain"; then load_checkpoint fills the parameters and checks the
/// rest. Initialisation-only options (seed, init_scale, initial delays) do not matter: every
/// parameter is overwritten.
///
///     using net_t = network<dense<lif, fast_sigmoid, axonal_delay>, dense<readout>>;
///     auto net = network_from_checkpoint<net_t>("shd_sgd_delay.ckpt");
#pragma once

#include "../core/error.hpp"
#include "../network/network.hpp"
#include "checkpoint.hpp"

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace spikegrad {

namespace detail {

/// Layer `index`'s options as the record describes them (the other fields keep their defaults).
template <class Options>
Options layer_options_from(const checkpoint_info& info, std::size_t index) {
    const std::string p = "layer" + std::to_string(index);
    const settings_record& r = info.settings;
    Options o{};
    read_settings(r, p + ".neuron", o.neuron);
    read_settings(r, p + ".surrogate", o.surrogate);
    read_settings(r, p + ".delay", o.delay);
    o.bias = recorded_flag(r, p + ".bias");
    o.sparse_gradient_threshold = recorded_number(r, p + ".sparse_gradient_threshold");
    if constexpr (requires { o.weight_norm; }) o.weight_norm = info.shape_of(p + ".gain") != nullptr;
    return o;
}

/// The layer sizes (inputs, then each layer's outputs) from the weight shapes.
inline std::vector<std::size_t> sizes_from(const checkpoint_info& info, std::size_t depth,
                                           const std::string& path) {
    std::vector<std::size_t> sizes;
    for (std::size_t k = 0; k < depth; ++k) {
        const std::string name = "layer" + std::to_string(k) + ".weight";
        const auto* shape = info.shape_of(name);
        if (!shape || shape->size() != 2)
            raise<data_error>("checkpoint ", path, ": no 2-d parameter '", name, "' for layer ",
                              k, " of ", depth, " (architecture ", info.architecture, ")");
        if (k == 0) sizes.push_back((*shape)[0]);
        if ((*shape)[0] != sizes.back())
            raise<data_error>("checkpoint ", path, ": '", name, "' has ", (*shape)[0],
                              " inputs, the layer below has ", sizes.back(), " outputs");
        sizes.push_back((*shape)[1]);
    }
    return sizes;
}

template <class Net, std::size_t... I>
Net build_from(const checkpoint_info& info, const std::vector<std::size_t>& sizes,
               network_options base, std::index_sequence<I...>) {
    using specs = typename Net::layer_specs;
    return Net(sizes, base,
               layer_options_from<typename std::tuple_element_t<I, specs>::options>(info, I)...);
}

}  // namespace detail

/// The network of type `Net` that the checkpoint at `path` was saved from, with its
/// parameters loaded. `base`: seed and threads (dt_ms is the file's). Raises io_error or
/// data_error naming the file when it is not an intact checkpoint, when its architecture is
/// not Net's, or when a recorded setting is missing or unreadable.
template <class Net>
Net network_from_checkpoint(const std::string& path, network_options base = {}) {
    const checkpoint_info info = read_checkpoint_info(path);
    // The architecture first (the sizes from the file, the policies from Net), so that a file
    // of another network is named as such rather than by its first unexpected setting.
    std::vector<std::size_t> sizes;
    try {
        sizes = detail::sizes_from(info, Net::depth, path);
    } catch (const data_error&) {
        raise<data_error>("checkpoint ", path, ": holds a ", info.architecture, ", not a network of ",
                          Net::depth, " layers (", Net::architecture_of(std::vector<std::size_t>(Net::depth + 1, 0)), ")");
    }
    if (info.architecture != Net::architecture_of(sizes))
        raise<data_error>("checkpoint ", path, ": holds a ", info.architecture, ", not a ",
                          Net::architecture_of(sizes));
    base.dt_ms = detail::recorded_number(info.settings, "dt_ms");
    Net net = detail::build_from<Net>(info, sizes, base, std::make_index_sequence<Net::depth>{});
    load_checkpoint(path, net);
    return net;
}

}  // namespace spikegrad

/// \file
/// \brief NIR (Neuromorphic Intermediate Representation, github.com/neuromorphs/NIR) in and
/// out: feed-forward graphs of Affine/Linear + LIF/CubaLIF/LI (+ Delay) become spikegrad
/// networks and back. Needs HDF5 (target spikegrad::nir); docs/nir.md states the mapping.
///
/// NIR is continuous in time (`tau dv/dt = (v_leak - v) + r I`, times in seconds) and stores
/// no step length; spikegrad is discrete (`v[t] = beta v[t-1] + I[t]`). Reading and writing
/// therefore take the step length and a discretisation (nir_discretisation): the exact one
/// for input held constant over a step (beta = exp(-dt/tau), gain 1 - beta) or forward Euler
/// (beta = 1 - dt/tau, gain dt/tau: Norse, snnTorch). The gain `g r` is folded into the
/// weights and bias of the synapse in front of the neuron, `g v_leak` into its bias.
#pragma once

#include "../core/error.hpp"
#include "../data/hdf5.hpp"
#include "../delay/axonal.hpp"
#include "../network/network.hpp"
#include "../neuron/cuba_lif.hpp"
#include "../neuron/lif.hpp"
#include "../neuron/readout.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikegrad {

/// A graph or parameter that NIR or spikegrad cannot express on the other side; node()
/// names the NIR node (reading) or the spikegrad layer ("layer1", writing) at fault.
class nir_error : public data_error {
public:
    nir_error(std::string node, const std::string& what)
        : data_error("nir: node '" + node + "': " + what), node_(std::move(node)) {}
    const std::string& node() const { return node_; }

private:
    std::string node_;
};

/// How a continuous NIR time constant tau becomes a discrete leak beta and input gain g for a
/// step dt: `v[t] = beta v[t-1] + g (v_leak + r I[t])`.
enum class nir_discretisation {
    /// Exact for input held constant over the step: beta = exp(-dt/tau), g = 1 - beta (the
    /// NIR paper's reference simulation; spikegrad's own leak).
    exact,
    /// Forward Euler: beta = 1 - dt/tau, g = dt/tau (Norse at dt = 1 ms; snnTorch's export,
    /// tau = dt / (1 - beta), at dt = 0.1 ms). Needs dt < tau.
    forward_euler,
};

/// Reading and writing options.
struct nir_options {
    /// spikegrad's step length in ms (the network's network_options::dt_ms).
    double dt_ms = 1.0;
    nir_discretisation discretisation = nir_discretisation::exact;
    /// Milliseconds per NIR time unit: NIR files use seconds (1000).
    double ms_per_unit = 1000.0;
    /// Threads of the network read (network_options::threads).
    int threads = 0;
};

/// One array of a NIR node, as doubles in row-major order.
struct nir_array {
    std::vector<std::size_t> shape;
    std::vector<double> values;
};

/// One node: its name in the graph, its `type` (class name) and its numeric datasets.
struct nir_node {
    std::string name;
    std::string type;
    std::map<std::string, nir_array> arrays;

    bool has(const std::string& key) const { return arrays.count(key) > 0; }
    /// The array `key`; nir_error naming the node when it is missing.
    const nir_array& at(const std::string& key) const {
        const auto it = arrays.find(key);
        if (it == arrays.end()) throw nir_error(name, type + " has no dataset '" + key + "'");
        return it->second;
    }
};

/// A whole NIR file: the version string, the top graph's nodes (in file order) and edges.
struct nir_graph {
    std::string version = "1.0.0";
    std::vector<nir_node> nodes;
    std::vector<std::pair<std::string, std::string>> edges;

    const nir_node* find(const std::string& name) const {
        for (const auto& n : nodes)
            if (n.name == name) return &n;
        return nullptr;
    }
};

/// What a spikegrad layer is on the NIR side.
enum class nir_neuron { lif, cuba_lif, li };

/// One layer of a feed-forward chain, with the file's parameters (NIR's units and layout):
/// synapse (Affine or Linear), neuron, optional Delay.
struct nir_layer {
    std::string synapse_node, neuron_node, delay_node;  // names in the graph ("" = none)
    nir_neuron neuron = nir_neuron::lif;
    std::size_t n_in = 0, n_out = 0;
    std::vector<double> weight;  // [n_out, n_in], NIR's layout
    std::vector<double> bias;    // n_out, empty for Linear
    // Per neuron (n_out each); tau_syn and w_in only for CubaLIF, v_threshold none for LI.
    std::vector<double> tau, tau_syn, r, v_leak, v_threshold, v_reset, w_in;
    std::vector<double> delay;  // per neuron in NIR time units; empty = no Delay node
};

/// A NIR graph checked to be a chain Input -> (synapse -> neuron [-> Delay])+ -> Output.
struct nir_chain {
    std::size_t n_inputs = 0;
    std::vector<nir_layer> layers;
};

namespace detail::nir {

namespace h5 = spikegrad::detail::h5;

[[noreturn]] inline void fail(const std::string& path, const std::string& what) {
    raise<io_error>("nir: ", path, ": ", what, " (", h5::last_error(), ")");
}

/// A string dataset (scalar or any shape; fixed or variable length) as its strings.
inline std::vector<std::string> read_strings(hid_t dataset, const std::string& where) {
    h5::handle type(H5Dget_type(dataset), H5Tclose);
    if (!type.valid() || H5Tget_class(type.get()) != H5T_STRING)
        raise<io_error>("nir: ", where, " is not a string dataset");
    const auto dims = h5::dims_of(dataset);
    std::size_t n = 1;
    for (auto d : dims) n *= static_cast<std::size_t>(d);
    std::vector<std::string> out;
    if (n == 0) return out;
    if (H5Tis_variable_str(type.get()) > 0) {
        h5::handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        std::vector<char*> pointers(n, nullptr);
        if (H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
            raise<io_error>("nir: ", where, ": cannot read the strings (", h5::last_error(), ")");
        for (char* p : pointers) out.emplace_back(p ? p : "");
        h5::handle space(H5Dget_space(dataset), H5Sclose);
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
    } else {
        const std::size_t size = H5Tget_size(type.get());
        std::vector<char> buffer(n * size + 1, '\0');
        if (H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
            raise<io_error>("nir: ", where, ": cannot read the strings (", h5::last_error(), ")");
        for (std::size_t k = 0; k < n; ++k) {
            const char* first = buffer.data() + k * size;
            out.emplace_back(first, std::find(first, first + size, '\0'));
        }
    }
    return out;
}

inline nir_array read_numbers(hid_t dataset, const std::string& where) {
    nir_array out;
    for (auto d : h5::dims_of(dataset)) out.shape.push_back(static_cast<std::size_t>(d));
    std::size_t n = 1;
    for (auto d : out.shape) n *= d;
    out.values.resize(n);
    if (n > 0 &&
        H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0)
        raise<io_error>("nir: ", where, ": cannot read it as numbers (", h5::last_error(), ")");
    return out;
}

/// The names of a group's members, in HDF5's name order.
inline std::vector<std::string> members(hid_t group, const std::string& where) {
    H5G_info_t info{};
    if (H5Gget_info(group, &info) < 0) raise<io_error>("nir: ", where, " is not a group");
    std::vector<std::string> names;
    for (hsize_t k = 0; k < info.nlinks; ++k) {
        const ssize_t size = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k,
                                                nullptr, 0, H5P_DEFAULT);
        if (size < 0) raise<io_error>("nir: ", where, ": cannot list member ", k);
        std::string name(static_cast<std::size_t>(size), '\0');
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, name.data(),
                           name.size() + 1, H5P_DEFAULT);
        names.push_back(std::move(name));
    }
    return names;
}

inline bool is_group(hid_t location, const std::string& name) {
    H5O_info_t info{};
#if H5_VERSION_GE(1, 12, 0)
    if (H5Oget_info_by_name3(location, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
#else
    if (H5Oget_info_by_name2(location, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
#endif
        return false;
    return info.type == H5O_TYPE_GROUP;
}

inline std::string read_string(hid_t location, const std::string& name, const std::string& where) {
    h5::handle dataset(H5Dopen2(location, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) raise<io_error>("nir: missing dataset ", where);
    const auto strings = read_strings(dataset.get(), where);
    if (strings.size() != 1) raise<io_error>("nir: ", where, " holds ", strings.size(), " strings, not 1");
    return strings.front();
}

inline void write_string(hid_t location, const std::string& name, const std::string& value,
                         const std::string& path) {
    h5::handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    h5::handle space(H5Screate(H5S_SCALAR), H5Sclose);
    h5::handle dataset(H5Dcreate2(location, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose);
    const char* pointer = value.c_str();
    if (!dataset.valid() ||
        H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &pointer) < 0)
        fail(path, "cannot write string dataset " + name);
}

template <class T>
void write_numbers(hid_t location, const std::string& name, const std::vector<T>& values,
                   std::vector<hsize_t> dims, hid_t file_type, hid_t memory_type,
                   const std::string& path) {
    h5::handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     H5Sclose);
    h5::handle dataset(H5Dcreate2(location, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose);
    if (!dataset.valid() || (!values.empty() && H5Dwrite(dataset.get(), memory_type, H5S_ALL,
                                                         H5S_ALL, H5P_DEFAULT, values.data()) < 0))
        fail(path, "cannot write dataset " + name);
}

/// Node types spikegrad maps onto its layers.
inline bool supported(const std::string& type) {
    static const std::set<std::string> known = {"Input", "Output", "Affine", "Linear", "LIF",
                                                "CubaLIF", "LI", "Delay"};
    return known.count(type) > 0;
}

inline std::size_t product(const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

/// A per-neuron parameter: n values, or one value broadcast; `fallback` when absent and
/// allowed (older files lack v_reset).
inline std::vector<double> per_neuron(const nir_node& node, const std::string& key, std::size_t n,
                                      const double* fallback = nullptr) {
    if (!node.has(key) && fallback) return std::vector<double>(n, *fallback);
    const auto& a = node.at(key);
    if (a.values.size() == n) return a.values;
    if (a.values.size() == 1) return std::vector<double>(n, a.values.front());
    throw nir_error(node.name, key + " has " + std::to_string(a.values.size()) +
                                   " values for " + std::to_string(n) + " neurons");
}

inline bool reachable(const nir_graph& g, const std::string& from, const std::string& to) {
    std::vector<std::string> stack{from};
    std::set<std::string> seen;
    while (!stack.empty()) {
        const std::string at = stack.back();
        stack.pop_back();
        if (at == to) return true;
        if (!seen.insert(at).second) continue;
        for (const auto& [s, t] : g.edges)
            if (s == at) stack.push_back(t);
    }
    return false;
}

/// beta and gain of one time constant (in ms) on a step of dt_ms.
inline std::pair<double, double> discretise(double tau_ms, const nir_options& o,
                                            const std::string& node, const char* what) {
    if (!(tau_ms > 0) || !std::isfinite(tau_ms))
        throw nir_error(node, std::string(what) + " " + detail::message(tau_ms) +
                                  " ms must be positive");
    if (o.discretisation == nir_discretisation::exact) {
        const double beta = std::exp(-o.dt_ms / tau_ms);
        return {beta, -std::expm1(-o.dt_ms / tau_ms)};
    }
    if (!(o.dt_ms < tau_ms))
        throw nir_error(node, std::string("forward Euler needs dt ") + detail::message(o.dt_ms) +
                                  " ms < " + what + " " + detail::message(tau_ms) + " ms");
    return {1.0 - o.dt_ms / tau_ms, o.dt_ms / tau_ms};
}

/// NIR's tau (in its units) whose discretisation has leak beta, and the matching r = 1/g.
inline std::pair<double, double> continuous(double beta, const nir_options& o) {
    const double tau_ms = o.discretisation == nir_discretisation::exact
                              ? -o.dt_ms / std::log(beta)
                              : o.dt_ms / (1.0 - beta);
    return {tau_ms / o.ms_per_unit, 1.0 / (1.0 - beta)};
}

inline void check_options(const nir_options& o, const char* what) {
    if (!(o.dt_ms > 0) || !std::isfinite(o.dt_ms))
        raise<option_error>(what, ": dt_ms ", o.dt_ms, " must be positive");
    if (!(o.ms_per_unit > 0) || !std::isfinite(o.ms_per_unit))
        raise<option_error>(what, ": ms_per_unit ", o.ms_per_unit, " must be positive");
}

template <class T>
struct is_network : std::false_type {};
template <class S, class... L>
struct is_network<basic_network<S, L...>> : std::true_type {};

template <class Neuron>
constexpr bool neuron_matches(nir_neuron kind) {
    if constexpr (std::is_same_v<Neuron, lif>) return kind == nir_neuron::lif;
    else if constexpr (std::is_same_v<Neuron, cuba_lif>) return kind == nir_neuron::cuba_lif;
    else if constexpr (std::is_same_v<Neuron, readout>) return kind == nir_neuron::li;
    else return false;
}

inline const char* nir_type(nir_neuron kind) {
    switch (kind) {
        case nir_neuron::lif: return "LIF";
        case nir_neuron::cuba_lif: return "CubaLIF";
        case nir_neuron::li: return "LI";
    }
    return "?";
}

/// One layer's mapping onto spikegrad: options and parameter values (spikegrad's layout).
struct mapped_layer {
    std::vector<double> weight;  // [n_in, n_out]
    std::vector<double> bias;    // n_out (empty: no bias)
    std::vector<double> tau_ms;  // membrane, per neuron
    double tau_syn_ms = 0;
    std::vector<double> theta;
    std::vector<double> delay_steps;
};

inline bool uniform(const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

inline mapped_layer map_layer(const nir_layer& l, const nir_options& o) {
    mapped_layer m;
    const std::size_t n = l.n_out;
    std::vector<double> leak_gain(n), gain(n), input_gain(n, 1.0);  // g, g r, synaptic
    m.tau_ms.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
        const auto [beta, g] = discretise(l.tau[j] * o.ms_per_unit, o, l.neuron_node,
                                          l.neuron == nir_neuron::cuba_lif ? "tau_mem" : "tau");
        m.tau_ms[j] = -o.dt_ms / std::log(beta);
        leak_gain[j] = g;
        gain[j] = g * l.r[j];
        if (l.v_reset.size() == n && l.v_reset[j] != 0)
            throw nir_error(l.neuron_node, "v_reset " + detail::message(l.v_reset[j]) +
                                               " of neuron " + std::to_string(j) +
                                               " is not 0: spikegrad resets to 0");
    }
    if (l.neuron == nir_neuron::cuba_lif) {
        if (!uniform(l.tau_syn))
            throw nir_error(l.neuron_node, "tau_syn differs between neurons: spikegrad's "
                                           "cuba_lif has one synaptic time constant per layer");
        const auto [alpha, g] = discretise(l.tau_syn.front() * o.ms_per_unit, o, l.neuron_node,
                                           "tau_syn");
        m.tau_syn_ms = -o.dt_ms / std::log(alpha);
        for (std::size_t j = 0; j < n; ++j) {
            input_gain[j] = g * l.w_in[j];
            if (l.v_leak[j] != 0)
                throw nir_error(l.neuron_node,
                                "v_leak " + detail::message(l.v_leak[j]) + " of neuron " +
                                    std::to_string(j) +
                                    " is not 0: spikegrad's cuba_lif has no membrane bias");
        }
    }
    m.weight.assign(l.n_in * n, 0.0);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < l.n_in; ++i)
            m.weight[i * n + j] = gain[j] * input_gain[j] * l.weight[j * l.n_in + i];
    const bool leak_bias = l.neuron != nir_neuron::cuba_lif &&
                           std::any_of(l.v_leak.begin(), l.v_leak.end(), [](double v) { return v != 0; });
    if (!l.bias.empty() || leak_bias) {
        m.bias.assign(n, 0.0);
        for (std::size_t j = 0; j < n; ++j) {
            const double b = l.bias.empty() ? 0.0 : l.bias[j];
            m.bias[j] = gain[j] * input_gain[j] * b +
                        (l.neuron == nir_neuron::cuba_lif ? 0.0 : leak_gain[j] * l.v_leak[j]);
        }
    }
    if (l.neuron != nir_neuron::li) m.theta = l.v_threshold;
    for (double d : l.delay) {
        const double steps = d * o.ms_per_unit / o.dt_ms;
        if (!(steps >= 0) || !std::isfinite(steps))
            throw nir_error(l.delay_node, "delay " + detail::message(d) + " must be >= 0");
        m.delay_steps.push_back(steps);
    }
    return m;
}

inline double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
inline double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

/// Fills the layer's options from the mapping (the rest keep their defaults).
template <class Spec>
typename Spec::options layer_options(const nir_layer& l, const mapped_layer& m,
                                     const nir_options& o, std::size_t index) {
    using Neuron = typename Spec::neuron_type;
    const std::string where = "layer" + std::to_string(index);
    if (!neuron_matches<Neuron>(l.neuron))
        throw nir_error(l.neuron_node, std::string("is a ") + nir_type(l.neuron) + " but " +
                                           where + " of the network is " + Spec::name());
    if constexpr (!Spec::delayed) {
        if (!l.delay.empty())
            throw nir_error(l.delay_node, "a Delay follows " + l.neuron_node + " but " + where +
                                              " of the network (" + Spec::name() +
                                              ") has no axonal delay");
    }
    typename Spec::options out{};
    out.bias = !m.bias.empty();
    auto set_leak = [&](auto& p) {
        p.tau_ms = m.tau_ms.front();
        if (!uniform(m.tau_ms)) {
            p.train_tau = training::per_neuron;
            p.tau_min_ms = min_of(m.tau_ms);
            p.tau_max_ms = max_of(m.tau_ms);
        }
    };
    auto set_lif = [&](lif::params& p) {
        set_leak(p);
        p.reset = reset_mode::zero;
        p.theta = m.theta.front();
        if (!uniform(m.theta)) {
            p.train_theta = training::per_neuron;
            p.theta_min = min_of(m.theta);
            p.theta_max = max_of(m.theta);
        }
    };
    if constexpr (std::is_same_v<Neuron, lif>) set_lif(out.neuron);
    if constexpr (std::is_same_v<Neuron, cuba_lif>) {
        set_lif(out.neuron.membrane);
        out.neuron.tau_syn_ms = m.tau_syn_ms;
    }
    if constexpr (std::is_same_v<Neuron, readout>) set_leak(out.neuron);
    if constexpr (Spec::delayed) {
        const double top = m.delay_steps.empty() ? 0.0 : max_of(m.delay_steps);
        out.delay.max_ms = top * o.dt_ms;
        out.delay.init_low = 0;
        out.delay.init_high = 0;
    }
    return out;
}

template <class Net, class S>
void set_values(Net& net, const std::string& name, const std::vector<double>& values) {
    auto& store = net.parameters();
    const std::size_t k = store.find(name);
    auto span = store.values(k);
    if (span.size() != values.size())
        raise<shape_error>("nir: ", name, " holds ", span.size(), " values, the file ",
                           values.size());
    for (std::size_t i = 0; i < values.size(); ++i) span[i] = static_cast<S>(values[i]);
}

template <class S, class... Layers, std::size_t... I>
basic_network<S, Layers...> build(std::type_identity<basic_network<S, Layers...>>,
                                  const nir_chain& chain, const nir_options& o,
                                  std::index_sequence<I...>) {
    using Net = basic_network<S, Layers...>;
    if (chain.layers.size() != sizeof...(Layers))
        raise<shape_error>("nir: the file holds ", chain.layers.size(),
                           " layers (synapse + neuron), the network type ", sizeof...(Layers));
    std::vector<mapped_layer> mapped;
    for (const auto& l : chain.layers) mapped.push_back(map_layer(l, o));
    std::vector<std::size_t> sizes{chain.n_inputs};
    for (const auto& l : chain.layers) sizes.push_back(l.n_out);
    Net net(sizes, network_options{.dt_ms = o.dt_ms, .seed = 0, .threads = o.threads},
            layer_options<Layers>(chain.layers[I], mapped[I], o, I)...);
    for (std::size_t k = 0; k < mapped.size(); ++k) {
        const std::string prefix = "layer" + std::to_string(k);
        const auto& m = mapped[k];
        set_values<Net, S>(net, prefix + ".weight", m.weight);
        if (!m.bias.empty()) set_values<Net, S>(net, prefix + ".bias", m.bias);
        if (!uniform(m.tau_ms)) set_values<Net, S>(net, prefix + ".tau", m.tau_ms);
        if (!m.theta.empty() && !uniform(m.theta))
            set_values<Net, S>(net, prefix + ".threshold", m.theta);
    }
    // Delays: only where the network type has them (a delayed layer without a Delay node
    // gets delays of 0).
    std::size_t k = 0;
    (([&] {
         if constexpr (Layers::delayed) {
             const auto& d = mapped[k].delay_steps;
             set_values<Net, S>(net, "layer" + std::to_string(k) + ".delay",
                                d.empty() ? std::vector<double>(chain.layers[k].n_out, 0.0) : d);
         }
         ++k;
     }()),
     ...);
    return net;
}

}  // namespace detail::nir

/// Reads a NIR file's top graph as it is (no checks beyond the layout). Nested graphs
/// (NIRGraph nodes) are kept as nodes of type NIRGraph without their contents.
inline nir_graph read_nir_graph(const std::string& path) {
    namespace h5 = detail::h5;
    using namespace detail::nir;
    h5::quiet_errors quiet;
    h5::handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail(path, "cannot open it as HDF5");
    nir_graph g;
    g.version = h5::exists(file.get(), "version")
                    ? read_string(file.get(), "version", path + ":/version")
                    : "";
    if (!h5::exists(file.get(), "node/type")) raise<io_error>("nir: ", path, ": missing /node/type");
    const std::string top = read_string(file.get(), "node/type", path + ":/node/type");
    if (top != "NIRGraph")
        raise<io_error>("nir: ", path, ": /node is a ", top, ", not a NIRGraph");
    h5::handle nodes(H5Gopen2(file.get(), "node/nodes", H5P_DEFAULT), H5Gclose);
    if (!nodes.valid()) raise<io_error>("nir: ", path, ": missing group /node/nodes");
    for (const auto& name : members(nodes.get(), path + ":/node/nodes")) {
        const std::string where = path + ":/node/nodes/" + name;
        h5::handle group(H5Gopen2(nodes.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
        if (!group.valid()) raise<io_error>("nir: ", where, " is not a group");
        nir_node node;
        node.name = name;
        node.type = read_string(group.get(), "type", where + "/type");
        if (node.type != "NIRGraph") {
            for (const auto& key : members(group.get(), where)) {
                if (key == "type" || is_group(group.get(), key)) continue;  // metadata groups
                h5::handle dataset(H5Dopen2(group.get(), key.c_str(), H5P_DEFAULT), H5Dclose);
                h5::handle type(H5Dget_type(dataset.get()), H5Tclose);
                const auto kind = H5Tget_class(type.get());
                if (kind != H5T_FLOAT && kind != H5T_INTEGER) continue;  // strings
                node.arrays[key] = read_numbers(dataset.get(), where + "/" + key);
            }
        }
        g.nodes.push_back(std::move(node));
    }
    h5::handle edges(H5Dopen2(file.get(), "node/edges", H5P_DEFAULT), H5Dclose);
    if (!edges.valid()) raise<io_error>("nir: ", path, ": missing dataset /node/edges");
    const auto dims = h5::dims_of(edges.get());
    const auto names = read_strings(edges.get(), path + ":/node/edges");
    if (!names.empty() && (dims.size() != 2 || dims[1] != 2))
        raise<io_error>("nir: ", path, ": /node/edges must be (N, 2)");
    for (std::size_t k = 0; k + 1 < names.size(); k += 2) g.edges.emplace_back(names[k], names[k + 1]);
    return g;
}

/// Writes a graph in NIR's layout (`version`, `node/type`, `node/nodes/<name>/...`, `node/edges`);
/// every array as float64, `shape` of Input/Output as int64.
inline void write_nir_graph(const nir_graph& g, const std::string& path) {
    namespace h5 = detail::h5;
    using namespace detail::nir;
    h5::quiet_errors quiet;
    h5::handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail(path, "cannot create it");
    write_string(file.get(), "version", g.version, path);
    h5::handle top(H5Gcreate2(file.get(), "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!top.valid()) fail(path, "cannot create /node");
    write_string(top.get(), "type", "NIRGraph", path);
    h5::handle nodes(H5Gcreate2(top.get(), "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    for (const auto& node : g.nodes) {
        h5::handle group(H5Gcreate2(nodes.get(), node.name.c_str(), H5P_DEFAULT, H5P_DEFAULT,
                                    H5P_DEFAULT),
                         H5Gclose);
        if (!group.valid()) fail(path, "cannot create node " + node.name);
        write_string(group.get(), "type", node.type, path);
        for (const auto& [key, array] : node.arrays) {
            std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
            if (key == "shape") {
                std::vector<std::int64_t> ints(array.values.begin(), array.values.end());
                write_numbers(group.get(), key, ints, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, path);
            } else {
                write_numbers(group.get(), key, array.values, dims, H5T_IEEE_F64LE,
                              H5T_NATIVE_DOUBLE, path);
            }
        }
    }
    std::vector<std::string> flat;
    for (const auto& [s, t] : g.edges) {
        flat.push_back(s);
        flat.push_back(t);
    }
    std::vector<const char*> pointers;
    for (const auto& s : flat) pointers.push_back(s.c_str());
    h5::handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const hsize_t dims[2] = {g.edges.size(), 2};
    h5::handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    h5::handle edges(H5Dcreate2(top.get(), "edges", type.get(), space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     H5Dclose);
    if (!edges.valid() || (!pointers.empty() && H5Dwrite(edges.get(), type.get(), H5S_ALL, H5S_ALL,
                                                         H5P_DEFAULT, pointers.data()) < 0))
        fail(path, "cannot write /node/edges");
    if (!file.close()) fail(path, "cannot close (flush) it");
}

/// Checks that a graph is one feed-forward chain Input -> (Affine|Linear -> LIF|CubaLIF|LI
/// [-> Delay])+ -> Output and collects its layers. nir_error names the first node (in the
/// order of the chain from the Input) that is outside that set: an unsupported type, a
/// recurrent edge, a fan-out or merge, a misplaced node, mismatched sizes.
inline nir_chain describe_nir(const nir_graph& g) {
    using namespace detail::nir;
    std::vector<const nir_node*> inputs;
    for (const auto& n : g.nodes)
        if (n.type == "Input") inputs.push_back(&n);
    if (inputs.size() != 1)
        throw nir_error(inputs.empty() ? std::string("(graph)") : inputs[1]->name,
                        "the graph has " + std::to_string(inputs.size()) +
                            " Input nodes; spikegrad reads graphs with one");
    for (const auto& [s, t] : g.edges)
        for (const auto* name : {&s, &t})
            if (!g.find(*name)) throw nir_error(*name, "an edge names it but there is no such node");

    nir_chain chain;
    const nir_node* at = inputs.front();
    chain.n_inputs = at->has("shape") ? product([&] {
        std::vector<std::size_t> s;
        for (double d : at->at("shape").values) s.push_back(static_cast<std::size_t>(d));
        return s;
    }()) : 0;
    std::vector<const nir_node*> path{at};
    std::size_t width = chain.n_inputs;
    while (at->type != "Output") {
        std::vector<std::string> next;
        for (const auto& [s, t] : g.edges)
            if (s == at->name) next.push_back(t);
        if (next.empty()) throw nir_error(at->name, "has no outgoing edge and is not an Output");
        if (next.size() > 1)
            throw nir_error(at->name, "fans out to " + next[0] + " and " + next[1] +
                                          ": spikegrad reads chains (one edge out of each node)");
        const nir_node* n = g.find(next.front());
        if (!detail::nir::supported(n->type))
            throw nir_error(n->name, "type " + n->type +
                                         " is not supported (spikegrad reads Input, Affine, "
                                         "Linear, LIF, CubaLIF, LI, Delay, Output)");
        std::vector<std::string> sources;
        for (const auto& [s, t] : g.edges)
            if (t == n->name && s != at->name) sources.push_back(s);
        for (const auto& s : sources)
            if (reachable(g, n->name, s))
                throw nir_error(n->name, "recurrent edge " + s + " -> " + n->name +
                                             " (a cycle back into it): spikegrad reads "
                                             "feed-forward graphs only");
        if (!sources.empty())
            throw nir_error(n->name, "merges inputs from " + at->name + " and " + sources[0] +
                                         ": spikegrad reads chains");
        if (std::find(path.begin(), path.end(), n) != path.end())
            throw nir_error(n->name, "recurrent edge " + at->name + " -> " + n->name);
        path.push_back(n);
        at = n;
    }
    // The chain's node sequence after the Input: (synapse neuron [Delay])* Output.
    for (std::size_t k = 1; k + 1 < path.size();) {
        const nir_node& syn = *path[k];
        if (syn.type != "Affine" && syn.type != "Linear")
            throw nir_error(syn.name, syn.type + " follows " + path[k - 1]->name +
                                          " where spikegrad needs an Affine or Linear synapse");
        if (k + 1 >= path.size() - 1)
            throw nir_error(syn.name, "is followed by " + path[k + 1]->name +
                                          " where spikegrad needs a LIF, CubaLIF or LI neuron");
        const nir_node& neuron = *path[k + 1];
        nir_layer l;
        l.synapse_node = syn.name;
        l.neuron_node = neuron.name;
        const auto& w = syn.at("weight");
        if (w.shape.size() != 2) throw nir_error(syn.name, "weight must be 2-D [out, in]");
        l.n_out = w.shape[0];
        l.n_in = w.shape[1];
        if (width != 0 && l.n_in != width)
            throw nir_error(syn.name, "weight has " + std::to_string(l.n_in) +
                                          " inputs but receives " + std::to_string(width));
        if (k == 1 && chain.n_inputs == 0) chain.n_inputs = l.n_in;
        l.weight = w.values;
        if (syn.type == "Affine") l.bias = per_neuron(syn, "bias", l.n_out);
        const std::size_t n = l.n_out;
        const double zero = 0.0, one = 1.0;
        if (neuron.type == "LIF" || neuron.type == "LI") {
            l.neuron = neuron.type == "LIF" ? nir_neuron::lif : nir_neuron::li;
            l.tau = per_neuron(neuron, "tau", n);
        } else if (neuron.type == "CubaLIF") {
            l.neuron = nir_neuron::cuba_lif;
            l.tau = per_neuron(neuron, "tau_mem", n);
            l.tau_syn = per_neuron(neuron, "tau_syn", n);
            l.w_in = per_neuron(neuron, "w_in", n, &one);
        } else {
            throw nir_error(neuron.name, neuron.type + " follows the synapse " + syn.name +
                                             " where spikegrad needs a LIF, CubaLIF or LI neuron");
        }
        l.r = per_neuron(neuron, "r", n);
        l.v_leak = per_neuron(neuron, "v_leak", n);
        if (l.neuron != nir_neuron::li) {
            l.v_threshold = per_neuron(neuron, "v_threshold", n);
            l.v_reset = per_neuron(neuron, "v_reset", n, &zero);  // absent before NIR 1.0
        }
        k += 2;
        if (path[k]->type == "Delay") {
            if (l.neuron == nir_neuron::li)
                throw nir_error(path[k]->name, "follows the LI " + neuron.name +
                                                   ": spikegrad delays spikes only");
            l.delay_node = path[k]->name;
            l.delay = per_neuron(*path[k], "delay", n);
            ++k;
        }
        if (l.neuron == nir_neuron::li && path[k]->type != "Output")
            throw nir_error(neuron.name, "LI is followed by " + path[k]->name +
                                             ": spikegrad's non-spiking readout must be last");
        width = n;
        chain.layers.push_back(std::move(l));
    }
    if (chain.layers.empty()) throw nir_error(path.back()->name, "the graph has no layers");
    const nir_node& output = *path.back();
    if (output.has("shape") && product([&] {
            std::vector<std::size_t> s;
            for (double d : output.at("shape").values) s.push_back(static_cast<std::size_t>(d));
            return s;
        }()) != width)
        throw nir_error(output.name, "shape does not hold the last layer's " +
                                         std::to_string(width) + " outputs");
    return chain;
}

/// Builds a network of type Net (basic_network<S, dense<...>...>) from a chain: one dense
/// layer per (synapse, neuron) pair, whose neuron must be lif (LIF), cuba_lif (CubaLIF) or
/// readout (LI) and which must have an axonal delay where a Delay follows. Neuron options:
/// reset to zero, tau and threshold from the file (per neuron where they differ, then as
/// per-neuron parameters); other options keep the layer's defaults.
template <class Net>
Net network_from_nir(const nir_chain& chain, const nir_options& options) {
    static_assert(detail::nir::is_network<Net>::value,
                  "network_from_nir<Net>: Net must be a basic_network<Scalar, dense<...>...>");
    detail::nir::check_options(options, "read_nir");
    return detail::nir::build(std::type_identity<Net>{}, chain, options,
                              std::make_index_sequence<Net::depth>{});
}

/// Reads a NIR file into a network of type Net (see network_from_nir and describe_nir).
template <class Net>
Net read_nir(const std::string& path, const nir_options& options) {
    return network_from_nir<Net>(describe_nir(read_nir_graph(path)), options);
}
/// read_nir with the exact discretisation on steps of dt_ms.
template <class Net>
Net read_nir(const std::string& path, double dt_ms) {
    return read_nir<Net>(path, nir_options{.dt_ms = dt_ms});
}

/// The NIR graph of a network: Input, then per layer an Affine (with bias) or Linear, a LIF /
/// CubaLIF / LI and, for a delayed layer, a Delay; then Output. nir_error for what NIR cannot
/// express: subtractive reset (node `layer<k>`), neurons other than lif, cuba_lif, readout.
template <class Net>
nir_graph nir_from_network(const Net& net, const nir_options& options) {
    static_assert(detail::nir::is_network<Net>::value,
                  "nir_from_network<Net>: Net must be a basic_network<Scalar, dense<...>...>");
    using namespace detail::nir;
    check_options(options, "write_nir");
    const auto& store = net.parameters();
    const auto has = [&](const std::string& name) {
        for (const auto& i : store.infos())
            if (i.name == name) return true;
        return false;
    };
    const auto values = [&](const std::string& name) {
        const auto span = store.values(store.find(name));
        return std::vector<double>(span.begin(), span.end());
    };
    const auto per = [](std::vector<double> v, std::size_t n) {
        if (v.size() == 1) v.assign(n, v.front());
        return v;
    };
    const auto array = [](std::vector<double> v) {
        nir_array a;
        a.shape = {v.size()};
        a.values = std::move(v);
        return a;
    };
    nir_graph g;
    nir_node input{"input", "Input", {}};
    input.arrays["shape"] = array({static_cast<double>(net.n_inputs())});
    g.nodes.push_back(input);
    std::string previous = "input";
    const auto link = [&](nir_node node) {
        g.edges.emplace_back(previous, node.name);
        previous = node.name;
        g.nodes.push_back(std::move(node));
    };
    std::size_t k = 0;
    const auto export_layer = [&](const auto& layer) {
        const std::string prefix = "layer" + std::to_string(k);
        const std::size_t n_in = layer.n_in(), n = layer.n_out();
        const auto& opts = layer.layer_options();
        using Neuron = std::remove_cvref_t<decltype(layer.neuron())>;
        using S = typename Net::scalar_type;
        // Weights: spikegrad [n_in, n_out] -> NIR [out, in]; a weight-normalised layer
        // writes its effective weights g v / |v| (NIR has no weight normalisation).
        std::vector<double> w = values(prefix + ".weight");
        if (layer.synapse().weight_normalised()) {
            auto copy = layer;
            const S* flat = store.flat().data();
            copy.prepare(flat, net.grid(), false);
            const S* effective = copy.synapse().weights(flat);
            w.assign(effective, effective + n_in * n);
        }
        nir_node syn{prefix + (layer.synapse().has_bias() ? "_affine" : "_linear"),
                     layer.synapse().has_bias() ? "Affine" : "Linear", {}};
        nir_array weight;
        weight.shape = {n, n_in};
        weight.values.resize(n * n_in);
        for (std::size_t i = 0; i < n_in; ++i)
            for (std::size_t j = 0; j < n; ++j) weight.values[j * n_in + i] = w[i * n + j];
        syn.arrays["weight"] = std::move(weight);
        if (layer.synapse().has_bias()) syn.arrays["bias"] = array(values(prefix + ".bias"));
        link(std::move(syn));

        const auto leak_of = [&](double tau_ms) {
            std::vector<double> taus(n, tau_ms);
            if (has(prefix + ".tau")) taus = per(values(prefix + ".tau"), n);
            std::vector<double> tau(n), r(n);
            for (std::size_t j = 0; j < n; ++j) {
                const double beta = std::exp(-options.dt_ms / taus[j]);
                std::tie(tau[j], r[j]) = continuous(beta, options);
            }
            return std::pair{tau, r};
        };
        const auto threshold_of = [&](const lif::params& p) {
            if (p.reset == reset_mode::subtract)
                throw nir_error(prefix, "resets by subtraction, which NIR cannot express "
                                        "(its LIF resets to v_reset): train with "
                                        "reset_mode::zero to export");
            return has(prefix + ".threshold") ? per(values(prefix + ".threshold"), n)
                                              : std::vector<double>(n, p.theta);
        };
        nir_node neuron{prefix, "", {}};
        const std::vector<double> zeros(n, 0.0);
        // The membrane's fields; theta only for spiking neurons (then v_reset 0 too).
        const auto membrane = [&](const char* type, const char* suffix, const char* tau_key,
                                  double tau_ms, const std::vector<double>* theta) {
            const auto [tau, r] = leak_of(tau_ms);
            neuron.type = type;
            neuron.name += suffix;
            neuron.arrays[tau_key] = array(tau);
            neuron.arrays["r"] = array(r);
            neuron.arrays["v_leak"] = array(zeros);
            if (!theta) return;
            neuron.arrays["v_threshold"] = array(*theta);
            neuron.arrays["v_reset"] = array(zeros);
        };
        if constexpr (std::is_same_v<Neuron, cuba_lif::dynamics<S>>) {
            const auto& p = opts.neuron;
            const auto theta = threshold_of(p.membrane);
            membrane("CubaLIF", "_cuba_lif", "tau_mem", p.membrane.tau_ms, &theta);
            const auto [tau_syn, w_in] =
                continuous(std::exp(-options.dt_ms / p.tau_syn_ms), options);
            neuron.arrays["tau_syn"] = array(std::vector<double>(n, tau_syn));
            neuron.arrays["w_in"] = array(std::vector<double>(n, w_in));
        } else if constexpr (std::is_same_v<Neuron, lif::dynamics<S>>) {
            const auto theta = threshold_of(opts.neuron);
            membrane("LIF", "_lif", "tau", opts.neuron.tau_ms, &theta);
        } else if constexpr (std::is_same_v<Neuron, readout::dynamics<S>>) {
            membrane("LI", "_li", "tau", opts.neuron.tau_ms, nullptr);
        } else {
            throw nir_error(prefix, "its neuron has no NIR counterpart (spikegrad writes lif, "
                                    "cuba_lif and readout)");
        }
        link(std::move(neuron));
        if (has(prefix + ".delay")) {
            auto d = values(prefix + ".delay");
            // SLAYER's shift delays by whole steps only: the file says what the layer does.
            bool whole_steps = false;
            if constexpr (requires { opts.delay.forward; })
                whole_steps = opts.delay.forward == axonal_delay::mode::shift;
            for (auto& x : d)
                x = (whole_steps ? std::floor(x) : x) * options.dt_ms / options.ms_per_unit;
            nir_node delay{prefix + "_delay", "Delay", {}};
            delay.arrays["delay"] = array(d);
            link(std::move(delay));
        }
        ++k;
    };
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (export_layer(net.template layer<I>()), ...);
    }(std::make_index_sequence<Net::depth>{});
    nir_node output{"output", "Output", {}};
    output.arrays["shape"] = array({static_cast<double>(net.n_outputs())});
    link(std::move(output));
    return g;
}

/// Writes a network as a NIR file (see nir_from_network).
template <class Net>
void write_nir(const Net& net, const std::string& path, const nir_options& options) {
    write_nir_graph(nir_from_network(net, options), path);
}
/// write_nir with the exact discretisation on steps of dt_ms.
template <class Net>
void write_nir(const Net& net, const std::string& path, double dt_ms) {
    write_nir(net, path, nir_options{.dt_ms = dt_ms});
}

}  // namespace spikegrad

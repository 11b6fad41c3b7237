/// \file
/// spikegrad: the settings that change what a network computes or how it is differentiated, as
/// named text values ("layer0.neuron.theta" = "1", "layer1.surrogate" = "arctan",
/// "layer1.surrogate.alpha" = "2", "dt_ms" = "1"). Checkpoints record them and refuse to load
/// into a network whose settings differ (train/checkpoint.hpp). Initialisation-only settings
/// (seed, init_scale, initial delays, the initial value of a trainable tau or threshold) and
/// training schedules (the adaptive delay cap's rule) are not recorded: they do not change the
/// function of given parameter values. Bounds of trainable parameters live in the parameter
/// table, which checkpoints check on their own.
///
/// A policy of one's own takes part by an overload found by argument-dependent lookup:
///   void describe_settings(settings_record&, const std::string& prefix, const my_neuron::params&);
/// Types without one record nothing beyond their name in the architecture string.
#pragma once

#include "../core/error.hpp"
#include "../delay/axonal.hpp"
#include "../delay/none.hpp"
#include "../neuron/adaptive_lif.hpp"
#include "../neuron/cuba_lif.hpp"
#include "../neuron/leak.hpp"
#include "../neuron/lif.hpp"
#include "../neuron/readout.hpp"
#include "../neuron/srm_alpha.hpp"
#include "../surrogate/any.hpp"
#include "../surrogate/rectifier.hpp"
#include "../surrogate/windowed.hpp"

#include <cstddef>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace spikegrad {

/// One recorded setting: its dotted name and its value as text (numbers in the shortest form
/// that reads back to the same double).
struct setting {
    std::string name;
    std::string value;
    bool operator==(const setting&) const = default;
};

/// A network's settings in a fixed order (network first, then layer by layer).
class settings_record {
public:
    void add(const std::string& name, const std::string& value) { items_.push_back({name, value}); }
    void add(const std::string& name, const char* value) { add(name, std::string(value)); }
    void add(const std::string& name, bool value) { add(name, value ? "true" : "false"); }
    void add(const std::string& name, double value) { add(name, detail::message(value)); }

    const std::vector<setting>& items() const { return items_; }
    std::size_t size() const { return items_.size(); }
    /// The value recorded under `name`, or nullptr.
    const std::string* find(const std::string& name) const {
        for (const auto& item : items_)
            if (item.name == name) return &item.value;
        return nullptr;
    }
    bool operator==(const settings_record&) const = default;

private:
    std::vector<setting> items_;
};

inline const char* to_string(reset_mode mode) {
    return mode == reset_mode::subtract ? "subtract" : "zero";
}
inline const char* to_string(training mode) {
    switch (mode) {
        case training::fixed: return "fixed";
        case training::shared: return "shared";
        case training::per_neuron: return "per_neuron";
    }
    return "?";
}
inline const char* to_string(axonal_delay::mode mode) {
    return mode == axonal_delay::mode::interpolate ? "interpolate" : "shift";
}
inline const char* to_string(any_surrogate::family kind) {
    using f = any_surrogate::family;
    switch (kind) {
        case f::fast_sigmoid: return "fast_sigmoid";
        case f::slayer_exponential: return "slayer_exponential";
        case f::arctan: return "arctan";
        case f::sigmoid: return "sigmoid";
        case f::triangle: return "triangle";
        case f::boxcar: return "boxcar";
        case f::straight_through: return "straight_through";
    }
    return "?";
}

/// The fallback for policies without an overload: nothing to record.
template <class T>
void describe_settings(settings_record&, const std::string&, const T&) {}

// Neurons. A trainable tau or threshold is a parameter (its value and bounds are in the
// parameter table); only a fixed one is a setting.
inline void describe_settings(settings_record& r, const std::string& p, const lif::params& o) {
    r.add(p + ".reset", to_string(o.reset));
    r.add(p + ".detach_reset", o.detach_reset);
    r.add(p + ".train_tau", to_string(o.train_tau));
    if (o.train_tau == training::fixed) r.add(p + ".tau_ms", o.tau_ms);
    r.add(p + ".train_theta", to_string(o.train_theta));
    if (o.train_theta == training::fixed) r.add(p + ".theta", o.theta);
}
inline void describe_settings(settings_record& r, const std::string& p,
                              const adaptive_lif::params& o) {
    describe_settings(r, p, o.membrane);
    r.add(p + ".adaptation", o.adaptation);
    r.add(p + ".tau_adapt_ms", o.tau_adapt_ms);
}
inline void describe_settings(settings_record& r, const std::string& p, const cuba_lif::params& o) {
    r.add(p + ".tau_syn_ms", o.tau_syn_ms);
    describe_settings(r, p, o.membrane);
}
inline void describe_settings(settings_record& r, const std::string& p,
                              const srm_alpha::params& o) {
    r.add(p + ".theta", o.theta);
    r.add(p + ".tau_sr_steps", o.tau_sr_steps);
    r.add(p + ".tau_ref_steps", o.tau_ref_steps);
    r.add(p + ".scale_ref", o.scale_ref);
    r.add(p + ".detach_refractory", o.detach_refractory);
}
inline void describe_settings(settings_record& r, const std::string& p, const readout::params& o) {
    r.add(p + ".train_tau", to_string(o.train_tau));
    if (o.train_tau == training::fixed) r.add(p + ".tau_ms", o.tau_ms);
}

// Surrogates: "<prefix>" names the family, "<prefix>.<constant>" its constants.
inline void describe_settings(settings_record& r, const std::string& p, const fast_sigmoid& s) {
    r.add(p, fast_sigmoid::name);
    r.add(p + ".alpha", s.alpha);
}
inline void describe_settings(settings_record& r, const std::string& p, const arctan& s) {
    r.add(p, arctan::name);
    r.add(p + ".alpha", s.alpha);
}
inline void describe_settings(settings_record& r, const std::string& p, const sigmoid& s) {
    r.add(p, sigmoid::name);
    r.add(p + ".slope", s.slope);
}
inline void describe_settings(settings_record& r, const std::string& p, const triangle& s) {
    r.add(p, triangle::name);
    r.add(p + ".gamma", s.gamma);
    r.add(p + ".width", s.width);
}
inline void describe_settings(settings_record& r, const std::string& p, const boxcar& s) {
    r.add(p, boxcar::name);
    r.add(p + ".width", s.width);
}
inline void describe_settings(settings_record& r, const std::string& p,
                              const slayer_exponential& s) {
    r.add(p, slayer_exponential::name);
    r.add(p + ".theta", s.theta);
    r.add(p + ".tau_rho", s.tau_rho);
    r.add(p + ".scale_rho", s.scale_rho);
}
inline void describe_settings(settings_record& r, const std::string& p, const straight_through&) {
    r.add(p, straight_through::name);
}
inline void describe_settings(settings_record& r, const std::string& p, const rectifier&) {
    r.add(p, rectifier::name);
}
/// The family chosen at run time and its constant, as if it had been chosen at compile time.
inline void describe_settings(settings_record& r, const std::string& p, const any_surrogate& s) {
    using f = any_surrogate::family;
    switch (s.kind) {
        case f::fast_sigmoid: describe_settings(r, p, s.fast); return;
        case f::slayer_exponential: describe_settings(r, p, s.slayer); return;
        case f::arctan: describe_settings(r, p, s.atan); return;
        case f::sigmoid: describe_settings(r, p, s.logistic); return;
        case f::triangle: describe_settings(r, p, s.tri); return;
        case f::boxcar: describe_settings(r, p, s.box); return;
        case f::straight_through: describe_settings(r, p, straight_through{}); return;
    }
}
template <class Inner>
void describe_settings(settings_record& r, const std::string& p, const windowed<Inner>& s) {
    r.add(p + ".window", s.window);
    describe_settings(r, p, s.inner);
}

// Delays: the forward rule and the cap in ms (the cap in steps is the delay's upper bound in
// the parameter table; an adaptive cap only grows that).
inline void describe_settings(settings_record& r, const std::string& p,
                              const axonal_delay::params& o) {
    r.add(p + ".forward", to_string(o.forward));
    r.add(p + ".max_ms", o.max_ms);
}
inline void describe_settings(settings_record&, const std::string&, const no_delay::params&) {}

// Reading settings back (read_settings): the inverse of describe_settings, for rebuilding
// the network a checkpoint describes (train/from_checkpoint.hpp). Each overload sets the
// fields its describe_settings records from `r` and raises data_error on a missing or
// unreadable value; fields that are parameters (a trainable tau, threshold) stay as they are.

namespace detail {

inline const std::string& recorded(const settings_record& r, const std::string& name) {
    const std::string* value = r.find(name);
    if (!value) raise<data_error>("settings: the record has no '", name, "'");
    return *value;
}
inline double recorded_number(const settings_record& r, const std::string& name) {
    const std::string& text = recorded(r, name);
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
        raise<data_error>("settings: '", name, "' = '", text, "' is not a number");
    return x;
}
inline bool recorded_flag(const settings_record& r, const std::string& name) {
    const std::string& text = recorded(r, name);
    if (text != "true" && text != "false")
        raise<data_error>("settings: '", name, "' = '", text, "' is not true or false");
    return text == "true";
}
/// The value among `choices` whose to_string is recorded under `name`.
template <class E, std::size_t N>
E recorded_choice(const settings_record& r, const std::string& name, const E (&choices)[N]) {
    const std::string& text = recorded(r, name);
    for (E e : choices)
        if (text == to_string(e)) return e;
    raise<data_error>("settings: '", name, "' = '", text, "' is not a known value");
}
/// Checks that the surrogate family recorded under `p` is `name` (the compile-time one).
inline void recorded_family(const settings_record& r, const std::string& p, const char* name) {
    if (recorded(r, p) != name)
        raise<data_error>("settings: '", p, "' is ", recorded(r, p), ", this network's is ",
                                name);
}

}  // namespace detail

/// The fallback: a policy without an overload reads nothing.
template <class T>
void read_settings(const settings_record&, const std::string&, T&) {}

inline void read_settings(const settings_record& r, const std::string& p, lif::params& o) {
    o.reset = detail::recorded_choice(r, p + ".reset", {reset_mode::subtract, reset_mode::zero});
    o.detach_reset = detail::recorded_flag(r, p + ".detach_reset");
    constexpr training modes[] = {training::fixed, training::shared, training::per_neuron};
    o.train_tau = detail::recorded_choice(r, p + ".train_tau", modes);
    if (o.train_tau == training::fixed) o.tau_ms = detail::recorded_number(r, p + ".tau_ms");
    o.train_theta = detail::recorded_choice(r, p + ".train_theta", modes);
    if (o.train_theta == training::fixed) o.theta = detail::recorded_number(r, p + ".theta");
}
inline void read_settings(const settings_record& r, const std::string& p, adaptive_lif::params& o) {
    read_settings(r, p, o.membrane);
    o.adaptation = detail::recorded_number(r, p + ".adaptation");
    o.tau_adapt_ms = detail::recorded_number(r, p + ".tau_adapt_ms");
}
inline void read_settings(const settings_record& r, const std::string& p, cuba_lif::params& o) {
    o.tau_syn_ms = detail::recorded_number(r, p + ".tau_syn_ms");
    read_settings(r, p, o.membrane);
}
inline void read_settings(const settings_record& r, const std::string& p, srm_alpha::params& o) {
    o.theta = detail::recorded_number(r, p + ".theta");
    o.tau_sr_steps = detail::recorded_number(r, p + ".tau_sr_steps");
    o.tau_ref_steps = detail::recorded_number(r, p + ".tau_ref_steps");
    o.scale_ref = detail::recorded_number(r, p + ".scale_ref");
    o.detach_refractory = detail::recorded_flag(r, p + ".detach_refractory");
}
inline void read_settings(const settings_record& r, const std::string& p, readout::params& o) {
    o.train_tau = detail::recorded_choice(
        r, p + ".train_tau", {training::fixed, training::shared, training::per_neuron});
    if (o.train_tau == training::fixed) o.tau_ms = detail::recorded_number(r, p + ".tau_ms");
}
inline void read_settings(const settings_record& r, const std::string& p, fast_sigmoid& s) {
    detail::recorded_family(r, p, fast_sigmoid::name);
    s.alpha = detail::recorded_number(r, p + ".alpha");
}
inline void read_settings(const settings_record& r, const std::string& p, arctan& s) {
    detail::recorded_family(r, p, arctan::name);
    s.alpha = detail::recorded_number(r, p + ".alpha");
}
inline void read_settings(const settings_record& r, const std::string& p, sigmoid& s) {
    detail::recorded_family(r, p, sigmoid::name);
    s.slope = detail::recorded_number(r, p + ".slope");
}
inline void read_settings(const settings_record& r, const std::string& p, triangle& s) {
    detail::recorded_family(r, p, triangle::name);
    s.gamma = detail::recorded_number(r, p + ".gamma");
    s.width = detail::recorded_number(r, p + ".width");
}
inline void read_settings(const settings_record& r, const std::string& p, boxcar& s) {
    detail::recorded_family(r, p, boxcar::name);
    s.width = detail::recorded_number(r, p + ".width");
}
inline void read_settings(const settings_record& r, const std::string& p, slayer_exponential& s) {
    detail::recorded_family(r, p, slayer_exponential::name);
    s.theta = detail::recorded_number(r, p + ".theta");
    s.tau_rho = detail::recorded_number(r, p + ".tau_rho");
    s.scale_rho = detail::recorded_number(r, p + ".scale_rho");
}
inline void read_settings(const settings_record& r, const std::string& p, straight_through&) {
    detail::recorded_family(r, p, straight_through::name);
}
inline void read_settings(const settings_record& r, const std::string& p, rectifier&) {
    detail::recorded_family(r, p, rectifier::name);
}
inline void read_settings(const settings_record& r, const std::string& p, any_surrogate& s) {
    using f = any_surrogate::family;
    s.kind = detail::recorded_choice(r, p, {f::fast_sigmoid, f::slayer_exponential, f::arctan,
                                            f::sigmoid, f::triangle, f::boxcar,
                                            f::straight_through});
    switch (s.kind) {
        case f::fast_sigmoid: read_settings(r, p, s.fast); return;
        case f::slayer_exponential: read_settings(r, p, s.slayer); return;
        case f::arctan: read_settings(r, p, s.atan); return;
        case f::sigmoid: read_settings(r, p, s.logistic); return;
        case f::triangle: read_settings(r, p, s.tri); return;
        case f::boxcar: read_settings(r, p, s.box); return;
        case f::straight_through: return;
    }
}
template <class Inner>
void read_settings(const settings_record& r, const std::string& p, windowed<Inner>& s) {
    s.window = detail::recorded_number(r, p + ".window");
    read_settings(r, p, s.inner);
}
inline void read_settings(const settings_record& r, const std::string& p, axonal_delay::params& o) {
    o.forward = detail::recorded_choice(
        r, p + ".forward", {axonal_delay::mode::interpolate, axonal_delay::mode::shift});
    o.max_ms = detail::recorded_number(r, p + ".max_ms");
}
inline void read_settings(const settings_record&, const std::string&, no_delay::params&) {}

namespace detail {

template <class Net, std::size_t... I>
void describe_layers(settings_record& r, const Net& net, std::index_sequence<I...>) {
    const auto one = [&](std::size_t index, const auto& options) {
        const std::string p = "layer" + std::to_string(index);
        describe_settings(r, p + ".neuron", options.neuron);
        describe_settings(r, p + ".surrogate", options.surrogate);
        describe_settings(r, p + ".delay", options.delay);
        r.add(p + ".bias", options.bias);
        r.add(p + ".sparse_gradient_threshold", options.sparse_gradient_threshold);
    };
    (one(I, net.template layer<I>().layer_options()), ...);
}

}  // namespace detail

/// Every setting of `net` that changes its function or its gradients: the step length and
/// each layer's neuron, surrogate, delay, bias and sparse-gradient settings. A network of
/// another engine (gamma_network) describes itself with `describe_settings(record)`.
template <class Net>
settings_record network_settings(const Net& net) {
    settings_record r;
    if constexpr (requires { net.describe_settings(r); }) {
        net.describe_settings(r);
    } else {
        r.add("dt_ms", net.options().dt_ms);
        detail::describe_layers(r, net, std::make_index_sequence<Net::depth>{});
    }
    return r;
}

}  // namespace spikegrad

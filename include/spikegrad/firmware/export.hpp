/// \file
/// spikegrad firmware export (host side): a trained network as a header of constexpr arrays
/// for the firmware engine (firmware/engine.hpp), in float or int16 / int8 fixed point with
/// per-layer scales, with the quantisation error of every parameter and, on a labelled batch,
/// the exported model's accuracy (run by the firmware kernels on the host).
///
///     auto model = export_firmware(net, "model.hpp", {.format = firmware::number_format::int8});
///     auto scored = firmware_accuracy(model, test_batch);
///
/// Supported layers: dense<lif or readout, any binary surrogate, no_delay or axonal_delay>.
#pragma once

#include "../core/error.hpp"
#include "../core/events.hpp"
#include "../delay/axonal.hpp"
#include "../delay/none.hpp"
#include "../network/network.hpp"
#include "../neuron/lif.hpp"
#include "../neuron/readout.hpp"
#include "kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikegrad {

/// How export_firmware writes a model: number format, leak form, scales.
struct firmware_options {
    firmware::number_format format = firmware::number_format::float32;
    /// Fixed point only: the leak as a multiply by beta in Q decay_bits, or as a shift.
    firmware::decay_kind decay = firmware::decay_kind::multiply;
    /// Fraction bits of the multiplied leak (1..30). Q15 keeps long time constants (tau = 500
    /// steps: beta = 0.998) apart from 1; Q7 (an int8 leak) costs the quickstart's model 20
    /// points of accuracy over its 1000 steps (docs/firmware.md).
    int decay_bits = 15;
    /// How the trained loss scores classes (final_membrane_cross_entropy: last, ce_max: max,
    /// ce_mean: mean, count losses: count).
    firmware::score_rule rule = firmware::score_rule::last;
    /// The C++ namespace of the generated header.
    std::string name = "spikegrad_model";
};

/// The largest errors quantisation made in one layer (real units; 0 for float).
struct quantisation_error {
    double weight_max = 0, weight_rms = 0, bias_max = 0, threshold_max = 0, beta_max = 0,
           delay_max_steps = 0;
};

/// One exported layer: the float parameters and their fixed-point images.
struct firmware_layer {
    std::size_t n_in = 0, n_out = 0;
    firmware::neuron_kind neuron = firmware::neuron_kind::lif;
    firmware::reset_kind reset = firmware::reset_kind::subtract;
    bool has_bias = false, delayed = false;
    std::vector<float> weight, bias, threshold, beta, delay_fraction;
    std::vector<std::uint16_t> delay_whole;
    // Fixed point (empty for float): weights fit the format's integer type.
    float scale = 1.0f;
    int decay_bits = 15;
    std::vector<std::int32_t> weight_q, bias_q, threshold_q, decay_factor;
    std::vector<std::uint8_t> decay_shift, delay_fraction_q;
    std::vector<std::uint16_t> delay_whole_q;
    quantisation_error error;
};

/// An exported model: its options, layers and quantisation errors, ready to write as a header.
struct firmware_model {
    firmware_options options;
    std::string architecture;
    double dt_ms = 1.0;
    std::vector<firmware_layer> layers;
};

namespace detail {

inline int weight_bits(firmware::number_format f) {
    return f == firmware::number_format::int16 ? 16 : f == firmware::number_format::int8 ? 8 : 32;
}

inline std::int32_t round_to_int(double x) { return static_cast<std::int32_t>(std::lround(x)); }

template <class Layer>
firmware_layer export_layer(const Layer& trained, const std::vector<float>& values,
                            const parameter_store<float>& store, const time_grid& grid,
                            std::size_t index) {
    using surrogate = std::remove_cvref_t<decltype(trained.layer_options().surrogate)>;
    using neuron_model = typename Layer::neuron_model;
    constexpr bool is_lif = std::is_same_v<neuron_model, lif::dynamics<float>>;
    constexpr bool is_readout = std::is_same_v<neuron_model, readout::dynamics<float>>;
    static_assert(is_lif || is_readout,
                  "export_firmware: the firmware engine runs lif and readout layers only");
    constexpr bool delayed = !std::is_same_v<typename Layer::delay_model, no_delay::model<float>>;
    const auto where = "export_firmware: layer" + std::to_string(index);

    Layer copy = trained;  // prepare() computes the leaks and thresholds of these values
    copy.prepare(values.data(), grid, false);
    firmware_layer out;
    out.n_in = copy.n_in();
    out.n_out = copy.n_out();
    if (out.n_in > 65535 || out.n_out > 65535)
        raise<shape_error>(where, ": ", out.n_in, " -> ", out.n_out,
                           " units: the firmware engine takes at most 65535 per layer");
    const auto& syn = copy.synapse();
    const float* w = syn.weights(values.data());  // g v / |v| when weight-normalised
    out.weight.assign(w, w + out.n_in * out.n_out);
    out.has_bias = syn.has_bias();
    if (out.has_bias) {
        const float* b = values.data() + store.info(syn.bias_index()).offset;
        out.bias.assign(b, b + out.n_out);
    }
    const float* beta = copy.neuron().beta();
    out.beta.assign(beta, beta + out.n_out);
    if constexpr (is_lif) {
        static_assert(surrogate::binary,
                      "export_firmware: spiking layers need a binary surrogate (0/1 spikes)");
        out.neuron = firmware::neuron_kind::lif;
        out.reset = copy.neuron().options().reset == reset_mode::subtract
                        ? firmware::reset_kind::subtract
                        : firmware::reset_kind::zero;
        for (std::size_t j = 0; j < out.n_out; ++j) {
            // The firmware's reset selects theta or 0 where the host multiplies theta s': the
            // same numbers for every finite theta (see kernels::lif_step).
            const float theta = copy.neuron().threshold(j);
            if (!std::isfinite(theta))
                raise<numeric_error>(where, ": threshold of neuron ", j, " is ", theta,
                                     " (needs a finite number)");
            out.threshold.push_back(theta);
        }
    } else {
        out.neuron = firmware::neuron_kind::readout;
    }
    if constexpr (delayed) {
        out.delayed = true;
        const float* d = values.data() + store.info(copy.delay().parameter_index()).offset;
        const bool interpolate = copy.delay().options().forward == axonal_delay::mode::interpolate;
        for (std::size_t j = 0; j < out.n_out; ++j) {
            // delay/axonal.hpp's prepare(): k = floor(d), phi = d - k (0 for the shift).
            if (!(d[j] >= 0.0f) || !std::isfinite(d[j]) || d[j] > 65000.0f)
                raise<numeric_error>(where, ": delay of neuron ", j, " is ", d[j],
                                     " (needs a finite number in [0, 65000] steps)");
            const float k = std::floor(d[j]);
            out.delay_whole.push_back(static_cast<std::uint16_t>(k));
            out.delay_fraction.push_back(interpolate ? d[j] - k : 0.0f);
        }
    }
    for (float x : out.weight)
        if (!std::isfinite(x)) raise<numeric_error>(where, ": a weight is ", x);
    return out;
}

/// Fixed-point images of one layer's parameters and their errors.
inline void quantise(firmware_layer& L, const firmware_options& o) {
    using firmware::number_format;
    if (o.format == number_format::float32) return;
    const int bits = weight_bits(o.format);
    const double qmax = std::ldexp(1.0, bits - 1) - 1;
    double wmax = 0;
    for (float x : L.weight) wmax = std::max(wmax, std::fabs(double(x)));
    const double s = wmax > 0 ? wmax / qmax : 1.0;
    L.scale = static_cast<float>(s);
    double sum2 = 0;
    for (float x : L.weight) {
        const auto q = static_cast<std::int32_t>(
            std::clamp<double>(std::lround(double(x) / s), -qmax, qmax));
        L.weight_q.push_back(q);
        const double e = std::fabs(q * s - double(x));
        L.error.weight_max = std::max(L.error.weight_max, e);
        sum2 += e * e;
    }
    L.error.weight_rms = L.weight.empty() ? 0 : std::sqrt(sum2 / double(L.weight.size()));
    const double limit = 2147483647.0 / 4;
    const auto to_units = [&](float x, double& worst, const char* what) {
        const double u = double(x) / s;
        if (!(std::fabs(u) < limit))
            raise<numeric_error>("export_firmware: ", what, " ", x, " is ", u,
                                 " weight units: too large for the int32 membrane");
        const std::int32_t q = round_to_int(u);
        worst = std::max(worst, std::fabs(q * s - double(x)));
        return q;
    };
    for (float b : L.bias) L.bias_q.push_back(to_units(b, L.error.bias_max, "bias"));
    for (float t : L.threshold)
        L.threshold_q.push_back(to_units(t, L.error.threshold_max, "threshold"));
    // The worst current of one step: every input at full weight (a delayed input's two
    // fractions add up to one event), summed in int32 (Q7 for delayed inputs).
    for (std::size_t j = 0; j < L.n_out; ++j) {
        double worst = 0;
        for (std::size_t i = 0; i < L.n_in; ++i) worst += std::abs(L.weight_q[i * L.n_out + j]);
        if (worst * firmware::fraction_one > 2147483647.0)
            raise<numeric_error>("export_firmware: neuron ", j, ": the sum of |weights| ",
                                 worst, " overflows the int32 current");
    }
    if (o.decay_bits < 1 || o.decay_bits > 30)
        raise<option_error>("export_firmware: decay_bits ", o.decay_bits, " must lie in [1, 30]");
    L.decay_bits = o.decay_bits;
    for (float beta : L.beta) {
        const double f = std::clamp<double>(std::lround(std::ldexp(double(beta), L.decay_bits)),
                                            0, std::ldexp(1.0, L.decay_bits) - 1);
        L.decay_factor.push_back(static_cast<std::int32_t>(f));
        const int shift = beta >= 1.0f ? 31
                                       : std::clamp(int(std::lround(-std::log2(1.0 - beta))), 0, 31);
        L.decay_shift.push_back(static_cast<std::uint8_t>(shift));
        const double used = o.decay == firmware::decay_kind::shift
                                ? 1.0 - std::ldexp(1.0, -shift)
                                : std::ldexp(f, -L.decay_bits);
        L.error.beta_max = std::max(L.error.beta_max, std::fabs(used - double(beta)));
    }
    for (std::size_t j = 0; j < L.delay_whole.size(); ++j) {
        auto k = static_cast<int>(L.delay_whole[j]);
        int phi = int(std::lround(double(L.delay_fraction[j]) * firmware::fraction_one));
        if (phi >= firmware::fraction_one) {
            ++k;
            phi = 0;
        }
        L.delay_whole_q.push_back(static_cast<std::uint16_t>(k));
        L.delay_fraction_q.push_back(static_cast<std::uint8_t>(phi));
        L.error.delay_max_steps = std::max(
            L.error.delay_max_steps, std::fabs(k + phi / double(firmware::fraction_one) -
                                               (L.delay_whole[j] + double(L.delay_fraction[j]))));
    }
}

}  // namespace detail

/// The network's layers and parameters as a firmware model (not yet written).
template <class Net>
firmware_model make_firmware_model(const Net& net, const firmware_options& options = {}) {
    static_assert(std::is_same_v<typename Net::scalar_type, float>,
                  "export_firmware: the firmware engine exports float networks");
    firmware_model model;
    model.options = options;
    model.architecture = net.architecture();
    model.dt_ms = net.options().dt_ms;
    const auto& values = net.parameters().flat();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (model.layers.push_back(detail::export_layer(net.template layer<I>(), values,
                                                     net.parameters(), net.grid(), I)),
         ...);
    }(std::make_index_sequence<Net::depth>{});
    for (std::size_t k = 0; k + 1 < model.layers.size(); ++k)
        if (model.layers[k].neuron != firmware::neuron_kind::lif)
            raise<shape_error>("export_firmware: layer", k, " must spike (only the last may be "
                               "a readout)");
    const auto& last = model.layers.back();
    if (last.delayed)
        raise<shape_error>("export_firmware: the last layer has a delay: its output feeds no "
                           "layer (the firmware engine reports undelayed outputs)");
    if ((options.rule == firmware::score_rule::count) != (last.neuron == firmware::neuron_kind::lif))
        raise<option_error>("export_firmware: score rule 'count' goes with a spiking last layer, "
                            "last / max / mean with a readout");
    for (auto& layer : model.layers) detail::quantise(layer, options);
    return model;
}

namespace detail {

inline const char* format_name(firmware::number_format f) {
    switch (f) {
    case firmware::number_format::float32: return "float32";
    case firmware::number_format::int16: return "int16";
    case firmware::number_format::int8: return "int8";
    }
    return "?";
}
inline const char* rule_name(firmware::score_rule r) {
    switch (r) {
    case firmware::score_rule::last: return "last";
    case firmware::score_rule::max: return "max";
    case firmware::score_rule::mean: return "mean";
    case firmware::score_rule::count: return "count";
    }
    return "?";
}

/// A float as an exact C++ hex-float literal.
inline std::string float_literal(float x) {
    char text[48];
    std::snprintf(text, sizeof text, "%af", static_cast<double>(x));
    return text;
}

template <class T, class F>
void write_array(std::FILE* f, const char* type, const std::string& name, const std::vector<T>& v,
                 F&& literal) {
    std::fprintf(f, "inline constexpr %s %s[%zu] = {", type, name.c_str(),
                 std::max<std::size_t>(v.size(), 1));
    for (std::size_t i = 0; i < v.size(); ++i)
        std::fprintf(f, "%s%s", i % 8 ? " " : "\n    ", (literal(v[i]) + ",").c_str());
    if (v.empty()) std::fprintf(f, "0");
    std::fprintf(f, "};\n");
}

}  // namespace detail

/// Writes `model` as a header of constexpr arrays for firmware/engine.hpp: namespace
/// options.name with one layer_params per layer and `using network = engine<...>`.
inline void write_firmware_header(const firmware_model& model, const std::string& path) {
    using namespace firmware;
    const auto& o = model.options;
    const bool fixed = o.format != number_format::float32;
    const char* wtype = o.format == number_format::int16  ? "int16_t"
                        : o.format == number_format::int8 ? "int8_t"
                                                          : "float";
    const char* vtype = fixed ? "int32_t" : "float";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) raise<io_error>("export_firmware: cannot write ", path);
    const auto ints = [](auto x) { return std::to_string(static_cast<long long>(x)); };
    const auto floats = [](float x) { return detail::float_literal(x); };
    std::fprintf(f,
                 "// Generated by spikegrad's export_firmware: do not edit.\n"
                 "// %s, number format %s, score rule %s, dt %g ms.\n"
                 "#pragma once\n\n#include <spikegrad/firmware/engine.hpp>\n\n"
                 "#include <stdint.h>\n\nnamespace %s {\n\n",
                 model.architecture.c_str(), detail::format_name(o.format),
                 detail::rule_name(o.rule), model.dt_ms, o.name.c_str());
    std::fprintf(f, "inline constexpr float dt_ms = %s;\n", floats(float(model.dt_ms)).c_str());
    std::fprintf(f, "inline constexpr spikegrad::firmware::number_format format = "
                    "spikegrad::firmware::number_format::%s;\n\n", detail::format_name(o.format));
    std::string list;
    for (std::size_t k = 0; k < model.layers.size(); ++k) {
        const auto& L = model.layers[k];
        const std::string p = "layer" + std::to_string(k);
        if (fixed) {
            detail::write_array(f, wtype, p + "_weight", L.weight_q, ints);
            if (L.has_bias) detail::write_array(f, vtype, p + "_bias", L.bias_q, ints);
            if (!L.threshold_q.empty())
                detail::write_array(f, vtype, p + "_threshold", L.threshold_q, ints);
            detail::write_array(f, "int32_t", p + "_decay_factor", L.decay_factor, ints);
            detail::write_array(f, "uint8_t", p + "_decay_shift", L.decay_shift, ints);
            if (L.delayed) {
                detail::write_array(f, "uint16_t", p + "_delay_whole", L.delay_whole_q, ints);
                detail::write_array(f, "uint8_t", p + "_delay_fraction_q", L.delay_fraction_q,
                                    ints);
            }
        } else {
            detail::write_array(f, wtype, p + "_weight", L.weight, floats);
            if (L.has_bias) detail::write_array(f, vtype, p + "_bias", L.bias, floats);
            if (!L.threshold.empty())
                detail::write_array(f, vtype, p + "_threshold", L.threshold, floats);
            detail::write_array(f, "float", p + "_beta", L.beta, floats);
            if (L.delayed) {
                detail::write_array(f, "uint16_t", p + "_delay_whole", L.delay_whole, ints);
                detail::write_array(f, "float", p + "_delay_fraction", L.delay_fraction, floats);
            }
        }
        const auto ptr = [&](bool present, const std::string& name) {
            return present ? p + "_" + name : std::string("nullptr");
        };
        const bool lif = L.neuron == neuron_kind::lif;
        std::fprintf(
            f,
            "inline constexpr spikegrad::firmware::layer_params<%s, %s> %s{\n"
            "    %zu, %zu, spikegrad::firmware::neuron_kind::%s,\n"
            "    spikegrad::firmware::reset_kind::%s, %s, %s,\n"
            "    %s, %s, %s, %s,\n"
            "    spikegrad::firmware::decay_kind::%s, %d, %s, %s,\n"
            "    %s, %s, %s, %s};\n\n",
            wtype, vtype, p.c_str(), L.n_in, L.n_out, lif ? "lif" : "readout",
            L.reset == reset_kind::subtract ? "subtract" : "zero", L.has_bias ? "true" : "false",
            L.delayed ? "true" : "false", (p + "_weight").c_str(),
            ptr(L.has_bias, "bias").c_str(), ptr(lif, "threshold").c_str(),
            ptr(!fixed, "beta").c_str(),
            o.decay == decay_kind::shift ? "shift" : "multiply", L.decay_bits,
            ptr(fixed, "decay_factor").c_str(), ptr(fixed, "decay_shift").c_str(),
            ptr(L.delayed, "delay_whole").c_str(), ptr(L.delayed && !fixed, "delay_fraction").c_str(),
            ptr(L.delayed && fixed, "delay_fraction_q").c_str(), floats(L.scale).c_str());
        list += ", " + p;
    }
    std::fprintf(f,
                 "using network = spikegrad::firmware::engine<spikegrad::firmware::score_rule::%s%s>;"
                 "\n\n}  // namespace %s\n",
                 detail::rule_name(o.rule), list.c_str(), o.name.c_str());
    const bool failed = std::ferror(f) != 0;
    if (std::fclose(f) != 0 || failed) raise<io_error>("export_firmware: cannot write ", path);
}

/// make_firmware_model + write_firmware_header: returns the model with its quantisation errors.
template <class Net>
firmware_model export_firmware(const Net& net, const std::string& path,
                               const firmware_options& options = {}) {
    auto model = make_firmware_model(net, options);
    write_firmware_header(model, path);
    return model;
}

/// The firmware kernels at run-time sizes, over a firmware_model: what the generated header
/// computes, on the host (for accuracy reports and tests).
template <class W, class V>
class firmware_runner {
public:
    using score_value = std::conditional_t<firmware::is_fixed_v<V>, std::int64_t, float>;

    explicit firmware_runner(const firmware_model& model) : model_(model) {
        const bool fixed = firmware::is_fixed_v<V>;
        for (const auto& L : model_.layers) {
            storage& s = stores_.emplace_back();
            if constexpr (firmware::is_fixed_v<V>) {
                s.weight.assign(L.weight_q.begin(), L.weight_q.end());
                s.bias.assign(L.bias_q.begin(), L.bias_q.end());
                s.threshold.assign(L.threshold_q.begin(), L.threshold_q.end());
            } else {
                s.weight.assign(L.weight.begin(), L.weight.end());
                s.bias.assign(L.bias.begin(), L.bias.end());
                s.threshold.assign(L.threshold.begin(), L.threshold.end());
            }
            firmware::layer_params<W, V> p;
            p.n_in = L.n_in;
            p.n_out = L.n_out;
            p.neuron = L.neuron;
            p.reset = L.reset;
            p.has_bias = L.has_bias;
            p.delayed = L.delayed;
            p.weight = s.weight.data();
            p.bias = s.bias.data();
            p.threshold = s.threshold.data();
            p.beta = L.beta.data();
            p.decay = model_.options.decay;
            p.decay_bits = L.decay_bits;
            p.decay_factor = L.decay_factor.data();
            p.decay_shift = L.decay_shift.data();
            p.delay_whole = fixed ? L.delay_whole_q.data() : L.delay_whole.data();
            p.delay_fraction = L.delay_fraction.data();
            p.delay_fraction_q = L.delay_fraction_q.data();
            p.scale = L.scale;
            params_.push_back(p);
        }
        std::size_t widest = 0;
        for (std::size_t k = 0; k < params_.size(); ++k) {
            storage& s = stores_[k];
            const auto& p = params_[k];
            s.slots = firmware::arrival_slots(p);
            s.words = firmware::words_for(p.n_out);
            s.spikes.assign(s.words, 0);
            s.membrane.assign(p.n_out, V(0));
            s.current.assign(p.n_out, V(0));
            if (p.delayed) {
                s.on_time.assign(s.slots * s.words, 0);
                s.late.assign(s.slots * s.words, 0);
            }
            widest = std::max(widest, p.n_out);
        }
        scratch_units_.resize(2 * widest);
        scratch_values_.resize(2 * widest);
        scratch_fractions_.resize(2 * widest);
        scratch_sums_.resize(widest);
        scratch_keys_.resize(2 * widest);
        scores_.assign(params_.back().n_out, score_value(0));
    }

    const firmware::layer_params<W, V>& layer(std::size_t k) const { return params_[k]; }

    void reset() {
        for (auto& s : stores_) {
            std::fill(s.spikes.begin(), s.spikes.end(), 0u);
            std::fill(s.on_time.begin(), s.on_time.end(), 0u);
            std::fill(s.late.begin(), s.late.end(), 0u);
            std::fill(s.membrane.begin(), s.membrane.end(), V(0));
        }
        std::fill(scores_.begin(), scores_.end(), score_value(0));
        step_ = 0;
    }

    /// One step (as engine::push): returns the last layer's membranes.
    const V* push(const std::uint16_t* units, std::size_t count) {
        const firmware::kernels::step_scratch scratch{scratch_units_.data(), scratch_values_.data(),
                                                      scratch_fractions_.data(),
                                                      scratch_sums_.data(), scratch_keys_.data()};
        for (std::size_t k = 0; k < params_.size(); ++k) {
            const auto& p = params_[k];
            storage& s = stores_[k];
            firmware::kernels::begin_currents(p, s.current.data());
            if (k == 0)
                firmware::kernels::event_currents(p, units, count, s.current.data());
            else if (params_[k - 1].delayed)
                firmware::kernels::delayed_currents(p, params_[k - 1], ring(k - 1), step_,
                                                    s.current.data(), scratch);
            else
                firmware::kernels::spike_currents(p, view(k - 1), s.current.data(), scratch);
            if (p.neuron == firmware::neuron_kind::lif) {
                firmware::kernels::lif_step(p, s.current.data(), s.membrane.data(), view(k), step_);
                if (p.delayed)
                    firmware::kernels::schedule_arrivals(p, s.spikes.data(), step_, ring(k));
            } else {
                firmware::kernels::readout_step(p, s.current.data(), s.membrane.data(), step_);
            }
        }
        const std::size_t last = params_.size() - 1;
        firmware::kernels::accumulate_scores(model_.options.rule, params_[last].n_out,
                                             stores_[last].membrane.data(),
                                             stores_[last].spikes.data(), step_, scores_.data());
        ++step_;
        return stores_[last].membrane.data();
    }

    /// One sample of an event_view over T steps: returns the predicted class.
    std::size_t run(event_view<float> sample, std::size_t T) {
        reset();
        std::vector<std::uint16_t> units;
        for (std::size_t t = 0; t < T; ++t) {
            units.clear();
            for (std::size_t e = sample.begin(t); e < sample.end(t); ++e)
                units.push_back(static_cast<std::uint16_t>(sample.units[e]));
            push(units.data(), units.size());
        }
        return firmware::kernels::argmax(scores_.data(), scores_.size());
    }
    const std::vector<score_value>& raw_scores() const { return scores_; }
    /// Layer k's spikes of the last step pushed, a bit per neuron.
    const std::vector<std::uint32_t>& spikes(std::size_t k) const { return stores_[k].spikes; }

private:
    struct storage {
        std::vector<W> weight;
        std::vector<V> bias, threshold, membrane, current;
        std::vector<std::uint32_t> spikes;
        std::size_t slots = 1, words = 1;
        std::vector<std::uint32_t> on_time, late;  // a delayed layer's pending arrivals
    };
    firmware::history_view view(std::size_t k) {
        return {stores_[k].spikes.data(), stores_[k].words};
    }
    firmware::arrival_ring ring(std::size_t k) {
        return {stores_[k].on_time.data(), stores_[k].late.data(), stores_[k].slots,
                stores_[k].words};
    }

    firmware_model model_;
    std::vector<storage> stores_;
    std::vector<firmware::layer_params<W, V>> params_;
    std::vector<std::uint16_t> scratch_units_;
    std::vector<float> scratch_values_;
    std::vector<std::int32_t> scratch_fractions_, scratch_sums_;
    std::vector<std::uint32_t> scratch_keys_;
    std::vector<score_value> scores_;
    std::uint32_t step_ = 0;
};

/// The exported model's accuracy on a labelled batch (as the firmware computes it), and how
/// often its prediction agrees with `reference` (e.g. the float network's), if given.
struct firmware_score {
    std::size_t samples = 0, correct = 0, agree = 0;
    std::vector<int> predictions;
    double accuracy() const { return samples ? double(correct) / double(samples) : 0; }
};

inline firmware_score firmware_accuracy(const firmware_model& model, const event_batch& batch,
                                        const std::vector<int>* reference = nullptr) {
    if (!batch.labelled()) raise<data_error>("firmware_accuracy: the batch has no labels");
    if (batch.n_units > model.layers.front().n_in)
        raise<shape_error>("firmware_accuracy: batch has ", batch.n_units, " units, the model ",
                           model.layers.front().n_in, " inputs");
    firmware_score out;
    const auto run_all = [&](auto runner) {
        for (std::size_t b = 0; b < batch.n_samples; ++b) {
            const int p = static_cast<int>(runner.run(batch.sample(b), batch.n_steps));
            out.predictions.push_back(p);
            ++out.samples;
            if (p == batch.labels[b]) ++out.correct;
            if (reference && (*reference)[b] == p) ++out.agree;
        }
    };
    switch (model.options.format) {
    case firmware::number_format::float32: run_all(firmware_runner<float, float>(model)); break;
    case firmware::number_format::int16:
        run_all(firmware_runner<std::int16_t, std::int32_t>(model));
        break;
    case firmware::number_format::int8:
        run_all(firmware_runner<std::int8_t, std::int32_t>(model));
        break;
    }
    return out;
}

}  // namespace spikegrad

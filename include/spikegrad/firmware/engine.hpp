/// \file
/// spikegrad firmware: a trained network's inference for microcontrollers, with compile-time
/// sizes. The layers are constexpr layer_params objects of a model header written by
/// export_firmware (firmware/export.hpp); the state lives in a caller-owned struct (no heap),
/// and push() runs one time step: the step's input events in, the last layer's membranes out.
/// Freestanding C++17: no heap, no exceptions, no RTTI, no iostream, no xtensor.
///
///     static model::network::state s;          // model.hpp: using network = engine<...>
///     model::network::reset(s);
///     for (t ...) model::network::push(s, units_of_step_t, count);
///     size_t label = model::network::predict(s);
#pragma once

#include "kernels.hpp"

namespace spikegrad::firmware {

namespace detail {

template <const auto& L>
using weight_of = typename meta::pointee<decltype(L.weight)>::type;
template <const auto& L>
using value_of = typename meta::pointee<decltype(L.threshold)>::type;

/// One layer's state: membranes, currents, this step's spikes and, for a delayed layer, the
/// ring of its pending arrivals (kernels.hpp, arrival_ring).
template <const auto& L>
struct layer_state {
    using value = value_of<L>;
    static constexpr size_t words = words_for(L.n_out);
    static constexpr size_t slots = arrival_slots(L);
    value membrane[L.n_out];
    value current[L.n_out];
    uint32_t spikes[words];
    uint32_t on_time[L.delayed ? slots * words : 1];
    uint32_t late[L.delayed ? slots * words : 1];
    history_view view() { return {spikes, words}; }
    arrival_ring ring() { return {on_time, late, slots, words}; }
};

/// The states of layers L, Rest...: a recursive tuple without the standard library.
template <const auto& L, const auto&... Rest>
struct layer_states {
    layer_state<L> head;
    layer_states<Rest...> tail;
};
/// The states of layers L, Rest...: a recursive tuple without the standard library.
template <const auto& L>
struct layer_states<L> {
    layer_state<L> head;
};

/// The last of the layers L, Rest...
template <const auto& L, const auto&... Rest>
struct last_layer {
    static constexpr const auto& value = last_layer<Rest...>::value;
};
/// The last of the layers L, Rest...
template <const auto& L>
struct last_layer<L> {
    static constexpr const auto& value = L;
};

/// The first of the layers L, Rest...
template <const auto& L, const auto&... Rest>
struct first_layer {
    static constexpr const auto& value = L;
};

template <const auto& L, const auto&... Rest>
constexpr size_t widest() {
    if constexpr (sizeof...(Rest) == 0)
        return L.n_out;
    else
        return L.n_out > widest<Rest...>() ? L.n_out : widest<Rest...>();
}

}  // namespace detail

/// The engine for layers Layers... (constexpr layer_params of one number format) and the
/// score rule of the trained loss. All functions are static: the state is the caller's.
template <score_rule Rule, const auto&... Layers>
class engine {
    static constexpr const auto& last = detail::last_layer<Layers...>::value;

public:
    static_assert(sizeof...(Layers) >= 1, "firmware::engine needs at least one layer");
    using value = detail::value_of<last>;
    /// Scores: float for the float format, int64 for fixed point (the mean undivided).
    using score_value = meta::conditional_t<is_fixed_v<value>, int64_t, float>;
    static constexpr size_t n_inputs = detail::first_layer<Layers...>::value.n_in;
    static constexpr size_t n_outputs = last.n_out;
    static constexpr score_rule rule = Rule;

    struct state {
        detail::layer_states<Layers...> layers;
        uint16_t scratch_units[2 * detail::widest<Layers...>()];
        float scratch_values[2 * detail::widest<Layers...>()];
        int32_t scratch_fractions[2 * detail::widest<Layers...>()];
        int32_t scratch_sums[detail::widest<Layers...>()];
        uint32_t scratch_keys[2 * detail::widest<Layers...>()];
        score_value scores[n_outputs];
        uint32_t step;
    };

    /// Starts a sample: membranes, spike histories and scores to zero.
    static void reset(state& s) {
        clear<Layers...>(s.layers);
        for (size_t i = 0; i < n_outputs; ++i) s.scores[i] = score_value(0);
        s.step = 0;
    }

    /// One time step: the input events (unit indices < n_inputs, in the host's order) through
    /// every layer. Returns the last layer's membranes (float: x = v - theta for a spiking
    /// last layer, as the host's trace; fixed point: v in units of last.scale).
    static const value* push(state& s, const uint16_t* units, size_t count) {
        step<Layers...>(s.layers, s, units, count);
        auto& out = last_state<Layers...>(s.layers);
        kernels::accumulate_scores(Rule, n_outputs, out.membrane, out.spikes, s.step, s.scores);
        ++s.step;
        return out.membrane;
    }

    /// The last layer's spikes of the last step pushed, a bit per neuron.
    static const uint32_t* output_spikes(state& s) { return last_state<Layers...>(s.layers).spikes; }

    /// Class scores after the steps pushed so far.
    static void scores(const state& s, score_value* out) {
        for (size_t i = 0; i < n_outputs; ++i) {
            out[i] = s.scores[i];
            if constexpr (Rule == score_rule::mean && !is_fixed_v<value>)
                out[i] = s.scores[i] / static_cast<float>(s.step);
        }
    }

    /// The predicted class: the first index of the largest score.
    static size_t predict(const state& s) {
        score_value out[n_outputs];
        scores(s, out);
        return kernels::argmax(out, n_outputs);
    }

private:
    template <const auto& L, const auto&... Rest, class States>
    static void clear(States& s) {
        for (size_t j = 0; j < L.n_out; ++j) s.head.membrane[j] = s.head.current[j] = 0;
        for (auto& w : s.head.spikes) w = 0;
        for (auto& w : s.head.on_time) w = 0;
        for (auto& w : s.head.late) w = 0;
        if constexpr (sizeof...(Rest) > 0) clear<Rest...>(s.tail);
    }

    template <const auto& L, const auto&... Rest, class States>
    static auto& last_state(States& s) {
        if constexpr (sizeof...(Rest) == 0)
            return s.head;
        else
            return last_state<Rest...>(s.tail);
    }

    template <const auto& L, const auto&... Rest, class States>
    static void step(States& s, state& all, const uint16_t* units, size_t count) {
        kernels::begin_currents(L, s.head.current);
        kernels::event_currents(L, units, count, s.head.current);
        finish<L>(s.head, all.step);
        if constexpr (sizeof...(Rest) > 0) step_above<L, Rest...>(s.head, s.tail, all);
    }

    /// Layer L above layer Below (whose spikes of this step are in its state).
    template <const auto& Below, const auto& L, const auto&... Rest, class States>
    static void step_above(detail::layer_state<Below>& below, States& s, state& all) {
        const uint32_t t = all.step;
        const kernels::step_scratch scratch{all.scratch_units, all.scratch_values,
                                            all.scratch_fractions, all.scratch_sums,
                                            all.scratch_keys};
        kernels::begin_currents(L, s.head.current);
        if constexpr (Below.delayed)
            kernels::delayed_currents(L, Below, below.ring(), t, s.head.current, scratch);
        else
            kernels::spike_currents(L, below.view(), s.head.current, scratch);
        finish<L>(s.head, t);
        if constexpr (sizeof...(Rest) > 0) step_above<L, Rest...>(s.head, s.tail, all);
    }

    template <const auto& L>
    static void finish(detail::layer_state<L>& s, uint32_t t) {
        if constexpr (L.neuron == neuron_kind::lif) {
            kernels::lif_step(L, s.current, s.membrane, s.view(), t);
            if constexpr (L.delayed) kernels::schedule_arrivals(L, s.spikes, t, s.ring());
        } else {
            kernels::readout_step(L, s.current, s.membrane, t);
        }
    }
};

}  // namespace spikegrad::firmware

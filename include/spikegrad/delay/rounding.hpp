/// \file
/// spikegrad: learned axonal delays for hardware that only has integer delays: round them to
/// the nearest step, export them, and measure what rounding costs in accuracy.
#pragma once

#include "../core/events.hpp"
#include "../core/parameters.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikegrad {

/// One delayed layer's delays rounded to whole steps.
struct integer_delays {
    std::string parameter;            // "layer0.delay"
    std::vector<std::int64_t> steps;  // one per neuron
    double largest_change = 0;        // max |round(d) - d| over the layer
};

/// Every delay parameter of the network rounded to the nearest step (ties away from zero).
template <class Net>
std::vector<integer_delays> round_delays(const Net& net) {
    std::vector<integer_delays> out;
    const auto& store = net.parameters();
    for (std::size_t p = 0; p < store.count(); ++p) {
        const auto& info = store.info(p);
        if (info.kind != parameter_kind::delay) continue;
        integer_delays layer{info.name, {}, 0};
        for (auto d : store.values(p)) {
            const double rounded = std::round(static_cast<double>(d));
            layer.steps.push_back(static_cast<std::int64_t>(rounded));
            layer.largest_change = std::max(layer.largest_change, std::abs(rounded - double(d)));
        }
        out.push_back(std::move(layer));
    }
    return out;
}

/// A copy of the network whose delays are rounded to whole steps (so the interpolated and the
/// integer-shift forward passes coincide).
template <class Net>
Net with_rounded_delays(const Net& net) {
    Net copy = net;
    auto& store = copy.parameters();
    for (std::size_t p = 0; p < store.count(); ++p)
        if (store.info(p).kind == parameter_kind::delay)
            for (auto& d : store.values(p)) d = std::round(d);
    return copy;
}

/// Accuracy and loss of a network before and after its delays are rounded to whole steps.
struct rounding_report {
    double accuracy = 0, rounded_accuracy = 0;
    double loss = 0, rounded_loss = 0;
    double largest_change = 0;  // steps, over all layers
};

/// Accuracy and loss on `data` of the network and of its copy with rounded delays.
template <class Net, class Loss>
rounding_report rounded_delay_accuracy(const Net& net, const event_batch& data, const Loss& loss) {
    rounding_report report;
    const auto exact = net.evaluate(data, loss);
    const auto rounded = with_rounded_delays(net).evaluate(data, loss);
    report.accuracy = exact.accuracy();
    report.loss = exact.loss();
    report.rounded_accuracy = rounded.accuracy();
    report.rounded_loss = rounded.loss();
    for (const auto& layer : round_delays(net))
        report.largest_change = std::max(report.largest_change, layer.largest_change);
    return report;
}

}  // namespace spikegrad

/// \file
/// spikegrad: what training records: one row per epoch (loss, accuracy, learning rate, time)
/// for the training and validation sets, writable as CSV for plotting; and a confusion matrix.
#pragma once

#include "../core/error.hpp"
#include "../io/file.hpp"

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace spikegrad {

/// One layer over one epoch of training: its spiking activity on the training samples and the
/// mean L2 norm of its parameters' gradient over the epoch's batches.
struct layer_diagnostics {
    bool spiking = false;
    double rate = 0;                // spikes per neuron-step
    double silent_fraction = 0;     // neurons that never fired in the epoch
    double saturated_fraction = 0;  // neurons that fired on more than half of the steps
    double gradient_norm = 0;
};

/// Loss and accuracy of one epoch on the training and validation sets.
struct epoch_record {
    std::size_t epoch = 0;
    double train_loss = 0, train_accuracy = 0;
    double validation_loss = 0, validation_accuracy = 0;
    double learning_rate_scale = 1;
    double seconds = 0;
    double samples_per_second = 0;
    bool best = false;
    /// Samples whose top score was shared by several classes (counted 1/k, see step_stats).
    std::size_t train_ties = 0, validation_ties = 0;
    /// One entry per layer (see layer_diagnostics).
    std::vector<layer_diagnostics> layers;
};

/// Every epoch's record and the best epoch (lowest validation loss).
struct training_history {
    std::vector<epoch_record> epochs;
    std::size_t best_epoch = 0;
    double best_validation_loss = 0;
    bool stopped_early = false;

    /// One row per epoch: epoch,train_loss,train_accuracy,validation_loss,..., then per layer
    /// K layerK_rate,layerK_silent,layerK_saturated (spiking layers) and layerK_grad_norm.
    void write_csv(const std::string& path) const {
        std::string text =
            "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,"
            "learning_rate_scale,seconds,samples_per_second,best,train_ties,validation_ties";
        const std::vector<layer_diagnostics> none;
        const auto& shape = epochs.empty() ? none : epochs.front().layers;
        for (std::size_t k = 0; k < shape.size(); ++k) {
            const std::string p = ",layer" + std::to_string(k);
            if (shape[k].spiking) text += p + "_rate" + p + "_silent" + p + "_saturated";
            text += p + "_grad_norm";
        }
        text += "\n";
        char line[256];
        for (const auto& e : epochs) {
            std::snprintf(line, sizeof line, "%zu,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g,%.6g,%d,%zu,%zu",
                          e.epoch, e.train_loss, e.train_accuracy, e.validation_loss,
                          e.validation_accuracy, e.learning_rate_scale, e.seconds,
                          e.samples_per_second, e.best ? 1 : 0, e.train_ties, e.validation_ties);
            text += line;
            for (std::size_t k = 0; k < shape.size(); ++k) {
                const layer_diagnostics d = k < e.layers.size() ? e.layers[k] : layer_diagnostics{};
                if (shape[k].spiking) {
                    std::snprintf(line, sizeof line, ",%.6g,%.6g,%.6g", d.rate, d.silent_fraction,
                                  d.saturated_fraction);
                    text += line;
                }
                std::snprintf(line, sizeof line, ",%.6g", d.gradient_norm);
                text += line;
            }
            text += "\n";
        }
        io::write_atomically(path, [&](std::ofstream& out) { out << text; }, false);
    }
};

/// counts[true][predicted] over a set of predictions.
inline std::vector<std::vector<std::size_t>> confusion_matrix(
    const std::vector<int>& predictions, const std::vector<std::int32_t>& labels,
    std::size_t classes) {
    if (predictions.size() != labels.size())
        raise<shape_error>("confusion_matrix: ", predictions.size(), " predictions for ",
                           labels.size(), " labels");
    std::vector<std::vector<std::size_t>> counts(classes, std::vector<std::size_t>(classes, 0));
    for (std::size_t k = 0; k < labels.size(); ++k) {
        const auto y = static_cast<std::size_t>(labels[k]);
        const auto p = static_cast<std::size_t>(predictions[k]);
        if (y >= classes || p >= classes)
            raise<data_error>("confusion_matrix: sample ", k, " has class outside [0, ", classes, ")");
        ++counts[y][p];
    }
    return counts;
}

}  // namespace spikegrad

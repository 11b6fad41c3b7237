/// \file
/// spikegrad: trainer<Net, Loss, Rule> runs epochs over a labelled event_batch: seeded
/// shuffling, batching, one optimiser step per batch, validation after each epoch, a real copy
/// of the best model by validation loss, early stopping, step learning-rate decay, gradient
/// clipping, checkpoints and a one-line progress display (SPEC section 5).
#pragma once

#include "../core/activity.hpp"
#include "../core/error.hpp"
#include "../core/events.hpp"
#include "../core/random.hpp"
#include "checkpoint.hpp"
#include "metrics.hpp"
#include "optimizer.hpp"
#include "progress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

namespace spikegrad {

/// Options of a training run: learning rate, epochs, batch size, early stopping, checkpoints.
struct trainer_options {
    double lr = 1e-3;
    std::size_t epochs = 10;
    std::size_t batch = 32;
    /// Seed of the shuffling (the network's own seed sets its initial parameters).
    std::uint64_t seed = 0;
    /// Stop after this many epochs without a lower validation loss; 0 never stops early.
    std::size_t patience = 0;
    /// Multiply the learning rates by decay_gamma every decay_every epochs (0: never).
    std::size_t decay_every = 0;
    double decay_gamma = 0.1;
    /// [opt-in] Cosine annealing (Loshchilov and Hutter 2017, without restarts): after epoch
    /// e of E the learning rates are scaled by m + (1 - m) (1 + cos(pi e / E)) / 2 with
    /// m = cosine_floor, applied on top of the step decay above. Negative: off.
    double cosine_floor = -1;
    /// Clip the global gradient norm to this value (0: no clipping).
    double clip_norm = 0;
    /// Restore the parameters of the epoch with the lowest validation loss at the end.
    bool keep_best = true;
    /// When set, the network and optimiser state are saved here after every epoch, and the
    /// best model to `checkpoint + ".best"`.
    std::string checkpoint;
    progress_mode progress = progress_mode::automatic;
    /// Samples per forward pass when evaluating.
    std::size_t evaluation_batch = 256;
};

/// Trains a network with a loss and an update rule over epochs, keeping the best model.
template <class Net, class Loss, class Rule = adam>
class trainer {
public:
    using scalar_type = typename Net::scalar_type;
    using optimizer_type = spikegrad::optimizer<Rule, scalar_type>;

    trainer(Net& net, trainer_options options, Loss loss = {}, typename Rule::params rule = {},
            std::vector<parameter_group> groups = {})
        : net_(net),
          options_(std::move(options)),
          loss_(loss),
          optimizer_(net.parameters(), options_.lr, rule, std::move(groups)) {
        if (options_.batch == 0) raise<option_error>("trainer: batch must be at least 1");
        if (options_.evaluation_batch == 0)
            raise<option_error>("trainer: evaluation_batch must be at least 1");
        if (!(options_.decay_gamma > 0)) raise<option_error>("trainer: decay_gamma must be > 0");
        if (!(options_.cosine_floor < 0 || options_.cosine_floor <= 1))
            raise<option_error>("trainer: cosine_floor ", options_.cosine_floor,
                                " must be in [0, 1] (negative: no cosine schedule)");
    }

    optimizer_type& optimiser() { return optimizer_; }
    const Loss& loss() const { return loss_; }
    const training_history& history() const { return history_; }

    /// Trains for options.epochs epochs (or until early stopping); returns the history. The
    /// sets are `event_batch`es (time-stepped networks) or `timed_batch`es (`event_network`):
    /// anything with n_samples, n_units, labels and select(indices).
    template <class Set>
    training_history run(const Set& train, const Set& validation = {}) {
        check_set(train, "training set");
        if (net_.n_outputs() > 1 &&
            std::all_of(train.labels.begin(), train.labels.end(),
                        [&](std::int32_t label) { return label == train.labels.front(); }))
            raise<data_error>("trainer: the training set holds only class ", train.labels.front(),
                              " (the network has ", net_.n_outputs(),
                              " outputs): a classifier cannot learn from one class");
        const bool validating = validation.n_samples > 0;
        if (validating) check_set(validation, "validation set");
        rng shuffler(options_.seed);
        std::vector<std::size_t> order(train.n_samples);
        std::iota(order.begin(), order.end(), std::size_t(0));
        progress_line progress(options_.progress);
        Net best = net_;
        double best_loss = INFINITY;
        std::size_t since_best = 0;
        history_ = {};
        const std::size_t batches = (train.n_samples + options_.batch - 1) / options_.batch;
        const auto run_start = std::chrono::steady_clock::now();
        // A NaN or infinity (loss, gradient, parameter) stops training with an error naming
        // the epoch and batch; the network is first given back its best epoch's parameters
        // (keep_best), and the best checkpoint on disk is the last one saved before.
        try {
            for (std::size_t epoch = 1; epoch <= options_.epochs; ++epoch) {
                const auto start = std::chrono::steady_clock::now();
                shuffler.shuffle(order);
                step_stats seen;
                network_activity activity;
                std::vector<double> gradient_norms;
                for (std::size_t k = 0; k < batches; ++k) {
                    const std::size_t first = k * options_.batch;
                    const std::size_t last = std::min(train.n_samples, first + options_.batch);
                    const Set batch = train.select(
                        std::span<const std::size_t>(order.data() + first, last - first));
                    seen += step(batch, epoch, k + 1, gradient_norms);
                    activity += net_.activity();
                    const double elapsed = seconds_since(start);
                    const double rate = static_cast<double>(seen.samples) / std::max(elapsed, 1e-9);
                    const double total = seconds_since(run_start);
                    const double done_fraction =
                        (static_cast<double>(epoch - 1) + double(k + 1) / double(batches)) /
                        static_cast<double>(options_.epochs);
                    progress.update(status(epoch, k + 1, batches, seen, rate,
                                           total / done_fraction - total));
                }
                epoch_record record;
                record.epoch = epoch;
                record.train_loss = seen.loss();
                record.train_accuracy = seen.accuracy();
                record.train_ties = seen.ties;
                if (validating) {
                    step_stats v;
                    try {
                        v = evaluate(validation);
                    } catch (const numeric_error& e) {
                        raise<numeric_error>("training: epoch ", epoch, ", validation: ", e.what());
                    }
                    record.validation_loss = v.loss();
                    record.validation_accuracy = v.accuracy();
                    record.validation_ties = v.ties;
                }
                record.learning_rate_scale = optimizer_.learning_rate_scale();
                record.seconds = seconds_since(start);
                record.samples_per_second = static_cast<double>(seen.samples) / std::max(record.seconds, 1e-9);
                record.layers = diagnostics(activity, gradient_norms, batches);
                const double monitored = validating ? record.validation_loss : record.train_loss;
                if (monitored < best_loss) {
                    best_loss = monitored;
                    best = net_;
                    record.best = true;
                    history_.best_epoch = epoch;
                    history_.best_validation_loss = monitored;
                    since_best = 0;
                    if (!options_.checkpoint.empty())
                        save_checkpoint(options_.checkpoint + ".best", net_, &optimizer_);
                } else {
                    ++since_best;
                }
                history_.epochs.push_back(record);
                if (!options_.checkpoint.empty()) save_checkpoint(options_.checkpoint, net_, &optimizer_);
                progress.finish(summary(record, validating));
                net_.end_epoch(epoch);
                if (options_.decay_every > 0 && epoch % options_.decay_every == 0)
                    optimizer_.scale_learning_rate(options_.decay_gamma);
                if (options_.cosine_floor >= 0) {
                    const auto cosine = [&](std::size_t e) {
                        const double m = options_.cosine_floor, pi = 3.14159265358979323846;
                        return m + (1 - m) * 0.5 *
                                       (1 + std::cos(pi * double(e) / double(options_.epochs)));
                    };
                    optimizer_.scale_learning_rate(cosine(epoch) / cosine(epoch - 1));
                }
                if (options_.patience > 0 && since_best >= options_.patience) {
                    history_.stopped_early = true;
                    break;
                }
            }
        } catch (const numeric_error& e) {
            raise<numeric_error>(e.what(), after_numeric_error(best));
        }
        if (options_.keep_best && history_.best_epoch > 0) net_ = best;
        return history_;
    }

    /// Loss and accuracy of the current network on a labelled set, in evaluation batches.
    template <class Set>
    step_stats evaluate(const Set& data, std::vector<int>* predictions = nullptr) const {
        step_stats total;
        if (predictions) predictions->clear();
        std::vector<std::size_t> indices;
        std::vector<int> part;
        for (std::size_t first = 0; first < data.n_samples; first += options_.evaluation_batch) {
            const std::size_t last = std::min(data.n_samples, first + options_.evaluation_batch);
            indices.resize(last - first);
            std::iota(indices.begin(), indices.end(), first);
            if (first == 0 && last == data.n_samples) {
                total += net_.evaluate(data, loss_, predictions ? &part : nullptr);
            } else {
                total += net_.evaluate(data.select(indices), loss_, predictions ? &part : nullptr);
            }
            if (predictions) predictions->insert(predictions->end(), part.begin(), part.end());
        }
        return total;
    }

private:
    /// Per-layer activity and mean gradient norm of an epoch (norms summed over its batches).
    static std::vector<layer_diagnostics> diagnostics(const network_activity& activity,
                                                      const std::vector<double>& norm_sums,
                                                      std::size_t batches) {
        std::vector<layer_diagnostics> out(activity.size());
        for (std::size_t k = 0; k < out.size(); ++k) {
            out[k].spiking = activity[k].spiking;
            out[k].rate = activity[k].rate();
            out[k].silent_fraction = activity[k].silent_fraction();
            out[k].saturated_fraction = activity[k].saturated_fraction();
            if (k < norm_sums.size()) out[k].gradient_norm = norm_sums[k] / double(batches);
        }
        return out;
    }

    /// Adds each layer's gradient L2 norm (parameters named "layer<K>.") to sums[K].
    void add_gradient_norms(const std::vector<scalar_type>& grads, std::vector<double>& sums) const {
        const auto& store = net_.parameters();
        std::vector<double> squares(layers(), 0.0);
        for (const auto& info : store.infos()) {
            const std::size_t layer = layer_of(info.name);
            if (layer >= squares.size()) continue;
            for (std::size_t k = info.offset; k < info.offset + info.size; ++k)
                squares[layer] += static_cast<double>(grads[k]) * static_cast<double>(grads[k]);
        }
        sums.resize(layers(), 0.0);
        for (std::size_t k = 0; k < squares.size(); ++k) sums[k] += std::sqrt(squares[k]);
    }

    /// Layers of the network: a compile-time depth, or depth() of a network sized at run time.
    std::size_t layers() const {
        if constexpr (requires { Net::depth + 0; }) return Net::depth;
        else return net_.depth();
    }

    /// K of a parameter named "layer<K>.<what>" (a value past every layer otherwise).
    static std::size_t layer_of(const std::string& name) {
        if (name.rfind("layer", 0) != 0) return std::size_t(-1);
        std::size_t k = 0, i = 5;
        if (i >= name.size() || name[i] < '0' || name[i] > '9') return std::size_t(-1);
        for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) k = 10 * k + std::size_t(name[i] - '0');
        return k;
    }

    /// What run() leaves behind after a numeric error, for its message; restores the best.
    std::string after_numeric_error(const Net& best) {
        std::string saved;
        if (!options_.checkpoint.empty() && history_.best_epoch > 0)
            saved = ", saved in " + options_.checkpoint + ".best";
        if (!options_.keep_best)
            return history_.best_epoch > 0
                       ? "; the best model is of epoch " + std::to_string(history_.best_epoch) + saved
                       : std::string("; no epoch finished");
        net_ = best;
        if (history_.best_epoch == 0)
            return "; no epoch finished: the network holds its parameters from before training";
        return "; the network holds the best model, of epoch " +
               std::to_string(history_.best_epoch) + saved;
    }

    template <class Set>
    step_stats step(const Set& batch, std::size_t epoch, std::size_t index,
                    std::vector<double>& gradient_norms) {
        step_stats stats;
        try {
            stats = net_.train_step(batch, loss_);
        } catch (const numeric_error& e) {
            raise<numeric_error>("training: epoch ", epoch, ", batch ", index, ": ", e.what());
        }
        auto& grads = net_.gradients();
        add_gradient_norms(grads, gradient_norms);  // before clipping: what backward produced
        if (options_.clip_norm > 0) clip_gradient_norm(grads, options_.clip_norm);
        for (std::size_t k = 0; k < grads.size(); ++k)
            if (!std::isfinite(grads[k]))
                raise<numeric_error>("training: epoch ", epoch, ", batch ", index,
                                     ": gradient of a parameter is not finite (element ", k, ")");
        optimizer_.step(net_.parameters(), grads);
        net_.parameters().check_finite("training: epoch " + std::to_string(epoch) + ", batch " +
                                       std::to_string(index));
        return stats;
    }

    template <class Set>
    void check_set(const Set& set, const char* what) const {
        if (set.n_samples == 0) raise<data_error>("trainer: the ", what, " is empty");
        if (set.labels.size() != set.n_samples)
            raise<data_error>("trainer: the ", what, " has ", set.labels.size(), " labels for ",
                              set.n_samples, " samples");
        if (set.n_units != net_.n_inputs())
            raise<shape_error>("trainer: the ", what, " has ", set.n_units,
                               " units but the network expects ", net_.n_inputs());
    }

    static double seconds_since(std::chrono::steady_clock::time_point start) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    std::string status(std::size_t epoch, std::size_t batch, std::size_t batches,
                       const step_stats& seen, double rate, double left) const {
        char text[256];
        std::snprintf(text, sizeof text,
                      "epoch %zu/%zu  batch %zu/%zu  loss %.4f  acc %.1f%%  %.0f samples/s  "
                      "left %s",
                      epoch, options_.epochs, batch, batches, seen.loss(), 100 * seen.accuracy(),
                      rate, format_duration(left).c_str());
        return text;
    }

    /// "  rate 4.1% 3.2% (silent 0% 12%)": the spiking layers' activity of an epoch.
    static std::string activity_text(const epoch_record& r) {
        std::string rates, silent;
        char part[32];
        for (const auto& d : r.layers) {
            if (!d.spiking) continue;
            std::snprintf(part, sizeof part, " %.1f%%", 100 * d.rate);
            rates += part;
            std::snprintf(part, sizeof part, " %.0f%%", 100 * d.silent_fraction);
            silent += part;
        }
        return rates.empty() ? std::string() : "  rate" + rates + " (silent" + silent + ")";
    }

    std::string summary(const epoch_record& r, bool validating) const {
        std::string ties;
        if (r.train_ties + r.validation_ties > 0)
            ties = "  ties " + std::to_string(r.train_ties) + "/" + std::to_string(r.validation_ties);
        return summary_core(r, validating) + activity_text(r) + ties;
    }

    std::string summary_core(const epoch_record& r, bool validating) const {
        char text[256];
        if (validating)
            std::snprintf(text, sizeof text,
                          "epoch %zu/%zu  loss %.4f  acc %.1f%%  val loss %.4f  val acc %.1f%%  "
                          "%.0f samples/s%s",
                          r.epoch, options_.epochs, r.train_loss, 100 * r.train_accuracy,
                          r.validation_loss, 100 * r.validation_accuracy, r.samples_per_second,
                          r.best ? "  *" : "");
        else
            std::snprintf(text, sizeof text, "epoch %zu/%zu  loss %.4f  acc %.1f%%  %.0f samples/s",
                          r.epoch, options_.epochs, r.train_loss, 100 * r.train_accuracy,
                          r.samples_per_second);
        return text;
    }

    Net& net_;
    trainer_options options_;
    Loss loss_;
    optimizer_type optimizer_;
    training_history history_;
};

}  // namespace spikegrad

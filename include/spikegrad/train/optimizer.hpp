/// \file
/// spikegrad: optimisers. An update rule (sgd, adam, nadam) is a policy; optimizer<Rule> holds
/// the per-element state in the parameter store's layout (so it is copied and checkpointed
/// with the parameters it belongs to), the learning rate of each parameter group, and the
/// projection of bounded parameters (time constants, delays) after every step.
#pragma once

#include "../core/error.hpp"
#include "../config.hpp"
#include "../core/parameters.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace spikegrad {

/// SGD with optional (Nesterov) momentum and L2 weight decay.
struct sgd {
    struct params {
        double momentum = 0.0;
        bool nesterov = false;
        double weight_decay = 0.0;
    };
    static constexpr std::size_t slots = 1;
    static constexpr const char* name = "sgd";

    template <class S>
    static void update(const params& p, double lr, std::size_t, S* value, const S* grad,
                       std::array<S*, slots> state, std::size_t n) {
        S* velocity = state[0];
        for (std::size_t k = 0; k < n; ++k) {
            S g = grad[k] + S(p.weight_decay) * value[k];
            if (p.momentum != 0.f) {
                velocity[k] = S(p.momentum) * velocity[k] + g;
                g = p.nesterov ? g + S(p.momentum) * velocity[k] : velocity[k];
            }
            value[k] -= S(lr) * g;
        }
    }
};

/// The constants of Adam and Nadam.
struct adaptive_moment_params {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};

namespace detail {

/// One step of Adam's first and second moments for element k; returns the decayed gradient.
template <class S>
SPIKEGRAD_ALWAYS_INLINE S update_moments(const adaptive_moment_params& p, S value, S grad, S& m,
                                         S& v) {
    const S g = grad + S(p.weight_decay) * value;
    m = S(p.beta1) * m + S(1 - p.beta1) * g;
    v = S(p.beta2) * v + S(1 - p.beta2) * g * g;
    return g;
}

}  // namespace detail

/// Adam (Kingma and Ba 2015) with bias correction.
struct adam {
    using params = adaptive_moment_params;
    static constexpr std::size_t slots = 2;
    static constexpr const char* name = "adam";

    template <class S>
    static void update(const params& p, double lr, std::size_t step, S* value, const S* grad,
                       std::array<S*, slots> state, std::size_t n) {
        S* m = state[0];
        S* v = state[1];
        const double c1 = 1 - std::pow(p.beta1, double(step));
        const double c2 = 1 - std::pow(p.beta2, double(step));
        const S step_size = S(lr / c1);
        const S root_c2 = S(std::sqrt(c2));
        for (std::size_t k = 0; k < n; ++k) {
            detail::update_moments(p, value[k], grad[k], m[k], v[k]);
            value[k] -= step_size * m[k] / (std::sqrt(v[k]) / root_c2 + S(p.eps));
        }
    }
};

/// Nadam, Adam with Nesterov momentum (Dozat 2016), exactly as slayerPytorch's optimiser
/// (slayerPytorch/src/optimizer.py, used by the released SHD code) computes it:
/// theta -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * (beta1 m + (1 - beta1) g) / (sqrt(v) + eps),
/// i.e. beta1 m_hat + (1 - beta1) g / (1 - beta1^t) over sqrt(v_hat) + eps / sqrt(1 - beta2^t):
/// eps sits on the uncorrected sqrt(v). Not torch.optim.NAdam, which adds a momentum-decay
/// schedule mu_t = beta1 (1 - 0.5 * 0.96^(0.004 t)) (tests/network/pytorch_reference.cpp).
struct nadam {
    using params = adaptive_moment_params;
    static constexpr std::size_t slots = 2;
    static constexpr const char* name = "nadam";

    template <class S>
    static void update(const params& p, double lr, std::size_t step, S* value, const S* grad,
                       std::array<S*, slots> state, std::size_t n) {
        S* m = state[0];
        S* v = state[1];
        const double c1 = 1 - std::pow(p.beta1, double(step));
        const double c2 = 1 - std::pow(p.beta2, double(step));
        const S step_size = S(lr * std::sqrt(c2) / c1);
        for (std::size_t k = 0; k < n; ++k) {
            const S g = detail::update_moments(p, value[k], grad[k], m[k], v[k]);
            const S direction = S(p.beta1) * m[k] + S(1 - p.beta1) * g;
            value[k] -= step_size * direction / (std::sqrt(v[k]) + S(p.eps));
        }
    }
};

/// Parameters selected by kind and/or name prefix get their own learning rate.
struct parameter_group {
    std::optional<parameter_kind> kind;
    std::string name_prefix;
    double lr = 1e-3;

    bool selects(const parameter_info& info) const {
        if (kind && info.kind != *kind) return false;
        return info.name.rfind(name_prefix, 0) == 0;
    }
};

/// Scales `grads` so that their global L2 norm is at most max_norm; returns the norm before.
template <class S>
double clip_gradient_norm(std::vector<S>& grads, double max_norm) {
    double sum = 0;
    for (S g : grads) sum += double(g) * double(g);
    const double norm = std::sqrt(sum);
    if (max_norm > 0 && norm > max_norm) {
        const S factor = S(max_norm / norm);
        for (S& g : grads) g *= factor;
    }
    return norm;
}

/// An update Rule (SGD, Adam, ...) over a network's parameter groups, with its state kept per
/// parameter.
template <class Rule, class S = float>
class optimizer {
public:
    using rule_type = Rule;

    /// `lr` for every parameter that no group selects; the first matching group wins.
    optimizer(const parameter_store<S>& store, double lr, typename Rule::params p = {},
              std::vector<parameter_group> groups = {})
        : params_(p), groups_(std::move(groups)) {
        if (!(lr > 0) || !std::isfinite(lr))
            raise<option_error>("optimizer: learning rate ", lr, " must be positive");
        for (const auto& g : groups_)
            if (!(g.lr >= 0) || !std::isfinite(g.lr))
                raise<option_error>("optimizer: group '", g.name_prefix, "' learning rate ",
                                    g.lr, " must be >= 0");
        for (auto& slot : state_) slot.assign(store.size(), S(0));
        for (const auto& info : store.infos()) {
            double rate = lr;
            for (const auto& g : groups_)
                if (g.selects(info)) {
                    rate = g.lr;
                    break;
                }
            rates_.push_back(rate);
        }
        size_ = store.size();
    }

    /// One update of every parameter from `grads` (the store's layout), then the projection
    /// of bounded parameters into [lower, upper].
    void step(parameter_store<S>& store, const std::vector<S>& grads) {
        if (store.size() != size_ || grads.size() != size_)
            raise<shape_error>("optimizer: built for ", size_, " parameters, got a store of ",
                               store.size(), " and ", grads.size(), " gradients");
        ++steps_;
        const auto& infos = store.infos();
        for (std::size_t p = 0; p < infos.size(); ++p) {
            const auto& info = infos[p];
            if (rates_[p] * scale_ == 0) continue;
            std::array<S*, Rule::slots> slots{};
            for (std::size_t s = 0; s < Rule::slots; ++s) slots[s] = state_[s].data() + info.offset;
            Rule::update(params_, rates_[p] * scale_, steps_, store.flat().data() + info.offset,
                         grads.data() + info.offset, slots, info.size);
        }
        store.project();
    }

    /// Multiplies every learning rate by `factor` (step decay).
    void scale_learning_rate(double factor) { scale_ *= factor; }
    double learning_rate_scale() const { return scale_; }
    double learning_rate(std::size_t parameter) const { return rates_.at(parameter) * scale_; }
    std::size_t steps() const { return steps_; }
    const typename Rule::params& rule_params() const { return params_; }

    /// State for checkpoints: the step count, the decay scale and the per-element slots.
    void set_steps(std::size_t steps, double scale) {
        steps_ = steps;
        scale_ = scale;
    }
    std::array<std::vector<S>, Rule::slots>& slots() { return state_; }
    const std::array<std::vector<S>, Rule::slots>& slots() const { return state_; }

private:
    typename Rule::params params_;
    std::vector<parameter_group> groups_;
    std::vector<double> rates_;
    std::array<std::vector<S>, Rule::slots> state_;
    std::size_t size_ = 0;
    std::size_t steps_ = 0;
    double scale_ = 1;
};

}  // namespace spikegrad

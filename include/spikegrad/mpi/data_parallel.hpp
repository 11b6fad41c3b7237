/// \file
/// spikegrad::mpi: data-parallel training. Every rank holds the whole training set and the same
/// shuffled order (the trainer's seed); each rank runs its contiguous shard of every global batch
/// and the gradients are summed across ranks in a fixed order, so a step on R ranks of t threads
/// gives bit-for-bit the gradient of one process running the same global batch on R x t threads.
#pragma once

#include "../core/error.hpp"
#include "../core/events.hpp"
#include "../network/network.hpp"
#include "../network/settings.hpp"
#include "../simd/kernels.hpp"
#include "../train/trainer.hpp"
#include "environment.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <utility>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace spikegrad::mpi {

/// Samples [first, last) of a batch.
struct sample_range {
    std::size_t first = 0, last = 0;
    std::size_t size() const { return last - first; }
    bool empty() const { return first == last; }
};

/// The samples thread `part` of `parts` runs when B samples are split statically (OpenMP's
/// `schedule(static)` as GCC's libgomp implements it: contiguous runs, the first B % parts
/// threads one sample more).
inline sample_range static_part(std::size_t B, std::size_t parts, std::size_t part) {
    const std::size_t q = B / parts, extra = B % parts;
    const auto begin = [&](std::size_t k) { return k * q + std::min(k, extra); };
    return {begin(part), begin(part + 1)};
}

/// Rank r's shard of a batch of B samples on R ranks of t threads: the samples of threads
/// r t .. r t + t - 1 of one process running R x t threads. Inside the shard the rank's own t
/// threads then split it exactly as those threads would.
inline sample_range shard_of(std::size_t B, std::size_t ranks, std::size_t threads, std::size_t r) {
    const std::size_t parts = ranks * threads;
    return {static_part(B, parts, r * threads).first, static_part(B, parts, r * threads + threads - 1).last};
}

/// Samples of a batch in [first, last) as their own batch (the batch itself when whole).
inline event_batch select_range(const event_batch& batch, sample_range range) {
    if (range.first == 0 && range.last == batch.n_samples) return batch;
    std::vector<std::size_t> indices(range.size());
    std::iota(indices.begin(), indices.end(), range.first);
    return batch.select(indices);
}

/// out = the sum, from the left, of every rank's `parts` (rank 0's first, each rank's in order),
/// on every rank: a pipelined chain 0 -> 1 -> ... -> active-1 in segments of `segment`
/// elements (rank r adds segment k while rank r + 1 adds segment k - 1), then a broadcast from
/// rank active-1. Ranks >= `active` contribute nothing (their parts must be empty); every rank
/// calls it. Exactly the additions, in the same order, that one process makes over all the
/// parts, so the result is bit-identical to it.
template <class Scalar>
void ordered_sum(std::span<const Scalar* const> parts, std::vector<Scalar>& out, int active,
                 MPI_Comm comm, std::size_t segment = 16384) {
    const int me = rank(comm);
    const std::size_t n = out.size();
    if (me < active) {
        if (parts.empty() && me == 0)
            raise<shape_error>("mpi::ordered_sum: rank 0 has no parts to sum");
        std::vector<MPI_Request> sends;
        for (std::size_t a = 0; a < n; a += segment) {
            const std::size_t len = std::min(segment, n - a);
            std::size_t k = 0;
            if (me == 0) {
                std::copy(parts[0] + a, parts[0] + a + len, out.begin() + static_cast<std::ptrdiff_t>(a));
                k = 1;
            } else {
                MPI_Recv(out.data() + a, static_cast<int>(len), datatype<Scalar>(), me - 1, 0, comm,
                         MPI_STATUS_IGNORE);
            }
            for (; k < parts.size(); ++k) simd::add_row(len, parts[k] + a, out.data() + a);
            if (me + 1 < active) {
                sends.emplace_back();
                MPI_Isend(out.data() + a, static_cast<int>(len), datatype<Scalar>(), me + 1, 0, comm,
                          &sends.back());
            }
        }
        MPI_Waitall(static_cast<int>(sends.size()), sends.data(), MPI_STATUSES_IGNORE);
    }
    MPI_Bcast(out.data(), static_cast<int>(n), datatype<Scalar>(), active - 1, comm);
}

/// Seconds of the last data-parallel step: running this rank's shard, and everything after it
/// (agreeing on failures, the gradient chain and broadcast, the activity and statistics sums,
/// including any wait for a slower rank).
struct step_timing {
    double compute_seconds = 0, communication_seconds = 0;
};

/// A network trained data-parallel over the ranks of a communicator. It offers what the trainer
/// uses (parameters, gradients, train_step, evaluate, forward, activity, end_epoch), so
/// `mpi::trainer<Net, Loss, Rule>` (or spikegrad::trainer over it) trains unchanged.
///
/// Guarantees (all ranks pass the same global batches: same data, same trainer seed):
/// - on construction every rank takes rank 0's parameters and bounds;
/// - train_step's gradient is bit-identical to `Net::train_step` of one process with
///   threads = ranks x threads per rank on the same global batch, on every rank; parameters
///   stay bit-identical across ranks and equal to that process's;
/// - the loss and accuracy sums and the evaluation results are summed over ranks in rank order
///   (equal on every rank; they may differ from one process in the last bits of a double);
/// - when any rank fails in a step, every rank raises rank_error with that rank's message.
template <class Net>
class data_parallel {
public:
    using scalar_type = typename Net::scalar_type;
    using network_type = Net;
    static constexpr std::size_t depth = Net::depth;
    explicit data_parallel(Net net, MPI_Comm comm = MPI_COMM_WORLD)
        : net_(std::move(net)), comm_(comm), rank_(mpi::rank(comm)), ranks_(mpi::size(comm)) {
        std::string mismatch;
        const std::string arch = broadcast_string(net_.architecture());
        if (arch != net_.architecture())
            mismatch = "architecture " + net_.architecture() + " differs from rank 0's " + arch;
        const int t = net_.threads();
        std::vector<int> all(static_cast<std::size_t>(ranks_));
        MPI_Allgather(&t, 1, MPI_INT, all.data(), 1, MPI_INT, comm_);
        for (int r = 0; r < ranks_ && mismatch.empty(); ++r)
            if (all[static_cast<std::size_t>(r)] != t)
                mismatch = "rank " + std::to_string(r) + " runs " +
                           std::to_string(all[static_cast<std::size_t>(r)]) + " threads, this rank " +
                           std::to_string(t) + " (set network_options::threads the same on every rank)";
        agree_on_failure(mismatch.empty() ? nullptr : &mismatch, "mpi::data_parallel", comm_);
        threads_ = static_cast<std::size_t>(t);
        broadcast_parameters(0);
    }

    /// This rank's network.
    Net& local() { return net_; }
    const Net& local() const { return net_; }
    MPI_Comm communicator() const { return comm_; }
    int rank() const { return rank_; }
    int ranks() const { return ranks_; }
    std::size_t threads_per_rank() const { return threads_; }
    /// This rank's samples of a global batch of B.
    sample_range shard(std::size_t B) const {
        return shard_of(B, static_cast<std::size_t>(ranks_), threads_, static_cast<std::size_t>(rank_));
    }

    /// Every rank takes `root`'s parameter values and bounds (after a checkpoint is loaded on
    /// one rank, for instance).
    void broadcast_parameters(int root = 0) {
        auto& store = net_.parameters();
        MPI_Bcast(store.flat().data(), static_cast<int>(store.size()), datatype<scalar_type>(), root,
                  comm_);
        std::vector<double> bounds;
        for (const auto& info : store.infos()) {
            bounds.push_back(info.lower);
            bounds.push_back(info.upper);
        }
        MPI_Bcast(bounds.data(), static_cast<int>(bounds.size()), MPI_DOUBLE, root, comm_);
        for (std::size_t k = 0; k < store.count(); ++k) store.set_bounds(k, bounds[2 * k], bounds[2 * k + 1]);
    }

    // --- what the trainer uses ----------------------------------------------------------------
    parameter_store<scalar_type>& parameters() { return net_.parameters(); }
    const parameter_store<scalar_type>& parameters() const { return net_.parameters(); }
    std::vector<scalar_type>& gradients() { return net_.gradients(); }
    const std::vector<scalar_type>& gradients() const { return net_.gradients(); }
    auto parameter(const std::string& name) { return net_.parameter(name); }
    auto gradient(const std::string& name) { return net_.gradient(name); }
    std::size_t n_inputs() const { return net_.n_inputs(); }
    std::size_t n_outputs() const { return net_.n_outputs(); }
    const std::vector<std::size_t>& sizes() const { return net_.sizes(); }
    std::string architecture() const { return net_.architecture(); }
    /// The wrapped network's settings (what checkpoints record and compare).
    void describe_settings(settings_record& r) const { r = network_settings(net_); }
    time_grid grid() const { return net_.grid(); }
    /// Spiking activity of the whole global batch of the last train_step (summed over ranks).
    const network_activity& activity() const { return activity_; }
    void end_epoch(std::size_t epoch) { net_.end_epoch(epoch); }

    /// One data-parallel step on a global batch (the same on every rank): this rank runs its
    /// shard, the per-thread gradients of all ranks are summed in rank and thread order (a
    /// pipelined chain 0 -> 1 -> ... -> A-1, then a broadcast), so gradients() is the global
    /// batch's mean-loss gradient on every rank. Returns the global batch's loss and accuracy.
    template <class Loss>
    step_stats train_step(const event_batch& batch, const Loss& loss) {
        check_same_size(batch.n_samples, "train_step");
        const sample_range mine = shard(batch.n_samples);
        step_stats local;
        const double start = MPI_Wtime();
        std::string failure;
        bool failed = false;
        try {
            if (!mine.empty()) local = net_.train_step(select_range(batch, mine), loss, batch.n_samples);
        } catch (const std::exception& e) {
            failure = e.what();
            failed = true;
        }
        const double computed = MPI_Wtime();
        agree_on_failure(failed ? &failure : nullptr, "mpi::data_parallel::train_step", comm_);
        chain_gradients(batch.n_samples, mine.empty());
        reduce_activity(mine.empty());
        const auto total = sum_stats(local);
        timing_ = {computed - start, MPI_Wtime() - computed};
        return total;
    }

    /// Where the last train_step's time went on this rank.
    const step_timing& last_step_timing() const { return timing_; }

    /// Loss and accuracy of a labelled batch: each rank evaluates its shard, the sums are added
    /// in rank order and the predictions gathered, the same on every rank.
    template <class Loss>
    step_stats evaluate(const event_batch& batch, const Loss& loss,
                        std::vector<int>* predictions = nullptr) const {
        check_same_size(batch.n_samples, "evaluate");
        const sample_range mine = shard(batch.n_samples);
        step_stats local;
        std::vector<int> part;
        collectively("mpi::data_parallel::evaluate", comm_, [&] {
            if (!mine.empty())
                local = net_.evaluate(select_range(batch, mine), loss, predictions ? &part : nullptr);
        });
        if (predictions) {
            std::vector<int> counts(static_cast<std::size_t>(ranks_)), starts(counts.size());
            for (int r = 0; r < ranks_; ++r) {
                const auto s = shard_of(batch.n_samples, static_cast<std::size_t>(ranks_), threads_,
                                        static_cast<std::size_t>(r));
                counts[static_cast<std::size_t>(r)] = static_cast<int>(s.size());
                starts[static_cast<std::size_t>(r)] = static_cast<int>(s.first);
            }
            predictions->assign(batch.n_samples, -1);
            MPI_Allgatherv(part.data(), static_cast<int>(part.size()), MPI_INT, predictions->data(),
                           counts.data(), starts.data(), MPI_INT, comm_);
        }
        return sum_stats(local);
    }

    /// Inference on every rank (replicated: each rank runs the whole batch).
    tensor<scalar_type, 3> forward(const event_batch& batch) const { return net_.forward(batch); }

    /// True when every rank holds bit-identical parameters (a cheap consistency check).
    bool parameters_agree() const {
        const auto& flat = net_.parameters().flat();
        std::vector<scalar_type> root(flat);
        MPI_Bcast(root.data(), static_cast<int>(root.size()), datatype<scalar_type>(), 0, comm_);
        int same = std::equal(root.begin(), root.end(), flat.begin(),
                              [](scalar_type a, scalar_type b) {
                                  return std::memcmp(&a, &b, sizeof a) == 0;
                              });
        int all = 0;
        MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, comm_);
        return all == 1;
    }

private:
    std::string broadcast_string(const std::string& text) const {
        int length = static_cast<int>(text.size());
        MPI_Bcast(&length, 1, MPI_INT, 0, comm_);
        std::string out = rank_ == 0 ? text : std::string(static_cast<std::size_t>(length), '\0');
        MPI_Bcast(out.data(), length, MPI_CHAR, 0, comm_);
        return out;
    }

    /// The global batch must be the same size everywhere (the shards would overlap otherwise).
    void check_same_size(std::size_t B, const char* what) const {
        unsigned long long mine[2] = {B, ~static_cast<unsigned long long>(B)}, all[2] = {0, 0};
        MPI_Allreduce(mine, all, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm_);
        if (all[0] != B || ~all[1] != B)
            raise<shape_error>("mpi::data_parallel::", what, ": the ranks pass global batches of "
                               "different sizes (this rank ", B, "); every rank must pass the "
                               "same batch");
    }

    /// gradients() = ((((part 0 of rank 0) + part 1 of rank 0) + ...) + part 0 of rank 1) + ...:
    /// the left-to-right sum one process forms over its R x t thread buffers.
    void chain_gradients(std::size_t B, bool idle) {
        // Ranks with samples are a prefix 0 .. active-1 of the ranks.
        int active = 0;
        for (int r = 0; r < ranks_; ++r)
            active += !shard_of(B, static_cast<std::size_t>(ranks_), threads_, static_cast<std::size_t>(r)).empty();
        std::vector<const scalar_type*> parts;
        if (!idle)
            for (std::size_t k = 0; k < net_.gradient_parts(); ++k) parts.push_back(net_.gradient_part(k));
        ordered_sum<scalar_type>(parts, net_.gradients(), active, comm_);
        net_.finish_gradients();  // weight normalisation's chain rule, once, on the global sum
    }

    /// Spike counts are integers: their sum over ranks is exact in any order.
    void reduce_activity(bool idle) {
        std::vector<unsigned long long> counts;
        activity_ = idle ? empty_activity() : net_.activity();
        for (auto& layer : activity_) {
            counts.push_back(layer.steps);
            for (auto c : layer.per_neuron) counts.push_back(c);
        }
        MPI_Allreduce(MPI_IN_PLACE, counts.data(), static_cast<int>(counts.size()),
                      MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm_);
        std::size_t at = 0;
        for (auto& layer : activity_) {
            layer.steps = counts[at++];
            for (auto& c : layer.per_neuron) c = counts[at++];
        }
    }

    /// The activity record of no samples (what an idle rank adds).
    network_activity empty_activity() const {
        network_activity a(depth);
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (a[I].reset(std::tuple_element_t<I, typename Net::layer_specs>::spiking,
                        net_.sizes()[I + 1]),
             ...);
        }(std::make_index_sequence<depth>{});
        return a;
    }

    /// Step statistics of every rank, added in rank order (the same result on every rank).
    step_stats sum_stats(const step_stats& local) const {
        const double mine[4] = {local.loss_sum, local.correct, static_cast<double>(local.samples),
                                static_cast<double>(local.ties)};
        std::vector<double> all(4 * static_cast<std::size_t>(ranks_));
        MPI_Allgather(mine, 4, MPI_DOUBLE, all.data(), 4, MPI_DOUBLE, comm_);
        step_stats total;
        for (int r = 0; r < ranks_; ++r) {
            const double* s = all.data() + 4 * r;
            total.loss_sum += s[0];
            total.correct += s[1];
            total.samples += static_cast<std::size_t>(s[2]);
            total.ties += static_cast<std::size_t>(s[3]);
        }
        return total;
    }

    Net net_;
    MPI_Comm comm_;
    int rank_ = 0, ranks_ = 1;
    std::size_t threads_ = 1;
    network_activity activity_;
    step_timing timing_;
};

/// The trainer of a data-parallel network: spikegrad::trainer with the checkpoint written by
/// rank 0 only and the progress line shown by rank 0 only.
template <class Net, class Loss, class Rule = adam>
class trainer : public spikegrad::trainer<data_parallel<Net>, Loss, Rule> {
    using base = spikegrad::trainer<data_parallel<Net>, Loss, Rule>;

public:
    trainer(data_parallel<Net>& net, trainer_options options, Loss loss = {},
            typename Rule::params rule = {}, std::vector<parameter_group> groups = {})
        : base(net, for_rank(net.rank(), std::move(options)), loss, rule, std::move(groups)) {}

private:
    static trainer_options for_rank(int rank, trainer_options options) {
        if (rank != 0) {
            options.checkpoint.clear();
            options.progress = progress_mode::quiet;
        }
        return options;
    }
};

}  // namespace spikegrad::mpi

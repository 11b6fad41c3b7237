/// \file
/// spikegrad: spike_dataset, the one exchange type of the data modules. Every generator makes
/// one, every transform maps one to a new one, the SHD reader and writer read and write it.
/// Per sample: events (time, unit) sorted by time then unit, and a label.
#pragma once

#include "../core/error.hpp"
#include "../core/time.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace spikegrad {

/// What is done with a sample whose event times decrease somewhere.
enum class unsorted_times {
    /// Raise data_error naming the sample and the event: the default of every file reader
    /// (shd_read_options::on_unsorted): a file written in time order by its tool that is not
    /// in order is suspect.
    reject,
    /// Sort the sample by (time, unit) and count it (spike_dataset::reordered_samples): the
    /// default of spike_dataset::add_sample, whose callers are code (generators, transforms
    /// such as jitter) that produce events out of order by design.
    sort,
};

/// One sample: parallel spans of event times and units (sorted by time, then unit).
struct spike_sample_view {
    std::span<const float> times;
    std::span<const std::uint32_t> units;
    std::int32_t label = -1;

    std::size_t size() const { return times.size(); }
};

/// A labelled set of spike samples. Copies and subsets share the event storage (a subset is
/// an index list), so splits and batches cost O(samples), not O(events).
class spike_dataset {
public:
    /// Contiguous storage of all events; sample s owns events [offsets[s], offsets[s+1]).
    struct storage {
        std::vector<std::size_t> offsets{0};
        std::vector<float> times;
        std::vector<std::uint32_t> units;
        std::vector<std::int32_t> labels;
    };

    spike_dataset() : data_(std::make_shared<storage>()) {}

    /// An empty dataset of `n_units` input units; `duration` is the nominal length of a
    /// sample in `unit` (e.g. 1.4 s for SHD, 1000 steps for the synthetic tasks); `step_ms`
    /// is the length of one step when `unit` is time_unit::steps (ignored otherwise).
    spike_dataset(std::size_t n_units, double duration, time_unit unit,
                  std::vector<std::string> class_names, double step_ms = 1.0)
        : data_(std::make_shared<storage>()),
          n_units_(n_units),
          duration_(duration),
          unit_(unit),
          step_ms_(step_ms),
          class_names_(std::move(class_names)) {
        if (!(duration > 0) || !std::isfinite(duration))
            raise<option_error>("spike_dataset: duration ", duration, " must be > 0");
        ms_per(unit, step_ms);  // checks step_ms
    }

    std::size_t size() const { return index_ ? index_->size() : data_->labels.size(); }
    bool empty() const { return size() == 0; }
    std::size_t n_units() const { return n_units_; }
    double duration() const { return duration_; }
    time_unit unit() const { return unit_; }
    /// Milliseconds in one unit of the event times (1000 for seconds, the step for steps).
    double ms_per_unit() const { return ms_per(unit_, step_ms_); }
    /// The nominal length of a sample in ms.
    double duration_ms() const { return duration_ * ms_per_unit(); }
    const std::vector<std::string>& class_names() const { return class_names_; }
    std::size_t n_classes() const { return class_names_.size(); }

    /// Index of sample i in the shared storage.
    std::size_t storage_index(std::size_t i) const { return index_ ? (*index_)[i] : i; }

    spike_sample_view sample(std::size_t i) const {
        if (i >= size())
            raise<shape_error>("spike_dataset: sample ", i, " >= size ", size());
        const std::size_t s = storage_index(i);
        const std::size_t first = data_->offsets[s], last = data_->offsets[s + 1];
        return {std::span<const float>(data_->times.data() + first, last - first),
                std::span<const std::uint32_t>(data_->units.data() + first, last - first),
                data_->labels[s]};
    }

    std::int32_t label(std::size_t i) const { return data_->labels[storage_index(i)]; }

    std::vector<std::int32_t> labels() const {
        std::vector<std::int32_t> out(size());
        for (std::size_t i = 0; i < size(); ++i) out[i] = label(i);
        return out;
    }

    /// Number of samples per class.
    std::vector<std::size_t> class_counts() const {
        std::vector<std::size_t> counts(n_classes(), 0);
        for (std::size_t i = 0; i < size(); ++i) ++counts[static_cast<std::size_t>(label(i))];
        return counts;
    }

    std::size_t n_spikes() const {
        std::size_t total = 0;
        for (std::size_t i = 0; i < size(); ++i) total += sample(i).size();
        return total;
    }

    /// Appends a sample. Negative or non-finite times, units >= n_units, mismatched lengths
    /// and labels outside the classes raise data_error (shape_error for the lengths). Times
    /// that decrease somewhere follow `on_unsorted`: sorted by (time, unit) and counted in
    /// reordered_samples() (the default), or data_error naming the event (reject). Events of
    /// equal time are put in unit order either way (simultaneous events have no order).
    void add_sample(std::span<const float> times, std::span<const std::uint32_t> units,
                    std::int32_t label, unsorted_times on_unsorted = unsorted_times::sort) {
        const std::size_t s = size();
        if (times.size() != units.size())
            raise<shape_error>("spike_dataset: sample ", s, ": ", times.size(), " times but ",
                               units.size(), " units");
        if (label < 0 || static_cast<std::size_t>(label) >= n_classes())
            raise<data_error>("spike_dataset: sample ", s, ": label ", label, " outside [0, ",
                              n_classes(), ")");
        for (std::size_t e = 0; e < times.size(); ++e) {
            if (!std::isfinite(times[e]) || times[e] < 0)
                raise<data_error>("spike_dataset: sample ", s, ": event ", e, ": time ",
                                  times[e], " is negative or not finite");
            if (units[e] >= n_units_)
                raise<data_error>("spike_dataset: sample ", s, ": event ", e, ": unit ",
                                  units[e], " >= n_units ", n_units_);
        }
        const bool in_time_order = std::is_sorted(times.begin(), times.end());
        if (!in_time_order && on_unsorted == unsorted_times::reject) {
            const auto at = std::is_sorted_until(times.begin(), times.end()) - times.begin();
            raise<data_error>("spike_dataset: sample ", s, ": event ", at, ": time ", times[at],
                              " < ", times[at - 1],
                              " of the event before (unsorted; pass unsorted_times::sort to sort)");
        }
        own_storage();
        storage& d = *std::const_pointer_cast<storage>(data_);
        const std::size_t first = d.times.size();
        d.times.insert(d.times.end(), times.begin(), times.end());
        d.units.insert(d.units.end(), units.begin(), units.end());
        if (!in_time_order || has_unsorted_ties(times, units))
            sort_events(d.times.data() + first, d.units.data() + first, times.size());
        d.offsets.push_back(d.times.size());
        d.labels.push_back(label);
        if (!in_time_order) ++reordered_samples_;
    }

    /// Samples that add_sample sorted because their times decreased (unsorted_times::sort),
    /// since this dataset was made (empty_like and the transforms start at 0).
    std::size_t reordered_samples() const { return reordered_samples_; }

    /// Reserves room for `samples` more samples and `events` more events, so that a reader
    /// that knows (a bound on) the sizes fills the storage without reallocating: a vector
    /// that grows by doubling briefly holds its old and new buffers, which would break the
    /// SHD reader's memory bound. Reserved pages that are never written are never resident.
    void reserve(std::size_t samples, std::size_t events) {
        own_storage();
        storage& d = *std::const_pointer_cast<storage>(data_);
        d.offsets.reserve(d.offsets.size() + samples);
        d.labels.reserve(d.labels.size() + samples);
        d.times.reserve(d.times.size() + events);
        d.units.reserve(d.units.size() + events);
    }

    /// The samples at `indices` (in that order), sharing this dataset's storage.
    spike_dataset subset(std::span<const std::size_t> indices) const {
        spike_dataset out = *this;
        auto index = std::make_shared<std::vector<std::size_t>>();
        index->reserve(indices.size());
        for (std::size_t i : indices) {
            if (i >= size())
                raise<shape_error>("spike_dataset::subset: index ", i, " >= size ", size());
            index->push_back(storage_index(i));
        }
        out.index_ = std::move(index);
        return out;
    }

    /// An empty dataset with the same units, duration, time unit and classes.
    spike_dataset empty_like() const {
        spike_dataset out = *this;
        out.data_ = std::make_shared<storage>();
        out.index_.reset();
        out.reordered_samples_ = 0;
        return out;
    }

    /// Same events with times converted to another unit; `step_s` is the target's step
    /// length in seconds, needed only when the target is `steps` (0: this dataset's step).
    spike_dataset with_time_unit(time_unit target, double step_s = 0) const {
        const double target_step_ms =
            step_s > 0 ? step_s * 1000.0 : unit_ == time_unit::steps ? step_ms_ : 0.0;
        const double scale = ms_per_unit() / ms_per(target, target_step_ms);
        spike_dataset out = empty_like();
        out.unit_ = target;
        if (target == time_unit::steps) out.step_ms_ = target_step_ms;
        out.duration_ = duration_ * scale;
        std::vector<float> times;
        for (std::size_t i = 0; i < size(); ++i) {
            const auto s = sample(i);
            times.assign(s.times.begin(), s.times.end());
            for (auto& t : times) t = static_cast<float>(t * scale);
            out.add_sample(times, s.units, s.label);
        }
        return out;
    }

    void set_class_names(std::vector<std::string> names) { class_names_ = std::move(names); }

private:
    static bool has_unsorted_ties(std::span<const float> times,
                                  std::span<const std::uint32_t> units) {
        for (std::size_t e = 1; e < times.size(); ++e)
            if (times[e] == times[e - 1] && units[e] < units[e - 1]) return true;
        return false;
    }

    static void sort_events(float* times, std::uint32_t* units, std::size_t n) {
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t(0));
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return times[a] != times[b] ? times[a] < times[b] : units[a] < units[b];
        });
        std::vector<float> t(n);
        std::vector<std::uint32_t> u(n);
        for (std::size_t k = 0; k < n; ++k) {
            t[k] = times[order[k]];
            u[k] = units[order[k]];
        }
        std::copy(t.begin(), t.end(), times);
        std::copy(u.begin(), u.end(), units);
    }

    /// Copy-on-write: a subset view or shared storage becomes a private compact copy.
    void own_storage() {
        if (!index_ && data_.use_count() == 1) return;
        auto fresh = std::make_shared<storage>();
        for (std::size_t i = 0; i < size(); ++i) {
            const auto s = sample(i);
            fresh->times.insert(fresh->times.end(), s.times.begin(), s.times.end());
            fresh->units.insert(fresh->units.end(), s.units.begin(), s.units.end());
            fresh->offsets.push_back(fresh->times.size());
            fresh->labels.push_back(s.label);
        }
        data_ = std::move(fresh);
        index_.reset();
    }

    std::shared_ptr<const storage> data_;
    std::shared_ptr<const std::vector<std::size_t>> index_;
    std::size_t n_units_ = 0;
    double duration_ = 1;
    time_unit unit_ = time_unit::steps;
    double step_ms_ = 1.0;
    std::vector<std::string> class_names_;
    std::size_t reordered_samples_ = 0;
};

}  // namespace spikegrad

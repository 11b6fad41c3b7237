/// \file
/// spikegrad: the /extra part of an SHD/SSC file as plain data (no HDF5 needed): each dataset
/// with its stored element type and shape, so that it is written back as it was read; speaker
/// ids, class names (keys) and meta_info, and the per-sample selection that subsets use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikegrad {

/// Stored element type of an /extra dataset, so that it is written back as it was read.
enum class shd_element {
    int8,
    uint8,
    int16,
    uint16,
    int32,
    uint32,
    int64,
    uint64,
    float16,
    float32,
    float64,
    string,
};

/// One dataset under /extra: numbers (exact for integers up to 2^53 and every float32/64)
/// or strings, with its shape (empty shape: a scalar).
struct shd_extra_dataset {
    std::string name;  // path below /extra, e.g. "speaker" or "meta_info/gender"
    shd_element type = shd_element::float64;
    std::vector<std::size_t> shape;
    std::vector<double> numbers;
    std::vector<std::string> strings;
    /// Strings: 0 for variable-length (h5py's str), else the fixed size in bytes (numpy 'S').
    std::size_t string_size = 0;
    bool utf8 = true;

    std::size_t size() const {
        return type == shd_element::string ? strings.size() : numbers.size();
    }

    static shd_extra_dataset numeric(std::string name, shd_element type,
                                     std::vector<double> values) {
        shd_extra_dataset d;
        d.name = std::move(name);
        d.type = type;
        d.shape = {values.size()};
        d.numbers = std::move(values);
        return d;
    }

    static shd_extra_dataset text(std::string name, std::vector<std::string> values) {
        shd_extra_dataset d;
        d.name = std::move(name);
        d.type = shd_element::string;
        d.shape = {values.size()};
        d.strings = std::move(values);
        return d;
    }

    bool operator==(const shd_extra_dataset&) const = default;
};

/// Everything under /extra. In the public files: speaker (one id per sample), keys (the class
/// names) and meta_info/{gender, age, body_height} (one entry per speaker).
struct shd_extra {
    std::vector<shd_extra_dataset> datasets;

    bool empty() const { return datasets.empty(); }

    const shd_extra_dataset* find(std::string_view name) const {
        for (const auto& d : datasets)
            if (d.name == name) return &d;
        return nullptr;
    }

    /// Adds or replaces the dataset of the same name.
    void set(shd_extra_dataset dataset) {
        for (auto& d : datasets)
            if (d.name == dataset.name) {
                d = std::move(dataset);
                return;
            }
        datasets.push_back(std::move(dataset));
    }

    /// Speaker id per sample (empty when the file has no /extra/speaker).
    std::vector<std::int64_t> speaker() const {
        std::vector<std::int64_t> out;
        if (const auto* d = find("speaker"); d && d->type != shd_element::string)
            for (double x : d->numbers) out.push_back(static_cast<std::int64_t>(x));
        return out;
    }

    /// Class names from /extra/keys (empty when absent).
    std::vector<std::string> keys() const {
        if (const auto* d = find("keys"); d && d->type == shd_element::string) return d->strings;
        return {};
    }

    /// The per-sample fields (speaker) at `indices`; per-speaker and per-class fields as they
    /// are. `n_samples` is the size of the dataset the indices refer to.
    shd_extra select_samples(std::span<const std::size_t> indices, std::size_t n_samples) const {
        shd_extra out = *this;
        for (auto& d : out.datasets) {
            if (d.name != "speaker" || d.shape.size() != 1 || d.shape[0] != n_samples) continue;
            auto pick = [&](auto& values) {
                std::remove_reference_t<decltype(values)> chosen;
                chosen.reserve(indices.size());
                for (std::size_t i : indices) chosen.push_back(values.at(i));
                values = std::move(chosen);
            };
            if (d.type == shd_element::string)
                pick(d.strings);
            else
                pick(d.numbers);
            d.shape[0] = indices.size();
        }
        return out;
    }

    bool operator==(const shd_extra&) const = default;
};

}  // namespace spikegrad

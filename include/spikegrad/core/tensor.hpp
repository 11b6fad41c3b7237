/// \file
/// spikegrad: the only header that includes xtensor. Every other header uses these aliases, so
/// an xtensor upgrade (0.26 moved the headers into sub-folders) touches this file alone.
#pragma once

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include <cstddef>
#include <span>

namespace spikegrad {

/// Owning tensor of fixed rank; row-major, the layout every kernel assumes.
template <class Scalar, std::size_t Rank>
using tensor = xt::xtensor<Scalar, Rank>;

template <class Scalar>
using vector_t = tensor<Scalar, 1>;
template <class Scalar>
using matrix_t = tensor<Scalar, 2>;
template <class Scalar>
using tensor3_t = tensor<Scalar, 3>;

/// Non-owning row-major tensor view over memory someone else owns (parameter store, buffers).
template <class Scalar, std::size_t Rank>
auto adapt(Scalar* data, const std::array<std::size_t, Rank>& shape) {
    std::size_t size = 1;
    for (auto extent : shape) size *= extent;
    return xt::adapt(data, size, xt::no_ownership(), shape);
}

/// A tensor filled with zeros.
template <class Scalar, std::size_t Rank>
tensor<Scalar, Rank> zeros(const std::array<std::size_t, Rank>& shape) {
    return tensor<Scalar, Rank>(shape, Scalar(0));
}

/// Contiguous read-only span over a tensor's elements (row-major order).
template <class Tensor>
auto span_of(const Tensor& t) {
    return std::span<const typename Tensor::value_type>(t.data(), t.size());
}

/// Contiguous writable span over a tensor's elements (row-major order).
template <class Tensor>
auto mutable_span_of(Tensor& t) {
    return std::span<typename Tensor::value_type>(t.data(), t.size());
}

}  // namespace spikegrad

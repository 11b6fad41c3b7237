/// \file
/// spikegrad: the umbrella header of the core engine and its trainer (xtensor + xsimd only; no
/// HDF5, no MPI). Data modules (data/...) and file formats (io/npy, csv, json) are opt-in headers.
#pragma once

#include "config.hpp"
#include "concepts.hpp"

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/parameters.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "core/time.hpp"
#include "core/trace.hpp"

#include "surrogate/any.hpp"
#include "surrogate/arctan.hpp"
#include "surrogate/boxcar.hpp"
#include "surrogate/fast_sigmoid.hpp"
#include "surrogate/rectifier.hpp"
#include "surrogate/sigmoid.hpp"
#include "surrogate/slayer_exponential.hpp"
#include "surrogate/straight_through.hpp"
#include "surrogate/triangle.hpp"
#include "surrogate/windowed.hpp"

#include "neuron/adaptive_lif.hpp"
#include "neuron/cuba_lif.hpp"
#include "neuron/lif.hpp"
#include "neuron/readout.hpp"
#include "neuron/srm_alpha.hpp"

#include "delay/axonal.hpp"
#include "delay/none.hpp"
#include "delay/rounding.hpp"

#include "synapse/dense.hpp"

#include "engine/surrogate_bptt.hpp"

#include "loss/count.hpp"
#include "loss/cross_entropy.hpp"
#include "loss/spike_rate.hpp"
#include "loss/spikemax.hpp"
#include "loss/van_rossum.hpp"

#include "network/layer.hpp"
#include "network/network.hpp"

#include "train/checkpoint.hpp"
#include "train/from_checkpoint.hpp"
#include "train/metrics.hpp"
#include "train/optimizer.hpp"
#include "train/progress.hpp"
#include "train/trainer.hpp"

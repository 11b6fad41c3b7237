/// \file
/// spikegrad: moved to core/parameters.hpp (0.2.0); this forwarding header keeps old includes
/// working.
#pragma once

#include "../core/parameters.hpp"

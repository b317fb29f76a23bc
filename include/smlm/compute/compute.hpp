// smlm::compute: optional OpenCL inference through Boost.Compute (target smlmkit::compute).
// Not part of <smlm/smlm.hpp>. See docs/compute.md.
#pragma once

#include <smlm/compute/device.hpp>
#include <smlm/compute/graph.hpp>
#include <smlm/compute/network.hpp>

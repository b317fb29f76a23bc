// The OpenCL device the compute tests run on: device 0 (pocl in CI). Tests that need a device
// skip with a message when no OpenCL platform exists at all; any other failure to open it fails.
#pragma once

#include <optional>

#include <doctest/doctest.h>

#include <smlm/compute/device.hpp>

namespace smlm::compute::test {

inline std::optional<Device> test_device() {
  auto list = list_devices();
  REQUIRE_MESSAGE(list.has_value(), list.message());
  if (list->empty()) {
    MESSAGE("SKIPPED: no OpenCL platform or device on this machine (install pocl-opencl-icd to run the compute tests)");
    return std::nullopt;
  }
  auto device = open_device(0);
  REQUIRE_MESSAGE(device.has_value(), device.message());
  return *device;
}

}  // namespace smlm::compute::test

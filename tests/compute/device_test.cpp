// device.hpp: listing devices and opening them; a bad index is a Status naming the valid range.
#include <doctest/doctest.h>

#include <smlm/compute/device.hpp>

#include "compute_test_device.hpp"

using namespace smlm;
using namespace smlm::compute;

TEST_CASE("list_devices numbers every device and describes it") {
  auto list = list_devices();
  REQUIRE_MESSAGE(list.has_value(), list.message());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const DeviceInfo& d = (*list)[i];
    CHECK(d.index == static_cast<int>(i));
    CHECK(!d.platform.empty());
    CHECK(!d.name.empty());
    CHECK(d.version.starts_with("OpenCL "));
    CHECK(d.compute_units >= 1);
    CHECK(d.global_memory_bytes > 0);
  }
}

TEST_CASE("open_device: a device that exists opens, one that does not is an error naming the range") {
  auto device = test::test_device();
  if (!device) return;
  CHECK(device->info.index == 0);
  CHECK(device->context.get() != nullptr);
  const auto count = static_cast<int>(list_devices()->size());
  for (int bad : {-1, count, count + 7}) {
    auto d = open_device(bad);
    REQUIRE_FALSE(d.has_value());
    CHECK(d.status().code() == errc::invalid_argument);
    CHECK(d.message().find("device " + std::to_string(bad) + " does not exist") != std::string::npos);
  }
}

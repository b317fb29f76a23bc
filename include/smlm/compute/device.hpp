// OpenCL platforms and devices, found through Boost.Compute.
//
// Devices are numbered in the order the ICD loader lists platforms and each platform its
// devices: index 0 is the first device of the first platform. `smlm devices` prints this list
// and `smlm reconstruct --device opencl:N` takes its index. No function here throws: an OpenCL
// error becomes a Status whose message names the call's purpose and the OpenCL error.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <smlm/compute/detail/opencl.hpp>
#include <smlm/core/status.hpp>

namespace smlm::compute {

struct DeviceInfo {
  int index = 0;                       ///< position in list_devices()
  std::string platform;                ///< platform name ("Portable Computing Language")
  std::string name;                    ///< device name
  std::string vendor;
  std::string version;                 ///< "OpenCL 1.2 ..." as the driver reports it
  std::string type;                    ///< cpu, gpu, accelerator or other
  std::uint64_t global_memory_bytes = 0;
  std::uint32_t compute_units = 0;
};

/// A device with its context and in-order command queue (copies share them).
struct Device {
  DeviceInfo info;
  boost::compute::device device;
  boost::compute::context context;
  boost::compute::command_queue queue;
};

namespace detail {
/// OpenCL's "no platform" answer from the ICD loader (cl_khr_icd): no driver installed.
inline constexpr int platform_not_found_khr = -1001;

inline std::string type_name(cl_device_type t) {
  if (t & CL_DEVICE_TYPE_GPU) return "gpu";
  if (t & CL_DEVICE_TYPE_CPU) return "cpu";
  if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
  return "other";
}

/// Every device, in list order; an empty list when no OpenCL driver is installed. Throws what
/// Boost.Compute throws.
inline std::vector<std::pair<DeviceInfo, boost::compute::device>> enumerate() {
  std::vector<std::pair<DeviceInfo, boost::compute::device>> all;
  std::vector<boost::compute::platform> platforms;
  try {
    platforms = boost::compute::system::platforms();
  } catch (const boost::compute::opencl_error& e) {
    if (e.error_code() == platform_not_found_khr) return all;
    throw;
  }
  for (const auto& p : platforms) {
    std::vector<boost::compute::device> devices;
    try {
      devices = p.devices();
    } catch (const boost::compute::opencl_error& e) {
      if (e.error_code() == CL_DEVICE_NOT_FOUND) continue;
      throw;
    }
    for (const auto& d : devices) {
      DeviceInfo info;
      info.index = static_cast<int>(all.size());
      info.platform = p.name();
      info.name = d.name();
      info.vendor = d.vendor();
      info.version = d.version();
      info.type = type_name(d.type());
      info.global_memory_bytes = d.global_memory_size();
      info.compute_units = d.compute_units();
      all.emplace_back(std::move(info), d);
    }
  }
  return all;
}
}  // namespace detail

/// The OpenCL devices of every platform (empty when no driver is installed).
inline Expected<std::vector<DeviceInfo>> list_devices() {
  try {
    std::vector<DeviceInfo> infos;
    for (auto& entry : detail::enumerate()) infos.push_back(std::move(entry.first));
    return infos;
  } catch (const std::exception& e) {
    return make_error(errc::io_error, "OpenCL: listing platforms and devices failed: ", e.what());
  }
}

/// Opens device `index` of list_devices() with a context and a command queue.
inline Expected<Device> open_device(int index = 0) {
  try {
    auto all = detail::enumerate();
    if (all.empty()) return make_error(errc::unsupported, "OpenCL: no platform or device found (is an ICD such as pocl installed?)");
    if (index < 0 || static_cast<std::size_t>(index) >= all.size())
      return make_error(errc::invalid_argument, "OpenCL: device ", index, " does not exist (", all.size(),
                        all.size() == 1 ? " device: index 0" : " devices: indices 0.." + std::to_string(all.size() - 1), ")");
    auto& [info, device] = all[static_cast<std::size_t>(index)];
    boost::compute::context context(device);
    boost::compute::command_queue queue(context, device);
    return Device{std::move(info), device, std::move(context), std::move(queue)};
  } catch (const std::exception& e) {
    return make_error(errc::io_error, "OpenCL: opening device ", index, " failed: ", e.what());
  }
}

}  // namespace smlm::compute

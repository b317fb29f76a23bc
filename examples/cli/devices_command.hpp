// `smlm devices`: the OpenCL platforms and devices this machine offers (with the optional
// smlmkit::compute target), one line each, in the order `--device opencl:N` numbers them:
//   device=<N> type=<cpu|gpu|accelerator|other> compute_units=<n> memory_mib=<m>
//   platform="<name>" name="<name>" version="<OpenCL version string>"
// (one line per device). And the `--device cpu|opencl[:N]` values other commands take.
#pragma once

#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#if defined(SMLM_CLI_WITH_COMPUTE)
#include <smlm/compute/device.hpp>
#endif

#include "cli_common.hpp"

namespace smlm::cli {

#if defined(SMLM_CLI_WITH_COMPUTE)
inline constexpr bool with_compute = true;
#else
inline constexpr bool with_compute = false;
#endif

/// The OpenCL device index of a --device value: none for "cpu", 0 for "opencl", N for "opencl:N".
/// Values that are neither are rejected by device_flag_error first.
inline std::optional<int> opencl_index(const std::string& value) {
  if (value == "cpu") return std::nullopt;
  if (value == "opencl") return 0;
  int n = -1;
  const char* first = value.data() + 7;
  const char* last = value.data() + value.size();
  const auto [end, ec] = std::from_chars(first, last, n);
  return ec == std::errc() && end == last ? n : -1;
}

/// CLI11 validator of --device: empty when the value is usable in this build.
inline std::string device_flag_error(const std::string& d) {
  if (d == "cpu") return {};
  if (d != "opencl" && !d.starts_with("opencl:")) return "value " + d + " is not cpu or opencl[:N]";
  if (!with_compute) return "value " + d + ": this smlm was built without the OpenCL compute target; use cpu";
  if (*opencl_index(d) < 0) return "value " + d + ": N of opencl:N must be a device index (smlm devices lists them)";
  return {};
}

inline void run_devices() {
#if defined(SMLM_CLI_WITH_COMPUTE)
  const auto devices = unwrap(compute::list_devices());
  if (devices.empty()) throw cli_error("no OpenCL platform or device found (install an OpenCL driver, e.g. pocl-opencl-icd)");
  for (const compute::DeviceInfo& d : devices)
    std::printf("device=%d type=%s compute_units=%u memory_mib=%llu platform=\"%s\" name=\"%s\" version=\"%s\"\n", d.index,
                d.type.c_str(), d.compute_units, static_cast<unsigned long long>(d.global_memory_bytes >> 20),
                d.platform.c_str(), d.name.c_str(), d.version.c_str());
#else
  throw cli_error("devices: this smlm was built without the OpenCL compute target (smlmkit::compute)");
#endif
}

inline void register_devices(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("devices", "the OpenCL platforms and devices for --device opencl:N");
  cmd->callback([&exit_code] {
    run_devices();
    exit_code = 0;
  });
}

}  // namespace smlm::cli

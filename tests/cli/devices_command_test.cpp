// `smlm devices` and `smlm reconstruct --device`: the device list, the network on OpenCL device 0
// (pocl in CI) giving the CPU's image within float rounding, and bad --device values as one line
// naming the flag. Without the compute target both say so.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <smlm/io/tiff_reader.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

namespace {
const std::string reference_stack = data_dir + "/thunderstorm_sim_20frames.tif";

/// Runs smlm and requires exit status 0 (the output is shown otherwise).
Run succeed(const std::string& args) {
  auto r = run_smlm(args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return r;
}

smlm::Image<float> read_image(const std::string& path) {
  auto reader = smlm::io::TiffReader::open(path);
  REQUIRE_MESSAGE(reader, (reader ? std::string() : reader.message()));
  smlm::Image<float> image;
  REQUIRE(reader->read_frame(0, image).ok());
  return image;
}
}  // namespace

#if defined(SMLM_CLI_WITH_COMPUTE)

TEST_CASE("devices lists every OpenCL device on one line each; reconstruct --device opencl matches the CPU") {
  auto d = run_smlm("devices");
  INFO(d.output);
  if (d.exit_code != 0 && d.output.find("no OpenCL platform or device found") != std::string::npos) {
    MESSAGE("SKIPPED: no OpenCL device on this machine");
    CHECK(lines(d.output) == 1);
    return;
  }
  REQUIRE(d.exit_code == 0);
  const auto rows = split_lines(d.output);
  REQUIRE(!rows.empty());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].starts_with("device=" + std::to_string(i) + " type="));
    CHECK(field(rows[i], "compute_units") >= 1);
    CHECK(rows[i].find(" version=\"OpenCL ") != std::string::npos);
  }

  const std::string dir = fresh_dir("devices_reconstruct");
  const std::string model = dir + "/tiny.smlm";
  succeed("train -o " + model + " --arch sub_pixel --upsample 4 --steps 4 --batch 2 --patch 16" +
          " --validation-batches 1 --validate-every 2 --threads 2 -q");
  const std::string reconstruct = "reconstruct " + model + " " + reference_stack + " --threads 2 -q -o " + dir;
  const Run cpu = succeed(reconstruct + "/cpu");
  const Run gpu = succeed(reconstruct + "/gpu --device opencl");
  CHECK(lines(gpu.output) == 1);
  CHECK(gpu.output.starts_with("frames=20 "));
  CHECK(text_field(gpu.output, "threshold") == text_field(cpu.output, "threshold"));
  // The summed output maps agree within float rounding (1e-4 of their largest value); a peak at
  // the threshold may fall either side of it, so the counts agree within 1 %.
  const smlm::Image<float> a = read_image(dir + "/cpu/image.tif"), b = read_image(dir + "/gpu/image.tif");
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  const double scale = a.cwiseAbs().maxCoeff(), err = (a - b).cwiseAbs().maxCoeff();
  CHECK(scale > 0);
  CHECK(err <= 1e-4 * scale);
  const double n_cpu = field(cpu.output, "localizations"), n_gpu = field(gpu.output, "localizations");
  CHECK(std::abs(n_gpu - n_cpu) <= 0.01 * n_cpu);

  // A device that does not exist: one line naming the flag and the devices there are; no output folder.
  auto bad = run_smlm("reconstruct " + model + " " + reference_stack + " -o " + dir + "/bad -q --device opencl:" +
                      std::to_string(rows.size()));
  CHECK(bad.exit_code != 0);
  CHECK(lines(bad.output) == 1);
  CHECK(bad.output.find("--device: value opencl:" + std::to_string(rows.size()) + ": OpenCL: device " +
                        std::to_string(rows.size()) + " does not exist") != std::string::npos);
  CHECK(!std::filesystem::exists(dir + "/bad"));
}

#else

TEST_CASE("without the compute target, devices and --device opencl say so on one line") {
  auto d = run_smlm("devices");
  CHECK(d.exit_code != 0);
  CHECK(lines(d.output) == 1);
  CHECK(d.output.find("without the OpenCL compute target") != std::string::npos);
  auto r = run_smlm("reconstruct " + reference_stack + " " + reference_stack + " -o " + tmp_dir + "/no_compute --device opencl");
  CHECK(r.exit_code != 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("--device") != std::string::npos);
}

#endif

TEST_CASE("--device values that are neither cpu nor opencl[:N] are one-line errors naming the flag") {
  for (const std::string value : {"gpu", "opencl:x", "opencl:-1", "opencl:"}) {
    CAPTURE(value);
    auto r = run_smlm("reconstruct " + reference_stack + " " + reference_stack + " -o " + tmp_dir +
                      "/bad_device --device " + value);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("--device: value " + value) != std::string::npos);
  }
}

// `smlm calibrate`: photon-transfer calibration from a streamed stack.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <sys/wait.h>

#include <smlm/camera/emccd.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

namespace {
/// A 16-bit flat-field stack from the EMCCD model: 8 column bands at 0–400 photons.
void write_emccd_flats(const std::string& path, int frames) {
  const smlm::camera::Emccd<float> emccd;
  smlm::Image<float> photons(32, 64), adu(32, 64);
  const double levels[8] = {0, 5, 10, 20, 50, 100, 200, 400};
  for (Eigen::Index x = 0; x < 64; ++x) photons.col(x).setConstant(static_cast<float>(levels[x / 8]));
  auto writer = smlm::io::TiffWriter::create(path, smlm::io::pixel_type::u16, 64, 32, frames);
  REQUIRE(writer);
  for (int f = 0; f < frames; ++f) {
    smlm::camera::record_frame(emccd, smlm::const_view(photons), 0xC11, static_cast<std::uint32_t>(f),
                               smlm::make_view(adu));
    REQUIRE(writer->write_frame(adu).ok());
  }
  REQUIRE(writer->close().ok());
}
}  // namespace

TEST_CASE("calibrate recovers an EMCCD's offset, gain and read noise from flats") {
  const std::string path = tmp_dir + "/cli_emccd_flats.tif";
  write_emccd_flats(path, 48);
  auto r = run_smlm("calibrate -q --emccd " + path);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  // Emccd defaults: baseline 100 ADU, 12 e-/ADU after gain 100 → 0.12 e-/ADU and 50/100 e- read
  // noise referred to the register's input; 5 % as in tests/camera/calibration_test.cpp.
  CHECK(field(r.output, "offset") == doctest::Approx(100).epsilon(0.05));
  CHECK(field(r.output, "gain") == doctest::Approx(0.12).epsilon(0.05));
  CHECK(field(r.output, "read_noise") == doctest::Approx(0.5).epsilon(0.05));
  CHECK(field(r.output, "frames") == 48);
  CHECK(field(r.output, "dark_pixels") == 256);
  // Without --emccd the excess noise is ignored and the gain comes out halved.
  auto plain = run_smlm("calibrate -q " + path);
  REQUIRE(plain.exit_code == 0);
  CHECK(field(plain.output, "gain") == doctest::Approx(0.06).epsilon(0.05));
  // A known offset is used as given.
  auto given = run_smlm("calibrate -q --emccd --offset 100 " + path);
  REQUIRE(given.exit_code == 0);
  CHECK(field(given.output, "offset") == 100);
  CHECK(field(given.output, "dark_pixels") == 0);
}

TEST_CASE("calibrate fails with one line on bad input") {
  SUBCASE("missing file") {
    auto r = run_smlm("calibrate -q " + tmp_dir + "/no-such-stack.tif");
    CHECK(r.exit_code == 1);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("no-such-stack.tif") != std::string::npos);
  }
  SUBCASE("too short a stack") {
    const std::string path = tmp_dir + "/cli_emccd_3frames.tif";
    write_emccd_flats(path, 3);
    auto r = run_smlm("calibrate -q --emccd " + path);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("cli_emccd_3frames.tif") != std::string::npos);
    CHECK(r.output.find("too few frames: 3") != std::string::npos);
  }
  SUBCASE("bad flag value") {
    auto r = run_smlm("calibrate -q --excess-noise 0.5 " + tmp_dir + "/x.tif");
    CHECK(r.exit_code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("excess-noise") != std::string::npos);
  }
  SUBCASE("an SMLM movie: blinking is not noise") {
    // The reference stack's temporal variance is dominated by blinking emitters, not by shot
    // noise, so there is no photon-transfer line to fit; the error says so.
    auto r = run_smlm("calibrate -q " + data_dir + "/thunderstorm_sim_20frames.tif");
    CHECK(r.exit_code == 1);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("no usable intensity spread") != std::string::npos);
  }
}

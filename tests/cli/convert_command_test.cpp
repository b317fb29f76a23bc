// `smlm convert`: ThunderSTORM CSV <-> Picasso HDF5 by extension; CSV → HDF5 → CSV keeps the
// table, and a bad extension, a missing --pixel-nm or a build without HDF5 fails in one line.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <smlm/io/csv.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

TEST_CASE("convert: CSV to CSV and unknown extensions") {
  const std::string dir = fresh_dir("convert_csv");
  const auto r = run_smlm("convert " + truth_csv + " -o " + dir + "/copy.csv");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const smlm::LocalizationTable in = smlm::io::read_localizations_csv(truth_csv).value();
  CHECK(r.output == "rows=" + std::to_string(in.size()) + "\n");
  CHECK(smlm::io::read_localizations_csv(dir + "/copy.csv").value().x_nm == in.x_nm);

  const auto bad = run_smlm("convert " + truth_csv + " -o " + dir + "/out.txt");
  CHECK(bad.exit_code != 0);
  CHECK(lines(bad.output) == 1);
  CHECK(bad.output.find("out.txt") != std::string::npos);
  CHECK(bad.output.find(".txt") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/out.txt"));
}

#if defined(SMLM_CLI_WITH_HDF5)
TEST_CASE("convert: CSV -> Picasso HDF5 -> CSV keeps the table") {
  const std::string dir = fresh_dir("convert_hdf5");
  const auto to_h5 = run_smlm("convert " + truth_csv + " -o " + dir + "/locs.hdf5 --pixel-nm 100");
  INFO(to_h5.output);
  REQUIRE(to_h5.exit_code == 0);
  CHECK(std::filesystem::exists(dir + "/locs.yaml"));
  const std::string yaml = slurp(dir + "/locs.yaml");
  CHECK(yaml.find("Pixelsize: 100.0\n") != std::string::npos);
  CHECK(yaml.find("Width: ") != std::string::npos);
  CHECK(yaml.find("Height: ") != std::string::npos);
  CHECK(yaml.find("Frames: 20\n") != std::string::npos);

  // Back without --pixel-nm: the YAML has it.
  const auto back = run_smlm("convert " + dir + "/locs.hdf5 -o " + dir + "/back.csv");
  INFO(back.output);
  REQUIRE(back.exit_code == 0);
  CHECK(back.output == to_h5.output);
  const smlm::LocalizationTable in = smlm::io::read_localizations_csv(truth_csv).value();
  const smlm::LocalizationTable out = smlm::io::read_localizations_csv(dir + "/back.csv").value();
  REQUIRE(out.size() == in.size());
  CHECK(out.frame == in.frame);
  for (std::size_t i = 0; i < in.size(); ++i) {
    CHECK(std::abs(out.x_nm[i] - in.x_nm[i]) < 1e-3);
    CHECK(std::abs(out.y_nm[i] - in.y_nm[i]) < 1e-3);
    CHECK(std::abs(out.intensity_photons[i] - in.intensity_photons[i]) < 1e-3 * in.intensity_photons[i]);
  }

  // HDF5 -> HDF5 keeps the field of view from the YAML; --width overrides it.
  const auto again = run_smlm("convert " + dir + "/locs.hdf5 -o " + dir + "/wide.h5 --width 512");
  REQUIRE(again.exit_code == 0);
  CHECK(slurp(dir + "/wide.yaml").find("Width: 512\n") != std::string::npos);
  CHECK(slurp(dir + "/wide.yaml").find("Pixelsize: 100.0\n") != std::string::npos);
}

TEST_CASE("convert: writing HDF5 needs a pixel size, reading a broken file fails in one line") {
  const std::string dir = fresh_dir("convert_hdf5_bad");
  const auto r = run_smlm("convert " + truth_csv + " -o " + dir + "/locs.hdf5");
  CHECK(r.exit_code != 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("--pixel-nm") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/locs.hdf5"));

  write_file(dir + "/fake.hdf5", "not hdf5\n");
  const auto fake = run_smlm("convert " + dir + "/fake.hdf5 -o " + dir + "/out.csv --pixel-nm 100");
  CHECK(fake.exit_code != 0);
  CHECK(lines(fake.output) == 1);
  CHECK(fake.output.find("fake.hdf5") != std::string::npos);
  CHECK(fake.output.find("not an HDF5 file") != std::string::npos);
}
#else
TEST_CASE("convert: without HDF5, .hdf5 fails in one line saying so") {
  const std::string dir = fresh_dir("convert_no_hdf5");
  const auto r = run_smlm("convert " + truth_csv + " -o " + dir + "/locs.hdf5 --pixel-nm 100");
  CHECK(r.exit_code != 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("without HDF5") != std::string::npos);
}
#endif

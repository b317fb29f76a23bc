// The `smlm` contract: exit codes, one-line errors naming the bad file/flag/value, outputs.
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

TEST_CASE("--version and --help succeed") {
  auto v = run_smlm("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.output.find("smlm 0.") == 0);
  auto h = run_smlm("--help");
  CHECK(h.exit_code == 0);
  CHECK(h.output.find("demo") != std::string::npos);
}

TEST_CASE("bad invocations fail with one line naming what is wrong") {
  SUBCASE("no subcommand") {
    auto r = run_smlm("");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
  }
  SUBCASE("unknown flag") {
    auto r = run_smlm("info --bogus-flag x.tif");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("--bogus-flag") != std::string::npos);
  }
  SUBCASE("missing file") {
    auto r = run_smlm("info " + tmp_dir + "/does-not-exist.tif");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("does-not-exist.tif") != std::string::npos);
  }
  SUBCASE("not a TIFF") {
    const std::string path = tmp_dir + "/cli_not_a_tiff.tif";
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("this is not a TIFF file\n", f);
    std::fclose(f);
    auto r = run_smlm("info " + path);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("cli_not_a_tiff.tif") != std::string::npos);
  }
  SUBCASE("bad flag value") {
    auto r = run_smlm("demo -q -o " + tmp_dir + "/demo_bad --pixel-nm -5");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("pixel-nm") != std::string::npos);
  }
}

TEST_CASE("info describes the reference stack") {
  auto r = run_smlm("info " + data_dir + "/thunderstorm_sim_20frames.tif");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("width=64 height=64 frames=20 type=uint16 byte_order=big") != std::string::npos);
  CHECK(r.output.find("min=105 max=2472") != std::string::npos);
}

// `smlm merge`: a molecule on in consecutive frames becomes one row (photon-weighted, photons
// summed), --gap bridges off frames, and bad input fails with one line naming it.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <smlm/io/csv.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

TEST_CASE("merge: consecutive frames of one molecule become one row") {
  const std::string dir = fresh_dir("merge_run");
  // Molecule A in frames 1, 2, 4 (300 and 100 photons, then 200); molecule B, 1 µm away, in frame 2.
  write_file(dir + "/l.csv",
             "\"frame\",\"x [nm]\",\"y [nm]\",\"intensity [photon]\",\"uncertainty_xy [nm]\"\n"
             "1,100,100,300,10\n2,110,104,100,20\n2,1100,100,500,8\n4,104,100,200,12\n");
  auto r = run_smlm("merge " + dir + "/l.csv -o " + dir + "/m.csv --distance-nm 50 --gap 0");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output == "rows=4 merged=3 longest=2\n");
  smlm::LocalizationTable m = smlm::io::read_localizations_csv(dir + "/m.csv").value();
  REQUIRE(m.size() == 3);
  CHECK(m.frame == std::vector<std::int32_t>{1, 2, 4});
  CHECK(m.x_nm[0] == doctest::Approx((300 * 100.0 + 100 * 110.0) / 400));
  CHECK(m.y_nm[0] == doctest::Approx((300 * 100.0 + 100 * 104.0) / 400));
  CHECK(m.intensity_photons[0] == 400);
  CHECK(m.x_nm[1] == 1100);

  r = run_smlm("merge " + dir + "/l.csv -o " + dir + "/m1.csv --distance-nm 50 --gap 1");
  CHECK(r.output == "rows=4 merged=2 longest=3\n");
  m = smlm::io::read_localizations_csv(dir + "/m1.csv").value();
  CHECK(m.intensity_photons[0] == 600);
}

TEST_CASE("merge: bad input fails with one line naming it") {
  const std::string dir = fresh_dir("merge_bad");
  write_file(dir + "/l.csv", "\"frame\",\"x [nm]\",\"y [nm]\"\n1,100,100\n");
  write_file(dir + "/nan.csv", "\"frame\",\"x [nm]\",\"y [nm]\"\n1,100,100\n2,nan,100\n");
  struct Case {
    std::string args, named;
  };
  const std::vector<Case> cases{
      {dir + "/missing.csv -o " + dir + "/o.csv", "missing.csv"},
      {dir + "/l.csv -o " + dir + "/o.csv --distance-nm 0", "--distance-nm"},
      {dir + "/l.csv -o " + dir + "/o.csv --gap -1", "--gap"},
      {dir + "/l.csv", "--output"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const auto r = run_smlm("merge " + c.args);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.named) != std::string::npos);
  }
  const auto r = run_smlm("merge " + dir + "/nan.csv -o " + dir + "/o.csv");
  CHECK(r.exit_code != 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("nan.csv") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.csv"));
}

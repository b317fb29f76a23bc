// `smlm filter`: keeps the rows where --where holds, with every column, and a bad expression or a
// missing column fails with one line saying where.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <smlm/io/csv.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

TEST_CASE("filter: the rows where the expression holds") {
  const std::string dir = fresh_dir("filter_run");
  write_file(dir + "/l.csv",
             "\"frame\",\"x [nm]\",\"y [nm]\",\"intensity [photon]\",\"uncertainty_xy [nm]\"\n"
             "1,100,10,300,25\n2,200,20,800,12\n3,300,30,1200,8\n4,400,40,450,19\n");
  const auto r = run_smlm("filter " + dir + "/l.csv -o " + dir + "/f.csv --where \"uncertainty_xy < 20 and intensity > 500\"");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output == "rows=4 kept=2\n");
  const smlm::LocalizationTable f = smlm::io::read_localizations_csv(dir + "/f.csv").value();
  CHECK(f.frame == std::vector<std::int32_t>{2, 3});
  CHECK(f.y_nm == std::vector<double>{20, 30});
  CHECK(f.uncertainty_xy_nm == std::vector<double>{12, 8});
}

TEST_CASE("filter: bad expressions and columns fail with one line saying where") {
  const std::string dir = fresh_dir("filter_bad");
  write_file(dir + "/l.csv", "\"frame\",\"x [nm]\",\"y [nm]\"\n1,100,10\n");
  struct Case {
    std::string where, named;
  };
  const std::vector<Case> cases{
      {"intensity >", "character 12"},
      {"x > 1)", "character 6"},
      {"photon > 3", "expected a column"},
      {"10 < x < 20", "x < b"},
      {"z > 0", "no column z"},
      {"intensity > 5", "no column intensity"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.where);
    const auto r = run_smlm("filter " + dir + "/l.csv -o " + dir + "/o.csv --where \"" + c.where + "\"");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.named) != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir + "/o.csv"));
  const auto r = run_smlm("filter " + dir + "/l.csv -o " + dir + "/o.csv");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--where") != std::string::npos);
}

// `smlm drift` on a simulated drifting acquisition (`smlm simulate --drift-nm-per-frame`): the
// truth keeps the undrifted positions, the correction brings the classic localizations back onto
// them, --drift-csv and --plot are written, and bad input fails with one line naming it.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <smlm/io/csv.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

TEST_CASE("drift: simulate with drift, localize, correct: the localizations land back on the truth") {
  const std::string dir = fresh_dir("drift_run");
  // 0.25, -0.15 nm per frame and a 0.2 nm random walk: 150 and 90 nm over 600 frames.
  const auto sim = run_smlm("simulate -o " + dir + "/s.tif --truth " + dir + "/t.csv --frames 600 --size 48 --pixel-nm 100 "
                            "--density 0.8 --photons 2000:2500 --sigma-nm 110 --background 20 --camera emccd --p-on 0.04 "
                            "--drift-nm-per-frame 0.25,-0.15 --drift-walk-nm 0.2 --seed 5");
  INFO(sim.output);
  REQUIRE(sim.exit_code == 0);
  // The truth keeps each molecule where it is: one position per id however many frames it is on.
  const smlm::LocalizationTable truth = smlm::io::read_localizations_csv(dir + "/t.csv").value();
  std::map<std::int64_t, std::pair<double, double>> first_seen;
  std::size_t repeats = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto [it, fresh] = first_seen.try_emplace(truth.id[i], truth.x_nm[i], truth.y_nm[i]);
    if (fresh) continue;
    ++repeats;
    CHECK(truth.x_nm[i] == it->second.first);
    CHECK(truth.y_nm[i] == it->second.second);
  }
  CHECK(repeats > 1000);

  REQUIRE(run_smlm("localize " + dir + "/s.tif -o " + dir + "/l.csv --pixel-nm 100 --camera emccd --sigma-nm 110").exit_code == 0);
  const auto r = run_smlm("drift " + dir + "/l.csv -o " + dir + "/c.csv --segment-frames 100 --drift-csv " + dir +
                          "/d.csv --plot " + dir + "/d.png");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE(lines(r.output) == 1);
  CHECK(field(r.output, "segments") == 6);
  CHECK(field(r.output, "pairs") == 15);
  CHECK(field(r.output, "residual_nm") < 5);

  // The drift of every frame, from 0 at frame 1 to about (150, -90) nm at frame 600.
  const std::vector<std::string> drift = split_lines(slurp(dir + "/d.csv"));
  REQUIRE(drift.size() == 601);
  CHECK(drift[0] == "frame,drift_x_nm,drift_y_nm");
  CHECK(drift[1] == "1,0.000,0.000");
  double x600 = 0, y600 = 0;
  REQUIRE(std::sscanf(drift[600].c_str(), "600,%lf,%lf", &x600, &y600) == 2);
  CHECK(x600 == doctest::Approx(150).epsilon(0.15));  // the walk adds about ±7 nm
  CHECK(y600 == doctest::Approx(-90).epsilon(0.2));
  CHECK(png_size(dir + "/d.png").first > 0);

  // Against the undrifted truth: corrected localizations match far better than the raw ones.
  const auto before = run_smlm("evaluate " + dir + "/t.csv " + dir + "/l.csv --tolerance 100");
  const auto after = run_smlm("evaluate " + dir + "/t.csv " + dir + "/c.csv --tolerance 100");
  INFO(before.output << after.output);
  CHECK(field(after.output, "jaccard") > field(before.output, "jaccard") + 0.2);
  CHECK(field(after.output, "rmse_nm") < field(before.output, "rmse_nm") - 10);
  // The corrected table has the same rows as the input (frames and everything but x, y).
  const smlm::LocalizationTable raw = smlm::io::read_localizations_csv(dir + "/l.csv").value();
  const smlm::LocalizationTable corrected = smlm::io::read_localizations_csv(dir + "/c.csv").value();
  REQUIRE(corrected.size() == raw.size());
  CHECK(corrected.frame == raw.frame);
  CHECK(corrected.intensity_photons == raw.intensity_photons);
}

TEST_CASE("drift: bad input fails with one line naming it") {
  const std::string dir = fresh_dir("drift_bad");
  // One frame: one segment, nothing to correlate.
  write_file(dir + "/one.csv", "\"frame\",\"x [nm]\",\"y [nm]\"\n1,100,200\n1,300,400\n");
  struct Case {
    std::string args, named;
  };
  const std::vector<Case> cases{
      {dir + "/missing.csv -o " + dir + "/o.csv", "missing.csv"},
      {dir + "/one.csv -o " + dir + "/o.csv", "one.csv"},
      {dir + "/one.csv -o " + dir + "/o.csv --segment-frames -1", "--segment-frames"},
      {dir + "/one.csv -o " + dir + "/o.csv --pixel-nm 0", "--pixel-nm"},
      {dir + "/one.csv -o " + dir + "/o.csv --max-drift-nm -5", "--max-drift-nm"},
      {dir + "/one.csv", "--output"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const auto r = run_smlm("drift " + c.args);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.named) != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir + "/o.csv"));
  // simulate's drift flags are checked too.
  const auto bad = run_smlm("simulate -o " + dir + "/s.tif --truth " + dir + "/t.csv --drift-walk-nm -1");
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("--drift-walk-nm") != std::string::npos);
}

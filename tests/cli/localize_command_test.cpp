// `smlm localize`: the classic wavelet + Gaussian-fit pipeline on the reference stack, bad inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>

#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/io/csv.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

TEST_CASE("localize: the reference ThunderSTORM stack against its ground truth") {
  // The stack is ADU = 100 + photons (ThunderSTORM's simulator, gain 1, no read noise), σ ≈ 110 nm,
  // about 250 emitters per 64 × 64 frame: far denser than single-emitter fitting resolves, so
  // recall is low and the bounds below are regression bounds for this data (measured: 1,694
  // localizations, recall 0.30, precision 0.89, RMSE 54 nm at 100 nm), not targets.
  const std::string out = tmp_dir + "/localize_ref.csv";
  std::filesystem::remove(out);
  auto r = run_smlm("localize " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out +
                    " --pixel-nm 100 --camera emccd --em-gain 1 --qe 1 --read-noise-e 0 --e-per-adu 1"
                    " --baseline-adu 100 --sigma-nm 110 --threshold 0.3 --fit-radius 2 --method mle");
  CHECK(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("frames=20 ") == 0);
  auto locs = smlm::io::read_localizations_csv(out);
  REQUIRE(locs);
  auto truth = smlm::io::read_localizations_csv(data_dir + "/thunderstorm_sim_20frames_positions.csv");
  REQUIRE(truth);
  CHECK(locs->size() > 1200);
  CHECK(locs->size() < 2500);
  CHECK(locs->uncertainty_xy_nm.size() == locs->size());
  CHECK(locs->frame.front() == 1);
  CHECK(locs->frame.back() == 20);
  smlm::eval::MatchOptions greedy;
  greedy.tolerance_nm = 100;
  greedy.method = smlm::eval::match_method::greedy;
  const auto matching = smlm::eval::match(*truth, *locs, greedy);
  const std::size_t tp = matching.tp();
  const double rmse = smlm::eval::detection_metrics(matching).rmse_lateral_nm;
  const double recall = static_cast<double>(tp) / static_cast<double>(truth->size());
  const double precision = static_cast<double>(tp) / static_cast<double>(locs->size());
  MESSAGE("localize reference stack: localizations=" << locs->size() << " tp=" << tp << " recall=" << recall
                                                      << " precision=" << precision << " rmse_nm=" << rmse);
  CHECK(recall > 0.25);
  CHECK(precision > 0.8);
  CHECK(rmse < 65);
  // Every uncertainty is a positive number of nanometres.
  CHECK(*std::min_element(locs->uncertainty_xy_nm.begin(), locs->uncertainty_xy_nm.end()) > 0);
}

TEST_CASE("localize: bad inputs exit non-zero with one line naming what is wrong") {
  const std::string stack = data_dir + "/thunderstorm_sim_20frames.tif";
  const std::string out = tmp_dir + "/localize_bad.csv";
  struct Case {
    std::string args, needle;
    int code;
  };
  for (const Case& c : {Case{"localize " + tmp_dir + "/missing.tif -o " + out, "missing.tif", 1},
                        Case{"localize " + stack, "--output", 2},
                        Case{"localize " + stack + " -o " + out + " --method bogus", "--method", 2},
                        Case{"localize " + stack + " -o " + out + " --camera potato", "--camera", 2},
                        Case{"localize " + stack + " -o " + out + " --pixel-nm -3", "--pixel-nm", 2},
                        Case{"localize " + stack + " -o " + out + " --fit-radius 0", "--fit-radius", 2},
                        Case{"localize " + stack + " -o " + out + " --camera emccd --qe 2", "--qe", 2},
                        Case{"localize " + stack + " -o /nonexistent-dir/x.csv", "/nonexistent-dir/x.csv", 1}}) {
    CAPTURE(c.args);
    auto r = run_smlm(c.args);
    CHECK(r.exit_code == c.code);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.needle) != std::string::npos);
  }
}

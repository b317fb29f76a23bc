#include <doctest/doctest.h>

#include <cmath>

#include <smlm/eval/detection_metrics.hpp>

#include "eval_test_util.hpp"

namespace eval = smlm::eval;
using eval_test::table;

TEST_CASE("metrics of a hand-made case with known answers") {
  // 4 molecules, 3 localizations: two pair with offsets (3, 4) and (−6, 8) nm, one is 1 µm away.
  const auto truth = table({{1, 0, 0}, {1, 500, 0}, {2, 0, 0}, {2, 500, 500}});
  const auto test = table({{1, 3, 4}, {2, -6, 8}, {2, 1500, 500}});
  eval::MatchOptions o;
  o.tolerance_nm = 50;
  const auto m = eval::detection_metrics(eval::match(truth, test, o));
  CHECK(m.tp == 2);
  CHECK(m.fp == 1);
  CHECK(m.fn == 2);
  CHECK(m.precision == doctest::Approx(2.0 / 3.0));
  CHECK(m.recall == doctest::Approx(0.5));
  CHECK(m.f1 == doctest::Approx(4.0 / 7.0));
  CHECK(m.jaccard == doctest::Approx(0.4));
  // True RMS of the lateral errors 5 and 10 nm: √((25 + 100) / 2).
  CHECK(m.rmse_lateral_nm == doctest::Approx(std::sqrt(62.5)));
  CHECK(m.bias_x_nm == doctest::Approx(-1.5));
  CHECK(m.bias_y_nm == doctest::Approx(6.0));
  CHECK(!m.has_z);
  CHECK(m.rmse_axial_nm == 0.0);
  CHECK(m.efficiency == doctest::Approx(100.0 - std::sqrt(60.0 * 60.0 + 62.5)));
}

TEST_CASE("efficiency: perfect, Jaccard-only and RMSE-only losses, negative values") {
  CHECK(eval::efficiency(1.0, 0.0) == 100.0);
  CHECK(eval::efficiency(0.5, 0.0) == doctest::Approx(50.0));
  CHECK(eval::efficiency(1.0, 30.0) == doctest::Approx(70.0));
  CHECK(eval::efficiency(0.7, 40.0) == doctest::Approx(50.0));  // √(30² + 40²) = 50
  CHECK(eval::efficiency(1.0, 40.0, 0.5) == doctest::Approx(80.0));
  CHECK(eval::efficiency(0.0, 100.0) < 0.0);
}

TEST_CASE("axial RMSE and bias when both tables have z") {
  auto truth = table({{1, 0, 0}, {1, 300, 0}});
  auto test = table({{1, 0, 0}, {1, 300, 0}});
  truth.z_nm = {0, 100};
  test.z_nm = {30, 60};  // dz = 30, −40
  const auto m = eval::detection_metrics(eval::match(truth, test));
  REQUIRE(m.has_z);
  CHECK(m.rmse_axial_nm == doctest::Approx(std::sqrt((900.0 + 1600.0) / 2)));
  CHECK(m.bias_z_nm == doctest::Approx(-5.0));
  CHECK(m.rmse_lateral_nm == 0.0);
  CHECK(m.jaccard == 1.0);
  CHECK(m.efficiency == 100.0);
}

TEST_CASE("degenerate denominators give 0, never NaN") {
  const smlm::LocalizationTable empty;
  const auto some = table({{1, 0, 0}, {1, 100, 0}});
  for (const auto& [t, l] : {std::pair{empty, empty}, std::pair{empty, some}, std::pair{some, empty}}) {
    const auto m = eval::detection_metrics(eval::match(t, l));
    CHECK(m.tp == 0);
    CHECK(m.precision == 0.0);
    CHECK(m.recall == 0.0);
    CHECK(m.f1 == 0.0);
    CHECK(m.jaccard == 0.0);
    CHECK(m.rmse_lateral_nm == 0.0);
    CHECK(m.efficiency == doctest::Approx(0.0));
  }
  const auto all_fp = eval::detection_metrics(eval::match(empty, some));
  CHECK(all_fp.fp == 2);
  const auto all_fn = eval::detection_metrics(eval::match(some, empty));
  CHECK(all_fn.fn == 2);
}

TEST_CASE("RMSE of jittered localizations is √2 × the per-axis standard deviation") {
  // 4,000 molecules 2 µm apart, localizations shifted by N(0, 15²) per axis: E[dx² + dy²] = 450,
  // relative standard error of the mean square 1/√4000 ≈ 1.6 % → RMSE within 3 % (≈ 4 σ).
  smlm::LocalizationTable truth;
  for (int i = 0; i < 4000; ++i) eval_test::add(truth, 1 + i / 400, 2000.0 * (i % 20), 2000.0 * ((i / 20) % 20));
  const auto test = eval_test::jittered(truth, 3, 15.0);
  eval::MatchOptions o;
  o.tolerance_nm = 150;  // P(d > 150 nm) = exp(−50) per molecule
  const auto m = eval::detection_metrics(eval::match(truth, test, o));
  REQUIRE(m.tp == 4000);
  CHECK(m.rmse_lateral_nm == doctest::Approx(15.0 * std::sqrt(2.0)).epsilon(0.03));
  CHECK(std::abs(m.bias_x_nm) < 4 * 15.0 / std::sqrt(4000.0));
  CHECK(std::abs(m.bias_y_nm) < 4 * 15.0 / std::sqrt(4000.0));
}

// report.hpp and doctest.hpp: how a check passes or fails, how reports combine and print, and that
// the doctest adapter turns a failed check into a failed CHECK.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/report.hpp>

using smlm::testing::Report;

TEST_CASE("Report: measured <= tolerance passes, NaN never does") {
  Report r;
  CHECK(r.passed());  // nothing checked yet
  CHECK(r.expect_le("a", 1.0, 1.0));
  CHECK_FALSE(r.expect_le("b", 1.0 + 1e-12, 1.0));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(r.expect_le("c", nan, 1.0));
  CHECK_FALSE(r.expect_le("d", 0.0, nan));
  CHECK_FALSE(r.expect_ge("e", nan, 0.0));
  CHECK(r.expect_ge("f", 2.0, 2.0));
  CHECK_FALSE(r.expect("g", false));
  CHECK(r.checks.size() == 7);
  CHECK(r.failures() == 5);
  CHECK_FALSE(r.passed());
  CHECK(r.checks[1].measured == 1.0 + 1e-12);
  CHECK(r.checks[1].tolerance == 1.0);
}

TEST_CASE("Report: count by prefix, append with a prefix, summary of the failures") {
  Report a, b;
  a.expect_le("jacobian <double> [x] plane 0", 0.5, 1.0);
  a.expect_le("jacobian <float> [x] plane 0", 2.0, 1.0);
  b.expect("sums [y]", true);
  a.append(b, "other: ");
  CHECK(a.count("jacobian") == 2);
  CHECK(a.count("jacobian <double>") == 1);
  CHECK(a.count("sums") == 0);
  CHECK(a.count("other: sums [y]") == 1);
  CHECK(a.summary() == "FAIL jacobian <float> [x] plane 0: measured 2, tolerance 1\n");
  CHECK(b.summary() == "all 1 checks passed\n");
  CHECK(smlm::testing::detail::check_name<float>("moments", "case", "photons 5") == "moments <float> [case] photons 5");
}

TEST_CASE("SMLM_CHECK_REPORT: a passing report passes") {
  Report r;
  r.expect_le("fine", 0.0, 1.0);
  SMLM_CHECK_REPORT(r);
}

TEST_CASE("SMLM_CHECK_REPORT: a failed check is a failed CHECK" * doctest::should_fail()) {
  Report r;
  r.expect_le("broken", 2.0, 1.0);
  SMLM_CHECK_REPORT(r);
}

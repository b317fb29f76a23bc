#include <doctest/doctest.h>

#include <cmath>

#include <smlm/eval/image_nmse.hpp>

namespace eval = smlm::eval;

TEST_CASE("NMSE after projection to [0, 1]: known answer, invariances, degenerate references") {
  smlm::Image<double> reference(2, 2), estimate(2, 2);
  reference << 0, 1, 2, 3;    // → 0, 1/3, 2/3, 1
  estimate << 10, 20, 30, 50;  // → 0, 1/4, 1/2, 1
  // Σ diff² = (1/12)² + (1/6)² = 5/144; Σ p(ref)² = 14/9 → 45/2016.
  CHECK(eval::nmse_projected(reference, estimate) == doctest::Approx(45.0 / 2016.0).epsilon(1e-12));
  CHECK(eval::nmse_projected(reference, reference) < 1e-30);  // 0 up to rounding of x/3
  const smlm::Image<double> affine = 7.5 * estimate - 3.0;
  CHECK(eval::nmse_projected(reference, affine) == doctest::Approx(45.0 / 2016.0).epsilon(1e-12));
  const smlm::Image<double> scaled_ref = 0.01 * reference + 100.0;
  CHECK(eval::nmse_projected(scaled_ref, estimate) == doctest::Approx(45.0 / 2016.0).epsilon(1e-9));
  // Not symmetric: with the roles swapped the denominator is Σ p(estimate)² = 1/16 + 1/4 + 1 = 21/16.
  CHECK(eval::nmse_projected(estimate, reference) == doctest::Approx((5.0 / 144.0) / (21.0 / 16.0)).epsilon(1e-12));
  // An inverted image: p = 1, 2/3, 1/3, 0 against 0, 1/3, 2/3, 1.
  const smlm::Image<double> inverted = -reference;
  CHECK(eval::nmse_projected(reference, inverted) == doctest::Approx((1 + 1.0 / 9 + 1.0 / 9 + 1) / (14.0 / 9.0)));
  const smlm::Image<double> flat = smlm::Image<double>::Constant(2, 2, 4.0);
  CHECK(eval::nmse_projected(flat, flat) == 0.0);
  CHECK(std::isinf(eval::nmse_projected(flat, estimate)));
  CHECK(eval::nmse_projected(reference, flat) == doctest::Approx(1.0));  // estimate → zeros: Σ r² / Σ r²
  smlm::Image<double> other(3, 2);
  CHECK_THROWS_AS(eval::nmse_projected(reference, other), smlm::assertion_error);
}

// ideal.hpp: the Poisson-only camera (the moments are checked by conformance_test.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <smlm/camera/ideal.hpp>
#include <utility>
#include <vector>

namespace camera = smlm::camera;

TEST_CASE_TEMPLATE("Ideal: counts follow the Poisson pmf at a low level", T, float, double) {
  // 2^17 pixels at mean 0.7: the frequency of each k ∈ {0..3} within 5 binomial SE of the pmf.
  const std::uint64_t seed = 0x90155;
  MESSAGE("seed " << seed);
  const camera::Ideal<T> ideal;
  const smlm::Image<T> photons = smlm::Image<T>::Constant(256, 512, T(0.7));
  smlm::Image<T> adu(256, 512);
  camera::record_frame(ideal, smlm::make_view(photons), seed, 0, smlm::make_view(adu));
  const double n = static_cast<double>(adu.size());
  double pmf = std::exp(-0.7);
  for (int k = 0; k < 4; ++k) {
    if (k > 0) pmf *= 0.7 / k;
    const double freq = (adu == T(k)).count() / n;
    CAPTURE(k);
    CHECK(std::abs(freq - pmf) <= 5 * std::sqrt(pmf * (1 - pmf) / n));
  }
}

TEST_CASE_TEMPLATE("Ideal: zero photons record zero; saturation at full scale", T, float, double) {
  camera::Ideal<T> ideal;
  smlm::Image<T> photons = smlm::Image<T>::Zero(4, 4);
  smlm::Image<T> adu(4, 4);
  camera::record_frame(ideal, smlm::make_view(std::as_const(photons)), 5, 0, smlm::make_view(adu));
  CHECK((adu == 0).all());
  ideal.full_scale_adu = 255;
  photons.setConstant(T(1000));
  camera::record_frame(ideal, smlm::make_view(std::as_const(photons)), 5, 0, smlm::make_view(adu));
  CHECK((adu == T(255)).all());
  CHECK(ideal.max_adu() == T(255));
}

TEST_CASE("Ideal: negative or NaN photons violate the precondition") {
  const camera::Ideal<double> ideal;
  smlm::Image<double> photons = smlm::Image<double>::Constant(2, 2, -1.0);
  smlm::Image<double> adu(2, 2);
  CHECK_THROWS_AS(
      camera::record_frame(ideal, smlm::make_view(std::as_const(photons)), 1, 0, smlm::make_view(adu)),
      smlm::assertion_error);
  photons.setConstant(std::numeric_limits<double>::quiet_NaN());
  CHECK_THROWS_AS(
      camera::record_frame(ideal, smlm::make_view(std::as_const(photons)), 1, 0, smlm::make_view(adu)),
      smlm::assertion_error);
}

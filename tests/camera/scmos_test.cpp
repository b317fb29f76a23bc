// scmos.hpp: per-pixel maps are applied to the right pixel, windows of the sensor, preconditions
// (the moments over a whole random calibration are checked by conformance_test.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <smlm/camera/scmos.hpp>
#include <utility>
#include <vector>

#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/doctest.hpp>

namespace camera = smlm::camera;
using camera::Pixel;

TEST_CASE_TEMPLATE("Scmos: each pixel has its own offset, gain and read noise", T, float, double) {
  // A 2 × 3 sensor whose pixels differ strongly; every pixel's own sample (2^14 frames) must
  // match its declared mean and variance (z = 5, SE as in smlm/testing/camera_conformance.hpp). A model reading the
  // maps transposed or at a fixed pixel fails.
  const std::uint64_t seed = 0x5C3;
  MESSAGE("seed " << seed);
  smlm::Image<T> offset(2, 3), k(2, 3), var(2, 3);
  offset << 100, 200, 300, 400, 500, 600;
  k << T(0.25), T(0.5), 1, 2, 4, 8;
  var << 1, 4, 9, 16, 25, 100;
  const camera::Scmos<T> scmos(offset, k, var, T(0.7));
  const smlm::Image<T> photons = smlm::Image<T>::Constant(2, 3, T(80));
  smlm::Image<T> adu(2, 3);
  const int frames = 1 << 14;
  std::vector<std::vector<double>> values(6);
  for (int f = 0; f < frames; ++f) {
    camera::record_frame(scmos, smlm::make_view(photons), seed, static_cast<std::uint32_t>(f),
                         smlm::make_view(adu));
    for (Eigen::Index i = 0; i < 6; ++i) values[static_cast<std::size_t>(i)].push_back(adu.data()[i]);
  }
  for (Eigen::Index y = 0; y < 2; ++y) {
    for (Eigen::Index x = 0; x < 3; ++x) {
      const auto m = smlm::testing::moments(values[static_cast<std::size_t>(y * 3 + x)]);
      const double mean = double(offset(y, x)) + 0.7 * 80 / double(k(y, x));
      const double variance = 0.7 * 80 / (double(k(y, x)) * double(k(y, x))) + double(var(y, x)) + 1.0 / 12;
      CAPTURE(y);
      CAPTURE(x);
      CAPTURE(m.mean);
      CAPTURE(m.variance);
      CHECK(scmos.mean_adu(80, Pixel{y, x}) == doctest::Approx(mean).epsilon(1e-6));
      CHECK(scmos.variance_adu(80, Pixel{y, x}) == doctest::Approx(variance).epsilon(1e-6));
      CHECK(std::abs(m.mean - mean) <= smlm::testing::z_limit * m.se_mean());
      CHECK(std::abs(m.variance - variance) <= smlm::testing::z_limit * m.se_variance());
    }
  }
}

TEST_CASE_TEMPLATE("Scmos: a window of the sensor uses the matching block of the maps", T, float, double) {
  smlm::Image<T> offset(6, 8), k(6, 8), var(6, 8);
  for (Eigen::Index y = 0; y < 6; ++y) {
    for (Eigen::Index x = 0; x < 8; ++x) {
      offset(y, x) = static_cast<T>(100 + 10 * y + x);
      k(y, x) = static_cast<T>(0.5 + 0.01 * static_cast<double>(y * 8 + x));
      var(y, x) = static_cast<T>(1 + y);
    }
  }
  const camera::Scmos<T> full(offset, k, var);
  auto block = [](const smlm::Image<T>& m) {
    return smlm::make_view(static_cast<const T*>(m.data()) + 2 * 8 + 3, 3, 4, 8);
  };
  const camera::Scmos<T> window(block(offset), block(k), block(var));
  CHECK(window.height() == 3);
  CHECK(window.width() == 4);
  for (Eigen::Index y = 0; y < 3; ++y) {
    for (Eigen::Index x = 0; x < 4; ++x) {
      CHECK(window.mean_adu(7, Pixel{y, x}) == full.mean_adu(7, Pixel{y + 2, x + 3}));
      CHECK(window.variance_adu(7, Pixel{y, x}) == full.variance_adu(7, Pixel{y + 2, x + 3}));
    }
  }
  smlm::Image<T> adu = smlm::Image<T>::Constant(3, 4, T(150)), photons(3, 4);
  window.to_photons(smlm::make_view(std::as_const(adu)), smlm::make_view(photons));
  CHECK(double(photons(1, 2)) ==
        doctest::Approx((150.0 - (100 + 10 * 3 + 5)) * (0.5 + 0.01 * (3 * 8 + 5)) / 0.8).epsilon(1e-6));
}

TEST_CASE("Scmos: preconditions") {
  smlm::Image<double> a = smlm::Image<double>::Constant(4, 4, 1.0),
                      b = smlm::Image<double>::Constant(4, 5, 1.0);
  CHECK_THROWS_AS(camera::Scmos<double>(a, a, b), smlm::assertion_error);
  const camera::Scmos<double> scmos(a, a, a);
  CHECK_THROWS_AS((void)scmos.mean_adu(1, Pixel{4, 0}), smlm::assertion_error);
  CHECK_THROWS_AS((void)scmos.variance_adu(1, Pixel{0, -1}), smlm::assertion_error);
  smlm::Image<double> adu(4, 5);
  CHECK_THROWS_AS(camera::record_frame(scmos, smlm::make_view(std::as_const(b)), 1, 0, smlm::make_view(adu)),
                  smlm::assertion_error);
  smlm::Image<double> bad_gain = smlm::Image<double>::Constant(4, 4, 0.0), out(4, 4);
  const camera::Scmos<double> zero_gain(a, bad_gain, a);
  CHECK_THROWS_AS(
      camera::record_frame(zero_gain, smlm::make_view(std::as_const(a)), 1, 0, smlm::make_view(out)),
      smlm::assertion_error);
}

// dark_current.hpp: dark electrons ride in each model's Poisson stage (through the EM register of
// an EMCCD), hot pixels are a fixed seeded subset, to_photons removes the dark signal; the
// conformance suite runs over wrapped models in conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/dark_current.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <utility>
#include <vector>

#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/doctest.hpp>

namespace camera = smlm::camera;
using camera::Pixel;
using smlm::testing::moments;
using smlm::testing::sample;
using smlm::testing::z_limit;

static_assert(camera::check_model<camera::DarkCurrent<camera::Ideal<float>>>());
static_assert(camera::check_model<camera::DarkCurrent<camera::Emccd<double>>>());
static_assert(camera::FrameDependent<camera::DarkCurrent<camera::CmosPhone<float>>>);
static_assert(!camera::FrameDependent<camera::DarkCurrent<camera::Emccd<float>>>);

TEST_CASE_TEMPLATE("DarkCurrent: zero photons on an ideal camera read Poisson(dark)", T, float, double) {
  // 3 e-/frame: mean = variance = 3 and P(0) = e^-3 = 0.0498 (binomial SE over N samples).
  const std::uint64_t seed = 0xDA4;
  MESSAGE("seed " << seed);
  const auto cam = camera::with_dark_current(camera::Ideal<T>{}, 3.0);
  const std::vector<double> values = sample(cam, 0.0, seed);
  const auto m = moments(values);
  CHECK(std::abs(m.mean - 3) <= z_limit * m.se_mean());
  CHECK(std::abs(m.variance - 3) <= z_limit * m.se_variance());
  double zeros = 0;
  for (double v : values) zeros += v == 0;
  const double p0 = std::exp(-3.0), n = static_cast<double>(values.size());
  CHECK(std::abs(zeros / n - p0) <= z_limit * std::sqrt(p0 * (1 - p0) / n));
}

TEST_CASE_TEMPLATE("DarkCurrent: dark electrons pass an EMCCD's register (excess noise 2)", T, float, double) {
  // 5 e-/frame dark, no light: mean = b + g·(cic + 5)/k, variance = (2·g²·(cic + 5) + σ²)/k² + 1/12,
  // written out; a wrapper that added dark after the register would have variance ~ g²·5/k², half.
  const std::uint64_t seed = 0xDA5;
  MESSAGE("seed " << seed);
  const auto cam = camera::with_dark_current(camera::Emccd<T>{}, 5.0);
  const auto m = moments(sample(cam, 0.0, seed));
  const double lambda = 0.005 + 5, mean = 100 + 100 * lambda / 12;
  const double var = (2 * 100.0 * 100.0 * lambda + 50.0 * 50.0) / 144 + 1.0 / 12;
  CAPTURE(m.mean);
  CAPTURE(m.variance);
  CHECK(std::abs(m.mean - mean) <= z_limit * m.se_mean());
  CHECK(std::abs(m.variance - var) <= z_limit * m.se_variance());
}

TEST_CASE("DarkCurrent: hot pixels are a fixed, seeded subset of the stated share") {
  const auto cam = camera::with_dark_current(camera::Ideal<double>{}, 0.1, 0.02, 300.0, 77);
  const Eigen::Index n = 256;
  int hot = 0;
  for (Eigen::Index y = 0; y < n; ++y)
    for (Eigen::Index x = 0; x < n; ++x) hot += cam.is_hot(Pixel{y, x});
  const double share = hot / double(n * n);
  CAPTURE(share);
  CHECK(std::abs(share - 0.02) <= z_limit * std::sqrt(0.02 * 0.98 / double(n * n)));
  // The same sensor in every copy; another seed picks other pixels; a window sees them shifted.
  auto other = cam;
  other.pattern_seed = 78;
  auto window = cam;
  window.origin = Pixel{10, 20};
  int same = 0, shifted = 0, hot_in_window = 0;
  for (Eigen::Index y = 0; y < 64; ++y)
    for (Eigen::Index x = 0; x < 64; ++x) {
      if (!cam.is_hot(Pixel{y + 10, x + 20})) continue;
      ++hot_in_window;
      same += other.is_hot(Pixel{y + 10, x + 20});
      shifted += window.is_hot(Pixel{y, x});
    }
  CHECK(hot_in_window > 40);
  CHECK(shifted == hot_in_window);
  CHECK(same < hot_in_window / 4);
  CHECK(cam.dark_electrons(Pixel{0, 0}) == (cam.is_hot(Pixel{0, 0}) ? 300.0 : 0.1));
}

TEST_CASE_TEMPLATE("DarkCurrent: hot pixels read hot in every frame", T, float, double) {
  // 8 frames of a dark 64 × 64 ideal camera, 1 % hot at 400 e-/frame: every hot pixel reads
  // ≥ 300 in every frame (P(Poisson(400) < 300) < 1e-7), every other pixel < 30.
  const std::uint64_t seed = 0xDA6;
  MESSAGE("seed " << seed);
  const auto cam = camera::with_dark_current(camera::Ideal<T>{}, 1.0, 0.01, 400.0);
  const smlm::Image<T> photons = smlm::Image<T>::Zero(64, 64);
  smlm::Image<T> adu(64, 64);
  int wrong = 0, hot = 0;
  for (std::uint32_t f = 0; f < 8; ++f) {
    camera::record_frame(cam, smlm::make_view(photons), seed, f, smlm::make_view(adu));
    for (Eigen::Index y = 0; y < 64; ++y)
      for (Eigen::Index x = 0; x < 64; ++x) {
        const bool is_hot = cam.is_hot(Pixel{y, x});
        hot += is_hot;
        wrong += is_hot ? adu(y, x) < 300 : adu(y, x) >= 30;
      }
  }
  CHECK(hot > 8 * 10);
  CHECK(wrong == 0);
}

TEST_CASE("DarkCurrent: to_photons subtracts the dark signal; parameter ranges") {
  camera::Emccd<double> emccd;
  emccd.cic_electrons = 0;
  const auto cam = camera::with_dark_current(emccd, 9.0);
  // 10 photons + 9 e- dark: 100 + 100·(9 + 9)/12 ADU → 10 photons back.
  smlm::Image<double> adu = smlm::Image<double>::Constant(2, 2, 100 + 100 * 18.0 / 12);
  smlm::Image<double> photons(2, 2);
  cam.to_photons(smlm::make_view(std::as_const(adu)), smlm::make_view(photons));
  CHECK(photons(1, 1) == doctest::Approx(10.0).epsilon(1e-12));
  CHECK(cam.mean_adu(10) == doctest::Approx(100 + 100 * 18.0 / 12).epsilon(1e-12));
  // The dark electrons count as d/qe photons: qe 0.9 → 10 equivalent photons.
  CHECK(cam.dark_photons(Pixel{}) == doctest::Approx(10.0));
  using D = camera::DarkCurrent<camera::Ideal<double>>;
  std::vector<D> bad(4);
  bad[0].dark_e = -1;
  bad[1].hot_fraction = 1.5;
  bad[2].hot_dark_e = -2;
  bad[3].dark_e = std::nan("");
  SMLM_CHECK_REPORT(smlm::testing::check_camera_rejected(bad));
}

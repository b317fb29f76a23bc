// emccd.hpp: what the conformance suite does not cover — the excess noise factor, CIC at zero
// photons, saturation and clipping, parameter checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <smlm/camera/emccd.hpp>
#include <utility>
#include <vector>

#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/doctest.hpp>

namespace camera = smlm::camera;
using smlm::testing::moments;
using smlm::testing::sample;
using smlm::testing::z_limit;

TEST_CASE_TEMPLATE("Emccd: excess noise factor is sqrt(2) with gain, 1 without", T, float, double) {
  // F² = (s² − σ_read² / k² − 1/12) · k² / (g² · λ) at 5000 photons (λ = 4500 electrons), where
  // shot noise dominates read noise 180-fold; SE from the sample's fourth moment (≈ 0.4 % here).
  const std::uint64_t seed = 0xF2F2;
  MESSAGE("seed " << seed);
  camera::Emccd<T> emccd;
  const double photons = 5000;
  for (const double gain : {100.0, 1.0}) {
    emccd.em_gain = static_cast<T>(gain);
    if (gain == 1) emccd.e_per_adu = T(0.5);
    const double k = emccd.e_per_adu, sigma = emccd.read_noise_e;
    const double lambda = double(emccd.qe) * photons + double(emccd.cic_electrons);
    const auto m = moments(sample(emccd, photons, seed));
    const double scale = k * k / (gain * gain * lambda);
    const double f2 = (m.variance - sigma * sigma / (k * k) - 1.0 / 12) * scale;
    const double se = m.se_variance() * scale;
    const double expected = gain > 1 ? 2.0 : 1.0;
    CAPTURE(gain);
    CAPTURE(f2);
    CAPTURE(se);
    CHECK(std::abs(f2 - expected) <= z_limit * se);
    CHECK(std::abs(f2 - expected) < 0.05);
    CHECK(std::abs(m.mean - (double(emccd.baseline_adu) + gain * lambda / k)) <= z_limit * m.se_mean());
  }
}

TEST_CASE_TEMPLATE("Emccd: zero photons give baseline + CIC + read noise", T, float, double) {
  // mean = b + g·c/k, variance = (2·g²·c + σ²)/k² + 1/12 (written out here, not via mean_adu);
  // c = 0.05 e⁻ shifts the mean by 0.42 ADU ≈ 30 SE, so a model without CIC fails.
  const std::uint64_t seed = 0xC1C;
  MESSAGE("seed " << seed);
  camera::Emccd<T> emccd;
  emccd.cic_electrons = T(0.05);
  const double b = 100, g = 100, k = 12, sigma = 50, c = 0.05;
  const auto m = moments(sample(emccd, 0.0, seed));
  const double mean = b + g * c / k, var = (2 * g * g * c + sigma * sigma) / (k * k) + 1.0 / 12;
  CAPTURE(m.mean);
  CAPTURE(m.variance);
  CHECK(std::abs(m.mean - mean) <= z_limit * m.se_mean());
  CHECK(std::abs(m.variance - var) <= z_limit * m.se_variance());
  CHECK(std::abs(m.mean - b) > 10 * m.se_mean());
  CHECK(std::abs(m.variance - (sigma * sigma / (k * k) + 1.0 / 12)) > 10 * m.se_variance());
  CHECK(emccd.mean_adu(0) == doctest::Approx(mean).epsilon(1e-6));
  CHECK(emccd.variance_adu(0) == doctest::Approx(var).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("Emccd: saturation clamps at full scale", T, float, double) {
  const std::uint64_t seed = 0x5A7;
  MESSAGE("seed " << seed);
  camera::Emccd<T> emccd;
  smlm::Image<T> photons = smlm::Image<T>::Constant(64, 64, T(1e6));
  smlm::Image<T> adu(64, 64);
  camera::record_frame(emccd, smlm::make_view(std::as_const(photons)), seed, 0, smlm::make_view(adu));
  CHECK((adu == T(65535)).all());

  // 12-bit converter, mean at full scale: about half the pixels saturate, none exceed it.
  emccd.full_scale_adu = 4095;
  const double p = (4095 - 100) * 12.0 / 100 / 0.9;
  photons.setConstant(static_cast<T>(p));
  camera::record_frame(emccd, smlm::make_view(std::as_const(photons)), seed, 1, smlm::make_view(adu));
  const double saturated = static_cast<double>((adu == T(4095)).count()) / static_cast<double>(adu.size());
  CAPTURE(saturated);
  CHECK(adu.maxCoeff() == T(4095));
  CHECK(saturated > 0.4);
  CHECK(saturated < 0.6);
  CHECK((adu == adu.floor()).all());
}

TEST_CASE_TEMPLATE("Emccd: values below 0 are clipped to 0", T, float, double) {
  // Baseline 0, no signal, no CIC: round(N(0, (50/12)²)) clipped, P(0) = Φ(0.5 / 4.17) = 0.548.
  const std::uint64_t seed = 0xC11B;
  MESSAGE("seed " << seed);
  camera::Emccd<T> emccd;
  emccd.baseline_adu = 0;
  emccd.cic_electrons = 0;
  const smlm::Image<T> photons = smlm::Image<T>::Zero(128, 128);
  smlm::Image<T> adu(128, 128);
  camera::record_frame(emccd, smlm::make_view(std::as_const(photons)), seed, 0, smlm::make_view(adu));
  const double zeros = static_cast<double>((adu == 0).count()) / static_cast<double>(adu.size());
  const double expected = 0.5 * std::erfc(-0.5 / (50.0 / 12) / std::sqrt(2.0));
  CAPTURE(zeros);
  CHECK(adu.minCoeff() == T(0));
  CHECK(std::abs(zeros - expected) <=
        5 * std::sqrt(expected * (1 - expected) / static_cast<double>(adu.size())));
}

TEST_CASE_TEMPLATE("Emccd: to_photons inverts the mean, CIC subtracted", T, float, double) {
  camera::Emccd<T> emccd;
  // 10 photons → λ = 9.005 e⁻ → 100 + 100·9.005/12 ADU.
  smlm::Image<T> adu = smlm::Image<T>::Constant(1, 1, static_cast<T>(100 + 100 * 9.005 / 12));
  smlm::Image<T> photons(1, 1);
  emccd.to_photons(smlm::make_view(std::as_const(adu)), smlm::make_view(photons));
  CHECK(double(photons(0, 0)) == doctest::Approx(10.0).epsilon(1e-6));
  adu(0, 0) = 100;
  emccd.to_photons(smlm::make_view(std::as_const(adu)), smlm::make_view(photons));
  CHECK(double(photons(0, 0)) == doctest::Approx(-0.005 / 0.9).epsilon(1e-6));
}

TEST_CASE("Emccd: parameter ranges") {
  using E = camera::Emccd<double>;
  CHECK(E{}.valid());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<E> bad(9);
  bad[0].qe = 0;
  bad[1].qe = 1.5;
  bad[2].cic_electrons = -0.1;
  bad[3].em_gain = 0.5;
  bad[4].read_noise_e = -1;
  bad[5].e_per_adu = 0;
  bad[6].baseline_adu = nan;
  bad[7].full_scale_adu = 0;
  bad[8].em_gain = nan;
  SMLM_CHECK_REPORT(smlm::testing::check_camera_rejected(bad));
  E off;
  off.em_gain = 1;
  CHECK(off.valid());
  CHECK(off.excess_noise_factor_sq() == 1.0);
  CHECK(E{}.excess_noise_factor_sq() == 2.0);
}

// cmos_phone.hpp: what the conformance suite does not cover — the fixed pattern, the frame gain
// (drift and dips), the tone curve above the knee, clipping at zero, 8-bit output, parameters.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <smlm/camera/cmos_phone.hpp>
#include <utility>
#include <vector>

#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/doctest.hpp>

namespace camera = smlm::camera;
using camera::Pixel;
using smlm::testing::z_limit;

TEST_CASE("CmosPhone: the default preset is the cellSTORM measurement") {
  const camera::CmosPhone<float> phone;
  CHECK(phone.valid());
  CHECK(phone.offset_adu == doctest::Approx(4.1));
  CHECK(phone.e_per_adu == doctest::Approx(0.69));
  CHECK(phone.read_noise_e == doctest::Approx(2.5));
  CHECK(phone.fixed_pattern_e == doctest::Approx(0.34));
  CHECK(phone.linear_max_adu() == 220.0f);
  CHECK(phone.max_adu() == 255.0f);
  CHECK(phone.sensor_bits == 12);
  CHECK(phone.saturation_adu() == 290.0);  // K + 2w = 220 + 2·35
  CHECK(phone.sensor_max_adu() == doctest::Approx(4095.0 / 8));
  CHECK(phone.rounding_bias_adu() == 1.0 / 16);
  // Declared mean at 50 photons, frame 1 (no dip), pixel (0, 0), written out.
  const double m1 = 1 + 0.01 * std::sin(2 * 3.14159265358979323846 / 600);
  const double phi = phone.fixed_pattern_electrons(Pixel{0, 0});
  CHECK(phone.mean_adu(50, Pixel{0, 0}, 1) == doctest::Approx(m1 * (4.1 + (phi + 50) / 0.69) + 1.0 / 16).epsilon(1e-6));
  CHECK(phone.variance_adu(50, Pixel{0, 0}, 1) ==
        doctest::Approx(m1 * m1 * (50 + 6.25) / (0.69 * 0.69) + 1.0 / 12).epsilon(1e-6));
  // Frame 0 is a dip frame: the frame-less members describe it.
  CHECK(phone.frame_gain(0) == doctest::Approx(0.98));
  CHECK(phone.mean_adu(50, Pixel{0, 0}) == phone.mean_adu(50, Pixel{0, 0}, 0));
}

TEST_CASE("CmosPhone: the tone curve is linear to the knee, soft above, flat from K + 2w") {
  camera::CmosPhone<double> phone;
  CHECK(phone.tone(0) == 0);
  CHECK(phone.tone(100.25) == 100.25);
  CHECK(phone.tone(220) == 220);
  CHECK(phone.tone(255) == doctest::Approx(255 - 35.0 * 35.0 / 140));  // 246.25
  CHECK(phone.tone(290) == 255);
  CHECK(phone.tone(1000) == 255);
  // C¹ at the knee and at K + 2w (central differences), monotone in between.
  const double h = 1e-4;
  CHECK((phone.tone(220 + h) - phone.tone(220 - h)) / (2 * h) == doctest::Approx(1).epsilon(1e-4));
  CHECK((phone.tone(290 + h) - phone.tone(290 - h)) / (2 * h) == doctest::Approx(0).epsilon(1e-4));
  for (double t = 220; t < 300; t += 0.5) CHECK(phone.tone(t + 0.5) >= phone.tone(t));
  phone.compress = false;
  CHECK(phone.tone(250) == 250);
  CHECK(phone.tone(300) == 255);
  CHECK(phone.linear_max_adu() == 255);
  CHECK(phone.saturation_adu() == 255);
}

TEST_CASE_TEMPLATE("CmosPhone: recorded frames are 8-bit integers; high signal compresses", T, float, double) {
  const std::uint64_t seed = 0x8B17;
  MESSAGE("seed " << seed);
  camera::CmosPhone<T> phone;
  phone.fixed_pattern_e = 0;
  phone.drift_amplitude = 0;
  phone.dip_depth = 0;
  // Linear mean 250 ADU (172 photons): the recorded mean lies well below it (the knee), and
  // matches the tone curve applied to the (near-normal) linear value, E[r(v)] by quadrature.
  // Left out of the quadrature: the Poisson's skew and the roundings (< 0.05 ADU together);
  // the sample mean's SE is 0.1 ADU.
  const double photons = (250 - 4.1) * 0.69;
  const std::vector<double> values = smlm::testing::sample(phone, photons, seed, 4, 64, 64);
  smlm::testing::Report range;
  smlm::testing::check_camera_range(phone, values, "range", range);
  SMLM_CHECK_REPORT(range);
  const auto m = smlm::testing::moments(values);
  double expected = 0;
  {
    const double mu = 250, sd = std::sqrt(phone.variance_adu(photons) - 1.0 / 12);
    double wsum = 0;
    for (double z = -8; z <= 8; z += 1e-3) {
      const double w = std::exp(-0.5 * z * z);
      expected += w * phone.tone(mu + sd * z);
      wsum += w;
    }
    expected /= wsum;
  }
  CAPTURE(m.mean);
  CAPTURE(expected);
  CHECK(m.mean < 245);
  CHECK(std::abs(m.mean - expected) < 5 * m.se_mean());
  CHECK(*std::max_element(values.begin(), values.end()) <= 255);
}

TEST_CASE_TEMPLATE("CmosPhone: low values clip to zero with the declared probability", T, float, double) {
  // Zero photons: v ~ N(m·(4.1 + φ_i/k), (m·2.5/k)²) per pixel; the output is 0 when the 12-bit
  // value s ≤ 3 (t = s/8 < ½), i.e. v < 3.5/8 ADU. The expected fraction averages Φ over the
  // pixels' own fixed pattern; binomial SE, z = 5.
  const std::uint64_t seed = 0x2E20;
  MESSAGE("seed " << seed);
  const camera::CmosPhone<T> phone;
  const Eigen::Index n = 128;
  const smlm::Image<T> photons = smlm::Image<T>::Zero(n, n);
  smlm::Image<T> adu(n, n);
  camera::record_frame(phone, smlm::make_view(photons), seed, 1, smlm::make_view(adu));
  const double m = phone.frame_gain(1), k = 0.69, sd = m * 2.5 / k;
  double expected = 0;
  for (Eigen::Index y = 0; y < n; ++y)
    for (Eigen::Index x = 0; x < n; ++x) {
      const double mu = m * (4.1 + phone.fixed_pattern_electrons(Pixel{y, x}) / k);
      expected += 0.5 * std::erfc(-(3.5 / 8 - mu) / (sd * std::sqrt(2.0)));
    }
  expected /= double(n * n);
  const double zeros = static_cast<double>((adu == 0).count()) / double(n * n);
  CAPTURE(zeros);
  CAPTURE(expected);
  CHECK(expected > 0.1);
  CHECK(std::abs(zeros - expected) <= z_limit * std::sqrt(expected * (1 - expected) / double(n * n)));
  CHECK(adu.minCoeff() == 0);
}

TEST_CASE("CmosPhone: the fixed pattern is per sensor pixel, seeded, and has the stated rms") {
  const camera::CmosPhone<float> phone;
  // rms over 128 × 128 pixels: SE of the sample SD ≈ 0.34/√(2·16384) = 0.0019 e⁻.
  double s2 = 0, s1 = 0;
  const int n = 128;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const double phi = phone.fixed_pattern_electrons(Pixel{y, x});
      s1 += phi;
      s2 += phi * phi;
    }
  const double mean = s1 / (n * n), rms = std::sqrt(s2 / (n * n) - mean * mean);
  CAPTURE(rms);
  CHECK(std::abs(rms - 0.34) < z_limit * 0.34 / std::sqrt(2.0 * n * n));
  CHECK(std::abs(mean) < z_limit * 0.34 / n);
  // Fixed: another copy of the model has the same pattern; another sensor (seed) does not; a
  // window (origin) sees the sensor's pixels shifted.
  const camera::CmosPhone<float> copy = phone;
  CHECK(copy.fixed_pattern_electrons(Pixel{5, 7}) == phone.fixed_pattern_electrons(Pixel{5, 7}));
  camera::CmosPhone<float> other = phone;
  other.pattern_seed += 1;
  CHECK(other.fixed_pattern_electrons(Pixel{5, 7}) != phone.fixed_pattern_electrons(Pixel{5, 7}));
  camera::CmosPhone<float> window = phone;
  window.origin = Pixel{2, 3};
  CHECK(window.fixed_pattern_electrons(Pixel{3, 4}) == phone.fixed_pattern_electrons(Pixel{5, 7}));
  CHECK(phone.fixed_pattern_electrons(Pixel{5, 7}) != phone.fixed_pattern_electrons(Pixel{7, 5}));
  camera::CmosPhone<float> none = phone;
  none.fixed_pattern_e = 0;
  CHECK(none.fixed_pattern_electrons(Pixel{5, 7}) == 0.0);
}

TEST_CASE("CmosPhone: temporal means of a dark stack show the fixed pattern") {
  // 48 frames of 64 × 64 dark pixels, offset 40 ADU (no clipping), no drift or dip. Per pixel,
  // the temporal mean minus the declared mean (which holds φ_i) has variance σ²/N only; the
  // temporal means themselves vary by (φ/k)² more. A model without the pattern fails the first,
  // one whose pattern changes with the frame fails the second.
  const std::uint64_t seed = 0xF1F0;
  MESSAGE("seed " << seed);
  camera::CmosPhone<double> phone;
  phone.offset_adu = 40;
  phone.drift_amplitude = 0;
  phone.dip_depth = 0;
  phone.fixed_pattern_e = 1.5;  // 2.2 ADU: 10× the temporal SE of a pixel's mean
  const int frames = 48;
  const Eigen::Index n = 64;
  const smlm::Image<double> photons = smlm::Image<double>::Zero(n, n);
  smlm::Image<double> adu(n, n), sum = smlm::Image<double>::Zero(n, n);
  for (int f = 0; f < frames; ++f) {
    camera::record_frame(phone, smlm::make_view(photons), seed, static_cast<std::uint32_t>(f), smlm::make_view(adu));
    sum += adu;
  }
  double resid2 = 0, spread2 = 0, grand = sum.mean() / frames;
  for (Eigen::Index y = 0; y < n; ++y)
    for (Eigen::Index x = 0; x < n; ++x) {
      const double mean = sum(y, x) / frames;
      resid2 += std::pow(mean - phone.mean_adu(0, Pixel{y, x}, 1), 2);
      spread2 += std::pow(mean - grand, 2);
    }
  resid2 /= double(n * n);
  spread2 /= double(n * n);
  const double temporal = phone.variance_adu(0) / frames;  // σ²/N in ADU²
  const double pattern = std::pow(1.5 / 0.69, 2);
  CAPTURE(resid2);
  CAPTURE(spread2);
  // Variance of a mean of n² chi-square terms: SE ≈ temporal·√(2/n²) (3 % here).
  CHECK(std::abs(resid2 - temporal) < z_limit * temporal * std::sqrt(2.0 / double(n * n)));
  CHECK(spread2 == doctest::Approx(temporal + pattern).epsilon(0.1));
}

TEST_CASE_TEMPLATE("CmosPhone: the frame mean drifts and dips at the declared frames", T, float, double) {
  // 60 frames of 32 × 32 pixels at 60 photons, offset 40 ADU: every frame's mean is compared
  // with its declared mean (z = 5; the fixed pattern averages into the declared mean too), and
  // the dip frames 0 and 30 read about 2 % (2.5 ADU ≈ 7 SE) lower than their neighbours.
  const std::uint64_t seed = 0xD1B;
  MESSAGE("seed " << seed);
  camera::CmosPhone<T> phone;
  phone.offset_adu = 40;
  phone.drift_amplitude = T(0.05);
  phone.drift_period_frames = 40;
  const Eigen::Index n = 32;
  const smlm::Image<T> photons = smlm::Image<T>::Constant(n, n, T(60));
  smlm::Image<T> adu(n, n);
  std::vector<double> frame_mean;
  for (std::uint32_t f = 0; f < 60; ++f) {
    camera::record_frame(phone, smlm::make_view(photons), seed, f, smlm::make_view(adu));
    double declared = 0;
    for (Eigen::Index y = 0; y < n; ++y)
      for (Eigen::Index x = 0; x < n; ++x) declared += camera::mean_adu_at(phone, 60, Pixel{y, x}, f);
    declared /= double(n * n);
    const double got = adu.template cast<double>().mean();
    const double se = std::sqrt(camera::variance_adu_at(phone, 60, Pixel{}, f) / double(n * n));
    CAPTURE(f);
    CHECK(std::abs(got - declared) <= z_limit * se);
    frame_mean.push_back(got);
  }
  CHECK(frame_mean[0] < frame_mean[1] - 1.5);
  CHECK(frame_mean[30] < frame_mean[29] - 1.5);
  CHECK(frame_mean[30] < frame_mean[31] - 1.5);
  // The drift: frame 10 (m = 1.05) reads about 6 ADU above frame 20 (m = 1.00).
  CHECK(frame_mean[10] > frame_mean[20] + 4);
  CHECK(phone.frame_gain(10) == doctest::Approx(1.05));
  CHECK(phone.frame_gain(20) == doctest::Approx(1.0));
  CHECK(phone.frame_gain(30) == doctest::Approx(1 - 0.05 - 0.02));
  phone.dip_period_frames = 0;
  CHECK(phone.frame_gain(30) == doctest::Approx(0.95));
}

TEST_CASE("CmosPhone: to_photons inverts the mean of the frame") {
  camera::CmosPhone<double> phone;
  phone.fixed_pattern_e = 0;
  smlm::Image<double> adu = smlm::Image<double>::Constant(1, 1, 0.98 * (4.1 + 69 / 0.69) + 1.0 / 16);
  smlm::Image<double> photons(1, 1);
  phone.to_photons(smlm::make_view(std::as_const(adu)), smlm::make_view(photons));  // frame 0
  CHECK(photons(0, 0) == doctest::Approx(69).epsilon(1e-9));
  adu(0, 0) = phone.mean_adu(69, Pixel{}, 7);
  camera::to_photons_at(phone, smlm::make_view(std::as_const(adu)), 7, smlm::make_view(photons));
  CHECK(photons(0, 0) == doctest::Approx(69).epsilon(1e-9));
}

TEST_CASE("CmosPhone: parameter ranges") {
  using P = camera::CmosPhone<double>;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<P> bad(12);
  bad[0].qe = 0;
  bad[1].e_per_adu = 0;
  bad[2].read_noise_e = -1;
  bad[3].fixed_pattern_e = -0.1;
  bad[4].offset_adu = nan;
  bad[5].knee_adu = 300;  // above the output's full scale
  bad[6].sensor_bits = 0;
  bad[7].sensor_levels_per_adu = 0;
  bad[8].drift_amplitude = 0.6;
  bad[9].dip_depth = -0.1;
  bad[10].sensor_bits = 8;  // (2^8 − 1)/8 = 31.9 ADU: the sensor clips long before the output
  bad[11].drift_period_frames = 0;
  SMLM_CHECK_REPORT(smlm::testing::check_camera_rejected(bad));
}

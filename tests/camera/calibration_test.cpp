// calibration.hpp: each camera model is simulated on a flat stack with columns at several
// intensities (one column band dark) and its offset, gain and read noise are recovered within
// 5 %; bad stacks give the errors the header lists.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <smlm/camera/calibration.hpp>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <string>
#include <vector>

namespace camera = smlm::camera;

namespace {

/// `frames` frames of 64 × 64 pixels, column band j (of levels.size()) at levels[j] photons.
template <camera::Model C>
camera::PixelStatistics simulate(const C& cam, const std::vector<double>& levels, int frames, std::uint64_t seed,
                                 double low_adu = 0) {
  using T = typename C::scalar;
  const Eigen::Index n = 64;
  smlm::Image<T> photons(n, n), adu(n, n);
  for (Eigen::Index x = 0; x < n; ++x)
    photons.col(x).setConstant(static_cast<T>(levels[static_cast<std::size_t>(x) * levels.size() / n]));
  camera::PixelStatistics stats(n, n, low_adu);
  for (int f = 0; f < frames; ++f) {
    camera::record_frame(cam, smlm::const_view(photons), seed, static_cast<std::uint32_t>(f), smlm::make_view(adu));
    REQUIRE(stats.add_frame(adu).ok());
  }
  return stats;
}

void check_within(double got, double expected, double rel) {
  CAPTURE(got);
  CAPTURE(expected);
  CHECK(std::abs(got - expected) <= rel * std::abs(expected));
}

}  // namespace

TEST_CASE("calibrate: Ideal camera (offset 0, 1 e-/ADU, no read noise)") {
  const std::uint64_t seed = 0xCA1;
  MESSAGE("seed " << seed);
  // Zero counts are data here, not clipping: nothing is ≤ −1.
  const auto stats = simulate(camera::Ideal<float>{}, {0, 10, 30, 100, 300, 1000, 3000, 10000}, 64, seed, -1);
  camera::CalibrationOptions opt;
  opt.clip_min_adu = -1;
  opt.quantization_variance_adu2 = 0;
  const auto cal = camera::calibrate(stats, opt);
  REQUIRE_MESSAGE(cal, cal.message());
  check_within(cal->e_per_adu, 1.0, 0.05);
  CHECK(cal->offset_adu == 0);  // the dark band reads exactly 0
  CHECK(cal->dark_pixels == 512);
  // σ² = a: zero within its SE (the intercept of a line whose lowest point has variance 0).
  CHECK(cal->read_noise_e < 0.5);
}

TEST_CASE("calibrate: EMCCD with excess noise factor 2") {
  const std::uint64_t seed = 0xCA2;
  MESSAGE("seed " << seed);
  const camera::Emccd<float> emccd;  // 12 e-/ADU, gain 100, read noise 50 e-, baseline 100
  const auto stats = simulate(emccd, {0, 5, 10, 20, 50, 100, 200, 400}, 64, seed);
  camera::CalibrationOptions opt;
  opt.excess_noise_factor_sq = 2;
  const auto cal = camera::calibrate(stats, opt);
  REQUIRE_MESSAGE(cal, cal.message());
  // Referred to photoelectrons at the register's input: e_per_adu/g and read_noise_e/g.
  check_within(cal->e_per_adu, 12.0 / 100, 0.05);
  check_within(cal->offset_adu, 100, 0.05);
  check_within(cal->read_noise_e, 50.0 / 100, 0.05);
  check_within(cal->read_noise_adu, 50.0 / 12, 0.05);
  // Ignoring the excess noise halves the gain.
  const auto naive = camera::calibrate(stats);
  REQUIRE(naive);
  check_within(naive->e_per_adu, 0.5 * 12.0 / 100, 0.05);
}

TEST_CASE("calibrate: sCMOS (maps varying by a few per cent)") {
  const std::uint64_t seed = 0xCA3;
  MESSAGE("seed " << seed);
  smlm::Image<float> offset(64, 64), k(64, 64), var(64, 64);
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  for (Eigen::Index i = 0; i < offset.size(); ++i) {
    offset.data()[i] = smlm::uniform<float>(rng, 98, 102);
    k.data()[i] = smlm::uniform<float>(rng, 0.45f, 0.47f);
    var.data()[i] = smlm::uniform<float>(rng, 2, 4);
  }
  const camera::Scmos<float> scmos(offset, k, var, 0.8f);
  const auto stats = simulate(scmos, {0, 20, 50, 100, 300, 1000, 3000, 10000}, 64, seed);
  const auto cal = camera::calibrate(stats);
  REQUIRE_MESSAGE(cal, cal.message());
  check_within(cal->e_per_adu, 0.46, 0.05);
  check_within(cal->offset_adu, 100, 0.05);
  check_within(cal->read_noise_adu, std::sqrt(3.0), 0.05);
  check_within(cal->read_noise_e, std::sqrt(3.0) * 0.46, 0.05);
}

TEST_CASE("calibrate: cellphone CMOS (dark level clipped, compressed above 220 ADU)") {
  const std::uint64_t seed = 0xCA4;
  MESSAGE("seed " << seed);
  const camera::CmosPhone<float> phone;
  const auto stats = simulate(phone, {0, 10, 20, 40, 60, 80, 100, 120}, 64, seed);
  camera::CalibrationOptions opt;
  opt.linear_max_adu = 220;
  const auto cal = camera::calibrate(stats, opt);
  REQUIRE_MESSAGE(cal, cal.message());
  check_within(cal->e_per_adu, 0.69, 0.05);
  // The 8-bit value carries the double-rounding bias of 1/16 ADU (cmos_phone.hpp).
  check_within(cal->offset_adu, 4.1, 0.05);
  check_within(cal->read_noise_e, 2.5, 0.05);
  // Without the censored fit the clipped dark pixels read too high: their plain mean.
  double plain = 0;
  for (Eigen::Index y = 0; y < 64; ++y)
    for (Eigen::Index x = 0; x < 8; ++x) plain += stats.mean(y, x);
  plain /= 64 * 8;
  CHECK(plain > 4.1 * 1.05);
  // The compressed range biases the slope when it is not excluded.
  const auto unexcluded = camera::calibrate(simulate(phone, {0, 10, 40, 80, 120, 160, 200, 260}, 32, seed));
  if (unexcluded) CHECK(std::abs(unexcluded->e_per_adu - 0.69) > 0.05 * 0.69);
}

TEST_CASE("calibrate: bad stacks are errors that say why") {
  const camera::Emccd<float> emccd;
  camera::CalibrationOptions opt;
  opt.excess_noise_factor_sq = 2;
  SUBCASE("too few frames") {
    const auto cal = camera::calibrate(simulate(emccd, {0, 10, 100}, 3, 1), opt);
    REQUIRE_FALSE(cal);
    CHECK(cal.status().code() == smlm::errc::invalid_argument);
    CHECK(cal.message().find("too few frames: 3") != std::string::npos);
  }
  SUBCASE("no intensity spread") {
    opt.offset_adu = 100;
    const auto cal = camera::calibrate(simulate(emccd, {50}, 16, 2), opt);
    REQUIRE_FALSE(cal);
    CHECK(cal.message().find("no usable intensity spread") != std::string::npos);
  }
  SUBCASE("no dark pixels and no offset given") {
    // A ramp of 64 intensities (20–209 photons) has no separate lowest cluster to take as dark.
    // (A stack whose dimmest region is lit but separate from the rest would be taken as dark:
    // the offset is not identifiable from mean and variance alone, see calibration.hpp.)
    std::vector<double> ramp;
    for (int j = 0; j < 64; ++j) ramp.push_back(20 + 3 * j);
    const auto stats = simulate(emccd, ramp, 16, 3);
    const auto cal = camera::calibrate(stats, opt);
    REQUIRE_FALSE(cal);
    CHECK(cal.message().find("offset is not identifiable") != std::string::npos);
    opt.offset_adu = 100;
    const auto given = camera::calibrate(stats, opt);
    REQUIRE_MESSAGE(given, given.message());
    CHECK(given->offset_adu == 100);
    CHECK(given->dark_pixels == 0);
    check_within(given->e_per_adu, 0.12, 0.05);
  }
  SUBCASE("everything saturated") {
    opt.linear_max_adu = 50;
    const auto cal = camera::calibrate(simulate(emccd, {0, 10, 100}, 16, 4), opt);
    REQUIRE_FALSE(cal);
    CHECK(cal.message().find("linear range") != std::string::npos);
  }
  SUBCASE("frames of the wrong size or with NaN") {
    camera::PixelStatistics stats(4, 4);
    smlm::Image<float> small = smlm::Image<float>::Zero(3, 4);
    const smlm::Status s = stats.add_frame(small);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("4x3, expected 4x4") != std::string::npos);
    smlm::Image<float> nan = smlm::Image<float>::Zero(4, 4);
    nan(2, 1) = std::numeric_limits<float>::quiet_NaN();
    const smlm::Status t = stats.add_frame(nan);
    CHECK_FALSE(t.ok());
    CHECK(t.message().find("pixel (1, 2)") != std::string::npos);
    CHECK(stats.frames() == 0);
  }
}

TEST_CASE("PixelStatistics: temporal moments, clipped values counted apart") {
  camera::PixelStatistics stats(1, 2, 0);
  smlm::Image<double> f(1, 2);
  for (const double v : {0.0, 2.0, 4.0, 6.0}) {
    f << v, v + 10;
    REQUIRE(stats.add_frame(f).ok());
  }
  CHECK(stats.frames() == 4);
  CHECK(stats.mean(0, 0) == 3);
  CHECK(stats.variance(0, 0) == doctest::Approx(20.0 / 3));
  CHECK(stats.low_count(0, 0) == 1);
  CHECK(stats.sum(0, 0) == 12);
  CHECK(stats.mean(0, 1) == 13);
  CHECK(stats.low_count(0, 1) == 0);
  CHECK(stats.min(0, 1) == 10);
  CHECK(stats.max(0, 1) == 16);
}

TEST_CASE("censored normal mean: recovers the mean of a normal clipped near its centre") {
  // Exact expected moments of N(4, 3²) left-censored at 0.5: the EM must return 4.
  const double mu = 4, sd = 3, c = 0.5, a = (c - mu) / sd;
  const double cdf = 0.5 * std::erfc(-a / std::sqrt(2.0)), pdf = std::exp(-0.5 * a * a) / std::sqrt(2 * M_PI);
  const double tail = 1 - cdf, lam = pdf / tail;  // moments of the part above c
  const double m1 = mu + sd * lam, m2 = mu * mu + sd * sd + sd * (c + mu) * lam;
  const double n = 1e6, n0 = n * cdf, n1 = n * tail;
  CHECK(camera::detail::censored_normal_mean(n0, n1, n1 * m1, n1 * m2, c) == doctest::Approx(4).epsilon(1e-6));
}

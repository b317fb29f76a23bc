#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/eval/frc.hpp>

#include "eval_test_util.hpp"

namespace eval = smlm::eval;

namespace {

smlm::Image<double> noise_image(std::uint64_t seed, std::uint32_t stream, int n) {
  smlm::Philox4x32 rng(seed, stream, smlm::rng_purpose::user);
  smlm::Image<double> image(n, n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) image(y, x) = smlm::normal(rng, 0.0, 1.0);
  return image;
}

double normal_cdf(double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); }

/// Expected photons of `points` random molecules of `photons` each, pixel-integrated Gaussian
/// of sigma_px, on an n × n grid.
smlm::Image<double> blurred_points(std::uint64_t seed, int n, int points, double photons, double sigma_px) {
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  smlm::Image<double> lambda = smlm::Image<double>::Zero(n, n);
  const int half = static_cast<int>(std::ceil(5 * sigma_px));
  for (int k = 0; k < points; ++k) {
    const double u = smlm::uniform(rng, 0.0, static_cast<double>(n));
    const double v = smlm::uniform(rng, 0.0, static_cast<double>(n));
    const int cu = static_cast<int>(u), cv = static_cast<int>(v);
    for (int y = std::max(0, cv - half); y <= std::min(n - 1, cv + half); ++y) {
      const double wy = normal_cdf((y + 1 - v) / sigma_px) - normal_cdf((y - v) / sigma_px);
      for (int x = std::max(0, cu - half); x <= std::min(n - 1, cu + half); ++x)
        lambda(y, x) += photons * wy * (normal_cdf((x + 1 - u) / sigma_px) - normal_cdf((x - u) / sigma_px));
    }
  }
  return lambda;
}

smlm::Image<double> poisson_sample(const smlm::Image<double>& lambda, std::uint64_t seed, std::uint32_t stream) {
  smlm::Philox4x32 rng(seed, stream, smlm::rng_purpose::camera);
  smlm::Image<double> counts(lambda.rows(), lambda.cols());
  for (Eigen::Index i = 0; i < lambda.size(); ++i) counts.data()[i] = static_cast<double>(smlm::poisson(rng, lambda.data()[i]));
  return counts;
}

}  // namespace

TEST_CASE("FRC of an image with itself is 1 in every ring that has power") {
  const auto image = noise_image(1, 0, 64);
  for (auto window : {eval::frc_window::none, eval::frc_window::hann, eval::frc_window::tukey}) {
    eval::FrcOptions o;
    o.window = window;
    const auto c = eval::fourier_ring_correlation(image, image, 10.0, o);
    REQUIRE(c.correlation.size() == 33);
    for (double v : c.correlation) CHECK(v == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(!c.crossed);
    CHECK(c.resolution_nm == doctest::Approx(20.0));  // 2 · pixel: the finest the grid shows
    CHECK(c.frequency_per_nm[32] == doctest::Approx(32.0 / 640.0));
  }
}

TEST_CASE("FRC of independent noise is 0 within 5 / sqrt(ring size)") {
  // Per ring, FRC of independent white noise has mean 0 and standard deviation 1/√n_q (n_q
  // frequencies, pairs of them conjugate); 5 σ over 64 rings fails with probability ~4e-5.
  const std::uint64_t seed = 31337;
  std::printf("FRC noise: seed %llu\n", static_cast<unsigned long long>(seed));
  const auto a = noise_image(seed, 1, 128), b = noise_image(seed, 2, 128);
  for (auto window : {eval::frc_window::none, eval::frc_window::tukey}) {
    eval::FrcOptions o;
    o.window = window;
    const auto c = eval::fourier_ring_correlation(a, b, 10.0, o);
    double mean = 0;
    std::size_t count = 0;
    for (std::size_t q = 1; q < c.correlation.size(); ++q) {
      CAPTURE(q);
      CHECK(std::abs(c.correlation[q]) <= 5.0 / std::sqrt(static_cast<double>(c.ring_pixels[q])));
      if (q >= 4) {
        mean += c.correlation[q];
        ++count;
      }
    }
    CHECK(std::abs(mean / static_cast<double>(count)) < 0.03);  // ≈ 0.01 standard error
    CHECK(c.crossed);
  }
}

TEST_CASE("FRC of Poisson-sampled blurred points crosses 1/7 where the theory says") {
  // Two independent Poisson images of the same molecules (a photons each, Gaussian of sigma s):
  // for random positions, per frequency the signal power is n a² e^{−4π² s² f²} and the noise
  // power n a, so FRC = SNR / (1 + SNR) with SNR = a e^{−4π² s² f²}. FRC = 1/7 at SNR = 1/6:
  //     resolution = 1/f = 2π s / √ln(6a).
  // a = 50, s = 30 nm → 78.9 nm (pixel integration lowers the SNR by < 6 %, which moves the
  // crossing by < 1 %). The ring estimate's noise (≈ 0.05 per ring, 0.025 after smoothing over
  // ±2 rings) moves the crossing by ~1 ring of 65; tolerance 8 %.
  const double pixel_nm = 10.0, sigma_nm = 30.0, photons = 50.0;
  const auto lambda = blurred_points(2024, 512, 1200, photons, sigma_nm / pixel_nm);
  const auto a = poisson_sample(lambda, 2024, 1), b = poisson_sample(lambda, 2024, 2);
  eval::FrcOptions o;
  o.smoothing_rings = 2;
  const auto c = eval::fourier_ring_correlation(a, b, pixel_nm, o);
  const double expected = 2 * M_PI * sigma_nm / std::sqrt(std::log(6 * photons));
  std::printf("FRC resolution %.2f nm, theory %.2f nm\n", c.resolution_nm, expected);
  REQUIRE(c.crossed);
  CHECK(c.resolution_nm == doctest::Approx(expected).epsilon(0.08));
  // Sharper molecules (s = 15 nm) resolve about twice as finely.
  const auto lambda2 = blurred_points(2024, 512, 1200, photons, 1.5);
  const auto c2 = eval::fourier_ring_correlation(poisson_sample(lambda2, 7, 1), poisson_sample(lambda2, 7, 2), pixel_nm, o);
  CHECK(c2.resolution_nm == doctest::Approx(expected / 2).epsilon(0.1));
}

TEST_CASE("split_halves: disjoint, complete, reproducible; frame blocks") {
  const auto table = eval_test::uniform_points(3, 0, 1000, 1000, 10);
  const auto [a, b] = eval::split_halves(table);
  CHECK(a.size() + b.size() == 1000);
  CHECK(a.size() > 430);  // Binomial(1000, ½): 5 σ ≈ 79
  CHECK(a.size() < 570);
  CHECK(a.consistent());
  const auto [a2, b2] = eval::split_halves(table);
  CHECK(a2.x_nm == a.x_nm);
  eval::SplitOptions other;
  other.seed = 2;
  CHECK(eval::split_halves(table, other).first.x_nm != a.x_nm);
  eval::SplitOptions odd_even;
  odd_even.mode = eval::split_mode::frame_blocks;
  const auto [odd, even] = eval::split_halves(table, odd_even);
  for (auto f : odd.frame) CHECK(f % 2 == 1);
  for (auto f : even.frame) CHECK(f % 2 == 0);
  CHECK(odd.size() == 500);
  odd_even.block_frames = 3;  // frames 1–3, 7–9 → first half
  const auto [first, second] = eval::split_halves(table, odd_even);
  for (auto f : first.frame) CHECK(((f - 1) / 3) % 2 == 0);
  CHECK(first.size() == 600);
  CHECK(second.size() == 400);
}

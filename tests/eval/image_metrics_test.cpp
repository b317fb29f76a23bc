// PSNR and SSIM: closed-form known answers, an independent direct (non-separable) SSIM on a small
// random image, and the properties the metrics must have.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include <smlm/core/image.hpp>
#include <smlm/eval/image_metrics.hpp>

namespace eval = smlm::eval;
using Gray = smlm::Image<double>;

namespace {

/// SSIM by its definition: for every 'valid' window position, the 11×11 Gaussian weights
/// w(i, j) = exp(−(i² + j²)/(2·1.5²)) / Σ written out in 2-D (no separable filtering).
double ssim_direct(const Gray& a, const Gray& b, double range) {
  double w[11][11], total = 0;
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j) total += w[i][j] = std::exp(-((i - 5.0) * (i - 5.0) + (j - 5.0) * (j - 5.0)) / 4.5);
  const double c1 = std::pow(0.01 * range, 2), c2 = std::pow(0.03 * range, 2);
  double sum = 0;
  int count = 0;
  for (int y = 0; y + 11 <= a.rows(); ++y)
    for (int x = 0; x + 11 <= a.cols(); ++x) {
      double mx = 0, my = 0;
      for (int i = 0; i < 11; ++i)
        for (int j = 0; j < 11; ++j) {
          mx += w[i][j] / total * a(y + i, x + j);
          my += w[i][j] / total * b(y + i, x + j);
        }
      double vx = 0, vy = 0, cxy = 0;
      for (int i = 0; i < 11; ++i)
        for (int j = 0; j < 11; ++j) {
          const double dx = a(y + i, x + j) - mx, dy = b(y + i, x + j) - my;
          vx += w[i][j] / total * dx * dx;
          vy += w[i][j] / total * dy * dy;
          cxy += w[i][j] / total * dx * dy;
        }
      sum += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      ++count;
    }
  return sum / count;
}

Gray random_image(int rows, int cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(0, 255);
  Gray g(rows, cols);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) g(y, x) = u(rng);
  return g;
}

}  // namespace

TEST_CASE("psnr: known answers") {
  const Gray a = Gray::Constant(8, 8, 100);
  CHECK(eval::psnr(a, a, 255) == std::numeric_limits<double>::infinity());
  CHECK(eval::psnr(a, Gray::Constant(8, 8, 101), 255) == doctest::Approx(48.130803608679));  // 20·log10(255)
  CHECK(eval::psnr(a, Gray::Constant(8, 8, 110), 255) == doctest::Approx(28.130803608679));  // MSE 100
  Gray b = a;
  b(0, 0) = 116;  // MSE = 256 / 64 = 4 → 20·log10(255) − 10·log10(4)
  CHECK(eval::psnr(a, b, 255) == doctest::Approx(48.130803608679 - 6.020599913280));
  CHECK(eval::psnr(a, Gray::Constant(8, 8, 101), 1.0) == doctest::Approx(0.0));
  CHECK(eval::psnr_from_mse(0, 255) == std::numeric_limits<double>::infinity());
}

TEST_CASE("ssim: closed forms on flat images and identity") {
  const Gray a = Gray::Constant(16, 20, 100), b = Gray::Constant(16, 20, 110);
  // No variance: SSIM = (2·100·110 + C1)/(100² + 110² + C1) with C1 = 2.55², the contrast term 1.
  const double c1 = 2.55 * 2.55;
  CHECK(eval::ssim(a, b, 255) == doctest::Approx((22000 + c1) / (22100 + c1)).epsilon(1e-12));
  const Gray r = random_image(24, 30, 1);
  CHECK(eval::ssim(r, r, 255) == doctest::Approx(1.0).epsilon(1e-12));
  // Negated structure around the same mean: the structure term goes negative.
  const Gray inverted = 255.0 - r;
  CHECK(eval::ssim(r, inverted, 255) < 0);
}

TEST_CASE("ssim: equals the direct 2-D definition on random images") {
  const std::uint32_t seed = 424242;
  CAPTURE(seed);
  const Gray a = random_image(19, 23, seed), b = (a + random_image(19, 23, seed + 1) * 0.3).min(255.0);
  CHECK(eval::ssim(a, b, 255) == doctest::Approx(ssim_direct(a, b, 255)).epsilon(1e-10));
  CHECK(eval::ssim(a, b, 255) == doctest::Approx(eval::ssim(b, a, 255)).epsilon(1e-12));  // symmetric
}

TEST_CASE("ssim: falls as noise grows; small images use a truncated window") {
  const Gray clean = random_image(32, 32, 9) * 0.5 + 64;
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 1);
  double previous = 1.0;
  for (const double sigma : {2.0, 8.0, 32.0}) {
    Gray noisy = clean;
    for (Eigen::Index k = 0; k < noisy.size(); ++k) noisy(k) += sigma * noise(rng);
    const double s = eval::ssim(clean, noisy, 255);
    CHECK(s < previous);
    previous = s;
  }
  const Gray small = random_image(5, 7, 2);
  CHECK(eval::ssim(small, small, 255) == doctest::Approx(1.0));
  CHECK(eval::ssim(small, small + 20.0, 255) < 1.0);
}

// integrated_gaussian.hpp: known values and an independent long-double reference. The contract
// checks (sums, derivatives, windows, clipping) are in conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <smlm/psf/integrated_gaussian.hpp>

namespace psf = smlm::psf;
using psf::Spot;
using psf::Window;
using smlm::Image;

namespace {

/// ∫ over [k, k+1) of the 1-D normal density, from the definition, in long double, choosing the
/// erf or erfc form that does not cancel.
long double pixel_fraction(long double k, long double c, long double sigma) {
  const long double a = (k - c) / (std::sqrt(2.0L) * sigma);
  const long double b = (k + 1 - c) / (std::sqrt(2.0L) * sigma);
  if (a >= 0) return 0.5L * (std::erfc(a) - std::erfc(b));
  if (b <= 0) return 0.5L * (std::erfc(-b) - std::erfc(-a));
  return 0.5L * (std::erf(b) - std::erf(a));
}

}  // namespace

TEST_CASE_TEMPLATE("centre pixel of an emitter at a pixel centre, sigma 1 px: erf(1/(2√2))²", T,
                   float, double) {
  const psf::IntegratedGaussian<T> model{.sigma_px = 1};
  const Spot<T> s{T(7.5), T(4.5), 0, T(1000), T(0)};
  Image<T> mu(3, 3);
  model.evaluate(s, Window{6, 3, 3, 3}, smlm::make_view(mu));
  const long double side = std::erf(1.0L / (2.0L * std::sqrt(2.0L)));  // ∫_{-1/2}^{1/2} N(0, 1)
  const double fraction = double(side * side);
  CHECK(fraction == doctest::Approx(0.1466).epsilon(1e-3));  // the value quoted in the brief
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  CHECK(mu(1, 1) / 1000.0 == doctest::Approx(fraction).epsilon(tol));
  // the 4-neighbours: one side covers [1/2, 3/2]
  const long double next = 0.5L * (std::erf(1.5L / std::sqrt(2.0L)) - std::erf(0.5L / std::sqrt(2.0L)));
  CHECK(mu(0, 1) / 1000.0 == doctest::Approx(double(side * next)).epsilon(tol));
  CHECK(mu(1, 2) / 1000.0 == doctest::Approx(double(side * next)).epsilon(tol));
  CHECK(mu(2, 2) / 1000.0 == doctest::Approx(double(next * next)).epsilon(tol));
}

TEST_CASE("an emitter on a pixel corner lights the four pixels around it equally") {
  const psf::IntegratedGaussian<double> model{.sigma_px = 0.8};
  Image<double> mu(2, 2);
  model.evaluate({3, 9, 0, 400, 2}, Window{2, 8, 2, 2}, smlm::make_view(mu));
  const double quarter = double(pixel_fraction(2, 3, 0.8L) * pixel_fraction(8, 9, 0.8L));
  CHECK(mu(0, 0) == doctest::Approx(2 + 400 * quarter).epsilon(1e-14));
  CHECK(mu(0, 0) == mu(0, 1));
  CHECK(mu(0, 0) == mu(1, 0));
  CHECK(mu(0, 0) == mu(1, 1));
}

TEST_CASE_TEMPLATE("matches the definition pixel by pixel, tails included", T, float, double) {
  // Relative accuracy per pixel, down to the far tail where a naive erf difference would cancel:
  // double to 1e-12 wherever h > 1e-280, float to 1e-4 wherever h > 1e-30 (erfcf's own accuracy
  // near underflow limits it), and exactly 0 never above a positive reference by more than that.
  const double rel = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  const double floor = std::is_same_v<T, float> ? 1e-30 : 1e-280;
  struct Setup {
    double sigma, x, y;
  };
  for (const Setup& setup : {Setup{1.3, 12.37, 9.81}, Setup{0.45, 4.02, 4.97}, Setup{3.1, 30.5, 2.2}}) {
    INFO("sigma ", setup.sigma, " at (", setup.x, ", ", setup.y, ")");
    const psf::IntegratedGaussian<T> model{.sigma_px = T(setup.sigma)};
    const Spot<T> s{T(setup.x), T(setup.y), 0, T(1), T(0)};
    const Window w{-8, -10, 60, 40};  // reaches ≥ 8σ… 40σ from the centre
    Image<T> mu(w.height, w.width);
    model.evaluate(s, w, smlm::make_view(mu));
    int checked = 0;
    for (std::ptrdiff_t i = 0; i < w.height; ++i) {
      for (std::ptrdiff_t j = 0; j < w.width; ++j) {
        const long double sigma = model.sigma_px;
        const long double ref = pixel_fraction(w.x0 + j, (long double)s.x_px, sigma) *
                                pixel_fraction(w.y0 + i, (long double)s.y_px, sigma);
        CHECK(mu(i, j) >= T(0));
        if (ref > floor) {
          ++checked;
          if (std::abs(double(mu(i, j)) - double(ref)) > rel * double(ref)) {
            FAIL_CHECK("pixel (" << i << ", " << j << "): " << double(mu(i, j)) << " vs "
                                 << double(ref));
          }
        }
      }
    }
    CHECK(checked > 100);
  }
}

TEST_CASE("the background is added to every pixel") {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.1};
  Image<double> with(9, 9), without(9, 9);
  model.evaluate({4.5, 4.5, 0, 1000, 12.5}, Window{0, 0, 9, 9}, smlm::make_view(with));
  model.evaluate({4.5, 4.5, 0, 1000, 0}, Window{0, 0, 9, 9}, smlm::make_view(without));
  CHECK(((with - without) - 12.5).abs().maxCoeff() < 1e-12);
}

TEST_CASE("add_to renders into a frame like ThunderSTORM's simulator: photons land where they belong") {
  // Two emitters far apart in a 32 × 32 frame: each one's support window receives its photons,
  // pixels between them stay zero.
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.2f};
  Image<float> frame = Image<float>::Zero(32, 32);
  model.add_to({5.5f, 6.25f, 0, 1000, 0}, smlm::make_view(frame));
  model.add_to({25.1f, 24.9f, 0, 3000, 0}, smlm::make_view(frame));
  CHECK(frame.block(0, 0, 16, 16).sum() == doctest::Approx(1000).epsilon(2e-4));
  CHECK(frame.block(16, 16, 16, 16).sum() == doctest::Approx(3000).epsilon(2e-4));
  CHECK(frame.block(0, 16, 16, 16).sum() == 0.0f);
  CHECK(frame.block(16, 0, 16, 16).sum() == 0.0f);
  Eigen::Index r, c;
  frame.maxCoeff(&r, &c);
  CHECK(r == 24);
  CHECK(c == 25);
}

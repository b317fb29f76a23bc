// gaussian.hpp: known values of the Gaussian sampled at pixel centres. The contract checks are in
// conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace psf = smlm::psf;
using psf::Spot;
using psf::Window;
using smlm::Image;

TEST_CASE_TEMPLATE("peak of an emitter at a pixel centre is photons / (2π σ²)", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  for (const double sigma : {0.7, 1.0, 1.6, 4.0}) {
    INFO("sigma ", sigma);
    const psf::Gaussian<T> model{.sigma_px = T(sigma)};
    Image<T> mu(3, 3);
    model.evaluate({T(20.5), T(11.5), 0, T(2500), T(3)}, Window{19, 10, 3, 3}, smlm::make_view(mu));
    const double peak = 2500.0 / (2 * std::numbers::pi * double(model.sigma_px) * double(model.sigma_px));
    CHECK(mu(1, 1) - 3 == doctest::Approx(peak).epsilon(tol));
    // one pixel away the density has fallen by exp(−1/(2σ²)), diagonally by its square
    const double fall = std::exp(-0.5 / (double(model.sigma_px) * double(model.sigma_px)));
    CHECK(mu(1, 0) - 3 == doctest::Approx(peak * fall).epsilon(tol));
    CHECK(mu(2, 1) - 3 == doctest::Approx(peak * fall).epsilon(tol));
    CHECK(mu(0, 0) - 3 == doctest::Approx(peak * fall * fall).epsilon(tol));
  }
}

TEST_CASE("sampling at the centre overestimates the pixel integral by about 1/(12 σ²)") {
  // The documented approximation error: for σ ≥ 2 px the peak ratio minus one is within 10 % of
  // 1/(12 σ²) (next term O(σ⁻⁴)), and it falls as σ grows.
  double previous = 1;
  for (const double sigma : {2.0, 3.0, 5.0, 8.0}) {
    INFO("sigma ", sigma);
    const psf::Gaussian<double> sampled{.sigma_px = sigma};
    const psf::IntegratedGaussian<double> integrated{.sigma_px = sigma};
    Image<double> a(1, 1), b(1, 1);
    const Spot<double> s{40.5, 40.5, 0, 1, 0};
    sampled.evaluate(s, Window{40, 40, 1, 1}, smlm::make_view(a));
    integrated.evaluate(s, Window{40, 40, 1, 1}, smlm::make_view(b));
    const double excess = a(0, 0) / b(0, 0) - 1;
    CHECK(excess == doctest::Approx(1 / (12 * sigma * sigma)).epsilon(0.1));
    CHECK(excess < previous);
    previous = excess;
  }
}

TEST_CASE("a narrow sampled Gaussian no longer sums to its photons, within the documented bound") {
  // |Σ h − 1| ≤ (1 + 2q/(1 − q))² − 1 ≈ 4q, q = exp(−2π² σ²): 0.029 at σ = 0.5 px. An emitter
  // at a pixel centre attains it: each axis' Poisson series is then 1 + 2(q + q⁴ + …).
  const double sigma = 0.5;
  const psf::Gaussian<double> model{.sigma_px = sigma};
  Image<double> mu(21, 21);
  model.evaluate({10.5, 10.5, 0, 1, 0}, Window{0, 0, 21, 21}, smlm::make_view(mu));
  const double q = std::exp(-2 * std::numbers::pi * std::numbers::pi * sigma * sigma);
  const double bound = (1 + 2 * q / (1 - q)) * (1 + 2 * q / (1 - q)) - 1;
  CHECK(std::abs(mu.sum() - 1) <= bound);
  CHECK(std::abs(mu.sum() - 1) >= 0.99 * bound);  // nearly attained: the test can fail
}

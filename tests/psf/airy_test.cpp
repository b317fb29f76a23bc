// airy.hpp and detail/bessel.hpp: J0/J1 against std::cyl_bessel_j, the zeros of J1, the
// Gauss–Legendre rule, the Airy pattern's known landmarks (first dark ring at 0.61 λ/NA,
// Gaussian approximation σ ≈ 0.21 λ/NA, peak, normalisation), a pixel against an independent
// brute-force integral, and invalid parameters. The contract checks are in conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include <smlm/psf/airy.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace psf = smlm::psf;
using psf::Airy;
using psf::Spot;
using psf::Window;
using smlm::Image;

TEST_CASE("J0 and J1 agree with std::cyl_bessel_j to 1e-13 on [−200, 200]") {
  double worst0 = 0, worst1 = 0;
  for (int i = 0; i <= 40000; ++i) {
    const double x = 0.005 * i;
    worst0 = std::max(worst0, std::abs(psf::detail::bessel_j0(x) - std::cyl_bessel_j(0.0, x)));
    worst1 = std::max(worst1, std::abs(psf::detail::bessel_j1(x) - std::cyl_bessel_j(1.0, x)));
    CHECK(psf::detail::bessel_j0(-x) == psf::detail::bessel_j0(x));   // even
    CHECK(psf::detail::bessel_j1(-x) == -psf::detail::bessel_j1(x));  // odd
  }
  INFO("max |J0 error| ", worst0, ", max |J1 error| ", worst1);  // measured 4.3e-14 (x ≈ 199)
  CHECK(worst0 <= 1e-13);
  CHECK(worst1 <= 1e-13);
  CHECK(psf::detail::bessel_j0(0) == 1);
  CHECK(psf::detail::bessel_j1(0) == 0);
  CHECK(std::isnan(psf::detail::bessel_j0(std::numeric_limits<double>::quiet_NaN())));
  CHECK(psf::detail::bessel_j1(std::numeric_limits<double>::infinity()) == 0);
}

TEST_CASE("the Airy helpers: I = (2 J1/v)², g = I'/v, finite at v = 0") {
  double intensity, g;
  psf::detail::airy_intensity(0, intensity, g);
  CHECK(intensity == 1);
  CHECK(g == -0.5);
  for (const double v : {1e-3, 0.7, 3.0, 4.99, 5.01, 9.3, 15.4, 15.6, 40.0}) {
    INFO("v ", v);
    psf::detail::airy_intensity(v, intensity, g);
    const double ref = 2 * std::cyl_bessel_j(1.0, v) / v;
    CHECK(intensity == doctest::Approx(ref * ref).epsilon(1e-11).scale(1e-3));
    // I'(v) = −8 J1 J2 / v² (A&S 9.1.27), an independent formula for the derivative
    const double slope = -8 * std::cyl_bessel_j(1.0, v) * std::cyl_bessel_j(2.0, v) / (v * v);
    CHECK(g * v == doctest::Approx(slope).epsilon(1e-10).scale(1e-3));
  }
}

TEST_CASE("zeros of J1 (A&S table 9.5)") {
  const double known[] = {3.8317059702075123, 7.0155866698156187, 10.173468135062722,
                          13.323691936314223, 16.470630050877633};
  for (int m = 1; m <= 5; ++m) {
    CHECK(psf::detail::bessel_j1_zero(m) == doctest::Approx(known[m - 1]).epsilon(1e-14));
  }
  for (int m = 6; m <= 60; ++m) {
    const double z = psf::detail::bessel_j1_zero(m);
    CHECK(std::abs(std::cyl_bessel_j(1.0, z)) <= 1e-13);
    CHECK(z > psf::detail::bessel_j1_zero(m - 1) + 3.0);  // consecutive zeros ≈ π apart
  }
}

TEST_CASE("Gauss–Legendre: exact for polynomials of degree 2n − 1 on a pixel") {
  for (int n = 1; n <= 16; ++n) {
    double t[16], w[16];
    psf::detail::gauss_legendre_centred(n, t, w);
    for (int i = 0; i < n; ++i) CHECK(t[n - 1 - i] == -t[i]);
    for (int p = 0; p <= 2 * n - 1; ++p) {
      double sum = 0;
      for (int i = 0; i < n; ++i) sum += w[i] * std::pow(t[i], p);
      const double exact = p % 2 == 1 ? 0.0 : std::pow(0.5, p) / (p + 1);  // ∫_{−½}^{½} t^p dt
      INFO("n ", n, ", degree ", p);
      CHECK(std::abs(sum - exact) <= 1e-15);
    }
    // degree 2n is not integrated exactly (relative error (n!)⁴ 4ⁿ / ((2n)!)³: 0.019 at n = 2,
    // 2.2e-4 at n = 3, below rounding from n ≈ 7)
    if (n <= 3) {
      double sum = 0;
      for (int i = 0; i < n; ++i) sum += w[i] * std::pow(t[i], 2 * n);
      const double exact = std::pow(0.5, 2 * n) / (2 * n + 1);
      CHECK(std::abs(sum - exact) > 1e-4 * exact);
    }
  }
}

TEST_CASE("the first dark ring is at 0.61 λ/NA") {
  const Airy<double> airy{.na = 1.3, .wavelength_nm = 600, .pixel_nm = 10};
  const double lambda_over_na_px = 600.0 / 1.3 / 10.0;
  const double first_zero_px = 3.8317059702075123 / (2 * std::numbers::pi) * lambda_over_na_px;
  CHECK(first_zero_px / lambda_over_na_px == doctest::Approx(0.61).epsilon(0.001));
  const double peak = airy.density_per_px2(0);
  CHECK(airy.density_per_px2(first_zero_px) <= 1e-20 * peak);
  // the first minimum of the profile, scanned at 1e-4 λ/NA
  double best_r = 0, best = peak;
  for (double f = 0.4; f <= 0.8; f += 1e-4) {
    const double v = airy.density_per_px2(f * lambda_over_na_px);
    if (v < best) {
      best = v;
      best_r = f;
    }
  }
  CHECK(best_r == doctest::Approx(0.6098).epsilon(2e-4));
  // half maximum at 0.5145 λ/NA full width (v = 1.6163): a second known landmark
  const double half_px = 1.6163399 / (2 * std::numbers::pi) * lambda_over_na_px;
  CHECK(airy.density_per_px2(half_px) / peak == doctest::Approx(0.5).epsilon(1e-5));
}

TEST_CASE("the cut pattern has peak k²/(4π EE) and integrates to 1 over the disc") {
  const Airy<double> airy{.na = 1.4, .wavelength_nm = 680, .pixel_nm = 100, .rings = 4};
  const double k = 2 * std::numbers::pi * 1.4 * 100 / 680;
  CHECK(airy.k_per_px() == doctest::Approx(k).epsilon(1e-15));
  const double j = 13.323691936314223;  // j_{1,4}
  CHECK(airy.cut_radius_px() == doctest::Approx(j / k).epsilon(1e-14));
  const double ee = 1 - std::pow(std::cyl_bessel_j(0.0, j), 2);
  CHECK(airy.encircled_energy() == doctest::Approx(ee).epsilon(1e-13));
  CHECK(airy.density_per_px2(0) == doctest::Approx(k * k / (4 * std::numbers::pi * ee)).epsilon(1e-14));
  // ∫_0^R h(r) 2πr dr by composite Simpson on 20,000 intervals
  const double r_max = airy.cut_radius_px();
  const int n = 20000;
  double sum = 0;
  for (int i = 0; i <= n; ++i) {
    const double r = r_max * i / n;
    const double f = airy.density_per_px2(r) * 2 * std::numbers::pi * r;
    sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
  }
  CHECK(sum * r_max / (3 * n) == doctest::Approx(1).epsilon(1e-10));
  CHECK(airy.density_per_px2(r_max * 1.0001) == 0);
}

TEST_CASE("the best-fitting Gaussian has σ ≈ 0.21 λ/NA") {
  // Small pixels (λ/NA = 24 px) so pixel integration hardly matters; the integrated Gaussian's
  // σ and amplitude are fitted by least squares (amplitude in closed form for each σ on a grid).
  const Airy<double> airy{.na = 1.4, .wavelength_nm = 680, .pixel_nm = 20, .rings = 5,
                          .quadrature_order = 2};
  const double lambda_over_na_px = 680.0 / 1.4 / 20.0;
  const Spot<double> s{40.5, 40.5, 0, 1, 0};
  const Window w{0, 0, 81, 81};
  Image<double> a(81, 81), g(81, 81);
  airy.evaluate(s, w, smlm::make_view(a));
  double best_sigma = 0, best_residual = std::numeric_limits<double>::infinity();
  for (double f = 0.17; f <= 0.25; f += 0.0005) {
    psf::IntegratedGaussian<double>{.sigma_px = f * lambda_over_na_px}.evaluate(s, w,
                                                                                smlm::make_view(g));
    const double amplitude = (a * g).sum() / (g * g).sum();
    const double residual = (a - amplitude * g).square().sum();
    if (residual < best_residual) {
      best_residual = residual;
      best_sigma = f;
    }
  }
  INFO("best σ = ", best_sigma, " λ/NA");
  CHECK(best_sigma == doctest::Approx(0.21).epsilon(0.05));  // 0.21 ± 0.0105
  CHECK(best_sigma > 0.17);
  CHECK(best_sigma < 0.25);
}

TEST_CASE("a pixel matches a brute-force integral of (2 J1/v)² with std::cyl_bessel_j") {
  const Airy<double> airy{};  // NA 1.4, 680 nm, 100 nm, 5 rings, order 4
  const Spot<double> s{10.37, 9.81, 0, 1, 0};
  const double k = airy.k_per_px(), c = k * k / (4 * std::numbers::pi * airy.encircled_energy());
  Image<double> mu(5, 5);
  const Window w{8, 7, 5, 5};
  airy.evaluate(s, w, smlm::make_view(mu));
  const int m = 400;  // midpoint rule, 400 × 400 per pixel: error ~1e-7 of the pixel
  for (const auto& [i, j] : {std::pair{2, 2}, std::pair{0, 4}, std::pair{3, 1}}) {
    double sum = 0;
    for (int a = 0; a < m; ++a) {
      for (int b = 0; b < m; ++b) {
        const double dx = w.x0 + j + (b + 0.5) / m - s.x_px, dy = w.y0 + i + (a + 0.5) / m - s.y_px;
        const double v = k * std::sqrt(dx * dx + dy * dy);
        const double f = v == 0 ? 1.0 : 2 * std::cyl_bessel_j(1.0, v) / v;
        sum += c * f * f;
      }
    }
    sum /= double(m) * m;
    INFO("pixel (", i, ", ", j, ")");
    CHECK(mu(i, j) == doctest::Approx(sum).epsilon(2e-5));
  }
}

TEST_CASE("raising the quadrature order converges") {
  Airy<double> low{}, high{};
  low.quadrature_order = 4;
  high.quadrature_order = 12;
  const Spot<double> s{20.3, 18.7, 0, 1, 0};
  const Window w = psf::support_window(low, s);
  Image<double> a(w.height, w.width), b(w.height, w.width);
  low.evaluate(s, w, smlm::make_view(a));
  high.evaluate(s, w, smlm::make_view(b));
  const double difference = (a - b).abs().maxCoeff() / b.maxCoeff();
  CHECK(difference <= 1e-4);
  CHECK(difference > 0);
}

TEST_CASE("invalid optical parameters give NaN and render nothing") {
  Airy<double> bad[5] = {};
  bad[0].na = 0;
  bad[1].wavelength_nm = -1;
  bad[2].na = 1.6;  // above the medium's index 1.518
  bad[3].rings = 0;
  bad[4].quadrature_order = 17;
  for (const auto& airy : bad) {
    const Spot<double> s{10, 10, 0, 100, 1};
    CHECK(std::isnan(airy.support_radius_px(s)));
    Image<double> mu(3, 3);
    airy.evaluate(s, Window{9, 9, 3, 3}, smlm::make_view(mu));
    CHECK(mu.isNaN().all());
    Image<double> frame = Image<double>::Zero(20, 20);
    airy.add_to(s, smlm::make_view(frame));
    CHECK((frame == 0).all());
  }
}

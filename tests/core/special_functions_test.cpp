// special_functions.hpp: χ² and F tail probabilities against closed forms, published critical
// values and an independent numerical integration of the densities.
#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>

#include <smlm/core/special_functions.hpp>

namespace {
// ∫_x^∞ of a density, by Simpson's rule on t = x + u/(1−u) (u ∈ [0, 1)), 20,000 intervals.
template <class F>
double tail_integral(F density, double x) {
  const int n = 20000;
  auto g = [&](double u) {
    if (u >= 1) return 0.0;
    const double t = x + u / (1 - u);
    return density(t) / ((1 - u) * (1 - u));
  };
  double s = g(0) + g(1);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * g(static_cast<double>(i) / n);
  return s / (3.0 * n);
}
double chi2_density(double t, int k) {
  return std::exp((0.5 * k - 1) * std::log(t) - 0.5 * t - 0.5 * k * std::log(2.0) - std::lgamma(0.5 * k));
}
double f_density(double t, int d1, int d2) {
  const double a = 0.5 * d1, b = 0.5 * d2;
  const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  return std::exp(a * std::log(d1 / static_cast<double>(d2)) + (a - 1) * std::log(t) -
                  (a + b) * std::log1p(d1 * t / static_cast<double>(d2)) - log_beta);
}
}  // namespace

TEST_CASE("log_gamma_half is ln Γ(n/2)") {
  for (int n = 1; n <= 300; ++n) {
    CAPTURE(n);
    CHECK(smlm::log_gamma_half(n) == doctest::Approx(std::lgamma(0.5 * n)).epsilon(1e-12).scale(1));
  }
  CHECK(std::isnan(smlm::log_gamma_half(0)));
}

TEST_CASE("chi_square_sf: closed forms and critical values") {
  // k = 2: e^{−x/2}; k = 1: erfc(√(x/2)).
  for (double x : {0.1, 1.0, 5.0, 30.0}) {
    CHECK(smlm::chi_square_sf(x, 2) == doctest::Approx(std::exp(-0.5 * x)).epsilon(1e-14));
    CHECK(smlm::chi_square_sf(x, 1) == doctest::Approx(std::erfc(std::sqrt(0.5 * x))).epsilon(1e-14));
  }
  // Published 5 % and 1 % critical values (four decimals).
  CHECK(smlm::chi_square_sf(3.8415, 1) == doctest::Approx(0.05).epsilon(1e-4));
  CHECK(smlm::chi_square_sf(7.8147, 3) == doctest::Approx(0.05).epsilon(1e-4));
  CHECK(smlm::chi_square_sf(13.2767, 4) == doctest::Approx(0.01).epsilon(1e-4));
  CHECK(smlm::chi_square_sf(15.0863, 5) == doctest::Approx(0.01).epsilon(1e-4));
  CHECK(smlm::chi_square_sf(0, 3) == 1.0);
  CHECK(std::isnan(smlm::chi_square_sf(-1, 3)));
  CHECK(std::isnan(smlm::chi_square_sf(1, 0)));
}

TEST_CASE("chi_square_sf equals the integrated density") {
  for (int k : {1, 2, 3, 4, 5, 7}) {
    for (double x : {0.5, 2.0, 6.0, 15.0, 40.0}) {
      CAPTURE(k);
      CAPTURE(x);
      const double ref = tail_integral([k](double t) { return chi2_density(t, k); }, x);
      CHECK(smlm::chi_square_sf(x, k) == doctest::Approx(ref).epsilon(1e-6));
    }
  }
}

TEST_CASE("f_sf: critical values, limits and the integrated density") {
  CHECK(smlm::f_sf(2.8387, 3, 40) == doctest::Approx(0.05).epsilon(2e-4));
  CHECK(smlm::f_sf(4.9646, 1, 10) == doctest::Approx(0.05).epsilon(2e-4));
  CHECK(smlm::f_sf(4.4307, 4, 20) == doctest::Approx(0.01).epsilon(2e-4));
  CHECK(smlm::f_sf(0, 3, 40) == 1.0);
  CHECK(smlm::f_sf(INFINITY, 3, 40) == 0.0);
  CHECK(std::isnan(smlm::f_sf(-1, 3, 40)));
  // F(d1, d2) → χ²(d1)/d1 as d2 grows.
  CHECK(smlm::f_sf(2.5, 3, 100000) == doctest::Approx(smlm::chi_square_sf(7.5, 3)).epsilon(1e-3));
  for (int d1 : {1, 3, 4}) {
    for (int d2 : {5, 40, 110}) {
      for (double x : {0.3, 1.0, 3.0, 12.0}) {
        CAPTURE(d1);
        CAPTURE(d2);
        CAPTURE(x);
        const double ref = tail_integral([=](double t) { return f_density(t, d1, d2); }, x);
        CHECK(smlm::f_sf(x, d1, d2) == doctest::Approx(ref).epsilon(1e-6).scale(1e-12));
      }
    }
  }
}

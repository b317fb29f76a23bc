// zernike.hpp: Noll's numbering against his table, explicit low-order polynomials, R(1) = 1, and
// orthonormality over the unit disc by an exact quadrature.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <smlm/psf/detail/bessel.hpp>
#include <smlm/psf/zernike.hpp>

namespace psf = smlm::psf;
using psf::ZernikeIndex;

TEST_CASE("Noll's index maps to (n, m) as in his Table 1") {
  const ZernikeIndex table[] = {{0, 0},  {1, 1},  {1, -1}, {2, 0},  {2, -2}, {2, 2},  {3, -1}, {3, 1},
                                {3, -3}, {3, 3},  {4, 0},  {4, 2},  {4, -2}, {4, 4},  {4, -4}, {5, 1},
                                {5, -1}, {5, 3},  {5, -3}, {5, 5},  {5, -5}, {6, 0}};
  for (int j = 1; j <= 22; ++j) {
    INFO("j ", j);
    CHECK(psf::noll_to_nm(j) == table[j - 1]);
  }
  static_assert(psf::noll_to_nm(11) == ZernikeIndex{4, 0});
  CHECK(psf::noll_to_nm(0).n == -1);
  // every (n, m) of orders 0 … 12 appears exactly once among j = 1 … 91
  int seen[13][25] = {};
  for (int j = 1; j <= 91; ++j) {
    const ZernikeIndex z = psf::noll_to_nm(j);
    REQUIRE(z.n <= 12);
    CHECK((z.n - (z.m < 0 ? -z.m : z.m)) % 2 == 0);
    ++seen[z.n][z.m + 12];
  }
  for (int n = 0; n <= 12; ++n)
    for (int m = -n; m <= n; m += 2) CHECK(seen[n][m + 12] == 1);
}

TEST_CASE("low orders match their closed forms") {
  const double rho = 0.63, theta = 0.41;
  const double r2 = rho * rho;
  CHECK(psf::zernike(1, rho, theta) == doctest::Approx(1.0));
  CHECK(psf::zernike(2, rho, theta) == doctest::Approx(2 * rho * std::cos(theta)));
  CHECK(psf::zernike(3, rho, theta) == doctest::Approx(2 * rho * std::sin(theta)));
  CHECK(psf::zernike(4, rho, theta) == doctest::Approx(std::sqrt(3.0) * (2 * r2 - 1)));
  CHECK(psf::zernike(5, rho, theta) == doctest::Approx(std::sqrt(6.0) * r2 * std::sin(2 * theta)));
  CHECK(psf::zernike(6, rho, theta) == doctest::Approx(std::sqrt(6.0) * r2 * std::cos(2 * theta)));
  CHECK(psf::zernike(7, rho, theta) ==
        doctest::Approx(std::sqrt(8.0) * (3 * r2 * rho - 2 * rho) * std::sin(theta)));
  CHECK(psf::zernike(8, rho, theta) ==
        doctest::Approx(std::sqrt(8.0) * (3 * r2 * rho - 2 * rho) * std::cos(theta)));
  CHECK(psf::zernike(9, rho, theta) == doctest::Approx(std::sqrt(8.0) * r2 * rho * std::sin(3 * theta)));
  CHECK(psf::zernike(11, rho, theta) ==
        doctest::Approx(std::sqrt(5.0) * (6 * r2 * r2 - 6 * r2 + 1)));
  for (int n = 0; n <= 10; ++n)
    for (int m = n % 2; m <= n; m += 2) CHECK(psf::zernike_radial(n, m, 1.0) == doctest::Approx(1.0));
  CHECK(psf::zernike_radial(3, 2, 0.5) == 0);  // n − m odd: no such polynomial
}

TEST_CASE("Z_1 … Z_28 are orthonormal over the unit disc") {
  // (1/π) ∫_0^1 ∫_0^2π Z_i Z_j ρ dθ dρ: Gauss–Legendre in ρ (16 points, exact to degree 31) and
  // the trapezoidal rule in θ (32 points, exact for trigonometric degree < 32): exact here.
  double t[16], w[16];
  psf::detail::gauss_legendre_centred(16, t, w);
  constexpr int nj = 28, m = 32;
  double gram[nj][nj] = {};
  for (int a = 0; a < 16; ++a) {
    const double rho = 0.5 + t[a];
    for (int b = 0; b < m; ++b) {
      const double theta = 2 * std::numbers::pi * b / m;
      double z[nj];
      for (int j = 0; j < nj; ++j) z[j] = psf::zernike(j + 1, rho, theta);
      const double weight = w[a] * rho * (2 * std::numbers::pi / m) / std::numbers::pi;
      for (int i = 0; i < nj; ++i)
        for (int j = 0; j < nj; ++j) gram[i][j] += weight * z[i] * z[j];
    }
  }
  double worst = 0;
  for (int i = 0; i < nj; ++i)
    for (int j = 0; j < nj; ++j) worst = std::max(worst, std::abs(gram[i][j] - (i == j ? 1.0 : 0.0)));
  INFO("max |G − I| ", worst);
  CHECK(worst <= 1e-12);
}

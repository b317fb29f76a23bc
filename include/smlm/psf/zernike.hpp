// Zernike circle polynomials with Noll's single index (R. J. Noll, "Zernike polynomials and
// atmospheric turbulence", J. Opt. Soc. Am. 66:207–211, 1976):
//   Z_j(ρ, θ) = √(n + 1) R_n^0(ρ)                 m = 0
//             = √(2(n + 1)) R_n^|m|(ρ) cos(|m| θ)  m ≠ 0, j even
//             = √(2(n + 1)) R_n^|m|(ρ) sin(|m| θ)  m ≠ 0, j odd
//   R_n^m(ρ) = Σ_{k=0}^{(n−m)/2} (−1)^k (n − k)! / (k! ((n + m)/2 − k)! ((n − m)/2 − k)!) ρ^(n−2k)
// orthonormal over the unit disc: (1/π) ∫∫ Z_i Z_j ρ dρ dθ = δ_ij, so a coefficient is the RMS of
// its term. Within a radial order n, Noll numbers |m| in increasing order, the cos term on the
// even j and the sin term on the odd j: j = 1 piston, 2 tilt x (cos θ), 3 tilt y (sin θ),
// 4 defocus, 5 oblique astigmatism (sin 2θ), 6 vertical astigmatism (cos 2θ), 7 vertical coma
// (sin θ), 8 horizontal coma (cos θ), 9–10 trefoil, 11 primary spherical. θ is measured from the
// +x axis towards +y (the image's row direction).
#pragma once

#include <cmath>
#include <limits>

namespace smlm::psf {

/// Radial order n and signed azimuthal frequency m of a Zernike term (m < 0: the sin term).
struct ZernikeIndex {
  int n = 0;
  int m = 0;
  friend constexpr bool operator==(const ZernikeIndex&, const ZernikeIndex&) = default;
};

/// Noll's index j ≥ 1 → (n, m); {-1, 0} for j < 1.
constexpr ZernikeIndex noll_to_nm(int j) noexcept {
  if (j < 1) return {-1, 0};
  int n = 0;
  while ((n + 1) * (n + 2) / 2 < j) ++n;
  const int p = j - n * (n + 1) / 2;  // 1-based position within order n
  const int abs_m = n % 2 == 0 ? 2 * (p / 2) : 2 * ((p - 1) / 2) + 1;
  return {n, abs_m == 0 ? 0 : (j % 2 == 0 ? abs_m : -abs_m)};
}

/// Highest radial order evaluated: 150! ≈ 5.7e262 is the last factorial the sum needs that a
/// double holds comfortably (such orders are far beyond any optical use).
inline constexpr int zernike_max_order = 150;

/// R_n^m(ρ) for 0 ≤ m ≤ n, n − m even (0 otherwise); NaN for n > zernike_max_order.
inline double zernike_radial(int n, int m, double rho) noexcept {
  if (m < 0 || m > n || (n - m) % 2 != 0) return 0;
  if (n > zernike_max_order) return std::numeric_limits<double>::quiet_NaN();
  const auto factorial = [](int k) {
    double f = 1;
    for (int i = 2; i <= k; ++i) f *= i;
    return f;
  };
  double sum = 0;
  for (int k = 0; k <= (n - m) / 2; ++k) {
    const double c = factorial(n - k) /
                     (factorial(k) * factorial((n + m) / 2 - k) * factorial((n - m) / 2 - k));
    sum += (k % 2 == 0 ? c : -c) * std::pow(rho, n - 2 * k);
  }
  return sum;
}

/// Z_j(ρ, θ), Noll-normalised (0 for j < 1).
inline double zernike(int j, double rho, double theta) noexcept {
  const ZernikeIndex z = noll_to_nm(j);
  if (z.n < 0) return 0;
  const int abs_m = z.m < 0 ? -z.m : z.m;
  const double r = zernike_radial(z.n, abs_m, rho);
  if (abs_m == 0) return std::sqrt(double(z.n + 1)) * r;
  const double norm = std::sqrt(2.0 * double(z.n + 1));
  return norm * r * (z.m > 0 ? std::cos(abs_m * theta) : std::sin(abs_m * theta));
}

}  // namespace smlm::psf

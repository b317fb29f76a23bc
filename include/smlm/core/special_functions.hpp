// Tail probabilities of the χ² and F distributions, for likelihood-ratio and F tests (model
// selection in loc/multi_emitter.hpp). Degrees of freedom are positive integers, as in every
// nested-model test.
//
//   chi_square_sf(x, k) = P(X > x), X ~ χ²(k): the regularized upper incomplete gamma
//       Q(k/2, x/2) in closed form — even k: e^{−x/2} Σ_{i<k/2} (x/2)^i / i!; odd k:
//       erfc(√(x/2)) + e^{−x/2} Σ_{i=1}^{(k−1)/2} (x/2)^{i−1/2} / Γ(i + 1/2). Exact to rounding.
//   f_sf(x, d1, d2) = P(F > x), F ~ F(d1, d2): the regularized incomplete beta
//       I_t(d2/2, d1/2) at t = d2 / (d2 + d1·x), by its continued fraction (modified Lentz, with the
//       symmetry I_t(a, b) = 1 − I_{1−t}(b, a) where the fraction converges slowly), relative
//       accuracy ~1e-12. ln Γ of the half-integers it needs is summed exactly (std::lgamma writes
//       the global signgam in glibc and is not safe to call from several threads).
//
// noexcept, no allocation; NaN for a NaN or a negative argument or non-positive degrees of freedom.
#pragma once

#include <cmath>
#include <limits>
#include <numbers>

namespace smlm {

/// ln Γ(n / 2) for a positive integer n, summed from Γ(1) = 1 and Γ(1/2) = √π (exact to rounding).
inline double log_gamma_half(int n) noexcept {
  if (n <= 0) return std::numeric_limits<double>::quiet_NaN();
  double v = (n % 2 == 0) ? 0.0 : 0.5 * std::log(std::numbers::pi);
  for (int m = (n % 2 == 0) ? 2 : 1; m + 2 <= n; m += 2) v += std::log(0.5 * m);
  return v;
}

/// P(X > x) for X ~ χ²(k).
inline double chi_square_sf(double x, int k) noexcept {
  if (!(x >= 0) || k <= 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return 1.0;
  const double h = 0.5 * x;
  const double e = std::exp(-h);
  if (k % 2 == 0) {
    double term = 1, sum = 1;
    for (int i = 1; i < k / 2; ++i) sum += term *= h / i;
    return e * sum;
  }
  double sum = std::erfc(std::sqrt(h));
  // (x/2)^{i − 1/2} / Γ(i + 1/2): first term √h / Γ(3/2) = 2√h/√π, then × h / (i + 1/2).
  double term = std::sqrt(h) / (0.5 * std::sqrt(std::numbers::pi));
  for (int i = 1; i <= (k - 1) / 2; ++i) {
    sum += e * term;
    term *= h / (i + 0.5);
  }
  return sum;
}

namespace detail {

/// The continued fraction of I_t(a, b) (Numerical Recipes' betacf, modified Lentz).
inline double beta_continued_fraction(double a, double b, double t) noexcept {
  constexpr double tiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * t / qap;
  if (std::abs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * t / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * t / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1) < 1e-15) break;
  }
  return h;
}

/// I_t(n_a/2, n_b/2), the regularized incomplete beta at half-integer parameters.
inline double regularized_beta_half(int n_a, int n_b, double t) noexcept {
  if (!(t >= 0 && t <= 1) || n_a <= 0 || n_b <= 0) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0 || t == 1) return t;
  const double a = 0.5 * n_a, b = 0.5 * n_b;
  const double log_front = log_gamma_half(n_a + n_b) - log_gamma_half(n_a) - log_gamma_half(n_b) + a * std::log(t) +
                           b * std::log1p(-t);
  const double front = std::exp(log_front);
  if (t < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, t) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - t) / b;
}

}  // namespace detail

/// P(F > x) for F ~ F(d1, d2).
inline double f_sf(double x, int d1, int d2) noexcept {
  if (!(x >= 0) || d1 <= 0 || d2 <= 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return detail::regularized_beta_half(d2, d1, d2 / (d2 + d1 * x));
}

}  // namespace smlm

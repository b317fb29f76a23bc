// Bessel functions of the first kind J0, J1 (and the combinations the Airy pattern needs), and
// Gauss–Legendre nodes, implemented here so the library needs no special-function dependency.
//
// Method (Abramowitz & Stegun, Handbook of Mathematical Functions, 9.1.10 and 9.2.5–9.2.10):
//   |x| ≤ 5      power series  J_n(x) = Σ_k (−1)^k (x/2)^(2k+n) / (k! (k+n)!), in double;
//   5 < |x| ≤ 15.5  the same series in long double (its terms grow to ≈ I0(x), so the
//                ~1e-19 rounding of an x87 long double leaves ≤ 5e-14 absolute error);
//   |x| > 15.5   Hankel's asymptotic expansion J_n(x) = √(2/(πx)) (P cos χ − Q sin χ),
//                χ = x − (n/2 + 1/4)π, summed up to its smallest term (≈ e^(−2x) ≤ 3e-14).
// Accuracy: |error| ≤ 1e-13 absolute for all x (tests/psf/airy_test.cpp measures it against
// std::cyl_bessel_j on [0, 200]). Where long double is a 64-bit double (e.g. many ARM targets)
// the middle range degrades to ≈ 1e-10 absolute.
#pragma once

#include <cmath>
#include <numbers>

namespace smlm::psf::detail {

/// J0(x) and J1(x) together (they share the work).
inline void bessel_j01(double x, double& j0, double& j1) noexcept {
  const double ax = std::abs(x);
  const double sign = x < 0 ? -1.0 : 1.0;  // J0 is even, J1 odd
  if (!(ax <= 15.5)) {
    if (!std::isfinite(x)) {
      j0 = j1 = std::isnan(x) ? x : 0.0;
      return;
    }
    // Hankel: P_n ~ Σ (−1)^k a_{2k}(n) / x^{2k}, Q_n ~ Σ (−1)^k a_{2k+1}(n) / x^{2k+1},
    // a_k(n) = Π_{i=1..k} (4n² − (2i − 1)²) / (k! 8^k).
    const auto hankel = [ax](double mu, double& p, double& q) {
      p = 1.0;
      q = 0.0;
      double term = 1.0, smallest = 1.0;
      for (int k = 1; k < 60; ++k) {
        const double odd = double(2 * k - 1);
        const double next = term * (mu - odd * odd) / (double(k) * 8.0 * ax);
        if (std::abs(next) >= smallest) break;  // the expansion starts to diverge
        smallest = std::abs(next);
        term = next;
        // k odd → Q term (−1)^((k−1)/2); k even → P term (−1)^(k/2)
        if (k % 2 == 1) {
          q += ((k / 2) % 2 == 0 ? 1.0 : -1.0) * term;
        } else {
          p += ((k / 2) % 2 == 0 ? 1.0 : -1.0) * term;
        }
        if (smallest < 1e-17) break;
      }
    };
    double p0, q0, p1, q1;
    hankel(0.0, p0, q0);
    hankel(4.0, p1, q1);
    const double a = std::sqrt(2.0 / (std::numbers::pi * ax));
    const double c0 = ax - 0.25 * std::numbers::pi, c1 = ax - 0.75 * std::numbers::pi;
    j0 = a * (p0 * std::cos(c0) - q0 * std::sin(c0));
    j1 = sign * a * (p1 * std::cos(c1) - q1 * std::sin(c1));
    return;
  }
  if (ax <= 5.0) {
    const double y = -0.25 * ax * ax;
    double t0 = 1.0, t1 = 0.5 * ax, s0 = 1.0, s1 = t1;
    for (int k = 1; k < 40; ++k) {
      t0 *= y / (double(k) * double(k));
      t1 *= y / (double(k) * double(k + 1));
      s0 += t0;
      s1 += t1;
      if (std::abs(t0) < 1e-18 && std::abs(t1) < 1e-18) break;
    }
    j0 = s0;
    j1 = sign * s1;
    return;
  }
  const long double lx = ax, y = -0.25L * lx * lx;
  long double t0 = 1.0L, t1 = 0.5L * lx, s0 = 1.0L, s1 = t1;
  for (int k = 1; k < 80; ++k) {
    t0 *= y / ((long double)k * (long double)k);
    t1 *= y / ((long double)k * (long double)(k + 1));
    s0 += t0;
    s1 += t1;
    if (std::abs(t0) < 1e-22L && std::abs(t1) < 1e-22L) break;
  }
  j0 = double(s0);
  j1 = sign * double(s1);
}

inline double bessel_j0(double x) noexcept {
  double j0, j1;
  bessel_j01(x, j0, j1);
  return j0;
}
inline double bessel_j1(double x) noexcept {
  double j0, j1;
  bessel_j01(x, j0, j1);
  return j1;
}

/// The Airy intensity I(v) = (2 J1(v)/v)² and g(v) = I'(v)/v = −8 (J1(v)/v)(J2(v)/v²), both
/// finite at v = 0 (I = 1, g = −1/2). For v ≤ 5 J1/v and J2/v² come from their own series (no
/// division, no cancellation); beyond, J2 = 2 J1/v − J0 (A&S 9.1.27).
inline void airy_intensity(double v, double& intensity, double& g) noexcept {
  double a, b;  // J1(v)/v, J2(v)/v²
  const double av = std::abs(v);
  if (av <= 5.0) {
    const double y = -0.25 * av * av;
    double ta = 0.5, tb = 0.125;
    a = ta;
    b = tb;
    for (int k = 1; k < 40; ++k) {
      ta *= y / (double(k) * double(k + 1));
      tb *= y / (double(k) * double(k + 2));
      a += ta;
      b += tb;
      if (std::abs(ta) < 1e-19 && std::abs(tb) < 1e-19) break;
    }
  } else {
    double j0, j1;
    bessel_j01(av, j0, j1);
    a = j1 / av;
    b = (2.0 * a - j0) / (av * av);
  }
  intensity = 4.0 * a * a;
  g = -8.0 * a * b;
}

/// The m-th positive zero of J1 (m ≥ 1): McMahon's expansion (A&S 9.5.12) refined by Newton
/// steps with J1' = J0 − J1/x. j_{1,1} = 3.8317059702…, j_{1,2} = 7.0155866698…
inline double bessel_j1_zero(int m) noexcept {
  const double beta = (double(m) + 0.25) * std::numbers::pi;
  const double mu = 4.0;
  const double b8 = 8.0 * beta;
  double x = beta - (mu - 1) / b8 - 4 * (mu - 1) * (7 * mu - 31) / (3 * b8 * b8 * b8);
  for (int it = 0; it < 4; ++it) {
    double j0, j1;
    bessel_j01(x, j0, j1);
    x -= j1 / (j0 - j1 / x);
  }
  return x;
}

/// Gauss–Legendre rule of n points (1 ≤ n ≤ 16) on [−1/2, 1/2]: offsets from the interval's
/// centre, exactly antisymmetric (t[n−1−i] = −t[i]), and weights summing to 1. Newton iteration
/// on P_n from the Chebyshev estimate cos(π(i + 3/4)/(n + 1/2)).
inline void gauss_legendre_centred(int n, double* t, double* w) noexcept {
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(std::numbers::pi * (double(i) + 0.75) / (double(n) + 0.5));
    double dp = 1;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = (double(2 * k - 1) * x * p1 - double(k - 1) * p0) / double(k);
        p0 = p1;
        p1 = p2;
      }
      const double pn = n == 1 ? x : p1, pm = n == 1 ? 1.0 : p0;
      dp = double(n) * (x * pn - pm) / (x * x - 1);
      const double dx = pn / dp;
      x -= dx;
      if (std::abs(dx) < 1e-16) break;
    }
    if (n == 1) {
      x = 0;
      dp = 1;
    }
    // [−1, 1] weight 2/((1 − x²) P'(x)²), halved for an interval of length 1, halved again to 1/2
    const double weight = n == 1 ? 1.0 : 1.0 / ((1 - x * x) * dp * dp);
    t[i] = 0.5 * x;
    t[n - 1 - i] = -0.5 * x;
    w[i] = w[n - 1 - i] = weight;
  }
  if (n % 2 == 1) t[n / 2] = 0;
}

}  // namespace smlm::psf::detail

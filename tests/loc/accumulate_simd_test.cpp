// fitter.hpp's SIMD normal-equation accumulation (detail::accumulate) against its scalar `_ref`
// twin (detail::accumulate_ref) on random windows (printed seed) and adversarial ones: the same
// return value, the same trial mu + o and 1/(mu + o) bit for bit, and objective, gradient and
// normal matrix equal to within 1e-12 of the sum of the absolute values of their terms (only the
// order of the additions and the last ulp of a logarithm may differ). Under SMLM_NO_SIMD both are
// the reference and the comparison is exact.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include <smlm/core/rng.hpp>
#include <smlm/loc/fitter.hpp>

namespace loc = smlm::loc;

namespace {

constexpr int stride = loc::max_fit_params;

template <class T>
struct Case {
  loc::FitWorkspace<T> ws;
  loc::estimator method = loc::estimator::mle;
  int psf_params = 4;
  bool fit_sigma = false;
  bool change = true;
  std::ptrdiff_t pixels = 0;
  int n() const { return psf_params + (fit_sigma ? 1 : 0); }
};

/// Random window: mu in [2, 200], data integer counts in [0, 300] (a fifth of them 0), 1/excess in
/// [0.4, 1], offsets in [0, 5], derivatives in [−50, 50]; the current mu + o differs from the
/// trial's by up to ±2 % (the series) or, one pixel in eight, ±50 % (the logarithm).
template <class T>
Case<T> random_case(std::uint64_t seed, std::uint32_t index, std::ptrdiff_t pixels) {
  smlm::Philox4x32 rng(seed, index, smlm::rng_purpose::user);
  const auto u = [&] { return smlm::uniform01<double>(rng); };
  Case<T> c;
  c.pixels = pixels;
  c.ws.resize(pixels);
  for (std::ptrdiff_t i = 0; i < pixels; ++i) {
    const auto p = static_cast<std::size_t>(i);
    c.ws.mu[p] = static_cast<T>(2 + 198 * u());
    c.ws.data[p] = static_cast<T>(u() < 0.2 ? 0.0 : std::floor(300 * u()));
    c.ws.weight[p] = static_cast<T>(0.4 + 0.6 * u());
    c.ws.offset[p] = static_cast<T>(5 * u());
    for (int k = 0; k < 5; ++k) c.ws.jacobian[static_cast<std::size_t>(k * pixels + i)] = static_cast<T>(100 * u() - 50);
    c.ws.d_sigma[p] = static_cast<T>(100 * u() - 50);
    const double shifted = static_cast<double>(c.ws.mu[p]) + static_cast<double>(c.ws.offset[p]);
    const double rel = u() < 0.125 ? u() - 0.5 : 0.04 * u() - 0.02;
    c.ws.shifted[p] = shifted * (1 + rel);
    c.ws.inv_shifted[p] = 1 / c.ws.shifted[p];
  }
  return c;
}

/// Σ |terms| of each output, the scale the order of the additions can err by.
template <class T>
loc::detail::Normal term_scale(const Case<T>& c) {
  loc::detail::Normal s;
  const int n = c.n();
  for (std::ptrdiff_t i = 0; i < c.pixels; ++i) {
    const auto p = static_cast<std::size_t>(i);
    const double mu = c.ws.mu[p], z = c.ws.data[p], w0 = c.ws.weight[p];
    double r, w;
    if (c.method == loc::estimator::mle) {
      const double m = mu + static_cast<double>(c.ws.offset[p]);
      s.objective += 2 * (w0 * (m + c.ws.shifted[p]) + z * (1 + std::abs(std::log(std::max(z, 1.0) / m)) +
                                                               std::abs(std::log(m / c.ws.shifted[p]))));
      r = w0 + z / m;
      w = w0 / m;
    } else {
      const double e = mu - z;
      s.objective += w0 * e * e;
      r = std::abs(w0 * e);
      w = w0;
    }
    double dm[loc::max_fit_params];
    for (int k = 0; k < n; ++k)
      dm[k] = std::abs(static_cast<double>(k < c.psf_params ? c.ws.jacobian[static_cast<std::size_t>(k * c.pixels + i)]
                                                             : c.ws.d_sigma[p]));
    for (int k = 0; k < n; ++k) {
      s.g[static_cast<std::size_t>(k)] += r * dm[k];
      for (int l = 0; l < n; ++l) s.h[static_cast<std::size_t>(k * stride + l)] += w * dm[k] * dm[l];
    }
  }
  return s;
}

template <class T>
void compare(const Case<T>& c) {
  Case<T> fast = c, ref = c;
  loc::detail::Normal a, b;
  const bool ok_fast = loc::detail::accumulate(c.method, c.n(), c.psf_params, c.fit_sigma, c.pixels, fast.ws, a, c.change);
  const bool ok_ref = loc::detail::accumulate_ref(c.method, c.n(), c.psf_params, c.fit_sigma, c.pixels, ref.ws, b, c.change);
  REQUIRE(ok_fast == ok_ref);
  if (!ok_ref) return;
  CHECK(a.finite == b.finite);
  if (!b.finite) return;
  if (c.method == loc::estimator::mle) {
    for (std::ptrdiff_t i = 0; i < c.pixels; ++i) {
      const auto p = static_cast<std::size_t>(i);
      REQUIRE(fast.ws.trial_shifted[p] == ref.ws.trial_shifted[p]);
      REQUIRE(fast.ws.trial_inv_shifted[p] == ref.ws.trial_inv_shifted[p]);
    }
  }
  const loc::detail::Normal scale = term_scale(c);
  const double tol = 1e-12;
  CHECK(std::abs(a.objective - b.objective) <= tol * scale.objective);
  for (int k = 0; k < c.n(); ++k) {
    const auto ku = static_cast<std::size_t>(k);
    CHECK(std::abs(a.g[ku] - b.g[ku]) <= tol * scale.g[ku]);
    for (int l = 0; l < c.n(); ++l) {
      const auto q = static_cast<std::size_t>(k * stride + l);
      CHECK(std::abs(a.h[q] - b.h[q]) <= tol * scale.h[q]);
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("SIMD normal-equation accumulation matches its scalar reference", T, float, double) {
  const std::uint64_t seed = 20261201;
  MESSAGE("seed ", seed);
  std::uint32_t index = 0;
  for (std::ptrdiff_t pixels : {1, 3, 7, 8, 9, 49, 121, 130}) {
    for (loc::estimator method : {loc::estimator::mle, loc::estimator::lsq, loc::estimator::wlsq}) {
      for (bool change : {true, false}) {
        if (method != loc::estimator::mle && change) continue;
        for (int psf_params : {4, 5}) {
          for (bool fit_sigma : {false, true}) {
            CAPTURE(pixels);
            CAPTURE(static_cast<int>(method));
            CAPTURE(change);
            CAPTURE(psf_params);
            CAPTURE(fit_sigma);
            Case<T> c = random_case<T>(seed, index++, pixels);
            c.method = method;
            c.change = change;
            c.psf_params = psf_params;
            c.fit_sigma = fit_sigma;
            compare(c);
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("SIMD accumulation: adversarial windows decide like the reference", T, float, double) {
  const std::uint64_t seed = 77;
  MESSAGE("seed ", seed);
  for (std::ptrdiff_t pixels : {5, 49, 121}) {
    CAPTURE(pixels);
    for (std::ptrdiff_t bad_pixel : {std::ptrdiff_t{0}, pixels - 1}) {  // in a batch and in the tail
      CAPTURE(bad_pixel);
      for (bool change : {true, false}) {
        // mu + o ≤ 0 at one pixel: both return false.
        Case<T> c = random_case<T>(seed, 1, pixels);
        c.change = change;
        c.ws.mu[static_cast<std::size_t>(bad_pixel)] = T(-10);
        compare(c);
        // NaN in the model: false for the MLE, not finite for least squares.
        Case<T> d = random_case<T>(seed, 2, pixels);
        d.change = change;
        d.ws.mu[static_cast<std::size_t>(bad_pixel)] = std::numeric_limits<T>::quiet_NaN();
        compare(d);
        d.method = loc::estimator::lsq;
        compare(d);
      }
    }
    // All-zero data (no logarithm at all) and mu + o exactly equal to the current one (u = 0).
    Case<T> z = random_case<T>(seed, 3, pixels);
    for (std::ptrdiff_t i = 0; i < pixels; ++i) {
      const auto p = static_cast<std::size_t>(i);
      z.ws.data[p] = T(0);
      z.ws.shifted[p] = static_cast<double>(z.ws.mu[p]) + static_cast<double>(z.ws.offset[p]);
      z.ws.inv_shifted[p] = 1 / z.ws.shifted[p];
    }
    compare(z);
    z.change = false;
    compare(z);
  }
}

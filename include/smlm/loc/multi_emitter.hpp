// Multi-emitter fitting with model selection (ThunderSTORM's multi-emitter fitting analysis,
// Ovesný et al., Bioinformatics 30:2389, 2014; the same idea as Huang et al., Biomed. Opt. Express
// 2:1377, 2011): one window of a frame (photons) is fitted with n = 1, 2, … emitters sharing one
// uniform background, and the smallest n that explains the data is kept.
//
// Model with n emitters: mu = b + Σ_k N_k · h(x_k, y_k[, z_k]) over the window, h the PSF with its
// own σ (fixed: σ is not a free parameter here). Parameters, in order: (x, y, [z,] N) per emitter,
// then b — q = P::num_params − 1 per emitter, n·q + 1 in all (at most max_emitters emitters).
// Objectives, gradient and Fisher-scoring matrix as the single-emitter fitter's (fitter.hpp): the
// Poisson deviance of the shifted, scaled Poisson for mle, (weighted) sums of squares for lsq and
// wlsq; the same Levenberg–Marquardt iteration, with a dense (n·q + 1)² system.
//
// Selection. Starting from the 1-emitter fit, the (n+1)-emitter fit starts from the n-emitter
// solution plus a new emitter at the largest 3 × 3 sum of the residual d − mu (its photons that
// sum over the PSF's fraction in 3 × 3). It is accepted when
//   mle:        Λ = D_n − D_{n+1} (the likelihood-ratio statistic: the deviance is 2 × the negative
//               log-likelihood up to a constant) is significant, P(χ²(q) > Λ) < p_value (Wilks);
//   lsq, wlsq:  F = ((S_n − S_{n+1}) / q) / (S_{n+1} / (pixels − (n+1)·q − 1)) is significant,
//               P(F(q, pixels − (n+1)q − 1) > F) < p_value (the extra-sum-of-squares F test),
// and the fit converged, kept every emitter inside the window with positive photons, and put no two
// emitters closer than min_separation_px. Otherwise the search stops at n. ThunderSTORM's default
// p_value is 1e-6.
//
// Kernels are noexcept and allocate nothing: a MultiFitWorkspace sized once for the largest window.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/special_functions.hpp>
#include <smlm/loc/fitter.hpp>
#include <smlm/loc/noise_model.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::loc {

/// Most emitters in one window.
inline constexpr int max_emitters = 5;
/// Most parameters of a multi-emitter model: (x, y, z, N) per emitter and one background.
inline constexpr int max_multi_params = 4 * max_emitters + 1;

struct MultiEmitterOptions {
  int max_emitters = 1;            ///< most emitters per window (1: a plain single-emitter fit)
  double p_value = 1e-6;           ///< significance an extra emitter must reach (ThunderSTORM: 1e-6)
  double min_separation_px = 0.5;  ///< a model with two emitters closer than this is rejected

  bool valid() const noexcept {
    return max_emitters >= 1 && max_emitters <= loc::max_emitters && p_value > 0 && p_value < 1 &&
           min_separation_px >= 0 && std::isfinite(min_separation_px);
  }
};

template <class T>
struct MultiFitResult {
  int count = 0;  ///< emitters in the selected model (0 when even one emitter did not fit)
  std::array<psf::Spot<T>, max_emitters> spots{};  ///< x, y, [z,] photons; background is shared
  fit_status status = fit_status::not_finite;       ///< of the 1-emitter fit
  /// Objective (mle: deviance D = 2 × half-deviance; lsq/wlsq: sum of squares) of the n-emitter
  /// fit at index n − 1, NaN where it was not reached; and the test's p-value for each n ≥ 2.
  std::array<double, max_emitters> objective{}, p{};
};

/// Caller-owned scratch space for windows of up to max_pixels pixels.
template <class T>
struct MultiFitWorkspace {
  std::vector<double> data, weight, offset, mu, jac, trial_mu, trial_jac;
  std::vector<T> emitter_mu, emitter_jac;
  std::ptrdiff_t max_pixels = 0;

  MultiFitWorkspace() = default;
  explicit MultiFitWorkspace(std::ptrdiff_t pixels) { resize(pixels); }
  void resize(std::ptrdiff_t pixels) {
    const auto n = static_cast<std::size_t>(pixels);
    for (auto* v : {&data, &weight, &offset, &mu, &trial_mu}) v->assign(n, 0.0);
    for (auto* v : {&jac, &trial_jac}) v->assign(n * max_multi_params, 0.0);
    emitter_mu.assign(n, T(0));
    emitter_jac.assign(n * 5, T(0));
    max_pixels = pixels;
  }
};

namespace detail {

using MultiTheta = std::array<double, max_multi_params>;

/// mu = b + Σ_k N_k h_k and its Jacobian (parameter-major planes) into mu / jac.
template <psf::Model P>
void evaluate_emitters(const P& model, const MultiTheta& theta, int n, psf::Window w, MultiFitWorkspace<typename P::scalar>& ws,
                       std::vector<double>& mu, std::vector<double>& jac) noexcept {
  using T = typename P::scalar;
  constexpr int q = P::num_params - 1;
  const std::ptrdiff_t pixels = w.size();
  const int ib = n * q;
  const double b = theta[static_cast<std::size_t>(ib)];
  for (std::ptrdiff_t i = 0; i < pixels; ++i) mu[static_cast<std::size_t>(i)] = b;
  ImageView<T> emu = make_view(ws.emitter_mu.data(), w.height, w.width);
  psf::JacobianView<T> ej(ws.emitter_jac.data(), P::num_params, w);
  for (int k = 0; k < n; ++k) {
    psf::Spot<T> s;
    s.x_px = static_cast<T>(theta[static_cast<std::size_t>(k * q)]);
    s.y_px = static_cast<T>(theta[static_cast<std::size_t>(k * q + 1)]);
    if constexpr (P::has_z) s.z_nm = static_cast<T>(theta[static_cast<std::size_t>(k * q + 2)]);
    s.photons = static_cast<T>(theta[static_cast<std::size_t>(k * q + q - 1)]);
    s.background = T(0);
    model.evaluate(s, w, emu, ej);
    for (std::ptrdiff_t i = 0; i < pixels; ++i) mu[static_cast<std::size_t>(i)] += ws.emitter_mu[static_cast<std::size_t>(i)];
    // The emitter's planes x, y, [z,] photons are the model's first q planes.
    for (int a = 0; a < q; ++a) {
      double* dst = jac.data() + static_cast<std::ptrdiff_t>(k * q + a) * pixels;
      const T* src = ws.emitter_jac.data() + static_cast<std::ptrdiff_t>(a) * pixels;
      for (std::ptrdiff_t i = 0; i < pixels; ++i) dst[i] = src[i];
    }
    if (k == 0) {  // ∂mu/∂b from the model (1 for every additive-background model)
      double* dst = jac.data() + static_cast<std::ptrdiff_t>(ib) * pixels;
      const T* src = ws.emitter_jac.data() + static_cast<std::ptrdiff_t>(q) * pixels;
      for (std::ptrdiff_t i = 0; i < pixels; ++i) dst[i] = src[i];
    }
  }
}

struct MultiNormal {
  double objective = 0;  ///< half-deviance (mle) or sum of squares
  std::array<double, max_multi_params> g{};
  std::array<double, max_multi_params * max_multi_params> h{};
};

/// Objective, gradient and H (as fitter.hpp's pixel_terms); false when some m ≤ 0 or NaN.
template <class T>
bool accumulate_emitters(estimator method, int np, std::ptrdiff_t pixels, const MultiFitWorkspace<T>& ws,
                         const std::vector<double>& mu, const std::vector<double>& jac, MultiNormal& out) noexcept {
  out = MultiNormal{};
  std::array<double, max_multi_params> col{};
  for (std::ptrdiff_t i = 0; i < pixels; ++i) {
    const auto u = static_cast<std::size_t>(i);
    double r = 0, w = 0;
    if (method == estimator::mle) {
      const double s = ws.weight[u], z = ws.data[u];
      const double shifted = mu[u] + ws.offset[u];
      if (!(shifted > 0)) return false;
      const double inv = 1 / shifted;
      out.objective += s * shifted - z + (z > 0 ? z * std::log(z * inv / s) : 0.0);
      r = s - z * inv;
      w = s * inv;
    } else {
      const double e = mu[u] - ws.data[u];
      out.objective += ws.weight[u] * e * e;
      r = ws.weight[u] * e;
      w = ws.weight[u];
    }
    for (int a = 0; a < np; ++a) col[static_cast<std::size_t>(a)] = jac[static_cast<std::size_t>(a * pixels + i)];
    for (int a = 0; a < np; ++a) {
      const double ja = col[static_cast<std::size_t>(a)];
      out.g[static_cast<std::size_t>(a)] += r * ja;
      const double wa = w * ja;
      for (int c = 0; c <= a; ++c) out.h[static_cast<std::size_t>(a * max_multi_params + c)] += wa * col[static_cast<std::size_t>(c)];
    }
  }
  for (int a = 0; a < np; ++a)
    for (int c = 0; c < a; ++c)
      out.h[static_cast<std::size_t>(c * max_multi_params + a)] = out.h[static_cast<std::size_t>(a * max_multi_params + c)];
  return std::isfinite(out.objective);
}

/// Levenberg–Marquardt of the n-emitter model from theta (updated in place); the status and the
/// objective (half-deviance or sum of squares) at the result.
template <psf::Model P>
fit_status fit_emitters(const P& model, psf::Window w, int n, const FitOptions& options, MultiTheta& theta,
                        double& objective, MultiFitWorkspace<typename P::scalar>& ws) noexcept {
  constexpr int q = P::num_params - 1;
  const int np = n * q + 1;
  const std::ptrdiff_t pixels = w.size();
  auto scale = [&](const MultiTheta& t, int a) {
    if (a == np - 1) return std::max(std::abs(t[static_cast<std::size_t>(a)]), 1.0);  // background
    const int role = a % q;
    if (role == q - 1) return std::max(std::abs(t[static_cast<std::size_t>(a)]), 1.0);  // photons
    if (P::has_z && role == 2) return 10.0;  // z, nm
    return 1.0;                             // x, y, px
  };
  MultiNormal cur, trial;
  evaluate_emitters(model, theta, n, w, ws, ws.mu, ws.jac);
  if (!accumulate_emitters(options.method, np, pixels, ws, ws.mu, ws.jac, cur)) return fit_status::not_finite;
  double lambda = options.initial_lambda;
  for (int it = 0; it < options.max_iterations; ++it) {
    std::array<double, max_multi_params> delta{};
    bool solved = false;
    while (!solved) {
      auto a = cur.h;
      for (int k = 0; k < np; ++k) {
        a[static_cast<std::size_t>(k * max_multi_params + k)] *= 1 + lambda;
        delta[static_cast<std::size_t>(k)] = -cur.g[static_cast<std::size_t>(k)];
      }
      solved = cholesky_solve(a, np, delta);
      if (!solved && (lambda *= 10) > 1e12) {
        objective = cur.objective;
        return fit_status::singular;
      }
    }
    bool small = true;
    MultiTheta next = theta;
    for (int k = 0; k < np; ++k) {
      small = small && std::abs(delta[static_cast<std::size_t>(k)]) < options.tolerance * scale(theta, k);
      next[static_cast<std::size_t>(k)] += delta[static_cast<std::size_t>(k)];
    }
    bool ok = true;
    for (int k = 0; k < n; ++k) ok = ok && next[static_cast<std::size_t>(k * q + q - 1)] > 0;
    if (ok) {
      evaluate_emitters(model, next, n, w, ws, ws.trial_mu, ws.trial_jac);
      ok = accumulate_emitters(options.method, np, pixels, ws, ws.trial_mu, ws.trial_jac, trial);
    }
    const bool accepted = ok && trial.objective <= cur.objective;
    if (accepted) {
      theta = next;
      cur = trial;
      std::swap(ws.mu, ws.trial_mu);
      std::swap(ws.jac, ws.trial_jac);
      lambda = std::max(lambda / 10, 1e-12);
    } else {
      lambda *= 10;
    }
    // As in fitter.hpp: an accepted small step, or a rejected one close to Gauss–Newton (λ ≤ 1),
    // is convergence; λ beyond 1e12 is a singular (or flat) problem.
    if (small && (accepted || lambda <= 10)) {
      objective = cur.objective;
      return fit_status::converged;
    }
    if (lambda > 1e12) {
      objective = cur.objective;
      return fit_status::singular;
    }
  }
  objective = cur.objective;
  return fit_status::max_iterations;
}

}  // namespace detail

/// Fits 1 … options.max_emitters emitters to `data` (photons; frame pixels `window`) and keeps
/// the smallest number the test accepts (see the header). `start` is the 1-emitter starting
/// point (its background is the shared background's). The PSF's σ is fixed at the model's.
template <psf::Model P>
MultiFitResult<typename P::scalar> fit_multi(const P& model, ConstImageView<typename P::scalar> data, psf::Window window,
                                             const NoiseModel<typename P::scalar>& noise, psf::Spot<typename P::scalar> start,
                                             const FitOptions& fit_options, const MultiEmitterOptions& options,
                                             MultiFitWorkspace<typename P::scalar>& ws) SMLM_NOEXCEPT {
  using T = typename P::scalar;
  constexpr int q = P::num_params - 1;
  SMLM_ASSERT(options.valid() && fit_options.valid(), "loc::fit_multi: invalid options");
  SMLM_ASSERT(data.rows() == window.height && data.cols() == window.width, "loc::fit_multi: data must be window-sized");
  SMLM_ASSERT(window.size() <= ws.max_pixels, "loc::fit_multi: workspace too small for the window");
  const std::ptrdiff_t pixels = window.size();
  MultiFitResult<T> result;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  result.objective.fill(nan);
  result.p.fill(nan);

  if (!detail::data_terms(fit_options.method, data, window, noise, ws.data.data(), ws.weight.data(), ws.offset.data()))
    return result;

  // A unit spot's fraction of photons in the 3 × 3 pixels around its pixel: turns a residual sum
  // into a starting photon count.
  double frac3 = 1;
  {
    psf::Spot<T> unit;
    unit.x_px = static_cast<T>(window.x0 + window.width / 2) + T(0.5);
    unit.y_px = static_cast<T>(window.y0 + window.height / 2) + T(0.5);
    unit.photons = T(1);
    if constexpr (P::has_z) unit.z_nm = start.z_nm;
    model.evaluate(unit, window, make_view(ws.emitter_mu.data(), window.height, window.width));
    double f = 0;
    for (std::ptrdiff_t y = window.height / 2 - 1; y <= window.height / 2 + 1; ++y)
      for (std::ptrdiff_t x = window.width / 2 - 1; x <= window.width / 2 + 1; ++x)
        if (y >= 0 && x >= 0 && y < window.height && x < window.width)
          f += ws.emitter_mu[static_cast<std::size_t>(y * window.width + x)];
    frac3 = std::clamp(f, 0.05, 1.0);
  }

  auto inside = [&](const detail::MultiTheta& t, int n) {
    for (int k = 0; k < n; ++k) {
      const double x = t[static_cast<std::size_t>(k * q)], y = t[static_cast<std::size_t>(k * q + 1)];
      if (!(x >= static_cast<double>(window.x0) && x <= static_cast<double>(window.x0 + window.width) &&
            y >= static_cast<double>(window.y0) && y <= static_cast<double>(window.y0 + window.height)))
        return false;
    }
    return true;
  };
  auto separated = [&](const detail::MultiTheta& t, int n) {
    const double d2 = options.min_separation_px * options.min_separation_px;
    for (int a = 0; a < n; ++a)
      for (int b = a + 1; b < n; ++b) {
        const double dx = t[static_cast<std::size_t>(a * q)] - t[static_cast<std::size_t>(b * q)];
        const double dy = t[static_cast<std::size_t>(a * q + 1)] - t[static_cast<std::size_t>(b * q + 1)];
        if (dx * dx + dy * dy < d2) return false;
      }
    return true;
  };
  // The deviance (mle) is twice the half-deviance the iteration minimizes.
  const double to_objective = fit_options.method == estimator::mle ? 2.0 : 1.0;

  detail::MultiTheta theta{};
  theta[0] = start.x_px;
  theta[1] = start.y_px;
  if constexpr (P::has_z) theta[2] = start.z_nm;
  theta[q - 1] = start.photons;
  theta[q] = start.background;
  double obj = 0;
  result.status = detail::fit_emitters(model, window, 1, fit_options, theta, obj, ws);
  if (result.status == fit_status::converged && !inside(theta, 1)) result.status = fit_status::out_of_window;
  if (result.status != fit_status::converged) return result;
  result.objective[0] = to_objective * obj;
  int n = 1;
  detail::MultiTheta best = theta;

  while (n < options.max_emitters) {
    // ws.mu holds the accepted n-emitter model: the new emitter starts at the largest 3 × 3 sum of
    // the residual (data − mu, in photons).
    double best_sum = -std::numeric_limits<double>::infinity();
    std::ptrdiff_t by = 0, bx = 0;
    for (std::ptrdiff_t y = 0; y < window.height; ++y)
      for (std::ptrdiff_t x = 0; x < window.width; ++x) {
        double s = 0;
        for (std::ptrdiff_t v = std::max<std::ptrdiff_t>(y - 1, 0); v <= std::min(y + 1, window.height - 1); ++v)
          for (std::ptrdiff_t u = std::max<std::ptrdiff_t>(x - 1, 0); u <= std::min(x + 1, window.width - 1); ++u)
            s += static_cast<double>(data(v, u)) - ws.mu[static_cast<std::size_t>(v * window.width + u)];
        if (s > best_sum) best_sum = s, by = y, bx = x;
      }
    detail::MultiTheta next{};
    for (int a = 0; a < n * q; ++a) next[static_cast<std::size_t>(a)] = best[static_cast<std::size_t>(a)];
    next[static_cast<std::size_t>(n * q)] = static_cast<double>(window.x0 + bx) + 0.5;
    next[static_cast<std::size_t>(n * q + 1)] = static_cast<double>(window.y0 + by) + 0.5;
    if constexpr (P::has_z) next[static_cast<std::size_t>(n * q + 2)] = best[2];
    next[static_cast<std::size_t>(n * q + q - 1)] = std::max(best_sum / frac3, 1.0);
    next[static_cast<std::size_t>((n + 1) * q)] = best[static_cast<std::size_t>(n * q)];  // background
    double next_obj = 0;
    const fit_status st = detail::fit_emitters(model, window, n + 1, fit_options, next, next_obj, ws);
    if (st != fit_status::converged || !inside(next, n + 1) || !separated(next, n + 1)) break;
    const double before = result.objective[static_cast<std::size_t>(n - 1)], after = to_objective * next_obj;
    result.objective[static_cast<std::size_t>(n)] = after;
    double p = 1;
    if (fit_options.method == estimator::mle) {
      p = chi_square_sf(std::max(before - after, 0.0), q);
    } else {
      const auto dof = static_cast<int>(pixels) - (n + 1) * q - 1;
      if (dof <= 0 || !(after > 0)) break;
      p = f_sf(std::max((before - after) / q, 0.0) / (after / dof), q, dof);
    }
    result.p[static_cast<std::size_t>(n)] = p;
    if (!(p < options.p_value)) break;
    best = next;  // ws.mu holds its model (fit_emitters leaves the accepted θ's there)
    ++n;
  }

  result.count = n;
  for (int k = 0; k < n; ++k) {
    psf::Spot<T>& s = result.spots[static_cast<std::size_t>(k)];
    s.x_px = static_cast<T>(best[static_cast<std::size_t>(k * q)]);
    s.y_px = static_cast<T>(best[static_cast<std::size_t>(k * q + 1)]);
    if constexpr (P::has_z) s.z_nm = static_cast<T>(best[static_cast<std::size_t>(k * q + 2)]);
    s.photons = static_cast<T>(best[static_cast<std::size_t>(k * q + q - 1)]);
    s.background = static_cast<T>(best[static_cast<std::size_t>(n * q)]);
  }
  return result;
}

}  // namespace smlm::loc

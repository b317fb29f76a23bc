// Cramér–Rao lower bounds: from the Fisher information of the same psf::Model and NoiseModel the
// fitter uses, and the closed forms of Thompson et al. and Mortensen et al. for a Gaussian spot.
//
// Fisher information over a window (Ober, Ram & Ward, Biophys. J. 86:1185, 2004; Smith et al.,
// Nat. Methods 7:373, 2010, for the pixelated Poisson case):
//     I_kl = Σ_pixels ∂mu/∂θ_k · ∂mu/∂θ_l / (excess · mu + read_variance)
// For a Poisson camera (excess 1, read_variance 0) this is exact. For the shifted, scaled Poisson
// likelihood of noise_model.hpp it is the exact information of that likelihood: the EMCCD at high
// gain (excess 2/qe: half the Poisson information, Chao, Ward & Ober, JOSA A 30:1255, 2013) and the
// sCMOS approximation of Huang et al. (Nat. Methods 10:653, 2013). CRLB_k = (I⁻¹)_kk.
//
// Closed forms (σ the PSF standard deviation, a the pixel size, N photons, b background photons
// per pixel, σa² = σ² + a²/12, F² = 1 for a Poisson camera and 2 for an EMCCD; variances per axis):
//   Thompson, Larson & Webb, Biophys. J. 82:2775 (2002), eq. 14 (with b the background variance
//   per pixel, which is the background photon count for Poisson noise):
//       Var x = (σ² + a²/12)/N + 8π σ⁴ b / (a² N²)
//   Mortensen, Churchman, Bates & Flyvbjerg, Nat. Methods 7:377 (2010), eq. 6 (least squares) and
//   eq. 5 (maximum likelihood; the integral evaluated numerically):
//       LSQ:  Var x = F² (σa²/N) (16/9 + 8π σa² b / (N a²))
//       MLE:  Var x = F² (σa²/N) [1 + ∫₀¹ ln t / (1 + t/τ) dt]⁻¹,   τ = 2π σa² b / (N a²)
#pragma once

#include <array>
#include <cmath>
#include <numbers>

#include <smlm/core/config.hpp>
#include <smlm/loc/fitter.hpp>
#include <smlm/loc/noise_model.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::loc {

/// Variances (I⁻¹)_kk in the fitter's parameter order (x, y, [z,] photons, background, [σ]);
/// ok is false where the information matrix is singular or not finite.
struct Crlb {
  std::array<double, max_fit_params> variance{};
  int num_params = 0;
  bool ok = false;

  double x_px() const noexcept { return std::sqrt(variance[0]); }  ///< √CRLB of x, pixels
  double y_px() const noexcept { return std::sqrt(variance[1]); }
};

/// The CRLB of the parameters of `model` at `spot` over `window` with `noise`; σ is a parameter
/// when with_sigma (needs psf::SigmaModel) — freeing σ can only raise the bounds of the others.
template <psf::Model P>
Crlb crlb(const P& model, const psf::Spot<typename P::scalar>& spot, psf::Window window,
          const NoiseModel<typename P::scalar>& noise, bool with_sigma,
          FitWorkspace<typename P::scalar>& ws) SMLM_NOEXCEPT {
  SMLM_ASSERT(window.size() <= ws.max_pixels, "loc::crlb: workspace too small for the window");
  SMLM_ASSERT(!with_sigma || psf::SigmaModel<P>, "loc::crlb: with_sigma needs a PSF with the SigmaModel hook");
  Crlb out;
  const bool sigma = with_sigma && psf::SigmaModel<P>;
  const int n = P::num_params + (sigma ? 1 : 0);
  out.num_params = n;
  P local = model;
  double sigma0 = 0;
  if constexpr (psf::SigmaModel<P>) sigma0 = model.sigma_px;
  detail::evaluate_model(local, detail::ParamLayout<P>::pack(spot, sigma0), sigma, window, ws);
  const std::ptrdiff_t pixels = window.size();
  std::array<double, max_fit_params * max_fit_params> info{};
  for (std::ptrdiff_t y = 0; y < window.height; ++y) {
    for (std::ptrdiff_t x = 0; x < window.width; ++x) {
      const std::ptrdiff_t i = y * window.width + x;
      const PixelNoise<typename P::scalar> pn = noise.at(window.y0 + y, window.x0 + x);
      const double var = static_cast<double>(pn.excess) * ws.mu[static_cast<std::size_t>(i)] + pn.read_variance;
      if (!(var > 0)) return out;
      double d[max_fit_params];
      for (int k = 0; k < P::num_params; ++k) d[k] = ws.jacobian[static_cast<std::size_t>(k * pixels + i)];
      if (sigma) d[P::num_params] = ws.d_sigma[static_cast<std::size_t>(i)];
      for (int k = 0; k < n; ++k)
        for (int l = 0; l < n; ++l) info[k * max_fit_params + l] += d[k] * d[l] / var;
    }
  }
  // Diagonal of the inverse: solve I e_k = column k for each unit vector.
  for (int k = 0; k < n; ++k) {
    auto a = info;
    std::array<double, max_fit_params> e{};
    e[k] = 1;
    if (!detail::cholesky_solve(a, n, e)) return out;
    out.variance[k] = e[k];
  }
  out.ok = true;
  for (int k = 0; k < n; ++k) out.ok = out.ok && std::isfinite(out.variance[k]) && out.variance[k] > 0;
  return out;
}

/// Thompson et al. (2002), eq. 14: variance per axis (units of σ and a squared).
inline double thompson_variance(double sigma, double pixel, double photons, double background_photons) noexcept {
  const double pi = std::numbers::pi;
  return (sigma * sigma + pixel * pixel / 12) / photons +
         8 * pi * sigma * sigma * sigma * sigma * background_photons / (pixel * pixel * photons * photons);
}

/// Mortensen et al. (2010), eq. 6: variance per axis of the (unweighted) least-squares estimate.
/// excess_factor_sq is F² (1 Poisson, 2 EMCCD).
inline double mortensen_lsq_variance(double sigma, double pixel, double photons, double background_photons,
                                     double excess_factor_sq = 1) noexcept {
  const double pi = std::numbers::pi;
  const double sa2 = sigma * sigma + pixel * pixel / 12;
  return excess_factor_sq * sa2 / photons * (16.0 / 9 + 8 * pi * sa2 * background_photons / (photons * pixel * pixel));
}

/// Mortensen et al. (2010), eq. 5: variance per axis of the maximum-likelihood estimate. The
/// integral ∫₀¹ ln t/(1 + t/τ) dt is taken with t = u² (a smooth integrand 4u ln u/(1 + u²/τ)) by
/// composite Simpson on 2,000 intervals (relative error below 1e-7 for τ ≥ 1e-6).
inline double mortensen_mle_variance(double sigma, double pixel, double photons, double background_photons,
                                     double excess_factor_sq = 1) noexcept {
  const double pi = std::numbers::pi;
  const double sa2 = sigma * sigma + pixel * pixel / 12;
  const double tau = 2 * pi * sa2 * background_photons / (photons * pixel * pixel);
  if (!(tau > 0)) return excess_factor_sq * sa2 / photons;  // no background: the integral is 0
  const int m = 2000;
  auto f = [tau](double u) { return u > 0 ? 4 * u * std::log(u) / (1 + u * u / tau) : 0.0; };
  double s = f(0) + f(1);
  for (int i = 1; i < m; ++i) s += (i % 2 ? 4 : 2) * f(static_cast<double>(i) / m);
  const double integral = s / (3.0 * m);
  return excess_factor_sq * sa2 / photons / (1 + integral);
}

}  // namespace smlm::loc

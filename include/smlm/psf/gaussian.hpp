// Gaussian PSF sampled at pixel centres: the 2D normal density evaluated at the centre of each
// pixel, times its unit area,
//   h(i, j) = exp(−[(j + ½ − x)² + (i + ½ − y)²] / (2σ²)) / (2π σ²).
// It is the cheap approximation of the pixel-integrated Gaussian (integrated_gaussian.hpp) and is
// accurate only for σ well above half a pixel: by Poisson summation the sum over all pixels is
// 1 + ε with |ε| ≤ (1 + 2q/(1 − q))² − 1 ≈ 4q, q = exp(−2π² σ²) (about 1e-8 at σ = 1 px,
// 3e-3 at σ = 0.6 px; the bound is attained by an emitter at a pixel centre), and the peak
// overestimates the pixel integral by a relative ≈ 1/(12 σ²) (9 % at σ = 1 px).
// Model of psf::Model (psf.hpp) and of the optional psf::SigmaModel hook.
#pragma once

#include <concepts>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/detail/separable_gaussian.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf {

template <std::floating_point T = double>
struct Gaussian {
  using scalar = T;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
  /// The support window is ±support_sigmas σ: the mass outside is ≤ 2 erfc(4/√2) ≈ 1.3e-4.
  static constexpr T support_sigmas = 4;

  T sigma_px = 1;  ///< standard deviation of the Gaussian, pixels (> 0)

  T support_radius_px(const Spot<T>&) const noexcept { return support_sigmas * sigma_px; }

  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu) const SMLM_NOEXCEPT {
    detail::evaluate_values<detail::sampling::centre>(shape(s), w, mu);
  }
  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu,
                JacobianView<T> jacobian) const SMLM_NOEXCEPT {
    detail::evaluate_jacobian<detail::sampling::centre>(shape(s), w, mu, jacobian, false, T(1),
                                                        T(1));
  }
  /// As above, plus ∂mu/∂sigma_px (the SigmaModel hook).
  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu, JacobianView<T> jacobian,
                ImageView<T> d_mu_d_sigma_px) const SMLM_NOEXCEPT {
    detail::evaluate_jacobian_sigma<detail::sampling::centre>(shape(s), w, mu, jacobian,
                                                              d_mu_d_sigma_px);
  }
  void add_to(const Spot<T>& s, ImageView<T> frame) const noexcept {
    detail::add_to_frame<detail::sampling::centre>(shape(s), support_radius_px(s), frame);
  }

 private:
  detail::elliptic_spot<T> shape(const Spot<T>& s) const noexcept {
    return {s.x_px, s.y_px, sigma_px, sigma_px, s.photons, s.background};
  }
};

}  // namespace smlm::psf

// Pixel-integrated Gaussian PSF: the 2D normal density integrated over each pixel,
//   h(i, j) = E_x(j) · E_y(i),  E_x(j) = ½[erf((j + 1 − x)/(√2 σ)) − erf((j − x)/(√2 σ))],
// the model ThunderSTORM simulates and fits (Ovesný et al., Bioinformatics 30:2389, 2014) and the
// one Smith et al. (Nat. Methods 7:373, 2010) use for the MLE and its CRLB. It is exact for a
// Gaussian PSF: the sum over all pixels is 1 to rounding. Analytic derivatives with respect to x,
// y, photons, background and (SigmaModel hook) σ; see detail/separable_gaussian.hpp for the
// formulas. Cost per window: width + height + 2 erfc calls (+ as many exp for the Jacobian).
// Model of psf::Model (psf.hpp) and of the optional psf::SigmaModel hook.
#pragma once

#include <concepts>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/detail/separable_gaussian.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf {

template <std::floating_point T = double>
struct IntegratedGaussian {
  using scalar = T;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
  /// The support window is ±support_sigmas σ: the mass outside is ≤ 2 erfc(4/√2) ≈ 1.3e-4.
  static constexpr T support_sigmas = 4;

  T sigma_px = 1;  ///< standard deviation of the Gaussian before pixel integration, pixels (> 0)

  T support_radius_px(const Spot<T>&) const noexcept { return support_sigmas * sigma_px; }

  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu) const SMLM_NOEXCEPT {
    detail::evaluate_values<detail::sampling::integrated>(shape(s), w, mu);
  }
  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu,
                JacobianView<T> jacobian) const SMLM_NOEXCEPT {
    detail::evaluate_jacobian<detail::sampling::integrated>(shape(s), w, mu, jacobian, false,
                                                            T(1), T(1));
  }
  /// As above, plus ∂mu/∂sigma_px (the SigmaModel hook).
  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu, JacobianView<T> jacobian,
                ImageView<T> d_mu_d_sigma_px) const SMLM_NOEXCEPT {
    detail::evaluate_jacobian_sigma<detail::sampling::integrated>(shape(s), w, mu, jacobian,
                                                                  d_mu_d_sigma_px);
  }
  void add_to(const Spot<T>& s, ImageView<T> frame) const noexcept {
    detail::add_to_frame<detail::sampling::integrated>(shape(s), support_radius_px(s), frame);
  }

 private:
  detail::elliptic_spot<T> shape(const Spot<T>& s) const noexcept {
    return {s.x_px, s.y_px, sigma_px, sigma_px, s.photons, s.background};
  }
};

}  // namespace smlm::psf

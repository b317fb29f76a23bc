// Astigmatic (elliptical) pixel-integrated Gaussian for 3D localization.
//
// A cylindrical lens puts the x and y foci at different depths, so the spot's widths encode z
// (Huang, Wang, Bates & Zhuang, "Three-dimensional super-resolution imaging by stochastic optical
// reconstruction microscopy", Science 319:810, 2008). Each axis follows their defocus curve
//   σ(z) = σ0 · sqrt(1 + u² + A u³ + B u⁴),   u = (z − c)/d,
// with c the depth at which that axis is in focus, d the focal depth and A, B the higher-order
// terms. Huang et al. write the curve for the fitted spot width w; we apply it to the Gaussian σ
// directly (the curve is homogeneous in w0, so calibrations in either width carry over with
// σ0 = w0 · σ/w). The pixel response is
//   h(i, j) = E_x(j; x, σx(z)) · E_y(i; y, σy(z)),   E as in integrated_gaussian.hpp,
// and ∂mu/∂z = photons · (∂E_x/∂σx · σx'(z) · E_y + E_x · ∂E_y/∂σy · σy'(z)), with
//   σ'(z) = σ0² (2u + 3A u² + 4B u³) / (2 d σ(z)).
// The curve must stay positive over the z range used: 1 + u² + A u³ + B u⁴ > 0, which holds for
// every z when A² < 4B or A = B = 0; where it does not, σ and mu are NaN (and add_to renders
// nothing, having no window).
// Model of psf::Model (psf.hpp) with has_z.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <limits>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/detail/separable_gaussian.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf {

/// One axis's width against axial position (Huang et al. 2008); see the header comment.
template <std::floating_point T = double>
struct DefocusCurve {
  T sigma0_px = 1;   ///< σ0: width at this axis's focus, pixels
  T focus_nm = 0;    ///< c: axial position of this axis's focus, nm
  T depth_nm = 400;  ///< d: focal depth, nm (> 0)
  T a = 0;           ///< A: third-order coefficient (dimensionless)
  T b = 0;           ///< B: fourth-order coefficient (dimensionless)

  T sigma_px(T z_nm) const noexcept {
    const T u = (z_nm - focus_nm) / depth_nm;
    return sigma0_px * std::sqrt(T(1) + u * u * (T(1) + u * (a + u * b)));
  }
  /// dσ/dz in pixels per nanometre.
  T dsigma_px_dz_nm(T z_nm) const noexcept {
    const T u = (z_nm - focus_nm) / depth_nm;
    const T dq_du = u * (T(2) + u * (T(3) * a + u * T(4) * b));
    return sigma0_px * sigma0_px * dq_du / (T(2) * depth_nm * sigma_px(z_nm));
  }
};

template <std::floating_point T = double>
struct AstigmaticGaussian {
  using scalar = T;
  static constexpr bool has_z = true;
  static constexpr int num_params = 5;
  /// The support window is ±support_sigmas · max(σx, σy): the mass outside is ≤ 1.3e-4.
  static constexpr T support_sigmas = 4;

  /// Illustrative defaults (x in focus 200 nm below the nominal focus, y 200 nm above), not a
  /// calibration: set both curves from a bead z-stack.
  DefocusCurve<T> x_curve{.sigma0_px = 1, .focus_nm = -200, .depth_nm = 400, .a = 0, .b = 0};
  DefocusCurve<T> y_curve{.sigma0_px = 1, .focus_nm = 200, .depth_nm = 400, .a = 0, .b = 0};

  T sigma_x_px(T z_nm) const noexcept { return x_curve.sigma_px(z_nm); }
  T sigma_y_px(T z_nm) const noexcept { return y_curve.sigma_px(z_nm); }

  /// NaN (no support window) where either width is not a positive number.
  T support_radius_px(const Spot<T>& s) const noexcept {
    const T sx = sigma_x_px(s.z_nm), sy = sigma_y_px(s.z_nm);
    if (!(sx > 0 && sy > 0)) return std::numeric_limits<T>::quiet_NaN();
    return support_sigmas * std::max(sx, sy);
  }

  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu) const SMLM_NOEXCEPT {
    detail::evaluate_values<detail::sampling::integrated>(shape(s), w, mu);
  }
  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu,
                JacobianView<T> jacobian) const SMLM_NOEXCEPT {
    detail::evaluate_jacobian<detail::sampling::integrated>(
        shape(s), w, mu, jacobian, true, x_curve.dsigma_px_dz_nm(s.z_nm),
        y_curve.dsigma_px_dz_nm(s.z_nm));
  }
  void add_to(const Spot<T>& s, ImageView<T> frame) const noexcept {
    detail::add_to_frame<detail::sampling::integrated>(shape(s), support_radius_px(s), frame);
  }

 private:
  detail::elliptic_spot<T> shape(const Spot<T>& s) const noexcept {
    return {s.x_px, s.y_px, sigma_x_px(s.z_nm), sigma_y_px(s.z_nm), s.photons, s.background};
  }
};

}  // namespace smlm::psf

// Airy PSF: the in-focus image of a point through an aberration-free circular pupil (scalar,
// paraxial-amplitude diffraction; Born & Wolf, Principles of Optics, §8.5.2):
//   I(r) ∝ (2 J1(v)/v)²,   v = k r,   k = 2π NA / λ
// with λ the vacuum wavelength and NA = n sin θ the numerical aperture (so the refractive index n
// does not appear in the in-focus lateral pattern; it is kept to validate NA ≤ n). The first dark
// ring is at v = j_{1,1} = 3.8317, r = 0.6098 λ/NA; the best-fitting Gaussian has σ ≈ 0.21 λ/NA
// (Zhang, Zerubia & Olivo-Marin, Appl. Opt. 46:1819, 2007).
//
// Truncation and normalisation. The Airy pattern's tail carries a slowly decaying fraction of
// the light: the energy outside radius v is J0²(v) + J1²(v) ≈ 2/(πv) (Rayleigh's encircled-energy
// formula), so no finite window holds all but 1e-3 of it without reaching ~500 λ/NA. The model
// therefore cuts the pattern at its `rings`-th dark ring, R = j_{1,rings}/k, where the
// intensity and its slope are both zero (the cut is C¹), and renormalises what is inside by the
// encircled energy there, EE = 1 − J0²(j_{1,rings}):
//   h(r) = k² / (4π EE) · (2 J1(kr)/(kr))²  for r ≤ R,  0 beyond   (per px², r and k in pixels),
// which integrates to 1 over the plane. The photons the infinite pattern would put beyond R
// (J0²(j_{1,m}) ≈ 2/(π j_{1,m}): 3.9 % for the default 5 rings, 2.0 % for 10) are thereby
// spread over the disc in proportion to the pattern instead of over a very wide, very faint halo.
// support_radius_px is R: support_tail holds exactly.
//
// Pixel integration. Each pixel's fraction is the integral of h over the pixel by an n × n
// tensor Gauss–Legendre rule (n = quadrature_order, default 4: exact for polynomials of degree
// 2n − 1 in x and y; nodes at exactly antisymmetric offsets from the pixel centre, so a centred
// emitter gives an exactly symmetric image). With k = 1.3 /px (NA 1.4, 680 nm, 100 nm pixels) the
// sum over all pixels is 1 within 5.2e-7 at n = 4 (measured over 50 positions;
// conformance_test.cpp bounds it at 2e-6; the cut at a dark ring keeps the integrand C¹, so the
// composite rule converges).
//   mu(i, j) = background + photons Σ_a Σ_b w_a w_b h(r_ab),  r_ab = |node_ab − (x, y)|
// Derivatives: ∂h/∂x = −C k² g(v) (X − x), g = I'(v)/v = −8 (J1/v)(J2/v²) (finite at v = 0),
// so ∂mu/∂x is the same quadrature of the exact derivative: the derivative of the mu evaluated.
// J0, J1 are detail/bessel.hpp's (≤ 1e-13 absolute error).
//
// Cost: quadrature_order² Bessel evaluations per pixel inside the disc (none outside), ≈ 0.14 µs
// each as measured (1.1 ms per emitter at the defaults, docs/performance.md). For simulation at scale, tabulate it once (psf::tabulate + psf::Tabulated).
// Evaluation is in double whatever T; mu and the Jacobian are rounded to T.
// Model of psf::Model (psf.hpp).
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <numbers>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/detail/bessel.hpp>
#include <smlm/psf/detail/window_render.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf {

template <std::floating_point T = double>
struct Airy {
  using scalar = T;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
  static constexpr int max_quadrature_order = 16;

  T na = T(1.4);                 ///< numerical aperture, n sin θ (> 0, ≤ refractive_index)
  T wavelength_nm = T(680);      ///< emission wavelength in vacuum, nm (> 0)
  T pixel_nm = T(100);           ///< camera pixel size in the sample plane, nm (> 0)
  T refractive_index = T(1.518); ///< immersion medium (validates NA ≤ n; no effect in focus)
  int rings = 5;                 ///< cut at this dark ring (1 … 200)
  int quadrature_order = 4;      ///< Gauss–Legendre points per pixel axis (1 … 16)

  /// k = 2π NA pixel / λ, per pixel; NaN when a parameter is out of its domain.
  double k_per_px() const noexcept {
    const bool ok = na > 0 && wavelength_nm > 0 && pixel_nm > 0 && na <= refractive_index &&
                    std::isfinite(double(na) * double(wavelength_nm) * double(pixel_nm)) &&
                    rings >= 1 && rings <= 200 && quadrature_order >= 1 &&
                    quadrature_order <= max_quadrature_order;
    if (!ok) return std::numeric_limits<double>::quiet_NaN();
    return 2 * std::numbers::pi * double(na) * double(pixel_nm) / double(wavelength_nm);
  }
  /// The cut radius R = j_{1,rings}/k in pixels (NaN for invalid parameters).
  T support_radius_px(const Spot<T>&) const noexcept { return T(cut_radius_px()); }
  double cut_radius_px() const noexcept { return detail::bessel_j1_zero(rings) / k_per_px(); }
  /// Fraction of the infinite Airy pattern's energy inside the cut, 1 − J0²(j_{1,rings}).
  double encircled_energy() const noexcept {
    const double j0 = detail::bessel_j0(detail::bessel_j1_zero(rings));
    return 1 - j0 * j0;
  }
  /// h(r): the (cut, renormalised) intensity per px² at distance r_px from the emitter, before
  /// pixel integration.
  double density_per_px2(double r_px) const noexcept {
    const double k = k_per_px();
    if (!(r_px <= cut_radius_px())) return std::isnan(k) || std::isnan(r_px) ? k + r_px : 0.0;
    double intensity, g;
    detail::airy_intensity(k * r_px, intensity, g);
    return k * k / (4 * std::numbers::pi * encircled_energy()) * intensity;
  }

  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu) const SMLM_NOEXCEPT {
    detail::assert_shapes<T>(w, mu, nullptr, num_params);
    render<false, false>(s, w, mu.data(), mu.outerStride(), nullptr);
  }
  void evaluate(const Spot<T>& s, Window w, ImageView<T> mu,
                JacobianView<T> jacobian) const SMLM_NOEXCEPT {
    detail::assert_shapes<T>(w, mu, &jacobian, num_params);
    render<false, true>(s, w, mu.data(), mu.outerStride(), &jacobian);
  }
  void add_to(const Spot<T>& s, ImageView<T> frame) const noexcept {
    detail::add_over_support(*this, s, frame, [&](Window w, T* out, std::ptrdiff_t stride) {
      render<true, false>(s, w, out, stride, nullptr);
    });
  }

 private:
  template <bool Accumulate, bool Derivatives>
  void render(const Spot<T>& s, Window w, T* out, std::ptrdiff_t stride,
              const JacobianView<T>* jacobian) const noexcept {
    T* planes[4] = {};
    std::ptrdiff_t jstride = 0;
    if constexpr (Derivatives) {
      for (int k = 0; k < 4; ++k) planes[k] = jacobian->plane(k).data();
      jstride = jacobian->width();
    }
    const double k = k_per_px();
    const double x = double(s.x_px), y = double(s.y_px);
    constexpr double limit = 1099511627776.0;  // 2^40 pixels
    const bool finite = std::isfinite(k) && std::isfinite(x) && std::isfinite(y);
    // Beyond 2^40 px no addressable pixel is within reach: h = 0 there.
    const bool far = finite && !(std::abs(x) <= limit && std::abs(y) <= limit);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double radius = finite ? cut_radius_px() : nan;
    const double c = finite ? k * k / (4 * std::numbers::pi * encircled_energy()) : nan;
    const int n = finite ? quadrature_order : 1;
    double t[max_quadrature_order], wq[max_quadrature_order];
    detail::gauss_legendre_centred(n, t, wq);
    // Pixel-centre offsets are formed as (j − ⌊x⌋) + (½ − frac x): exact for an emitter at a
    // pixel centre or corner, so mirrored pixels see exactly mirrored nodes.
    const double fx = finite && !far ? std::floor(x) : 0, fy = finite && !far ? std::floor(y) : 0;
    const double ox = 0.5 - (x - fx), oy = 0.5 - (y - fy);
    const double r2max = radius * radius;
    for (std::ptrdiff_t r = 0; r < w.height; ++r) {
      const double cy = double(w.y0 + r) - fy + oy;
      for (std::ptrdiff_t col = 0; col < w.width; ++col) {
        const double cx = double(w.x0 + col) - fx + ox;
        double v = 0, dx = 0, dy = 0;
        if (!finite) {
          v = dx = dy = nan;
        } else if (!far && std::abs(cx) - 0.5 <= radius && std::abs(cy) - 0.5 <= radius) {
          for (int a = 0; a < n; ++a) {
            const double ny = cy + t[a];
            double va = 0, dxa = 0, dya = 0;
            for (int b = 0; b < n; ++b) {
              const double nx = cx + t[b];
              const double rr = nx * nx + ny * ny;
              if (rr > r2max) continue;
              double intensity, g;
              detail::airy_intensity(k * std::sqrt(rr), intensity, g);
              va += wq[b] * intensity;
              if constexpr (Derivatives) {
                dxa += wq[b] * g * nx;
                dya += wq[b] * g * ny;
              }
            }
            v += wq[a] * va;
            if constexpr (Derivatives) {
              dx += wq[a] * dxa;
              dy += wq[a] * dya;
            }
          }
          v *= c;
          dx *= -c * k * k;  // ∂h/∂x = −C k² g · (X − x)
          dy *= -c * k * k;
        }
        const std::ptrdiff_t at = r * stride + col;
        if constexpr (Accumulate) {
          out[at] += T(double(s.photons) * v);
        } else {
          out[at] = T(double(s.background) + double(s.photons) * v);
        }
        if constexpr (Derivatives) {
          const std::ptrdiff_t j = r * jstride + col;
          planes[0][j] = T(double(s.photons) * dx);
          planes[1][j] = T(double(s.photons) * dy);
          planes[2][j] = T(v);
          planes[3][j] = finite ? T(1) : T(nan);
        }
      }
    }
  }
};

}  // namespace smlm::psf

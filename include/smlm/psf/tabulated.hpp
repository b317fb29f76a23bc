// Tabulated PSF: a measured (bead z-stack) or computed PSF stored as a 3D table and interpolated
// by a tensor-product cubic B-spline in x, y and z.
//
// The table (PsfTable). planes × height × width samples, plane-major, row-major. Sample (k, a, b)
//   is the fraction of an emitter's photons that a camera pixel receives when the emitter sits at
//   axial position z_k = z_first_nm + k · z_step_nm and the pixel's centre is displaced from the
//   emitter by
//       u = (b − (width − 1)/2) / oversampling,   v = (a − (height − 1)/2) / oversampling  pixels
//   in x and y. So the table is the PSF *already integrated over a pixel* (the PSF convolved with
//   the pixel's box), sampled `oversampling` times per pixel: a bead stack recorded at the camera
//   pixel (oversampling 1), a registered average of sub-pixel-shifted bead images, or a computed
//   PSF convolved with the pixel (pupil.hpp does this exactly in Fourier space). The emitter is at
//   the table's centre sample ((width − 1)/2, (height − 1)/2).
// Interpolation. The samples are interpolated (not approximated) by a cubic B-spline
//       s(p, q, t) = Σ c(k, a, b) β3(t − k) β3(q − a) β3(p − b)
//   in sample coordinates (p along x, q along y, t along z). β3 is C², so s is twice continuously
//   differentiable in x, y and z and its analytic derivatives exist everywhere (∂/∂x =
//   −oversampling · ∂s/∂p, ∂/∂z = ∂s/∂t / z_step_nm). Laterally the coefficients beyond the table
//   are zero and those inside solve the interpolation conditions (c(k−1) + 4 c(k) + c(k+1))/6 =
//   sample(k) exactly (a tridiagonal system, solved once at construction): s passes through
//   every sample and vanishes beyond ((max(width, height) − 1)/2 + 2)/oversampling pixels of
//   offset, which is the support radius (support_tail holds exactly: no photon falls outside).
//   Axially s is the natural cubic spline through the planes (ghost coefficients c(−1) = 2 c(0) −
//   c(1) and c(n) = 2 c(n−1) − c(n−2), i.e. zero second derivative at the first and last plane;
//   a mirror-symmetric end, as in Unser's recursive prefilter, "Splines: a perfect fit for signal
//   and image processing", IEEE SPM 16(6):22–38, 1999, would force ∂s/∂z = 0 at the ends and
//   costs 1.5 % of the peak in the last interval of an astigmatic stack); z outside [z_first, z_last] is outside the calibration and
//   gives NaN (flagged, not extrapolated), and such a spot is not rendered. A cubic spline can
//   ring slightly below zero next to a sharp feature or a truncated edge: h = max(s, 0), and the
//   Jacobian is the derivative of that (zero where s < 0).
// Normalisation. At construction every plane is scaled so that the integral of its spline over
//   the plane, Σ c (times the sample area 1/oversampling² px²), is 1; z-interpolation keeps that
//   integral at 1 between planes. Summing h over the pixel lattice samples the spline once per
//   oversampling² samples, which equals the integral up to aliasing (Poisson summation), so the
//   photons of an emitter at any z land in the image plane up to a small, smooth-table error (the
//   conformance cases state it). That holds for a table whose edges have decayed: cutting a tail
//   that is still bright makes the lattice sum depend on the sub-pixel position (pupil.hpp tapers
//   its tables' outer band for this reason; do the same to a measured stack cut too tightly).
//   Measured stacks need their background subtracted first; negative samples are rejected, not
//   clipped.
// Accuracy. The interpolation error of a cubic spline falls as (sample spacing)⁴ times the fourth
//   derivative: a pixel-integrated Gaussian of σ = 1.3 px tabulated at oversampling 4 is
//   reproduced to ≈ 1e-5 of its peak (tabulated_test.cpp states the measured bound).
// Cost. The B-spline weights are the same for every pixel of a window (the oversampling is an
//   integer), so a pixel costs 4 × 4 × 4 (2D: 4 × 4) multiply–adds for mu, twice that with the
//   Jacobian.
// Model of psf::Model (psf.hpp); Tabulated<T, false> is the 2D variant (one plane, z ignored).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>
#include <smlm/psf/detail/window_render.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf {

/// A PSF table as measured or computed (see the header for what a sample means).
struct PsfTable {
  std::vector<double> values;  ///< planes × height × width, plane-major, each plane row-major
  std::ptrdiff_t planes = 0;
  std::ptrdiff_t height = 0;
  std::ptrdiff_t width = 0;
  int oversampling = 1;     ///< table samples per camera pixel, in x and in y (≥ 1)
  double z_first_nm = 0;    ///< axial position of plane 0, nm
  double z_step_nm = 0;     ///< spacing of the planes, nm (> 0 when planes > 1)
};

namespace detail {

/// In-place cubic B-spline coefficients of n samples `stride` apart with zero coefficients
/// beyond both ends: solves (c(k−1) + 4 c(k) + c(k+1))/6 = s(k), c(−1) = c(n) = 0 (Thomas
/// algorithm; the matrix is strictly diagonally dominant, so no pivoting is needed). `scratch`
/// holds n values.
inline void bspline_solve_zero_ends(double* s, std::ptrdiff_t n, std::ptrdiff_t stride,
                                    double* scratch) noexcept {
  if (n < 1) return;
  const auto at = [&](std::ptrdiff_t k) -> double& { return s[k * stride]; };
  scratch[0] = 0.25;
  at(0) = 6.0 * at(0) * 0.25;
  for (std::ptrdiff_t k = 1; k < n; ++k) {
    const double m = 1.0 / (4.0 - scratch[k - 1]);
    scratch[k] = m;
    at(k) = (6.0 * at(k) - at(k - 1)) * m;
  }
  for (std::ptrdiff_t k = n - 2; k >= 0; --k) at(k) -= scratch[k] * at(k + 1);
}

/// Cubic B-spline weights of the taps floor − 1 … floor + 2 at fractional position f ∈ [0, 1),
/// and their derivatives with respect to the position.
template <class T>
struct bspline_weights {
  T w[4], dw[4];
  explicit bspline_weights(T f) noexcept {
    const T g = T(1) - f, f2 = f * f;
    w[0] = g * g * g / T(6);
    w[1] = (T(3) * f2 * f - T(6) * f2 + T(4)) / T(6);
    w[2] = (T(-3) * f2 * f + T(3) * f2 + T(3) * f + T(1)) / T(6);
    w[3] = f2 * f / T(6);
    dw[0] = T(-0.5) * g * g;
    dw[1] = T(1.5) * f2 - T(2) * f;
    dw[2] = T(-1.5) * f2 + f + T(0.5);
    dw[3] = T(0.5) * f2;
  }
};

/// In-place coefficients of the natural cubic spline through n ≥ 1 samples `stride` apart: the
/// ends are interpolated with ghost coefficients c(−1) = 2 c(0) − c(1), c(n) = 2 c(n−1) − c(n−2)
/// (zero second derivative at both ends), which gives c(0) = s(0), c(n−1) = s(n−1) and the
/// interior from the zero-end solve. `scratch` holds n values.
inline void bspline_solve_natural(double* s, std::ptrdiff_t n, std::ptrdiff_t stride,
                                  double* scratch) noexcept {
  if (n < 3) return;
  s[stride] -= s[0] / 6.0;
  s[(n - 2) * stride] -= s[(n - 1) * stride] / 6.0;
  bspline_solve_zero_ends(s + stride, n - 2, stride, scratch);
}

/// The four z taps floor(t) − 1 … floor(t) + 2 of a natural spline over n ≥ 2 planes folded onto
/// real planes (a ghost tap −1 or n is 2 c(edge) − c(neighbour)): at most four planes with their
/// value and derivative weights.
template <class T>
struct folded_taps {
  std::ptrdiff_t plane[4] = {0, 0, 0, 0};
  T w[4] = {0, 0, 0, 0}, dw[4] = {0, 0, 0, 0};
  int count = 0;

  /// One plane with weight 1 (a 2D table).
  folded_taps() noexcept : w{T(1), T(0), T(0), T(0)}, count(1) {}
  folded_taps(std::ptrdiff_t first, const T* weights, const T* dweights, std::ptrdiff_t n) noexcept {
    for (int i = 0; i < 4; ++i) {
      const std::ptrdiff_t k = first + i;
      if (k < 0) {
        add(0, T(2) * weights[i], T(2) * dweights[i]);
        add(1, -weights[i], -dweights[i]);
      } else if (k >= n) {
        add(n - 1, T(2) * weights[i], T(2) * dweights[i]);
        add(n - 2, -weights[i], -dweights[i]);
      } else {
        add(k, weights[i], dweights[i]);
      }
    }
  }

 private:
  void add(std::ptrdiff_t k, T a, T da) noexcept {
    for (int i = 0; i < count; ++i) {
      if (plane[i] == k) {
        w[i] += a;
        dw[i] += da;
        return;
      }
    }
    plane[count] = k;
    w[count] = a;
    dw[count] = da;
    ++count;
  }
};

}  // namespace detail

template <std::floating_point T = double, bool HasZ = true>
class Tabulated {
 public:
  using scalar = T;
  static constexpr bool has_z = HasZ;
  static constexpr int num_params = HasZ ? 5 : 4;
  /// Validates and normalises `table` and computes the spline coefficients. Errors name the field
  /// and the value: sizes that are zero or do not match values.size(), a non-finite or negative
  /// sample (by plane, row and column), a plane that sums to zero, oversampling < 1, a z step
  /// that is not positive, a 2D model given several planes or a 3D model fewer than two.
  static Expected<Tabulated> from_table(const PsfTable& table) {
    const char* who = HasZ ? "psf::Tabulated: " : "psf::Tabulated (2D): ";
    if (table.planes <= 0 || table.height <= 0 || table.width <= 0)
      return make_error(errc::invalid_argument, who, "table size planes × height × width = ",
                        table.planes, " × ", table.height, " × ", table.width, " is empty");
    if (static_cast<double>(table.planes) * double(table.height) * double(table.width) !=
        static_cast<double>(table.values.size()))
      return make_error(errc::invalid_argument, who, "values has ", table.values.size(),
                        " elements but planes × height × width = ", table.planes, " × ",
                        table.height, " × ", table.width, " = ",
                        table.planes * table.height * table.width);
    if (table.oversampling < 1 || table.oversampling > 1024)
      return make_error(errc::invalid_argument, who, "oversampling ", table.oversampling,
                        " must be between 1 and 1024");
    if constexpr (HasZ) {
      if (table.planes < 2)
        return make_error(errc::invalid_argument, who, "planes ", table.planes,
                          ": a 3D table needs at least 2 planes (Tabulated<T, false> is the 2D model)");
      if (!(table.z_step_nm > 0) || !std::isfinite(table.z_step_nm))
        return make_error(errc::invalid_argument, who, "z_step_nm ", table.z_step_nm,
                          " must be a positive number");
      if (!std::isfinite(table.z_first_nm))
        return make_error(errc::invalid_argument, who, "z_first_nm ", table.z_first_nm,
                          " is not finite");
    } else {
      if (table.planes != 1)
        return make_error(errc::invalid_argument, who, "planes ", table.planes,
                          ": the 2D model takes exactly one plane (Tabulated<T, true> is 3D)");
    }
    const std::ptrdiff_t plane_size = table.height * table.width;
    for (std::ptrdiff_t k = 0; k < table.planes; ++k) {
      double sum = 0;
      for (std::ptrdiff_t n = 0; n < plane_size; ++n) {
        const double v = table.values[static_cast<std::size_t>(k * plane_size + n)];
        if (!std::isfinite(v) || v < 0)
          return make_error(errc::invalid_argument, who, "value at plane ", k, ", row ",
                            n / table.width, ", column ", n % table.width, " is ", v,
                            std::isfinite(v) ? " (negative: subtract the background and clip first)"
                                             : " (not finite)");
        sum += v;
      }
      if (!(sum > 0))
        return make_error(errc::invalid_argument, who, "plane ", k,
                          " sums to 0: it cannot be normalised");
    }
    return Tabulated(table);
  }

  std::ptrdiff_t planes() const noexcept { return planes_; }
  std::ptrdiff_t height() const noexcept { return height_; }
  std::ptrdiff_t width() const noexcept { return width_; }
  int oversampling() const noexcept { return oversampling_; }
  T z_first_nm() const noexcept { return T(z_first_nm_); }
  T z_last_nm() const noexcept { return T(z_first_nm_ + z_step_nm_ * double(planes_ - 1)); }
  T z_step_nm() const noexcept { return T(z_step_nm_); }

  /// The half-width beyond which h is exactly zero; NaN for a z outside the table's range.
  T support_radius_px(const Spot<T>& s) const noexcept {
    if constexpr (HasZ) {
      if (!(s.z_nm >= z_first_nm() && s.z_nm <= z_last_nm()))
        return std::numeric_limits<T>::quiet_NaN();
    }
    return radius_px_;
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

  /// The interpolant s at a table offset (u, v pixels from the emitter, z nm), before clipping
  /// at zero: equals the normalised table sample at every sample position (for tests and users
  /// who want to inspect the interpolation).
  T interpolant(T u_px, T v_px, T z_nm) const noexcept {
    Spot<T> s{T(0.5) - u_px, T(0.5) - v_px, z_nm, T(1), T(0)};
    T value = 0;
    raw_at(s, 0, 0, value);
    return value;
  }

 private:
  explicit Tabulated(const PsfTable& t)
      : planes_(t.planes),
        height_(t.height),
        width_(t.width),
        oversampling_(t.oversampling),
        z_first_nm_(HasZ ? t.z_first_nm : 0.0),
        z_step_nm_(HasZ ? t.z_step_nm : 1.0) {
    const std::ptrdiff_t plane = height_ * width_;
    std::vector<double> c(t.values.begin(), t.values.end());
    std::vector<double> scratch(static_cast<std::size_t>(std::max(height_, width_)));
    const double target = double(oversampling_) * double(oversampling_);
    for (std::ptrdiff_t k = 0; k < planes_; ++k) {
      double* p = c.data() + k * plane;
      for (std::ptrdiff_t a = 0; a < height_; ++a)
        detail::bspline_solve_zero_ends(p + a * width_, width_, 1, scratch.data());
      for (std::ptrdiff_t b = 0; b < width_; ++b)
        detail::bspline_solve_zero_ends(p + b, height_, width_, scratch.data());
      double integral = 0;
      for (std::ptrdiff_t n = 0; n < plane; ++n) integral += p[n];
      const double scale = target / integral;
      for (std::ptrdiff_t n = 0; n < plane; ++n) p[n] *= scale;
    }
    if (planes_ > 1) {
      std::vector<double> zscratch(static_cast<std::size_t>(planes_));
      for (std::ptrdiff_t n = 0; n < plane; ++n)
        detail::bspline_solve_natural(c.data() + n, planes_, plane, zscratch.data());
    }
    coefficients_.assign(c.begin(), c.end());
    const double half = double(std::max(width_, height_) - 1) / 2;
    radius_px_ = T((half + 2) / double(oversampling_));
  }

  /// Spline coordinates of a spot: the continuous coefficient index of the pixel centre of frame
  /// pixel (0, 0) in x (q0) and y (r0), and the plane coordinate t. Each pixel's index is
  /// j · oversampling + q0, so the weights are shared by the whole window and no pixel's value
  /// depends on the window's origin.
  struct coordinates {
    std::ptrdiff_t bx, by, kz;  // floor of q0, r0, t
    T fx, fy, fz;               // fractional parts
  };

  /// false when the spot is not finite or z is outside the table (mu is then NaN), or the spot is
  /// so far from any addressable pixel that h is zero everywhere (then `far` is set).
  bool locate(const Spot<T>& s, coordinates& c, bool& far) const noexcept {
    far = false;
    if (!(std::isfinite(s.x_px) && std::isfinite(s.y_px))) return false;
    T t = 0;
    if constexpr (HasZ) {
      if (!(s.z_nm >= z_first_nm() && s.z_nm <= z_last_nm())) return false;
      t = T((double(s.z_nm) - z_first_nm_) / z_step_nm_);
    }
    constexpr T limit = T(1099511627776.0);  // 2^40 pixels
    if (!(std::abs(s.x_px) <= limit && std::abs(s.y_px) <= limit)) {
      far = true;
      return true;
    }
    const T m = T(oversampling_);
    const T q0 = (T(0.5) - s.x_px) * m + T(double(width_ - 1) / 2);
    const T r0 = (T(0.5) - s.y_px) * m + T(double(height_ - 1) / 2);
    const T fq = std::floor(q0), fr = std::floor(r0);
    T ft = std::floor(t);
    if (HasZ && ft > T(planes_ - 2)) ft = T(planes_ - 2);  // z at the last plane: its interval's end
    c.bx = static_cast<std::ptrdiff_t>(fq);
    c.by = static_cast<std::ptrdiff_t>(fr);
    c.kz = static_cast<std::ptrdiff_t>(ft);
    c.fx = q0 - fq;
    c.fy = r0 - fr;
    c.fz = t - ft;
    return true;
  }

  /// The spline value at frame pixel (i, j) (no clipping), for interpolant().
  void raw_at(const Spot<T>& s, std::ptrdiff_t i, std::ptrdiff_t j, T& value) const noexcept {
    coordinates c{};
    bool far = false;
    if (!locate(s, c, far)) {
      value = std::numeric_limits<T>::quiet_NaN();
      return;
    }
    value = 0;
    if (far) return;
    const detail::bspline_weights<T> wx(c.fx), wy(c.fy);
    const detail::folded_taps<T> zt = z_taps(c);
    const std::ptrdiff_t m = oversampling_;
    const std::ptrdiff_t b0 = j * m + c.bx - 1, a0 = i * m + c.by - 1;
    for (int kz = 0; kz < zt.count; ++kz) {
      const std::ptrdiff_t k = zt.plane[kz];
      const T wzk = zt.w[kz];
      for (int ky = 0; ky < 4; ++ky) {
        const std::ptrdiff_t a = a0 + ky;
        if (a < 0 || a >= height_) continue;
        for (int kx = 0; kx < 4; ++kx) {
          const std::ptrdiff_t b = b0 + kx;
          if (b < 0 || b >= width_) continue;
          value += wzk * wy.w[ky] * wx.w[kx] * coef(k, a, b);
        }
      }
    }
  }

  /// The z taps of a located spot (a 2D table: its one plane with weight 1).
  detail::folded_taps<T> z_taps(const coordinates& c) const noexcept {
    if constexpr (HasZ) {
      const detail::bspline_weights<T> wz(c.fz);
      return detail::folded_taps<T>(c.kz - 1, wz.w, wz.dw, planes_);
    } else {
      (void)c;
      return detail::folded_taps<T>();
    }
  }

  T coef(std::ptrdiff_t k, std::ptrdiff_t a, std::ptrdiff_t b) const noexcept {
    return coefficients_[static_cast<std::size_t>((k * height_ + a) * width_ + b)];
  }

  /// mu over window w into out (rows `stride` apart): Accumulate adds photons · h (add_to),
  /// otherwise writes background + photons · h and, with Derivatives, the Jacobian planes.
  template <bool Accumulate, bool Derivatives>
  void render(const Spot<T>& s, Window w, T* out, std::ptrdiff_t stride,
              const JacobianView<T>* jacobian) const noexcept {
    constexpr int iz = HasZ ? 2 : -1, ip = HasZ ? 3 : 2, ib = HasZ ? 4 : 3;
    T* planes[5] = {};
    std::ptrdiff_t jstride = 0;
    if constexpr (Derivatives) {
      for (int k = 0; k < num_params; ++k) planes[k] = jacobian->plane(k).data();
      jstride = jacobian->width();
    }
    coordinates c{};
    bool far = false;
    const bool ok = locate(s, c, far);
    if (!ok || far) {
      const T v = ok ? T(0) : std::numeric_limits<T>::quiet_NaN();
      for (std::ptrdiff_t r = 0; r < w.height; ++r) {
        for (std::ptrdiff_t col = 0; col < w.width; ++col) {
          if constexpr (Accumulate) {
            out[r * stride + col] += v;
          } else {
            out[r * stride + col] = s.background + s.photons * v;
          }
          if constexpr (Derivatives) {
            for (int k = 0; k < num_params; ++k) planes[k][r * jstride + col] = v;
            planes[ib][r * jstride + col] = ok ? T(1) : v;
          }
        }
      }
      return;
    }
    const detail::bspline_weights<T> wx(c.fx), wy(c.fy);
    const detail::folded_taps<T> zt = z_taps(c);
    const int nz = zt.count;
    const T m = T(oversampling_);
    const T dt_dz = T(1) / T(z_step_nm_);
    const std::ptrdiff_t ms = oversampling_;
    for (std::ptrdiff_t r = 0; r < w.height; ++r) {
      const std::ptrdiff_t a0 = (w.y0 + r) * ms + c.by - 1;
      const bool row_inside = a0 + 3 >= 0 && a0 < height_;
      for (std::ptrdiff_t col = 0; col < w.width; ++col) {
        const std::ptrdiff_t b0 = (w.x0 + col) * ms + c.bx - 1;
        T v = 0, dv_dq = 0, dv_dr = 0, dv_dt = 0;
        if (row_inside && b0 + 3 >= 0 && b0 < width_) {
          const bool interior = a0 >= 0 && a0 + 3 < height_ && b0 >= 0 &&
                                b0 + 3 < width_;
          for (int kz = 0; kz < nz; ++kz) {
            T pz = 0, pz_dq = 0, pz_dr = 0;
            for (int ky = 0; ky < 4; ++ky) {
              const std::ptrdiff_t a = a0 + ky;
              if (!interior && (a < 0 || a >= height_)) continue;
              const T* row = coefficients_.data() + (zt.plane[kz] * height_ + a) * width_;
              T sx = 0, sdx = 0;
              for (int kx = 0; kx < 4; ++kx) {
                const std::ptrdiff_t b = b0 + kx;
                if (!interior && (b < 0 || b >= width_)) continue;
                sx += wx.w[kx] * row[b];
                if constexpr (Derivatives) sdx += wx.dw[kx] * row[b];
              }
              pz += wy.w[ky] * sx;
              if constexpr (Derivatives) {
                pz_dq += wy.w[ky] * sdx;
                pz_dr += wy.dw[ky] * sx;
              }
            }
            const T wzk = zt.w[kz];
            v += wzk * pz;
            if constexpr (Derivatives) {
              dv_dq += wzk * pz_dq;
              dv_dr += wzk * pz_dr;
              if constexpr (HasZ) dv_dt += zt.dw[kz] * pz;
            }
          }
        }
        const bool clipped = v < 0;
        const T h = clipped ? T(0) : v;
        if constexpr (Accumulate) {
          out[r * stride + col] += s.photons * h;
        } else {
          out[r * stride + col] = s.background + s.photons * h;
        }
        if constexpr (Derivatives) {
          const std::ptrdiff_t at = r * jstride + col;
          const T g = clipped ? T(0) : s.photons;
          planes[0][at] = -g * m * dv_dq;
          planes[1][at] = -g * m * dv_dr;
          if constexpr (HasZ) planes[iz][at] = g * dv_dt * dt_dz;
          planes[ip][at] = h;
          planes[ib][at] = T(1);
        }
      }
    }
  }

  std::vector<T> coefficients_;
  std::ptrdiff_t planes_ = 0, height_ = 0, width_ = 0;
  int oversampling_ = 1;
  double z_first_nm_ = 0, z_step_nm_ = 1;
  T radius_px_ = 0;
};

/// Samples any psf::Model into a PsfTable: `oversampling` samples per pixel over ±half_width_px
/// pixels of offset (width = height = 2 · half_width_px · oversampling + 1, the emitter at the
/// centre sample), `planes` planes from z_first_nm in steps of z_step_nm (a 2D model: one plane).
/// Each sample is the model's own pixel fraction h for that offset, so the table of a
/// pixel-integrated model is what Tabulated expects. Allocates; not a kernel.
template <Model P>
PsfTable tabulate(const P& model, std::ptrdiff_t half_width_px, int oversampling,
                  std::ptrdiff_t planes = 1, double z_first_nm = 0, double z_step_nm = 0) {
  using T = typename P::scalar;
  PsfTable table;
  table.planes = planes;
  table.height = table.width = 2 * half_width_px * oversampling + 1;
  table.oversampling = oversampling;
  table.z_first_nm = z_first_nm;
  table.z_step_nm = z_step_nm;
  const std::ptrdiff_t n = table.width, centre = (n - 1) / 2;
  table.values.assign(static_cast<std::size_t>(planes * n * n), 0.0);
  Image<T> mu;
  for (std::ptrdiff_t k = 0; k < planes; ++k) {
    // Samples b with the same b mod oversampling share one emitter position: pixel column j's
    // centre is then at offset (j · oversampling + b − centre)/oversampling.
    for (int py = 0; py < oversampling; ++py) {
      for (int px = 0; px < oversampling; ++px) {
        const double u = double(px - centre) / oversampling;
        const double v = double(py - centre) / oversampling;
        const Spot<T> s{T(0.5 - u), T(0.5 - v), T(z_first_nm + z_step_nm * double(k)), T(1), T(0)};
        const std::ptrdiff_t cols = (n - 1 - px) / oversampling + 1;
        const std::ptrdiff_t rows = (n - 1 - py) / oversampling + 1;
        mu.resize(rows, cols);
        model.evaluate(s, Window{0, 0, cols, rows}, make_view(mu));
        for (std::ptrdiff_t i = 0; i < rows; ++i)
          for (std::ptrdiff_t j = 0; j < cols; ++j)
            table.values[static_cast<std::size_t>((k * n + py + i * oversampling) * n + px +
                                                  j * oversampling)] = double(mu(i, j));
      }
    }
  }
  return table;
}

}  // namespace smlm::psf

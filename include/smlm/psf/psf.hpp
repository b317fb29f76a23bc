// The psf::Model concept: how a point-spread function turns one emitter into expected photon
// counts per pixel, and the derivatives a fitter and a Cramér–Rao bound need from it.
//
// Contract of every model (smlm/testing/psf_conformance.hpp checks it; the library's models pass it):
//
// Units. Spot::x_px, y_px are continuous frame coordinates in pixels; z_nm is the axial position in
//   nanometres relative to the model's nominal focus (ignored when has_z is false); photons is the
//   number of photons the emitter delivers to the detector in the frame; background is photons per
//   pixel, uniform over the window. Expected counts mu are photons per pixel.
// Coordinates (DESIGN.md). Images are row-major (y, x). Frame pixel (i, j) — row i, column j —
//   covers [j, j+1) × [i, i+1); its centre is (j + 0.5, i + 0.5). A Window names the rectangle of
//   frame pixels a buffer holds: buffer element (r, c) is frame pixel (y0 + r, x0 + c).
// Model. mu(i, j) = background + photons · h(i, j; x, y, z), where h(i, j) is the fraction of the
//   emitter's photons that pixel (i, j) receives (the PSF integrated over the pixel, or sampled at
//   its centre as an approximation of that integral — each model says which).
// What must hold.
//   * h ≥ 0 everywhere, for every window (mu ≥ background).
//   * Σ over all pixels h = 1, up to the model's stated sampling error; the mass outside the
//     square of half-width support_radius_px(spot) centred on (x, y) is at most support_tail.
//   * mu at a frame pixel does not depend on which window it is evaluated in (to rounding).
//   * The Jacobian is the exact derivative of the mu the model evaluates (closed form, or exact for
//     the interpolant a tabulated model uses), never a finite difference of something else: the
//     fitter's optimum and the CRLB then belong to the model itself.
//   * Evaluation is const (a model is an immutable value; concurrent calls are safe), noexcept
//     (SMLM_NOEXCEPT where a precondition is asserted), allocates nothing and writes only the
//     buffers it is given. A non-finite parameter yields non-finite mu — flagged, not hidden.
// Parameters, in the order of the Jacobian's planes: x_px, y_px, [z_nm,] photons, background;
//   num_params = 4 + has_z. Use param_index<P>(param::photons) instead of a literal index.
//
// Required members of a model P (scalar = float or double):
//   using scalar = T;
//   static constexpr bool has_z;          // true when mu depends on z_nm
//   static constexpr int num_params;      // 4 + has_z
//   scalar support_radius_px(const Spot<scalar>&) const;
//       half-width (pixels) of the square around (x, y) that holds all but support_tail of h
//   void evaluate(const Spot<scalar>&, Window, ImageView<scalar> mu) const;
//       mu over the window; mu is window.height × window.width
//   void evaluate(const Spot<scalar>&, Window, ImageView<scalar> mu, JacobianView<scalar>) const;
//       mu and ∂mu/∂θ, one window-sized plane per parameter in the order above
//   void add_to(const Spot<scalar>&, ImageView<scalar> frame) const;
//       frame(i, j) += photons · h(i, j) over support_window ∩ frame, nothing outside it; `frame`
//       is a whole frame (its element (0, 0) is frame pixel (0, 0)); background is NOT added
//       (the simulator adds it once per frame). What the simulator calls per emitter.
// Optional hooks (detected with `requires`):
//   SigmaModel: a public member `scalar sigma_px` and
//       void evaluate(const Spot<scalar>&, Window, ImageView<scalar> mu, JacobianView<scalar>,
//                     ImageView<scalar> d_mu_d_sigma_px) const;
//       so a fitter can treat the lateral width as one more free parameter.
//
// A generic component states its requirement as `template <psf::Model P>`, or, for a readable
// error naming the missing member, `static_assert(psf::check_model<P>());`.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include <smlm/core/config.hpp>
#include <smlm/core/emitter.hpp>
#include <smlm/core/image.hpp>

namespace smlm::psf {

/// The parameters of one emitter as the image-formation model sees them (units: see the header).
template <class T>
struct Spot {
  T x_px = 0;
  T y_px = 0;
  T z_nm = 0;
  T photons = 0;
  T background = 0;  ///< photons per pixel
};

/// The Spot of an emitter over a uniform background (photons per pixel).
template <class T, class U>
constexpr Spot<T> to_spot(const Emitter<U>& e, T background = 0) noexcept {
  return {static_cast<T>(e.x_px), static_cast<T>(e.y_px), static_cast<T>(e.z_nm),
          static_cast<T>(e.photons), background};
}

/// Parameter names, for addressing Jacobian planes (param_index) and for messages.
enum class param : int { x_px, y_px, z_nm, photons, background };

constexpr std::string_view to_string(param p) noexcept {
  switch (p) {
    case param::x_px: return "x_px";
    case param::y_px: return "y_px";
    case param::z_nm: return "z_nm";
    case param::photons: return "photons";
    case param::background: return "background";
  }
  return "unknown";
}

/// A rectangle of frame pixels, in whole pixels: columns [x0, x0 + width), rows [y0, y0 + height).
/// It may extend beyond a frame (evaluate does not care); clip() intersects it with one.
struct Window {
  std::ptrdiff_t x0 = 0;
  std::ptrdiff_t y0 = 0;
  std::ptrdiff_t width = 0;
  std::ptrdiff_t height = 0;

  constexpr std::ptrdiff_t size() const noexcept { return width * height; }
  constexpr bool empty() const noexcept { return width <= 0 || height <= 0; }
  friend constexpr bool operator==(const Window&, const Window&) = default;
};

/// The part of `w` inside a frame of frame_width × frame_height pixels (empty: width = height = 0).
constexpr Window clip(Window w, std::ptrdiff_t frame_width, std::ptrdiff_t frame_height) noexcept {
  const std::ptrdiff_t x_lo = w.x0 > 0 ? w.x0 : 0;
  const std::ptrdiff_t y_lo = w.y0 > 0 ? w.y0 : 0;
  const std::ptrdiff_t x_hi = w.x0 + w.width < frame_width ? w.x0 + w.width : frame_width;
  const std::ptrdiff_t y_hi = w.y0 + w.height < frame_height ? w.y0 + w.height : frame_height;
  if (x_hi <= x_lo || y_hi <= y_lo) return {};
  return {x_lo, y_lo, x_hi - x_lo, y_hi - y_lo};
}

/// Caller-provided storage for the Jacobian ∂mu/∂θ: num_planes dense row-major planes of
/// height × width, plane k at data + k·height·width, plane k holding the derivative with respect
/// to the model's k-th parameter (param_index). Non-owning, like ImageView.
template <class T>
class JacobianView {
 public:
  JacobianView(T* data, int num_planes, std::ptrdiff_t height, std::ptrdiff_t width) noexcept
      : data_(data), num_planes_(num_planes), height_(height), width_(width) {}
  /// Planes sized for `w`; data must hold num_planes · w.size() values.
  JacobianView(T* data, int num_planes, Window w) noexcept
      : JacobianView(data, num_planes, w.height, w.width) {}

  T* data() const noexcept { return data_; }
  int num_planes() const noexcept { return num_planes_; }
  std::ptrdiff_t height() const noexcept { return height_; }
  std::ptrdiff_t width() const noexcept { return width_; }
  std::ptrdiff_t plane_size() const noexcept { return height_ * width_; }

  ImageView<T> plane(int k) const SMLM_NOEXCEPT {
    SMLM_ASSERT(k >= 0 && k < num_planes_, "JacobianView::plane index out of range");
    return make_view(data_ + k * plane_size(), height_, width_);
  }

 private:
  T* data_;
  int num_planes_;
  std::ptrdiff_t height_, width_;
};

/// At most this fraction of a model's photons falls outside its support window.
inline constexpr double support_tail = 1e-3;

namespace detail {
template <class P>
concept declares_scalar = requires { typename P::scalar; } && std::floating_point<typename P::scalar>;
template <class P>
concept declares_has_z = requires { typename std::bool_constant<P::has_z>; } &&
                         std::same_as<std::remove_cv_t<decltype(P::has_z)>, bool>;
template <class P>
concept declares_num_params = requires { typename std::integral_constant<int, P::num_params>; };
template <class P>
concept consistent_num_params = (P::num_params == (P::has_z ? 5 : 4));
template <class P>
concept has_support_radius = requires(const P& p, const Spot<typename P::scalar>& s) {
  { p.support_radius_px(s) } -> std::convertible_to<typename P::scalar>;
};
template <class P>
concept has_evaluate =
    requires(const P& p, const Spot<typename P::scalar>& s, Window w, ImageView<typename P::scalar> mu) {
      p.evaluate(s, w, mu);
    };
template <class P>
concept has_evaluate_jacobian =
    requires(const P& p, const Spot<typename P::scalar>& s, Window w, ImageView<typename P::scalar> mu,
             JacobianView<typename P::scalar> jacobian) { p.evaluate(s, w, mu, jacobian); };
template <class P>
concept has_add_to =
    requires(const P& p, const Spot<typename P::scalar>& s, ImageView<typename P::scalar> frame) {
      p.add_to(s, frame);
    };
}  // namespace detail

/// A point-spread function model; see the contract at the top of this header.
template <class P>
concept Model = detail::declares_scalar<P> && detail::declares_has_z<P> &&
                detail::declares_num_params<P> && detail::consistent_num_params<P> &&
                detail::has_support_radius<P> && detail::has_evaluate<P> &&
                detail::has_evaluate_jacobian<P> && detail::has_add_to<P>;

/// Optional hook: the lateral width is a settable member and its derivative is available, so a
/// fitter can free it (sigma-free fitting). The fifth argument receives ∂mu/∂sigma_px.
template <class P>
concept SigmaModel =
    Model<P> && requires(P& p, const P& cp, const Spot<typename P::scalar>& s, Window w,
                         ImageView<typename P::scalar> mu, JacobianView<typename P::scalar> jacobian) {
      { cp.sigma_px } -> std::convertible_to<typename P::scalar>;
      p.sigma_px = cp.sigma_px;
      cp.evaluate(s, w, mu, jacobian, mu);
    };

/// true when P is a Model; otherwise fails to compile with a sentence naming what P lacks.
/// Use as `static_assert(psf::check_model<P>());`.
template <class P>
consteval bool check_model() {
  static_assert(detail::declares_scalar<P>,
                "psf::Model: the type must declare `using scalar = float;` (or double), the scalar "
                "it evaluates in");
  if constexpr (detail::declares_scalar<P>) {
    static_assert(detail::declares_has_z<P>,
                  "psf::Model: the type must declare `static constexpr bool has_z` (true when mu "
                  "depends on z_nm)");
    static_assert(detail::declares_num_params<P>,
                  "psf::Model: the type must declare `static constexpr int num_params` (4 + has_z)");
    if constexpr (detail::declares_has_z<P> && detail::declares_num_params<P>) {
      static_assert(detail::consistent_num_params<P>,
                    "psf::Model: num_params must be 4 + has_z (x_px, y_px, [z_nm,] photons, "
                    "background)");
    }
    static_assert(detail::has_support_radius<P>,
                  "psf::Model: missing member `scalar support_radius_px(const Spot<scalar>&) const`");
    static_assert(detail::has_evaluate<P>,
                  "psf::Model: missing member `void evaluate(const Spot<scalar>&, Window, "
                  "ImageView<scalar> mu) const`");
    static_assert(detail::has_evaluate_jacobian<P>,
                  "psf::Model: missing member `void evaluate(const Spot<scalar>&, Window, "
                  "ImageView<scalar> mu, JacobianView<scalar> jacobian) const`");
    static_assert(detail::has_add_to<P>,
                  "psf::Model: missing member `void add_to(const Spot<scalar>&, ImageView<scalar> "
                  "frame) const`");
  }
  return Model<P>;
}

/// Index of parameter p among P's Jacobian planes, or -1 when P has no such parameter (z_nm of a
/// 2D model).
template <Model P>
constexpr int param_index(param p) noexcept {
  constexpr int z = P::has_z ? 1 : 0;
  switch (p) {
    case param::x_px: return 0;
    case param::y_px: return 1;
    case param::z_nm: return P::has_z ? 2 : -1;
    case param::photons: return 2 + z;
    case param::background: return 3 + z;
  }
  return -1;
}

/// P's parameters in Jacobian-plane order.
template <Model P>
constexpr std::array<param, P::num_params> parameters() noexcept {
  if constexpr (P::has_z) {
    return {param::x_px, param::y_px, param::z_nm, param::photons, param::background};
  } else {
    return {param::x_px, param::y_px, param::photons, param::background};
  }
}

namespace detail {
/// Frame columns j whose pixel [j, j+1) meets [x − r, x + r], likewise rows; empty when x, y or r
/// is not finite or beyond ±2^40 pixels (no integer conversion of such values happens).
template <class T>
Window window_around(T x, T y, T r) noexcept {
  constexpr T limit = T(1099511627776.0);  // 2^40
  if (!(std::abs(x) <= limit && std::abs(y) <= limit && r >= 0 && r <= limit)) return {};
  const auto x_lo = static_cast<std::ptrdiff_t>(std::floor(x - r));
  const auto x_hi = static_cast<std::ptrdiff_t>(std::floor(x + r));
  const auto y_lo = static_cast<std::ptrdiff_t>(std::floor(y - r));
  const auto y_hi = static_cast<std::ptrdiff_t>(std::floor(y + r));
  return {x_lo, y_lo, x_hi - x_lo + 1, y_hi - y_lo + 1};
}
}  // namespace detail

/// The model's support window around the spot: every pixel that meets the square of half-width
/// support_radius_px(s) centred on (x_px, y_px). Empty for non-finite or absurd coordinates.
template <Model P>
Window support_window(const P& model, const Spot<typename P::scalar>& s) noexcept {
  using T = typename P::scalar;
  return detail::window_around<T>(s.x_px, s.y_px, static_cast<T>(model.support_radius_px(s)));
}

}  // namespace smlm::psf

// The psf::Model conformance suite, written once for any model (psf/psf.hpp states the contract
// it checks). The library's own models pass it (tests/psf/conformance_test.cpp); a user's model
// is checked the same way:
//
//   smlm::testing::Report r = smlm::testing::check_psf(std::vector<smlm::testing::PsfCase<MyPsf<double>>>{
//       {"default", MyPsf<double>{}, {.x_px = 10.3, .y_px = 7.8, .photons = 1000, .background = 10}}});
//   if (!r.passed()) std::fputs(r.summary().c_str(), stderr);
//
// or, with a float model and its double twin (same cases, in the same order), check_psf(floats,
// doubles), which adds the float-against-double comparison. Every check's name starts with one of
// psf_checks (below), then the scalar type in angle brackets and the case name in square ones.
//
// Tolerances (ε = machine epsilon of the model's scalar):
// * sums: a window reaching 3 support radii (≥ 12σ for the Gaussian family, tail ≤ 2 erfc(12/√2)
//   ≈ 4e-33) must sum to photons + background · npix within
//   photons · (sampling_error + 8 (width + height) ε): the model's own sampling error plus the
//   rounding of width + height telescoping differences;
// * add_to over the support window captures at least (1 − support_tail) of the photons;
// * Jacobian vs central finite differences: in double, step h = 1e-5 of the parameter's natural
//   scale (finite_difference_step); truncation ~ (h/σ)² and rounding ~ ε·mu/h stay below 1e-7 of
//   the plane's largest value even for σ = 0.3 px, so max |J − J_fd| ≤ 1e-6 · max |J_fd| holds
//   with margin yet fails for a derivative that is off by 1e-5 relative. In float, h = 1e-3 of
//   the scale and the bound 1e-2 · max |J_fd| + 4 ε max |mu| / (2h) (truncation ~ 1e-5 for
//   σ ≥ 0.3 px; the second term is the rounding of mu to float): it catches a wrong sign, factor
//   or plane order; the double twin is the fine check;
// * window-origin consistency, symmetry and add_to vs evaluate: 8 ε relative to the window's
//   largest value (the same arithmetic in a different order at most);
// * float against the double twin: 2e-5 of the largest value for mu and 1e-4 for each
//   Jacobian plane (the library's models measure ≤ 1.2e-6 and ≤ 3.2e-6: erfc/exp in float carry
//   a few ulps, the float spot's coordinates are rounded to ulp(64 px) ≈ 4e-6 px, derivative
//   differences cancel).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/psf/psf.hpp>
#include <smlm/testing/report.hpp>

namespace smlm::testing {

/// One configuration to check: a model, a spot, and what the model promises beyond the contract.
template <class P>
struct PsfCase {
  std::string name;
  P model;
  psf::Spot<typename P::scalar> spot;
  double sampling_error = 0;         ///< |Σ h − 1| the model admits (0: exact up to rounding)
  bool mirror_symmetric = true;      ///< h(x0 + d) = h(x0 − d) about the spot, in x and in y
  bool transpose_symmetric = false;  ///< h is unchanged when x and y are swapped about the spot
};

/// The checks check_psf runs, as the first word of each check's name. "symmetry" records
/// something only for a case that declares a symmetry; "double_twin" only in check_psf(floats,
/// doubles).
inline constexpr std::array<std::string_view, 8> psf_checks = {
    "non_negative", "sums_to_photons", "jacobian",  "window_origin",
    "symmetry",     "add_to_clips",    "linearity", "double_twin"};

namespace detail {

template <class T>
T& field(psf::Spot<T>& s, psf::param p) {
  switch (p) {
    case psf::param::x_px: return s.x_px;
    case psf::param::y_px: return s.y_px;
    case psf::param::z_nm: return s.z_nm;
    case psf::param::photons: return s.photons;
    case psf::param::background: return s.background;
  }
  return s.x_px;
}

// Plain loops rather than Eigen reductions: a NaN propagates into the result (and fails every
// comparison made with it), and user builds with -Werror on AVX-512 are spared GCC 12's false
// -Wmaybe-uninitialized inside the vectorised reductions.
template <class T>
double min_value(const Image<T>& a) {
  double m = std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k < a.size(); ++k)
    if (!(double(a.data()[k]) >= m)) m = double(a.data()[k]);
  return m;
}
template <class T>
double max_value(const Image<T>& a) {
  double m = -std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k < a.size(); ++k)
    if (!(double(a.data()[k]) <= m)) m = double(a.data()[k]);
  return m;
}
template <class T>
double sum(const Image<T>& a) {
  double s = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) s += double(a.data()[k]);
  return s;
}
template <class T>
bool all_finite(const Image<T>& a) {
  for (Eigen::Index k = 0; k < a.size(); ++k)
    if (!std::isfinite(a.data()[k])) return false;
  return true;
}

template <class T>
double max_abs(const Image<T>& a) {
  double m = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const double v = std::abs(double(a.data()[k]));
    if (!(v <= m)) m = v;  // NaN propagates
  }
  return m;
}
enum class flip { x, y, transpose };
/// Largest |a(r, c) − sign · a(r′, c′)| with (r′, c′) the pixel mirrored in x, in y, or transposed
/// (NaN for a transpose of a non-square image).
template <class T>
double max_flip_diff(const Image<T>& a, flip f, double sign = 1) {
  const Eigen::Index rows = a.rows(), cols = a.cols();
  if (f == flip::transpose && rows != cols) return std::numeric_limits<double>::quiet_NaN();
  double m = 0;
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < cols; ++c) {
      const T other = f == flip::x ? a(r, cols - 1 - c) : f == flip::y ? a(rows - 1 - r, c) : a(c, r);
      const double d = std::abs(double(a(r, c)) - sign * double(other));
      if (!(d <= m)) m = d;
    }
  }
  return m;
}

/// Largest |a − b|; NaN when the shapes differ or any difference is NaN, so every check on it fails.
template <class T, class U>
double max_abs_diff(const Image<T>& a, const Image<U>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return std::numeric_limits<double>::quiet_NaN();
  double m = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const double d = std::abs(double(a.data()[k]) - double(b.data()[k]));
    if (!(d <= m)) m = d;
  }
  return m;
}

template <psf::Model P>
Image<typename P::scalar> evaluate_image(const P& model, const psf::Spot<typename P::scalar>& s, psf::Window w) {
  Image<typename P::scalar> mu(w.height, w.width);
  model.evaluate(s, w, make_view(mu));
  return mu;
}

template <class T>
struct Evaluated {
  Image<T> mu;
  std::vector<Image<T>> planes;
};

template <psf::Model P>
Evaluated<typename P::scalar> evaluate_jacobian(const P& model, const psf::Spot<typename P::scalar>& s,
                                                psf::Window w) {
  using T = typename P::scalar;
  Evaluated<T> e{Image<T>(w.height, w.width), {}};
  std::vector<T> buffer(static_cast<std::size_t>(P::num_params * w.size()), std::numeric_limits<T>::quiet_NaN());
  psf::JacobianView<T> jacobian(buffer.data(), P::num_params, w);
  model.evaluate(s, w, make_view(e.mu), jacobian);
  for (int k = 0; k < P::num_params; ++k) e.planes.emplace_back(jacobian.plane(k));
  return e;
}

/// `w` grown by `margin` pixels on every side.
inline psf::Window grow(psf::Window w, std::ptrdiff_t margin) {
  return {w.x0 - margin, w.y0 - margin, w.width + 2 * margin, w.height + 2 * margin};
}

/// A square window of half-width `half` pixels around the pixel holding (x, y).
template <class T>
psf::Window square_around(const psf::Spot<T>& s, std::ptrdiff_t half) {
  return {static_cast<std::ptrdiff_t>(std::floor(s.x_px)) - half,
          static_cast<std::ptrdiff_t>(std::floor(s.y_px)) - half, 2 * half + 1, 2 * half + 1};
}

template <class T>
double eps() {
  return std::numeric_limits<T>::epsilon();
}

template <class P>
std::string label(std::string_view check, const PsfCase<P>& c, std::string_view what = {}) {
  return check_name<typename P::scalar>(check, c.name, what);
}

inline std::string window_text(psf::Window w) {
  return std::to_string(w.width) + "x" + std::to_string(w.height) + " at (" + std::to_string(w.x0) + ", " +
         std::to_string(w.y0) + ")";
}

}  // namespace detail

/// Central-difference step: `relative` (1e-5 in double, 1e-3 in float) of the parameter's natural
/// scale. Positions use 1 px whatever their value (translation does not change the curvature); z
/// uses max(|z|, 100 nm), photons their value, background max(|b|, 1).
inline double finite_difference_step(psf::param p, double theta, double relative = 1e-5) {
  switch (p) {
    case psf::param::x_px:
    case psf::param::y_px: return relative;
    case psf::param::z_nm: return relative * std::max(std::abs(theta), 100.0);
    case psf::param::photons: return relative * std::abs(theta);
    case psf::param::background: return relative * std::max(std::abs(theta), 1.0);
  }
  return relative;
}

// ---------------------------------------------------------------------------------------------

/// h ≥ 0 and finite: in the support window, in a window far out in the tail, and with background.
template <psf::Model P>
void check_psf_non_negative(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  using detail::label;
  psf::Spot<T> s = c.spot;
  s.background = 0;
  const psf::Window near = detail::grow(psf::support_window(c.model, s), 3);
  const auto mu = detail::evaluate_image(c.model, s, near);
  r.expect(label("non_negative", c, "finite near the spot"), detail::all_finite(mu));
  r.expect_ge(label("non_negative", c, "min mu near the spot"), detail::min_value(mu), 0.0);
  r.expect(label("non_negative", c, "some mu > 0 near the spot"), detail::max_value(mu) > 0);

  const auto radius = static_cast<std::ptrdiff_t>(std::ceil(c.model.support_radius_px(s)));
  const psf::Window far{near.x0 + 5 * radius, near.y0 - 3 * radius, near.width, near.height};
  const auto tail = detail::evaluate_image(c.model, s, far);
  r.expect(label("non_negative", c, "finite in the tail"), detail::all_finite(tail));
  r.expect_ge(label("non_negative", c, "min mu in the tail"), detail::min_value(tail), 0.0);

  const auto with_bg = detail::evaluate_image(c.model, c.spot, near);
  r.expect_ge(label("non_negative", c, "min mu with background"), detail::min_value(with_bg),
              double(c.spot.background));
}

/// Σ mu = photons + background · npix over a window of 3 support radii, and add_to's support
/// window keeps all but support_tail of the photons.
template <psf::Model P>
void check_psf_sums_to_photons(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  using detail::label;
  const T radius = c.model.support_radius_px(c.spot);
  const psf::Window w = psf::detail::window_around(c.spot.x_px, c.spot.y_px, T(3) * radius);
  const auto mu = detail::evaluate_image(c.model, c.spot, w);
  const double n = c.spot.photons;
  const double expected = n + double(c.spot.background) * double(w.size());
  const double rounding = 8.0 * double(w.width + w.height) * detail::eps<T>();
  r.expect_le(label("sums_to_photons", c, "|sum - expected| over " + detail::window_text(w)),
              std::abs(detail::sum(mu) - expected), n * (c.sampling_error + rounding));

  const psf::Window support = psf::support_window(c.model, c.spot);
  if (!r.expect(label("sums_to_photons", c, "support window inside the frame (choose the spot further in)"),
                support.x0 >= 0 && support.y0 >= 0))
    return;
  Image<T> frame = Image<T>::Zero(support.y0 + support.height + 2, support.x0 + support.width + 2);
  c.model.add_to(c.spot, make_view(frame));
  const double rendered = detail::sum(frame);
  r.expect_ge(label("sums_to_photons", c, "add_to photons"), rendered,
              n * (1 - psf::support_tail - c.sampling_error));
  r.expect_le(label("sums_to_photons", c, "add_to photons"), rendered, n * (1 + c.sampling_error + rounding));
}

/// Every Jacobian plane (and the SigmaModel hook's plane) against central finite differences.
template <psf::Model P>
void check_psf_jacobian(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  using detail::label;
  using detail::max_abs;
  using detail::max_abs_diff;
  constexpr bool fine = sizeof(T) >= sizeof(double);
  const double relative_step = fine ? 1e-5 : 1e-3, bound = fine ? 1e-6 : 1e-2;
  const psf::Window w = detail::grow(psf::support_window(c.model, c.spot), 2);
  const auto e = detail::evaluate_jacobian(c.model, c.spot, w);
  // What rounding mu to T does to a central difference over `step` (negligible in double).
  const auto rounding = [&](double step) { return fine ? 0.0 : 4 * detail::eps<T>() * max_abs(e.mu) / step; };
  r.expect_le(label("jacobian", c, "mu of both evaluate overloads"),
              max_abs_diff(e.mu, detail::evaluate_image(c.model, c.spot, w)), 8 * detail::eps<T>() * max_abs(e.mu));

  for (const psf::param p : psf::parameters<P>()) {
    const int k = psf::param_index<P>(p);
    psf::Spot<T> plus = c.spot, minus = c.spot;
    const double theta = detail::field(plus, p);
    const double h = finite_difference_step(p, theta, relative_step);
    detail::field(plus, p) += T(h);
    detail::field(minus, p) -= T(h);
    const double step = double(detail::field(plus, p)) - double(detail::field(minus, p));
    const Image<T> fd =
        (detail::evaluate_image(c.model, plus, w) - detail::evaluate_image(c.model, minus, w)) / T(step);
    const std::string what = std::string(psf::to_string(p)) + " (plane " + std::to_string(k) + ")";
    const double largest = max_abs(fd);
    r.expect(label("jacobian", c, what + ": finite differences not all zero"), largest > 0);
    r.expect_le(label("jacobian", c, what + ": max |J - J_fd|"),
                max_abs_diff(e.planes[static_cast<std::size_t>(k)], fd), bound * largest + rounding(step));
  }

  if constexpr (psf::SigmaModel<P>) {
    Image<T> mu(w.height, w.width), d_sigma(w.height, w.width);
    std::vector<T> buffer(static_cast<std::size_t>(P::num_params * w.size()));
    c.model.evaluate(c.spot, w, make_view(mu), psf::JacobianView<T>(buffer.data(), P::num_params, w),
                     make_view(d_sigma));
    r.expect_le(label("jacobian", c, "SigmaModel hook: mu"), max_abs_diff(mu, e.mu),
                8 * detail::eps<T>() * max_abs(e.mu));
    for (int k = 0; k < P::num_params; ++k) {
      const Image<T> plane = make_view(buffer.data() + k * w.size(), w.height, w.width);
      r.expect_le(label("jacobian", c, "SigmaModel hook: plane " + std::to_string(k) + " as without the hook"),
                  max_abs_diff(plane, e.planes[static_cast<std::size_t>(k)]), 0.0);
    }
    P plus = c.model, minus = c.model;
    const double h = relative_step * std::max(double(c.model.sigma_px), 1.0);
    plus.sigma_px += T(h);
    minus.sigma_px -= T(h);
    const double step = double(plus.sigma_px) - double(minus.sigma_px);
    const Image<T> fd =
        (detail::evaluate_image(plus, c.spot, w) - detail::evaluate_image(minus, c.spot, w)) / T(step);
    r.expect(label("jacobian", c, "sigma_px: finite differences not all zero"), max_abs(fd) > 0);
    r.expect_le(label("jacobian", c, "sigma_px: max |J - J_fd|"), max_abs_diff(d_sigma, fd),
                bound * max_abs(fd) + rounding(step));
  }
}

/// mu and the Jacobian at a frame pixel do not depend on the window they are evaluated in;
/// cases with wide supports (more than 32 px) cover the kernels' blocks.
template <psf::Model P>
void check_psf_window_origin(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  using detail::max_abs;
  using detail::max_abs_diff;
  const psf::Window big = detail::grow(psf::support_window(c.model, c.spot), 4);
  const auto whole = detail::evaluate_jacobian(c.model, c.spot, big);
  const double tol = 8 * detail::eps<T>() * max_abs(whole.mu);
  const psf::Window subs[] = {
      {big.x0 + 3, big.y0 + 2, big.width - 5, big.height - 4},
      {big.x0 + big.width / 2, big.y0 + 1, big.width - big.width / 2, 3},
      {big.x0 + 1, big.y0 + big.height - 1, 1, 1},
  };
  for (const psf::Window& sub : subs) {
    const std::string where = "sub-window " + detail::window_text(sub) + " of " + detail::window_text(big);
    const auto part = detail::evaluate_jacobian(c.model, c.spot, sub);
    const auto block = [&](const Image<T>& full) {
      return Image<T>(full.block(sub.y0 - big.y0, sub.x0 - big.x0, sub.height, sub.width));
    };
    r.expect_le(detail::label("window_origin", c, where + ": mu (with Jacobian)"), max_abs_diff(part.mu, block(whole.mu)),
                tol);
    r.expect_le(detail::label("window_origin", c, where + ": mu"),
                max_abs_diff(detail::evaluate_image(c.model, c.spot, sub), block(whole.mu)), tol);
    for (std::size_t k = 0; k < part.planes.size(); ++k)
      r.expect_le(detail::label("window_origin", c, where + ": plane " + std::to_string(k)),
                  max_abs_diff(part.planes[k], block(whole.planes[k])), 8 * detail::eps<T>() * max_abs(whole.planes[k]));
  }
}

/// An emitter at a pixel centre (odd window) and at a pixel corner (even window): mirror symmetric
/// in x and y, ∂mu/∂x odd in x, and transpose symmetric where the case says so.
template <psf::Model P>
void check_psf_symmetry(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  using detail::max_abs;
  using detail::max_abs_diff;
  if (!c.mirror_symmetric && !c.transpose_symmetric) return;
  const auto half = static_cast<std::ptrdiff_t>(std::ceil(c.model.support_radius_px(c.spot))) + 1;
  for (const T offset : {T(0.5), T(0)}) {
    psf::Spot<T> s = c.spot;
    s.x_px = std::floor(s.x_px) + offset;
    s.y_px = std::floor(s.y_px) + offset;
    psf::Window w = detail::square_around(s, half);
    if (offset == 0) w = {w.x0, w.y0, w.width - 1, w.height - 1};  // corner at the window's centre
    const std::string where = offset == 0 ? "emitter at a pixel corner" : "emitter at a pixel centre";
    const auto e = detail::evaluate_jacobian(c.model, s, w);
    const Image<T>& mu = e.mu;
    const double tol = 8 * detail::eps<T>() * max_abs(mu);
    if (c.mirror_symmetric) {
      r.expect_le(detail::label("symmetry", c, where + ": mirror in x"), detail::max_flip_diff(mu, detail::flip::x), tol);
      r.expect_le(detail::label("symmetry", c, where + ": mirror in y"), detail::max_flip_diff(mu, detail::flip::y), tol);
      const Image<T>& dx = e.planes[static_cast<std::size_t>(psf::param_index<P>(psf::param::x_px))];
      r.expect_le(detail::label("symmetry", c, where + ": d mu/dx odd in x"),
                  detail::max_flip_diff(dx, detail::flip::x, -1), 8 * detail::eps<T>() * max_abs(dx));
      r.expect(detail::label("symmetry", c, where + ": d mu/dx not all zero"), max_abs(dx) > 0);
    }
    if (c.transpose_symmetric)
      r.expect_le(detail::label("symmetry", c, where + ": transpose"), detail::max_flip_diff(mu, detail::flip::transpose),
                  tol);
  }
}

/// add_to adds photons · h over the support window clipped to the frame, exactly what evaluate
/// gives there, and writes nothing outside the frame: the frame lives inside a larger buffer whose
/// guard band must keep its sentinel.
template <psf::Model P>
void check_psf_add_to_clips(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  constexpr std::ptrdiff_t width = 23, height = 17, guard = 6;
  const T sentinel = T(-12345.5);
  const T radius = c.model.support_radius_px(c.spot);
  const T positions[][2] = {
      {T(0.4), T(0.7)},                              // top-left corner
      {T(width) - T(0.2), T(height) / 2},            // right edge
      {T(width) / 2 + T(0.3), T(height) - T(0.01)},  // bottom edge
      {T(-0.6) * radius, T(5.3)},                    // centre left of the frame, tail inside
      {T(width) / 2, -radius - T(0.5)},              // just beyond the support: nothing inside
      {T(1e3), T(1e3)},                              // far outside
      {T(1e30), T(-1e30)},                           // absurd
      {std::numeric_limits<T>::quiet_NaN(), T(3)},
      {T(4), std::numeric_limits<T>::infinity()},
  };
  for (const auto& xy : positions) {
    psf::Spot<T> s = c.spot;
    s.x_px = xy[0];
    s.y_px = xy[1];
    const std::string where = "emitter at (" + std::to_string(double(s.x_px)) + ", " + std::to_string(double(s.y_px)) + ")";
    Image<T> buffer = Image<T>::Constant(height + 2 * guard, width + 2 * guard, sentinel);
    auto frame = make_view(buffer.data() + guard * buffer.cols() + guard, height, width, buffer.cols());
    frame.setZero();
    c.model.add_to(s, frame);
    c.model.add_to(s, frame);  // additive: twice the single contribution

    const Image<T> inside = frame;
    buffer.block(guard, guard, height, width).setConstant(sentinel);
    r.expect(detail::label("add_to_clips", c, where + ": nothing written outside the frame"), (buffer == sentinel).all());

    Image<T> expected = Image<T>::Zero(height, width);
    const psf::Window w = psf::clip(psf::support_window(c.model, s), width, height);
    if (!w.empty()) {
      psf::Spot<T> no_bg = s;
      no_bg.background = 0;
      expected.block(w.y0, w.x0, w.height, w.width) = T(2) * detail::evaluate_image(c.model, no_bg, w);
    }
    r.expect(detail::label("add_to_clips", c, where + ": finite"), detail::all_finite(inside));
    r.expect_le(detail::label("add_to_clips", c, where + ": twice add_to vs 2 evaluate on the clipped support"),
                detail::max_abs_diff(inside, expected), 8 * detail::eps<T>() * std::max(detail::max_abs(expected), 1.0));
  }
}

/// mu is affine in photons and background, and a model without z ignores z_nm.
template <psf::Model P>
void check_psf_linearity(const PsfCase<P>& c, Report& r) {
  using T = typename P::scalar;
  const psf::Window w = psf::support_window(c.model, c.spot);
  psf::Spot<T> base = c.spot, doubled = c.spot;
  base.background = 0;
  doubled.background = T(7.25);
  doubled.photons = T(2) * c.spot.photons;
  const auto mu1 = detail::evaluate_image(c.model, base, w);
  const auto mu2 = detail::evaluate_image(c.model, doubled, w);
  r.expect_le(detail::label("linearity", c, "mu(2 N, b) - b vs 2 mu(N, 0)"),
              detail::max_abs_diff(Image<T>(mu2 - T(7.25)), Image<T>(T(2) * mu1)),
              16 * detail::eps<T>() * detail::max_abs(mu2));
  if constexpr (!P::has_z) {
    psf::Spot<T> moved = base;
    moved.z_nm = T(500);
    r.expect_le(detail::label("linearity", c, "a 2D model ignores z_nm"),
                detail::max_abs_diff(detail::evaluate_image(c.model, moved, w), mu1), 0.0);
  }
}

/// A float model against its double twin: mu and every Jacobian plane.
template <psf::Model P, psf::Model D>
void check_psf_double_twin(const PsfCase<P>& c, const PsfCase<D>& twin, Report& r) {
  static_assert(P::num_params == D::num_params, "a double twin has the same parameters");
  const psf::Window w = detail::grow(psf::support_window(twin.model, twin.spot), 1);
  const auto f = detail::evaluate_jacobian(c.model, c.spot, w);
  const auto d = detail::evaluate_jacobian(twin.model, twin.spot, w);
  r.expect_le(detail::label("double_twin", c, "mu"), detail::max_abs_diff(f.mu, d.mu), 2e-5 * detail::max_abs(d.mu));
  for (std::size_t k = 0; k < d.planes.size(); ++k)
    r.expect_le(detail::label("double_twin", c, "plane " + std::to_string(k)), detail::max_abs_diff(f.planes[k], d.planes[k]),
                1e-4 * detail::max_abs(d.planes[k]));
}

/// Every check of the suite on every case.
template <psf::Model P>
Report check_psf(const std::vector<PsfCase<P>>& cases) {
  Report r;
  r.expect("cases: at least one", !cases.empty());
  for (const PsfCase<P>& c : cases) {
    check_psf_non_negative(c, r);
    check_psf_sums_to_photons(c, r);
    check_psf_jacobian(c, r);
    check_psf_window_origin(c, r);
    check_psf_symmetry(c, r);
    check_psf_add_to_clips(c, r);
    check_psf_linearity(c, r);
  }
  return r;
}

/// Every check on both scalar types, and each float case against the double case of the same index.
template <psf::Model P, psf::Model D>
  requires std::is_same_v<typename D::scalar, double>
Report check_psf(const std::vector<PsfCase<P>>& cases, const std::vector<PsfCase<D>>& twins) {
  Report r = check_psf(cases);
  r.append(check_psf(twins));
  if (r.expect("cases: as many double twins as cases", cases.size() == twins.size()))
    for (std::size_t k = 0; k < cases.size(); ++k) check_psf_double_twin(cases[k], twins[k], r);
  return r;
}

}  // namespace smlm::testing

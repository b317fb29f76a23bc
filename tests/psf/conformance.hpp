// The psf::Model conformance suite, written once for any model (psf.hpp states the contract it
// checks). conformance_test.cpp instantiates it for every model in the library; a user's own
// model can include this header and call the same checks.
//
// Tolerances (ε = machine epsilon of the model's scalar):
// * sums: a window reaching 3 support radii (≥ 12σ for the Gaussian family, tail ≤ 2 erfc(12/√2)
//   ≈ 4e-33) must sum to photons + background · npix within
//   photons · (sampling_error + 8 (width + height) ε): the model's own sampling error plus the
//   rounding of width + height telescoping differences;
// * add_to over the support window captures at least (1 − support_tail) of the photons;
// * Jacobian vs central finite differences (double only): step h = 1e-5 of the parameter's
//   natural scale (finite_difference_step); truncation ~ (h/σ)² and rounding ~ ε·mu/h stay below
//   1e-7 of the plane's largest value even for σ = 0.3 px, so max |J − J_fd| ≤ 1e-6 · max |J_fd|
//   holds with margin yet fails for a derivative that is off by 1e-5 relative;
// * window-origin consistency, symmetry and add_to vs evaluate: 8 ε relative to the window's
//   largest value (the same arithmetic in a different order at most);
// * float against the double twin: 2e-5 of the largest value for mu and 1e-4 for each
//   Jacobian plane (measured ≤ 1.2e-6 and ≤ 3.2e-6: erfc/exp in float carry a few ulps, the
//   float spot's coordinates are rounded to ulp(64 px) ≈ 4e-6 px, derivative differences cancel).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf::testing {

/// One configuration to check: a model, a spot, and what the model promises beyond the contract.
template <class P>
struct Case {
  std::string name;
  P model;
  Spot<typename P::scalar> spot;
  double sampling_error = 0;         ///< |Σ h − 1| the model admits (0: exact up to rounding)
  bool mirror_symmetric = true;      ///< h(x0 + d) = h(x0 − d) about the spot, in x and in y
  bool transpose_symmetric = false;  ///< h is unchanged when x and y are swapped about the spot
};

template <class T>
T& field(Spot<T>& s, param p) {
  switch (p) {
    case param::x_px: return s.x_px;
    case param::y_px: return s.y_px;
    case param::z_nm: return s.z_nm;
    case param::photons: return s.photons;
    case param::background: return s.background;
  }
  return s.x_px;
}

template <class T>
double max_abs(const Image<T>& a) {
  double m = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) m = std::max(m, std::abs(double(a.data()[k])));
  return m;
}
template <class T, class U>
double max_abs_diff(const Image<T>& a, const Image<U>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  double m = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const double d = std::abs(double(a.data()[k]) - double(b.data()[k]));
    if (!(d <= m)) m = d;  // a NaN difference makes m NaN, and every check on it fails
  }
  return m;
}

template <Model P>
Image<typename P::scalar> evaluate_image(const P& model, const Spot<typename P::scalar>& s,
                                         Window w) {
  Image<typename P::scalar> mu(w.height, w.width);
  model.evaluate(s, w, make_view(mu));
  return mu;
}

template <class T>
struct Evaluated {
  Image<T> mu;
  std::vector<Image<T>> planes;
};

template <Model P>
Evaluated<typename P::scalar> evaluate_jacobian(const P& model, const Spot<typename P::scalar>& s,
                                                Window w) {
  using T = typename P::scalar;
  Evaluated<T> e{Image<T>(w.height, w.width), {}};
  std::vector<T> buffer(static_cast<std::size_t>(P::num_params * w.size()),
                        std::numeric_limits<T>::quiet_NaN());
  JacobianView<T> jacobian(buffer.data(), P::num_params, w);
  model.evaluate(s, w, make_view(e.mu), jacobian);
  for (int k = 0; k < P::num_params; ++k) e.planes.emplace_back(jacobian.plane(k));
  return e;
}

/// `w` grown by `margin` pixels on every side.
inline Window grow(Window w, std::ptrdiff_t margin) {
  return {w.x0 - margin, w.y0 - margin, w.width + 2 * margin, w.height + 2 * margin};
}

/// A square window of half-width `half` pixels around the pixel holding (x, y).
template <class T>
Window square_around(const Spot<T>& s, std::ptrdiff_t half) {
  return {static_cast<std::ptrdiff_t>(std::floor(s.x_px)) - half,
          static_cast<std::ptrdiff_t>(std::floor(s.y_px)) - half, 2 * half + 1, 2 * half + 1};
}

template <class T>
double eps() {
  return std::numeric_limits<T>::epsilon();
}

// ---------------------------------------------------------------------------------------------

/// h ≥ 0 and finite: in the support window, in a window far out in the tail, and with background.
template <Model P>
void check_non_negative(const Case<P>& c) {
  using T = typename P::scalar;
  Spot<T> s = c.spot;
  s.background = 0;
  const Window near = grow(support_window(c.model, s), 3);
  const auto mu = evaluate_image(c.model, s, near);
  CHECK(mu.allFinite());
  CHECK(mu.minCoeff() >= T(0));
  CHECK(mu.maxCoeff() > T(0));

  const auto r = static_cast<std::ptrdiff_t>(std::ceil(c.model.support_radius_px(s)));
  const Window far{near.x0 + 5 * r, near.y0 - 3 * r, near.width, near.height};
  const auto tail = evaluate_image(c.model, s, far);
  CHECK(tail.allFinite());
  CHECK(tail.minCoeff() >= T(0));

  const auto with_bg = evaluate_image(c.model, c.spot, near);
  CHECK(with_bg.minCoeff() >= c.spot.background);
}

/// Σ mu = photons + background · npix over a window of 3 support radii, and add_to's support
/// window keeps all but support_tail of the photons.
template <Model P>
void check_sums_to_photons(const Case<P>& c) {
  using T = typename P::scalar;
  const T r = c.model.support_radius_px(c.spot);
  const Window w = detail::window_around(c.spot.x_px, c.spot.y_px, T(3) * r);
  const auto mu = evaluate_image(c.model, c.spot, w);
  const double n = c.spot.photons;
  const double expected = n + double(c.spot.background) * double(w.size());
  const double tolerance = n * (c.sampling_error + 8.0 * double(w.width + w.height) * eps<T>());
  INFO("window ", w.width, "x", w.height, ", sum ", mu.template cast<double>().sum(),
       ", expected ", expected);
  CHECK(std::abs(mu.template cast<double>().sum() - expected) <= tolerance);

  const Window support = support_window(c.model, c.spot);
  Image<T> frame = Image<T>::Zero(support.y0 + support.height + 2, support.x0 + support.width + 2);
  REQUIRE(support.x0 >= 0);
  REQUIRE(support.y0 >= 0);
  c.model.add_to(c.spot, make_view(frame));
  const double rendered = frame.template cast<double>().sum();
  CHECK(rendered >= n * (1 - support_tail - c.sampling_error));
  CHECK(rendered <= n * (1 + c.sampling_error + 8.0 * double(w.width + w.height) * eps<T>()));
}

/// Central-difference step: 1e-5 of the parameter's natural scale. Positions use 1 px whatever
/// their value (translation does not change the curvature); z uses max(|z|, 100 nm), photons
/// their value, background max(|b|, 1).
inline double finite_difference_step(param p, double theta) {
  switch (p) {
    case param::x_px:
    case param::y_px: return 1e-5;
    case param::z_nm: return 1e-5 * std::max(std::abs(theta), 100.0);
    case param::photons: return 1e-5 * std::abs(theta);
    case param::background: return 1e-5 * std::max(std::abs(theta), 1.0);
  }
  return 1e-5;
}

/// Every Jacobian plane (and the SigmaModel hook's plane) against central finite differences.
template <Model P>
void check_jacobian_matches_finite_differences(const Case<P>& c) {
  using T = typename P::scalar;
  static_assert(std::is_same_v<T, double>, "finite differences are checked in double");
  const Window w = grow(support_window(c.model, c.spot), 2);
  const auto e = evaluate_jacobian(c.model, c.spot, w);
  CHECK(max_abs_diff(e.mu, evaluate_image(c.model, c.spot, w)) <= 8 * eps<T>() * max_abs(e.mu));

  for (const param p : parameters<P>()) {
    const int k = param_index<P>(p);
    Spot<T> plus = c.spot, minus = c.spot;
    const double theta = field(plus, p);
    const double h = finite_difference_step(p, theta);
    field(plus, p) += T(h);
    field(minus, p) -= T(h);
    const double step = double(field(plus, p)) - double(field(minus, p));
    const Image<T> fd = (evaluate_image(c.model, plus, w) - evaluate_image(c.model, minus, w)) / step;
    INFO("parameter ", std::string(to_string(p)), " (plane ", k, "), step ", h);
    const double largest = max_abs(fd);
    CHECK(largest > 0);
    CHECK(max_abs_diff(e.planes[static_cast<std::size_t>(k)], fd) <= 1e-6 * largest);
  }

  if constexpr (SigmaModel<P>) {
    Image<T> mu(w.height, w.width), d_sigma(w.height, w.width);
    std::vector<T> buffer(static_cast<std::size_t>(P::num_params * w.size()));
    c.model.evaluate(c.spot, w, make_view(mu), JacobianView<T>(buffer.data(), P::num_params, w),
                     make_view(d_sigma));
    CHECK(max_abs_diff(mu, e.mu) <= 8 * eps<T>() * max_abs(e.mu));
    for (int k = 0; k < P::num_params; ++k) {
      const Image<T> plane = make_view(buffer.data() + k * w.size(), w.height, w.width);
      CHECK(max_abs_diff(plane, e.planes[static_cast<std::size_t>(k)]) == 0);
    }
    P plus = c.model, minus = c.model;
    const double h = 1e-5 * std::max(double(c.model.sigma_px), 1.0);
    plus.sigma_px += T(h);
    minus.sigma_px -= T(h);
    const double step = double(plus.sigma_px) - double(minus.sigma_px);
    const Image<T> fd = (evaluate_image(plus, c.spot, w) - evaluate_image(minus, c.spot, w)) / step;
    INFO("parameter sigma_px (SigmaModel hook)");
    CHECK(max_abs(fd) > 0);
    CHECK(max_abs_diff(d_sigma, fd) <= 1e-6 * max_abs(fd));
  }
}

/// mu and the Jacobian at a frame pixel do not depend on the window they are evaluated in;
/// windows wider than the kernels' blocks are included by the caller's cases.
template <Model P>
void check_window_origin_invariance(const Case<P>& c) {
  using T = typename P::scalar;
  const Window big = grow(support_window(c.model, c.spot), 4);
  const auto whole = evaluate_jacobian(c.model, c.spot, big);
  const double tol = 8 * eps<T>() * max_abs(whole.mu);
  const Window subs[] = {
      {big.x0 + 3, big.y0 + 2, big.width - 5, big.height - 4},
      {big.x0 + big.width / 2, big.y0 + 1, big.width - big.width / 2, 3},
      {big.x0 + 1, big.y0 + big.height - 1, 1, 1},
  };
  for (const Window& sub : subs) {
    INFO("sub-window at (", sub.x0 - big.x0, ", ", sub.y0 - big.y0, ") of ", sub.width, "x",
         sub.height);
    const auto part = evaluate_jacobian(c.model, c.spot, sub);
    const auto block = [&](const Image<T>& full) {
      return Image<T>(full.block(sub.y0 - big.y0, sub.x0 - big.x0, sub.height, sub.width));
    };
    CHECK(max_abs_diff(part.mu, block(whole.mu)) <= tol);
    CHECK(max_abs_diff(evaluate_image(c.model, c.spot, sub), block(whole.mu)) <= tol);
    for (std::size_t k = 0; k < part.planes.size(); ++k) {
      CHECK(max_abs_diff(part.planes[k], block(whole.planes[k])) <=
            8 * eps<T>() * max_abs(whole.planes[k]));
    }
  }
}

/// An emitter at a pixel centre (odd window) and at a pixel corner (even window): mirror symmetric
/// in x and y, ∂mu/∂x odd in x, and transpose symmetric where the model says so.
template <Model P>
void check_symmetry(const Case<P>& c) {
  using T = typename P::scalar;
  if (!c.mirror_symmetric && !c.transpose_symmetric) return;
  const auto half = static_cast<std::ptrdiff_t>(std::ceil(c.model.support_radius_px(c.spot))) + 1;
  for (const T offset : {T(0.5), T(0)}) {
    Spot<T> s = c.spot;
    s.x_px = std::floor(s.x_px) + offset;
    s.y_px = std::floor(s.y_px) + offset;
    Window w = square_around(s, half);
    if (offset == 0) w = {w.x0, w.y0, w.width - 1, w.height - 1};  // corner at the window's centre
    INFO("emitter at (", s.x_px, ", ", s.y_px, "), window ", w.width, "x", w.height);
    const auto e = evaluate_jacobian(c.model, s, w);
    const Image<T> mu = e.mu;
    const double tol = 8 * eps<T>() * max_abs(mu);
    if (c.mirror_symmetric) {
      CHECK(max_abs_diff(mu, Image<T>(mu.rowwise().reverse())) <= tol);
      CHECK(max_abs_diff(mu, Image<T>(mu.colwise().reverse())) <= tol);
      const Image<T>& dx = e.planes[static_cast<std::size_t>(param_index<P>(param::x_px))];
      CHECK(max_abs_diff(dx, Image<T>(-dx.rowwise().reverse())) <= 8 * eps<T>() * max_abs(dx));
      CHECK(max_abs(dx) > 0);
    }
    if (c.transpose_symmetric) {
      CHECK(max_abs_diff(mu, Image<T>(mu.transpose())) <= tol);
    }
  }
}

/// add_to adds photons · h over the support window clipped to the frame, exactly what evaluate
/// gives there, and writes nothing outside the frame: the frame lives inside a larger buffer whose
/// guard band must keep its sentinel.
template <Model P>
void check_add_to_clips_to_frame(const Case<P>& c) {
  using T = typename P::scalar;
  constexpr std::ptrdiff_t width = 23, height = 17, guard = 6;
  const T sentinel = T(-12345.5);
  const T r = c.model.support_radius_px(c.spot);
  const T positions[][2] = {
      {T(0.4), T(0.7)},                       // top-left corner
      {T(width) - T(0.2), T(height) / 2},     // right edge
      {T(width) / 2 + T(0.3), T(height) - T(0.01)},  // bottom edge
      {T(-0.6) * r, T(5.3)},                  // centre left of the frame, tail inside
      {T(width) / 2, -r - T(0.5)},            // just beyond the support: nothing inside
      {T(1e3), T(1e3)},                       // far outside
      {T(1e30), T(-1e30)},                    // absurd
      {std::numeric_limits<T>::quiet_NaN(), T(3)},
      {T(4), std::numeric_limits<T>::infinity()},
  };
  for (const auto& xy : positions) {
    Spot<T> s = c.spot;
    s.x_px = xy[0];
    s.y_px = xy[1];
    INFO("emitter at (", s.x_px, ", ", s.y_px, ")");
    Image<T> buffer = Image<T>::Constant(height + 2 * guard, width + 2 * guard, sentinel);
    auto frame = make_view(buffer.data() + guard * buffer.cols() + guard, height, width,
                           buffer.cols());
    frame.setZero();
    c.model.add_to(s, frame);
    c.model.add_to(s, frame);  // additive: twice the single contribution

    Image<T> inside = frame;
    buffer.block(guard, guard, height, width).setConstant(sentinel);
    CHECK((buffer == sentinel).all());

    Image<T> expected = Image<T>::Zero(height, width);
    const Window w = clip(support_window(c.model, s), width, height);
    if (!w.empty()) {
      Spot<T> no_bg = s;
      no_bg.background = 0;
      expected.block(w.y0, w.x0, w.height, w.width) = T(2) * evaluate_image(c.model, no_bg, w);
    }
    CHECK(inside.allFinite());
    CHECK(max_abs_diff(inside, expected) <= 8 * eps<T>() * std::max(max_abs(expected), 1.0));
  }
}

/// mu is affine in photons and background, and a model without z ignores z_nm.
template <Model P>
void check_linearity(const Case<P>& c) {
  using T = typename P::scalar;
  const Window w = support_window(c.model, c.spot);
  Spot<T> base = c.spot, doubled = c.spot;
  base.background = 0;
  doubled.background = T(7.25);
  doubled.photons = T(2) * c.spot.photons;
  const auto mu1 = evaluate_image(c.model, base, w);
  const auto mu2 = evaluate_image(c.model, doubled, w);
  CHECK(max_abs_diff(Image<T>(mu2 - T(7.25)), Image<T>(T(2) * mu1)) <=
        16 * eps<T>() * max_abs(mu2));
  if constexpr (!P::has_z) {
    Spot<T> moved = base;
    moved.z_nm = T(500);
    CHECK(max_abs_diff(evaluate_image(c.model, moved, w), mu1) == 0);
  }
}

/// A float model against its double twin (same case index): mu and every Jacobian plane.
template <Model P, Model D>
void check_against_double_twin(const Case<P>& c, const Case<D>& twin) {
  const Window w = grow(support_window(twin.model, twin.spot), 1);
  const auto f = evaluate_jacobian(c.model, c.spot, w);
  const auto d = evaluate_jacobian(twin.model, twin.spot, w);
  CHECK(max_abs_diff(f.mu, d.mu) <= 2e-5 * max_abs(d.mu));
  for (std::size_t k = 0; k < d.planes.size(); ++k) {
    INFO("plane ", k);
    CHECK(max_abs_diff(f.planes[k], d.planes[k]) <= 1e-4 * max_abs(d.planes[k]));
  }
}

}  // namespace smlm::psf::testing

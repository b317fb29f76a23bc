// astigmatic_gaussian.hpp: the defocus curve of Huang et al. (2008) and the elliptical spot. The
// contract checks (including ∂mu/∂z against finite differences) are in conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>

#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace psf = smlm::psf;
using psf::Spot;
using psf::Window;
using smlm::Image;

namespace {

long double pixel_fraction(long double k, long double c, long double sigma) {
  const long double a = (k - c) / (std::sqrt(2.0L) * sigma);
  const long double b = (k + 1 - c) / (std::sqrt(2.0L) * sigma);
  return 0.5L * (std::erf(b) - std::erf(a));
}

}  // namespace

TEST_CASE_TEMPLATE("the defocus curve follows Huang et al. 2008", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  const psf::DefocusCurve<T> curve{.sigma0_px = T(1.3), .focus_nm = T(-120), .depth_nm = T(380),
                                   .a = T(0.3), .b = T(0.12)};
  CHECK(curve.sigma_px(T(-120)) == doctest::Approx(1.3).epsilon(tol));  // in focus: σ0
  CHECK(curve.dsigma_px_dz_nm(T(-120)) == T(0));                         // and at its minimum
  for (const double z : {-900.0, -500.0, -120.0, 0.0, 260.0, 700.0}) {
    INFO("z ", z);
    const long double u = (z - (long double)curve.focus_nm) / (long double)curve.depth_nm;
    const long double q = 1 + u * u + (long double)curve.a * u * u * u +
                          (long double)curve.b * u * u * u * u;
    CHECK(curve.sigma_px(T(z)) ==
          doctest::Approx(double((long double)curve.sigma0_px * std::sqrt(q))).epsilon(tol));
    const double h = 1e-3;  // nm; the curve varies on the scale of d = 380 nm
    const double slope = (double(psf::DefocusCurve<double>{1.3, -120, 380, 0.3, 0.12}.sigma_px(z + h)) -
                          double(psf::DefocusCurve<double>{1.3, -120, 380, 0.3, 0.12}.sigma_px(z - h))) /
                         (2 * h);
    CHECK(curve.dsigma_px_dz_nm(T(z)) == doctest::Approx(slope).epsilon(std::is_same_v<T, float> ? 1e-5 : 1e-8));
  }
  // without higher-order terms, one focal depth away the width is σ0·√2
  const psf::DefocusCurve<T> plain{.sigma0_px = T(1), .focus_nm = T(50), .depth_nm = T(400)};
  CHECK(plain.sigma_px(T(450)) == doctest::Approx(std::sqrt(2.0)).epsilon(tol));
  CHECK(plain.sigma_px(T(-350)) == doctest::Approx(std::sqrt(2.0)).epsilon(tol));
}

TEST_CASE_TEMPLATE("each axis has width σ0 at its own focus", T, float, double) {
  const psf::AstigmaticGaussian<T> model{
      .x_curve = {.sigma0_px = T(1.1), .focus_nm = T(-210), .depth_nm = T(390), .a = T(0.05),
                  .b = T(0.02)},
      .y_curve = {.sigma0_px = T(1.25), .focus_nm = T(230), .depth_nm = T(430), .a = T(-0.04),
                  .b = T(0.03)}};
  CHECK(model.sigma_x_px(T(-210)) == doctest::Approx(1.1));
  CHECK(model.sigma_y_px(T(230)) == doctest::Approx(1.25));
  CHECK(model.sigma_y_px(T(-210)) > T(1.25));
  CHECK(model.sigma_x_px(T(230)) > T(1.1));
  const Spot<T> s{T(20), T(20), T(230), T(100), T(0)};
  CHECK(model.support_radius_px(s) == doctest::Approx(4 * double(model.sigma_x_px(T(230)))));
}

TEST_CASE("the spot is the product of two integrated Gaussians of widths σx(z), σy(z)") {
  const psf::AstigmaticGaussian<double> model;  // x in focus at −200 nm, y at +200 nm, d = 400 nm
  const Spot<double> s{16.3, 15.8, -200, 3000, 4};
  const double sx = 1, sy = std::sqrt(2.0);  // u_y = (−200 − 200)/400 = −1
  CHECK(model.sigma_x_px(-200) == doctest::Approx(sx));
  CHECK(model.sigma_y_px(-200) == doctest::Approx(sy));
  const Window w{8, 7, 17, 18};
  Image<double> mu(w.height, w.width);
  model.evaluate(s, w, smlm::make_view(mu));
  for (std::ptrdiff_t i = 0; i < w.height; ++i) {
    for (std::ptrdiff_t j = 0; j < w.width; ++j) {
      const long double ref = 4 + 3000 * pixel_fraction(w.x0 + j, s.x_px, sx) *
                                         pixel_fraction(w.y0 + i, s.y_px, sy);
      CHECK(mu(i, j) == doctest::Approx(double(ref)).epsilon(1e-12));
    }
  }
  // elongated along y: the second moment in y exceeds the one in x
  double mxx = 0, myy = 0, total = 0;
  for (std::ptrdiff_t i = 0; i < w.height; ++i) {
    for (std::ptrdiff_t j = 0; j < w.width; ++j) {
      const double v = mu(i, j) - 4, dx = w.x0 + j + 0.5 - s.x_px, dy = w.y0 + i + 0.5 - s.y_px;
      mxx += v * dx * dx;
      myy += v * dy * dy;
      total += v;
    }
  }
  CHECK(myy / total > 1.5 * (mxx / total));
}

TEST_CASE("with σx(z) = σy(z) the astigmatic spot is the isotropic integrated Gaussian") {
  const psf::AstigmaticGaussian<double> model;  // symmetric foci: equal widths at z = 0
  const psf::IntegratedGaussian<double> round{.sigma_px = model.sigma_x_px(0)};
  CHECK(model.sigma_x_px(0) == model.sigma_y_px(0));
  const Spot<double> s{9.7, 10.2, 0, 1500, 8};
  const Window w{2, 3, 15, 14};
  Image<double> a(w.height, w.width), b(w.height, w.width);
  model.evaluate(s, w, smlm::make_view(a));
  round.evaluate(s, w, smlm::make_view(b));
  CHECK((a - b).abs().maxCoeff() == 0);
}

TEST_CASE("a curve that turns negative gives NaN, flagged rather than hidden") {
  psf::AstigmaticGaussian<double> model;
  model.x_curve.a = -3;  // 1 + u² − 3u³ < 0 at u = 1 (z = 200 nm)
  const Spot<double> s{10, 10, 200, 1000, 5};
  CHECK(std::isnan(model.sigma_x_px(200)));
  Image<double> mu(5, 5);
  model.evaluate(s, Window{8, 8, 5, 5}, smlm::make_view(mu));
  CHECK(mu.isNaN().all());
  CHECK(std::isnan(model.support_radius_px(s)));
  Image<double> frame = Image<double>::Zero(20, 20);
  model.add_to(s, smlm::make_view(frame));  // no support window: nothing rendered
  CHECK((frame == 0).all());
}

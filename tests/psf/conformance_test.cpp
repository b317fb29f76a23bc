// The conformance suite (smlm/testing/psf_conformance.hpp) on every PSF model in the library.
// A model family joins by adding its `cases` overload and one entry to psf_families: every check,
// the Jacobian and float-against-double ones included, then runs on it in float and double.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <smlm/psf/airy.hpp>
#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/pupil.hpp>
#include <smlm/psf/tabulated.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/psf_conformance.hpp>

using smlm::psf::Airy;
using smlm::psf::AstigmaticGaussian;
using smlm::psf::Gaussian;
using smlm::psf::IntegratedGaussian;
using smlm::psf::Spot;
using smlm::psf::Tabulated;
template <class P>
using Case = smlm::testing::PsfCase<P>;
template <class T>
using Tabulated2D = Tabulated<T, false>;
template <class T>
using Tabulated3D = Tabulated<T, true>;

namespace {

template <class P>
struct tag {};

template <class T>
Spot<T> spot(double x, double y, double z, double photons, double background) {
  return {T(x), T(y), T(z), T(photons), T(background)};
}

// σ = 9 px gives a support window of 73 px, wider than the kernels' 32-pixel blocks.
constexpr double sigmas_px[] = {1.3, 1.0, 0.3, 2.7, 9.0};

template <class T>
std::vector<Case<Gaussian<T>>> cases(tag<Gaussian<T>>) {
  std::vector<Case<Gaussian<T>>> out;
  const double xs[] = {10.3, 15.5, 8.91, 40.02, 60.4};
  const double ys[] = {7.8, 15.5, 9.07, 33.97, 50.2};
  for (int k = 0; k < 5; ++k) {
    const double sigma = sigmas_px[k];
    if (sigma < 0.8) continue;  // a sampled Gaussian this narrow no longer sums to its photons
    // Poisson summation: |Σ h − 1| ≤ (1 + 2q/(1 − q))² − 1, q = exp(−2π² σ²) (gaussian.hpp).
    const double q = std::exp(-2 * std::numbers::pi * std::numbers::pi * sigma * sigma);
    const double sampling = (1 + 2 * q / (1 - q)) * (1 + 2 * q / (1 - q)) - 1;
    out.push_back({"sigma " + std::to_string(sigma), Gaussian<T>{.sigma_px = T(sigma)},
                   spot<T>(xs[k], ys[k], 0, 1000.0 * (k + 1), 10.0 / (k + 1)), sampling, true,
                   true});
  }
  return out;
}

template <class T>
std::vector<Case<IntegratedGaussian<T>>> cases(tag<IntegratedGaussian<T>>) {
  std::vector<Case<IntegratedGaussian<T>>> out;
  const double xs[] = {10.3, 15.5, 8.91, 40.02, 60.4};
  const double ys[] = {7.8, 15.5, 9.07, 33.97, 50.2};
  for (int k = 0; k < 5; ++k) {
    const double sigma = sigmas_px[k];
    out.push_back({"sigma " + std::to_string(sigma), IntegratedGaussian<T>{.sigma_px = T(sigma)},
                   spot<T>(xs[k], ys[k], 0, 1000.0 * (k + 1), 10.0 / (k + 1)), 0.0, true, true});
  }
  return out;
}

template <class T>
std::vector<Case<AstigmaticGaussian<T>>> cases(tag<AstigmaticGaussian<T>>) {
  // Curves with higher-order terms (A² < 4B keeps them positive for every z), different σ0,
  // foci and depths per axis.
  const AstigmaticGaussian<T> model{
      .x_curve = {.sigma0_px = T(1.2), .focus_nm = T(-150), .depth_nm = T(350), .a = T(0.1),
                  .b = T(0.05)},
      .y_curve = {.sigma0_px = T(1.4), .focus_nm = T(180), .depth_nm = T(420), .a = T(-0.2),
                  .b = T(0.08)}};
  const AstigmaticGaussian<T> defaults{};  // σx = σy at z = 0: transpose symmetric there
  std::vector<Case<AstigmaticGaussian<T>>> out;
  out.push_back({"z -400", model, spot<T>(20.3, 18.7, -400, 2000, 10), 0.0, true, false});
  out.push_back({"z at x focus", model, spot<T>(14.5, 21.5, -150, 1500, 0), 0.0, true, false});
  out.push_back({"z 0", model, spot<T>(30.81, 25.12, 0, 800, 5), 0.0, true, false});
  out.push_back({"z 320", model, spot<T>(25.02, 30.99, 320, 5000, 20), 0.0, true, false});
  out.push_back({"z 1800 (wide)", model, spot<T>(70.4, 66.6, 1800, 20000, 2), 0.0, true, false});
  out.push_back({"defaults, z 0", defaults, spot<T>(12.25, 13.75, 0, 1000, 10), 0.0, true, true});
  out.push_back({"defaults, z 150", defaults, spot<T>(12.25, 13.75, 150, 1000, 10), 0.0, true,
                 false});
  return out;
}

// Tabulated models are built from tables of the Gaussian family (tabulated_test.cpp checks they
// reproduce it). Their Σ h deviates from 1 by the aliasing of the spline on the pixel lattice
// (tabulated.hpp): measured max over 200 random positions 3.9e-6 (σ 1.3 px, ±6 px, x4), 7.7e-7
// (σ 1.0 px, ±5 px, x5), 5.8e-6 (astigmatic stack, ±10 px, x4) and 1.6e-15 at oversampling 1
// (the lattice then samples each B-spline at its knots, a partition of unity); the cases bound
// it at 2e-5 and 1e-13. They are not declared mirror or transpose symmetric: mirrored pixels read
// different coefficients, so the symmetry holds to the table's rounding (≈ 20 ε, measured), not
// to the 8 ε of one formula evaluated in another order; tabulated_test.cpp checks it at 64 ε.
template <class T>
std::vector<Case<Tabulated<T, false>>> cases(tag<Tabulated<T, false>>) {
  std::vector<Case<Tabulated<T, false>>> out;
  const auto make = [](double sigma, std::ptrdiff_t half, int oversampling) {
    return Tabulated<T, false>::from_table(smlm::psf::tabulate(
                                               IntegratedGaussian<double>{.sigma_px = sigma}, half,
                                               oversampling))
        .value();
  };
  out.push_back({"sigma 1.3, x4", make(1.3, 6, 4), spot<T>(20.3, 18.7, 0, 2000, 10), 2e-5, false,
                 false});
  out.push_back({"sigma 1.0, x5", make(1.0, 5, 5), spot<T>(9.91, 12.07, 0, 800, 0), 2e-5, false,
                 false});
  out.push_back({"sigma 2.0, x1 (camera-pixel bead)", make(2.0, 9, 1),
                 spot<T>(40.02, 33.97, 0, 5000, 3), 1e-13, false, false});
  // The in-focus pupil-function PSF (pupil.hpp) at NA 1.2, 600 nm, 80 nm pixels: an Airy-like
  // table with rings, cut and tapered at ±10 px. Σ h − 1 measured ≤ 2.7e-6 over 200 positions
// (1.4e-4 when cut at ±8 px: the lattice sum feels the taper of a tail that is not yet small).
  static const Tabulated<T, false> pupil = [] {
    smlm::psf::PupilOptics o;
    o.na = 1.2;
    o.wavelength_nm = 600;
    o.pixel_nm = 80;
    o.half_width_px = 10;
    o.fft_size = 256;
    return smlm::psf::make_pupil_psf<T, false>(o).value();
  }();
  out.push_back({"pupil, in focus", pupil, spot<T>(20.3, 18.7, 0, 2000, 10), 2e-5, false, false});
  return out;
}

template <class T>
std::vector<Case<Tabulated<T, true>>> cases(tag<Tabulated<T, true>>) {
  AstigmaticGaussian<double> astig;
  astig.x_curve.sigma0_px = astig.y_curve.sigma0_px = 1.3;
  const auto model = Tabulated<T>::from_table(smlm::psf::tabulate(astig, 10, 4, 17, -400, 50)).value();
  std::vector<Case<Tabulated<T, true>>> out;
  out.push_back({"astigmatic, z -317", model, spot<T>(20.3, 18.7, -317, 2000, 10), 2e-5, false,
                 false});
  out.push_back({"astigmatic, z 0 (a plane)", model, spot<T>(14.5, 21.5, 0, 1500, 0), 2e-5, false,
                 false});
  out.push_back({"astigmatic, z 188", model, spot<T>(30.81, 25.12, 188, 800, 5), 2e-5, false,
                 false});
  out.push_back({"astigmatic, z 399 (last interval)", model, spot<T>(25.02, 30.99, 399, 5000, 20),
                 2e-5, false, false});
  // The pupil-function PSF with astigmatism and coma, 5 planes over ±300 nm, cut at ±10 px:
  // Σ h − 1 measured ≤ 1.3e-4 over 200 positions and depths, bounded at 5e-4.
  static const Tabulated<T> pupil = [] {
    smlm::psf::PupilOptics o;
    o.aberrations = {{6, 70}, {8, 25}};
    o.half_width_px = 10;
    o.planes = 5;
    o.z_first_nm = -300;
    o.z_step_nm = 150;
    o.fft_size = 256;
    return smlm::psf::make_pupil_psf<T>(o).value();
  }();
  out.push_back({"pupil, astigmatism + coma, z -210", pupil, spot<T>(20.3, 18.7, -210, 2000, 10),
                 5e-4, false, false});
  out.push_back({"pupil, astigmatism + coma, z 77", pupil, spot<T>(14.61, 21.33, 77, 900, 0), 5e-4,
                 false, false});
  return out;
}

// Airy: the pattern is cut at a dark ring and renormalised (airy.hpp), so Σ h = 1 up to the
// per-pixel Gauss–Legendre error. Measured max over 50 random positions: 5.2e-7 (NA 1.4, 680 nm,
// 100 nm, 5 rings, order 4), 2.9e-8 (NA 1.2, 580 nm, 65 nm, 3 rings, order 6), 5.2e-7 (NA 0.7,
// 520 nm, 160 nm, 8 rings, order 3); bounded at 2e-6, 2e-7, 2e-6.
template <class T>
std::vector<Case<Airy<T>>> cases(tag<Airy<T>>) {
  std::vector<Case<Airy<T>>> out;
  out.push_back({"NA 1.4, 680 nm, 100 nm px", Airy<T>{}, spot<T>(20.3, 18.7, 0, 2000, 10), 2e-6,
                 true, true});
  out.push_back({"NA 1.2, 580 nm, 65 nm px, 3 rings, order 6",
                 Airy<T>{.na = T(1.2), .wavelength_nm = T(580), .pixel_nm = T(65), .rings = 3,
                         .quadrature_order = 6},
                 spot<T>(31.81, 25.12, 0, 800, 5), 2e-7, true, true});
  out.push_back({"NA 0.7, 520 nm, 160 nm px, 8 rings, order 3",
                 Airy<T>{.na = T(0.7), .wavelength_nm = T(520), .pixel_nm = T(160),
                         .refractive_index = T(1), .rings = 8, .quadrature_order = 3},
                 spot<T>(40.02, 33.97, 0, 5000, 0), 2e-6, true, true});
  return out;
}


// One registered model family: its model template and its cases, in float and double alike.
template <template <class> class M>
struct Family {
  template <class T>
  using model = M<T>;
  template <class T>
  static std::vector<Case<M<T>>> cases() {
    return ::cases(tag<M<T>>{});
  }
};

}  // namespace

// The one list of models: each family is checked by every check of the suite in float and
// double, its float cases against its double ones.
using psf_families = std::tuple<Family<Gaussian>, Family<IntegratedGaussian>, Family<AstigmaticGaussian>,
                                Family<Tabulated3D>, Family<Tabulated2D>, Family<Airy>>;

TYPE_TO_STRING(Family<Gaussian>);
TYPE_TO_STRING(Family<IntegratedGaussian>);
TYPE_TO_STRING(Family<AstigmaticGaussian>);
TYPE_TO_STRING(Family<Tabulated3D>);
TYPE_TO_STRING(Family<Tabulated2D>);
TYPE_TO_STRING(Family<Airy>);

namespace {

// The checks a family's report must hold: all of psf_checks, symmetry only when a case declares one.
template <class P>
std::vector<std::string_view> expected_checks(const std::vector<Case<P>>& cases) {
  const bool symmetric = std::any_of(cases.begin(), cases.end(),
                                     [](const auto& c) { return c.mirror_symmetric || c.transpose_symmetric; });
  std::vector<std::string_view> out;
  for (const std::string_view check : smlm::testing::psf_checks)
    if (check != "symmetry" || symmetric) out.push_back(check);
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("psf conformance: every check, float and double", F, psf_conformance) {
  static_assert(smlm::psf::check_model<typename F::template model<float>>());
  static_assert(smlm::psf::check_model<typename F::template model<double>>());
  const auto single = F::template cases<float>();
  const auto twins = F::template cases<double>();
  const smlm::testing::Report report = smlm::testing::check_psf(single, twins);
  SMLM_CHECK_REPORT(report);
  // Every check ran on this family, in both scalar types: a model cannot miss a check.
  for (const std::string_view check : expected_checks(single)) {
    INFO(check);
    CHECK(report.count(std::string(check) + " <float>") > 0);
    if (check != "double_twin") CHECK(report.count(std::string(check) + " <double>") > 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(psf_conformance, psf_families);

namespace {
// The integrated Gaussian with an x-derivative 1e-4 too large (relative): a defect the
// Jacobian check must catch, while the checks that do not read the Jacobian still pass.
template <class T>
struct WrongDx : IntegratedGaussian<T> {
  using IntegratedGaussian<T>::evaluate;
  void evaluate(const Spot<T>& s, smlm::psf::Window w, smlm::ImageView<T> mu,
                smlm::psf::JacobianView<T> jacobian) const noexcept {
    IntegratedGaussian<T>::evaluate(s, w, mu, jacobian);
    jacobian.plane(0) *= T(1 + 1e-4);
  }
};
}  // namespace

TEST_CASE("psf conformance: a wrong x-derivative fails the Jacobian check, and only it") {
  static_assert(smlm::psf::Model<WrongDx<double>>);
  const std::vector<Case<WrongDx<double>>> cases = {
      {"sigma 1.3", WrongDx<double>{{.sigma_px = 1.3}}, spot<double>(10.3, 7.8, 0, 1000, 10), 0.0, true, true}};
  const smlm::testing::Report report = smlm::testing::check_psf(cases);
  CHECK_FALSE(report.passed());
  bool x_plane_failed = false;
  for (const auto& check : report.checks) {
    if (check.passed) continue;
    INFO(smlm::testing::Report::describe(check));
    const std::string_view name = check.name;
    x_plane_failed = x_plane_failed || name.starts_with("jacobian <double> [sigma 1.3] x_px (plane 0): max |J - J_fd|");
    // The only other failure: the SigmaModel hook's plane 0 (not overridden) differs from ours.
    CHECK((name.starts_with("jacobian <double> [sigma 1.3] x_px") ||
           name.starts_with("jacobian <double> [sigma 1.3] SigmaModel hook: plane 0")));
  }
  CHECK(x_plane_failed);
  // The same model with the right derivative passes.
  const std::vector<Case<IntegratedGaussian<double>>> fixed = {
      {"sigma 1.3", IntegratedGaussian<double>{.sigma_px = 1.3}, spot<double>(10.3, 7.8, 0, 1000, 10), 0.0, true, true}};
  CHECK(smlm::testing::check_psf(fixed).passed());
}

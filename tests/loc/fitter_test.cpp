// fitter.hpp: the generic LM fitter recovers the parameters of noiseless data for every PSF model
// and estimator, frees σ through the SigmaModel hook, and reports its status. The statistical
// behaviour (bias, variance against the CRLB) is in fitter_statistics_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <smlm/loc/fitter.hpp>
#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace loc = smlm::loc;
namespace psf = smlm::psf;
using smlm::Image;

namespace {
template <class P>
Image<typename P::scalar> render(const P& model, const psf::Spot<typename P::scalar>& s, psf::Window w) {
  Image<typename P::scalar> mu(w.height, w.width);
  model.evaluate(s, w, smlm::make_view(mu));
  return mu;
}
}  // namespace

TEST_CASE_TEMPLATE("noiseless data: every estimator recovers the parameters exactly", T, float, double) {
  const psf::IntegratedGaussian<T> model{.sigma_px = T(1.3)};
  const psf::Window w{20, 30, 11, 11};
  const psf::Spot<T> truth{T(25.83), T(35.21), 0, T(1000), T(10)};
  const Image<T> data = render(model, truth, w);
  loc::FitWorkspace<T> ws(w.size());
  const double tol_px = std::is_same_v<T, float> ? 2e-4 : 1e-6;
  for (loc::estimator e : {loc::estimator::mle, loc::estimator::lsq, loc::estimator::wlsq}) {
    CAPTURE(static_cast<int>(e));
    loc::FitOptions o;
    o.method = e;
    const psf::Spot<T> start = loc::initial_guess(smlm::const_view(data), w);
    const auto r = loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<T>(), start, o, ws);
    CHECK(r.status == loc::fit_status::converged);
    CHECK(r.iterations < 20);
    CHECK(std::abs(r.spot.x_px - truth.x_px) < tol_px);
    CHECK(std::abs(r.spot.y_px - truth.y_px) < tol_px);
    CHECK(r.spot.photons == doctest::Approx(1000).epsilon(std::is_same_v<T, float> ? 1e-3 : 1e-6));
    CHECK(r.spot.background == doctest::Approx(10).epsilon(std::is_same_v<T, float> ? 1e-3 : 1e-6));
    CHECK(r.objective < (std::is_same_v<T, float> ? 1e-2 : 1e-8));
  }
}

TEST_CASE("σ free: the SigmaModel hook lets the fitter recover the width") {
  const psf::IntegratedGaussian<double> truth_model{.sigma_px = 1.6};
  const psf::Window w{0, 0, 13, 13};
  const psf::Spot<double> truth{6.2, 6.7, 0, 3000, 5};
  const Image<double> data = render(truth_model, truth, w);
  loc::FitWorkspace<double> ws(w.size());
  loc::FitOptions o;
  o.fit_sigma = true;
  const psf::IntegratedGaussian<double> start_model{.sigma_px = 1.0};
  const auto r = loc::fit(start_model, smlm::const_view(data), w, loc::poisson_noise<double>(),
                          loc::initial_guess(smlm::const_view(data), w), o, ws);
  CHECK(r.status == loc::fit_status::converged);
  CHECK(r.sigma_px == doctest::Approx(1.6).epsilon(1e-6));
  CHECK(r.spot.x_px == doctest::Approx(6.2).epsilon(1e-7));
  // With σ fixed at the wrong value the fit converges elsewhere: σ really was a parameter.
  o.fit_sigma = false;
  const auto fixed = loc::fit(start_model, smlm::const_view(data), w, loc::poisson_noise<double>(),
                              loc::initial_guess(smlm::const_view(data), w), o, ws);
  CHECK(fixed.sigma_px == 1.0);
  CHECK(fixed.objective > 1);
}

TEST_CASE("generic over the PSF: the sampled Gaussian and the astigmatic Gaussian (x, y, z)") {
  SUBCASE("sampled Gaussian") {
    const psf::Gaussian<double> model{.sigma_px = 1.2};
    const psf::Window w{3, 4, 9, 9};
    const psf::Spot<double> truth{7.9, 8.1, 0, 800, 3};
    const Image<double> data = render(model, truth, w);
    loc::FitWorkspace<double> ws(w.size());
    const auto r = loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<double>(),
                            loc::initial_guess(smlm::const_view(data), w), loc::FitOptions{}, ws);
    CHECK(r.status == loc::fit_status::converged);
    CHECK(r.spot.x_px == doctest::Approx(7.9).epsilon(1e-8));
  }
  SUBCASE("astigmatic Gaussian fits z") {
    const psf::AstigmaticGaussian<double> model{};
    const psf::Window w{0, 0, 15, 15};
    const psf::Spot<double> truth{7.3, 7.6, 120, 5000, 8};
    const Image<double> data = render(model, truth, w);
    loc::FitWorkspace<double> ws(w.size());
    psf::Spot<double> start = loc::initial_guess(smlm::const_view(data), w);
    start.z_nm = 0;
    loc::FitOptions o;
    o.max_iterations = 100;
    const auto r = loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<double>(), start, o, ws);
    CHECK(r.status == loc::fit_status::converged);
    CHECK(r.spot.z_nm == doctest::Approx(120).epsilon(1e-5));
    CHECK(r.spot.y_px == doctest::Approx(7.6).epsilon(1e-7));
  }
}

TEST_CASE("the MLE uses the noise model: scaled data fit under an EMCCD model") {
  // Data d in photons; under excess 2 and read variance 4, z = (d + 2)/2 must be fitted with
  // m = (mu + 2)/2: noiseless data are still fitted exactly.
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  const psf::Window w{10, 10, 9, 9};
  const psf::Spot<double> truth{14.4, 14.6, 0, 1500, 12};
  const Image<double> data = render(model, truth, w);
  loc::NoiseModel<double> noise;
  noise.excess = 2;
  noise.read_variance = 4;
  loc::FitWorkspace<double> ws(w.size());
  const auto r = loc::fit(model, smlm::const_view(data), w, noise, loc::initial_guess(smlm::const_view(data), w),
                          loc::FitOptions{}, ws);
  CHECK(r.status == loc::fit_status::converged);
  CHECK(r.spot.photons == doctest::Approx(1500).epsilon(1e-7));
}

TEST_CASE("status: not_finite, out_of_window, max_iterations, and bad arguments") {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  const psf::Window w{0, 0, 7, 7};
  Image<double> data = render(model, {3.5, 3.5, 0, 500, 5}, w);
  loc::FitWorkspace<double> ws(w.size());
  const auto start = loc::initial_guess(smlm::const_view(data), w);
  SUBCASE("NaN in the data") {
    data(2, 2) = NAN;
    const auto r = loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<double>(), start, {}, ws);
    CHECK(r.status == loc::fit_status::not_finite);
  }
  SUBCASE("a spot whose optimum is outside the window") {
    const Image<double> edge = render(model, {-1.5, 3.5, 0, 4000, 5}, w);
    psf::Spot<double> s0{0.5, 3.5, 0, 1000, 5};
    const auto r = loc::fit(model, smlm::const_view(edge), w, loc::poisson_noise<double>(), s0, {}, ws);
    CHECK(r.status == loc::fit_status::out_of_window);
    CHECK(r.spot.x_px < 0);
  }
  SUBCASE("one iteration is not enough from a poor start") {
    loc::FitOptions o;
    o.max_iterations = 1;
    psf::Spot<double> s0{2.0, 5.0, 0, 100, 1};
    const auto r = loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<double>(), s0, o, ws);
    CHECK(r.status == loc::fit_status::max_iterations);
    CHECK(r.iterations == 1);
  }
  SUBCASE("flat data: photons cannot be identified, the fit does not claim success at a wrong place") {
    const Image<double> flat = Image<double>::Constant(7, 7, 5);
    const auto r = loc::fit(model, smlm::const_view(flat), w, loc::poisson_noise<double>(), {3.5, 3.5, 0, 10, 5}, {}, ws);
    // The optimum is photons → 0 on the boundary; either it stalls there or the system turns singular.
    CHECK(r.spot.photons < 1);
    CHECK(r.spot.background == doctest::Approx(5).epsilon(0.05));
  }
  SUBCASE("preconditions") {
    loc::FitWorkspace<double> small(4);
    CHECK_THROWS(loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<double>(), start, {}, small));
    loc::FitOptions bad;
    bad.max_iterations = 0;
    CHECK_THROWS(loc::fit(model, smlm::const_view(data), w, loc::poisson_noise<double>(), start, bad, ws));
    const psf::AstigmaticGaussian<double> astig{};
    loc::FitOptions sig;
    sig.fit_sigma = true;
    loc::FitWorkspace<double> ws2(w.size());
    CHECK_THROWS(loc::fit(astig, smlm::const_view(data), w, loc::poisson_noise<double>(), start, sig, ws2));
  }
}

TEST_CASE("initial_guess: ring background, photon sum and centroid") {
  Image<double> d = Image<double>::Constant(5, 5, 2);
  d(2, 3) = 12;
  const auto s = loc::initial_guess(smlm::const_view(d), psf::Window{10, 20, 5, 5});
  CHECK(s.background == doctest::Approx(2));
  CHECK(s.photons == doctest::Approx(10));
  CHECK(s.x_px == doctest::Approx(13.5));
  CHECK(s.y_px == doctest::Approx(22.5));
}

TEST_CASE("cholesky_solve solves SPD systems and rejects indefinite ones") {
  std::array<double, loc::max_fit_params * loc::max_fit_params> a{};
  constexpr int m = loc::max_fit_params;
  a[0 * m + 0] = 4; a[0 * m + 1] = 2; a[1 * m + 0] = 2; a[1 * m + 1] = 3;
  std::array<double, m> b{8, 7};
  REQUIRE(loc::detail::cholesky_solve(a, 2, b));
  CHECK(b[0] == doctest::Approx(1.25));
  CHECK(b[1] == doctest::Approx(1.5));
  std::array<double, m * m> c{};
  c[0 * m + 0] = 1; c[0 * m + 1] = 2; c[1 * m + 0] = 2; c[1 * m + 1] = 1;
  std::array<double, m> e{1, 1};
  CHECK_FALSE(loc::detail::cholesky_solve(c, 2, e));
}

// crlb.hpp and noise_model.hpp: the Fisher-information CRLB against known limits and the closed
// forms, the camera-derived noise models, and the closed forms' known values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/loc/crlb.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace loc = smlm::loc;
namespace psf = smlm::psf;

TEST_CASE("noise models read off the cameras' declared statistics") {
  SUBCASE("ideal: Poisson") {
    const auto n = loc::noise_model<double>(smlm::camera::Ideal<float>{});
    CHECK(n.excess == doctest::Approx(1));
    CHECK(n.read_variance == doctest::Approx(0).epsilon(1e-12));
  }
  SUBCASE("EMCCD: excess 2/qe, read noise and CIC referred to the input") {
    smlm::camera::Emccd<float> cam;
    const auto n = loc::noise_model<double>(cam);
    const double g = cam.em_gain, qe = cam.qe, k = cam.e_per_adu, rn = cam.read_noise_e, cic = cam.cic_electrons;
    CHECK(n.excess == doctest::Approx(2 / qe).epsilon(1e-5));
    const double slope = g * qe / k;
    const double v0 = ((2 * g * g * cic + rn * rn) / (k * k) + 1.0 / 12) / (slope * slope);
    CHECK(n.read_variance == doctest::Approx(v0).epsilon(1e-5));
    cam.em_gain = 1;  // register off: no excess noise
    CHECK(loc::noise_model<double>(cam).excess == doctest::Approx(1 / qe).epsilon(1e-5));
  }
  SUBCASE("sCMOS: per-pixel maps") {
    smlm::Image<float> offset = smlm::Image<float>::Constant(2, 3, 100), gain = smlm::Image<float>::Constant(2, 3, 0.5f),
                       var = smlm::Image<float>::Constant(2, 3, 4);
    var(1, 2) = 16;
    const smlm::camera::Scmos<float> cam(offset, gain, var, 0.8f);
    smlm::Image<float> ex(2, 3), rv(2, 3);
    const auto n = loc::noise_model<float>(cam, smlm::make_view(ex), smlm::make_view(rv));
    CHECK(n.per_pixel());
    // Var_ph = (qe p/k² + σ² + 1/12)/(qe/k)² = p/qe + (σ² + 1/12) k²/qe².
    CHECK(n.at(0, 0).excess == doctest::Approx(1 / 0.8).epsilon(1e-5));
    CHECK(n.at(0, 0).read_variance == doctest::Approx((4 + 1.0 / 12) * 0.25 / 0.64).epsilon(1e-5));
    CHECK(n.at(1, 2).read_variance == doctest::Approx((16 + 1.0 / 12) * 0.25 / 0.64).epsilon(1e-5));
    CHECK(n.at(5, 5).excess == 1);  // outside the maps: the uniform values
  }
}

TEST_CASE("noise model of the cellphone CMOS: the declared statistics of each frame") {
  // The photon-domain variance the model gives, excess·p + read_variance, against the camera's own
  // declaration variance_adu(p)/s², s = (mean_adu(p) − mean_adu(0))/p the ADU per photon, at a dip
  // frame (0), drifting ones (7: m ≈ 1.0007, 165: m ≈ 1.0099) and a pixel with a fixed-pattern offset.
  smlm::camera::CmosPhone<float> cam;
  cam.qe = 0.8f;  // not 1, so excess and read_variance carry it
  static_assert(noexcept(loc::noise_model<float>(cam, std::uint32_t{3})));
  for (const std::uint32_t frame : {0u, 7u, 165u}) {
    CAPTURE(frame);
    const auto n = loc::noise_model<double>(cam, frame);
    const double m = cam.frame_gain(frame), k = cam.e_per_adu, rn = cam.read_noise_e, qe = cam.qe;
    CHECK(n.excess == doctest::Approx(1 / qe).epsilon(1e-6));
    CHECK(n.read_variance == doctest::Approx((rn * rn + k * k / (12 * m * m)) / (qe * qe)).epsilon(1e-6));
    for (const smlm::camera::Pixel pixel : {smlm::camera::Pixel{0, 0}, smlm::camera::Pixel{3, 5}}) {
      for (const double p : {1.0, 20.0, 90.0, 150.0}) {
        CAPTURE(p);
        const double s = (cam.mean_adu(p, pixel, frame) - cam.mean_adu(0, pixel, frame)) / p;
        const double declared = cam.variance_adu(p, pixel, frame) / (s * s);
        CHECK(n.excess * p + n.read_variance == doctest::Approx(declared).epsilon(1e-6));
      }
    }
  }
  // The frame-less forms are frame 0, as the camera's frame-less members are.
  CHECK(loc::noise_model<double>(cam).read_variance == loc::noise_model<double>(cam, 0).read_variance);
  CHECK(loc::noise_model<double>(cam, 165).read_variance < loc::noise_model<double>(cam).read_variance);
}

TEST_CASE("closed forms: known values") {
  // 1,000 photons, 10 background photons per pixel, σ = 1.3 px, a = 1 px (the test case).
  const double sa2 = 1.69 + 1.0 / 12;
  CHECK(loc::mortensen_lsq_variance(1.3, 1, 1000, 10) ==
        doctest::Approx(sa2 / 1000 * (16.0 / 9 + 8 * M_PI * sa2 * 10 / 1000)).epsilon(1e-12));
  CHECK(loc::thompson_variance(1.3, 1, 1000, 0) == doctest::Approx(sa2 / 1000));
  // Without background the MLE bound is σa²/N, the LSQ one 16/9 of it.
  CHECK(loc::mortensen_mle_variance(1.3, 1, 1000, 0) == doctest::Approx(sa2 / 1000));
  CHECK(loc::mortensen_lsq_variance(1.3, 1, 1000, 0) / loc::mortensen_mle_variance(1.3, 1, 1000, 0) ==
        doctest::Approx(16.0 / 9));
  // The integral ∫₀¹ ln t/(1 + t/τ) dt → −1 as τ → ∞ (MLE → ∞ variance), → 0 as τ → 0. At τ = 1 it is
  // ∫ ln t/(1 + t) dt = −π²/12.
  const double tau1_b = 1000.0 / (2 * M_PI * sa2);  // b giving τ = 1
  CHECK(loc::mortensen_mle_variance(1.3, 1, 1000, tau1_b) == doctest::Approx(sa2 / 1000 / (1 - M_PI * M_PI / 12)).epsilon(1e-6));
  // EMCCD doubles the variance.
  CHECK(loc::mortensen_mle_variance(1.3, 1, 1000, 10, 2) == doctest::Approx(2 * loc::mortensen_mle_variance(1.3, 1, 1000, 10)));
}

TEST_CASE("Fisher CRLB: agrees with Mortensen's MLE form, scales with the noise model, grows when σ is freed") {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  const psf::Window w{0, 0, 21, 21};  // ±8σ: the window truncates nothing
  const psf::Spot<double> spot{10.5, 10.5, 0, 1000, 10};
  loc::FitWorkspace<double> ws(w.size());
  const auto c = loc::crlb(model, spot, w, loc::poisson_noise<double>(), false, ws);
  REQUIRE(c.ok);
  CHECK(c.num_params == 4);
  CHECK(c.variance[0] == doctest::Approx(c.variance[1]).epsilon(1e-10));  // symmetric spot
  // Mortensen's form is an approximation for a pixelated Gaussian (a few per cent at σ/a = 1.3).
  const double m = loc::mortensen_mle_variance(1.3, 1, 1000, 10);
  CHECK(c.variance[0] / m == doctest::Approx(1).epsilon(0.05));
  // Without background: close to σa²/N (the pixelation term), and photons' bound is N (Poisson).
  const auto c0 = loc::crlb(model, psf::Spot<double>{10.5, 10.5, 0, 1000, 1e-6}, w, loc::poisson_noise<double>(), false, ws);
  REQUIRE(c0.ok);
  CHECK(c0.variance[0] == doctest::Approx((1.69 + 1.0 / 12) / 1000).epsilon(0.03));
  // Excess 2 (high-gain EMCCD, qe 1) halves the information: twice every variance.
  loc::NoiseModel<double> em;
  em.excess = 2;
  const auto c2 = loc::crlb(model, spot, w, em, false, ws);
  CHECK(c2.variance[0] == doctest::Approx(2 * c.variance[0]).epsilon(1e-10));
  CHECK(c2.variance[2] == doctest::Approx(2 * c.variance[2]).epsilon(1e-10));
  // Freeing σ adds a parameter: no bound can drop.
  const auto cs = loc::crlb(model, spot, w, loc::poisson_noise<double>(), true, ws);
  REQUIRE(cs.ok);
  CHECK(cs.num_params == 5);
  for (int k = 0; k < 4; ++k) CHECK(cs.variance[k] >= c.variance[k] * (1 - 1e-12));
  CHECK(cs.variance[2] > 1.1 * c.variance[2]);  // photons and σ are strongly correlated
  // A singular case: zero photons give no positional information.
  const auto bad = loc::crlb(model, psf::Spot<double>{10.5, 10.5, 0, 0, 10}, w, loc::poisson_noise<double>(), false, ws);
  CHECK_FALSE(bad.ok);
}

// The camera::Model conformance suite (conformance.hpp) for every camera in the library.
#include "conformance.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>

namespace camera = smlm::camera;
using camera::testing::check_all;

TEST_CASE_TEMPLATE("camera conformance: Ideal", T, float, double) {
  camera::Ideal<T> ideal;
  check_all(ideal, 0x1DEA1);
  SUBCASE("12-bit full scale") {
    ideal.full_scale_adu = 4095;
    check_all(ideal, 0x1DEA2);
  }
}

// Emccd and FastEmccd (the same model recorded with per-pixel streams and xsimd samplers).
TEST_CASE_TEMPLATE("camera conformance: Emccd", C, camera::Emccd<float>, camera::Emccd<double>,
                   camera::FastEmccd<float>, camera::FastEmccd<double>) {
  using T = typename C::scalar;
  C emccd;
  SUBCASE("defaults") { check_all(emccd, 0xE3CCD1); }
  SUBCASE("register off (conventional readout), read noise 1 ADU") {
    // σ = 1 ADU: the 1/12 rounding term is 20 SE of the variance at 0 photons, so it is tested.
    emccd.em_gain = 1;
    emccd.e_per_adu = 2;
    emccd.read_noise_e = 2;
    emccd.baseline_adu = 500;
    check_all(emccd, 0xE3CCD2);
  }
  SUBCASE("high CIC, low QE, 14-bit") {
    emccd.qe = T(0.3);
    emccd.cic_electrons = T(0.2);
    emccd.em_gain = 300;
    emccd.e_per_adu = 60;
    emccd.read_noise_e = 80;
    emccd.full_scale_adu = 16383;
    check_all(emccd, 0xE3CCD3);
  }
}

namespace {
// Calibration maps resembling an ORCA-Flash4.0-class sensor (offset ≈ 100 ADU, ≈ 0.46 e⁻/ADU, read
// variance 1–10 ADU² with 1 % noisy pixels at 30–120 ADU², so the dark level stays 8 SD above
// 0 ADU), drawn from a fixed, printed seed so every pixel differs.
template <class T>
struct ScmosMaps {
  smlm::Image<T> offset, e_per_adu, variance;
  ScmosMaps(Eigen::Index height, Eigen::Index width, std::uint64_t seed)
      : offset(height, width), e_per_adu(height, width), variance(height, width) {
    MESSAGE("sCMOS maps seed " << seed);
    smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
    for (Eigen::Index k = 0; k < offset.size(); ++k) {
      offset.data()[k] = std::floor(smlm::uniform<T>(rng, T(90), T(110)));
      e_per_adu.data()[k] = smlm::uniform<T>(rng, T(0.35), T(0.6));
      const T u = smlm::uniform01<T>(rng);
      variance.data()[k] =
          u < T(0.01) ? smlm::uniform<T>(rng, T(30), T(120)) : smlm::uniform<T>(rng, T(1), T(10));
    }
  }
  camera::Scmos<T> model(T qe = T(0.8)) const {
    return camera::Scmos<T>(smlm::make_view(offset), smlm::make_view(e_per_adu), smlm::make_view(variance),
                            qe);
  }
};
}  // namespace

TEST_CASE_TEMPLATE("camera conformance: Scmos", T, float, double) {
  const ScmosMaps<T> maps(128, 128, 0x5C305);
  SUBCASE("per-pixel maps") { check_all(maps.model(), 0x5C3051); }
  SUBCASE("qe 1, 12-bit") {
    auto scmos = maps.model(T(1));
    scmos.full_scale_adu = 4095;
    check_all(scmos, 0x5C3052);
  }
}

TEST_CASE_TEMPLATE("camera conformance: CmosPhone", T, float, double) {
  camera::CmosPhone<T> phone;
  SUBCASE("cellSTORM preset, inside its linear, unclipped window") {
    // The dark level (4.1 ADU, SD 3.6 ADU) is clipped and the response compresses above 220 ADU:
    // only about 65–75 photons keep both 8 SD away (check_moments skips the rest).
    check_all(phone, 0xCE11, 128, 128, {0, 66, 70, 74});
  }
  SUBCASE("offset 40 ADU: dark level and low signals unclipped") {
    phone.offset_adu = 40;
    check_all(phone, 0xCE12, 128, 128, {0, 5, 20, 50});
  }
  SUBCASE("strong drift and dips, linear response, odd sensor scale") {
    // m(f) spans 0.7–1.2 over frames 0–7, so declaring the frame-0 moments for every frame fails.
    phone.offset_adu = 30;
    phone.compress = false;
    phone.sensor_levels_per_adu = 5;
    phone.drift_amplitude = T(0.2);
    phone.drift_period_frames = 6;
    phone.dip_depth = T(0.3);
    phone.dip_period_frames = 3;
    check_all(phone, 0xCE13, 128, 128, {0, 5, 40});
  }
}

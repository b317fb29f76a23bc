// The conformance suite (smlm/testing/camera_conformance.hpp) on every camera in the library. A
// model joins by adding one entry to camera_families: every check then runs on each of its cases,
// in float and double.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/dark_current.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/doctest.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace camera = smlm::camera;
using smlm::testing::CameraCase;

namespace {

struct IdealCameras {
  template <class T>
  static std::vector<CameraCase<camera::Ideal<T>>> cases() {
    camera::Ideal<T> twelve_bit;
    twelve_bit.full_scale_adu = 4095;
    return {{"defaults", camera::Ideal<T>{}, 0x1DEA1}, {"12-bit full scale", twelve_bit, 0x1DEA2}};
  }
};

// Emccd and FastEmccd (the same model recorded with per-pixel streams and xsimd samplers).
template <template <class> class E>
struct EmccdCameras {
  template <class T>
  static std::vector<CameraCase<E<T>>> cases() {
    // σ = 1 ADU: the 1/12 rounding term is 20 SE of the variance at 0 photons, so it is tested.
    E<T> conventional;
    conventional.em_gain = 1;
    conventional.e_per_adu = 2;
    conventional.read_noise_e = 2;
    conventional.baseline_adu = 500;
    E<T> high_cic;
    high_cic.qe = T(0.3);
    high_cic.cic_electrons = T(0.2);
    high_cic.em_gain = 300;
    high_cic.e_per_adu = 60;
    high_cic.read_noise_e = 80;
    high_cic.full_scale_adu = 16383;
    return {{"defaults", E<T>{}, 0xE3CCD1},
            {"register off (conventional readout), read noise 1 ADU", conventional, 0xE3CCD2},
            {"high CIC, low QE, 14-bit", high_cic, 0xE3CCD3}};
  }
};

// Calibration maps resembling an ORCA-Flash4.0-class sensor (offset ≈ 100 ADU, ≈ 0.46 e⁻/ADU, read
// variance 1–10 ADU² with 1 % noisy pixels at 30–120 ADU², so the dark level stays 8 SD above
// 0 ADU), drawn from a fixed seed so every pixel differs. The model views them: they live as long
// as the test program.
template <class T>
struct ScmosMaps {
  smlm::Image<T> offset, e_per_adu, variance;
  ScmosMaps(Eigen::Index height, Eigen::Index width, std::uint64_t seed)
      : offset(height, width), e_per_adu(height, width), variance(height, width) {
    smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
    for (Eigen::Index k = 0; k < offset.size(); ++k) {
      offset.data()[k] = std::floor(smlm::uniform<T>(rng, T(90), T(110)));
      e_per_adu.data()[k] = smlm::uniform<T>(rng, T(0.35), T(0.6));
      const T u = smlm::uniform01<T>(rng);
      variance.data()[k] = u < T(0.01) ? smlm::uniform<T>(rng, T(30), T(120)) : smlm::uniform<T>(rng, T(1), T(10));
    }
  }
  camera::Scmos<T> model(T qe = T(0.8)) const {
    return camera::Scmos<T>(smlm::make_view(offset), smlm::make_view(e_per_adu), smlm::make_view(variance), qe);
  }
};

struct ScmosCameras {
  template <class T>
  static std::vector<CameraCase<camera::Scmos<T>>> cases() {
    static const ScmosMaps<T> maps(128, 128, 0x5C305);
    auto twelve_bit = maps.model(T(1));
    twelve_bit.full_scale_adu = 4095;
    return {{"per-pixel maps (seed 0x5C305)", maps.model(), 0x5C3051},
            {"per-pixel maps, qe 1, 12-bit", twelve_bit, 0x5C3052}};
  }
};

struct CmosPhoneCameras {
  template <class T>
  static std::vector<CameraCase<camera::CmosPhone<T>>> cases() {
    camera::CmosPhone<T> offset40;
    offset40.offset_adu = 40;
    // m(f) spans 0.7–1.2 over frames 0–7, so declaring the frame-0 moments for every frame fails.
    camera::CmosPhone<T> drifting;
    drifting.offset_adu = 30;
    drifting.compress = false;
    drifting.sensor_levels_per_adu = 5;
    drifting.drift_amplitude = T(0.2);
    drifting.drift_period_frames = 6;
    drifting.dip_depth = T(0.3);
    drifting.dip_period_frames = 3;
    // The preset's dark level (4.1 ADU, SD 3.6 ADU) is clipped and its response compresses above
    // 220 ADU: only about 65–75 photons keep both 8 SD away (the other levels are skipped).
    return {{"cellSTORM preset, inside its linear, unclipped window", camera::CmosPhone<T>{}, 0xCE11, 128, 128,
             {0, 66, 70, 74}},
            {"offset 40 ADU: dark level and low signals unclipped", offset40, 0xCE12, 128, 128, {0, 5, 20, 50}},
            {"strong drift and dips, linear response, odd sensor scale", drifting, 0xCE13, 128, 128, {0, 5, 40}}};
  }
};

// dark_current.hpp's wrapper over each kind of model.
struct DarkIdealCameras {
  template <class T>
  static std::vector<CameraCase<camera::DarkCurrent<camera::Ideal<T>>>> cases() {
    return {{"Ideal, 2 e-/frame, 1 % hot pixels at 500 e-/frame",
             camera::with_dark_current(camera::Ideal<T>{}, 2.0, 0.01, 500.0), 0xDA1}};
  }
};
struct DarkEmccdCameras {
  template <class T>
  static std::vector<CameraCase<camera::DarkCurrent<camera::Emccd<T>>>> cases() {
    return {{"Emccd, 0.2 e-/frame, 0.5 % hot pixels at 20 e-/frame",
             camera::with_dark_current(camera::Emccd<T>{}, 0.2, 0.005, 20.0), 0xDA2}};
  }
};
struct DarkCmosPhoneCameras {
  template <class T>
  static std::vector<CameraCase<camera::DarkCurrent<camera::CmosPhone<T>>>> cases() {
    camera::CmosPhone<T> phone;
    phone.offset_adu = 40;
    return {{"CmosPhone (offset 40 ADU), 3 e-/frame, 1 % hot at 20 e-/frame",
             camera::with_dark_current(phone, 3.0, 0.01, 20.0), 0xDA3, 128, 128, {0, 5, 20}}};
  }
};

}  // namespace

// The one list of cameras: every check of the suite runs on each entry's cases, in float and double.
using camera_families = std::tuple<IdealCameras, EmccdCameras<camera::Emccd>, EmccdCameras<camera::FastEmccd>,
                                   ScmosCameras, CmosPhoneCameras, DarkIdealCameras, DarkEmccdCameras,
                                   DarkCmosPhoneCameras>;
TYPE_TO_STRING(IdealCameras);
TYPE_TO_STRING(EmccdCameras<camera::Emccd>);
TYPE_TO_STRING(EmccdCameras<camera::FastEmccd>);
TYPE_TO_STRING(ScmosCameras);
TYPE_TO_STRING(CmosPhoneCameras);
TYPE_TO_STRING(DarkIdealCameras);
TYPE_TO_STRING(DarkEmccdCameras);
TYPE_TO_STRING(DarkCmosPhoneCameras);

TEST_CASE_TEMPLATE_DEFINE("camera conformance: every check, float and double", F, camera_conformance) {
  const smlm::testing::Report single = smlm::testing::check_camera(F::template cases<float>());
  const smlm::testing::Report twin = smlm::testing::check_camera(F::template cases<double>());
  SMLM_CHECK_REPORT(single);
  SMLM_CHECK_REPORT(twin);
  // Every check ran on every case of this entry, in both scalar types: a camera cannot miss one.
  for (const auto& c : F::template cases<float>()) {
    for (const std::string_view check : smlm::testing::camera_checks) {
      INFO(check, " [", c.name, "]");
      CHECK(single.count(std::string(check) + " <float> [" + c.name + "]") > 0);
      CHECK(twin.count(std::string(check) + " <double> [" + c.name + "]") > 0);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(camera_conformance, camera_families);

namespace {
// The ideal camera declaring 10 % less variance than it records: the moment check must see it.
struct UnderstatedVariance : camera::Ideal<double> {
  double variance_adu(double photons, camera::Pixel = {}) const noexcept { return 0.9 * photons; }
};
}  // namespace

TEST_CASE("camera conformance: a camera declaring the wrong variance fails the moment check, and only it") {
  static_assert(camera::Model<UnderstatedVariance>);
  const smlm::testing::Report report = smlm::testing::check_camera<UnderstatedVariance>({"understated", {}, 0xBAD});
  CHECK_FALSE(report.passed());
  std::size_t variance_failures = 0;
  for (const auto& check : report.checks) {
    if (check.passed) continue;
    INFO(smlm::testing::Report::describe(check));
    const bool variance = std::string_view(check.name).find("^2 - variance_adu") != std::string_view::npos;
    CHECK((check.name.starts_with("moments <double> [understated]") && variance));
    variance_failures += variance ? 1 : 0;
  }
  // 0 photons is deterministic (variance 0, declared and recorded); every other default level fails.
  CHECK(variance_failures == smlm::testing::default_levels.size() - 1);
  CHECK(smlm::testing::check_camera<camera::Ideal<double>>({"ideal", {}, 0xBAD}).passed());
}

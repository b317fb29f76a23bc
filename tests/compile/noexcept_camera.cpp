// Compile-and-run check of the camera models on the microcontroller path: -fno-exceptions,
// -fno-rtti, SMLM_NO_SIMD (FastEmccd then records through its scalar pixel function).
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/dark_current.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>

#if !defined(SMLM_NO_EXCEPTIONS) || defined(__GXX_RTTI) || !defined(SMLM_NO_SIMD)
#error "this translation unit must be built with -fno-exceptions -fno-rtti -DSMLM_NO_SIMD"
#endif

int main() {
  int failures = 0;
  smlm::Image<float> photons = smlm::Image<float>::Constant(16, 16, 60.0f), adu(16, 16), ref(16, 16);
  // FastEmccd: record (scalar under SMLM_NO_SIMD) equals record_ref; the mean is near the declared one
  // (mean 550 ADU, SD ~95 ADU per pixel: the mean of 256 pixels is within ±30).
  const smlm::camera::FastEmccd<float> fast;
  smlm::camera::record_frame(fast, smlm::const_view(photons), 3, 1, smlm::make_view(adu));
  smlm::Philox4x32 rng = smlm::camera::frame_engine(3, 1);
  fast.record_ref(smlm::const_view(photons), rng, smlm::make_view(ref));
  failures += !(adu == ref).all();
  failures += !(std::abs(adu.mean() - fast.mean_adu(60)) < 30);
  // CmosPhone and DarkCurrent: 8-bit values, the dark level moves up by the dark current.
  const smlm::camera::CmosPhone<float> phone;
  smlm::camera::record_frame(phone, smlm::const_view(photons), 3, 2, smlm::make_view(adu));
  // (A loop, not maxCoeff: GCC 12 warns about Eigen's AVX-512 reductions under -Werror.)
  for (Eigen::Index i = 0; i < adu.size(); ++i) failures += !(adu.data()[i] >= 0 && adu.data()[i] <= 255);
  const auto dark = smlm::camera::with_dark_current(smlm::camera::Ideal<float>{}, 50.0);
  photons.setZero();
  smlm::camera::record_frame(dark, smlm::const_view(photons), 3, 3, smlm::make_view(adu));
  failures += !(std::abs(adu.mean() - 50) < 3);  // SD of the mean 0.44
  if (failures) std::fprintf(stderr, "noexcept_camera: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

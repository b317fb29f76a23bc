// Compile-and-run check of the tabulated, Airy and pupil-function PSF models without exceptions,
// RTTI or SIMD (the microcontroller path; building the pupil table is an edge step, but it too
// must compile there). Exits 0 only when each model renders its photons.
#include <smlm/psf/airy.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/pupil.hpp>
#include <smlm/psf/tabulated.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif

namespace {
template <class M>
int renders_photons(const M& model, float z_nm) {
  smlm::Image<float> frame = smlm::Image<float>::Zero(48, 48);
  model.add_to(smlm::psf::Spot<float>{24.3f, 23.8f, z_nm, 1000.0f, 0.0f}, smlm::make_view(frame));
  const float sum = frame.sum();
  return sum > 990.0f && sum < 1010.0f ? 0 : 1;
}
}  // namespace

int main() {
  int failures = 0;
  auto table = smlm::psf::Tabulated<float, false>::from_table(
      smlm::psf::tabulate(smlm::psf::IntegratedGaussian<double>{.sigma_px = 1.3}, 6, 2));
  failures += !table;
  if (table) failures += renders_photons(*table, 0.0f);
  failures += renders_photons(smlm::psf::Airy<float>{}, 0.0f);
  smlm::psf::PupilOptics optics;
  optics.aberrations = {{6, 60.0}};
  optics.planes = 3;
  optics.z_first_nm = -200;
  optics.z_step_nm = 200;
  optics.fft_size = 256;
  auto pupil = smlm::psf::make_pupil_psf<float>(optics);
  failures += !pupil;
  if (pupil) failures += renders_photons(*pupil, 100.0f);
  auto bad = smlm::psf::Tabulated<float>::from_table(smlm::psf::PsfTable{});
  failures += bool(bad);
  if (failures) std::fprintf(stderr, "noexcept_psf: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

// The localization kernels on the microcontroller path: -fno-exceptions -fno-rtti, SMLM_NO_SIMD.
// Fits one noiseless spot and finds one peak; exits 0 only when both give the expected answer.
#include <smlm/camera/ideal.hpp>
#include <smlm/loc/classic_pipeline.hpp>
#include <smlm/loc/crlb.hpp>
#include <smlm/loc/fitter.hpp>
#include <smlm/loc/peak_finder.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif

int main() {
  int failures = 0;
  const smlm::psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  const smlm::psf::Window w{0, 0, 9, 9};
  smlm::Image<float> data(9, 9);
  model.evaluate({4.3f, 4.6f, 0, 1000, 10}, w, smlm::make_view(data));
  smlm::loc::FitWorkspace<float> ws(w.size());
  const auto view = smlm::const_view(data);
  const auto r = smlm::loc::fit(model, view, w, smlm::loc::poisson_noise<float>(), smlm::loc::initial_guess(view, w),
                                smlm::loc::FitOptions{}, ws);
  failures += !(r.status == smlm::loc::fit_status::converged && std::abs(r.spot.x_px - 4.3f) < 1e-3f);
  const auto c = smlm::loc::crlb(model, r.spot, w, smlm::loc::poisson_noise<float>(), false, ws);
  failures += !(c.ok && c.x_px() > 0.01 && c.x_px() < 0.1);
  smlm::loc::Peak peaks[4];
  const auto p = smlm::loc::find_peaks(view, smlm::loc::PeakFinderOptions{}, std::span<smlm::loc::Peak>(peaks));
  failures += !(p.count == 1 && peaks[0].row == 4 && peaks[0].col == 4);
  if (failures) std::fprintf(stderr, "noexcept_loc: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

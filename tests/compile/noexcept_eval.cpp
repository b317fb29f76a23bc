// Compile-and-run check: eval, render and post build and work with -fno-exceptions -fno-rtti and
// without SIMD (the microcontroller path). Exits 0 only when the results are as expected.
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/frc.hpp>
#include <smlm/eval/image_nmse.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/eval/nearest_neighbour.hpp>
#include <smlm/render/colormap.hpp>
#include <smlm/render/frame_sum.hpp>
#include <smlm/render/gaussian.hpp>
#include <smlm/render/histogram.hpp>
#include <smlm/render/scale_bar.hpp>
#include <smlm/post/drift.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif

int main() {
  int failures = 0;
  smlm::LocalizationTable truth, test;
  for (int i = 0; i < 4; ++i) {
    truth.frame.push_back(1);
    truth.x_nm.push_back(50.0 + 100.0 * i);
    truth.y_nm.push_back(50.0);
    test.frame.push_back(1);
    test.x_nm.push_back(53.0 + 100.0 * i);
    test.y_nm.push_back(54.0);
  }
  const auto metrics = smlm::eval::detection_metrics(smlm::eval::match(truth, test));
  failures += !(metrics.tp == 4 && metrics.jaccard == 1.0);
  failures += !(metrics.rmse_lateral_nm > 4.999 && metrics.rmse_lateral_nm < 5.001);
  failures += !(smlm::eval::nearest_neighbour_distances(truth, test, 50)[0] > 4.999);

  const smlm::render::FieldOfView fov{0, 0, 400, 100};
  const auto image = smlm::render::render_gaussian(truth, fov, 10);
  failures += !(image.sum() > 3.9f && image.sum() < 4.1f);
  failures += !(smlm::render::render_histogram(truth, fov, 10).sum() == 4.0f);
  auto rgb = smlm::render::apply_colormap(image, 0.0f, 0.5f, smlm::render::colormap::hot);
  smlm::render::ScaleBarOptions bar;
  bar.length_nm = 100;
  failures += !(smlm::render::burn_scale_bar(rgb, 10, bar) == 10);

  const auto curve = smlm::eval::fourier_ring_correlation(image, image, 10);
  failures += !(curve.correlation[1] > 0.999);
  failures += !(smlm::eval::nmse_projected(image, image) < 1e-12);

  // Drift: frame 2 shows frame 1's 40 points shifted by (30, -10) nm.
  smlm::LocalizationTable moving;
  for (int k = 0; k < 40; ++k)
    for (int f = 1; f <= 2; ++f) {
      moving.frame.push_back(f);
      moving.x_nm.push_back(97.0 * (k % 7) + 13.0 * k + (f == 2 ? 30.0 : 0.0));
      moving.y_nm.push_back(71.0 * (k / 7) + 5.0 * k + (f == 2 ? -10.0 : 0.0));
    }
  smlm::post::DriftOptions drift_options;
  drift_options.segment_frames = 1;
  const auto drift = smlm::post::estimate_drift(moving, drift_options);
  failures += !(drift && std::abs(drift->at(2).first - 30.0) < 1.0 && std::abs(drift->at(2).second + 10.0) < 1.0);
  if (failures) std::fprintf(stderr, "noexcept_eval: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

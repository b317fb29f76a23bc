// Compile-and-run check: eval and render build and work with -fno-exceptions -fno-rtti and
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
  if (failures) std::fprintf(stderr, "noexcept_eval: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

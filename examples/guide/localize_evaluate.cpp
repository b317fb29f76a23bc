// Classic localization and its evaluation: ThunderSTORM's chain (wavelet filter, local maxima,
// one maximum-likelihood Gaussian fit per candidate, CRLB as the uncertainty) over a TIFF stack,
// then optimal one-to-one matching against the ground truth, and the field's metrics.
//
//   guide_localize_evaluate [STACK.tif TRUTH.csv] [OUT.csv]
//
// Defaults: the ThunderSTORM reference stack of ../shared/data and its ground truth (100 nm
// pixels, σ ≈ 110 nm, counts = 100 + photons), classic_localizations.csv.
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff.hpp>
#include <smlm/loc/classic_pipeline.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

// One line on stderr naming what failed, and the exit status for it.
int fail(const std::string& message) {
  std::fprintf(stderr, "localize_evaluate: %s\n", message.c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc == 2) return fail("give both STACK.tif and TRUTH.csv, or neither");
  const std::string stack_path = argc > 2 ? argv[1] : SMLM_GUIDE_DATA_DIR "/thunderstorm_sim_20frames.tif";
  const std::string truth_path = argc > 2 ? argv[2] : SMLM_GUIDE_DATA_DIR "/thunderstorm_sim_20frames_positions.csv";
  const std::string output = argc > 3 ? argv[3] : "classic_localizations.csv";
  const double pixel_nm = 100;

  auto reader = smlm::io::TiffReader::open(stack_path);  // streams: one frame in memory at a time
  if (!reader) return fail(reader.message());
  auto truth = smlm::io::read_localizations_csv(truth_path);
  if (!truth) return fail(truth.message());

  // The models the fit uses: the PSF, and the camera that turns counts into photons and says how
  // noisy they are. This stack's camera adds 100 to the photon count and no noise of its own: an
  // EMCCD with its register off (gain 1), 1 count per electron, no read noise.
  const smlm::psf::IntegratedGaussian<float> psf{.sigma_px = 1.1f};
  smlm::camera::Emccd<float> camera;
  camera.em_gain = 1, camera.qe = 1, camera.read_noise_e = 0, camera.e_per_adu = 1, camera.baseline_adu = 100;
  const smlm::loc::NoiseModel<float> noise = smlm::loc::noise_model<float>(camera);

  smlm::loc::ClassicOptions options;
  options.threshold_factor = 0.3;  // a dense stack: a low threshold (ThunderSTORM's default is 1)
  options.fit_radius_px = 2;       // 5 × 5 pixel fit windows
  smlm::loc::ClassicWorkspace<float> workspace(reader->height(), reader->width(), options);
  std::vector<smlm::loc::FrameLocalization> fits(workspace.peaks.size());
  smlm::Image<float> frame;
  smlm::LocalizationTable locs;
  for (std::ptrdiff_t f = 0; f < reader->frames(); ++f) {
    if (auto s = reader->read_frame(f, frame); !s.ok()) return fail(s.message());
    const auto camera_frame = static_cast<std::uint32_t>(f);  // 0-based, as the camera counts
    const smlm::loc::FrameReport report = smlm::loc::localize_frame(
        psf, camera, noise, smlm::const_view(frame), camera_frame, options, workspace, std::span(fits));
    const auto table_frame = static_cast<std::int32_t>(f + 1);  // 1-based, as tables count
    smlm::loc::append_localizations(locs, std::span(fits.data(), report.kept), table_frame, pixel_nm);
  }
  if (auto s = smlm::io::write_localizations_csv(output, locs); !s.ok()) return fail(s.message());
  std::printf("frames=%td localizations=%zu truth=%zu -> %s\n", reader->frames(), locs.size(), truth->size(),
              output.c_str());

  // Optimal matching (the largest number of pairs, then the least total distance) per frame, at
  // three tolerances; the Jaccard index is TP / (TP + FP + FN).
  for (const double tolerance_nm : {50.0, 100.0, 250.0}) {
    const smlm::eval::Matching matching = smlm::eval::match(*truth, locs, {.tolerance_nm = tolerance_nm});
    const smlm::eval::DetectionMetrics m = smlm::eval::detection_metrics(matching);
    std::printf("tolerance %3.0f nm: jaccard=%.3f precision=%.3f recall=%.3f rmse_nm=%.1f tp=%zu fp=%zu fn=%zu\n",
                tolerance_nm, m.jaccard, m.precision, m.recall, m.rmse_lateral_nm, m.tp, m.fp, m.fn);
  }
  return 0;
}

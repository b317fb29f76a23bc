// `smlm localize STACK.tif -o LOCS.csv [--pixel-nm P] [--camera ideal|emccd|scmos|cmos-phone]
//  [--method mle|lsq|wlsq]`: the classic wavelet + Gaussian-fit pipeline (loc/classic_pipeline.hpp),
// streaming the stack frame by frame and writing a ThunderSTORM CSV. Prints one summary line:
//   frames=<n> candidates=<n> localizations=<n> converged=<n> max_iterations=<n> singular=<n> out_of_window=<n> not_finite=<n>
//
// --camera cmos-phone is camera::CmosPhone's cellSTORM preset, the camera `smlm simulate --camera
// cmos-phone` records with (both start from CmosPhone<float>{}; simulate has no flags for it):
// frame f of the stack (0-based) is converted and weighted with that camera's frame f — its
// drifting, dipping frame gain and its fixed pattern — as simulate recorded it (a stack cut out
// of a longer movie no longer lines up with those frames). --baseline-adu, --e-per-adu, --qe and
// --read-noise-e override the preset's offset_adu, e_per_adu, qe and read_noise_e (for a phone
// calibrated with `smlm calibrate`). The fit assumes the linear response: pixels clipped at 0 (a
// background under a few photons) or above the knee (camera::linear_max_adu, 220 ADU) bias it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/loc/classic_pipeline.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct LocalizeOptions {
  std::string input, output;
  double pixel_nm = 100;
  std::string camera = "ideal";
  std::string method = "mle";
  double threshold = 1.0;   ///< × std of the first wavelet level
  int fit_radius_px = 3;
  double sigma_nm = 160;    ///< PSF σ (fixed, or the start with --fit-sigma)
  bool fit_sigma = false;
  // camera parameters (emccd, scmos, cmos-phone); defaults are those of the library's models
  double baseline_adu = -1;  ///< < 0: the model's default
  double e_per_adu = -1;
  double em_gain = -1;
  double qe = -1;
  double read_noise_e = -1;
  int passes = 1;         ///< detection passes (loc::ClassicOptions::passes)
  int refine_rounds = 2;  ///< with passes > 1: joint refit rounds
  int multi_emitter = 1;  ///< most emitters per fit window (loc::MultiEmitterOptions::max_emitters)
  double multi_p_value = 1e-6;  ///< significance an extra emitter must reach
  bool summary = true;  ///< print the summary line (callers that report themselves turn it off)
};

namespace detail {
/// `noise_of(std::uint32_t frame)` gives the noise model of frame `frame` (0-based).
template <class Camera, class NoiseOf>
void run_localize(const LocalizeOptions& opt, const Camera& camera, const NoiseOf& noise_of, io::TiffReader& reader) {
  loc::ClassicOptions co;
  co.threshold_factor = opt.threshold;
  co.fit_radius_px = opt.fit_radius_px;
  co.passes = opt.passes;
  co.refine_rounds = opt.refine_rounds;
  co.multi.max_emitters = opt.multi_emitter;
  co.multi.p_value = opt.multi_p_value;
  co.fit.method = opt.method == "mle" ? loc::estimator::mle : opt.method == "lsq" ? loc::estimator::lsq : loc::estimator::wlsq;
  co.fit.fit_sigma = opt.fit_sigma;
  const psf::IntegratedGaussian<float> model{.sigma_px = static_cast<float>(opt.sigma_nm / opt.pixel_nm)};
  loc::ClassicWorkspace<float> ws(reader.height(), reader.width(), co);
  std::vector<loc::FrameLocalization> fits(ws.kept.size());
  Image<float> frame(reader.height(), reader.width());
  LocalizationTable table;
  std::array<std::size_t, 5> by_status{};
  std::size_t candidates = 0, multi_windows = 0;
  for (std::ptrdiff_t f = 0; f < reader.frames(); ++f) {
    check(reader.read_frame(f, frame));
    const auto camera_frame = static_cast<std::uint32_t>(f);
    const loc::NoiseModel<float> noise = noise_of(camera_frame);
    const loc::FrameReport r =
        loc::localize_frame(model, camera, noise, const_view(frame), camera_frame, co, ws, std::span(fits));
    candidates += r.candidates;
    multi_windows += r.multi_windows;
    for (std::size_t k = 0; k < by_status.size(); ++k) by_status[k] += r.by_status[k];
    loc::append_localizations(table, std::span<const loc::FrameLocalization>(fits.data(), r.kept),
                              static_cast<std::int32_t>(f + 1), opt.pixel_nm);
  }
  check(io::write_localizations_csv(opt.output, table));
  if (!opt.summary) return;
  std::printf("frames=%td candidates=%zu localizations=%zu converged=%zu max_iterations=%zu singular=%zu "
              "out_of_window=%zu not_finite=%zu",
              reader.frames(), candidates, table.size(), by_status[0], by_status[1], by_status[2], by_status[3],
              by_status[4]);
  // With --multi-emitter, the windows fitted with several emitters end the same line.
  if (opt.multi_emitter > 1) std::printf(" multi_emitter_windows=%zu", multi_windows);
  std::printf("\n");
}
}  // namespace detail

inline void run_localize(const LocalizeOptions& opt) {
  auto reader = unwrap(io::TiffReader::open(opt.input));
  if (reader.frames() == 0) throw cli_error(opt.input + ": the stack has no frames");
  if (opt.camera == "ideal") {
    const camera::Ideal<float> cam;
    const auto noise = loc::noise_model<float>(cam);
    detail::run_localize(opt, cam, [&](std::uint32_t) { return noise; }, reader);
  } else if (opt.camera == "emccd") {
    camera::Emccd<float> cam;
    if (opt.baseline_adu >= 0) cam.baseline_adu = static_cast<float>(opt.baseline_adu);
    if (opt.e_per_adu > 0) cam.e_per_adu = static_cast<float>(opt.e_per_adu);
    if (opt.em_gain > 0) cam.em_gain = static_cast<float>(opt.em_gain);
    if (opt.qe > 0) cam.qe = static_cast<float>(opt.qe);
    if (opt.read_noise_e >= 0) cam.read_noise_e = static_cast<float>(opt.read_noise_e);
    if (!cam.valid()) throw cli_error("--camera emccd: a camera parameter is out of range (--em-gain >= 1, --qe in (0, 1])");
    const auto noise = loc::noise_model<float>(cam);
    detail::run_localize(opt, cam, [&](std::uint32_t) { return noise; }, reader);
  } else if (opt.camera == "cmos-phone") {
    camera::CmosPhone<float> cam;  // the preset of `smlm simulate --camera cmos-phone`
    if (opt.baseline_adu >= 0) cam.offset_adu = static_cast<float>(opt.baseline_adu);
    if (opt.e_per_adu > 0) cam.e_per_adu = static_cast<float>(opt.e_per_adu);
    if (opt.qe > 0) cam.qe = static_cast<float>(opt.qe);
    if (opt.read_noise_e >= 0) cam.read_noise_e = static_cast<float>(opt.read_noise_e);
    if (!cam.valid()) throw cli_error("--camera cmos-phone: a camera parameter is out of range (--qe in (0, 1])");
    // The frame gain changes the photon-domain noise only through the 1/12 ADU² of the output
    // rounding, but the model is still the frame's own.
    detail::run_localize(opt, cam, [&](std::uint32_t f) { return loc::noise_model<float>(cam, f); }, reader);
  } else {  // scmos: uniform maps, the flags over the command line's defaults (ScmosDefaults, as simulate)
    const auto h = reader.height(), w = reader.width();
    const double e_per_adu = opt.e_per_adu > 0 ? opt.e_per_adu : ScmosDefaults::e_per_adu;
    const Image<float> offset =
        Image<float>::Constant(h, w, static_cast<float>(opt.baseline_adu >= 0 ? opt.baseline_adu : ScmosDefaults::offset_adu));
    const Image<float> gain = Image<float>::Constant(h, w, static_cast<float>(e_per_adu));
    const double rn_adu = (opt.read_noise_e >= 0 ? opt.read_noise_e : ScmosDefaults::read_noise_e()) / e_per_adu;
    const Image<float> var = Image<float>::Constant(h, w, static_cast<float>(rn_adu * rn_adu));
    const camera::Scmos<float> cam(offset, gain, var, static_cast<float>(opt.qe > 0 ? opt.qe : ScmosDefaults::qe));
    if (opt.qe > 1) throw cli_error("--qe " + std::to_string(opt.qe) + ": must be in (0, 1]");
    Image<float> ex(h, w), rv(h, w);
    const auto noise = loc::noise_model<float>(cam, make_view(ex), make_view(rv));
    detail::run_localize(opt, cam, [&](std::uint32_t) { return noise; }, reader);
  }
}

inline void register_localize(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("localize", "classic wavelet + Gaussian-fit localization of a TIFF stack");
  auto opt = std::make_shared<LocalizeOptions>();
  cmd->add_option("STACK", opt->input, "TIFF stack (ADU)")->required();
  cmd->add_option("-o,--output", opt->output, "localization CSV (ThunderSTORM columns)")->required();
  cmd->add_option("--pixel-nm", opt->pixel_nm, "camera pixel size in nm")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--camera", opt->camera, "camera model: ideal, emccd, scmos or cmos-phone (the preset of simulate)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ideal", "emccd", "scmos", "cmos-phone"}));
  cmd->add_option("--method", opt->method, "fit: mle (Poisson ML), lsq (least squares), wlsq (weighted)")
      ->capture_default_str()
      ->check(CLI::IsMember({"mle", "lsq", "wlsq"}));
  cmd->add_option("--threshold", opt->threshold, "detection threshold in units of std(first wavelet level)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--fit-radius", opt->fit_radius_px, "fit window half-width in pixels")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  cmd->add_option("--sigma-nm", opt->sigma_nm, "PSF sigma in nm (fixed, or the start value with --fit-sigma)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--fit-sigma", opt->fit_sigma, "fit sigma per molecule");
  cmd->add_option("--passes", opt->passes,
                  "detection passes: each later pass detects and fits on the frame minus the fits so far, then "
                  "refits every fit with its neighbours subtracted (1: single pass; 3 for dense frames)")
      ->capture_default_str()
      ->check(CLI::Range(1, 8));
  cmd->add_option("--multi-emitter", opt->multi_emitter,
                  "most emitters per fit window: 1..N emitters are fitted and a likelihood-ratio (mle) or F test "
                  "(lsq, wlsq) keeps the number the data support (1: off; 3 for dense frames)")
      ->capture_default_str()
      ->check(CLI::Range(1, loc::max_emitters));
  cmd->add_option("--multi-p-value", opt->multi_p_value, "with --multi-emitter > 1: significance an extra emitter must reach")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--refine-rounds", opt->refine_rounds, "with --passes > 1: rounds of refitting every fit")
      ->capture_default_str()
      ->check(CLI::Range(0, 8));
  cmd->add_option("--baseline-adu", opt->baseline_adu, "camera offset in ADU (emccd, scmos, cmos-phone)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--e-per-adu", opt->e_per_adu, "electrons per ADU (emccd, scmos, cmos-phone)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--em-gain", opt->em_gain, "EM gain, >= 1 (emccd)")->check(CLI::Range(1.0, 1e6));
  cmd->add_option("--qe", opt->qe, "quantum efficiency in (0, 1] (emccd, scmos, cmos-phone)")
      ->check(CLI::Range(1e-6, 1.0));
  cmd->add_option("--read-noise-e", opt->read_noise_e, "read noise, rms electrons (emccd, scmos, cmos-phone)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([opt, &exit_code] {
    run_localize(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

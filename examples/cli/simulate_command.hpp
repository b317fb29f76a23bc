// `smlm simulate -o STACK.tif --truth TRUTH.csv [...]`: a simulated 16-bit TIFF stack and its
// ground truth (DESIGN.md's CLI contract).
//
// --density is the mean number of emitters ON per frame per µm² (what SMLM papers and the
// ThunderSTORM generator call density). The structure is labelled with density / π_on
// fluorophores per µm², π_on = p_on / (p_on + p_off) being the blinking chain's stationary
// on-fraction, so that frames start at the requested density (bleaching lowers it later). For
// filaments, rings and stripes the labels are spread along the structure at that overall density;
// `--structure mask --mask IMAGE.tif` distributes them in proportion to the image's values.
// The stack is written frame by frame as it is simulated; the truth table (one row per emitter
// per frame) is written at the end.
//
// --quality Q (0..100, codec::quality_to_qp) sends every recorded frame through the phone video
// path before it is written: the camera's counts are mapped to 8-bit video levels
// (codec::VideoConversion, fixed for the whole movie), H.264-style encoded (GOP --gop, I-frames
// every --gop frames) and replaced by the reconstruction the decoder would output; the stack is
// then 8-bit. The mapping sends the camera's dark level minus 3 dark SD to 0 and the mean count at
// the brightest spot's peak (background + max photons / (2π σ²) photons) to 255, unless
// --video-offset / --video-gain set it; cmos-phone frames are already video levels and pass as
// they are. The ground truth is that of the scene, not of the degraded frames.
//
// --drift-nm-per-frame DX,DY and --drift-walk-nm S move the stage (sim::Drift: d(f) = f·(DX, DY)
// plus a Gaussian random walk of step sd S per axis): the frames show every molecule displaced by
// d(f), the truth CSV keeps the undrifted positions, so `smlm drift` can be checked against it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <span>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/codec/settings.hpp>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/sim/codec_stage.hpp>
#include <smlm/sim/simulator.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct SimulateOptions {
  std::string output;
  std::string truth;
  std::ptrdiff_t frames = 100;
  std::ptrdiff_t size = 64;
  double pixel_nm = 100;
  std::string structure = "uniform";
  double density = 1;
  std::string photons = "2000:2500";
  double sigma_nm = 110;
  double background = 50;
  std::string camera = "emccd";
  double quality = -1;  // < 0: not given
  int gop = 30;         // codec I-frame period, with --quality
  double video_offset = std::nan("");  // ADU mapped to video level 0 (NaN: from the camera)
  double video_gain = std::nan("");    // video levels per ADU (NaN: from the camera)
  std::uint64_t seed = 1;
  std::string psf = "integrated";
  double p_on = 0.05;
  double p_off = 0.5;
  double p_bleach = 0;
  int threads = 0;
  std::string mask;  // --mask IMAGE.tif: density weights (first frame), for --structure mask
  std::vector<double> drift_nm_per_frame;  // --drift-nm-per-frame DX,DY; empty: none
  double drift_walk_nm = 0;               // --drift-walk-nm: random-walk step sd per frame per axis
  bool summary = true;  // print the summary line (callers that report themselves turn it off)
};

/// A usage error (exit 2): names the flag and the value.
[[noreturn]] inline void bad_value(const std::string& flag, const std::string& value, const std::string& why) {
  throw CLI::ValidationError(flag, "value " + value + " " + why);
}

/// "A:B" (uniform) or "A" (constant) photons per emitter per frame.
inline sim::PhotonDistribution parse_photons(const std::string& text) {
  const NumberRange r = parse_range("--photons", text, RangeBound::non_negative);
  return r.single ? sim::PhotonDistribution::constant(r.lo) : sim::PhotonDistribution::uniform(r.lo, r.hi);
}

inline void validate_simulate(const SimulateOptions& o) {
  if (o.frames < 1) bad_value("--frames", std::to_string(o.frames), "must be at least 1");
  if (o.size < 1 || o.size > 16384) bad_value("--size", std::to_string(o.size), "must be in 1..16384");
  if (!(o.pixel_nm > 0) || !std::isfinite(o.pixel_nm)) bad_value("--pixel-nm", format_number(o.pixel_nm), "must be positive");
  if (o.structure != "uniform" && o.structure != "filaments" && o.structure != "rings" && o.structure != "stripes" &&
      o.structure != "mask")
    bad_value("--structure", o.structure, "is not one of uniform, filaments, rings, stripes, mask");
  if ((o.structure == "mask") != !o.mask.empty())
    throw CLI::ValidationError("--mask", o.mask.empty() ? "is required by --structure mask" : "needs --structure mask");
  if (!(o.density >= 0) || !std::isfinite(o.density)) bad_value("--density", format_number(o.density), "must be >= 0");
  if (!(o.sigma_nm > 0) || !std::isfinite(o.sigma_nm)) bad_value("--sigma-nm", format_number(o.sigma_nm), "must be positive");
  if (!(o.background >= 0) || !std::isfinite(o.background))
    bad_value("--background", format_number(o.background), "must be >= 0");
  if (o.camera != "ideal" && o.camera != "emccd" && o.camera != "scmos" && o.camera != "cmos-phone")
    bad_value("--camera", o.camera, "is not one of ideal, emccd, scmos, cmos-phone");
  if (o.psf != "integrated" && o.psf != "gaussian") bad_value("--psf", o.psf, "is not one of integrated, gaussian");
  for (const auto& [flag, p] : {std::pair{"--p-on", o.p_on}, std::pair{"--p-off", o.p_off}, std::pair{"--p-bleach", o.p_bleach}})
    if (!(p >= 0 && p <= 1)) bad_value(flag, format_number(p), "must be a probability in [0, 1]");
  if (o.p_off + o.p_bleach > 1) bad_value("--p-bleach", format_number(o.p_bleach), "plus --p-off exceeds 1");
  if (o.p_on + o.p_off <= 0) bad_value("--p-on", format_number(o.p_on), "and --p-off cannot both be 0");
  if (o.threads < 0) bad_value("--threads", std::to_string(o.threads), "must be >= 0");
  if (o.quality >= 0 && (o.quality > 100 || o.quality != std::floor(o.quality)))
    bad_value("--quality", format_number(o.quality), "must be an integer in 0..100");
  if (o.gop < 1 || o.gop > 65535) bad_value("--gop", std::to_string(o.gop), "must be in 1..65535");
  if (!std::isnan(o.video_gain) && !(o.video_gain > 0 && std::isfinite(o.video_gain)))
    bad_value("--video-gain", format_number(o.video_gain), "must be positive");
  if (!std::isnan(o.video_offset) && !std::isfinite(o.video_offset))
    bad_value("--video-offset", format_number(o.video_offset), "must be finite");
  if (!o.drift_nm_per_frame.empty() &&
      (o.drift_nm_per_frame.size() != 2 || !std::isfinite(o.drift_nm_per_frame[0]) || !std::isfinite(o.drift_nm_per_frame[1])))
    throw CLI::ValidationError("--drift-nm-per-frame", "needs two finite numbers DX,DY (nm per frame)");
  if (!(o.drift_walk_nm >= 0) || !std::isfinite(o.drift_walk_nm))
    bad_value("--drift-walk-nm", format_number(o.drift_walk_nm), "must be >= 0");
  (void)parse_photons(o.photons);
}

/// Label positions for the chosen structure at `labels_per_um2` overall.
inline std::vector<sim::Position> simulate_labels(const SimulateOptions& o, const sim::Field& field, double labels_per_um2) {
  std::vector<sim::Position> labels;
  const double total = labels_per_um2 * field.area_um2();
  if (o.structure == "uniform") {
    check(sim::uniform(field, {labels_per_um2}, o.seed, labels));
  } else if (o.structure == "filaments") {
    // About one chain per 4 µm², each 1.5 field diagonals long and winding (Lp = 3 µm); the labels
    // per µm spread `total` over the chains' contour (a part falls outside the field).
    sim::FilamentParams p;
    p.count = std::max(1, static_cast<int>(std::lround(field.area_um2() / 4)));
    p.length_nm = 1.5 * std::hypot(field.width_nm, field.height_nm);
    p.persistence_nm = 3000;
    p.step_nm = std::min(10.0, p.length_nm);
    p.labels_per_um = total / (p.count * p.length_nm * 1e-3);
    check(sim::filaments(field, p, o.seed, labels));
  } else if (o.structure == "rings") {
    sim::RingParams p;
    p.radius_nm = std::min(100.0, 0.2 * std::min(field.width_nm, field.height_nm));
    p.labels_per_ring = 8;
    p.label_sd_nm = 5;
    p.count = static_cast<int>(std::lround(total / p.labels_per_ring));
    check(sim::rings(field, p, o.seed, labels));
  } else if (o.structure == "mask") {
    // The image's first frame, stretched over the field, weights the label density.
    io::TiffReader reader = unwrap(io::TiffReader::open(o.mask));
    Image<double> weights;
    check(reader.read_frame(0, weights));
    if (auto s = sim::density_mask<double>(field, const_view(weights), labels_per_um2, o.seed, labels); !s.ok())
      throw cli_error("--mask " + o.mask + ": " + s.message());
  } else {
    // Pairs at 50–400 nm, as many as fit at least 1 µm apart.
    sim::StripeParams p;
    p.separations_nm.clear();
    const double all[] = {50, 100, 150, 200, 300, 400};
    const auto fit = std::max<std::size_t>(1, std::min<std::size_t>(6, static_cast<std::size_t>(field.width_nm / 1000)));
    for (std::size_t k = 0; k < fit; ++k)
      if (all[k] < 0.5 * field.width_nm / static_cast<double>(fit)) p.separations_nm.push_back(all[k]);
    if (p.separations_nm.empty()) throw cli_error("--structure stripes: the field (--size x --pixel-nm) is too narrow for a line pair");
    p.labels_per_um = total / (2.0 * static_cast<double>(p.separations_nm.size()) * field.height_nm * 1e-3);
    check(sim::stripes(field, p, o.seed, labels));
  }
  return labels;
}

/// sCMOS maps for the command line: ScmosDefaults (offset 100 ADU, 0.5 e⁻/ADU, read variance
/// 4 ADU²) with per-pixel spread — offset ± 2 ADU, gain ± 5 %, variance ± 25 % (uniform) — drawn
/// from the seed (stream rng_purpose::user).
struct ScmosMaps {
  Image<float> offset, gain, variance;
  ScmosMaps(std::ptrdiff_t h, std::ptrdiff_t w, std::uint64_t seed) : offset(h, w), gain(h, w), variance(h, w) {
    Philox4x32 rng(seed, 0, rng_purpose::user);
    for (std::ptrdiff_t i = 0; i < offset.size(); ++i) {
      offset.data()[i] = static_cast<float>(ScmosDefaults::offset_adu) + 2 * normal<float>(rng);
      gain.data()[i] = static_cast<float>(ScmosDefaults::e_per_adu) * (1 + 0.05f * normal<float>(rng));
      variance.data()[i] = static_cast<float>(ScmosDefaults::read_variance_adu2) * uniform<float>(rng, 0.75f, 1.25f);
    }
  }
};

/// The camera-count → 8-bit video mapping of --quality (see the header comment): the rule of
/// sim::video_conversion_for, with --video-offset / --video-gain overriding its ends.
template <class Camera>
codec::VideoConversion video_conversion(const SimulateOptions& o, const Camera& camera, bool already_video) {
  if (already_video && std::isnan(o.video_offset) && std::isnan(o.video_gain)) return {};
  const double low = std::isnan(o.video_offset) ? sim::video_black_adu(camera) : o.video_offset;
  if (!std::isnan(o.video_gain)) return {low, o.video_gain};
  const sim::PhotonDistribution photons = parse_photons(o.photons);
  const double sigma_px = o.sigma_nm / o.pixel_nm;
  return codec::VideoConversion::spanning(low, std::max(sim::spot_peak_adu(camera, o.background, photons.b, sigma_px), low + 1));
}

template <class Psf, class Camera>
void run_simulation(const SimulateOptions& o, const Psf& psf, const Camera& camera, const sim::SimulationConfig<float>& config,
                    std::vector<sim::Position> labels, bool already_video = false) {
  sim::Simulator<Psf, Camera> simulator(psf, camera, config, std::move(labels));
  const bool coded = o.quality >= 0;
  io::TiffWriter writer =
      unwrap(io::TiffWriter::create(o.output, coded ? io::pixel_type::u8 : io::pixel_type::u16, o.size, o.size, o.frames));
  LocalizationTable truth;
  auto sink = [&](std::ptrdiff_t, ConstImageView<float> adu, std::span<const Emitter<double>> emitters) {
    sim::append_truth(truth, emitters, o.pixel_nm);
    return writer.write_frame(adu);
  };
  std::size_t coded_bytes = 0;
  if (!coded) {
    check(simulator.run(o.frames, sink));
  } else {
    codec::Settings settings;
    settings.quality = static_cast<int>(o.quality);
    settings.gop = o.gop;
    // The simulator calls the stage on one thread in frame order, as a P-frame coder needs.
    auto stage = unwrap(sim::CodecStage::create(settings, static_cast<int>(o.size), static_cast<int>(o.size),
                                                static_cast<std::uint32_t>(o.frames), video_conversion(o, camera, already_video)));
    check(simulator.run(o.frames, sink, stage));
    coded_bytes = stage.coded_bytes();
  }
  check(writer.close());
  // ThunderSTORM's ground truth carries sigma, offset and bkgstd too; a 2D movie has no z column.
  truth.z_nm.clear();
  truth.sigma_nm.assign(truth.size(), o.sigma_nm);
  truth.offset_photons.assign(truth.size(), o.background);
  truth.bkgstd_photons.assign(truth.size(), std::sqrt(o.background));
  // With drift the frames show every molecule displaced; the truth keeps where it really is.
  if (!o.drift_nm_per_frame.empty() || o.drift_walk_nm > 0) {
    const std::span<const sim::Position> at = simulator.fluorophores();
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const sim::Position& p = at[static_cast<std::size_t>(truth.id[i] - 1)];
      truth.x_nm[i] = p.x_nm, truth.y_nm[i] = p.y_nm;
    }
  }
  check(io::write_localizations_csv(o.truth, truth));
  if (!o.summary) return;
  std::printf("frames=%td size=%tdx%td emitters=%zu fluorophores=%zu", o.frames, o.size, o.size, truth.size(),
              simulator.fluorophores().size());
  if (coded) std::printf(" bpp=%.4f", 8.0 * static_cast<double>(coded_bytes) / static_cast<double>(o.frames * o.size * o.size));
  std::printf("\n");
}

inline void run_simulate(const SimulateOptions& o) {
  validate_simulate(o);

  sim::SimulationConfig<float> config;
  config.width_px = config.height_px = o.size;
  config.pixel_nm = o.pixel_nm;
  config.background_photons = static_cast<float>(o.background);
  config.kinetics = {.p_on_off = o.p_off, .p_off_on = o.p_on, .p_bleach = o.p_bleach};
  config.photons = parse_photons(o.photons);
  config.seed = o.seed;
  config.threads = o.threads;
  if (!o.drift_nm_per_frame.empty()) config.drift.x_nm_per_frame = o.drift_nm_per_frame[0], config.drift.y_nm_per_frame = o.drift_nm_per_frame[1];
  config.drift.walk_sd_nm = o.drift_walk_nm;
  const double on_fraction = config.kinetics.stationary_on_fraction();
  if (o.density > 0 && on_fraction <= 0) bad_value("--p-on", format_number(o.p_on), "must be > 0 for emitters to appear");
  const double labels_per_um2 = o.density > 0 ? o.density / on_fraction : 0.0;
  std::vector<sim::Position> labels = simulate_labels(o, config.field(), labels_per_um2);

  const auto sigma_px = static_cast<float>(o.sigma_nm / o.pixel_nm);
  auto with_camera = [&](const auto& psf) {
    if (o.camera == "ideal") {
      camera::Ideal<float> cam;
      cam.full_scale_adu = 65535;  // a 16-bit file
      run_simulation(o, psf, cam, config, std::move(labels));
    } else if (o.camera == "emccd") {
      // FastEmccd: Emccd's parameters and declared statistics, per-pixel streams, vectorised. Its
      // frames differ from camera::Emccd's for the same seed (another use of the random words).
      run_simulation(o, psf, camera::FastEmccd<float>{}, config, std::move(labels));
    } else if (o.camera == "cmos-phone") {
      // The cellSTORM preset: 8-bit video values (0..255) in the 16-bit file; the simulator
      // passes each frame's index, so the frame-gain drift and the dip every 30 frames apply.
      run_simulation(o, psf, camera::CmosPhone<float>{}, config, std::move(labels), /*already_video=*/true);
    } else {
      const ScmosMaps maps(o.size, o.size, o.seed);
      run_simulation(o, psf, camera::Scmos<float>(maps.offset, maps.gain, maps.variance), config, std::move(labels));
    }
  };
  if (o.psf == "integrated") {
    with_camera(psf::IntegratedGaussian<float>{.sigma_px = sigma_px});
  } else {
    with_camera(psf::Gaussian<float>{.sigma_px = sigma_px});
  }
}

inline void register_simulate(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("simulate", "simulate a blinking-fluorophore movie (16-bit TIFF) and its ground truth (CSV)");
  auto opt = std::make_shared<SimulateOptions>();
  cmd->add_option("-o,--output", opt->output, "output TIFF stack")->required();
  cmd->add_option("--truth", opt->truth, "output ground-truth CSV (ThunderSTORM columns)")->required();
  cmd->add_option("--frames", opt->frames, "number of frames")->capture_default_str();
  cmd->add_option("--size", opt->size, "frame width and height, pixels")->capture_default_str();
  cmd->add_option("--pixel-nm", opt->pixel_nm, "camera pixel size in the sample, nm")->capture_default_str();
  cmd->add_option("--structure", opt->structure, "uniform|filaments|rings|stripes|mask")->capture_default_str();
  cmd->add_option("--mask", opt->mask, "density weights for --structure mask: a TIFF image stretched over the field");
  cmd->add_option("--density", opt->density, "emitters on per frame per µm²")->capture_default_str();
  cmd->add_option("--photons", opt->photons, "photons per emitter per frame, A:B (uniform) or A")->capture_default_str();
  cmd->add_option("--sigma-nm", opt->sigma_nm, "PSF standard deviation, nm")->capture_default_str();
  cmd->add_option("--background", opt->background, "background, photons per pixel per frame")->capture_default_str();
  cmd->add_option("--camera", opt->camera, "ideal|emccd|scmos|cmos-phone")->capture_default_str();
  cmd->add_option("--quality", opt->quality, "codec quality 0..100: 8-bit output through the H.264-style codec");
  cmd->add_option("--gop", opt->gop, "codec I-frame period, frames (with --quality)")->capture_default_str();
  cmd->add_option("--video-offset", opt->video_offset, "camera count mapped to video level 0 (with --quality)");
  cmd->add_option("--video-gain", opt->video_gain, "video levels per camera count (with --quality)");
  cmd->add_option("--seed", opt->seed, "random seed")->capture_default_str();
  cmd->add_option("--psf", opt->psf, "integrated|gaussian (pixel-integrated or centre-sampled Gaussian)")->capture_default_str();
  cmd->add_option("--p-on", opt->p_on, "per-frame probability off -> on")->capture_default_str();
  cmd->add_option("--p-off", opt->p_off, "per-frame probability on -> off")->capture_default_str();
  cmd->add_option("--p-bleach", opt->p_bleach, "per-frame probability on -> bleached")->capture_default_str();
  cmd->add_option("--threads", opt->threads, "rendering threads (0: all); the output does not depend on it")->capture_default_str();
  cmd->add_option("--drift-nm-per-frame", opt->drift_nm_per_frame,
                  "stage drift DX,DY in nm per frame (the truth CSV keeps the undrifted positions)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--drift-walk-nm", opt->drift_walk_nm, "random-walk drift: step sd per frame per axis, nm")
      ->capture_default_str();
  cmd->callback([opt, &exit_code] {
    run_simulate(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

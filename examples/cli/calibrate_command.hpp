// `smlm calibrate STACK.tif`: offset, gain (e⁻/ADU) and read noise (e⁻) by the photon-transfer
// method of camera/calibration.hpp. The stack is streamed frame by frame into per-pixel sums;
// memory is a few frames whatever its length.
//
// Output (one line):
//   offset=<ADU> gain=<e-/ADU> read_noise=<e-> read_noise_adu=<ADU> frames=<N> pixels=<used>
//   dark_pixels=<N> slope=<b> slope_se=<se>
#pragma once

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/camera/calibration.hpp>
#include <smlm/core/image.hpp>
#include <smlm/io/tiff_reader.hpp>

#include "cli_common.hpp"
#include "progress.hpp"

namespace smlm::cli {

struct CalibrateOptions {
  std::string stack;
  double offset_adu = std::numeric_limits<double>::quiet_NaN();
  double excess_noise = 1;
  bool emccd = false;
  double linear_max_adu = std::numeric_limits<double>::quiet_NaN();
  double clip_min_adu = 0;
  int min_frames = 8;
  bool quiet = false;
};

/// Full scale of a TIFF sample type (the value a saturated pixel reads), or +∞.
inline double full_scale_of(io::pixel_type type) {
  switch (type) {
    case io::pixel_type::u8: return 255;
    case io::pixel_type::u16: return 65535;
    default: return std::numeric_limits<double>::infinity();
  }
}

inline void run_calibrate(const CalibrateOptions& opt) {
  io::TiffReader reader = unwrap(io::TiffReader::open(opt.stack));
  camera::PixelStatistics stats(reader.height(), reader.width(), opt.clip_min_adu);
  Image<double> frame(reader.height(), reader.width());
  Progress progress("reading " + opt.stack, reader.frames(), "frames",
                    opt.quiet ? Progress::mode::quiet : Progress::mode::automatic);
  for (std::ptrdiff_t f = 0; f < reader.frames(); ++f) {
    check(reader.read_frame(f, frame));
    const Status s = stats.add_frame(frame);
    if (!s.ok()) throw cli_error(opt.stack + ": " + s.message());
    progress.update(f + 1);
  }
  progress.finish();
  camera::CalibrationOptions copt;
  copt.offset_adu = opt.offset_adu;
  copt.excess_noise_factor_sq = opt.emccd ? 2.0 : opt.excess_noise;
  copt.linear_max_adu = std::isnan(opt.linear_max_adu) ? full_scale_of(reader.info().type) : opt.linear_max_adu;
  copt.clip_min_adu = opt.clip_min_adu;
  copt.min_frames = opt.min_frames;
  auto cal = camera::calibrate(stats, copt);
  if (!cal) throw cli_error(opt.stack + ": " + cal.message());
  std::printf(
      "offset=%.4f gain=%.5f read_noise=%.4f read_noise_adu=%.4f frames=%td pixels=%td dark_pixels=%td slope=%.6f "
      "slope_se=%.6f\n",
      cal->offset_adu, cal->e_per_adu, cal->read_noise_e, cal->read_noise_adu, cal->frames, cal->pixels_used,
      cal->dark_pixels, cal->slope, cal->slope_se);
}

inline void register_calibrate(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "calibrate", "offset, gain (e-/ADU) and read noise (e-) of a camera from a stack (photon-transfer curve)");
  auto opt = std::make_shared<CalibrateOptions>();
  cmd->add_option("STACK", opt->stack, "TIFF stack: flat or defocused frames at several intensities, with dark pixels")
      ->required();
  cmd->add_option("--offset", opt->offset_adu, "known offset in ADU (default: from the stack's dark pixels)");
  cmd->add_option("--excess-noise", opt->excess_noise, "squared excess noise factor F^2 (1; 2 for an EMCCD)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 4.0));
  cmd->add_flag("--emccd", opt->emccd, "same as --excess-noise 2 (gain and read noise referred to the EM input)");
  cmd->add_option("--linear-max", opt->linear_max_adu,
                  "pixels reaching this ADU are left out (default: the sample type's full scale)");
  cmd->add_option("--clip-min", opt->clip_min_adu, "values at or below this ADU count as clipped")
      ->capture_default_str();
  cmd->add_option("--min-frames", opt->min_frames, "fewest frames accepted")->capture_default_str()->check(
      CLI::Range(3, 1 << 30));
  cmd->add_flag("-q,--quiet", opt->quiet, "no progress output");
  cmd->callback([opt, &exit_code] {
    run_calibrate(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

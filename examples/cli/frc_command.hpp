// `smlm frc LOCS.csv [--pixel-nm 5] [--split frames|random]`: image resolution of a localization
// table by Fourier ring correlation of two half-data histogram renderings (docs/eval.md).
//
// Prints one line: resolution_nm= crossed=<0|1> pixel_nm= image=<W>x<H> halves=<n1>,<n2> split=
// (crossed=0: the curve never fell below 1/7, resolution_nm is the grid's limit; render finer).
// --csv writes the curve: "frequency [1/nm]","frc","ring pixels".
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/eval/frc.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/render/histogram.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct FrcCommandOptions {
  std::string input;
  double pixel_nm = 5.0;
  std::string split = "frames";
  std::int32_t block_frames = 1;
  std::uint64_t seed = 1;
  int smoothing_rings = 3;
  std::string window = "tukey";
  std::string csv;
};

inline void run_frc(const FrcCommandOptions& opt) {
  if (!(std::isfinite(opt.pixel_nm) && opt.pixel_nm > 0))
    throw CLI::ValidationError("--pixel-nm", "must be a finite number of nm > 0");
  if (opt.block_frames < 1) throw CLI::ValidationError("--block-frames", "must be >= 1");
  if (opt.smoothing_rings < 0) throw CLI::ValidationError("--smoothing", "must be >= 0");
  const LocalizationTable table = unwrap(io::read_localizations_csv(opt.input));
  if (table.size() < 2) throw cli_error(opt.input + ": FRC needs at least 2 localizations, the file has " + std::to_string(table.size()));
  const render::FieldOfView fov = render::bounding_field_of_view(table, opt.pixel_nm);
  const render::ImageSize size = render::image_size(fov, opt.pixel_nm);
  if (size.rows * size.cols > (std::ptrdiff_t{1} << 26))
    throw CLI::ValidationError("--pixel-nm", "gives a " + std::to_string(size.cols) + " x " + std::to_string(size.rows) +
                                                 " image, more than 2^26 pixels; choose a larger pixel");
  eval::SplitOptions split;
  split.mode = opt.split == "random" ? eval::split_mode::random : eval::split_mode::frame_blocks;
  split.block_frames = opt.block_frames;
  split.seed = opt.seed;
  const auto [first, second] = eval::split_halves(table, split);
  const Image<float> a = render::render_histogram(first, fov, opt.pixel_nm);
  const Image<float> b = render::render_histogram(second, fov, opt.pixel_nm);
  eval::FrcOptions frc;
  frc.smoothing_rings = opt.smoothing_rings;
  frc.window = opt.window == "none" ? eval::frc_window::none
               : opt.window == "hann" ? eval::frc_window::hann
                                      : eval::frc_window::tukey;
  const eval::FrcCurve curve = eval::fourier_ring_correlation(a, b, opt.pixel_nm, frc);
  if (!opt.csv.empty()) {
    std::ofstream out(opt.csv);
    if (!out) throw cli_error("--csv " + opt.csv + ": cannot open for writing");
    out << "\"frequency [1/nm]\",\"frc\",\"ring pixels\"\n";
    char line[96];
    for (std::size_t q = 0; q < curve.correlation.size(); ++q) {
      std::snprintf(line, sizeof line, "%.9f,%.6f,%zu\n", curve.frequency_per_nm[q], curve.correlation[q],
                    curve.ring_pixels[q]);
      out << line;
    }
    out.flush();
    if (!out) throw cli_error("--csv " + opt.csv + ": write failed");
  }
  std::printf("resolution_nm=%.3f crossed=%d pixel_nm=%g image=%tdx%td halves=%zu,%zu split=%s\n", curve.resolution_nm,
              curve.crossed ? 1 : 0, opt.pixel_nm, size.cols, size.rows, first.size(), second.size(),
              opt.split == "random" ? "random" : "frames");
}

inline void register_frc(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("frc", "image resolution by Fourier ring correlation of two half-data renderings");
  auto opt = std::make_shared<FrcCommandOptions>();
  cmd->add_option("LOCS", opt->input, "localization CSV (ThunderSTORM format)")->required();
  cmd->add_option("--pixel-nm", opt->pixel_nm, "pixel size of the two histogram renderings in nm")->capture_default_str();
  cmd->add_option("--split", opt->split, "frames (alternating blocks of frames) or random (per localization)")
      ->check(CLI::IsMember({"frames", "random"}))
      ->capture_default_str();
  cmd->add_option("--block-frames", opt->block_frames, "frames per block for --split frames")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "seed of the random split")->capture_default_str();
  cmd->add_option("--smoothing", opt->smoothing_rings, "moving-average half-width in rings")->capture_default_str();
  cmd->add_option("--window", opt->window, "tukey, hann or none")
      ->check(CLI::IsMember({"tukey", "hann", "none"}))
      ->capture_default_str();
  cmd->add_option("--csv", opt->csv, "also write the FRC curve as CSV");
  cmd->callback([opt, &exit_code] {
    run_frc(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

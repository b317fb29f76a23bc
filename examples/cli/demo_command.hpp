// `smlm demo [-o DIR]`: the end-to-end run on built-in defaults.
//
// Until the simulate → compress → train → reconstruct pipeline exists, the demo does the real
// work the foundation supports: it streams the reference ThunderSTORM stack frame by frame,
// writes the summed (diffraction-limited) image as float TIFF and PNG, renders the ground-truth
// localizations as a 20 nm histogram beside it, and reports stack and ground-truth statistics.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/io/csv.hpp>
#include <smlm/io/png.hpp>
#include <smlm/io/tiff_writer.hpp>
#include <smlm/render/histogram.hpp>

#include "stack_statistics.hpp"

namespace smlm::cli {

struct DemoOptions {
  std::string out_dir = "demo-out";
  std::string input = SMLM_DEFAULT_DATA_DIR "/thunderstorm_sim_20frames.tif";
  std::string truth = SMLM_DEFAULT_DATA_DIR "/thunderstorm_sim_20frames_positions.csv";
  double pixel_nm = 100.0;
  double render_pixel_nm = 20.0;
  bool quiet = false;
};

/// Linear map of [lo, hi] to 0..255 (clamped) for display.
inline Image<std::uint8_t> to_display8(const Image<double>& image, double lo, double hi) {
  const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
  return ((image - lo) * scale).round().max(0.0).min(255.0).cast<std::uint8_t>();
}

inline void run_demo(const DemoOptions& opt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw cli_error("-o " + opt.out_dir + ": cannot create directory: " + ec.message());
  if (!fs::exists(opt.input))
    throw cli_error("--input " + opt.input + ": no such file (the reference data lives in ../shared/data)");

  const StackStatistics stats =
      stack_statistics(opt.input, opt.quiet ? Progress::mode::quiet : Progress::mode::automatic);
  const LocalizationTable truth = unwrap(io::read_localizations_csv(opt.truth));

  const std::string dir = opt.out_dir + "/";
  Stack<float> sum_stack(1, stats.sum.rows(), stats.sum.cols());
  sum_stack.frame(0) = stats.sum.cast<float>();
  check(io::write_tiff_stack(dir + "sum.tif", sum_stack, io::pixel_type::f32));
  check(io::write_png(dir + "sum.png", make_view(to_display8(stats.sum, stats.sum.minCoeff(), stats.sum.maxCoeff()))));

  const double width_nm = static_cast<double>(stats.info.width) * opt.pixel_nm;
  const double height_nm = static_cast<double>(stats.info.height) * opt.pixel_nm;
  const Image<double> rendered =
      render::render_histogram(truth, render::FieldOfView{0, 0, width_nm, height_nm}, opt.render_pixel_nm).cast<double>();
  // Saturate at the 99.5th-percentile-like level max(1, 0.5·max) so single molecules stay visible.
  check(io::write_png(dir + "truth.png", make_view(to_display8(rendered, 0.0, std::max(1.0, 0.5 * rendered.maxCoeff())))));

  std::ofstream frames_csv(dir + "frame_stats.csv");
  frames_csv << "\"frame\",\"mean [adu]\",\"variance [adu^2]\",\"min [adu]\",\"max [adu]\",\"emitters\"\n";
  std::vector<std::size_t> per_frame(stats.frames.size(), 0);
  std::size_t outside = 0;
  for (auto f : truth.frame) {
    if (f >= 1 && static_cast<std::size_t>(f) <= per_frame.size()) ++per_frame[static_cast<std::size_t>(f - 1)];
    else ++outside;
  }
  char line[256];
  for (std::size_t f = 0; f < stats.frames.size(); ++f) {
    const auto& s = stats.frames[f];
    std::snprintf(line, sizeof line, "%zu,%.4f,%.4f,%.0f,%.0f,%zu\n", f + 1, s.mean, s.variance, s.min, s.max, per_frame[f]);
    frames_csv << line;
  }
  frames_csv.close();
  if (!frames_csv) throw cli_error(dir + "frame_stats.csv: write failed");

  const double area_um2 = width_nm * height_nm * 1e-6;
  const double density = stats.frames.empty() ? 0.0 : static_cast<double>(truth.size()) / static_cast<double>(stats.frames.size()) / area_um2;
  std::ofstream report(dir + "report.md");
  std::snprintf(line, sizeof line,
                "stack=%s frames=%td size=%tdx%td type=%s min=%.0f max=%.0f mean=%.2f\n", opt.input.c_str(),
                stats.info.frames, stats.info.width, stats.info.height, std::string(io::pixel_type_name(stats.info.type)).c_str(), stats.min,
                stats.max, stats.mean);
  const std::string stack_line = line;
  std::snprintf(line, sizeof line, "truth=%s emitters=%zu density_per_um2=%.3f outside_stack=%zu\n",
                opt.truth.c_str(), truth.size(), density, outside);
  const std::string truth_line = line;
  report << "# smlm demo report\n\n"
         << "Streams the reference stack frame by frame and summarises it with its ground truth.\n\n"
         << "    " << stack_line << "    " << truth_line << "\n"
         << "- `sum.tif` (float) / `sum.png`: the summed frames — the diffraction-limited image.\n"
         << "- `truth.png`: ground-truth positions rendered as a " << opt.render_pixel_nm
         << " nm histogram — what super-resolution aims for.\n"
         << "- `frame_stats.csv`: per-frame mean, variance, min, max and emitter count.\n";
  report.close();
  if (!report) throw cli_error(dir + "report.md: write failed");
  std::fputs(stack_line.c_str(), stdout);
  std::fputs(truth_line.c_str(), stdout);
  std::printf("report=%sreport.md\n", dir.c_str());
}

inline void register_demo(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("demo", "end-to-end run on built-in defaults; writes a report folder");
  auto opt = std::make_shared<DemoOptions>();
  cmd->add_option("-o,--output", opt->out_dir, "report folder")->capture_default_str();
  cmd->add_option("--input", opt->input, "TIFF stack to summarise")->capture_default_str();
  cmd->add_option("--truth", opt->truth, "ground-truth localization CSV")->capture_default_str();
  cmd->add_option("--pixel-nm", opt->pixel_nm, "camera pixel size in nm")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", opt->quiet, "no progress output");
  cmd->callback([opt, &exit_code] {
    run_demo(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

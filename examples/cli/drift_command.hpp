// `smlm drift LOCS.csv -o CORRECTED.csv [--segment-frames N] [--plot drift.png] [--drift-csv D.csv]`:
// estimates the stage drift of a localization table by redundant cross-correlation
// (post/drift.hpp, docs/post.md) and writes the table with it subtracted.
//
// Prints one line:
//   segments=<S> segment_frames=<N> pairs=<P> rejected=<R> residual_nm=<rms of the kept pair equations> drift_x_nm=<min>:<max> drift_y_nm=<min>:<max>
// --drift-csv writes the drift of every frame (frame,drift_x_nm,drift_y_nm); --plot a PNG of it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/io/csv.hpp>
#include <smlm/io/png.hpp>
#include <smlm/post/drift.hpp>

#include "cli_common.hpp"
#include "demo_plot.hpp"

namespace smlm::cli {

struct DriftOptions {
  std::string input, output, plot, drift_csv;
  post::DriftOptions rcc;
};

/// A step of 1, 2 or 5 × 10^k giving about `ticks` intervals over `range`.
inline double nice_step(double range, int ticks) {
  const double raw = std::max(range, 1e-9) / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

/// The drift of every frame, x and y against the frame, with the segments' estimates as markers.
inline render::RgbImage drift_plot(const post::DriftEstimate& d) {
  demo::LineChart chart;
  chart.title = "DRIFT BY REDUNDANT CROSS-CORRELATION";
  chart.x_label = "FRAME";
  chart.y_label = "DRIFT (NM)";
  const double f0 = d.first_frame, f1 = d.first_frame + double(d.x_nm.size()) - 1;
  chart.x_min = f0, chart.x_max = std::max(f1, f0 + 1);
  const double x_step = nice_step(chart.x_max - chart.x_min, 5);
  for (double t = std::ceil(chart.x_min / x_step) * x_step; t <= chart.x_max; t += x_step) chart.x_ticks.push_back(t);
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < d.x_nm.size(); ++i) lo = std::min({lo, d.x_nm[i], d.y_nm[i]}), hi = std::max({hi, d.x_nm[i], d.y_nm[i]});
  chart.y_step = nice_step(hi - lo, 5);
  chart.y_min = std::floor(lo / chart.y_step) * chart.y_step, chart.y_max = std::ceil(hi / chart.y_step) * chart.y_step;
  if (chart.y_max <= chart.y_min) chart.y_max = chart.y_min + chart.y_step;
  for (const bool x : {true, false}) {
    demo::Series line;
    line.label = x ? "X" : "Y";
    line.colour = x ? render::Rgb8{214, 39, 40} : render::Rgb8{31, 119, 180};
    const std::vector<double>& v = x ? d.x_nm : d.y_nm;
    const std::size_t step = std::max<std::size_t>(1, v.size() / 400);  // a point every few frames is enough
    for (std::size_t i = 0; i < v.size(); i += step) line.points.emplace_back(f0 + double(i), v[i]);
    line.points.emplace_back(f1, v.back());
    line.mark_size = 0;
    chart.series.push_back(line);
  }
  // The segments' own estimates, as markers without a line.
  for (const bool x : {true, false}) {
    demo::Series s;
    s.label = x ? "X SEGMENTS" : "Y SEGMENTS";
    s.colour = x ? render::Rgb8{120, 0, 0} : render::Rgb8{0, 40, 120};
    s.mark = demo::marker::square;
    s.connect = false;
    for (std::size_t k = 0; k < d.segment_frame.size(); ++k)
      s.points.emplace_back(d.segment_frame[k], x ? d.segment_x_nm[k] : d.segment_y_nm[k]);
    chart.series.push_back(s);
  }
  return demo::draw_line_chart(chart);
}

inline void run_drift(const DriftOptions& o) {
  LocalizationTable table = unwrap(io::read_localizations_csv(o.input));
  const Expected<post::DriftEstimate> estimate = post::estimate_drift(table, o.rcc);
  if (!estimate) throw cli_error(o.input + ": " + estimate.status().message());
  const post::DriftEstimate& d = *estimate;
  post::correct_drift(table, d);
  check(io::write_localizations_csv(o.output, table));
  if (!o.drift_csv.empty()) {
    std::string text = "frame,drift_x_nm,drift_y_nm\n";
    char buf[96];
    for (std::size_t i = 0; i < d.x_nm.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%lld,%.3f,%.3f\n", static_cast<long long>(d.first_frame) + static_cast<long long>(i),
                    d.x_nm[i], d.y_nm[i]);
      text += buf;
    }
    write_text_file(o.drift_csv, text);
  }
  if (!o.plot.empty()) {
    const render::RgbImage png = drift_plot(d);
    check(io::write_png_rgb(o.plot, png.data.data(), png.width, png.height));
  }
  const auto [xlo, xhi] = std::minmax_element(d.x_nm.begin(), d.x_nm.end());
  const auto [ylo, yhi] = std::minmax_element(d.y_nm.begin(), d.y_nm.end());
  std::printf("segments=%zu segment_frames=%d pairs=%zu rejected=%zu residual_nm=%.3f drift_x_nm=%.2f:%.2f drift_y_nm=%.2f:%.2f\n",
              d.segment_frame.size(), d.segment_frames, d.pairs, d.rejected, d.residual_rms_nm, *xlo, *xhi, *ylo, *yhi);
}

inline void register_drift(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("drift", "estimate stage drift by redundant cross-correlation and subtract it from a localization table");
  auto opt = std::make_shared<DriftOptions>();
  cmd->add_option("input", opt->input, "localization table (ThunderSTORM CSV)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", opt->output, "drift-corrected table (ThunderSTORM CSV)")->required();
  cmd->add_option("--segment-frames", opt->rcc.segment_frames,
                  "frames per segment (0: about --locs-per-segment localizations each, 2 to 25 segments)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--locs-per-segment", opt->rcc.locs_per_segment, "with --segment-frames 0: localizations per segment")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--pixel-nm", opt->rcc.pixel_nm, "pixel of the correlated images, nm")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-drift-nm", opt->rcc.max_drift_nm, "largest drift between two segments searched for, nm")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--outlier-nm", opt->rcc.outlier_nm, "reject pair equations whose residual exceeds this, nm")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--plot", opt->plot, "write a PNG of the drift against the frame");
  cmd->add_option("--drift-csv", opt->drift_csv, "write the drift of every frame (frame,drift_x_nm,drift_y_nm)");
  cmd->callback([opt, &exit_code] {
    run_drift(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

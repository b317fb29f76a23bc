// `smlm demo --sweep`: cellSTORM's comparison (Diederich et al., Fig. 3 and Table 1) of the network
// against classic fitting over photons × video quality (docs/demo.md, docs/cellstorm.md).
//
// For every photon count of --sweep-photons (default 50, 100, 500, 1000) and codec quality of
// --sweep-qualities (default 60, 80, 95, none; "none": the phone camera's uncompressed 8-bit
// frames) it simulates one movie with the demo's other conditions and seed, localizes it with the
// network and classically (demo_runs.hpp) and scores both against the ground truth:
//   tp, fp, fn, mean_distance_nm   optimal matching within 200 nm (cellSTORM's "true positives
//                                  within 200 nm" and mean distance of the matched pairs)
//   jaccard_100, rmse_nm_100       optimal matching within 100 nm
// and writes into the report folder
//   sweep.csv    one row per condition and method: photons,quality,truth,method,tp_200,fp_200,
//                fn_200,mean_distance_nm_200,jaccard_100,rmse_nm_100,localizations,seconds
//   sweep.md     the Markdown table (network vs classic side by side)
//   sweep.png    Jaccard@100 against photons, one line per quality and method
//   sweep.html   the plot and the table; opens from the file system
//   sweep/       per condition: NAME.truth.csv, NAME.network.csv, NAME.classic.csv (and NAME.tif
//                with --keep-stacks), NAME = p<photons>_q<quality>
// It prints one line per condition and then report=<DIR>/sweep.html.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <smlm/core/localization_table.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/io/csv.hpp>

#include "cli_common.hpp"
#include "demo_plot.hpp"
#include "demo_render.hpp"
#include "demo_report.hpp"
#include "demo_runs.hpp"

namespace smlm::cli::demo {

/// The conditions of a sweep, in the order given.
struct SweepPlan {
  std::vector<double> photons;
  std::vector<int> qualities;  ///< < 0: uncompressed

  std::string photons_range() const {
    const auto [lo, hi] = std::minmax_element(photons.begin(), photons.end());
    return format_number(*lo) + ":" + format_number(*hi);
  }
  /// The lowest and highest codec quality; -1 when every condition is uncompressed.
  int coded_quality_lo() const {
    int q = 101;
    for (const int v : qualities)
      if (v >= 0) q = std::min(q, v);
    return q > 100 ? -1 : q;
  }
  int coded_quality_hi() const { return *std::max_element(qualities.begin(), qualities.end()); }
};

inline std::string quality_text(int quality) { return quality < 0 ? "none" : std::to_string(quality); }

/// The comma-separated items of `text`, spaces around them dropped.
inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    std::string item = text.substr(from, comma - from);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    items.push_back(item);
    from = comma + 1;
  }
  return items;
}

/// --sweep-photons and --sweep-qualities as a plan; a bad item fails naming its flag and value.
inline SweepPlan parse_sweep(const DemoOptions& o) {
  SweepPlan plan;
  for (const std::string& item : split_list(o.sweep_photons)) {
    const NumberRange r = parse_range("--sweep-photons", item, RangeBound::positive);
    if (!r.single) throw CLI::ValidationError("--sweep-photons", "value " + item + ": give single photon counts, A,B,C");
    if (std::find(plan.photons.begin(), plan.photons.end(), r.lo) != plan.photons.end())
      throw CLI::ValidationError("--sweep-photons", "value " + item + " is listed twice");
    plan.photons.push_back(r.lo);
  }
  for (const std::string& item : split_list(o.sweep_qualities)) {
    int q = -1;
    if (item != "none") {
      const NumberRange r = parse_range("--sweep-qualities", item, RangeBound::non_negative, 100);
      if (!r.single || r.lo != std::floor(r.lo))
        throw CLI::ValidationError("--sweep-qualities", "value " + item + " is not an integer 0..100 or none");
      q = static_cast<int>(r.lo);
    }
    if (std::find(plan.qualities.begin(), plan.qualities.end(), q) != plan.qualities.end())
      throw CLI::ValidationError("--sweep-qualities", "value " + item + " is listed twice");
    plan.qualities.push_back(q);
  }
  return plan;
}

/// One method's scores on one condition.
struct SweepScore {
  std::size_t tp = 0, fp = 0, fn = 0;  ///< within 200 nm
  double mean_distance_nm = 0;         ///< of the pairs within 200 nm; 0 when none
  double jaccard_100 = 0, rmse_nm_100 = 0;
  std::size_t localizations = 0;
  double seconds = 0;
};

struct SweepRow {
  double photons = 0;
  int quality = -1;
  std::size_t truth_rows = 0;
  SweepScore network, classic;
};

inline constexpr double sweep_detection_nm = 200, sweep_jaccard_nm = 100;

inline SweepScore sweep_score(const LocalizationTable& truth, const LocalizationTable& locs, double seconds) {
  eval::Matcher matcher;
  eval::Matching matching;
  eval::MatchOptions options;
  options.tolerance_nm = sweep_detection_nm;
  matcher.match(truth, locs, options, matching);
  SweepScore s;
  s.tp = matching.tp(), s.fp = matching.fp(), s.fn = matching.fn();
  s.mean_distance_nm = s.tp > 0 ? matching.total_cost(eval::match_cost::distance) / double(s.tp) : 0.0;
  options.tolerance_nm = sweep_jaccard_nm;
  matcher.match(truth, locs, options, matching);
  const eval::DetectionMetrics d = eval::detection_metrics(matching);
  s.jaccard_100 = d.jaccard, s.rmse_nm_100 = d.rmse_lateral_nm;
  s.localizations = locs.size();
  s.seconds = seconds;
  return s;
}

inline std::string sweep_csv(const std::vector<SweepRow>& rows) {
  std::string csv =
      "photons,quality,truth,method,tp_200,fp_200,fn_200,mean_distance_nm_200,jaccard_100,rmse_nm_100,localizations,"
      "seconds\n";
  for (const SweepRow& r : rows)
    for (const auto& [name, s] : {std::pair{"network", &r.network}, std::pair{"classic", &r.classic}})
      csv += format_number(r.photons) + "," + quality_text(r.quality) + "," + std::to_string(r.truth_rows) + "," + name +
             "," + std::to_string(s->tp) + "," + std::to_string(s->fp) + "," + std::to_string(s->fn) + "," +
             fixed(s->mean_distance_nm, 2) + "," + fixed(s->jaccard_100, 4) + "," + fixed(s->rmse_nm_100, 2) + "," +
             std::to_string(s->localizations) + "," + fixed(s->seconds, 2) + "\n";
  return csv;
}

/// The table, network vs classic side by side ("a / b"), the better one in bold.
inline std::string sweep_markdown(const std::vector<SweepRow>& rows) {
  std::string md =
      "| photons | quality | emitters | TP within 200 nm (network / classic) | FP | mean distance (nm) | Jaccard@100 |\n"
      "|---:|---:|---:|---:|---:|---:|---:|\n";
  auto pair = [](double a, double b, int digits, bool higher_is_better) {
    const std::string sa = fixed(a, digits), sb = fixed(b, digits);
    const bool a_wins = higher_is_better ? a > b : a < b, b_wins = higher_is_better ? b > a : b < a;
    return (a_wins ? "**" + sa + "**" : sa) + " / " + (b_wins ? "**" + sb + "**" : sb);
  };
  for (const SweepRow& r : rows)
    md += "| " + format_number(r.photons) + " | " + quality_text(r.quality) + " | " + std::to_string(r.truth_rows) + " | " +
          pair(double(r.network.tp), double(r.classic.tp), 0, true) + " | " +
          pair(double(r.network.fp), double(r.classic.fp), 0, false) + " | " +
          pair(r.network.mean_distance_nm, r.classic.mean_distance_nm, 1, false) + " | " +
          pair(r.network.jaccard_100, r.classic.jaccard_100, 3, true) + " |\n";
  return md;
}

/// Jaccard@100 against photons (log axis): one colour per quality, the network solid with circles,
/// classic fitting dashed with squares.
inline render::RgbImage sweep_plot(const SweepPlan& plan, const std::vector<SweepRow>& rows) {
  static constexpr render::Rgb8 colours[] = {{214, 39, 40}, {255, 127, 14}, {31, 119, 180}, {60, 60, 60},
                                             {44, 160, 44}, {148, 103, 189}, {140, 86, 75},  {227, 119, 194}};
  LineChart chart;
  chart.title = "JACCARD AT 100 NM: NETWORK (SOLID) VS CLASSIC (DASHED)";
  chart.x_label = "PHOTONS PER EMITTER PER FRAME";
  chart.y_label = "JACCARD";
  chart.x_ticks = plan.photons;
  std::sort(chart.x_ticks.begin(), chart.x_ticks.end());
  chart.log_x = true;
  chart.x_min = chart.x_ticks.front() / 1.25;
  chart.x_max = chart.x_ticks.back() * 1.25;
  chart.width = 900;
  for (std::size_t qi = 0; qi < plan.qualities.size(); ++qi) {
    const int q = plan.qualities[qi];
    for (const bool network : {true, false}) {
      Series s;
      s.label = (q < 0 ? std::string("NO CODEC") : "Q" + std::to_string(q)) + (network ? " NETWORK" : " CLASSIC");
      s.colour = colours[qi % std::size(colours)];
      s.dashed = !network;
      s.mark = network ? marker::circle : marker::square;
      for (const SweepRow& r : rows)
        if (r.quality == q) s.points.emplace_back(r.photons, network ? r.network.jaccard_100 : r.classic.jaccard_100);
      std::sort(s.points.begin(), s.points.end());
      chart.series.push_back(std::move(s));
    }
  }
  return draw_line_chart(chart);
}

inline std::string sweep_html(const DemoOptions& o, const std::string& model, const std::vector<SweepRow>& rows,
                              double seconds) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>smlm demo --sweep: network vs classic over photons and video quality</title>\n<style>\n"
      "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222;background:#fafafa}\n"
      "h1{font-size:1.4em;margin:0 0 .3em}p{max-width:70em;color:#444}\n"
      "img{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}\n"
      "table{border-collapse:collapse;background:#fff;font-size:.9em;margin-top:1em}\n"
      "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#eee}\n"
      "td.win{font-weight:bold}\n</style>\n</head>\n<body>\n"
      "<h1>smlm demo --sweep: network vs classic fitting over photons and video quality</h1>\n<p>";
  h += "Each row is one simulated smartphone dSTORM movie: " + std::to_string(o.frames) + " frames of " +
       std::to_string(o.size) + " × " + std::to_string(o.size) + " pixels of " + format_number(o.pixel_nm) +
       " nm, blinking emitters on filaments (" + format_number(o.density) + " per µm² per frame, σ " +
       format_number(o.sigma_nm) + " nm, background " + format_number(o.background) +
       " photons per pixel, seed " + std::to_string(o.seed) +
       "), the cellphone CMOS camera, and smlmkit's H.264-style codec at the quality given (none: the uncompressed "
       "8-bit frames). Network: <code>" +
       html_escape(model) +
       "</code>. Classic: wavelet detection + Gaussian MLE with the phone's noise model. TP, FP and the mean distance "
       "count optimal one-to-one matches within 200 nm per frame; Jaccard = TP / (TP + FP + FN) within 100 nm. "
       "Bold: the better of the two.</p>\n<img src=\"sweep.png\" alt=\"Jaccard at 100 nm against photons\">\n";
  h += "<table>\n<tr><th rowspan=\"2\">photons</th><th rowspan=\"2\">quality</th><th rowspan=\"2\">emitters</th>"
       "<th colspan=\"2\">TP within 200 nm</th><th colspan=\"2\">FP</th><th colspan=\"2\">mean distance (nm)</th>"
       "<th colspan=\"2\">Jaccard@100</th></tr>\n<tr>";
  for (int k = 0; k < 4; ++k) h += "<th>network</th><th>classic</th>";
  h += "</tr>\n";
  auto cells = [&](double a, double b, int digits, bool higher_is_better) {
    const bool a_wins = higher_is_better ? a > b : a < b, b_wins = higher_is_better ? b > a : b < a;
    h += std::string("<td") + (a_wins ? " class=\"win\"" : "") + ">" + fixed(a, digits) + "</td><td" +
         (b_wins ? " class=\"win\"" : "") + ">" + fixed(b, digits) + "</td>";
  };
  for (const SweepRow& r : rows) {
    h += "<tr><td>" + format_number(r.photons) + "</td><td>" + quality_text(r.quality) + "</td><td>" +
         std::to_string(r.truth_rows) + "</td>";
    cells(double(r.network.tp), double(r.classic.tp), 0, true);
    cells(double(r.network.fp), double(r.classic.fp), 0, false);
    cells(r.network.mean_distance_nm, r.classic.mean_distance_nm, 1, false);
    cells(r.network.jaccard_100, r.classic.jaccard_100, 3, true);
    h += "</tr>\n";
  }
  h += "</table>\n<p>The same numbers: <a href=\"sweep.csv\">sweep.csv</a>, <a href=\"sweep.md\">sweep.md</a>; the "
       "localizations of every movie are in <code>sweep/</code>. The sweep took " +
       fixed(seconds, 1) + " s.</p>\n</body>\n</html>\n";
  return h;
}

/// The sweep (see the header comment) into the report folder `dir` (ending in '/', existing).
inline void run_sweep(const DemoOptions& o, const SweepPlan& plan, const std::string& dir, const std::string& model) {
  namespace fs = std::filesystem;
  const auto start = std::chrono::steady_clock::now();
  const std::string sub = dir + "sweep/";
  std::error_code ec;
  fs::create_directories(sub, ec);
  if (!fs::is_directory(sub)) throw cli_error(sub + ": cannot create the folder" + (ec ? ": " + ec.message() : std::string()));
  std::vector<SweepRow> rows;
  const std::size_t total = plan.photons.size() * plan.qualities.size();
  for (const double photons : plan.photons) {
    for (const int quality : plan.qualities) {
      const std::string name = "p" + format_number(photons) + "_q" + quality_text(quality);
      if (!o.quiet) {
        std::printf("sweep %zu/%zu: %s photons, quality %s\n", rows.size() + 1, total, format_number(photons).c_str(),
                    quality_text(quality).c_str());
        std::fflush(stdout);
      }
      SimulateOptions s =
          detail::demo_simulation(o, sub + name + ".tif", sub + name + ".truth.csv", format_number(photons), quality);
      s.summary = false;
      run_simulate(s);
      SweepRow row;
      row.photons = photons, row.quality = quality;
      const double network_seconds = detail::run_network(model, s.output, sub + name + ".network.csv", o.threads, o.quiet, false);
      const double classic_seconds = detail::run_classic(o, s.output, sub + name + ".classic.csv", false);
      if (!o.keep_stacks) fs::remove(s.output, ec);
      const LocalizationTable truth = unwrap(io::read_localizations_csv(s.truth));
      row.truth_rows = truth.size();
      row.network = sweep_score(truth, unwrap(io::read_localizations_csv(sub + name + ".network.csv")), network_seconds);
      row.classic = sweep_score(truth, unwrap(io::read_localizations_csv(sub + name + ".classic.csv")), classic_seconds);
      std::printf("sweep photons=%s quality=%s truth=%zu", format_number(photons).c_str(), quality_text(quality).c_str(),
                  row.truth_rows);
      for (const auto& [label, sc] : {std::pair{"network", &row.network}, std::pair{"classic", &row.classic}})
        std::printf(" %s_tp200=%zu %s_fp200=%zu %s_mean_nm=%.1f %s_jaccard100=%.4f", label, sc->tp, label, sc->fp, label,
                    sc->mean_distance_nm, label, sc->jaccard_100);
      std::printf("\n");
      std::fflush(stdout);
      rows.push_back(row);
    }
  }
  const double seconds = detail::seconds_since(start);
  write_text_file(dir + "sweep.csv", sweep_csv(rows));
  write_text_file(dir + "sweep.md", sweep_markdown(rows));
  write_rgb_png(dir + "sweep.png", sweep_plot(plan, rows));
  write_text_file(dir + "sweep.html", sweep_html(o, model, rows, seconds));
  std::printf("report=%ssweep.html seconds=%.1f\n", dir.c_str(), seconds);
}

}  // namespace smlm::cli::demo

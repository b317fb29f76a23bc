// The report of `smlm demo` (demo_command.hpp): the metrics of each method at each tolerance,
// metrics.json and index.html.
//
// metrics.json:
//   {"conditions": {...}, "model": <path>, "trained": <bool>, "truth_rows": <n>,
//    "runs": {"network": {"localizations": <n>, "seconds": <s>}, "classic": {...}},
//    "network": {"50": {"jaccard", "precision", "recall", "f1", "rmse_nm", "tp", "fp", "fn"}, "100": ..., "250": ...},
//    "classic": {...}}
// jaccard, precision, recall and f1 are fractions in [0, 1]; rmse_nm is over the matched pairs
// (0 when nothing matched). index.html needs nothing but the PNGs beside it: no server, no
// script, no external style sheet or font.
#pragma once

#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <smlm/core/localization_table.hpp>
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>

#include "cli_common.hpp"
#include "evaluate_command.hpp"

namespace smlm::cli::demo {

inline constexpr std::array<double, 3> tolerances_nm{50.0, 100.0, 250.0};

/// One method's results: its name, CSV, run time and metrics at each of tolerances_nm.
struct MethodResult {
  std::string name;   ///< "network" or "classic"
  std::string title;  ///< for people
  std::string csv;    ///< file name inside the report folder
  std::size_t localizations = 0;
  double seconds = 0;
  std::array<eval::DetectionMetrics, tolerances_nm.size()> metrics{};

  const eval::DetectionMetrics& at(double tolerance_nm) const {
    for (std::size_t k = 0; k < tolerances_nm.size(); ++k)
      if (tolerances_nm[k] == tolerance_nm) return metrics[k];
    return metrics[1];
  }
};

/// Optimal matching of `locs` to `truth` at each tolerance (the rule of `smlm evaluate`).
inline void evaluate_method(const LocalizationTable& truth, const LocalizationTable& locs, MethodResult& out) {
  eval::Matcher matcher;
  eval::Matching matching;
  eval::MatchOptions options;
  for (std::size_t k = 0; k < tolerances_nm.size(); ++k) {
    options.tolerance_nm = tolerances_nm[k];
    matcher.match(truth, locs, options, matching);
    out.metrics[k] = eval::detection_metrics(matching);
  }
  out.localizations = locs.size();
}

/// The imaging conditions and files of a run, as the report shows them.
struct RunDescription {
  std::ptrdiff_t frames = 0, size_px = 0;
  double pixel_nm = 0, sigma_nm = 0, density_per_um2 = 0, background_photons = 0;
  std::string photons;
  int quality = 0;
  std::uint64_t seed = 0;
  std::string model;       ///< path of the network model used
  bool trained = false;    ///< trained by this run (--train)
  std::string model_note;  ///< one line about the model (architecture, conditions)
  double simulate_seconds = 0, train_seconds = 0, total_seconds = 0;
  std::size_t truth_rows = 0;
  std::ptrdiff_t shown_frame = 0;  ///< 1-based frame of frame_raw.png / frame_network.png
  double pixel_render_nm = 0, bar_nm = 0, inset_bar_nm = 0, inset_pixel_nm = 0;
  std::ptrdiff_t region_px = 0;  ///< side of the inset's region, panel pixels
  int zoom = 4;
};

inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

inline std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

inline std::string metrics_json(const RunDescription& run, const std::vector<MethodResult>& methods) {
  std::string j = "{\n  \"conditions\": {";
  j += "\"frames\": " + std::to_string(run.frames) + ", \"size_px\": " + std::to_string(run.size_px) +
       ", \"pixel_nm\": " + json_number(run.pixel_nm) + ", \"sigma_nm\": " + json_number(run.sigma_nm) +
       ", \"density_per_um2\": " + json_number(run.density_per_um2) + ", \"photons\": " + json_string(run.photons) +
       ", \"background_photons\": " + json_number(run.background_photons) + ", \"camera\": \"cmos-phone\", \"quality\": " +
       std::to_string(run.quality) + ", \"structure\": \"filaments\", \"seed\": " + std::to_string(run.seed) + "},\n";
  j += "  \"model\": " + json_string(run.model) + ",\n  \"trained\": " + (run.trained ? "true" : "false") + ",\n";
  j += "  \"truth_rows\": " + std::to_string(run.truth_rows) + ",\n  \"seconds\": {\"simulate\": " +
       json_number(run.simulate_seconds) + ", \"train\": " + json_number(run.train_seconds) + ", \"total\": " +
       json_number(run.total_seconds) + "},\n  \"runs\": {";
  for (std::size_t m = 0; m < methods.size(); ++m)
    j += std::string(m ? ", " : "") + json_string(methods[m].name) + ": {\"localizations\": " +
         std::to_string(methods[m].localizations) + ", \"seconds\": " + json_number(methods[m].seconds) + ", \"csv\": " +
         json_string(methods[m].csv) + "}";
  j += "},\n";
  for (std::size_t m = 0; m < methods.size(); ++m) {
    j += "  " + json_string(methods[m].name) + ": {\n";
    for (std::size_t k = 0; k < tolerances_nm.size(); ++k) {
      const eval::DetectionMetrics& d = methods[m].metrics[k];
      j += "    \"" + std::to_string(static_cast<int>(tolerances_nm[k])) + "\": {\"jaccard\": " + json_number(d.jaccard) +
           ", \"precision\": " + json_number(d.precision) + ", \"recall\": " + json_number(d.recall) + ", \"f1\": " +
           json_number(d.f1) + ", \"rmse_nm\": " + json_number(d.rmse_lateral_nm) + ", \"tp\": " + std::to_string(d.tp) +
           ", \"fp\": " + std::to_string(d.fp) + ", \"fn\": " + std::to_string(d.fn) + "}" +
           (k + 1 < tolerances_nm.size() ? ",\n" : "\n");
    }
    j += std::string("  }") + (m + 1 < methods.size() ? ",\n" : "\n");
  }
  return j + "}\n";
}

inline std::string html_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

inline std::string length_text(double nm) {
  char buf[32];
  if (nm >= 1000) {
    std::snprintf(buf, sizeof buf, "%g µm", nm / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%g nm", nm);
  }
  return buf;
}

/// index.html: the pictures on the left, the metrics table and the run's facts on the right
/// (one column on a narrow window).
inline std::string index_html(const RunDescription& run, const std::vector<MethodResult>& methods) {
  const double field_um = double(run.size_px) * run.pixel_nm / 1000;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>smlm demo: smartphone dSTORM, network vs classic fitting</title>\n<style>\n"
      "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222;background:#fafafa}\n"
      "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 .5em}\n"
      ".lead,.note{color:#444;max-width:70em}.note{font-size:.9em}\n"
      ".layout{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}\n"
      ".pictures{flex:3 1 560px;display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1em}\n"
      ".side{flex:1 1 340px;position:sticky;top:1em}\n"
      "figure{margin:0;background:#fff;border:1px solid #ddd;padding:.5em}\n"
      "figure img{width:100%;height:auto;display:block;image-rendering:pixelated;background:#000}\n"
      "figcaption{font-size:.85em;color:#444;margin-top:.4em}\n"
      ".wide{grid-column:1/-1;display:grid;grid-template-columns:1fr 1fr;gap:1em}.wide1{grid-column:1/-1}\n"
      "table{border-collapse:collapse;background:#fff;font-size:.9em}\n"
      "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#eee}\n"
      "td.l,th.l{text-align:left}tr.best td{font-weight:bold}\n"
      "dl{font-size:.85em;display:grid;grid-template-columns:max-content 1fr;gap:.2em .8em}dt{color:#666}dd{margin:0}\n"
      "code{font-size:.95em}\n"
      "</style>\n</head>\n<body>\n";
  h += "<h1>smlm demo: smartphone dSTORM, network vs classic fitting</h1>\n<p class=\"lead\">" + std::to_string(run.frames) +
       " simulated frames of " + std::to_string(run.size_px) + " × " + std::to_string(run.size_px) + " pixels (" +
       fixed(field_um, 2) + " µm square, " + json_number(run.pixel_nm) +
       " nm pixels) of blinking emitters on filaments, recorded by the cellphone CMOS camera model and compressed by "
       "smlmkit's H.264-style codec at quality " +
       std::to_string(run.quality) + ", then localized by a neural network (" +
       html_escape(run.model_note) +
       ") and by classic wavelet detection + Gaussian maximum-likelihood fitting, both scored against the ground "
       "truth.</p>\n";
  h += "<p class=\"note\">Every panel shows the whole field at " + json_number(run.pixel_render_nm) +
       " nm per pixel (scale bar " + length_text(run.bar_nm) + "). The inset shows the densest " +
       length_text(double(run.region_px) * run.pixel_render_nm) + " square of the ground truth, marked by the rectangle, " +
       std::to_string(run.zoom) + "× finer (" + json_number(run.inset_pixel_nm) + " nm per pixel, scale bar " +
       length_text(run.inset_bar_nm) + "). Localizations are drawn as unit-mass Gaussians one pixel wide.</p>\n"
       "<div class=\"layout\">\n<div class=\"pictures\">\n";
  auto figure = [&](const std::string& png, const std::string& alt, const std::string& caption) {
    h += "<figure><img src=\"" + png + "\" alt=\"" + html_escape(alt) + "\"><figcaption><b>" + html_escape(alt) + "</b>. " +
         caption + "</figcaption></figure>\n";
  };
  const MethodResult* network = nullptr;
  const MethodResult* classic = nullptr;
  for (const MethodResult& m : methods) (m.name == "network" ? network : classic) = &m;
  auto jaccard_text = [](const MethodResult* m) {
    return m ? "Jaccard at 100 nm " + fixed(m->at(100).jaccard, 3) + ", RMSE " + fixed(m->at(100).rmse_lateral_nm, 1) +
                   " nm, " + std::to_string(m->localizations) + " localizations."
             : std::string();
  };
  h += "<div class=\"wide1\">\n";
  figure("overview.png", "Overview", "Widefield, ground truth, classic fitting and network at half the size, with Jaccard at 100 nm.");
  h += "</div>\n";
  figure("widefield.png", "Widefield", "The sum of all frames: what the camera sees without localization.");
  figure("truth.png", "Ground truth", "Every emitter in every frame it was on (" + std::to_string(run.truth_rows) + ").");
  figure("classic.png", "Classic fitting", "Wavelet detection + Gaussian MLE with the phone's noise model. " + jaccard_text(classic));
  figure("network.png", "Network", jaccard_text(network));
  figure("network_sum.png", "Network output, summed", "The network's output maps of all frames added up.");
  h += "<div class=\"wide\">\n";
  figure("frame_raw.png", "Frame " + std::to_string(run.shown_frame) + ", as recorded",
         "One phone-video frame as the codec decodes it (8-bit), the frame with the most molecules on.");
  figure("frame_network.png", "Frame " + std::to_string(run.shown_frame) + ", network output",
         "The network's output for that frame; green circles mark the true positions.");
  h += "</div>\n</div>\n<div class=\"side\">\n<h2>Accuracy against the ground truth</h2>\n";
  h += "<table>\n<tr><th class=\"l\">method</th><th>tolerance</th><th>Jaccard</th><th>precision</th><th>recall</th>"
       "<th>RMSE (nm)</th><th>TP</th><th>FP</th><th>FN</th></tr>\n";
  for (std::size_t k = 0; k < tolerances_nm.size(); ++k) {
    double best = -1;
    for (const MethodResult& m : methods) best = std::max(best, m.metrics[k].jaccard);
    for (const MethodResult& m : methods) {
      const eval::DetectionMetrics& d = m.metrics[k];
      h += std::string("<tr") + (d.jaccard == best ? " class=\"best\"" : "") + "><td class=\"l\">" + html_escape(m.title) +
           "</td><td>" + json_number(tolerances_nm[k]) + " nm</td><td>" + fixed(d.jaccard, 3) + "</td><td>" +
           fixed(d.precision, 3) + "</td><td>" + fixed(d.recall, 3) + "</td><td>" + fixed(d.rmse_lateral_nm, 1) + "</td><td>" +
           std::to_string(d.tp) + "</td><td>" + std::to_string(d.fp) + "</td><td>" + std::to_string(d.fn) + "</td></tr>\n";
    }
  }
  h += "</table>\n<p style=\"font-size:.85em;color:#444\">Optimal one-to-one matching per frame within the tolerance "
       "(<code>smlm evaluate</code>); Jaccard = TP / (TP + FP + FN); RMSE over the matched pairs. Bold: the better "
       "Jaccard. All numbers are in <a href=\"metrics.json\">metrics.json</a>.</p>\n";
  h += "<h2>Run</h2>\n<dl>\n";
  auto item = [&](const std::string& k, const std::string& v) { h += "<dt>" + k + "</dt><dd>" + v + "</dd>\n"; };
  item("emitters", std::to_string(run.truth_rows) + " (one per molecule per frame it is on)");
  item("conditions", "σ " + json_number(run.sigma_nm) + " nm, " + html_escape(run.photons) + " photons, background " +
                         json_number(run.background_photons) + " photons/pixel, " + json_number(run.density_per_um2) +
                         " emitters/µm² per frame, seed " + std::to_string(run.seed));
  item("model", "<code>" + html_escape(run.model) + "</code>" + (run.trained ? " (trained by this run)" : " (shipped)"));
  item("simulate", fixed(run.simulate_seconds, 1) + " s");
  if (run.trained) item("train", fixed(run.train_seconds, 1) + " s");
  for (const MethodResult& m : methods) item(html_escape(m.name), fixed(m.seconds, 1) + " s");
  item("total", fixed(run.total_seconds, 1) + " s");
  item("files", "<a href=\"truth.csv\">truth.csv</a>, <a href=\"network.csv\">network.csv</a>, "
                "<a href=\"classic.csv\">classic.csv</a> (ThunderSTORM columns), <a href=\"stack.tif\">stack.tif</a> "
                "(the movie), <a href=\"metrics.json\">metrics.json</a>");
  h += "</dl>\n</div>\n</div>\n</body>\n</html>\n";
  return h;
}

}  // namespace smlm::cli::demo

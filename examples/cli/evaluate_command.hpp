// `smlm evaluate TRUTH.csv LOCS.csv [--tolerance 50,100,250] [--json OUT.json]`: detection and
// localization metrics of a localization table against its ground truth (docs/eval.md).
//
// Prints one line per tolerance, exactly (DESIGN.md's CLI contract):
//     tol=<nm> jaccard=<0..1> precision=<0..1> recall=<0..1> f1=<0..1> rmse_nm=<nm> efficiency=<..100> tp=<n> fp=<n> fn=<n>
// --json also writes every metric (bias, axial RMSE when both files have z) and the
// nearest-neighbour distance histogram (ground truth → nearest localization, 5 nm bins).
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/eval/nearest_neighbour.hpp>
#include <smlm/io/csv.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct EvaluateOptions {
  std::string truth;
  std::string localizations;
  std::vector<double> tolerances_nm{50.0, 100.0, 250.0};
  std::string json;
  bool greedy = false;
  std::string cost = "distance";
  double axial_tolerance_nm = 0.0;
};

/// A JSON string literal of `s` (quotes, backslashes and control bytes escaped).
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned>(c));
      out += hex;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

inline void run_evaluate(const EvaluateOptions& opt) {
  for (const double t : opt.tolerances_nm)
    if (!(std::isfinite(t) && t > 0))
      throw CLI::ValidationError("--tolerance", str_cat("each tolerance must be a finite number of nm > 0, got ", t));
  if (!(std::isfinite(opt.axial_tolerance_nm) && opt.axial_tolerance_nm >= 0))
    throw CLI::ValidationError("--axial-tolerance", "must be a finite number of nm >= 0");
  const LocalizationTable truth = unwrap(io::read_localizations_csv(opt.truth));
  const LocalizationTable locs = unwrap(io::read_localizations_csv(opt.localizations));

  eval::MatchOptions match_options;
  match_options.method = opt.greedy ? eval::match_method::greedy : eval::match_method::optimal;
  match_options.cost = opt.cost == "squared" ? eval::match_cost::squared_distance : eval::match_cost::distance;
  match_options.axial_tolerance_nm = opt.axial_tolerance_nm;
  eval::Matcher matcher;
  eval::Matching matching;
  std::vector<std::pair<double, eval::DetectionMetrics>> results;
  for (const double t : opt.tolerances_nm) {
    match_options.tolerance_nm = t;
    matcher.match(truth, locs, match_options, matching);
    const eval::DetectionMetrics m = eval::detection_metrics(matching);
    std::printf("tol=%g jaccard=%.6f precision=%.6f recall=%.6f f1=%.6f rmse_nm=%.3f efficiency=%.3f tp=%zu fp=%zu fn=%zu\n",
                t, m.jaccard, m.precision, m.recall, m.f1, m.rmse_lateral_nm, m.efficiency, m.tp, m.fp, m.fn);
    results.emplace_back(t, m);
  }
  if (opt.json.empty()) return;

  double max_tolerance = 0;
  for (const double t : opt.tolerances_nm) max_tolerance = std::max(max_tolerance, t);
  constexpr double bin_nm = 5.0;
  const auto bins = static_cast<std::size_t>(std::ceil(max_tolerance / bin_nm));
  const eval::DistanceHistogram nn =
      eval::distance_histogram(eval::nearest_neighbour_distances(truth, locs, max_tolerance), bin_nm, bins);

  const std::string partial = opt.json + ".partial";
  {
    std::ofstream out(partial);
    if (!out) throw cli_error("--json " + opt.json + ": cannot open for writing");
    char buf[64];
    auto num = [&](double v) {
      std::snprintf(buf, sizeof buf, "%.9g", v);
      return std::string(buf);
    };
    out << "{\n  \"truth\": " << json_string(opt.truth) << ",\n  \"localizations\": " << json_string(opt.localizations)
        << ",\n  \"method\": \"" << (opt.greedy ? "greedy" : "optimal") << "\",\n  \"cost\": \"" << opt.cost
        << "\",\n  \"truth_rows\": " << truth.size() << ",\n  \"localization_rows\": " << locs.size()
        << ",\n  \"results\": [\n";
    for (std::size_t k = 0; k < results.size(); ++k) {
      const auto& [t, m] = results[k];
      out << "    {\"tolerance_nm\": " << num(t) << ", \"jaccard\": " << num(m.jaccard) << ", \"precision\": "
          << num(m.precision) << ", \"recall\": " << num(m.recall) << ", \"f1\": " << num(m.f1)
          << ", \"rmse_nm\": " << num(m.rmse_lateral_nm) << ", \"efficiency\": " << num(m.efficiency)
          << ", \"bias_x_nm\": " << num(m.bias_x_nm) << ", \"bias_y_nm\": " << num(m.bias_y_nm);
      if (m.has_z) out << ", \"rmse_axial_nm\": " << num(m.rmse_axial_nm) << ", \"bias_z_nm\": " << num(m.bias_z_nm);
      out << ", \"tp\": " << m.tp << ", \"fp\": " << m.fp << ", \"fn\": " << m.fn << "}"
          << (k + 1 < results.size() ? ",\n" : "\n");
    }
    out << "  ],\n  \"nearest_neighbour\": {\"from\": \"truth\", \"bin_width_nm\": " << num(bin_nm) << ", \"counts\": [";
    for (std::size_t k = 0; k < nn.counts.size(); ++k) out << (k ? ", " : "") << nn.counts[k];
    out << "], \"beyond\": " << nn.beyond << "}\n}\n";
    out.flush();
    if (!out) throw cli_error("--json " + opt.json + ": write failed");
  }
  if (std::rename(partial.c_str(), opt.json.c_str()) != 0) {
    std::remove(partial.c_str());
    throw cli_error("--json " + opt.json + ": cannot rename the finished file into place");
  }
}

inline void register_evaluate(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("evaluate", "match localizations to ground truth; Jaccard, RMSE, efficiency per tolerance");
  auto opt = std::make_shared<EvaluateOptions>();
  cmd->add_option("TRUTH", opt->truth, "ground-truth localization CSV (ThunderSTORM format)")->required();
  cmd->add_option("LOCS", opt->localizations, "localization CSV to evaluate")->required();
  cmd->add_option("--tolerance", opt->tolerances_nm, "matching radii in nm, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--json", opt->json, "also write all metrics and the nearest-neighbour histogram as JSON");
  cmd->add_flag("--greedy", opt->greedy, "greedy nearest-pair matching (SMLM challenge tools) instead of optimal");
  cmd->add_option("--cost", opt->cost, "optimal matching minimises total 'distance' or 'squared' distance")
      ->check(CLI::IsMember({"distance", "squared"}))
      ->capture_default_str();
  cmd->add_option("--axial-tolerance", opt->axial_tolerance_nm, "also require |dz| <= this (nm) when both have z; 0: off")
      ->capture_default_str();
  cmd->callback([opt, &exit_code] {
    run_evaluate(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

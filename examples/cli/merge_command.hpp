// `smlm merge LOCS.csv -o MERGED.csv [--distance-nm 50] [--gap 1]`: one row per molecule-on-event
// instead of one per frame (post/merge.hpp, docs/post.md): localizations in consecutive frames
// (skipping at most --gap off frames) within --distance-nm of the event's mean position become one
// row with photon-weighted position, summed photons and propagated uncertainty.
//
// Prints one line: rows=<input rows> merged=<output rows> longest=<rows in the longest event>
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/io/csv.hpp>
#include <smlm/post/merge.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct MergeCommandOptions {
  std::string input, output;
  post::MergeOptions merge;
};

inline void run_merge(const MergeCommandOptions& o) {
  const LocalizationTable table = unwrap(io::read_localizations_csv(o.input));
  post::MergeReport report;
  Expected<LocalizationTable> merged = post::merge_tracks(table, o.merge, &report);
  if (!merged) throw cli_error(o.input + ": " + merged.status().message());
  check(io::write_localizations_csv(o.output, *merged));
  std::printf("rows=%zu merged=%zu longest=%zu\n", report.input_rows, report.tracks, report.longest_track);
}

inline void register_merge(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("merge", "merge the localizations of one molecule in consecutive frames into one row");
  auto opt = std::make_shared<MergeCommandOptions>();
  cmd->add_option("input", opt->input, "localization table (ThunderSTORM CSV)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", opt->output, "merged table (ThunderSTORM CSV)")->required();
  cmd->add_option("--distance-nm", opt->merge.max_distance_nm, "largest distance to the event's mean position, nm")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--gap", opt->merge.max_gap_frames, "off frames an event may skip (0: consecutive frames only)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->callback([opt, &exit_code] {
    run_merge(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

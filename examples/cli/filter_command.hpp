// `smlm filter LOCS.csv -o OUT.csv --where "uncertainty_xy < 20 and intensity > 500"`: the rows of a
// localization table where an expression holds (post/filter.hpp has the grammar; docs/post.md).
//
// Prints one line: rows=<input rows> kept=<rows written>
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/io/csv.hpp>
#include <smlm/post/filter.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct FilterOptions {
  std::string input, output, where;
};

inline void run_filter(const FilterOptions& o) {
  const Expected<post::Filter> f = post::Filter::parse(o.where);
  if (!f) throw CLI::ValidationError("--where", f.status().message());
  const LocalizationTable table = unwrap(io::read_localizations_csv(o.input));
  const Expected<LocalizationTable> kept = post::filter(table, *f);
  if (!kept) throw cli_error(o.input + ": " + kept.status().message());
  check(io::write_localizations_csv(o.output, *kept));
  std::printf("rows=%zu kept=%zu\n", table.size(), kept->size());
}

inline void register_filter(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("filter", "keep the localizations where an expression holds");
  auto opt = std::make_shared<FilterOptions>();
  cmd->add_option("input", opt->input, "localization table (ThunderSTORM CSV)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", opt->output, "filtered table (ThunderSTORM CSV)")->required();
  cmd->add_option("--where", opt->where,
                  "expression over the columns id, frame, x, y, z, sigma, intensity (photons), offset, bkgstd, "
                  "uncertainty_xy (uncertainty): + - * / < <= > >= == != and or not ( ) abs sqrt log")
      ->required();
  cmd->callback([opt, &exit_code] {
    run_filter(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

// `smlm convert IN -o OUT [--pixel-nm P] [--width W] [--height H]`: localization tables between
// ThunderSTORM CSV (.csv) and Picasso HDF5 (.hdf5 or .h5, with its .yaml sidecar), chosen by
// extension (io/csv.hpp, io/hdf5.hpp; docs/formats.md). Picasso HDF5 needs smlmkit::hdf5:
// without it (SMLM_CLI_WITH_HDF5 undefined) those extensions fail with one line saying so.
//
// Prints one line: rows=<rows written>
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/io/csv.hpp>
#if defined(SMLM_CLI_WITH_HDF5)
#include <smlm/io/hdf5.hpp>
#endif

#include "cli_common.hpp"

namespace smlm::cli {

struct ConvertOptions {
  std::string input, output;
  double pixel_nm = 0;  ///< 0: from the input's YAML
  std::int64_t width = 0, height = 0;  ///< 0: from the input's YAML, else the data's extent
};

enum class TableFormat { csv, picasso_hdf5 };

/// The format of `path` by its extension (case-insensitive); the message names the file.
inline TableFormat table_format(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".csv") return TableFormat::csv;
  if (ext == ".hdf5" || ext == ".h5") {
#if defined(SMLM_CLI_WITH_HDF5)
    return TableFormat::picasso_hdf5;
#else
    throw cli_error(path + ": smlmkit was built without HDF5 (libhdf5), so Picasso .hdf5 files cannot be read or written");
#endif
  }
  throw cli_error(path + ": unknown extension \"" + ext + "\" (expected .csv, .hdf5 or .h5)");
}

/// Camera pixels covering [0, max coordinate] of a column in nm, at least 1.
inline std::int64_t extent_pixels(const std::vector<double>& nm, double pixel_nm) {
  double max_px = 0;
  for (const double v : nm) max_px = std::max(max_px, v / pixel_nm);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(max_px)));
}

inline void run_convert(ConvertOptions o) {
  const TableFormat in = table_format(o.input);
  const TableFormat out = table_format(o.output);
  LocalizationTable table;
  [[maybe_unused]] std::int64_t frames = 0;  // the movie length, for an HDF5 output
  if (in == TableFormat::csv) {
    table = unwrap(io::read_localizations_csv(o.input));
  } else {
#if defined(SMLM_CLI_WITH_HDF5)
    table = unwrap(io::read_picasso_hdf5(o.input, o.pixel_nm));
    // The sidecar's field of view, pixel size and length carry over to an HDF5 output.
    if (const auto meta = io::read_picasso_metadata(o.input); meta) {
      if (o.pixel_nm <= 0) o.pixel_nm = meta->pixel_nm;
      if (o.width <= 0) o.width = meta->width;
      if (o.height <= 0) o.height = meta->height;
      frames = meta->frames;
    }
#endif
  }
  if (out == TableFormat::csv) {
    check(io::write_localizations_csv(o.output, table));
  } else {
#if defined(SMLM_CLI_WITH_HDF5)
    if (!(o.pixel_nm > 0))
      throw CLI::ValidationError("--pixel-nm", "is needed to write " + o.output + " (Picasso stores camera pixels)");
    io::PicassoMetadata meta;
    meta.pixel_nm = o.pixel_nm;
    meta.width = o.width > 0 ? o.width : extent_pixels(table.x_nm, o.pixel_nm);
    meta.height = o.height > 0 ? o.height : extent_pixels(table.y_nm, o.pixel_nm);
    if (!table.empty()) frames = std::max<std::int64_t>(frames, *std::max_element(table.frame.begin(), table.frame.end()));
    meta.frames = frames;
    check(io::write_picasso_hdf5(o.output, table, meta));
#endif
  }
  std::printf("rows=%zu\n", table.size());
}

inline void register_convert(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("convert", "convert localization tables: ThunderSTORM CSV <-> Picasso HDF5 (+ YAML)");
  auto opt = std::make_shared<ConvertOptions>();
  cmd->add_option("input", opt->input, "table to read (.csv, or .hdf5/.h5 with its .yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", opt->output, "table to write (.csv, or .hdf5/.h5 plus a .yaml beside it)")->required();
  cmd->add_option("--pixel-nm", opt->pixel_nm,
                  "camera pixel size in nm: needed to write HDF5 from CSV, or to read HDF5 without a YAML")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--width", opt->width, "field of view in camera pixels (default: the data's extent)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--height", opt->height, "field of view in camera pixels (default: the data's extent)")
      ->check(CLI::PositiveNumber);
  cmd->callback([opt, &exit_code] {
    run_convert(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli

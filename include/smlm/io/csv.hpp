// ThunderSTORM-compatible localization tables as CSV (part of smlmkit::io).
//
// Format provenance: ThunderSTORM's results export/import (Ovesný et al., Bioinformatics 30, 2389
// (2014); plugin source cz/cuni/lf1/lge/ThunderSTORM/ImportExport/DLMImportExport.java, of which
// the CSV format is the ',' instance), the de facto interchange format of SMLM software (Picasso,
// SMAP, Deep-STORM and the SMLM challenge read it). A file is comma-separated text, one header
// row of column names, then one row per localization:
//
//     "id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]"
//     1,1,67.843,2484.15594,111.28713,2458.46515,50,4.47214
//
// ThunderSTORM quotes every header name, writes numbers bare and ends lines with the platform's
// line separator (CRLF on Windows). Files from recent versions (such as the reference ground
// truth in shared/data) hold at most five decimals with trailing zeros dropped; older versions
// wrote Java's Double.toString ("1.0" for frame 1, "1.0E-4"). ThunderSTORM's importer drops the
// id column and numbers rows 1..n itself. DESIGN.md requires our files to hold plain fixed-point
// decimals only, never exponents, NaN or Inf, so that every reader of these files can parse them.
//
// Column names map to LocalizationTable as follows (units are part of the name):
//
//     id                  → id                  frame (1-based)      → frame
//     x [nm], y [nm]      → x_nm, y_nm          z [nm]               → z_nm
//     sigma [nm]          → sigma_nm            intensity [photon]   → intensity_photons
//     offset [photon]     → offset_photons      bkgstd [photon]      → bkgstd_photons
//     uncertainty_xy [nm] → uncertainty_xy_nm   (older ThunderSTORM versions: "uncertainty [nm]")
//
// What the reader accepts (a superset of what ThunderSTORM writes):
// - an optional UTF-8 byte-order mark; LF or CRLF line ends; blank lines are skipped (they still
//   count for line numbers);
// - cells separated by ','; a cell may be enclosed in double quotes ("" inside is a literal quote,
//   a comma inside is part of the cell; a quoted cell cannot span lines) and padded with spaces
//   or tabs outside its quotes; header names match exactly (case-sensitive) after unquoting;
// - columns in any order; frame, x [nm] and y [nm] are required, the others optional; columns
//   with other names (ThunderSTORM's "chi2", "detections", "sigma1 [nm]", ...) are ignored
//   without being parsed; a known column named twice (including both uncertainty names) is an
//   error;
// - numbers as std::from_chars reads them (decimal, optional exponent) with an optional leading
//   '+' (so older ThunderSTORM files with "1.0E-4" read); NaN and Inf are errors; frame and id are
//   integers, and an integral decimal such as "3.0" is accepted for them because older
//   ThunderSTORM versions write frames that way; frames start at 1.
// A header-only file gives an empty table; an empty file is an error. Every error is one line:
//     locs.csv: line 17: column "x [nm]": "12,5a" is not a number
// naming the source, the 1-based line (the header is line 1), the column and the offending cell.
//
// What the writer produces: the header quoted exactly as above with only the columns the table
// has, in ThunderSTORM's order (id, frame, x, y, z, sigma, intensity, offset, bkgstd,
// uncertainty_xy); a table without ids gets ids 1..n (as ThunderSTORM numbers rows) unless
// CsvWriteOptions::number_rows_without_id is false, in which case the id column is left out; LF
// line ends; numbers in fixed-point with CsvWriteOptions::decimals decimals (std::to_chars),
// never exponents, with trailing zeros trimmed like ThunderSTORM and "-0" written as "0". A
// table that cannot be written faithfully (inconsistent columns, a non-finite value, a frame
// below 1) is rejected before a single byte is written; a file is written to "<path>.partial"
// and renamed over <path> only when complete, so a failed write never leaves a truncated file.
// The text goes out in whole rows (one write per 64 KiB of them), so the "<path>.partial" of
// a process killed while writing holds whole rows only, and reads as them.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <smlm/core/localization_table.hpp>
#include <smlm/core/status.hpp>
#include <smlm/io/detail/replace_file.hpp>

namespace smlm::io {

struct CsvWriteOptions {
  /// Digits after the decimal point for the real-valued columns, 0..17. Five is what
  /// ThunderSTORM writes: 10 fm resolution for positions in nanometres.
  int decimals = 5;
  /// "50" and "4.4721" rather than "50.00000" and "4.47210", as ThunderSTORM writes them.
  bool trim_trailing_zeros = true;
  /// A table without ids is written with ids 1..n (true) or without an id column (false).
  bool number_rows_without_id = true;
};

namespace detail {

enum class csv_column : std::uint8_t {
  ignored,
  id,
  frame,
  x,
  y,
  z,
  sigma,
  intensity,
  offset,
  bkgstd,
  uncertainty_xy,
};
inline constexpr std::size_t csv_column_count = 11;

struct csv_column_name {
  std::string_view name;
  csv_column column;
};

/// Header names in ThunderSTORM's order; the last one is the alias older versions wrote.
inline constexpr std::array<csv_column_name, 11> csv_column_names{{
    {"id", csv_column::id},
    {"frame", csv_column::frame},
    {"x [nm]", csv_column::x},
    {"y [nm]", csv_column::y},
    {"z [nm]", csv_column::z},
    {"sigma [nm]", csv_column::sigma},
    {"intensity [photon]", csv_column::intensity},
    {"offset [photon]", csv_column::offset},
    {"bkgstd [photon]", csv_column::bkgstd},
    {"uncertainty_xy [nm]", csv_column::uncertainty_xy},
    {"uncertainty [nm]", csv_column::uncertainty_xy},
}};

inline std::vector<double>* csv_real_column(LocalizationTable& table, csv_column column) noexcept {
  switch (column) {
    case csv_column::x: return &table.x_nm;
    case csv_column::y: return &table.y_nm;
    case csv_column::z: return &table.z_nm;
    case csv_column::sigma: return &table.sigma_nm;
    case csv_column::intensity: return &table.intensity_photons;
    case csv_column::offset: return &table.offset_photons;
    case csv_column::bkgstd: return &table.bkgstd_photons;
    case csv_column::uncertainty_xy: return &table.uncertainty_xy_nm;
    default: return nullptr;
  }
}
inline const std::vector<double>* csv_real_column(const LocalizationTable& table, csv_column column) noexcept {
  return csv_real_column(const_cast<LocalizationTable&>(table), column);
}

/// A cell as it appears inside a one-line message: quoted, at most 40 bytes, with quotes,
/// backslashes and control bytes escaped.
inline std::string csv_quote_for_message(std::string_view cell) {
  constexpr std::size_t max_bytes = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < cell.size() && i < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(cell[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(c));
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cell.size() > max_bytes) out += "...";
  out += '"';
  return out;
}

constexpr bool csv_is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

/// Walks the cells of one line (without its line end).
struct csv_cursor {
  std::string_view line;
  std::size_t next = 0;  ///< start of the next cell; line.size() + 1 once the last one was taken
  bool done() const noexcept { return next > line.size(); }
};

enum class csv_cell_status : std::uint8_t { ok, unterminated_quote, text_after_quote };

/// Takes the next cell: the text up to the next separator without surrounding blanks and, for a
/// quoted cell, without its quotes ("" pairs inside stay as they are). Precondition: !done().
inline csv_cell_status csv_next_cell(csv_cursor& cursor, std::string_view& cell) noexcept {
  const std::string_view line = cursor.line;
  const std::size_t n = line.size();
  std::size_t begin = cursor.next;
  while (begin < n && csv_is_blank(line[begin])) ++begin;
  if (begin < n && line[begin] == '"') {
    std::size_t close = begin + 1;
    for (;;) {
      close = line.find('"', close);
      if (close == std::string_view::npos) {
        cell = line.substr(begin);
        cursor.next = n + 1;
        return csv_cell_status::unterminated_quote;
      }
      if (close + 1 < n && line[close + 1] == '"') {
        close += 2;
        continue;
      }
      break;
    }
    std::size_t after = close + 1;
    while (after < n && csv_is_blank(line[after])) ++after;
    if (after < n && line[after] != ',') {
      const std::size_t comma = line.find(',', after);
      cell = line.substr(begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin);
      cursor.next = n + 1;
      return csv_cell_status::text_after_quote;
    }
    cell = line.substr(begin + 1, close - begin - 1);
    cursor.next = after + 1;  // past the comma, or n + 1 at the end of the line
    return csv_cell_status::ok;
  }
  const std::size_t comma = line.find(',', begin);
  const std::size_t stop = comma == std::string_view::npos ? n : comma;
  std::size_t end = stop;
  while (end > begin && csv_is_blank(line[end - 1])) --end;
  cell = line.substr(begin, end - begin);
  cursor.next = stop + 1;
  return csv_cell_status::ok;
}

inline std::size_t csv_count_cells(std::string_view line) noexcept {
  csv_cursor cursor{line};
  std::string_view cell;
  std::size_t count = 0;
  while (!cursor.done()) {
    (void)csv_next_cell(cursor, cell);
    ++count;
  }
  return count;
}

enum class csv_number_status : std::uint8_t { ok, not_a_number, not_finite, out_of_range, not_integer };

inline std::string_view csv_describe(csv_number_status status) noexcept {
  switch (status) {
    case csv_number_status::ok: return "is fine";
    case csv_number_status::not_a_number: return "is not a number";
    case csv_number_status::not_finite: return "is not a finite number (NaN and Inf are not allowed)";
    case csv_number_status::out_of_range: return "is out of range";
    case csv_number_status::not_integer: return "is not an integer";
  }
  return "is invalid";
}

/// The whole cell as a finite double.
inline csv_number_status csv_parse_real(std::string_view cell, double& value) noexcept {
  const char* first = cell.data();
  const char* const last = first + cell.size();
  if (first != last && *first == '+') {
    ++first;
    if (first != last && *first == '-') return csv_number_status::not_a_number;
  }
  if (first == last) return csv_number_status::not_a_number;
  const auto [end, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (end != last) return csv_number_status::not_a_number;
  if (ec == std::errc::result_out_of_range) return csv_number_status::out_of_range;
  if (ec != std::errc()) return csv_number_status::not_a_number;
  if (!std::isfinite(value)) return csv_number_status::not_finite;
  return csv_number_status::ok;
}

/// The whole cell as an integer; an integral-valued decimal ("3.0", "1e3") is accepted.
inline csv_number_status csv_parse_integer(std::string_view cell, std::int64_t& value) noexcept {
  if (cell.starts_with("+-")) return csv_number_status::not_a_number;
  const char* const first = cell.data() + (cell.starts_with('+') ? 1 : 0);
  const char* const last = cell.data() + cell.size();
  if (const auto [end, ec] = std::from_chars(first, last, value); end == last && ec == std::errc())
    return csv_number_status::ok;
  double real = 0;
  if (const auto status = csv_parse_real(cell, real); status != csv_number_status::ok) return status;
  if (std::trunc(real) != real) return csv_number_status::not_integer;
  // ±2^63: the int64 range, exactly representable as doubles.
  if (!(real >= -9223372036854775808.0 && real < 9223372036854775808.0)) return csv_number_status::out_of_range;
  value = static_cast<std::int64_t>(real);
  return csv_number_status::ok;
}

/// One header column while parsing: what it feeds, and where.
struct csv_parse_column {
  csv_column column = csv_column::ignored;
  std::vector<double>* real = nullptr;
  std::string_view name;  ///< as written in the header, for messages
};

}  // namespace detail

/// Parses a ThunderSTORM-compatible localization CSV held in memory (format above).
/// `source_name` (usually the path) starts every error message. Errors: errc::format_error.
inline Expected<LocalizationTable> parse_localizations_csv(std::string_view text, std::string_view source_name) {
  using detail::csv_column;
  using detail::csv_number_status;
  constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
  if (text.starts_with(utf8_bom)) text.remove_prefix(utf8_bom.size());

  std::size_t pos = 0;
  std::size_t line_number = 0;
  // The next non-blank line without its line end; false at the end of the text.
  auto next_line = [&](std::string_view& line) {
    while (pos < text.size()) {
      const std::size_t newline = text.find('\n', pos);
      const std::size_t stop = newline == std::string_view::npos ? text.size() : newline;
      line = text.substr(pos, stop - pos);
      pos = stop + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") != std::string_view::npos) return true;
    }
    return false;
  };

  std::string_view line;
  if (!next_line(line))
    return make_error(errc::format_error, source_name,
                      ": empty file (expected a ThunderSTORM header row such as \"frame\",\"x [nm]\",\"y [nm]\")");

  // Header.
  std::vector<detail::csv_parse_column> columns;
  std::array<std::size_t, detail::csv_column_count> position{};  // 1-based header column, 0 = absent
  std::array<std::string_view, detail::csv_column_count> header_name{};
  LocalizationTable table;
  {
    detail::csv_cursor cursor{line};
    while (!cursor.done()) {
      std::string_view name;
      if (detail::csv_next_cell(cursor, name) != detail::csv_cell_status::ok)
        return make_error(errc::format_error, source_name, ": line ", line_number, ": header cell ",
                          columns.size() + 1, " ", detail::csv_quote_for_message(name),
                          " has an unterminated quote or text after its closing quote");
      detail::csv_parse_column parsed;
      parsed.name = name;
      for (const auto& known : detail::csv_column_names) {
        if (known.name != name) continue;
        const auto k = static_cast<std::size_t>(known.column);
        if (position[k] != 0)
          return make_error(errc::format_error, source_name, ": line ", line_number, ": column \"", name,
                            "\" (column ", columns.size() + 1, ") repeats \"", header_name[k], "\" (column ",
                            position[k], ")");
        position[k] = columns.size() + 1;
        header_name[k] = name;
        parsed.column = known.column;
        parsed.real = detail::csv_real_column(table, known.column);
        break;
      }
      columns.push_back(parsed);
    }
  }
  for (const csv_column required : {csv_column::frame, csv_column::x, csv_column::y}) {
    if (position[static_cast<std::size_t>(required)] == 0) {
      std::string_view name;
      for (const auto& known : detail::csv_column_names)
        if (known.column == required) {
          name = known.name;
          break;
        }
      return make_error(errc::format_error, source_name, ": line ", line_number, ": missing required column \"",
                        name, "\"");
    }
  }

  // Rows. Both the number of line ends and the shortest possible row (a separator per column,
  // one character for each required cell) bound the number of rows.
  const std::string_view rest = text.substr(std::min(pos, text.size()));
  const std::size_t rows_bound =
      std::min(static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '\n')) + 1,
               rest.size() / (columns.size() + 3) + 1);
  for (const auto& column : columns) {
    if (column.real) column.real->reserve(rows_bound);
  }
  if (position[static_cast<std::size_t>(csv_column::id)] != 0) table.id.reserve(rows_bound);
  table.frame.reserve(rows_bound);

  const std::size_t column_count = columns.size();
  auto cell_error = [&](const detail::csv_parse_column& column, std::string_view cell, std::string_view what) {
    return make_error(errc::format_error, source_name, ": line ", line_number, ": column \"", column.name, "\": ",
                      detail::csv_quote_for_message(cell), " ", what);
  };
  auto count_error = [&](std::string_view row) {
    const std::size_t cells = detail::csv_count_cells(row);
    return make_error(errc::format_error, source_name, ": line ", line_number, ": ", cells,
                      cells == 1 ? " cell" : " cells", ", but the header has ", column_count, " columns");
  };
  while (next_line(line)) {
    detail::csv_cursor cursor{line};
    for (const auto& column : columns) {
      if (cursor.done()) return count_error(line);
      std::string_view cell;
      if (detail::csv_next_cell(cursor, cell) != detail::csv_cell_status::ok)
        return cell_error(column, cell, "has an unterminated quote or text after its closing quote");
      switch (column.column) {
        case csv_column::ignored: break;
        case csv_column::id: {
          std::int64_t id = 0;
          if (const auto s = detail::csv_parse_integer(cell, id); s != csv_number_status::ok)
            return cell_error(column, cell, detail::csv_describe(s));
          table.id.push_back(id);
          break;
        }
        case csv_column::frame: {
          std::int64_t frame = 0;
          if (const auto s = detail::csv_parse_integer(cell, frame); s != csv_number_status::ok)
            return cell_error(column, cell, detail::csv_describe(s));
          if (frame < 1 || frame > std::numeric_limits<std::int32_t>::max())
            return cell_error(column, cell, "is not a frame number (frames are numbered from 1)");
          table.frame.push_back(static_cast<std::int32_t>(frame));
          break;
        }
        default: {
          double value = 0;
          if (const auto s = detail::csv_parse_real(cell, value); s != csv_number_status::ok)
            return cell_error(column, cell, detail::csv_describe(s));
          column.real->push_back(value);
          break;
        }
      }
    }
    if (!cursor.done()) return count_error(line);
  }
  return table;
}

namespace detail {

/// Reads a whole file into `text`; errors name the path.
inline Status csv_read_file(const std::string& path, std::string& text) {
  struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, file_closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) return make_error(errc::io_error, path, ": cannot open: ", std::strerror(errno));
  text.clear();
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(file.get());
    if (size > 0) text.reserve(static_cast<std::size_t>(size));
    std::rewind(file.get());
  }
  char buffer[1 << 16];
  for (;;) {
    const std::size_t got = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, got);
    if (got < sizeof buffer) break;
  }
  if (std::ferror(file.get())) return make_error(errc::io_error, path, ": read failed: ", std::strerror(errno));
  return {};
}

/// Every reason a table cannot be written faithfully, checked before anything is written.
inline Status csv_check_writable(const LocalizationTable& table, const CsvWriteOptions& options,
                                 std::string_view target) {
  if (options.decimals < 0 || options.decimals > 17)
    return make_error(errc::invalid_argument, target, ": CsvWriteOptions::decimals ", options.decimals,
                      " is outside 0..17");
  if (!table.consistent()) {
    std::string sizes = str_cat("x [nm] ", table.x_nm.size(), ", y [nm] ", table.y_nm.size(), ", frame ",
                                table.frame.size(), ", id ", table.id.size());
    table.for_each_real_column([&](std::string_view name, const std::vector<double>& column) {
      if (name != "x [nm]" && name != "y [nm]") sizes += str_cat(", ", name, " ", column.size());
    });
    return make_error(errc::invalid_argument, target,
                      ": inconsistent LocalizationTable (frame, x and y need size() entries, other columns "
                      "none or size()): ",
                      sizes);
  }
  // The first offending row, and in it the first column in ThunderSTORM's order.
  const std::size_t n = table.size();
  std::size_t bad_row = n;
  std::string_view bad_name;
  double bad_value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (table.frame[i] < 1) {
      bad_row = i;
      bad_name = "frame";
      bad_value = table.frame[i];
      break;
    }
  }
  table.for_each_real_column([&](std::string_view name, const std::vector<double>& column) {
    const std::size_t limit = std::min(bad_row, column.size());
    for (std::size_t i = 0; i < limit; ++i) {
      if (!std::isfinite(column[i])) {
        bad_row = i;
        bad_name = name;
        bad_value = column[i];
        break;
      }
    }
  });
  if (bad_row == n) return {};
  if (bad_name == "frame")
    return make_error(errc::invalid_argument, target, ": row ", bad_row, " (0-based; line ", bad_row + 2,
                      " of the file): column \"frame\": ", bad_value, " is not a frame number (frames are numbered from 1)");
  return make_error(errc::invalid_argument, target, ": row ", bad_row, " (0-based; line ", bad_row + 2,
                    " of the file): column \"", bad_name, "\": ", bad_value,
                    " cannot be written (the format has no NaN or Inf)");
}

/// Fixed-point text of `value` at [first, ...); returns the end. `first` must have room for
/// 330 bytes (sign, 309 integer digits, point, 17 decimals).
inline char* csv_format_real(char* first, double value, int decimals, bool trim_trailing_zeros) noexcept {
  char* last = std::to_chars(first, first + 340, value, std::chars_format::fixed, decimals).ptr;
  if (trim_trailing_zeros && decimals > 0) {
    while (last[-1] == '0') --last;
    if (last[-1] == '.') --last;
  }
  if (*first == '-' && std::all_of(first + 1, last, [](char c) { return c == '0' || c == '.'; })) {
    std::memmove(first, first + 1, static_cast<std::size_t>(last - first - 1));
    --last;
  }
  return last;
}

/// Writes an already checked table. Every write to `out` ends at the end of a row: each row is
/// formatted into a row buffer, whole rows are gathered into 64 KiB chunks, and the header and
/// each chunk go to `out` in one write each. An unbuffered file stream (the path version)
/// hands each of them to the OS in one call, so a process killed while writing leaves a file
/// of whole rows (the reader then reads them all).
inline Status csv_write_checked(std::ostream& out, const LocalizationTable& table, const CsvWriteOptions& options,
                                std::string_view target) {
  struct out_column {
    csv_column column;
    const std::vector<double>* real;
  };
  std::vector<out_column> columns;
  const bool write_id = !table.id.empty() || options.number_rows_without_id;
  std::string header;
  for (std::size_t k = 0; k + 1 < csv_column_names.size(); ++k) {  // the alias is never written
    const auto& known = csv_column_names[k];
    const std::vector<double>* real = csv_real_column(table, known.column);
    const bool required = known.column == csv_column::frame || known.column == csv_column::x ||
                          known.column == csv_column::y;
    const bool present = known.column == csv_column::id ? write_id : required || !real->empty();
    if (!present) continue;
    columns.push_back({known.column, real});
    if (!header.empty()) header += ',';
    header += '"';
    header += known.name;
    header += '"';
  }
  header += '\n';
  out.write(header.data(), static_cast<std::streamsize>(header.size()));

  // A row is at most 340 bytes per cell (csv_format_real) and a separator or line end per cell.
  constexpr std::size_t max_row_bytes = detail::csv_column_count * 344;
  constexpr std::size_t chunk_bytes = 1 << 16;
  std::array<char, max_row_bytes> row;
  std::vector<char> chunk;
  chunk.reserve(chunk_bytes);
  const std::size_t n = table.size();
  for (std::size_t i = 0; i < n && out; ++i) {
    char* p = row.data();
    bool first = true;
    for (const auto& column : columns) {
      if (!first) *p++ = ',';
      first = false;
      switch (column.column) {
        case csv_column::id: {
          const std::int64_t id = table.id.empty() ? static_cast<std::int64_t>(i + 1) : table.id[i];
          p = std::to_chars(p, p + 24, id).ptr;
          break;
        }
        case csv_column::frame: p = std::to_chars(p, p + 24, table.frame[i]).ptr; break;
        default: p = csv_format_real(p, (*column.real)[i], options.decimals, options.trim_trailing_zeros); break;
      }
    }
    *p++ = '\n';
    const auto row_bytes = static_cast<std::size_t>(p - row.data());
    if (chunk.size() + row_bytes > chunk_bytes) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      chunk.clear();
    }
    chunk.insert(chunk.end(), row.data(), p);
  }
  if (out && !chunk.empty()) out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  if (out) out.flush();
  if (!out) return make_error(errc::io_error, target, ": write failed");
  return {};
}

}  // namespace detail

/// Reads a ThunderSTORM-compatible localization CSV (format above). Errors: errc::io_error when
/// the file cannot be read, errc::format_error for its contents; messages start with `path`.
inline Expected<LocalizationTable> read_localizations_csv(const std::string& path) {
  std::string text;
  SMLM_TRY(detail::csv_read_file(path, text));
  return parse_localizations_csv(text, path);
}

/// Writes `table` as ThunderSTORM-compatible CSV to `out` (format above). Nothing is written when
/// the table is rejected: errc::invalid_argument for an inconsistent table, a non-finite value
/// or a frame below 1 (the message names row and column) or decimals outside 0..17;
/// errc::io_error when the stream fails. `target_name` starts every message.
inline Status write_localizations_csv(std::ostream& out, const LocalizationTable& table,
                                      const CsvWriteOptions& options = {}, std::string_view target_name = "<stream>") {
  SMLM_TRY(detail::csv_check_writable(table, options, target_name));
  return detail::csv_write_checked(out, table, options, target_name);
}

/// Writes `table` to the file `path` (format above), replacing it only once the new contents are
/// complete: they go to "<path>.partial" first, which is renamed over `path` on success and
/// removed on failure. Paths that exist but are not regular files (a FIFO, /dev/stdout, a
/// symbolic link) are written in place. Errors as for the stream version, plus errc::io_error
/// naming `path` when it cannot be created or replaced.
inline Status write_localizations_csv(const std::string& path, const LocalizationTable& table,
                                      const CsvWriteOptions& options = {}) {
  SMLM_TRY(detail::csv_check_writable(table, options, path));
  const detail::replace_target target(path);
  Status status;
  {
    std::ofstream out;
    out.rdbuf()->pubsetbuf(nullptr, 0);  // unbuffered: each whole-row chunk is one write (see above)
    out.open(target.written, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(errc::io_error, path, ": cannot open for writing: ", std::strerror(errno));
    status = detail::csv_write_checked(out, table, options, path);
    out.close();
    if (status.ok() && !out) status = make_error(errc::io_error, path, ": write failed: ", std::strerror(errno));
  }
  return target.finish(std::move(status));
}

}  // namespace smlm::io

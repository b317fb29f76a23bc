// libFuzzer target for the ThunderSTORM CSV reader and writer (make fuzz).
//
// Property: any bytes either fail to parse with a Status, or parse into a consistent table that
// the writer accepts and whose written text parses again into the same rows: equal row count,
// frames and ids, the same optional columns, and real values within the written decimals.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include <smlm/io/csv.hpp>

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "csv_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

void check_close(const std::vector<double>& a, const std::vector<double>& b, int decimals) {
  if (a.size() != b.size()) fail("a real column changed size");
  const double tolerance = 0.5 * std::pow(10.0, -decimals);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(std::abs(a[i] - b[i]) <= tolerance + 1e-15 * std::abs(a[i])))
      fail("a value changed beyond the written decimals", smlm::str_cat(a[i], " -> ", b[i]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = smlm::io::parse_localizations_csv(text, "fuzz.csv");
  if (!parsed) {
    if (parsed.message().empty() || parsed.message().find('\n') != std::string::npos)
      fail("an error message must be one non-empty line:", parsed.message());
    return 0;
  }
  const smlm::LocalizationTable& table = *parsed;
  if (!table.consistent()) fail("parsed table is inconsistent");

  smlm::io::CsvWriteOptions options;
  options.decimals = static_cast<int>(size % 7);  // vary the written precision with the input
  std::stringstream out;
  if (const auto status = smlm::io::write_localizations_csv(out, table, options); !status)
    fail("writing a parsed table failed:", status.message());
  auto again = smlm::io::parse_localizations_csv(out.str(), "rewritten.csv");
  if (!again) fail("re-parsing written text failed:", again.message());
  const smlm::LocalizationTable& back = *again;
  if (back.size() != table.size()) fail("row count changed");
  if (back.frame != table.frame) fail("frames changed");
  if (!table.id.empty() && back.id != table.id) fail("ids changed");
  if (back.id.size() != table.size()) fail("ids 1..n were not written");
  table.for_each_real_column([&](std::string_view name, const std::vector<double>& column) {
    back.for_each_real_column([&](std::string_view back_name, const std::vector<double>& back_column) {
      if (name == back_name) check_close(column, back_column, options.decimals);
    });
  });
  return 0;
}

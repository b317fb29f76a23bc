#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include <smlm/io/csv.hpp>

namespace {

using smlm::errc;
using smlm::LocalizationTable;
using smlm::io::parse_localizations_csv;

const std::string reference_csv = std::string(SMLM_SHARED_DATA_DIR) + "/thunderstorm_sim_20frames_positions.csv";

std::string tmp_path(const std::string& name) { return std::string(SMLM_TEST_TMP_DIR) + "/csv_test_" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A table with every column, values chosen to exercise signs, magnitudes and rounding.
LocalizationTable full_table(std::size_t rows) {
  LocalizationTable t;
  for (std::size_t i = 0; i < rows; ++i) {
    const double s = static_cast<double>(i);
    t.id.push_back(static_cast<std::int64_t>(1000 + 7 * i));
    t.frame.push_back(static_cast<std::int32_t>(1 + i / 3));
    t.x_nm.push_back(12.3456789 * s + 0.1);
    t.y_nm.push_back(6400.0 - 31.25 * s);
    t.z_nm.push_back(-350.0 + 17.123456 * s);
    t.sigma_nm.push_back(100.0 + 0.000001 * s);
    t.intensity_photons.push_back(2000.0 + 123456.789 * s);
    t.offset_photons.push_back(50.0);
    t.bkgstd_photons.push_back(4.47214);
    t.uncertainty_xy_nm.push_back(1e-7 * s);
  }
  return t;
}

void check_close(const std::vector<double>& a, const std::vector<double>& b, double tolerance) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("row ", i, ": ", a[i], " vs ", b[i]);
    CHECK(std::abs(a[i] - b[i]) <= tolerance + 1e-12 * std::abs(a[i]));
  }
}

/// Parses `text`, requiring an error; returns its Status.
smlm::Status parse_error(std::string_view text, std::string_view name = "locs.csv") {
  auto result = parse_localizations_csv(text, name);
  REQUIRE_FALSE(result.has_value());
  return result.status();
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A stream buffer with no buffer of its own: keeps each write it is handed apart.
class write_log : public std::streambuf {
 public:
  std::vector<std::string> writes;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    writes.emplace_back(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) writes.emplace_back(1, traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
};

template <class T>
bool same_first(const std::vector<T>& a, const std::vector<T>& b, std::size_t n) {
  if (a.size() < n || b.size() < n) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

/// Checks that the first `rows` rows of `part` are those of `whole`, in every column.
void check_first_rows(const LocalizationTable& part, const LocalizationTable& whole, std::size_t rows) {
  REQUIRE(part.size() >= rows);
  REQUIRE(part.consistent());
  CHECK(same_first(part.id, whole.id, rows));
  CHECK(same_first(part.frame, whole.frame, rows));
  CHECK(same_first(part.x_nm, whole.x_nm, rows));
  CHECK(same_first(part.y_nm, whole.y_nm, rows));
  CHECK(same_first(part.z_nm, whole.z_nm, rows));
  CHECK(same_first(part.sigma_nm, whole.sigma_nm, rows));
  CHECK(same_first(part.intensity_photons, whole.intensity_photons, rows));
  CHECK(same_first(part.offset_photons, whole.offset_photons, rows));
  CHECK(same_first(part.bkgstd_photons, whole.bkgstd_photons, rows));
  CHECK(same_first(part.uncertainty_xy_nm, whole.uncertainty_xy_nm, rows));
}

}  // namespace

TEST_CASE("the ThunderSTORM reference CSV reads with its columns, first and last rows") {
  auto result = smlm::io::read_localizations_csv(reference_csv);
  REQUIRE_MESSAGE(result.has_value(), result.message());
  const LocalizationTable& t = *result;
  REQUIRE(t.size() == 4956u);
  CHECK(t.consistent());
  // "id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]"
  CHECK(t.id.size() == 4956u);
  CHECK(t.sigma_nm.size() == 4956u);
  CHECK(t.intensity_photons.size() == 4956u);
  CHECK(t.offset_photons.size() == 4956u);
  CHECK(t.bkgstd_photons.size() == 4956u);
  CHECK(t.z_nm.empty());
  CHECK(t.uncertainty_xy_nm.empty());
  // 1,1,67.843,2484.15594,111.28713,2458.46515,50,4.47214
  CHECK(t.id.front() == 1);
  CHECK(t.frame.front() == 1);
  CHECK(t.x_nm.front() == 67.843);
  CHECK(t.y_nm.front() == 2484.15594);
  CHECK(t.sigma_nm.front() == 111.28713);
  CHECK(t.intensity_photons.front() == 2458.46515);
  CHECK(t.offset_photons.front() == 50.0);
  CHECK(t.bkgstd_photons.front() == 4.47214);
  // 4956,20,6384.35579,5200.34775,113.46771,2494.6977,50,4.47214
  CHECK(t.id.back() == 4956);
  CHECK(t.frame.back() == 20);
  CHECK(t.x_nm.back() == 6384.35579);
  CHECK(t.y_nm.back() == 5200.34775);
  CHECK(t.sigma_nm.back() == 113.46771);
  CHECK(t.intensity_photons.back() == 2494.6977);
}

TEST_CASE("writing then reading a table with every column gives it back within the decimals") {
  const LocalizationTable original = full_table(40);
  for (int decimals : {5, 2, 0}) {
    CAPTURE(decimals);
    smlm::io::CsvWriteOptions options;
    options.decimals = decimals;
    std::ostringstream out;
    REQUIRE(smlm::io::write_localizations_csv(out, original, options).ok());
    auto back = parse_localizations_csv(out.str(), "round-trip");
    REQUIRE_MESSAGE(back.has_value(), back.message());
    CHECK(back->consistent());
    CHECK(back->id == original.id);
    CHECK(back->frame == original.frame);
    const double tolerance = 0.5 * std::pow(10.0, -decimals);
    check_close(back->x_nm, original.x_nm, tolerance);
    check_close(back->y_nm, original.y_nm, tolerance);
    check_close(back->z_nm, original.z_nm, tolerance);
    check_close(back->sigma_nm, original.sigma_nm, tolerance);
    check_close(back->intensity_photons, original.intensity_photons, tolerance);
    check_close(back->offset_photons, original.offset_photons, tolerance);
    check_close(back->bkgstd_photons, original.bkgstd_photons, tolerance);
    check_close(back->uncertainty_xy_nm, original.uncertainty_xy_nm, tolerance);
  }
}

TEST_CASE("the file writer and reader round-trip and replace the file whole") {
  const std::string path = tmp_path("round_trip.csv");
  const LocalizationTable original = full_table(25);
  REQUIRE(smlm::io::write_localizations_csv(path, original).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  auto back = smlm::io::read_localizations_csv(path);
  REQUIRE_MESSAGE(back.has_value(), back.message());
  CHECK(back->frame == original.frame);
  check_close(back->x_nm, original.x_nm, 0.5e-5);
  check_close(back->uncertainty_xy_nm, original.uncertainty_xy_nm, 0.5e-5);

  // A rejected table leaves the existing file as it was.
  const std::string before = slurp(path);
  LocalizationTable bad = original;
  bad.y_nm[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK(smlm::io::write_localizations_csv(path, bad).code() == errc::invalid_argument);
  CHECK(slurp(path) == before);
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  std::filesystem::remove(path);
}

TEST_CASE("the writer's text: ThunderSTORM header, fixed-point numbers, only present columns") {
  LocalizationTable t;
  t.frame = {1, 2, 3};
  t.x_nm = {1e-7, 1e20, -0.000001};
  t.y_nm = {50.0, 4.47214, 123.456789};
  std::ostringstream out;
  REQUIRE(smlm::io::write_localizations_csv(out, t).ok());
  CHECK(out.str() ==
        "\"id\",\"frame\",\"x [nm]\",\"y [nm]\"\n"
        "1,1,0,50\n"
        "2,2,100000000000000000000,4.47214\n"
        "3,3,0,123.45679\n");

  SUBCASE("without row numbers and with untrimmed decimals") {
    smlm::io::CsvWriteOptions options;
    options.number_rows_without_id = false;
    options.trim_trailing_zeros = false;
    options.decimals = 3;
    std::ostringstream plain;
    REQUIRE(smlm::io::write_localizations_csv(plain, t, options).ok());
    CHECK(plain.str() ==
          "\"frame\",\"x [nm]\",\"y [nm]\"\n"
          "1,0.000,50.000\n"
          "2,100000000000000000000.000,4.472\n"
          "3,0.000,123.457\n");
  }
  SUBCASE("every column, in ThunderSTORM's order") {
    std::ostringstream all;
    REQUIRE(smlm::io::write_localizations_csv(all, full_table(1)).ok());
    CHECK(all.str() ==
          "\"id\",\"frame\",\"x [nm]\",\"y [nm]\",\"z [nm]\",\"sigma [nm]\",\"intensity [photon]\","
          "\"offset [photon]\",\"bkgstd [photon]\",\"uncertainty_xy [nm]\"\n"
          "1000,1,0.1,6400,-350,100,2000,50,4.47214,0\n");
  }
  SUBCASE("an empty table is a header") {
    LocalizationTable empty;
    std::ostringstream header;
    REQUIRE(smlm::io::write_localizations_csv(header, empty).ok());
    CHECK(header.str() == "\"id\",\"frame\",\"x [nm]\",\"y [nm]\"\n");
    auto back = parse_localizations_csv(header.str(), "header");
    REQUIRE(back.has_value());
    CHECK(back->empty());
  }
}

TEST_CASE("the reader accepts ThunderSTORM's variations") {
  SUBCASE("any column order, bare header names, unknown columns ignored") {
    auto t = parse_localizations_csv(
        "y [nm],detections,chi2,x [nm],frame,note\n"
        "2.5,3,1e9,1.25,7,\"a, quoted \"\"cell\"\"\"\n"
        "4.5,1,NaN,3.25,8,plain\n",
        "order.csv");
    REQUIRE_MESSAGE(t.has_value(), t.message());
    CHECK(t->size() == 2u);
    CHECK(t->x_nm == std::vector<double>{1.25, 3.25});
    CHECK(t->y_nm == std::vector<double>{2.5, 4.5});
    CHECK(t->frame == std::vector<std::int32_t>{7, 8});
    CHECK(t->id.empty());
    CHECK(t->sigma_nm.empty());
  }
  SUBCASE("BOM, CRLF, quoted numbers, padding, blank lines and no final line end") {
    auto t = parse_localizations_csv(
        "\xEF\xBB\xBF\"id\",\"frame\",\"x [nm]\",\"y [nm]\"\r\n"
        "1,1, 10.5 ,\"20\"\r\n"
        "\r\n"
        "2,+2,-11,2e1",
        "bom.csv");
    REQUIRE_MESSAGE(t.has_value(), t.message());
    CHECK(t->id == std::vector<std::int64_t>{1, 2});
    CHECK(t->frame == std::vector<std::int32_t>{1, 2});
    CHECK(t->x_nm == std::vector<double>{10.5, -11.0});
    CHECK(t->y_nm == std::vector<double>{20.0, 20.0});
  }
  SUBCASE("the older \"uncertainty [nm]\" name fills uncertainty_xy") {
    auto t = parse_localizations_csv("frame,x [nm],y [nm],\"uncertainty [nm]\"\n1,2,3,4.5\n", "old.csv");
    REQUIRE_MESSAGE(t.has_value(), t.message());
    CHECK(t->uncertainty_xy_nm == std::vector<double>{4.5});
  }
  SUBCASE("older ThunderSTORM's Double.toString: integral decimals for frame and id, exponents") {
    auto t = parse_localizations_csv(
        "\"id\",\"frame\",\"x [nm]\",\"y [nm]\"\n3.0,1.0,1.0E-4,1.5E7\n4,2.000,0,0\n", "f.csv");
    REQUIRE_MESSAGE(t.has_value(), t.message());
    CHECK(t->id == std::vector<std::int64_t>{3, 4});
    CHECK(t->frame == std::vector<std::int32_t>{1, 2});
    CHECK(t->x_nm == std::vector<double>{1.0e-4, 0.0});
    CHECK(t->y_nm == std::vector<double>{1.5e7, 0.0});
  }
  SUBCASE("a header-only file is an empty table") {
    auto t = parse_localizations_csv("\"frame\",\"x [nm]\",\"y [nm]\",\"z [nm]\"\r\n", "h.csv");
    REQUIRE_MESSAGE(t.has_value(), t.message());
    CHECK(t->empty());
    CHECK(t->consistent());
  }
}

TEST_CASE("bad CSV input gives one-line errors naming file, line, column and value") {
  const std::string header = "\"id\",\"frame\",\"x [nm]\",\"y [nm]\"\n";

  SUBCASE("the example from the documentation") {
    std::string text = header;
    for (int i = 1; i < 16; ++i) text += std::to_string(i) + ",1,1.5,2.5\n";
    text += "16,1,\"12,5a\",3\n";
    const auto s = parse_error(text);
    CHECK(s.code() == errc::format_error);
    CHECK(s.message() == "locs.csv: line 17: column \"x [nm]\": \"12,5a\" is not a number");
  }
  SUBCASE("missing required column") {
    const auto s = parse_error("\"id\",\"frame\",\"y [nm]\"\n1,1,2\n", "nox.csv");
    CHECK(s.code() == errc::format_error);
    CHECK(s.message() == "nox.csv: line 1: missing required column \"x [nm]\"");
    CHECK(contains(parse_error("x [nm],y [nm]\n1,2\n").message(), "missing required column \"frame\""));
  }
  SUBCASE("duplicate known column, including the uncertainty alias") {
    const auto s = parse_error("frame,x [nm],y [nm],x [nm]\n1,2,3,4\n");
    CHECK(s.code() == errc::format_error);
    CHECK(contains(s.message(), "locs.csv: line 1: column \"x [nm]\" (column 4) repeats \"x [nm]\" (column 2)"));
    CHECK(contains(parse_error("frame,x [nm],y [nm],uncertainty_xy [nm],uncertainty [nm]\n").message(),
                   "\"uncertainty [nm]\" (column 5) repeats \"uncertainty_xy [nm]\" (column 4)"));
  }
  SUBCASE("non-numeric cell") {
    const auto s = parse_error(header + "1,1,2,abc\n");
    CHECK(s.code() == errc::format_error);
    CHECK(s.message() == "locs.csv: line 2: column \"y [nm]\": \"abc\" is not a number");
    CHECK(parse_error(header + "1,1,,2\n").message() == "locs.csv: line 2: column \"x [nm]\": \"\" is not a number");
    CHECK(parse_error(header + "1,1,1.5.2,2\n").message() ==
          "locs.csv: line 2: column \"x [nm]\": \"1.5.2\" is not a number");
    CHECK(parse_error(header + "x,1,1,2\n").message() == "locs.csv: line 2: column \"id\": \"x\" is not a number");
  }
  SUBCASE("too few and too many cells") {
    const auto few = parse_error(header + "1,1,2,3\n2,1,2\n");
    CHECK(few.code() == errc::format_error);
    CHECK(few.message() == "locs.csv: line 3: 3 cells, but the header has 4 columns");
    const auto many = parse_error(header + "1,1,2,3,4\n");
    CHECK(many.code() == errc::format_error);
    CHECK(many.message() == "locs.csv: line 2: 5 cells, but the header has 4 columns");
    CHECK(parse_error(header + "1,1,2,3,\n").message() == "locs.csv: line 2: 5 cells, but the header has 4 columns");
  }
  SUBCASE("empty file") {
    for (std::string_view empty : {"", "\xEF\xBB\xBF", "\r\n\n  \n"}) {
      const auto s = parse_error(empty, "empty.csv");
      CHECK(s.code() == errc::format_error);
      CHECK(contains(s.message(), "empty.csv: empty file"));
    }
  }
  SUBCASE("NaN and Inf in input") {
    for (std::string_view bad : {"nan", "NaN", "inf", "-Infinity"}) {
      const auto s = parse_error(header + "1,1," + std::string(bad) + ",3\n");
      CHECK(s.code() == errc::format_error);
      CHECK(s.message() == "locs.csv: line 2: column \"x [nm]\": \"" + std::string(bad) +
                               "\" is not a finite number (NaN and Inf are not allowed)");
    }
    CHECK(parse_error(header + "1,1,1e999,3\n").message() == "locs.csv: line 2: column \"x [nm]\": \"1e999\" is out of range");
  }
  SUBCASE("frames must be integers from 1") {
    CHECK(parse_error(header + "1,0,1,2\n").message() ==
          "locs.csv: line 2: column \"frame\": \"0\" is not a frame number (frames are numbered from 1)");
    CHECK(parse_error(header + "1,-3,1,2\n").message() ==
          "locs.csv: line 2: column \"frame\": \"-3\" is not a frame number (frames are numbered from 1)");
    CHECK(parse_error(header + "1,2.5,1,2\n").message() == "locs.csv: line 2: column \"frame\": \"2.5\" is not an integer");
    CHECK(parse_error(header + "1,3000000000,1,2\n").code() == errc::format_error);
    CHECK(parse_error(header + "1.5,1,1,2\n").message() == "locs.csv: line 2: column \"id\": \"1.5\" is not an integer");
  }
  SUBCASE("quotes that do not close, and messages stay on one line") {
    CHECK(parse_error(header + "1,1,\"2,3\n").message() ==
          "locs.csv: line 2: column \"x [nm]\": \"\\\"2,3\" has an unterminated quote or text after its closing quote");
    const auto s = parse_error(header + "1,1,\x01\r2,3\n");
    CHECK(s.message() == "locs.csv: line 2: column \"x [nm]\": \"\\x01\\x0D2\" is not a number");
    const auto long_cell = parse_error(header + "1,1," + std::string(100, '7') + "x,3\n");
    // Built with += : GCC 12 at -O3 warns (-Wstringop-overflow, a false positive) on "..." + std::string&&.
    std::string cut_cell = "\"";
    cut_cell += std::string(40, '7');
    cut_cell += "...\" is not a number";
    CHECK(contains(long_cell.message(), cut_cell));
  }
}

TEST_CASE("a missing file is an i/o error naming it") {
  auto result = smlm::io::read_localizations_csv(tmp_path("does_not_exist.csv"));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.status().code() == errc::io_error);
  CHECK(contains(result.message(), tmp_path("does_not_exist.csv") + ": cannot open: "));
  const auto s = smlm::io::write_localizations_csv(tmp_path("no_such_dir/out.csv"), full_table(2));
  CHECK(s.code() == errc::io_error);
  CHECK(contains(s.message(), "no_such_dir/out.csv: cannot open for writing"));
}

TEST_CASE("tables the format cannot hold are rejected before anything is written") {
  SUBCASE("NaN and Inf name row and column") {
    LocalizationTable t = full_table(5);
    t.sigma_nm[3] = std::numeric_limits<double>::infinity();
    t.bkgstd_photons[2] = std::numeric_limits<double>::quiet_NaN();
    std::ostringstream out;
    const auto s = smlm::io::write_localizations_csv(out, t, {}, "out.csv");
    CHECK(s.code() == errc::invalid_argument);
    CHECK(s.message() ==
          "out.csv: row 2 (0-based; line 4 of the file): column \"bkgstd [photon]\": nan cannot be written (the "
          "format has no NaN or Inf)");
    CHECK(out.str().empty());
  }
  SUBCASE("frame below 1") {
    LocalizationTable t = full_table(3);
    t.frame[1] = 0;
    std::ostringstream out;
    const auto s = smlm::io::write_localizations_csv(out, t);
    CHECK(s.code() == errc::invalid_argument);
    CHECK(contains(s.message(), "<stream>: row 1 (0-based; line 3 of the file): column \"frame\": 0 is not a frame number"));
    CHECK(out.str().empty());
  }
  SUBCASE("inconsistent table") {
    LocalizationTable t = full_table(3);
    t.z_nm.pop_back();
    std::ostringstream out;
    const auto s = smlm::io::write_localizations_csv(out, t);
    CHECK(s.code() == errc::invalid_argument);
    CHECK(contains(s.message(), "inconsistent LocalizationTable"));
    CHECK(contains(s.message(), "z [nm] 2"));
    CHECK(out.str().empty());
    const std::string path = tmp_path("inconsistent.csv");
    CHECK(smlm::io::write_localizations_csv(path, t).code() == errc::invalid_argument);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  SUBCASE("decimals out of range") {
    smlm::io::CsvWriteOptions options;
    options.decimals = 18;
    std::ostringstream out;
    CHECK(smlm::io::write_localizations_csv(out, full_table(1), options).code() == errc::invalid_argument);
    options.decimals = -1;
    CHECK(smlm::io::write_localizations_csv(out, full_table(1), options).code() == errc::invalid_argument);
    CHECK(out.str().empty());
  }
  SUBCASE("a failing stream") {
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    const auto s = smlm::io::write_localizations_csv(out, full_table(2), {}, "broken");
    CHECK(s.code() == errc::io_error);
    CHECK(s.message() == "broken: write failed");
  }
}

TEST_CASE("the writer hands its stream whole rows only") {
  const LocalizationTable table = full_table(3000);  // about 300 KB: several chunks
  std::ostringstream expected;
  REQUIRE(smlm::io::write_localizations_csv(expected, table).ok());
  write_log log;
  std::ostream out(&log);
  REQUIRE(smlm::io::write_localizations_csv(out, table).ok());
  REQUIRE(log.writes.size() >= 4);  // the header, then chunks of rows
  std::string joined;
  for (const std::string& w : log.writes) {
    CHECK_FALSE(w.empty());
    CHECK(w.back() == '\n');
    CHECK(w.size() <= std::size_t{1} << 16);
    joined += w;
  }
  CHECK(joined == expected.str());
}

TEST_CASE("a CSV file cut anywhere reads back every row before the cut") {
  const std::string path = tmp_path("cut_whole.csv"), cut_path = tmp_path("cut.csv");
  REQUIRE(smlm::io::write_localizations_csv(path, full_table(300)).ok());
  const std::string text = slurp(path);
  auto whole = smlm::io::read_localizations_csv(path);
  REQUIRE(whole.has_value());
  REQUIRE(whole->size() == 300u);

  // After every line end (what a writer killed between rows leaves), and 40 random cuts.
  std::vector<std::size_t> cuts;
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) cuts.push_back(at + 1);
  std::mt19937_64 rng(20240617);
  for (int i = 0; i < 40; ++i) cuts.push_back(rng() % (text.size() + 1));
  for (const std::size_t cut : cuts) {
    CAPTURE(cut);
    {
      std::filesystem::remove(cut_path);  // a new file: ext4 flushes a truncated, rewritten one on close
      std::ofstream out(cut_path, std::ios::binary);
      out.write(text.data(), static_cast<std::streamsize>(cut));
    }
    const std::string_view kept(text.data(), cut);
    const auto line_ends = static_cast<std::size_t>(std::count(kept.begin(), kept.end(), '\n'));
    auto part = smlm::io::read_localizations_csv(cut_path);
    if (line_ends == 0) {  // inside the header: a shorter header (no rows) or an error
      if (part.has_value()) CHECK(part->size() == 0u);
      else CHECK(part.status().code() == errc::format_error);
      continue;
    }
    const std::size_t rows = line_ends - 1;
    if (kept.back() == '\n') {
      REQUIRE_MESSAGE(part.has_value(), part.message());
      CHECK(part->size() == rows);
      check_first_rows(*part, *whole, rows);
    } else if (part.has_value()) {  // a cut row may still parse: a shorter number, or all its cells
      CHECK(part->size() <= rows + 1);
      check_first_rows(*part, *whole, rows);
    } else {  // or it names its line (the header is line 1)
      CHECK(part.status().code() == errc::format_error);
      CHECK(contains(part.message(), cut_path + ": line " + std::to_string(rows + 2) + ": "));
    }
  }
}

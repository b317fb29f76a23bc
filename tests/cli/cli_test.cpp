// The `smlm` contract: exit codes, one-line errors naming the bad file/flag/value, outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>

namespace {
struct Run {
  int exit_code;
  std::string output;  // stdout and stderr together
};
Run run_smlm(const std::string& args) {
  const std::string command = std::string(SMLM_CLI_PATH) + " " + args + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
const std::string data_dir = SMLM_SHARED_DATA_DIR;
const std::string tmp_dir = SMLM_TEST_TMP_DIR;
}  // namespace

TEST_CASE("--version and --help succeed") {
  auto v = run_smlm("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.output.find("smlm 0.") == 0);
  auto h = run_smlm("--help");
  CHECK(h.exit_code == 0);
  CHECK(h.output.find("demo") != std::string::npos);
}

TEST_CASE("bad invocations fail with one line naming what is wrong") {
  SUBCASE("no subcommand") {
    auto r = run_smlm("");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
  }
  SUBCASE("unknown flag") {
    auto r = run_smlm("info --bogus-flag x.tif");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("--bogus-flag") != std::string::npos);
  }
  SUBCASE("missing file") {
    auto r = run_smlm("info " + tmp_dir + "/does-not-exist.tif");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("does-not-exist.tif") != std::string::npos);
  }
  SUBCASE("not a TIFF") {
    const std::string path = tmp_dir + "/cli_not_a_tiff.tif";
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("this is not a TIFF file\n", f);
    std::fclose(f);
    auto r = run_smlm("info " + path);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("cli_not_a_tiff.tif") != std::string::npos);
  }
  SUBCASE("bad flag value") {
    auto r = run_smlm("demo -q -o " + tmp_dir + "/demo_bad --pixel-nm -5");
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("pixel-nm") != std::string::npos);
  }
}

TEST_CASE("info describes the reference stack") {
  auto r = run_smlm("info " + data_dir + "/thunderstorm_sim_20frames.tif");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("width=64 height=64 frames=20 type=uint16 byte_order=big") != std::string::npos);
  CHECK(r.output.find("min=105 max=2472") != std::string::npos);
}

TEST_CASE("demo writes its report folder") {
  const std::string out = tmp_dir + "/demo_cli";
  std::filesystem::remove_all(out);
  auto r = run_smlm("demo -q -o " + out);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("frames=20 size=64x64") != std::string::npos);
  CHECK(r.output.find("emitters=4956") != std::string::npos);
  for (const char* name : {"sum.tif", "sum.png", "truth.png", "frame_stats.csv", "report.md"}) {
    CAPTURE(name);
    CHECK(std::filesystem::file_size(out + "/" + name) > 0);
  }
  // The summed image holds every count of the stack: 33,176,473 over 20 frames (an independent
  // struct-based parse of the reference TIFF, see tests/io/tiff_reader_test.cpp).
  auto sum = smlm::io::TiffReader::open(out + "/sum.tif");
  REQUIRE(sum);
  CHECK(sum->frames() == 1);
  smlm::Image<double> image;
  REQUIRE(sum->read_frame(0, image).ok());
  CHECK(image.rows() == 64);
  CHECK(image.sum() == doctest::Approx(33176473.0).epsilon(1e-7));
  // frame_stats.csv: one row per frame; emitter counts add up to the ground truth's 4,956 rows.
  std::ifstream stats(out + "/frame_stats.csv");
  std::string line;
  std::getline(stats, line);
  CHECK(line.find("\"frame\"") == 0);
  int rows = 0;
  long emitters = 0;
  while (std::getline(stats, line)) {
    ++rows;
    emitters += std::stol(line.substr(line.rfind(',') + 1));
  }
  CHECK(rows == 20);
  CHECK(emitters == 4956);
}

namespace {
/// Greedy one-to-one nearest-pair matching per frame within tol_nm (the eval module is elsewhere):
/// returns {matched, rmse_nm}.
std::pair<std::size_t, double> match_nearest(const smlm::LocalizationTable& truth, const smlm::LocalizationTable& locs,
                                             double tol_nm) {
  struct Pair {
    double d;
    std::size_t i, j;
  };
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < locs.size(); ++i)
    for (std::size_t j = 0; j < truth.size(); ++j) {
      if (locs.frame[i] != truth.frame[j]) continue;
      const double d = std::hypot(locs.x_nm[i] - truth.x_nm[j], locs.y_nm[i] - truth.y_nm[j]);
      if (d <= tol_nm) pairs.push_back({d, i, j});
    }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.d < b.d; });
  std::vector<bool> used_l(locs.size()), used_t(truth.size());
  std::size_t n = 0;
  double se = 0;
  for (const Pair& p : pairs) {
    if (used_l[p.i] || used_t[p.j]) continue;
    used_l[p.i] = used_t[p.j] = true;
    ++n;
    se += p.d * p.d;
  }
  return {n, n ? std::sqrt(se / static_cast<double>(n)) : 0.0};
}
}  // namespace

TEST_CASE("localize: the reference ThunderSTORM stack against its ground truth") {
  // The stack is ADU = 100 + photons (ThunderSTORM's simulator, gain 1, no read noise), σ ≈ 110 nm,
  // about 250 emitters per 64 × 64 frame: far denser than single-emitter fitting resolves, so
  // recall is low and the bounds below are regression bounds for this data (measured: 1,694
  // localizations, recall 0.30, precision 0.89, RMSE 54 nm at 100 nm), not targets.
  const std::string out = tmp_dir + "/localize_ref.csv";
  std::filesystem::remove(out);
  auto r = run_smlm("localize " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out +
                    " --pixel-nm 100 --camera emccd --em-gain 1 --qe 1 --read-noise-e 0 --e-per-adu 1"
                    " --baseline-adu 100 --sigma-nm 110 --threshold 0.3 --fit-radius 2 --method mle");
  CHECK(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("frames=20 ") == 0);
  auto locs = smlm::io::read_localizations_csv(out);
  REQUIRE(locs);
  auto truth = smlm::io::read_localizations_csv(data_dir + "/thunderstorm_sim_20frames_positions.csv");
  REQUIRE(truth);
  CHECK(locs->size() > 1200);
  CHECK(locs->size() < 2500);
  CHECK(locs->uncertainty_xy_nm.size() == locs->size());
  CHECK(locs->frame.front() == 1);
  CHECK(locs->frame.back() == 20);
  const auto [tp, rmse] = match_nearest(*truth, *locs, 100);
  const double recall = static_cast<double>(tp) / static_cast<double>(truth->size());
  const double precision = static_cast<double>(tp) / static_cast<double>(locs->size());
  MESSAGE("localize reference stack: localizations=" << locs->size() << " tp=" << tp << " recall=" << recall
                                                      << " precision=" << precision << " rmse_nm=" << rmse);
  CHECK(recall > 0.25);
  CHECK(precision > 0.8);
  CHECK(rmse < 65);
  // Every uncertainty is a positive number of nanometres.
  CHECK(*std::min_element(locs->uncertainty_xy_nm.begin(), locs->uncertainty_xy_nm.end()) > 0);
}

TEST_CASE("localize: bad inputs exit non-zero with one line naming what is wrong") {
  const std::string stack = data_dir + "/thunderstorm_sim_20frames.tif";
  const std::string out = tmp_dir + "/localize_bad.csv";
  struct Case {
    std::string args, needle;
    int code;
  };
  for (const Case& c : {Case{"localize " + tmp_dir + "/missing.tif -o " + out, "missing.tif", 1},
                        Case{"localize " + stack, "--output", 2},
                        Case{"localize " + stack + " -o " + out + " --method bogus", "--method", 2},
                        Case{"localize " + stack + " -o " + out + " --camera potato", "--camera", 2},
                        Case{"localize " + stack + " -o " + out + " --pixel-nm -3", "--pixel-nm", 2},
                        Case{"localize " + stack + " -o " + out + " --fit-radius 0", "--fit-radius", 2},
                        Case{"localize " + stack + " -o " + out + " --camera emccd --qe 2", "--qe", 2},
                        Case{"localize " + stack + " -o /nonexistent-dir/x.csv", "/nonexistent-dir/x.csv", 1}}) {
    CAPTURE(c.args);
    auto r = run_smlm(c.args);
    CHECK(r.exit_code == c.code);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.needle) != std::string::npos);
  }
}

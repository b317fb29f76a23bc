// The `smlm` contract: exit codes, one-line errors naming the bad file/flag/value, outputs.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include <smlm/camera/emccd.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

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
/// A 16-bit flat-field stack from the EMCCD model: 8 column bands at 0–400 photons.
void write_emccd_flats(const std::string& path, int frames) {
  const smlm::camera::Emccd<float> emccd;
  smlm::Image<float> photons(32, 64), adu(32, 64);
  const double levels[8] = {0, 5, 10, 20, 50, 100, 200, 400};
  for (Eigen::Index x = 0; x < 64; ++x) photons.col(x).setConstant(static_cast<float>(levels[x / 8]));
  auto writer = smlm::io::TiffWriter::create(path, smlm::io::pixel_type::u16, 64, 32, frames);
  REQUIRE(writer);
  for (int f = 0; f < frames; ++f) {
    smlm::camera::record_frame(emccd, smlm::const_view(photons), 0xC11, static_cast<std::uint32_t>(f),
                               smlm::make_view(adu));
    REQUIRE(writer->write_frame(adu).ok());
  }
  REQUIRE(writer->close().ok());
}
double field(const std::string& out, const std::string& key) {
  const auto at = out.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + key.size() + 1));
}
}  // namespace

TEST_CASE("calibrate recovers an EMCCD's offset, gain and read noise from flats") {
  const std::string path = tmp_dir + "/cli_emccd_flats.tif";
  write_emccd_flats(path, 48);
  auto r = run_smlm("calibrate -q --emccd " + path);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  // Emccd defaults: baseline 100 ADU, 12 e-/ADU after gain 100 → 0.12 e-/ADU and 50/100 e- read
  // noise referred to the register's input; 5 % as in tests/camera/calibration_test.cpp.
  CHECK(field(r.output, "offset") == doctest::Approx(100).epsilon(0.05));
  CHECK(field(r.output, "gain") == doctest::Approx(0.12).epsilon(0.05));
  CHECK(field(r.output, "read_noise") == doctest::Approx(0.5).epsilon(0.05));
  CHECK(field(r.output, "frames") == 48);
  CHECK(field(r.output, "dark_pixels") == 256);
  // Without --emccd the excess noise is ignored and the gain comes out halved.
  auto plain = run_smlm("calibrate -q " + path);
  REQUIRE(plain.exit_code == 0);
  CHECK(field(plain.output, "gain") == doctest::Approx(0.06).epsilon(0.05));
  // A known offset is used as given.
  auto given = run_smlm("calibrate -q --emccd --offset 100 " + path);
  REQUIRE(given.exit_code == 0);
  CHECK(field(given.output, "offset") == 100);
  CHECK(field(given.output, "dark_pixels") == 0);
}

TEST_CASE("calibrate fails with one line on bad input") {
  SUBCASE("missing file") {
    auto r = run_smlm("calibrate -q " + tmp_dir + "/no-such-stack.tif");
    CHECK(r.exit_code == 1);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("no-such-stack.tif") != std::string::npos);
  }
  SUBCASE("too short a stack") {
    const std::string path = tmp_dir + "/cli_emccd_3frames.tif";
    write_emccd_flats(path, 3);
    auto r = run_smlm("calibrate -q --emccd " + path);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("cli_emccd_3frames.tif") != std::string::npos);
    CHECK(r.output.find("too few frames: 3") != std::string::npos);
  }
  SUBCASE("bad flag value") {
    auto r = run_smlm("calibrate -q --excess-noise 0.5 " + tmp_dir + "/x.tif");
    CHECK(r.exit_code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("excess-noise") != std::string::npos);
  }
  SUBCASE("an SMLM movie: blinking is not noise") {
    // The reference stack's temporal variance is dominated by blinking emitters, not by shot
    // noise, so there is no photon-transfer line to fit; the error says so.
    auto r = run_smlm("calibrate -q " + data_dir + "/thunderstorm_sim_20frames.tif");
    CHECK(r.exit_code == 1);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("no usable intensity spread") != std::string::npos);
  }
}

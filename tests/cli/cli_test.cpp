// The `smlm` contract: exit codes, one-line errors naming the bad file/flag/value, outputs.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <sys/wait.h>

#include <smlm/camera/emccd.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
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
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("simulate writes a 16-bit stack and a truth table that agree") {
  const std::string tif = tmp_dir + "/sim_cli.tif", csv = tmp_dir + "/sim_cli.csv";
  // Ideal camera without background: every count is a photon of a listed emitter (minus what
  // falls outside the 32x32 frame from emitters near its edge, < 10 % here).
  auto r = run_smlm("simulate -o " + tif + " --truth " + csv +
                    " --frames 12 --size 32 --density 3 --photons 1000:1500 --background 0 --camera ideal --seed 7");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto reader = smlm::io::TiffReader::open(tif);
  REQUIRE(reader);
  CHECK(reader->frames() == 12);
  CHECK(reader->width() == 32);
  CHECK(reader->height() == 32);
  CHECK(reader->info().type == smlm::io::pixel_type::u16);
  double counts = 0;
  smlm::Image<double> frame;
  for (std::ptrdiff_t f = 0; f < 12; ++f) {
    REQUIRE(reader->read_frame(f, frame).ok());
    CHECK(frame.minCoeff() >= 0);
    counts += frame.sum();
  }
  auto truth = smlm::io::read_localizations_csv(csv);
  REQUIRE(truth);
  CHECK(r.output.find("emitters=" + std::to_string(truth->size())) != std::string::npos);
  // 3 on per µm² per frame over 10.24 µm²: about 31 per frame (Poisson), so 12 frames give 370 ± 80.
  CHECK(truth->size() > 250);
  CHECK(truth->size() < 500);
  double photons = 0;
  for (std::size_t i = 0; i < truth->size(); ++i) {
    CHECK(truth->frame[i] >= 1);
    CHECK(truth->frame[i] <= 12);
    CHECK(truth->x_nm[i] >= 0);
    CHECK(truth->x_nm[i] < 3200);
    CHECK(truth->y_nm[i] >= 0);
    CHECK(truth->y_nm[i] < 3200);
    CHECK(truth->intensity_photons[i] >= 1000);
    CHECK(truth->intensity_photons[i] <= 1500);
    CHECK(truth->sigma_nm[i] == 110);
    photons += truth->intensity_photons[i];
  }
  CHECK(counts <= photons * 1.01);
  CHECK(counts >= photons * 0.9);
}

TEST_CASE("simulate is reproducible: same seed, same files on 1 or 2 threads") {
  const std::string base = tmp_dir + "/sim_rep";
  const std::string args = " --frames 6 --size 24 --structure filaments --density 2 --seed 11";
  REQUIRE(run_smlm("simulate -o " + base + "1.tif --truth " + base + "1.csv --threads 1" + args).exit_code == 0);
  REQUIRE(run_smlm("simulate -o " + base + "2.tif --truth " + base + "2.csv --threads 2" + args).exit_code == 0);
  CHECK(slurp(base + "1.tif") == slurp(base + "2.tif"));
  CHECK(slurp(base + "1.csv") == slurp(base + "2.csv"));
  REQUIRE(run_smlm("simulate -o " + base + "3.tif --truth " + base + "3.csv --seed 12 --frames 6 --size 24 --structure filaments --density 2").exit_code == 0);
  CHECK(slurp(base + "1.tif") != slurp(base + "3.tif"));
}

TEST_CASE("simulate: every structure and camera runs") {
  for (const char* structure : {"uniform", "filaments", "rings", "stripes"}) {
    for (const char* cam : {"ideal", "emccd", "scmos"}) {
      CAPTURE(structure);
      CAPTURE(cam);
      const std::string tif = tmp_dir + "/sim_all.tif", csv = tmp_dir + "/sim_all.csv";
      auto r = run_smlm("simulate -o " + tif + " --truth " + csv + " --frames 3 --size 40 --density 4 --structure " +
                        structure + " --camera " + cam);
      INFO(r.output);
      CHECK(r.exit_code == 0);
      auto truth = smlm::io::read_localizations_csv(csv);
      REQUIRE(truth);
      CHECK(!truth->empty());
    }
  }
}

TEST_CASE("simulate: bad values exit 2 naming flag and value; unavailable parts exit 1") {
  const std::string out = " -o " + tmp_dir + "/sim_bad.tif --truth " + tmp_dir + "/sim_bad.csv";
  struct Case {
    const char* args;
    const char* flag;
    const char* value;
    int code;
  };
  for (const Case c : {Case{"--density -1", "--density", "-1", 2}, Case{"--photons 3000:2000", "--photons", "3000:2000", 2},
                       Case{"--size 0", "--size", "0", 2}, Case{"--structure spirals", "--structure", "spirals", 2},
                       Case{"--photons many", "--photons", "many", 2}, Case{"--camera film", "--camera", "film", 2},
                       Case{"--sigma-nm 0", "--sigma-nm", "0", 2}, Case{"--frames 0", "--frames", "0", 2},
                       Case{"--camera cmos-phone", "--camera cmos-phone", "not available", 1},
                       Case{"--quality 30", "--quality 30", "not available", 1}}) {
    CAPTURE(c.args);
    auto r = run_smlm("simulate" + out + " " + c.args);
    CHECK(r.exit_code == c.code);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.flag) != std::string::npos);
    CHECK(r.output.find(c.value) != std::string::npos);
  }
  auto missing = run_smlm("simulate -o " + tmp_dir + "/x.tif");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("--truth") != std::string::npos);
}

TEST_CASE("simulate --structure mask puts labels only where the mask image is non-zero") {
  // A 2x2 mask with weight only in the lower-right cell: every truth row lies in that quarter.
  const std::string mask = tmp_dir + "/sim_mask.tif";
  {
    smlm::Stack<float> m(1, 2, 2, 0.0f);
    m(0, 1, 1) = 1;
    REQUIRE(smlm::io::write_tiff_stack(mask, m, smlm::io::pixel_type::f32).ok());
  }
  const std::string out = " -o " + tmp_dir + "/sim_mask_out.tif --truth " + tmp_dir + "/sim_mask_out.csv";
  auto r = run_smlm("simulate" + out + " --frames 5 --size 32 --density 4 --structure mask --mask " + mask);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto truth = smlm::io::read_localizations_csv(tmp_dir + "/sim_mask_out.csv");
  REQUIRE(truth);
  CHECK(truth->size() > 20);
  for (std::size_t i = 0; i < truth->size(); ++i) {
    CHECK(truth->x_nm[i] >= 1600);
    CHECK(truth->y_nm[i] >= 1600);
  }
  auto missing = run_smlm("simulate" + out + " --structure mask");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("--mask") != std::string::npos);
  auto zero = run_smlm("simulate" + out + " --structure mask --mask " + tmp_dir + "/does-not-exist.tif");
  CHECK(zero.exit_code == 1);
  CHECK(lines(zero.output) == 1);
  CHECK(zero.output.find("does-not-exist.tif") != std::string::npos);
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
// ---- smlm evaluate / smlm render -------------------------------------------------------------

namespace {
const std::string truth_csv = data_dir + "/thunderstorm_sim_20frames_positions.csv";

/// The value after "key=" in a line of key=value fields.
double field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=") != std::string::npos ? line.find(" " + key + "=") + 1 : line.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stod(line.substr(at + key.size() + 1));
}
std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(s.substr(start, nl - start));
  return out;
}
}  // namespace

TEST_CASE("evaluate: the ground truth against itself is perfect at every tolerance") {
  auto r = run_smlm("evaluate " + truth_csv + " " + truth_csv);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto out = split_lines(r.output);
  REQUIRE(out.size() == 3);
  const char* tolerances[] = {"tol=50 ", "tol=100 ", "tol=250 "};
  for (int k = 0; k < 3; ++k) {
    CAPTURE(out[k]);
    CHECK(out[k].find(tolerances[k]) == 0);
    CHECK(out[k].find(" jaccard=1.000000 precision=1.000000 recall=1.000000 f1=1.000000 rmse_nm=0.000 "
                      "efficiency=100.000 tp=4956 fp=0 fn=0") != std::string::npos);
  }
}

TEST_CASE("evaluate: a copy shifted by (12, 16) nm gives RMSE 20 nm and the shift as bias") {
  auto table = smlm::io::read_localizations_csv(truth_csv);
  REQUIRE(table);
  for (auto& x : table->x_nm) x += 12.0;
  for (auto& y : table->y_nm) y += 16.0;
  const std::string shifted = tmp_dir + "/cli_eval_shifted.csv";
  REQUIRE(smlm::io::write_localizations_csv(shifted, *table).ok());
  const std::string json = tmp_dir + "/cli_eval.json";
  std::filesystem::remove(json);
  auto r = run_smlm("evaluate " + truth_csv + " " + shifted + " --tolerance 10,50 --json " + json);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto out = split_lines(r.output);
  REQUIRE(out.size() == 2);
  // 10 nm: only chance neighbours closer than 10 nm pair (about 0.2 % of molecules here).
  CHECK(field(out[0], "tp") < 50);
  // 50 nm: every localization pairs with its own molecule, 20 nm away.
  CHECK(field(out[1], "jaccard") == 1.0);
  CHECK(field(out[1], "fp") == 0);
  CHECK(field(out[1], "rmse_nm") == doctest::Approx(20.0).epsilon(2e-3));
  CHECK(field(out[1], "efficiency") == doctest::Approx(80.0).epsilon(2e-3));
  std::ifstream in(json);
  REQUIRE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"bias_x_nm\": 12") != std::string::npos);
  CHECK(text.find("\"bias_y_nm\": 16") != std::string::npos);
  CHECK(text.find("\"nearest_neighbour\"") != std::string::npos);
  // Greedy takes a neighbour's copy when it is closer than 20 nm and so loses a few pairs that
  // the optimal matcher keeps.
  auto g = run_smlm("evaluate " + truth_csv + " " + shifted + " --tolerance 50 --greedy");
  REQUIRE(g.exit_code == 0);
  CHECK(field(g.output, "jaccard") < 1.0);
  CHECK(field(g.output, "jaccard") > 0.98);
}

TEST_CASE("evaluate and render: bad files and flags exit non-zero with one line naming them") {
  const std::string bad_csv = tmp_dir + "/cli_bad_cell.csv";
  {
    std::ofstream f(bad_csv);
    f << "\"frame\",\"x [nm]\",\"y [nm]\"\n1,10,20\n2,12x,30\n";
  }
  struct Case {
    std::string args, expect;
    int code;
  };
  for (const Case& c : std::vector<Case>{
           {"evaluate " + truth_csv + " " + tmp_dir + "/missing.csv", "missing.csv", 1},
           {"evaluate " + truth_csv + " " + bad_csv, "line 3", 1},
           {"evaluate " + truth_csv + " " + truth_csv + " --tolerance 0", "--tolerance", 2},
           {"evaluate " + truth_csv + " " + truth_csv + " --tolerance 50,abc", "--tolerance", 2},
           {"evaluate " + truth_csv + " " + truth_csv + " --cost cubic", "--cost", 2},
           {"evaluate " + truth_csv, "LOCS", 2},
           {"render " + truth_csv + " -o " + tmp_dir + "/x.png --pixel-nm 0", "--pixel-nm", 2},
           {"render " + truth_csv + " -o " + tmp_dir + "/x.png --colormap jet", "--colormap", 2},
           {"render " + truth_csv + " -o " + tmp_dir + "/x.png --fov 0,0,100", "--fov", 2},
           {"render " + bad_csv + " -o " + tmp_dir + "/x.png", "cli_bad_cell.csv", 1},
           {"render " + truth_csv + " -o " + tmp_dir + "/no-such-dir/x.png", "no-such-dir", 1},
       }) {
    CAPTURE(c.args);
    auto r = run_smlm(c.args);
    CAPTURE(r.output);
    CHECK(r.exit_code == c.code);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("render: PNG and TIFF of the ground truth; the histogram TIFF holds every localization") {
  const std::string png = tmp_dir + "/cli_render.png", tif = tmp_dir + "/cli_render.tif";
  std::filesystem::remove(png);
  auto r = run_smlm("render " + truth_csv + " -o " + png + " --pixel-nm 20 --method histogram --tif " + tif);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // The positions span 0–6.4 µm: 320 pixels of 20 nm; 1 µm scale bar = 50 pixels.
  CHECK(r.output.find("image=320x320 pixel_nm=20 localizations=4956 rendered=4956") == 0);
  CHECK(r.output.find("scale_bar_nm=1000 scale_bar_px=50") != std::string::npos);
  CHECK(std::filesystem::file_size(png) > 1000);
  auto reader = smlm::io::TiffReader::open(tif);
  REQUIRE(reader);
  smlm::Image<double> image;
  REQUIRE(reader->read_frame(0, image).ok());
  CHECK(image.cols() == 320);
  CHECK(image.sum() == 4956.0);
  // Gaussian rendering: unit mass each, minus what spills over the border (< 1 %).
  auto g = run_smlm("render " + truth_csv + " -o " + png + " --pixel-nm 20 --sigma-nm 15 --colormap grey --tif " + tif);
  REQUIRE(g.exit_code == 0);
  auto reader2 = smlm::io::TiffReader::open(tif);
  REQUIRE(reader2);
  REQUIRE(reader2->read_frame(0, image).ok());
  CHECK(image.sum() == doctest::Approx(4956.0).epsilon(0.01));
  CHECK(image.sum() < 4956.0);
}

TEST_CASE("frc: two independent 10 nm jitters of every molecule resolve at 2πσ/√ln 7") {
  // Each molecule of the ground truth appears in frames 2f−1 and 2f, each time shifted by
  // N(0, σ²) per axis, so the odd/even halves hold every molecule once with independent errors.
  // For random positions FRC(f) = exp(−4π² σ² f²), which is 1/7 at 1/f = 2πσ/√ln 7; binning into
  // p = 5 nm pixels adds p²/12 to σ² (45.5 nm in all). The ring estimate is noisy at the ~2 %
  // level here (≈ 900 frequencies per ring, 7-ring smoothing); tolerance 8 %.
  auto truth = smlm::io::read_localizations_csv(truth_csv);
  REQUIRE(truth);
  smlm::LocalizationTable twice;
  smlm::Philox4x32 rng(99, 0, smlm::rng_purpose::user);
  for (std::size_t i = 0; i < truth->size(); ++i)
    for (int k = 0; k < 2; ++k) {
      twice.frame.push_back(2 * truth->frame[i] - 1 + k);
      twice.x_nm.push_back(truth->x_nm[i] + smlm::normal(rng, 0.0, 10.0));
      twice.y_nm.push_back(truth->y_nm[i] + smlm::normal(rng, 0.0, 10.0));
    }
  const std::string path = tmp_dir + "/cli_frc_twice.csv", curve = tmp_dir + "/cli_frc_curve.csv";
  REQUIRE(smlm::io::write_localizations_csv(path, twice).ok());
  auto r = run_smlm("frc " + path + " --pixel-nm 5 --csv " + curve);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(field(r.output, "crossed") == 1);
  CHECK(r.output.find("halves=4956,4956 split=frames") != std::string::npos);
  const double expected = 2 * M_PI * std::sqrt(100.0 + 25.0 / 12) / std::sqrt(std::log(7.0));
  CHECK(field(r.output, "resolution_nm") == doctest::Approx(expected).epsilon(0.08));
  std::ifstream in(curve);
  std::string header;
  std::getline(in, header);
  CHECK(header == "\"frequency [1/nm]\",\"frc\",\"ring pixels\"");
  // Bad input: one line, non-zero.
  for (const std::string& args : {"frc " + tmp_dir + "/missing.csv", "frc " + path + " --pixel-nm 0",
                                  "frc " + path + " --split halves"}) {
    CAPTURE(args);
    auto bad = run_smlm(args);
    CHECK(bad.exit_code != 0);
    CHECK(lines(bad.output) == 1);
  }
}

// `smlm evaluate`, `smlm render` and `smlm frc` on the reference ground truth.
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

#include "cli_run.hpp"

using namespace smlm::cli_test;

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

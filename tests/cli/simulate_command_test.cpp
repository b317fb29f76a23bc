// `smlm simulate`: the stack and truth it writes, reproducibility, bad values.
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
#include <smlm/codec/encoder.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

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
    for (const char* cam : {"ideal", "emccd", "scmos", "cmos-phone"}) {
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

TEST_CASE("simulate --camera cmos-phone: 8-bit values in the 16-bit file, a dip every 30 frames") {
  const std::string tif = tmp_dir + "/sim_phone.tif", csv = tmp_dir + "/sim_phone.csv";
  // Background only (50 photons/pixel): the frame mean is m(f)·(4.1 + 50/0.69) + 1/16 ≈ 76.6·m(f)
  // ADU, m(f) = 1 + 0.01·sin(2πf/600) − 0.02·[f mod 30 = 0]. A dip frame lies 0.02·76.6 = 1.53 ADU
  // below its neighbours; drift moves neighbours by < 0.08 ADU. The frame mean of 64x64 pixels has
  // sd √(m²(50 + 2.5²)/0.69² + 1/12)/64 ≈ 0.17 ADU, so "dip minus neighbours' mean" has sd ≈ 0.21:
  // 1.53 ± 0.6 (~3 sd) for dip frames, |·| < 0.75 for the others.
  auto r = run_smlm("simulate -o " + tif + " --truth " + csv +
                    " --frames 62 --size 64 --density 0 --background 50 --camera cmos-phone --seed 3");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto reader = smlm::io::TiffReader::open(tif);
  REQUIRE(reader);
  REQUIRE(reader->frames() == 62);
  CHECK(reader->info().type == smlm::io::pixel_type::u16);
  std::vector<double> means;
  smlm::Image<double> frame;
  for (std::ptrdiff_t f = 0; f < 62; ++f) {
    REQUIRE(reader->read_frame(f, frame).ok());
    CHECK(frame.minCoeff() >= 0);
    CHECK(frame.maxCoeff() <= 255);
    means.push_back(frame.mean());
  }
  CHECK(std::abs(means[1] - 76.6) < 1.0);
  for (std::size_t f = 0; f < 62; ++f) {
    CAPTURE(f);
    const double neighbours = f == 0 ? means[1] : f == 61 ? means[60] : 0.5 * (means[f - 1] + means[f + 1]);
    const double drop = neighbours - means[f];
    if (f % 30 == 0) {
      CHECK(std::abs(drop - 1.53) < 0.6);
    } else if (f % 30 != 1 && f % 30 != 29) {  // neighbours of a dip frame include the dip
      CHECK(std::abs(drop) < 0.75);
    }
  }
  // With bright emitters the 8-bit output saturates at 255 and never goes beyond it.
  r = run_smlm("simulate -o " + tif + " --truth " + csv + " --frames 4 --size 32 --density 2 --camera cmos-phone --seed 3");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  reader = smlm::io::TiffReader::open(tif);
  REQUIRE(reader);
  double top = 0;
  for (std::ptrdiff_t f = 0; f < 4; ++f) {
    REQUIRE(reader->read_frame(f, frame).ok());
    CHECK(frame.minCoeff() >= 0);
    CHECK((frame.array() == frame.array().round()).all());
    top = std::max(top, frame.maxCoeff());
  }
  CHECK(top == 255);
}

TEST_CASE("simulate --camera emccd (FastEmccd) records the EMCCD's declared mean and variance") {
  // Background only: every pixel has λ = 50 photons, so the stack's pooled mean and variance are
  // the declared ones of the default Emccd. 6 x 4096 pixels: the mean's sd is σ/157, about 0.3 %
  // of σ; the variance's relative sd is √((κ + 2)/n) ≈ 1.3 % (κ ≈ 0.6 for this gamma-plus-normal
  // value), so 5 % is about 4 sd.
  const std::string tif = tmp_dir + "/sim_emccd.tif", csv = tmp_dir + "/sim_emccd.csv";
  auto r = run_smlm("simulate -o " + tif + " --truth " + csv + " --frames 6 --size 64 --density 0 --background 50 --seed 5");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto reader = smlm::io::TiffReader::open(tif);
  REQUIRE(reader);
  double sum = 0, sum2 = 0, n = 0;
  smlm::Image<double> frame;
  for (std::ptrdiff_t f = 0; f < 6; ++f) {
    REQUIRE(reader->read_frame(f, frame).ok());
    sum += frame.sum();
    sum2 += frame.square().sum();
    n += static_cast<double>(frame.size());
  }
  const smlm::camera::Emccd<float> emccd;
  const double mean = sum / n, variance = (sum2 - n * mean * mean) / (n - 1);
  const double declared_mean = emccd.mean_adu(50), declared_variance = emccd.variance_adu(50);
  CAPTURE(mean);
  CAPTURE(variance);
  CHECK(std::abs(mean - declared_mean) < 4 * std::sqrt(declared_variance / n));
  CHECK(std::abs(variance / declared_variance - 1) < 0.05);
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
                       Case{"--quality 101", "--quality", "101", 2}, Case{"--quality 30 --gop 0", "--gop", "0", 2},
                       Case{"--quality 30 --video-gain -1", "--video-gain", "-1", 2}}) {
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

TEST_CASE("simulate --quality: the 16-bit movie through the video conversion and codec, frame by frame") {
  // The same seed gives the same recorded frames with and without --quality, so the coded movie
  // must equal the 16-bit one converted with the same mapping and run through codec::Encoder here.
  const std::string base = " --frames 12 --size 40 --seed 11 --density 2 --video-offset 90 --video-gain 0.25";
  const std::string raw = tmp_dir + "/simq_raw.tif", coded = tmp_dir + "/simq_coded.tif";
  REQUIRE(run_smlm("simulate -o " + raw + " --truth " + tmp_dir + "/simq_raw.csv" + base).exit_code == 0);
  auto r = run_smlm("simulate -o " + coded + " --truth " + tmp_dir + "/simq_coded.csv" + base + " --quality 40 --gop 5");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(slurp(tmp_dir + "/simq_raw.csv") == slurp(tmp_dir + "/simq_coded.csv"));  // the scene's truth

  auto a = smlm::io::TiffReader::open(raw);
  auto b = smlm::io::TiffReader::open(coded);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->info().type == smlm::io::pixel_type::u16);
  CHECK(b->info().type == smlm::io::pixel_type::u8);
  REQUIRE(b->frames() == 12);
  smlm::codec::Settings settings;
  settings.quality = 40;
  settings.gop = 5;
  auto encoder = smlm::codec::Encoder::create(settings, 40, 40, 12);
  REQUIRE(encoder);
  const smlm::codec::VideoConversion conversion{90, 0.25};
  std::vector<std::uint8_t> bytes;
  encoder->write_header(bytes);
  std::size_t total = bytes.size();
  smlm::Image<double> camera;
  smlm::Image<std::uint8_t> video(40, 40), expected(40, 40), got;
  double changed = 0;
  for (int f = 0; f < 12; ++f) {
    REQUIRE(a->read_frame(f, camera).ok());
    REQUIRE(b->read_frame(f, got).ok());
    conversion.to_video(smlm::const_view(camera), smlm::make_view(video));
    bytes.clear();
    encoder->encode_frame(smlm::const_view(video), bytes);
    total += bytes.size();
    encoder->reconstruction(smlm::make_view(expected));
    CHECK((got == expected).all());
    changed += (got.cast<int>() - video.cast<int>()).abs().sum();
  }
  CHECK(changed > 0);  // QP 31 is lossy: the codec did act
  CHECK(field(r.output, "bpp") == doctest::Approx(8.0 * static_cast<double>(total) / (12 * 40 * 40)).epsilon(1e-3));

  // Lower quality, fewer bits.
  auto low = run_smlm("simulate -o " + coded + " --truth " + tmp_dir + "/simq_coded.csv" + base + " --quality 5 --gop 5");
  REQUIRE(low.exit_code == 0);
  CHECK(field(low.output, "bpp") < field(r.output, "bpp"));
}

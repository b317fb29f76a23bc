// `smlm codec`: 16-bit and 8-bit stacks through the codec, the bpp/psnr/ssim line, bad flags.
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

namespace {
/// bpp, psnr and ssim from the codec command's one line.
struct CodecLine {
  double bpp = -1, psnr = -1, ssim = -2;
};
CodecLine parse_codec_line(const std::string& out) {
  CodecLine c;
  char psnr[32] = {};
  if (std::sscanf(out.c_str(), "bpp=%lf psnr=%31s ssim=%lf", &c.bpp, psnr, &c.ssim) == 3)
    c.psnr = std::string(psnr) == "inf" ? 1e9 : std::stod(psnr);
  return c;
}
}  // namespace

TEST_CASE("codec: a 16-bit camera stack is converted, coded and decoded to 8-bit video") {
  const std::string out = tmp_dir + "/codec_16bit.tif";
  std::vector<CodecLine> results;
  for (const char* flags : {"--qp 10", "--qp 30 --deblock --grid-offset 5,9", "--quality 10 --gop 4 --search 2"}) {
    CAPTURE(flags);
    auto r = run_smlm("codec " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out + " " + flags);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(lines(r.output) == 1);
    const CodecLine c = parse_codec_line(r.output);
    CHECK(c.bpp > 0);
    CHECK(c.ssim <= 1.0);
    results.push_back(c);
    auto decoded = smlm::io::TiffReader::open(out);
    REQUIRE(decoded);
    CHECK(decoded->frames() == 20);
    CHECK(decoded->width() == 64);
    CHECK(decoded->info().type == smlm::io::pixel_type::u8);
  }
  // Higher QP: fewer bits, lower fidelity (quality 10 is QP 46).
  CHECK(results[0].bpp > results[1].bpp);
  CHECK(results[1].bpp > results[2].bpp);
  CHECK(results[0].psnr > results[1].psnr + 5);
  CHECK(results[1].psnr > results[2].psnr + 5);
  CHECK(results[0].ssim > results[2].ssim);
}

TEST_CASE("codec: --video-offset / --video-gain (simulate's names) set the camera -> video mapping, as --offset / --gain") {
  const std::string out = tmp_dir + "/codec_video_map.tif";
  const auto run = [&](const std::string& flags) {
    auto r = run_smlm("codec " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out + " --qp 20 " + flags);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return r.output;
  };
  const std::string automatic = run(""), video = run("--video-offset 90 --video-gain 0.5"), old = run("--offset 90 --gain 0.5");
  CHECK(video == old);
  CHECK(video != automatic);  // the mapping changed the frames that were coded
  auto bad = run_smlm("codec " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out + " --video-gain -1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--video-gain") != std::string::npos);
}

TEST_CASE("codec: --no-decimate keeps the faint P-frame residuals, --no-intra4x4 changes the mode set") {
  const std::string out = tmp_dir + "/codec_decimate.tif";
  const auto run = [&](const std::string& flags) {
    auto r = run_smlm("codec " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out + " --qp 51 --gop 30 " + flags);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return parse_codec_line(r.output);
  };
  const CodecLine decimated = run(""), kept = run("--no-decimate"), i16 = run("--no-intra4x4");
  // At QP 51 most P-frame residual levels are isolated ±1s: dropping them saves a third of the
  // bits (0.082 against 0.123 bits/pixel when written) for about 1 dB.
  CHECK(kept.bpp > 1.2 * decimated.bpp);
  CHECK(kept.psnr > decimated.psnr);
  CHECK(i16.bpp != decimated.bpp);
}

TEST_CASE("codec: 8-bit input stays 8-bit; QP 0 is within one grey level") {
  const std::string in = tmp_dir + "/codec_8bit_in.tif", out = tmp_dir + "/codec_8bit_out.tif";
  {
    auto writer = smlm::io::TiffWriter::create(in, smlm::io::pixel_type::u8, 21, 13, 3);
    REQUIRE(writer);
    for (int f = 0; f < 3; ++f) {
      smlm::Image<std::uint8_t> frame(13, 21);
      for (int y = 0; y < 13; ++y)
        for (int x = 0; x < 21; ++x) frame(y, x) = static_cast<std::uint8_t>((x * 37 + y * 11 + f * 5) % 256);
      REQUIRE(writer->write_frame(frame).ok());
    }
    REQUIRE(writer->close().ok());
  }
  auto r = run_smlm("codec " + in + " -o " + out + " --qp 0 --gop 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const CodecLine c = parse_codec_line(r.output);
  CHECK(c.psnr > 48.1);  // every error ≤ 1 level: MSE ≤ 1
  auto a = smlm::io::TiffReader::open(in);
  auto b = smlm::io::TiffReader::open(out);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->info().type == smlm::io::pixel_type::u8);
  for (int f = 0; f < 3; ++f) {
    smlm::Image<int> x, y;
    REQUIRE(a->read_frame(f, x).ok());
    REQUIRE(b->read_frame(f, y).ok());
    CHECK((x - y).abs().maxCoeff() <= 1);
  }
}

TEST_CASE("codec: bad flags and files fail with one line naming them") {
  const std::string in = data_dir + "/thunderstorm_sim_20frames.tif", out = tmp_dir + "/codec_bad.tif";
  const auto expect = [](const std::string& args, int code, const std::string& part) {
    auto r = run_smlm(args);
    CAPTURE(args);
    INFO(r.output);
    CHECK(r.exit_code == code);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(part) != std::string::npos);
  };
  expect("codec " + in + " -o " + out + " --qp 52", 2, "--qp");
  expect("codec " + in + " -o " + out + " --quality 101", 2, "--quality");
  expect("codec " + in + " -o " + out + " --quality 50 --qp 20", 2, "--quality");
  expect("codec " + in + " -o " + out + " --gop 0", 2, "--gop");
  expect("codec " + in + " -o " + out + " --grid-offset 16,0", 2, "--grid-offset");
  expect("codec " + in + " -o " + out + " --grid-offset 3", 2, "--grid-offset");
  expect("codec " + in, 2, "--output");
  expect("codec " + tmp_dir + "/no-such-stack.tif -o " + out, 1, "no-such-stack.tif");
}

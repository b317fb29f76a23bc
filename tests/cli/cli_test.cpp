// The `smlm` contract: exit codes, one-line errors naming the bad file/flag/value, outputs.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

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

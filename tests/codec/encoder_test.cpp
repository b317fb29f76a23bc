// Encoder ↔ decoder: the decoder reproduces the encoder's reconstruction bit for bit on random and
// real frames, at every QP, GOP, grid offset, with and without deblocking and motion search; the
// reconstruction error at QP 0 is at most one grey level; PSNR falls with QP; static scenes cost
// almost nothing in P-frames.
#include "codec_fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace codec = smlm::codec;
using codec_test::Frame;

TEST_CASE("encoder: bit-exact round trip on random frames at every QP, several GOPs and grid offsets") {
  const std::uint32_t seed = 20261201;
  CAPTURE(seed);
  const auto frames = codec_test::random_frames(37, 29, 4, seed);
  for (int qp = 0; qp <= 51; ++qp) {
    codec::Settings s;
    s.qp = qp;
    s.gop = 1 + qp % 3;            // 1, 2, 3
    s.deblock = qp % 2 == 1;
    s.grid_dx = (qp * 5) % 16;
    s.grid_dy = (qp * 3) % 16;
    s.search_range = qp % 4 == 0 ? 2 : 0;
    s.intra4x4 = qp % 5 != 4;
    s.intra4x4_all_modes = qp % 2 == 0;  // the diagonal modes only come from the full search
    CAPTURE(qp);
    const auto result = codec_test::round_trip(frames, s);
    if (qp == 0) CHECK(codec_test::max_error(result.decoded, frames) <= 1);
  }
}

TEST_CASE("encoder: the fast Intra4x4 search never codes a diagonal mode, the full search does") {
  const auto frames = codec_test::random_frames(48, 48, 1, 7);
  codec::Settings s;
  s.qp = 20;
  s.gop = 1;
  const auto fast = codec_test::round_trip(frames, s);
  s.intra4x4_all_modes = true;
  const auto full = codec_test::round_trip(frames, s);
  CHECK(fast.diagonal_blocks == 0);
  CHECK(full.diagonal_blocks > 0);
}

TEST_CASE("encoder: white noise and flat frames round trip exactly") {
  std::vector<Frame> frames = {codec_test::white_noise(48, 16, 7), codec_test::white_noise(48, 16, 8)};
  frames.push_back(Frame::Constant(16, 48, 255));
  frames.push_back(Frame::Constant(16, 48, 0));
  for (const int qp : {0, 12, 30, 51}) {
    codec::Settings s;
    s.qp = qp;
    s.gop = 4;
    s.deblock = true;
    CAPTURE(qp);
    const auto result = codec_test::round_trip(frames, s);
    if (qp == 0) CHECK(codec_test::max_error(result.decoded, frames) <= 1);
  }
}

TEST_CASE("encoder: real ThunderSTORM frames, every QP, I-only and GOP 3, bit exact; PSNR falls with QP") {
  const auto frames = codec_test::thunderstorm_frames(4);  // frames 0, 4, 8, 12, 16
  if (frames.empty()) return;  // io module not built
  double previous_psnr = 1e9;
  std::size_t previous_bytes = ~std::size_t{0};
  for (int qp = 0; qp <= 51; ++qp) {
    CAPTURE(qp);
    codec::Settings s;
    s.qp = qp;
    s.gop = qp % 2 == 0 ? 1 : 3;
    s.deblock = qp % 3 == 0;
    const auto result = codec_test::round_trip(frames, s);
    if (qp == 0) CHECK(codec_test::max_error(result.decoded, frames) <= 1);
    // Fixed sequence, fixed tools: I-only without deblocking, so only QP changes.
    codec::Settings fixed;
    fixed.qp = qp;
    fixed.gop = 1;
    const auto reference = codec_test::round_trip(frames, fixed);
    const double p = codec_test::psnr(reference.decoded, frames);
    CHECK(p <= previous_psnr + 1e-9);
    CHECK(reference.stream.size() <= previous_bytes);
    previous_psnr = p;
    previous_bytes = reference.stream.size();
  }
  CHECK(previous_psnr < 40);  // QP 51 is visibly lossy
}

TEST_CASE("encoder: P-frames of a static scene are all skip; motion search finds a shift") {
  const auto still = codec_test::random_frames(64, 48, 1, 3);
  std::vector<Frame> frames(4, still.front());
  codec::Settings s;
  s.qp = 24;
  s.gop = 4;
  const auto result = codec_test::round_trip(frames, s);
  // 12 macroblocks: the first P-frame still corrects the I-frame's quantization error, the last
  // ones are at most frame_type + qp + 12 one-bit skips + trailing bits.
  CHECK(result.frame_bytes[3] <= 3);
  CHECK(result.frame_bytes[0] > 40 * result.frame_bytes[3]);

  // A frame shifted by (3, −2) samples: motion search codes it in fewer bytes.
  Frame shifted(48, 64);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) shifted(y, x) = still.front()(std::clamp(y + 2, 0, 47), std::clamp(x - 3, 0, 63));
  const std::vector<Frame> moving = {still.front(), shifted};
  codec::Settings zero = s, search = s;
  search.search_range = 4;
  const auto a = codec_test::round_trip(moving, zero);
  const auto b = codec_test::round_trip(moving, search);
  CHECK(b.frame_bytes[1] * 2 < a.frame_bytes[1]);
}

TEST_CASE("encoder: the grid offset moves the block grid against the frame") {
  // A flat frame with one bright column at x = 20: with DX = 0 it is inside macroblock 1; with
  // DX = 12 at x = 32 of the picture, the left column of macroblock 2. Both decode exactly and
  // the decoder crops back to the input geometry.
  Frame frame = Frame::Constant(20, 40, 50);
  frame.col(20).setConstant(200);
  for (const int dx : {0, 12}) {
    codec::Settings s;
    s.qp = 30;
    s.grid_dx = dx;
    s.grid_dy = 7;
    const auto result = codec_test::round_trip({frame}, s);
    CHECK(result.decoded.front().rows() == 20);
    CHECK(result.decoded.front().cols() == 40);
    auto encoder = codec::Encoder::create(s, 40, 20);
    REQUIRE(encoder.has_value());
    CHECK(encoder->geometry().mb_cols == (40 + dx + 15) / 16);
    CHECK(encoder->geometry().mb_rows == 2);
  }
}

TEST_CASE("encoder: restart begins a new stream with another grid offset, as a fresh encoder would") {
  const auto frames = codec_test::random_frames(37, 29, 5, 20261207);
  codec::Settings s;
  s.qp = 28;
  s.gop = 100;  // only the first frame of a stream is an I-frame
  auto reused = codec::Encoder::create(s, 37, 29);
  REQUIRE(reused.has_value());
  std::vector<std::uint8_t> bytes;
  for (int f = 0; f < 3; ++f) reused->encode_frame(smlm::const_view(frames[static_cast<std::size_t>(f)]), bytes);  // an earlier stream
  for (const auto& [dx, dy] : {std::array<int, 2>{13, 6}, std::array<int, 2>{0, 0}, std::array<int, 2>{15, 15}}) {
    CAPTURE(dx);
    CAPTURE(dy);
    reused->restart(dx, dy);
    codec::Settings t = s;
    t.grid_dx = dx;
    t.grid_dy = dy;
    auto fresh = codec::Encoder::create(t, 37, 29);
    REQUIRE(fresh.has_value());
    CHECK(reused->geometry().mb_cols == fresh->geometry().mb_cols);
    CHECK(reused->header().grid_dx == dx);
    for (int f = 0; f < 3; ++f) {  // I, P, P: the same bytes and reconstructions
      std::vector<std::uint8_t> a, b;
      reused->encode_frame(smlm::const_view(frames[static_cast<std::size_t>(f + 1)]), a);
      fresh->encode_frame(smlm::const_view(frames[static_cast<std::size_t>(f + 1)]), b);
      CHECK(a == b);
      Frame ra(29, 37), rb(29, 37);
      reused->reconstruction(smlm::make_view(ra));
      fresh->reconstruction(smlm::make_view(rb));
      CHECK((ra.cast<int>() - rb.cast<int>()).abs().maxCoeff() == 0);
    }
  }
  CHECK_THROWS_AS(reused->restart(16, 0), smlm::assertion_error);
}

TEST_CASE("encoder: settings are validated") {
  codec::Settings s;
  s.qp = 52;
  CHECK(codec::Encoder::create(s, 16, 16).message().find("qp 52") != std::string::npos);
  s = {};
  s.grid_dx = 16;
  CHECK(codec::Encoder::create(s, 16, 16).message().find("grid_dx 16") != std::string::npos);
  s = {};
  s.gop = 0;
  CHECK(!codec::Encoder::create(s, 16, 16).has_value());
  CHECK(codec::Encoder::create(codec::Settings{}, 0, 16).message().find("frame size 0x16") != std::string::npos);
}

TEST_CASE("encoder: block edges in the decoded frame sit where the grid offset puts them") {
  // A smooth frame coded at a high QP: the largest mean horizontal step falls between picture
  // columns 4k − 1 and 4k, i.e. at frame columns x with (x + dx) % 4 == 0.
  Frame frame(32, 64);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 64; ++x)
      frame(y, x) = static_cast<std::uint8_t>(60 + 2 * x + 20 * std::sin(0.21 * x + 0.13 * y) + y);
  for (const int dx : {0, 1, 2, 3, 6}) {
    CAPTURE(dx);
    codec::Settings s;
    s.qp = 44;
    s.gop = 1;
    s.grid_dx = dx;
    const Frame decoded = codec_test::round_trip({frame}, s).decoded.front();
    std::array<double, 4> step{};
    for (int y = 0; y < 32; ++y)
      for (int x = 1; x < 64; ++x) step[(x + dx) % 4] += std::abs(int{decoded(y, x)} - int{decoded(y, x - 1)});
    CHECK(std::max_element(step.begin(), step.end()) - step.begin() == 0);
  }
}

TEST_CASE("encoder: inter decimation scores (x264's dct-decimate table)") {
  const auto score = [](std::initializer_list<std::pair<int, int>> levels) {
    codec::block4x4 scanned{};
    for (const auto& [position, level] : levels) scanned[static_cast<std::size_t>(position)] = static_cast<std::int16_t>(level);
    return codec::inter_decimation_score(scanned);
  };
  CHECK(score({}) == 0);
  CHECK(score({{0, 1}}) == 3);             // no zeros before it: t[0] = 3
  CHECK(score({{0, 1}, {1, -1}}) == 6);    // 3 + 3
  CHECK(score({{2, -1}}) == 2);            // two zeros before it: t[2]
  CHECK(score({{4, 1}, {9, 1}}) == 1 + 1); // t[4] + t[4]
  CHECK(score({{10, 1}}) == 0);            // a late isolated ±1 costs nothing
  CHECK(score({{15, -1}, {0, 1}}) == 3);   // t[0] + t[14]
  CHECK(score({{12, 2}}) == 9);            // any |level| > 1: keep
  CHECK(score({{3, -3}, {0, 1}}) == 9);
}

TEST_CASE("encoder: decimation drops faint inter residuals: fewer bytes, more skips, still bit exact") {
  const auto base = codec_test::random_frames(96, 64, 1, 11).front();
  std::mt19937 rng(5);
  std::vector<Frame> frames = {base};
  for (int f = 0; f < 3; ++f) {
    Frame next = base;
    for (int y = 0; y < next.rows(); ++y)
      for (int x = 0; x < next.cols(); ++x)
        if (rng() % 16 == 0) next(y, x) = codec::clip_pixel(next(y, x) + static_cast<int>(rng() % 7) - 3);
    frames.push_back(next);
  }
  codec::Settings on;
  on.qp = 22;
  on.gop = 8;
  codec::Settings off = on;
  off.decimate = false;
  const auto a = codec_test::round_trip(frames, on);   // checks decoder == encoder reconstruction
  const auto b = codec_test::round_trip(frames, off);
  std::size_t bytes_on = 0, bytes_off = 0;
  for (std::size_t f = 1; f < frames.size(); ++f) {
    bytes_on += a.frame_bytes[f];
    bytes_off += b.frame_bytes[f];
  }
  CAPTURE(bytes_on);
  CAPTURE(bytes_off);
  CHECK(bytes_on < bytes_off);
  CHECK(a.frame_bytes[0] == b.frame_bytes[0]);  // I-frames are never decimated
  // Dropping residual costs fidelity, but only a little: PSNR of the P-frames within 1.5 dB.
  const auto psnr = [&](const codec_test::RoundTrip& r) {
    double se = 0;
    for (std::size_t f = 1; f < frames.size(); ++f)
      se += (r.decoded[f].cast<double>() - frames[f].cast<double>()).square().sum();
    return 10 * std::log10(255.0 * 255.0 * 3 * 96 * 64 / se);
  };
  CHECK(psnr(a) > psnr(b) - 1.5);
  CHECK(psnr(a) <= psnr(b) + 1e-9);
}

TEST_CASE("encoder: the decimation score from a scan mask equals the score of the block") {
  std::mt19937 rng(9);
  for (int n = 0; n < 2000; ++n) {
    codec::block4x4 scanned{};
    std::uint32_t mask = 0;
    for (int k = 0; k < 16; ++k)
      if (rng() % 4 == 0) {
        scanned[static_cast<std::size_t>(k)] = static_cast<std::int16_t>(rng() % 2 ? 1 : -1);
        mask |= 1u << k;
      }
    REQUIRE(codec::inter_decimation_score_of_mask(mask) == codec::inter_decimation_score(scanned));
  }
}

// Frames and a round-trip driver shared by the encoder, decoder and deblocking tests.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/core/image.hpp>

#if defined(SMLM_CODEC_TEST_WITH_IO)
#include <smlm/io/tiff_reader.hpp>
#endif

namespace codec_test {

using Frame = smlm::Image<std::uint8_t>;

/// Smooth blobs on a noisy background (microscopy-like), with a per-frame drift, seeded.
inline std::vector<Frame> random_frames(int width, int height, int count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 6);
  std::vector<Frame> frames;
  struct Blob { double x, y, a; };
  std::vector<Blob> blobs;
  for (int k = 0; k < 6; ++k) blobs.push_back({u(rng) * width, u(rng) * height, 60 + 150 * u(rng)});
  for (int f = 0; f < count; ++f) {
    Frame frame(height, width);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        double v = 30 + noise(rng);
        for (const Blob& b : blobs) {
          const double dx = x - b.x - 0.7 * f, dy = y - b.y - 0.3 * f;
          v += b.a * std::exp(-(dx * dx + dy * dy) / 8.0);
        }
        frame(y, x) = smlm::codec::clip_pixel(static_cast<int>(std::lround(v)));
      }
    frames.push_back(frame);
  }
  return frames;
}

/// Uniform random samples in [0, 255]: the worst case for prediction.
inline Frame white_noise(int width, int height, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Frame frame(height, width);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) frame(y, x) = static_cast<std::uint8_t>(rng() & 0xFF);
  return frame;
}

/// The shared ThunderSTORM stack, every `step`-th frame, converted to 8 bits with the mapping that
/// spans frame 0's range; empty when the io module is not built.
inline std::vector<Frame> thunderstorm_frames(int step) {
  std::vector<Frame> frames;
#if defined(SMLM_CODEC_TEST_WITH_IO)
  auto reader = smlm::io::TiffReader::open(SMLM_SHARED_DATA_DIR "/thunderstorm_sim_20frames.tif");
  REQUIRE_MESSAGE(reader.has_value(), reader.message());
  smlm::Image<float> adu;
  smlm::codec::VideoConversion conversion;
  for (std::ptrdiff_t f = 0; f < reader->frames(); f += step) {
    REQUIRE(reader->read_frame(f, adu).ok());
    if (f == 0) conversion = smlm::codec::VideoConversion::spanning(adu.minCoeff(), adu.maxCoeff());
    Frame frame(adu.rows(), adu.cols());
    conversion.to_video(smlm::const_view(adu), smlm::make_view(frame));
    frames.push_back(frame);
  }
#else
  (void)step;
#endif
  return frames;
}

struct RoundTrip {
  std::vector<Frame> encoder_reconstruction, decoded;
  std::vector<std::uint8_t> stream;
  int diagonal_blocks = 0;  ///< Intra4×4 blocks the decoder saw coded with a diagonal mode
  std::vector<std::size_t> frame_bytes;
};

/// Encodes `frames` with `settings`, decodes the stream, and checks that every decoded frame equals
/// the encoder's reconstruction sample for sample.
inline RoundTrip round_trip(const std::vector<Frame>& frames, const smlm::codec::Settings& settings) {
  RoundTrip out;
  const int width = static_cast<int>(frames.front().cols()), height = static_cast<int>(frames.front().rows());
  auto encoder = smlm::codec::Encoder::create(settings, width, height, static_cast<std::uint32_t>(frames.size()));
  REQUIRE_MESSAGE(encoder.has_value(), encoder.message());
  encoder->write_header(out.stream);
  for (const Frame& frame : frames) {
    out.frame_bytes.push_back(encoder->encode_frame(smlm::const_view(frame), out.stream));
    Frame recon(height, width);
    encoder->reconstruction(smlm::make_view(recon));
    out.encoder_reconstruction.push_back(recon);
  }
  auto header = smlm::codec::read_stream_header(out.stream);
  REQUIRE_MESSAGE(header.has_value(), header.message());
  smlm::codec::Decoder decoder(*header);
  std::size_t offset = header->size_bytes;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    Frame decoded(height, width);
    auto used = decoder.decode_frame(std::span(out.stream).subspan(offset), smlm::make_view(decoded), offset);
    REQUIRE_MESSAGE(used.has_value(), used.message());
    CHECK(*used == out.frame_bytes[f]);
    offset += *used;
    const bool equal = (decoded == out.encoder_reconstruction[f]).all();
    CHECK_MESSAGE(equal, "frame ", f, ": decoder differs from the encoder's reconstruction");
    out.decoded.push_back(decoded);
    for (const smlm::codec::MacroblockInfo& mb : decoder.macroblock_infos())
      if (mb.type == smlm::codec::mb_type::intra4x4)
        for (const auto mode : mb.modes) out.diagonal_blocks += mode > smlm::codec::intra4x4_mode::dc;
  }
  CHECK(offset == out.stream.size());
  return out;
}

inline double psnr(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  double sse = 0, n = 0;
  for (std::size_t f = 0; f < a.size(); ++f) {
    sse += (a[f].cast<double>() - b[f].cast<double>()).square().sum();
    n += static_cast<double>(a[f].size());
  }
  return sse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 * n / sse);
}

inline int max_error(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  int worst = 0;
  for (std::size_t f = 0; f < a.size(); ++f)
    worst = std::max(worst, static_cast<int>((a[f].cast<int>() - b[f].cast<int>()).abs().maxCoeff()));
  return worst;
}

}  // namespace codec_test

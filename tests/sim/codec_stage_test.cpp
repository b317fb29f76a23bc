// codec_stage.hpp: the stage equals a hand-made VideoConversion → Encoder → reconstruction over I-
// and P-frames, writes integers in 0..255, counts the stream's bytes (the decoder reads them back
// to the same pictures), plugs into the Simulator, keeps its buffers, rejects bad settings; the
// exposure rule maps the dark level − 3 SD to 0 and the brightest spot's peak to 255.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/codec/stream.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/sim/codec_stage.hpp>
#include <smlm/sim/simulator.hpp>

namespace sim = smlm::sim;
namespace codec = smlm::codec;
namespace camera = smlm::camera;
using smlm::Image;

namespace {

/// `count` camera-like frames (ADU around 100..600): a drifting bright blob on a noisy
/// background, so that P-frames have both skipped and coded macroblocks.
std::vector<Image<float>> adu_frames(int width, int height, int count, std::uint64_t seed) {
  std::vector<Image<float>> frames;
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  for (int f = 0; f < count; ++f) {
    Image<float> a(height, width);
    const double cx = 0.3 * width + 1.5 * f, cy = 0.5 * height;
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const double r2 = (x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy);
        a(y, x) = static_cast<float>(std::round(110 + 450 * std::exp(-r2 / 18) + 6 * smlm::normal<double>(rng)));
      }
    frames.push_back(a);
  }
  return frames;
}

struct Manual {
  std::vector<Image<std::uint8_t>> reconstructions;
  std::vector<std::size_t> frame_bytes;
  std::size_t header_bytes = 0;
  std::vector<std::uint8_t> stream;
};

/// What the stage must do, written out with the codec's own pieces.
Manual encode_by_hand(const std::vector<Image<float>>& frames, const codec::Settings& settings,
                      const codec::VideoConversion& conversion) {
  Manual m;
  const auto w = static_cast<int>(frames[0].cols()), h = static_cast<int>(frames[0].rows());
  auto encoder = codec::Encoder::create(settings, w, h, static_cast<std::uint32_t>(frames.size()));
  REQUIRE(encoder);
  encoder->write_header(m.stream);
  m.header_bytes = m.stream.size();
  for (const auto& a : frames) {
    Image<std::uint8_t> video(h, w);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) video(y, x) = conversion.to_video(static_cast<double>(a(y, x)));
    m.frame_bytes.push_back(encoder->encode_frame(smlm::const_view(video), m.stream));
    encoder->reconstruction(smlm::make_view(video));
    m.reconstructions.push_back(video);
  }
  return m;
}

}  // namespace

TEST_CASE("codec stage: equals encode → reconstruct by hand over I- and P-frames; bytes are counted") {
  const int width = 40, height = 36, count = 8;
  const std::uint64_t seed = 41;
  CAPTURE(seed);
  const auto frames = adu_frames(width, height, count, seed);
  const auto conversion = codec::VideoConversion::spanning(90, 520);
  for (const int quality : {20, 60, 95}) {
    for (const int gop : {1, 3}) {
      CAPTURE(quality);
      CAPTURE(gop);
      codec::Settings settings;
      settings.quality = quality;
      settings.gop = gop;
      const Manual manual = encode_by_hand(frames, settings, conversion);
      auto stage = sim::CodecStage::create(settings, width, height, count, conversion);
      REQUIRE(stage);
      CHECK(stage->coded_bytes() == manual.header_bytes);
      CHECK(stage->header_bytes() == manual.header_bytes);
      std::size_t sum = manual.header_bytes;
      std::size_t offset = manual.header_bytes;
      for (int f = 0; f < count; ++f) {
        CAPTURE(f);
        Image<float> a = frames[static_cast<std::size_t>(f)];
        (*stage)(f, smlm::make_view(a));
        const auto& expected = manual.reconstructions[static_cast<std::size_t>(f)];
        CHECK((a == expected.cast<float>()).all());
        CHECK((stage->last_reconstruction() == expected).all());
        CHECK((a == a.floor()).all());
        CHECK(a.minCoeff() >= 0);
        CHECK(a.maxCoeff() <= 255);
        const std::size_t n = manual.frame_bytes[static_cast<std::size_t>(f)];
        sum += n;
        CHECK(stage->coded_bytes() == sum);
        const auto bytes = stage->last_frame_bytes();
        REQUIRE(bytes.size() == n);
        CHECK(std::equal(bytes.begin(), bytes.end(), manual.stream.begin() + static_cast<std::ptrdiff_t>(offset)));
        offset += n;
      }
      CHECK(stage->frames_coded() == count);
      CHECK(stage->coded_bytes() == manual.stream.size());
    }
  }
}

TEST_CASE("codec stage: the decoder reads the counted stream back to the stage's frames; double frames too") {
  const int width = 33, height = 20, count = 5;
  const auto frames = adu_frames(width, height, count, 7);
  codec::Settings settings;
  settings.quality = 45;
  settings.gop = 4;
  const auto conversion = codec::VideoConversion::spanning(95, 560);
  auto stage = sim::CodecStage::create(settings, width, height, count, conversion);
  REQUIRE(stage);
  auto header = codec::read_stream_header(std::span<const std::uint8_t>(encode_by_hand(frames, settings, conversion).stream));
  REQUIRE(header);
  codec::Decoder decoder(*header);
  Image<std::uint8_t> decoded(height, width);
  for (int f = 0; f < count; ++f) {
    Image<double> a = frames[static_cast<std::size_t>(f)].cast<double>();
    (*stage)(f, smlm::make_view(a));
    const std::vector<std::uint8_t> bytes(stage->last_frame_bytes().begin(), stage->last_frame_bytes().end());
    auto used = decoder.decode_frame(bytes, smlm::make_view(decoded));
    REQUIRE(used);
    CHECK(*used == bytes.size());
    CHECK((decoded.cast<double>() == a).all());
  }
}

TEST_CASE("codec stage: as the Simulator's degradation stage it codes the recorded frames in order") {
  sim::SimulationConfig<float> config;
  config.width_px = config.height_px = 32;
  config.background_photons = 30;
  config.kinetics = {.p_on_off = 0.5, .p_off_on = 0.3, .p_bleach = 0};
  config.seed = 99;
  config.threads = 2;
  config.chunk_frames = 3;
  std::vector<sim::Position> labels;
  REQUIRE(sim::uniform(config.field(), {3}, config.seed, labels).ok());
  using Sim = sim::Simulator<smlm::psf::IntegratedGaussian<float>, camera::Emccd<float>>;
  const int frames = 7;
  Sim plain({.sigma_px = 1.1f}, {}, config, labels);
  auto recorded = sim::simulate(plain, frames);
  REQUIRE(recorded);
  std::vector<Image<float>> raw;
  for (int f = 0; f < frames; ++f) raw.emplace_back(recorded->stack.frame(f));

  codec::Settings settings;
  settings.quality = 55;
  settings.gop = 4;
  const auto conversion = sim::video_conversion_for(camera::Emccd<float>{}, 30, 2500, 1.1);
  const Manual manual = encode_by_hand(raw, settings, conversion);
  auto stage = sim::CodecStage::create(settings, 32, 32, frames, conversion);
  REQUIRE(stage);
  Sim coded({.sigma_px = 1.1f}, {}, config, labels);
  auto degraded = sim::simulate(coded, frames, *stage);
  REQUIRE(degraded);
  for (int f = 0; f < frames; ++f) {
    CAPTURE(f);
    CHECK((Image<float>(degraded->stack.frame(f)) == manual.reconstructions[static_cast<std::size_t>(f)].cast<float>()).all());
  }
  CHECK(stage->coded_bytes() == manual.stream.size());
  // The frames differ from the camera's (the codec changed them) and the truth does not.
  CHECK((Image<float>(degraded->stack.frame(0)) != raw[0]).any());
  CHECK(degraded->truth.size() == recorded->truth.size());
}

TEST_CASE("codec stage: no allocation per frame (the byte buffer keeps its storage)") {
  const auto frames = adu_frames(48, 48, 6, 3);
  codec::Settings settings;
  settings.quality = 100;  // QP 0: the largest frames
  settings.gop = 2;
  auto stage = sim::CodecStage::create(settings, 48, 48, 6, codec::VideoConversion::spanning(0, 255));
  REQUIRE(stage);
  const std::uint8_t* storage = nullptr;
  for (int f = 0; f < 6; ++f) {
    Image<float> a = frames[static_cast<std::size_t>(f)];
    (*stage)(f, smlm::make_view(a));
    if (f == 0) storage = stage->last_frame_bytes().data();
    CHECK(stage->last_frame_bytes().data() == storage);
  }
}

TEST_CASE("codec stage: bad settings, sizes and conversions are errors naming the field and value") {
  const auto conversion = codec::VideoConversion::spanning(0, 255);
  codec::Settings bad_quality;
  bad_quality.quality = 101;
  auto a = sim::CodecStage::create(bad_quality, 32, 32, 1, conversion);
  REQUIRE_FALSE(a);
  CHECK(a.status().code() == smlm::errc::invalid_argument);
  CHECK(a.message().find("quality 101") != std::string::npos);

  codec::Settings bad_gop;
  bad_gop.gop = 0;
  auto b = sim::CodecStage::create(bad_gop, 32, 32, 1, conversion);
  REQUIRE_FALSE(b);
  CHECK(b.message().find("gop 0") != std::string::npos);

  auto c = sim::CodecStage::create({}, 0, 32, 1, conversion);
  REQUIRE_FALSE(c);
  CHECK(c.message().find("0x32") != std::string::npos);

  auto d = sim::CodecStage::create({}, 32, 32, 1, codec::VideoConversion{10, 0});
  REQUIRE_FALSE(d);
  CHECK(d.message().find("gain_per_adu = 0") != std::string::npos);

  auto stage = sim::CodecStage::create({}, 32, 32, 1, conversion);
  REQUIRE(stage);
  Image<float> wrong(16, 32);
  wrong.setZero();
  CHECK_THROWS((*stage)(0, smlm::make_view(wrong)));
}

TEST_CASE("video_conversion_for: dark level − 3 SD → 0, the brightest spot's mean peak → 255; video cameras pass") {
  const camera::Emccd<float> emccd{};
  const double background = 20, max_photons = 2500, sigma_px = 1.1;
  const auto c = sim::video_conversion_for(emccd, background, max_photons, sigma_px);
  const double black = emccd.mean_adu(0.0) - 3 * std::sqrt(emccd.variance_adu(0.0));
  const double peak = emccd.mean_adu(background + max_photons / (2 * 3.14159265358979323846 * sigma_px * sigma_px));
  CHECK(c.offset_adu == doctest::Approx(std::max(0.0, black)));
  CHECK(c.to_video(std::max(0.0, black)) == 0);
  CHECK(std::abs((peak - c.offset_adu) * c.gain_per_adu - 255) < 1e-9);
  CHECK(c.to_video(peak) == 255);

  // Ideal: dark level 0 and no dark noise, so the black level is 0.
  const auto ideal = sim::video_conversion_for(camera::Ideal<float>{}, 10, 1000, 1.0);
  CHECK(ideal.offset_adu == 0);
  CHECK(ideal.gain_per_adu == doctest::Approx(255 / (10 + 1000 / (2 * 3.14159265358979323846))));

  // A phone already records video levels: identity.
  const auto phone = sim::video_conversion_for(camera::CmosPhone<float>{}, 10, 1000, 1.0);
  CHECK(phone.offset_adu == 0);
  CHECK(phone.gain_per_adu == 1);
  static_assert(sim::camera_outputs_video<camera::CmosPhone<float>>);
  static_assert(!sim::camera_outputs_video<camera::Emccd<float>>);
}

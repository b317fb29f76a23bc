// The quality → QP map, settings validation and the camera ↔ video conversion.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include <smlm/codec/settings.hpp>

namespace codec = smlm::codec;

TEST_CASE("settings: quality maps monotonically onto QP 51..0 with the documented anchors") {
  CHECK(codec::quality_to_qp(0) == 51);
  CHECK(codec::quality_to_qp(50) == 26);   // 51·50/100 = 25.5 → 26 (half up)
  CHECK(codec::quality_to_qp(55) == 23);   // 22.95 → 23
  CHECK(codec::quality_to_qp(100) == 0);
  CHECK(codec::quality_to_qp(-5) == 51);   // clamped
  CHECK(codec::quality_to_qp(140) == 0);
  for (int q = 1; q <= 100; ++q) {
    CAPTURE(q);
    CHECK(codec::quality_to_qp(q) <= codec::quality_to_qp(q - 1));
    CHECK(codec::quality_to_qp(q - 1) - codec::quality_to_qp(q) <= 1);
  }
  codec::Settings s;
  s.qp = 40;
  CHECK(s.effective_qp() == 40);
  s.quality = 100;
  CHECK(s.effective_qp() == 0);
}

TEST_CASE("settings: GOP decides the frame types and validate names the bad field") {
  codec::Settings s;
  s.gop = 3;
  CHECK(s.is_intra_frame(0));
  CHECK_FALSE(s.is_intra_frame(1));
  CHECK_FALSE(s.is_intra_frame(2));
  CHECK(s.is_intra_frame(3));
  s.intra_only = true;
  CHECK(s.is_intra_frame(2));
  CHECK(s.validate().ok());
  s.quality = 101;
  CHECK(s.validate().message() == "codec settings: quality 101 is not in [0, 100] (or -1)");
  s = {};
  s.search_range = 33;
  CHECK(s.validate().message() == "codec settings: search_range 33 is not in [0, 32]");
  s = {};
  s.grid_dy = -1;
  CHECK(s.validate().message() == "codec settings: grid_dy -1 is not in [0, 15]");
}

TEST_CASE("settings: camera frames to 8-bit video and back (gain, offset, clip, rounding)") {
  const auto c = codec::VideoConversion::spanning(100.0, 1120.0);  // gain 0.25 level/ADU
  CHECK(c.gain_per_adu == doctest::Approx(0.25));
  CHECK(int{c.to_video(100)} == 0);
  CHECK(int{c.to_video(1120)} == 255);
  CHECK(int{c.to_video(50)} == 0);      // below the offset: clipped
  CHECK(int{c.to_video(5000)} == 255);  // saturated
  CHECK(int{c.to_video(102)} == 1);     // 0.5 rounds half up
  CHECK(int{c.to_video(101.9)} == 0);   // 0.475
  CHECK(int{c.to_video(std::nan(""))} == 0);
  // Round trip: within half a level (2 ADU) for values that did not clip.
  for (int adu = 100; adu <= 1120; adu += 7) {
    CAPTURE(adu);
    CHECK(std::abs(c.to_adu(c.to_video(adu)) - adu) <= 0.5 / c.gain_per_adu + 1e-9);
  }
  smlm::Image<std::uint16_t> camera(2, 3);
  camera << 100, 600, 1120, 0, 65535, 1000;
  smlm::Image<std::uint8_t> video(2, 3);
  c.to_video(smlm::const_view(camera), smlm::make_view(video));
  CHECK(int{video(0, 1)} == 125);
  CHECK(int{video(1, 0)} == 0);
  CHECK(int{video(1, 1)} == 255);
  smlm::Image<std::uint16_t> back(2, 3);
  c.to_adu(smlm::const_view(video), smlm::make_view(back));
  CHECK(int{back(0, 1)} == 600);   // 125 / 0.25 + 100
  CHECK(int{back(1, 2)} == 1000);  // 225 / 0.25 + 100
  CHECK(int{back(1, 1)} == 1120);  // saturated: the top of the span
}

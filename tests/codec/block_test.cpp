// Block layout helpers and the sample ↔ residual moves (subtraction; §8.5.14 reconstruction).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include <smlm/codec/block.hpp>

namespace codec = smlm::codec;
using codec::block4x4;

TEST_CASE("raster layout, Clip1Y and int16 saturation") {
  CHECK(codec::raster_index(0, 0) == 0);
  CHECK(codec::raster_index(0, 3) == 3);
  CHECK(codec::raster_index(1, 0) == 4);
  CHECK(codec::raster_index(3, 2) == 14);
  CHECK(codec::clip_pixel(-1) == 0);
  CHECK(codec::clip_pixel(0) == 0);
  CHECK(codec::clip_pixel(255) == 255);
  CHECK(codec::clip_pixel(256) == 255);
  CHECK(codec::clip_pixel(-100000) == 0);
  CHECK(codec::saturate_int16(40000) == 32767);
  CHECK(codec::saturate_int16(-40000) == -32768);
  CHECK(codec::saturate_int16(-32768) == -32768);
  CHECK(codec::saturate_int16(123) == 123);
}

TEST_CASE("subtract_4x4 and add_4x4 with strides; add clips and may work in place") {
  constexpr std::ptrdiff_t source_stride = 9, prediction_stride = 6, out_stride = 5;
  std::vector<std::uint8_t> source(4 * source_stride, 0xCC), prediction(4 * prediction_stride, 0x33);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      source[i * source_stride + j] = static_cast<std::uint8_t>(i == 0 ? 255 : 16 * i + j);
      prediction[i * prediction_stride + j] = static_cast<std::uint8_t>(i == 3 ? 255 : (i == 0 ? 0 : 20 * j));
    }
  block4x4 residual{};
  codec::subtract_4x4(source.data(), source_stride, prediction.data(), prediction_stride, residual);
  CHECK(residual == block4x4{255, 255, 255, 255,  //
                             16, -3, -22, -41,    //
                             32, 13, -6, -25,     //
                             -207, -206, -205, -204});

  std::vector<std::uint8_t> out(4 * out_stride, 0x77);
  codec::add_4x4(residual, prediction.data(), prediction_stride, out.data(), out_stride);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) CHECK(out[i * out_stride + j] == source[i * source_stride + j]);
  CHECK(out[4] == 0x77);  // outside the block: untouched

  // Clipping to [0, 255], and destination == prediction.
  block4x4 big{};
  big.fill(300);
  big[1] = -300;
  big[2] = 0;
  std::array<std::uint8_t, 16> samples{};
  samples.fill(10);
  codec::add_4x4_ref(big, samples.data(), 4, samples.data(), 4);
  CHECK(samples[0] == 255);
  CHECK(samples[1] == 0);
  CHECK(samples[2] == 10);
}

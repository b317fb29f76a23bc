// The 4×4 block: coefficient layout shared by every codec kernel, and the moves between 8-bit
// samples and residual blocks (encoder subtraction, decoder reconstruction).
//
// Layout. A 4×4 block of samples, residuals, transform coefficients or quantized levels is 16
// values in row-major raster order: element (i, j) is at index 4·i + j, i = row = vertical
// position / vertical frequency, j = column = horizontal position / horizontal frequency. This
// is the standard's own indexing: ITU-T H.264 writes c_ij, d_ij, r_ij with i the row and j the
// column (§8.5.14 stores u_ij at sample x + j, y + i), so every formula in transform.hpp and
// quant.hpp reads exactly like the clause it cites. The zig-zag order (scan.hpp) is a permutation
// of these raster indices; the bitstream (bitstream.hpp) carries levels in zig-zag order only.
//
// Kernels take blocks as std::span<…, 16> (a std::array<std::int16_t, 16> or an
// std::int16_t[16] converts implicitly) and frame samples as pointer + row stride in elements.
// Samples are 8-bit (BitDepthY = 8): the video frames are grey-level uint8.
//
// Naming. Every kernel `name_ref` is the scalar reference, the definition of behaviour. The
// unsuffixed `name` is what the codec calls; today it forwards to `name_ref`, and a later SIMD
// version (xsimd, never named under SMLM_NO_SIMD) must match `name_ref` bit for bit on every
// input the reference accepts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace smlm::codec {

/// 16 values of one 4×4 block in raster order (index 4·row + column).
using block4x4 = std::array<std::int16_t, 16>;

/// Raster index of element (row, column) of a 4×4 block.
constexpr int raster_index(int row, int column) noexcept { return 4 * row + column; }

/// Clip1Y for 8-bit samples (H.264 §5.7 Clip3(0, 255, x)).
constexpr std::uint8_t clip_pixel(std::int32_t value) noexcept {
  return static_cast<std::uint8_t>(value < 0 ? 0 : (value > 255 ? 255 : value));
}

/// Saturates to the int16 range. The codec uses it where a non-conforming bitstream could push a
/// value outside 16 bits: conforming streams never reach the bounds (see quant.hpp, transform.hpp).
constexpr std::int16_t saturate_int16(std::int32_t value) noexcept {
  return static_cast<std::int16_t>(value < -32768 ? -32768 : (value > 32767 ? 32767 : value));
}

/// residual(i, j) = source(i, j) − prediction(i, j), in [−255, 255] (9-bit signed): the input
/// range transform.hpp's forward transform is specified for.
inline void subtract_4x4_ref(const std::uint8_t* source, std::ptrdiff_t source_stride,
                             const std::uint8_t* prediction, std::ptrdiff_t prediction_stride,
                             std::span<std::int16_t, 16> residual) noexcept {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      residual[raster_index(i, j)] = static_cast<std::int16_t>(
          int{source[i * source_stride + j]} - int{prediction[i * prediction_stride + j]});
}

/// destination(i, j) = Clip1Y(prediction(i, j) + residual(i, j)): the picture construction of
/// H.264 §8.5.14 for one 4×4 block. `destination` may be `prediction` (same stride).
inline void add_4x4_ref(std::span<const std::int16_t, 16> residual, const std::uint8_t* prediction,
                        std::ptrdiff_t prediction_stride, std::uint8_t* destination,
                        std::ptrdiff_t destination_stride) noexcept {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      destination[i * destination_stride + j] =
          clip_pixel(int{prediction[i * prediction_stride + j]} + residual[raster_index(i, j)]);
}

inline void subtract_4x4(const std::uint8_t* source, std::ptrdiff_t source_stride,
                         const std::uint8_t* prediction, std::ptrdiff_t prediction_stride,
                         std::span<std::int16_t, 16> residual) noexcept {
  subtract_4x4_ref(source, source_stride, prediction, prediction_stride, residual);
}
inline void add_4x4(std::span<const std::int16_t, 16> residual, const std::uint8_t* prediction,
                    std::ptrdiff_t prediction_stride, std::uint8_t* destination,
                    std::ptrdiff_t destination_stride) noexcept {
  add_4x4_ref(residual, prediction, prediction_stride, destination, destination_stride);
}

}  // namespace smlm::codec

// Zig-zag scan of a 4×4 block: the order in which levels travel in the bitstream.
//
// Coefficients live in raster order (block.hpp: index 4·i + j, i = row = vertical frequency,
// j = column = horizontal frequency). The frame zig-zag of H.264 §8.5.6 (Table 8-13, Figure 8-8a)
// walks the anti-diagonals i + j = 0, 1, …, 6 from low to high frequency, starting to the right:
//
//   scan position k   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//   (i, j)           00 01 10 20 11 02 03 12 21 30 31 22 13 23 32 33
//   raster index      0  1  4  8  5  2  3  6  9 12 13 10  7 11 14 15
//
// so scanned[k] = raster[zigzag_4x4[k]]. The same order serves every 4×4 level block: the core
// blocks (16 levels), the Intra16×16 AC blocks (scan positions 1..15; position 0 is carried by the
// DC block) and the Intra16×16 DC block of Hadamard levels (§8.5.6 inverse-scans it the same way).
// Field scan (interlaced video) is not provided.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include <smlm/codec/block.hpp>

namespace smlm::codec {

/// Raster index of scan position k (H.264 Table 8-13, zig-zag).
inline constexpr std::array<std::uint8_t, 16> zigzag_4x4 = {0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15};

/// Scan position of raster index k: the inverse permutation of zigzag_4x4.
inline constexpr std::array<std::uint8_t, 16> zigzag_4x4_position = [] {
  std::array<std::uint8_t, 16> position{};
  for (int k = 0; k < 16; ++k) position[zigzag_4x4[k]] = static_cast<std::uint8_t>(k);
  return position;
}();

/// scanned[k] = raster[zigzag_4x4[k]]. Input and output may be the same block.
inline void zigzag_scan_4x4_ref(std::span<const std::int16_t, 16> raster,
                                std::span<std::int16_t, 16> scanned) noexcept {
  block4x4 copy{};
  for (int k = 0; k < 16; ++k) copy[k] = raster[zigzag_4x4[k]];
  for (int k = 0; k < 16; ++k) scanned[k] = copy[k];
}

/// raster[zigzag_4x4[k]] = scanned[k] (the inverse scan of §8.5.6). Input and output may be the
/// same block.
inline void zigzag_unscan_4x4_ref(std::span<const std::int16_t, 16> scanned,
                                  std::span<std::int16_t, 16> raster) noexcept {
  block4x4 copy{};
  for (int k = 0; k < 16; ++k) copy[zigzag_4x4[k]] = scanned[k];
  for (int k = 0; k < 16; ++k) raster[k] = copy[k];
}

inline void zigzag_scan_4x4(std::span<const std::int16_t, 16> raster, std::span<std::int16_t, 16> scanned) noexcept {
  zigzag_scan_4x4_ref(raster, scanned);
}
inline void zigzag_unscan_4x4(std::span<const std::int16_t, 16> scanned, std::span<std::int16_t, 16> raster) noexcept {
  zigzag_unscan_4x4_ref(scanned, raster);
}

}  // namespace smlm::codec

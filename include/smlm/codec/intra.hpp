// Intra prediction of luma blocks: the nine Intra4×4 modes (H.264 §8.3.1.2) and the four
// Intra16×16 modes (§8.3.3), from the neighbouring samples of the picture being constructed.
//
// Neighbour samples are named as in the standard: p[x, −1] is the row above the block (x = 0..7
// for 4×4, where 4..7 lie above-right; 0..15 for 16×16), p[−1, y] the column to its left, and
// p[−1, −1] the sample above-left. Neighbours are *constructed* samples before deblocking
// (§8.3.1.2: "prior to the deblocking filter process"). A neighbour is available when it lies in
// the picture and was decoded before the current block (the whole picture is one slice, so the
// slice rule of §6.4.11 reduces to the picture rule; constrained_intra_pred_flag = 0, so inter
// neighbours are usable). When p[4..7, −1] are not available but p[3, −1] is, they are replaced
// by p[3, −1] (§8.3.1.2, the substitution the standard makes); the gather functions below do it.
//
// A mode may only be used when the samples it reads are available (the standard makes other
// uses non-conforming); intra4x4_mode_available / intra16x16_mode_available say which. DC has a
// rule for every combination (128 with no neighbours), so it is always available.
//
// Predictions are written as 8-bit samples in raster order (16 or 256 values, row stride 4 or 16).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <smlm/codec/block.hpp>
#include <smlm/core/config.hpp>

namespace smlm::codec {

/// Intra4x4PredMode values of H.264 Table 8-2.
enum class intra4x4_mode : std::uint8_t {
  vertical = 0,
  horizontal = 1,
  dc = 2,
  diagonal_down_left = 3,
  diagonal_down_right = 4,
  vertical_right = 5,
  horizontal_down = 6,
  vertical_left = 7,
  horizontal_up = 8,
};
inline constexpr int intra4x4_mode_count = 9;

/// Intra16x16PredMode values of H.264 Table 8-4.
enum class intra16x16_mode : std::uint8_t { vertical = 0, horizontal = 1, dc = 2, plane = 3 };
inline constexpr int intra16x16_mode_count = 4;

/// The neighbours of one 4×4 block. `top` holds p[0..7, −1] (with the above-right substitution
/// applied when `top_right` is false but `top` is true), `left` holds p[−1, 0..3].
struct Intra4x4Neighbours {
  std::array<std::uint8_t, 8> top{};
  std::array<std::uint8_t, 4> left{};
  std::uint8_t top_left = 0;
  bool has_top = false, has_left = false, has_top_left = false, has_top_right = false;
};

/// The neighbours of one 16×16 macroblock: p[0..15, −1], p[−1, 0..15], p[−1, −1].
struct Intra16x16Neighbours {
  std::array<std::uint8_t, 16> top{};
  std::array<std::uint8_t, 16> left{};
  std::uint8_t top_left = 0;
  bool has_top = false, has_left = false, has_top_left = false;
};

/// Reads the neighbours of the 4×4 block whose top-left sample is at `block` in a picture with
/// row stride `stride`; the flags say which neighbours exist. Samples of missing neighbours are
/// not read.
inline Intra4x4Neighbours gather_intra4x4_neighbours(const std::uint8_t* block, std::ptrdiff_t stride, bool has_top,
                                                     bool has_left, bool has_top_left, bool has_top_right) noexcept {
  Intra4x4Neighbours n;
  n.has_top = has_top;
  n.has_left = has_left;
  n.has_top_left = has_top_left;
  n.has_top_right = has_top && has_top_right;
  if (has_top) {
    for (int x = 0; x < 4; ++x) n.top[x] = block[-stride + x];
    for (int x = 4; x < 8; ++x) n.top[x] = n.has_top_right ? block[-stride + x] : n.top[3];
  }
  if (has_left)
    for (int y = 0; y < 4; ++y) n.left[y] = block[y * stride - 1];
  if (has_top_left) n.top_left = block[-stride - 1];
  return n;
}

/// Reads the neighbours of the macroblock whose top-left sample is at `block`.
inline Intra16x16Neighbours gather_intra16x16_neighbours(const std::uint8_t* block, std::ptrdiff_t stride,
                                                         bool has_top, bool has_left, bool has_top_left) noexcept {
  Intra16x16Neighbours n;
  n.has_top = has_top;
  n.has_left = has_left;
  n.has_top_left = has_top_left;
  if (has_top)
    for (int x = 0; x < 16; ++x) n.top[x] = block[-stride + x];
  if (has_left)
    for (int y = 0; y < 16; ++y) n.left[y] = block[y * stride - 1];
  if (has_top_left) n.top_left = block[-stride - 1];
  return n;
}

/// Whether `mode` reads only available samples (§8.3.1.2.1–9: vertical, diagonal-down-left and
/// vertical-left need p[x, −1]; horizontal and horizontal-up need p[−1, y]; diagonal-down-right,
/// vertical-right and horizontal-down need both and p[−1, −1]; DC needs nothing).
constexpr bool intra4x4_mode_available(intra4x4_mode mode, const Intra4x4Neighbours& n) noexcept {
  switch (mode) {
    case intra4x4_mode::vertical:
    case intra4x4_mode::diagonal_down_left:
    case intra4x4_mode::vertical_left: return n.has_top;
    case intra4x4_mode::horizontal:
    case intra4x4_mode::horizontal_up: return n.has_left;
    case intra4x4_mode::dc: return true;
    case intra4x4_mode::diagonal_down_right:
    case intra4x4_mode::vertical_right:
    case intra4x4_mode::horizontal_down: return n.has_top && n.has_left && n.has_top_left;
  }
  return false;
}

/// Whether `mode` reads only available samples (§8.3.3.1–4; plane needs all three).
constexpr bool intra16x16_mode_available(intra16x16_mode mode, const Intra16x16Neighbours& n) noexcept {
  switch (mode) {
    case intra16x16_mode::vertical: return n.has_top;
    case intra16x16_mode::horizontal: return n.has_left;
    case intra16x16_mode::dc: return true;
    case intra16x16_mode::plane: return n.has_top && n.has_left && n.has_top_left;
  }
  return false;
}

/// Intra4×4 prediction pred4x4L[x, y] into `prediction` (raster, index 4·y + x). `mode` must be
/// available (SMLM_ASSERT). The equations are those of §8.3.1.2.1–9, transcribed with p(x, y)
/// for p[x, y] over the 13 neighbour samples.
inline void predict_intra4x4_ref(intra4x4_mode mode, const Intra4x4Neighbours& n,
                                 std::span<std::uint8_t, 16> prediction) SMLM_NOEXCEPT {
  SMLM_ASSERT(intra4x4_mode_available(mode, n), "predict_intra4x4: mode needs unavailable neighbours");
  // p(x, −1) for x = −1..7 and p(−1, y) for y = −1..3.
  const auto p = [&](int x, int y) -> int {
    if (y < 0) return x < 0 ? n.top_left : n.top[x];
    return n.left[y];
  };
  const auto put = [&](int x, int y, int value) { prediction[raster_index(y, x)] = static_cast<std::uint8_t>(value); };
  switch (mode) {
    case intra4x4_mode::vertical:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) put(x, y, p(x, -1));
      break;
    case intra4x4_mode::horizontal:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) put(x, y, p(-1, y));
      break;
    case intra4x4_mode::dc: {
      int sum_top = 0, sum_left = 0;
      for (int k = 0; k < 4; ++k) {
        sum_top += n.has_top ? p(k, -1) : 0;
        sum_left += n.has_left ? p(-1, k) : 0;
      }
      int dc = 128;
      if (n.has_top && n.has_left) dc = (sum_top + sum_left + 4) >> 3;
      else if (n.has_left) dc = (sum_left + 2) >> 2;
      else if (n.has_top) dc = (sum_top + 2) >> 2;
      for (int k = 0; k < 16; ++k) prediction[k] = static_cast<std::uint8_t>(dc);
      break;
    }
    case intra4x4_mode::diagonal_down_left:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x)
          put(x, y, x == 3 && y == 3 ? (p(6, -1) + 3 * p(7, -1) + 2) >> 2
                                     : (p(x + y, -1) + 2 * p(x + y + 1, -1) + p(x + y + 2, -1) + 2) >> 2);
      break;
    case intra4x4_mode::diagonal_down_right:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          if (x > y) put(x, y, (p(x - y - 2, -1) + 2 * p(x - y - 1, -1) + p(x - y, -1) + 2) >> 2);
          else if (x < y) put(x, y, (p(-1, y - x - 2) + 2 * p(-1, y - x - 1) + p(-1, y - x) + 2) >> 2);
          else put(x, y, (p(0, -1) + 2 * p(-1, -1) + p(-1, 0) + 2) >> 2);
        }
      break;
    case intra4x4_mode::vertical_right:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          const int z = 2 * x - y;
          const int b = x - (y >> 1);
          if (z >= 0 && z % 2 == 0) put(x, y, (p(b - 1, -1) + p(b, -1) + 1) >> 1);
          else if (z >= 0) put(x, y, (p(b - 2, -1) + 2 * p(b - 1, -1) + p(b, -1) + 2) >> 2);
          else if (z == -1) put(x, y, (p(-1, 0) + 2 * p(-1, -1) + p(0, -1) + 2) >> 2);
          else put(x, y, (p(-1, y - 1) + 2 * p(-1, y - 2) + p(-1, y - 3) + 2) >> 2);
        }
      break;
    case intra4x4_mode::horizontal_down:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          const int z = 2 * y - x;
          const int b = y - (x >> 1);
          if (z >= 0 && z % 2 == 0) put(x, y, (p(-1, b - 1) + p(-1, b) + 1) >> 1);
          else if (z >= 0) put(x, y, (p(-1, b - 2) + 2 * p(-1, b - 1) + p(-1, b) + 2) >> 2);
          else if (z == -1) put(x, y, (p(-1, 0) + 2 * p(-1, -1) + p(0, -1) + 2) >> 2);
          else put(x, y, (p(x - 1, -1) + 2 * p(x - 2, -1) + p(x - 3, -1) + 2) >> 2);
        }
      break;
    case intra4x4_mode::vertical_left:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          const int b = x + (y >> 1);
          put(x, y, y % 2 == 0 ? (p(b, -1) + p(b + 1, -1) + 1) >> 1
                               : (p(b, -1) + 2 * p(b + 1, -1) + p(b + 2, -1) + 2) >> 2);
        }
      break;
    case intra4x4_mode::horizontal_up:
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          const int z = x + 2 * y;
          const int b = y + (x >> 1);
          if (z > 5) put(x, y, p(-1, 3));
          else if (z == 5) put(x, y, (p(-1, 2) + 3 * p(-1, 3) + 2) >> 2);
          else if (z % 2 == 0) put(x, y, (p(-1, b) + p(-1, b + 1) + 1) >> 1);
          else put(x, y, (p(-1, b) + 2 * p(-1, b + 1) + p(-1, b + 2) + 2) >> 2);
        }
      break;
  }
}

/// Intra16×16 prediction predL[x, y] into `prediction` (raster, index 16·y + x), §8.3.3.1–4.
/// `mode` must be available (SMLM_ASSERT).
inline void predict_intra16x16_ref(intra16x16_mode mode, const Intra16x16Neighbours& n,
                                   std::span<std::uint8_t, 256> prediction) SMLM_NOEXCEPT {
  SMLM_ASSERT(intra16x16_mode_available(mode, n), "predict_intra16x16: mode needs unavailable neighbours");
  switch (mode) {
    case intra16x16_mode::vertical:
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) prediction[16 * y + x] = n.top[x];
      break;
    case intra16x16_mode::horizontal:
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) prediction[16 * y + x] = n.left[y];
      break;
    case intra16x16_mode::dc: {
      int sum_top = 0, sum_left = 0;
      for (int k = 0; k < 16; ++k) {
        sum_top += n.top[k];
        sum_left += n.left[k];
      }
      int dc = 128;
      if (n.has_top && n.has_left) dc = (sum_top + sum_left + 16) >> 5;
      else if (n.has_left) dc = (sum_left + 8) >> 4;
      else if (n.has_top) dc = (sum_top + 8) >> 4;
      for (auto& sample : prediction) sample = static_cast<std::uint8_t>(dc);
      break;
    }
    case intra16x16_mode::plane: {
      // p(x, −1) for x = −1..15, p(−1, y) for y = −1..15; x' and y' run over 0..7.
      const auto top = [&](int x) -> int { return x < 0 ? n.top_left : n.top[x]; };
      const auto left = [&](int y) -> int { return y < 0 ? n.top_left : n.left[y]; };
      int h = 0, v = 0;
      for (int k = 0; k < 8; ++k) {
        h += (k + 1) * (top(8 + k) - top(6 - k));
        v += (k + 1) * (left(8 + k) - left(6 - k));
      }
      const int a = 16 * (left(15) + top(15));
      const int b = (5 * h + 32) >> 6;
      const int c = (5 * v + 32) >> 6;
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x)
          prediction[16 * y + x] = clip_pixel((a + b * (x - 7) + c * (y - 7) + 16) >> 5);
      break;
    }
  }
}

/// predIntra4x4PredMode of §8.3.1.1: Min(mode of the left block A, mode of the upper block B),
/// or DC when either is not available. A neighbour that is available but not Intra4×4-coded
/// (Intra16×16 or inter, constrained_intra_pred_flag = 0) counts as DC; the caller passes
/// intra4x4_mode::dc for it.
constexpr intra4x4_mode predicted_intra4x4_mode(bool has_left, intra4x4_mode left, bool has_top,
                                                intra4x4_mode top) noexcept {
  if (!has_left || !has_top) return intra4x4_mode::dc;
  return static_cast<std::uint8_t>(left) < static_cast<std::uint8_t>(top) ? left : top;
}

/// Position (column, row) in 4×4-block units inside the macroblock of the block with index
/// luma4x4BlkIdx (§6.4.3, Figure 6-10): 8×8 quadrants in raster order, 4×4 blocks inside each
/// quadrant in raster order. This is the order blocks are predicted, coded and reconstructed in.
inline constexpr std::array<std::uint8_t, 16> block4x4_column = {0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3};
inline constexpr std::array<std::uint8_t, 16> block4x4_row = {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3};

/// luma4x4BlkIdx of the block at (column, row), 0 ≤ column, row < 4: the inverse of the tables above.
constexpr int block4x4_index(int column, int row) noexcept {
  return 8 * (row / 2) + 4 * (column / 2) + 2 * (row % 2) + column % 2;
}

/// Whether the above-right neighbour p[4..7, −1] of block `index` lies in an already decoded
/// block of the *same* macroblock or in the macroblock above (§6.4.11.4: blocks 3, 7, 11, 13, 15
/// and 5 look right of the macroblock or at a later block). `mb_above` and `mb_above_right` say
/// whether those macroblocks exist.
constexpr bool block4x4_has_top_right(int index, bool mb_above, bool mb_above_right) noexcept {
  const int column = block4x4_column[index], row = block4x4_row[index];
  if (row == 0) return column < 3 ? mb_above : mb_above_right;
  if (column == 3) return false;
  return block4x4_index(column + 1, row - 1) < index;
}

inline void predict_intra4x4(intra4x4_mode mode, const Intra4x4Neighbours& n,
                             std::span<std::uint8_t, 16> prediction) SMLM_NOEXCEPT {
  predict_intra4x4_ref(mode, n, prediction);
}
inline void predict_intra16x16(intra16x16_mode mode, const Intra16x16Neighbours& n,
                               std::span<std::uint8_t, 256> prediction) SMLM_NOEXCEPT {
  predict_intra16x16_ref(mode, n, prediction);
}

}  // namespace smlm::codec

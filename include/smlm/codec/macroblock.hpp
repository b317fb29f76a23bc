// The macroblock layer shared by encoder and decoder: picture geometry, per-macroblock side
// information, and macroblock reconstruction. The encoder reconstructs every macroblock with the
// very functions the decoder uses, which is what makes the two pictures equal bit for bit.
//
// Reconstruction of one 4×4 block (H.264 §8.5.12, §8.5.14): levels → dequantize_4x4 (and, in an
// Intra16×16 macroblock, d_00 replaced by the block's dcY from the Hadamard path, §8.5.10) →
// inverse_4x4 → add to the prediction with Clip1. A block without non-zero levels (and, in
// Intra16×16, a zero dcY) is the prediction itself, which the transform would also give.
// Intra4×4 blocks are reconstructed one by one (each predicts from the one before); Intra16×16
// and inter macroblocks all sixteen blocks at once in lane layout (macroblock_lanes.hpp), whose
// kernels compute the same integers as the per-block path.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <smlm/codec/block.hpp>
#include <smlm/codec/intra.hpp>
#include <smlm/codec/macroblock_lanes.hpp>
#include <smlm/codec/quant.hpp>
#include <smlm/codec/transform.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>

namespace smlm::codec {

/// Macroblock kinds. Bitstream codes: I-frames ue(0) intra16x16, ue(1) intra4x4; P-frames ue(0)
/// skip, ue(1) inter, ue(2) intra16x16, ue(3) intra4x4.
enum class mb_type : std::uint8_t { intra16x16, intra4x4, inter, skip };

constexpr bool is_intra(mb_type type) noexcept { return type == mb_type::intra16x16 || type == mb_type::intra4x4; }

/// What later macroblocks (mode prediction, motion-vector prediction) and the deblocking filter
/// need to know about a decoded macroblock.
struct MacroblockInfo {
  mb_type type = mb_type::intra16x16;
  std::uint8_t qp = 0;
  std::int8_t mv_x = 0, mv_y = 0;     ///< integer samples; 0 for intra and skip
  std::uint16_t coded_blocks = 0;      ///< bit k: 4×4 block luma4x4BlkIdx k has non-zero levels
  std::array<intra4x4_mode, 16> modes{};  ///< Intra4×4 modes by luma4x4BlkIdx (DC otherwise)
};

/// Sizes of the coded picture. The picture is the input frame shifted right by dx and down by dy
/// samples and padded to whole macroblocks by repeating the frame's edge samples.
struct Geometry {
  int width = 0, height = 0;  ///< the frame (what the caller sees)
  int dx = 0, dy = 0;         ///< grid offset
  int mb_cols = 0, mb_rows = 0;

  static Geometry of(int width, int height, int dx, int dy) noexcept {
    Geometry g;
    g.width = width;
    g.height = height;
    g.dx = dx;
    g.dy = dy;
    g.mb_cols = (width + dx + 15) / 16;
    g.mb_rows = (height + dy + 15) / 16;
    return g;
  }
  int padded_width() const noexcept { return 16 * mb_cols; }
  int padded_height() const noexcept { return 16 * mb_rows; }
  std::size_t mb_count() const noexcept { return static_cast<std::size_t>(mb_cols) * mb_rows; }
};

/// A padded 8-bit picture plane, row-major, stride = padded width.
struct Picture {
  Geometry geometry;
  std::vector<std::uint8_t> samples;

  void allocate(const Geometry& g) {
    geometry = g;
    samples.assign(static_cast<std::size_t>(g.padded_width()) * g.padded_height(), 0);
  }
  std::ptrdiff_t stride() const noexcept { return geometry.padded_width(); }
  std::uint8_t* at(int x, int y) noexcept { return samples.data() + static_cast<std::ptrdiff_t>(y) * stride() + x; }
  const std::uint8_t* at(int x, int y) const noexcept {
    return samples.data() + static_cast<std::ptrdiff_t>(y) * stride() + x;
  }

  /// Places `frame` at (dx, dy) and fills the rest by repeating the nearest frame sample.
  void load(const ConstImageView<std::uint8_t>& frame) noexcept {
    const Geometry& g = geometry;
    const int right = g.padded_width() - g.dx - g.width;
    for (int y = g.dy; y < g.dy + g.height; ++y) {
      const std::uint8_t* source = frame.data() + static_cast<std::ptrdiff_t>(y - g.dy) * frame.outerStride();
      std::uint8_t* row = at(0, y);
      std::fill_n(row, g.dx, source[0]);
      std::copy_n(source, g.width, row + g.dx);
      std::fill_n(row + g.dx + g.width, right, source[g.width - 1]);
    }
    // Rows above and below repeat the first and last frame rows.
    for (int y = 0; y < g.dy; ++y) std::copy_n(at(0, g.dy), g.padded_width(), at(0, y));
    for (int y = g.dy + g.height; y < g.padded_height(); ++y)
      std::copy_n(at(0, g.dy + g.height - 1), g.padded_width(), at(0, y));
  }
  /// Writes the frame part (the crop at dx, dy) into `out` (height × width).
  void store(ImageView<std::uint8_t> out) const noexcept {
    const Geometry& g = geometry;
    for (int y = 0; y < g.height; ++y)
      std::copy_n(at(g.dx, y + g.dy), g.width, out.data() + static_cast<std::ptrdiff_t>(y) * out.outerStride());
  }
};

/// Reconstructs one 4×4 block in place over its prediction at `samples` (row stride `stride`):
/// dequantize, optionally set d_00 = dc (Intra16×16), inverse transform, add with Clip1.
inline void reconstruct_4x4(std::span<const std::int16_t, 16> levels, int qp, const std::int16_t* dc,
                            std::uint8_t* samples, std::ptrdiff_t stride) SMLM_NOEXCEPT {
  bool any_level = false;
  for (const std::int16_t v : levels) any_level |= v != 0;
  if (!any_level) {
    // d is zero but for d_00 = dc, whose inverse transform is d_00 at every position: the
    // residual is (d_00 + 32) >> 6 everywhere (what the general path below computes).
    const int residual = dc != nullptr ? (int{*dc} + 32) >> 6 : 0;
    if (residual == 0) return;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) samples[i * stride + j] = clip_pixel(int{samples[i * stride + j]} + residual);
    return;
  }
  block4x4 d{};
  dequantize_4x4(levels, d, qp);
  if (dc != nullptr) d[0] = *dc;
  bool any = false;
  for (const std::int16_t v : d) any |= v != 0;
  if (!any) return;
  block4x4 r{};
  inverse_4x4(d, r);
  add_4x4(r, samples, stride, samples, stride);
}

/// Neighbour availability of the 4×4 block `index` in macroblock (mb_x, mb_y).
inline Intra4x4Neighbours intra4x4_neighbours(const Picture& picture, int mb_x, int mb_y, int index) noexcept {
  const int column = block4x4_column[index], row = block4x4_row[index];
  const bool has_left = column > 0 || mb_x > 0;
  const bool has_top = row > 0 || mb_y > 0;
  const bool mb_above_right = mb_y > 0 && mb_x + 1 < picture.geometry.mb_cols;
  const bool has_top_right = block4x4_has_top_right(index, mb_y > 0, mb_above_right);
  return gather_intra4x4_neighbours(picture.at(16 * mb_x + 4 * column, 16 * mb_y + 4 * row), picture.stride(),
                                    has_top, has_left, has_left && has_top, has_top_right);
}

inline Intra16x16Neighbours intra16x16_neighbours(const Picture& picture, int mb_x, int mb_y) noexcept {
  return gather_intra16x16_neighbours(picture.at(16 * mb_x, 16 * mb_y), picture.stride(), mb_y > 0, mb_x > 0,
                                      mb_x > 0 && mb_y > 0);
}

/// predIntra4x4PredMode (§8.3.1.1) of block `index` of macroblock (mb_x, mb_y), given the infos of
/// the picture's macroblocks decoded so far and the current macroblock's modes of earlier blocks.
inline intra4x4_mode predicted_mode_of_block(std::span<const MacroblockInfo> infos, const Geometry& g, int mb_x,
                                             int mb_y, const std::array<intra4x4_mode, 16>& current,
                                             int index) noexcept {
  const int column = block4x4_column[index], row = block4x4_row[index];
  const auto mode_in = [&](int mx, int my, int c, int r) {
    const MacroblockInfo& info = infos[static_cast<std::size_t>(my) * g.mb_cols + mx];
    return info.type == mb_type::intra4x4 ? info.modes[block4x4_index(c, r)] : intra4x4_mode::dc;
  };
  bool has_left = true, has_top = true;
  intra4x4_mode left = intra4x4_mode::dc, top = intra4x4_mode::dc;
  if (column > 0) left = current[block4x4_index(column - 1, row)];
  else if (mb_x > 0) left = mode_in(mb_x - 1, mb_y, 3, row);
  else has_left = false;
  if (row > 0) top = current[block4x4_index(column, row - 1)];
  else if (mb_y > 0) top = mode_in(mb_x, mb_y - 1, column, 3);
  else has_top = false;
  return predicted_intra4x4_mode(has_left, left, has_top, top);
}

/// The 16×16 inter prediction of macroblock (mb_x, mb_y) from `reference` displaced by (mv_x,
/// mv_y) integer samples; samples outside the picture repeat its nearest edge sample (the
/// unrestricted motion vectors of §8.4.2.2.1).
inline void predict_inter16x16(const Picture& reference, int mb_x, int mb_y, int mv_x, int mv_y,
                               std::span<std::uint8_t, 256> prediction) noexcept {
  const int x0 = 16 * mb_x + mv_x, y0 = 16 * mb_y + mv_y;
  const int w = reference.geometry.padded_width(), h = reference.geometry.padded_height();
  if (x0 >= 0 && y0 >= 0 && x0 + 16 <= w && y0 + 16 <= h) {
    for (int y = 0; y < 16; ++y) std::copy_n(reference.at(x0, y0 + y), 16, prediction.data() + 16 * y);
    return;
  }
  for (int y = 0; y < 16; ++y) {
    const int sy = std::clamp(y0 + y, 0, h - 1);
    for (int x = 0; x < 16; ++x) prediction[16 * y + x] = *reference.at(std::clamp(x0 + x, 0, w - 1), sy);
  }
}

/// Reconstructs an Intra16×16 macroblock from its prediction (lane layout, predict_intra16x16_lanes):
/// the §8.5.10 DC path turns the DC levels (raster over the 4×4 grid of blocks) into each block's
/// dcY, then every block is reconstructed from its AC levels (lane layout, position 0 ignored) and
/// written to the picture. `scratch` receives the reconstructed samples in lane layout.
inline void reconstruct_intra16x16(Picture& picture, int mb_x, int mb_y, const MacroblockLanes& prediction,
                                   const MacroblockLanes& ac_levels, std::span<const std::int16_t, 16> dc_levels,
                                   int qp, MacroblockLanes& scratch) SMLM_NOEXCEPT {
  block4x4 f{}, dc{};
  inverse_hadamard_4x4(dc_levels, f);
  dequantize_dc_4x4(f, dc, qp);
  reconstruct_lanes(ac_levels, qp, dc.data(), prediction, scratch);
  store_lanes(scratch, picture.at(16 * mb_x, 16 * mb_y), picture.stride());
}

/// Predicts block `index` of an Intra4×4 macroblock with `mode` and adds its residual. `mode`
/// must be available for the block (the decoder checks before calling).
inline void reconstruct_intra4x4_block(Picture& picture, int mb_x, int mb_y, int index, intra4x4_mode mode,
                                       std::span<const std::int16_t, 16> levels, int qp) SMLM_NOEXCEPT {
  std::array<std::uint8_t, 16> prediction{};
  predict_intra4x4(mode, intra4x4_neighbours(picture, mb_x, mb_y, index), prediction);
  std::uint8_t* samples = picture.at(16 * mb_x + 4 * block4x4_column[index], 16 * mb_y + 4 * block4x4_row[index]);
  for (int y = 0; y < 4; ++y) std::copy_n(prediction.data() + 4 * y, 4, samples + y * picture.stride());
  reconstruct_4x4(levels, qp, nullptr, samples, picture.stride());
}

/// The 16×16 inter prediction (predict_inter16x16) in lane layout.
inline void predict_inter16x16_lanes(const Picture& reference, int mb_x, int mb_y, int mv_x, int mv_y,
                                     MacroblockLanes& prediction) noexcept {
  const int x0 = 16 * mb_x + mv_x, y0 = 16 * mb_y + mv_y;
  if (x0 >= 0 && y0 >= 0 && x0 + 16 <= reference.geometry.padded_width() && y0 + 16 <= reference.geometry.padded_height()) {
    load_lanes(reference.at(x0, y0), reference.stride(), prediction);
    return;
  }
  std::array<std::uint8_t, 256> raster;
  predict_inter16x16(reference, mb_x, mb_y, mv_x, mv_y, raster);
  load_lanes(raster.data(), 16, prediction);
}

/// Reconstructs an inter macroblock from its prediction (lane layout) and its levels (lane
/// layout; `coded_blocks` by luma4x4BlkIdx says which blocks have any) into the picture.
inline void reconstruct_inter(Picture& picture, int mb_x, int mb_y, const MacroblockLanes& prediction,
                              const MacroblockLanes& levels, std::uint16_t coded_blocks, int qp,
                              MacroblockLanes& scratch) SMLM_NOEXCEPT {
  std::uint8_t* mb = picture.at(16 * mb_x, 16 * mb_y);
  if (coded_blocks == 0) {
    store_lanes(prediction, mb, picture.stride());
    return;
  }
  reconstruct_lanes(levels, qp, nullptr, prediction, scratch);
  store_lanes(scratch, mb, picture.stride());
}

/// Reconstructs a skipped macroblock: the co-located 16×16 samples of `reference`.
inline void reconstruct_skip(Picture& picture, const Picture& reference, int mb_x, int mb_y) noexcept {
  for (int y = 0; y < 16; ++y) std::copy_n(reference.at(16 * mb_x, 16 * mb_y + y), 16, picture.at(16 * mb_x, 16 * mb_y + y));
}

/// Motion-vector prediction: the vector of the macroblock to the left when it is inter-coded
/// (skip counts as (0, 0)), else (0, 0). The bitstream carries the difference.
inline void predicted_motion_vector(std::span<const MacroblockInfo> infos, const Geometry& g, int mb_x, int mb_y,
                                    int& mv_x, int& mv_y) noexcept {
  mv_x = mv_y = 0;
  if (mb_x == 0) return;
  const MacroblockInfo& left = infos[static_cast<std::size_t>(mb_y) * g.mb_cols + mb_x - 1];
  if (left.type == mb_type::inter) {
    mv_x = left.mv_x;
    mv_y = left.mv_y;
  }
}

}  // namespace smlm::codec

// In-loop deblocking filter for luma, H.264 §8.7 (frame macroblocks, one slice, FilterOffsetA =
// FilterOffsetB = 0, 8-bit samples, no chroma).
//
// It runs after the whole picture is constructed (§8.7: intra prediction reads unfiltered
// samples), macroblock by macroblock in raster order; inside each macroblock the four vertical
// edges left to right, then the four horizontal edges top to bottom, each edge in four 4-sample
// segments. Edges on the picture border are not filtered. Each segment gets a boundary strength
// (§8.7.2.1, with integer-sample motion vectors and one reference picture):
//   bS = 4  macroblock edge, and p0 or q0 lies in an intra macroblock
//   bS = 3  internal edge of an intra macroblock
//   bS = 2  p0's or q0's 4×4 block has non-zero transform levels
//   bS = 1  the two blocks' motion vectors differ (by ≥ 4 quarter samples, i.e. any integer step)
//   bS = 0  otherwise: the segment is left alone
// Thresholds come from Table 8-16 (α′, β′) and Table 8-17 (t′C0) at indexA = indexB =
// qPav = (QP_p + QP_q + 1) >> 1; for 8-bit video α = α′, β = β′, tC0 = t′C0. The sample filters
// are §8.7.2.3 (bS < 4) and §8.7.2.4 (bS = 4).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <smlm/codec/block.hpp>
#include <smlm/codec/macroblock.hpp>

namespace smlm::codec {

/// α′(indexA), Table 8-16.
inline constexpr std::array<std::uint8_t, 52> deblock_alpha = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,   0,   0,   0,   4,   4,   5,   6,   7,   8,   9,   10,  12,  13,
    15, 17, 20, 22, 25, 28, 32, 36, 40, 45, 50, 56, 63, 71, 80, 90, 101, 113, 127, 144, 162, 182, 203, 226, 255, 255};
/// β′(indexB), Table 8-16.
inline constexpr std::array<std::uint8_t, 52> deblock_beta = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  0,  0,  0,  0,  2,  2,  2,  3,  3,  3,  3,  4,  4,  4,
    6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18};
/// t′C0(indexA, bS = 1, 2, 3), Table 8-17.
inline constexpr std::array<std::array<std::uint8_t, 3>, 52> deblock_tc0 = {{
    {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0},
    {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 1},
    {0, 0, 1}, {0, 0, 1}, {0, 0, 1}, {0, 1, 1}, {0, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1},
    {1, 1, 2}, {1, 1, 2}, {1, 1, 2}, {1, 1, 2}, {1, 2, 3}, {1, 2, 3}, {2, 2, 3}, {2, 2, 4}, {2, 3, 4},
    {2, 3, 4}, {3, 3, 5}, {3, 4, 6}, {3, 4, 6}, {4, 5, 7}, {4, 5, 8}, {4, 6, 9}, {5, 7, 10}, {6, 8, 11},
    {6, 8, 13}, {7, 10, 14}, {8, 11, 16}, {9, 12, 18}, {10, 13, 20}, {11, 15, 23}, {13, 17, 25},
}};

/// Filters one 4-sample segment of an edge. `q0` points at the first q0 sample; `across` is the
/// step from p0 to q0 (1 for a vertical edge, the stride for a horizontal one); `along` the step
/// to the next line of the segment. bS in 1..4; qp_av = qPav.
inline void deblock_segment_ref(std::uint8_t* q0, std::ptrdiff_t across, std::ptrdiff_t along, int bs,
                                int qp_av) SMLM_NOEXCEPT {
  SMLM_ASSERT(bs >= 1 && bs <= 4 && qp_av >= 0 && qp_av <= 51, "deblock_segment: bS in [1, 4], qPav in [0, 51]");
  const int alpha = deblock_alpha[qp_av], beta = deblock_beta[qp_av];
  if (alpha == 0 || beta == 0) return;
  for (int line = 0; line < 4; ++line) {
    std::uint8_t* s = q0 + line * along;
    const int p0 = s[-across], p1 = s[-2 * across], p2 = s[-3 * across];
    const int q0v = s[0], q1 = s[across], q2 = s[2 * across];
    if (!(std::abs(p0 - q0v) < alpha && std::abs(p1 - p0) < beta && std::abs(q1 - q0v) < beta)) continue;
    const int ap = std::abs(p2 - p0), aq = std::abs(q2 - q0v);
    if (bs < 4) {
      const int tc0 = deblock_tc0[qp_av][bs - 1];
      const int tc = tc0 + (ap < beta) + (aq < beta);
      int delta = (((q0v - p0) * 4) + (p1 - q1) + 4) >> 3;
      delta = delta < -tc ? -tc : (delta > tc ? tc : delta);
      s[-across] = clip_pixel(p0 + delta);
      s[0] = clip_pixel(q0v - delta);
      if (ap < beta) {
        int d = (p2 + ((p0 + q0v + 1) >> 1) - (p1 * 2)) >> 1;
        d = d < -tc0 ? -tc0 : (d > tc0 ? tc0 : d);
        s[-2 * across] = clip_pixel(p1 + d);
      }
      if (aq < beta) {
        int d = (q2 + ((p0 + q0v + 1) >> 1) - (q1 * 2)) >> 1;
        d = d < -tc0 ? -tc0 : (d > tc0 ? tc0 : d);
        s[across] = clip_pixel(q1 + d);
      }
    } else {
      const int p3 = s[-4 * across], q3 = s[3 * across];
      const bool small_step = std::abs(p0 - q0v) < ((alpha >> 2) + 2);
      if (ap < beta && small_step) {
        s[-across] = static_cast<std::uint8_t>((p2 + 2 * p1 + 2 * p0 + 2 * q0v + q1 + 4) >> 3);
        s[-2 * across] = static_cast<std::uint8_t>((p2 + p1 + p0 + q0v + 2) >> 2);
        s[-3 * across] = static_cast<std::uint8_t>((2 * p3 + 3 * p2 + p1 + p0 + q0v + 4) >> 3);
      } else {
        s[-across] = static_cast<std::uint8_t>((2 * p1 + p0 + q1 + 2) >> 2);
      }
      if (aq < beta && small_step) {
        s[0] = static_cast<std::uint8_t>((p1 + 2 * p0 + 2 * q0v + 2 * q1 + q2 + 4) >> 3);
        s[across] = static_cast<std::uint8_t>((p0 + q0v + q1 + q2 + 2) >> 2);
        s[2 * across] = static_cast<std::uint8_t>((2 * q3 + 3 * q2 + q1 + q0v + p0 + 4) >> 3);
      } else {
        s[0] = static_cast<std::uint8_t>((2 * q1 + q0v + p1 + 2) >> 2);
      }
    }
  }
}

/// Boundary strength between 4×4 block `p_index` of macroblock `p` and `q_index` of `q`.
constexpr int boundary_strength(const MacroblockInfo& p, int p_index, const MacroblockInfo& q, int q_index,
                                bool macroblock_edge) noexcept {
  if (is_intra(p.type) || is_intra(q.type)) return macroblock_edge ? 4 : 3;
  if ((p.coded_blocks >> p_index & 1) != 0 || (q.coded_blocks >> q_index & 1) != 0) return 2;
  return p.mv_x != q.mv_x || p.mv_y != q.mv_y ? 1 : 0;
}

/// Deblocks the whole picture in place, given the info of every macroblock (raster order).
inline void deblock_picture(Picture& picture, std::span<const MacroblockInfo> infos) SMLM_NOEXCEPT {
  const Geometry& g = picture.geometry;
  SMLM_ASSERT(infos.size() == g.mb_count(), "deblock_picture: one info per macroblock");
  const std::ptrdiff_t stride = picture.stride();
  for (int mb_y = 0; mb_y < g.mb_rows; ++mb_y)
    for (int mb_x = 0; mb_x < g.mb_cols; ++mb_x) {
      const MacroblockInfo& q = infos[static_cast<std::size_t>(mb_y) * g.mb_cols + mb_x];
      for (int edge = mb_x > 0 ? 0 : 1; edge < 4; ++edge) {  // vertical edges
        const MacroblockInfo& p = edge == 0 ? infos[static_cast<std::size_t>(mb_y) * g.mb_cols + mb_x - 1] : q;
        const int qp_av = (p.qp + q.qp + 1) >> 1;
        for (int row = 0; row < 4; ++row) {
          const int bs = boundary_strength(p, block4x4_index(edge == 0 ? 3 : edge - 1, row), q,
                                           block4x4_index(edge, row), edge == 0);
          if (bs > 0)
            deblock_segment_ref(picture.at(16 * mb_x + 4 * edge, 16 * mb_y + 4 * row), 1, stride, bs, qp_av);
        }
      }
      for (int edge = mb_y > 0 ? 0 : 1; edge < 4; ++edge) {  // horizontal edges
        const MacroblockInfo& p = edge == 0 ? infos[static_cast<std::size_t>(mb_y - 1) * g.mb_cols + mb_x] : q;
        const int qp_av = (p.qp + q.qp + 1) >> 1;
        for (int column = 0; column < 4; ++column) {
          const int bs = boundary_strength(p, block4x4_index(column, edge == 0 ? 3 : edge - 1), q,
                                           block4x4_index(column, edge), edge == 0);
          if (bs > 0)
            deblock_segment_ref(picture.at(16 * mb_x + 4 * column, 16 * mb_y + 4 * edge), stride, 1, bs, qp_av);
        }
      }
    }
}

}  // namespace smlm::codec

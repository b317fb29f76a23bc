// The frame encoder: I- and P-frames into the bitstream of stream.hpp.
//
// Mode decision (not normative; any choice decodes), kept cheap in the spirit of x264's fast
// presets:
//  - P-frames, first: early skip. When the zero-motion residual quantizes to all zeros (after
//    decimation, Settings::decimate) the macroblock is a skip, and nothing else is evaluated.
//  - Intra16×16: the available mode with the least SATD against the source (+ λ·mode bits).
//  - Intra4×4 (Settings::intra4x4): block by block in luma4x4BlkIdx order, the cheapest of four
//    candidates (the predicted mode, vertical, horizontal, DC, where available; all nine with
//    Settings::intra4x4_all_modes) by SATD +
//    λ·(1 bit if it is the predicted mode, else 4), predicted from the already reconstructed
//    neighbours; the macroblock is Intra4×4 when the sum plus a 6λ penalty beats Intra16×16
//    (the search stops as soon as the partial sum can no longer win). By default the six
//    diagonal modes are never chosen (the predicted mode is then never diagonal either); the
//    decoder accepts all nine.
//  - P-frames otherwise: integer motion search in ±search_range (full search, SAD + λ·mvd bits,
//    (0, 0) first), inter cost SATD + λ·mvd bits; intra is chosen when its cost is lower.
//  λ = 2^((QP − 12)/6), at least 1 (the SATD-domain λ of x264 and JM, rounded).
// Quantization: intra dead zone 1/3, inter 1/6 (quant.hpp). Residual of P-frames is taken against
// the previous *reconstructed* (and, with deblocking, filtered) frame, which is what the decoder has.
//
// Allocation: create() sizes every buffer; encode_frame() grows only the output vector
// (bit_writer::reserve once per macroblock).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include <smlm/codec/bitstream.hpp>
#include <smlm/codec/deblock.hpp>
#include <smlm/codec/intra.hpp>
#include <smlm/codec/macroblock.hpp>
#include <smlm/codec/macroblock_lanes.hpp>
#include <smlm/codec/quant.hpp>
#include <smlm/codec/sad.hpp>
#include <smlm/codec/scan.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/codec/stream.hpp>
#include <smlm/codec/transform.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>

namespace smlm::codec {

/// λ for mode decision in SATD units: round(2^((QP − 12)/6)), at least 1.
constexpr int mode_lambda(int qp) noexcept {
  constexpr std::array<int, 6> fraction = {256, 287, 323, 362, 406, 456};  // 256·2^(k/6)
  if (qp < 12) return 1;
  return std::max(1, ((fraction[(qp - 12) % 6] << ((qp - 12) / 6)) + 128) >> 8);
}

/// Decimation score of one inter block's levels in zig-zag order (x264's dct-decimate rule, after
/// the JM encoder's coefficient cost): 9 ("keep") if any |level| > 1; otherwise the sum over its
/// ±1 levels of t[zeros between the level and the previous non-zero one, or the block start],
/// t = (3, 2, 2, 1, 1, 1, 0, …): isolated late ±1s score nothing. The encoder drops an 8×8 quadrant
/// whose four blocks score < 4 together, and the whole residual when its blocks score < 6.
inline constexpr std::array<int, 16> decimation_run_score = {3, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
constexpr int inter_decimation_score(std::span<const std::int16_t, 16> scanned) noexcept {
  int score = 0, zeros = 0;
  for (const std::int16_t level : scanned) {
    if (level == 0) {
      ++zeros;
      continue;
    }
    if (level > 1 || level < -1) return 9;
    score += decimation_run_score[static_cast<std::size_t>(zeros)];
    zeros = 0;
  }
  return score;
}
/// inter_decimation_score from the block's non-zero mask in scan order (bit k: level k ≠ 0), for
/// a block whose levels are all within ±1.
constexpr int inter_decimation_score_of_mask(std::uint32_t mask) noexcept {
  int score = 0, next = 0;
  for (; mask != 0; mask &= mask - 1) {
    const int k = std::countr_zero(mask);
    score += decimation_run_score[static_cast<std::size_t>(k - next)];
    next = k + 1;
  }
  return score;
}
inline constexpr int decimate_quadrant_below = 4;
inline constexpr int decimate_macroblock_below = 6;

/// Bits of ue(v) and se(v).
constexpr int ue_bits(std::uint32_t v) noexcept { return 2 * (static_cast<int>(std::bit_width(v + 1)) - 1) + 1; }
constexpr int se_bits(int v) noexcept { return ue_bits(static_cast<std::uint32_t>(v > 0 ? 2 * v - 1 : -2 * v)); }

class Encoder {
 public:
  /// An encoder for `frame_count` frames (0: not known) of width × height 8-bit samples.
  static Expected<Encoder> create(const Settings& settings, int width, int height, std::uint32_t frame_count = 0) {
    SMLM_TRY(settings.validate());
    if (width < 1 || height < 1 || width > stream_max_dimension || height > stream_max_dimension)
      return make_error(errc::invalid_argument, "codec: frame size ", width, "x", height, " is not in [1, ",
                        stream_max_dimension, "]^2");
    Encoder e;
    e.settings_ = settings;
    e.qp_ = settings.effective_qp();
    e.header_.width = width;
    e.header_.height = height;
    e.header_.frame_count = frame_count;
    e.header_.gop = settings.gop;
    e.header_.qp = e.qp_;
    e.header_.deblock = settings.deblock;
    e.header_.intra_only = settings.intra_only || settings.gop == 1;
    e.header_.grid_dx = settings.grid_dx;
    e.header_.grid_dy = settings.grid_dy;
    e.header_.search_range = settings.search_range;
    const Geometry g = Geometry::of(width, height, settings.grid_dx, settings.grid_dy);
    e.source_.allocate(g);
    e.current_.allocate(g);
    e.reference_.allocate(g);
    e.infos_.assign(g.mb_count(), MacroblockInfo{});
    return e;
  }

  /// Starts a new stream on this encoder (same size and settings): the next frame is frame 0,
  /// an I-frame, and the block grid is offset by (grid_dx, grid_dy), each in 0..15 (out of range
  /// is a precondition violation). The planes keep their storage; they grow only for a geometry
  /// with more macroblocks than any before (one more row or column at most).
  void restart(int grid_dx, int grid_dy) SMLM_NOEXCEPT {
    SMLM_ASSERT(grid_dx >= 0 && grid_dx <= grid_offset_max && grid_dy >= 0 && grid_dy <= grid_offset_max,
                "Encoder::restart: grid offsets must be in 0..15");
    settings_.grid_dx = header_.grid_dx = grid_dx;
    settings_.grid_dy = header_.grid_dy = grid_dy;
    const Geometry g = Geometry::of(header_.width, header_.height, grid_dx, grid_dy);
    source_.allocate(g);
    current_.allocate(g);
    reference_.allocate(g);
    infos_.assign(g.mb_count(), MacroblockInfo{});
    index_ = 0;
  }

  const StreamHeader& header() const noexcept { return header_; }
  const Geometry& geometry() const noexcept { return source_.geometry; }
  int qp() const noexcept { return qp_; }

  /// Appends the stream header to `out`.
  void write_header(std::vector<std::uint8_t>& out) const {
    auto w = bit_writer::appending_to(out);
    w.reserve(64);
    write_stream_header(header_, w);
    w.finish();
  }

  /// Encodes the next frame (height × width as created) and appends its bytes to `out`; returns
  /// the number of bytes appended.
  std::size_t encode_frame(const ConstImageView<std::uint8_t>& frame, std::vector<std::uint8_t>& out) {
    const Geometry& g = geometry();
    SMLM_ASSERT(frame.rows() == g.height && frame.cols() == g.width, "Encoder::encode_frame: frame size differs");
    source_.load(frame);
    const bool intra = settings_.is_intra_frame(index_);
    auto w = bit_writer::appending_to(out);
    w.reserve(16);
    w.put_ue(intra ? 0u : 1u);
    w.put_se(0);  // frame_qp − qp
    lambda_ = mode_lambda(qp_);
    for (int mb_y = 0; mb_y < g.mb_rows; ++mb_y)
      for (int mb_x = 0; mb_x < g.mb_cols; ++mb_x) {
        w.reserve(4096);
        encode_macroblock(w, mb_x, mb_y, intra);
      }
    w.reserve(8);
    w.put_trailing_bits();
    const std::size_t bytes = w.finish();
    if (header_.deblock) deblock_picture(current_, infos_);
    std::swap(current_, reference_);  // the reconstruction becomes the next frame's reference
    ++index_;
    return bytes;
  }

  /// The reconstruction of the last encoded frame, cropped (what the decoder outputs).
  void reconstruction(ImageView<std::uint8_t> out) const noexcept { reference_.store(out); }
  const Picture& reconstructed_picture() const noexcept { return reference_; }

 private:
  Encoder() = default;

  MacroblockInfo& info(int mb_x, int mb_y) noexcept {
    return infos_[static_cast<std::size_t>(mb_y) * geometry().mb_cols + mb_x];
  }

  /// Σ over the sixteen 4×4 blocks of SAD(source block, prediction block) of the macroblock
  /// against a 16×16 prediction (row stride 16): the motion search's cost.
  int sad_16x16(int mb_x, int mb_y, const std::uint8_t* prediction) const noexcept {
    int sum = 0;
    for (int by = 0; by < 4; ++by)
      for (int bx = 0; bx < 4; ++bx)
        sum += sad_4x4(source_.at(16 * mb_x + 4 * bx, 16 * mb_y + 4 * by), source_.stride(), prediction + 64 * by + 4 * bx,
                       std::ptrdiff_t{16});
    return sum;
  }

  /// Residual of block `index` of the macroblock against `prediction` (stride `pstride`),
  /// transformed (the Intra4×4 trial).
  void transform_block(int mb_x, int mb_y, int index, const std::uint8_t* prediction, std::ptrdiff_t pstride,
                       block4x4& coefficients) const noexcept {
    forward_4x4_of_difference(source_.at(16 * mb_x + 4 * block4x4_column[index], 16 * mb_y + 4 * block4x4_row[index]),
                              source_.stride(), prediction, pstride, coefficients);
  }

  /// Transforms and quantizes (inter dead zone) the residual of the macroblock against
  /// `prediction` into levels_; returns the coded-block mask by luma4x4BlkIdx.
  /// With Settings::decimate the blocks that inter_decimation_score drops are zeroed in levels_
  /// and left out of the mask. masks_ holds the scan masks of the kept blocks (for encode_inter).
  std::uint16_t inter_levels(const MacroblockLanes& prediction) noexcept {
    std::array<std::int16_t, 16> unused{};
    const std::uint16_t coded = lane_mask_to_blocks(
        forward_quantize_lanes(source_lanes_, prediction, qp_, quant_mode::inter, false, levels_, unused));
    if (coded == 0) return 0;
    const std::uint16_t large = scan_masks_lanes(levels_, masks_);  // by lane
    return settings_.decimate ? decimate(coded, large) : coded;
  }

  /// The decimation of inter_decimation_score on the coded blocks of levels_, given their scan
  /// masks in masks_ and the lanes holding a level with |level| > 1.
  std::uint16_t decimate(std::uint16_t coded, std::uint16_t large) noexcept {
    std::uint16_t kept = coded;
    int total = 0;
    for (int q = 0; q < 4; ++q) {
      auto quadrant = static_cast<unsigned>(coded >> (4 * q)) & 0xFu;
      if (quadrant == 0) continue;
      int score = 0;
      for (; quadrant != 0; quadrant &= quadrant - 1) {
        const int lane = block_lanes[static_cast<std::size_t>(4 * q + std::countr_zero(quadrant))];
        score += (large >> lane & 1) != 0 ? 9 : inter_decimation_score_of_mask(masks_[static_cast<std::size_t>(lane)]);
      }
      total += score;
      if (score < decimate_quadrant_below) kept = static_cast<std::uint16_t>(kept & ~(0xFu << (4 * q)));
    }
    if (total < decimate_macroblock_below) kept = 0;
    for (auto removed = static_cast<unsigned>(coded & ~kept); removed != 0; removed &= removed - 1) {
      const int lane = block_lanes[static_cast<std::size_t>(std::countr_zero(removed))];
      for (int p = 0; p < 16; ++p) levels_.at(p, lane) = 0;
    }
    return kept;
  }

  void encode_macroblock(bit_writer& w, int mb_x, int mb_y, bool intra_frame) {
    load_lanes(source_.at(16 * mb_x, 16 * mb_y), source_.stride(), source_lanes_);
    std::uint16_t zero_motion_coded = 0;
    if (!intra_frame) {
      // Early skip (as x264 does): when the zero-motion residual quantizes to nothing, the
      // macroblock is a skip whatever intra or a motion search would offer.
      predict_inter16x16_lanes(reference_, mb_x, mb_y, 0, 0, inter_prediction_);
      zero_motion_coded = inter_levels(inter_prediction_);
      if (zero_motion_coded == 0) {
        encode_inter(w, mb_x, mb_y, 0, 0, 0);
        return;
      }
    }
    // Intra16×16 candidate: the best prediction ends in intra_prediction_[best_slot].
    const Intra16x16Neighbours n16 = intra16x16_neighbours(current_, mb_x, mb_y);
    intra16x16_mode best16 = intra16x16_mode::dc;
    int cost16 = -1, best_slot = 0;
    for (int m = 0; m < intra16x16_mode_count; ++m) {
      const auto mode = static_cast<intra16x16_mode>(m);
      if (!intra16x16_mode_available(mode, n16)) continue;
      MacroblockLanes& candidate = intra_prediction_[static_cast<std::size_t>(1 - best_slot)];
      predict_intra16x16_lanes(mode, n16, candidate);
      const int cost = satd_lanes(source_lanes_, candidate) + lambda_ * ue_bits(static_cast<std::uint32_t>(m));
      if (cost16 < 0 || cost < cost16) {
        cost16 = cost;
        best16 = mode;
        best_slot = 1 - best_slot;
      }
    }

    if (!intra_frame) {
      int mv_x = 0, mv_y = 0;
      const int inter_cost = motion_search(mb_x, mb_y, mv_x, mv_y);
      if (inter_cost <= cost16) {
        // levels_ still hold the zero-motion residual's levels unless the vector moved.
        const std::uint16_t coded = mv_x == 0 && mv_y == 0 ? zero_motion_coded : inter_levels(inter_prediction_);
        encode_inter(w, mb_x, mb_y, mv_x, mv_y, coded);
        return;
      }
    }
    if (settings_.intra4x4) {
      const int cost4 = try_intra4x4(mb_x, mb_y, cost16 - 6 * lambda_);
      if (cost4 + 6 * lambda_ < cost16) {
        write_intra4x4(w, mb_x, mb_y, intra_frame);
        return;
      }
    }
    encode_intra16x16(w, mb_x, mb_y, best16, intra_prediction_[static_cast<std::size_t>(best_slot)], intra_frame);
  }

  /// Full search over ±search_range (SAD); returns SATD + λ·mvd bits at the best vector and
  /// leaves its prediction in inter_prediction_ (which holds the zero-motion prediction on entry).
  int motion_search(int mb_x, int mb_y, int& mv_x, int& mv_y) {
    int pred_x = 0, pred_y = 0;
    predicted_motion_vector(infos_, geometry(), mb_x, mb_y, pred_x, pred_y);
    const int range = settings_.search_range;
    mv_x = mv_y = 0;
    if (range > 0) {
      std::array<std::uint8_t, 256> prediction;
      int best = -1;
      for (int dy = -range; dy <= range; ++dy)
        for (int dx = -range; dx <= range; ++dx) {
          predict_inter16x16(reference_, mb_x, mb_y, dx, dy, prediction);
          const int cost = sad_16x16(mb_x, mb_y, prediction.data()) +
                           lambda_ * (se_bits(dx - pred_x) + se_bits(dy - pred_y)) + (dx == 0 && dy == 0 ? -lambda_ : 0);
          if (best < 0 || cost < best) {
            best = cost;
            mv_x = dx;
            mv_y = dy;
          }
        }
      if (mv_x != 0 || mv_y != 0) predict_inter16x16_lanes(reference_, mb_x, mb_y, mv_x, mv_y, inter_prediction_);
    }
    return satd_lanes(source_lanes_, inter_prediction_) + lambda_ * (se_bits(mv_x - pred_x) + se_bits(mv_y - pred_y));
  }

  /// coded_block_pattern and the run–level blocks of its 8×8 quadrants; `block(k)` writes block k
  /// (luma4x4BlkIdx) when it has levels. A block outside `coded_blocks` is all zero, which
  /// run–level codes as ue(0).
  template <class Block>
  static void write_blocks(bit_writer& w, std::uint16_t coded_blocks, Block block) {
    int cbp = 0;
    for (int q = 0; q < 4; ++q) cbp |= ((coded_blocks >> (4 * q)) & 0xF) != 0 ? 1 << q : 0;
    w.put_ue(static_cast<std::uint32_t>(cbp));
    for (int k = 0; k < 16; ++k) {
      if ((cbp >> (k / 4) & 1) == 0) continue;
      if ((coded_blocks >> k & 1) == 0) {
        w.put_ue(0);
        continue;
      }
      block(k);
    }
  }

  /// Writes an inter (or, at zero motion without levels, skip) macroblock whose prediction is
  /// inter_prediction_ and whose levels are levels_ (`coded` by luma4x4BlkIdx, scan masks in masks_,
  /// both from the last inter_levels), and reconstructs it.
  void encode_inter(bit_writer& w, int mb_x, int mb_y, int mv_x, int mv_y, std::uint16_t coded) {
    MacroblockInfo& mb = info(mb_x, mb_y);
    mb = MacroblockInfo{};
    mb.qp = static_cast<std::uint8_t>(qp_);
    mb.modes.fill(intra4x4_mode::dc);
    if (coded == 0 && mv_x == 0 && mv_y == 0) {
      mb.type = mb_type::skip;
      w.put_ue(0);
      reconstruct_skip(current_, reference_, mb_x, mb_y);
      return;
    }
    int pred_x = 0, pred_y = 0;
    predicted_motion_vector(infos_, geometry(), mb_x, mb_y, pred_x, pred_y);
    mb.type = mb_type::inter;
    mb.mv_x = static_cast<std::int8_t>(mv_x);
    mb.mv_y = static_cast<std::int8_t>(mv_y);
    mb.coded_blocks = coded;
    w.put_ue(1);
    w.put_se(0);  // mb_qp_delta
    w.put_se(mv_x - pred_x);
    w.put_se(mv_y - pred_y);
    write_blocks(w, coded, [&](int k) {  // masks_ from inter_levels
      const int lane = lane_of_block(k);
      write_run_level_masked(w, 16, masks_[static_cast<std::size_t>(lane)], [&](int s) {
        return static_cast<std::int16_t>(levels_.at(zigzag_4x4[static_cast<std::size_t>(s)], lane));
      });
    });
    reconstruct_inter(current_, mb_x, mb_y, inter_prediction_, levels_, coded, qp_, reconstruction_);
  }

  void encode_intra16x16(bit_writer& w, int mb_x, int mb_y, intra16x16_mode mode, const MacroblockLanes& prediction,
                         bool intra_frame) {
    std::array<std::int16_t, 16> dc{};
    const std::uint16_t ac_lanes =
        forward_quantize_lanes(source_lanes_, prediction, qp_, quant_mode::intra, true, levels_, dc);
    block4x4 hadamard{}, dc_levels{};
    forward_hadamard_4x4(dc, hadamard);
    quantize_dc_4x4(hadamard, dc_levels, qp_, quant_mode::intra);

    const bool ac_coded = ac_lanes != 0;
    w.put_ue(intra_frame ? 0u : 2u);
    w.put_se(0);
    w.put_ue(static_cast<std::uint32_t>(mode));
    w.put_bit(ac_coded);
    block4x4 scanned{};
    zigzag_scan_4x4(dc_levels, scanned);
    write_run_level(w, scanned);
    MacroblockInfo& mb = info(mb_x, mb_y);
    mb = MacroblockInfo{};
    mb.type = mb_type::intra16x16;
    mb.qp = static_cast<std::uint8_t>(qp_);
    mb.modes.fill(intra4x4_mode::dc);
    mb.coded_blocks = lane_mask_to_blocks(ac_lanes);
    if (ac_coded) scan_masks_lanes(levels_, masks_);
    if (ac_coded)
      for (int k = 0; k < 16; ++k) {
        if ((mb.coded_blocks >> k & 1) == 0) {
          w.put_ue(0);  // an all-zero block of 15 AC levels
          continue;
        }
        const int lane = lane_of_block(k);  // AC: scan positions 1..15
        write_run_level_masked(w, 15, masks_[static_cast<std::size_t>(lane)] >> 1u, [&](int s) {
          return static_cast<std::int16_t>(levels_.at(zigzag_4x4[static_cast<std::size_t>(s + 1)], lane));
        });
      }
    reconstruct_intra16x16(current_, mb_x, mb_y, prediction, levels_, dc_levels, qp_, reconstruction_);
  }

  /// Chooses, quantizes and reconstructs every 4×4 block of an Intra4×4 macroblock into the
  /// current picture (kept in i4_modes_/i4_levels_ for write_intra4x4); returns the summed cost.
  /// Stops early, returning a partial sum ≥ `bound`, once the sum reaches `bound`: costs are
  /// non-negative, so Intra4×4 can no longer win (the caller then rewrites the whole macroblock).
  int try_intra4x4(int mb_x, int mb_y, int bound) {
    int total = 0;
    for (int k = 0; k < 16 && total < bound; ++k) {
      const Intra4x4Neighbours n = intra4x4_neighbours(current_, mb_x, mb_y, k);
      const intra4x4_mode predicted = predicted_mode_of_block(infos_, geometry(), mb_x, mb_y, i4_modes_, k);
      const std::uint8_t* source = source_.at(16 * mb_x + 4 * block4x4_column[k], 16 * mb_y + 4 * block4x4_row[k]);
      // Candidates (x264's fast-preset idea): the predicted mode, then vertical, horizontal, DC;
      // with intra4x4_all_modes the predicted mode, then all nine.
      const std::array<intra4x4_mode, 4> fast = {predicted, intra4x4_mode::vertical, intra4x4_mode::horizontal,
                                                 intra4x4_mode::dc};
      const int candidate_count = settings_.intra4x4_all_modes ? 1 + intra4x4_mode_count : 4;
      std::array<std::array<std::uint8_t, 16>, 2> predictions;
      int best = -1, best_slot = 0;
      for (int c = 0; c < candidate_count; ++c) {
        const intra4x4_mode mode = settings_.intra4x4_all_modes && c > 0 ? static_cast<intra4x4_mode>(c - 1)
                                                                         : fast[static_cast<std::size_t>(c)];
        if ((c > 0 && mode == predicted) || !intra4x4_mode_available(mode, n)) continue;
        auto& prediction = predictions[static_cast<std::size_t>(1 - best_slot)];
        predict_intra4x4(mode, n, prediction);
        const int cost = satd_4x4(source, source_.stride(), prediction.data(), 4) + lambda_ * (mode == predicted ? 1 : 4);
        if (best < 0 || cost < best) {
          best = cost;
          i4_modes_[k] = mode;
          best_slot = 1 - best_slot;
        }
      }
      const auto& best_prediction = predictions[static_cast<std::size_t>(best_slot)];
      total += best;
      block4x4 coefficients{};
      transform_block(mb_x, mb_y, k, best_prediction.data(), 4, coefficients);
      quantize_4x4(coefficients, i4_levels_[k], qp_, quant_mode::intra);
      reconstruct_intra4x4_block(current_, mb_x, mb_y, k, i4_modes_[k], i4_levels_[k], qp_);
    }
    return total;
  }

  void write_intra4x4(bit_writer& w, int mb_x, int mb_y, bool intra_frame) {
    w.put_ue(intra_frame ? 1u : 3u);
    w.put_se(0);
    std::array<intra4x4_mode, 16> so_far{};
    for (int k = 0; k < 16; ++k) {
      const intra4x4_mode predicted = predicted_mode_of_block(infos_, geometry(), mb_x, mb_y, so_far, k);
      const int mode = static_cast<int>(i4_modes_[k]);
      const int pred = static_cast<int>(predicted);
      if (mode == pred) {
        w.put_bit(true);
      } else {
        w.put_bit(false);
        w.put_bits(static_cast<std::uint32_t>(mode < pred ? mode : mode - 1), 3);
      }
      so_far[k] = i4_modes_[k];
    }
    std::uint16_t coded = 0;
    for (int k = 0; k < 16; ++k)
      for (const std::int16_t v : i4_levels_[k])
        if (v != 0) coded |= static_cast<std::uint16_t>(1u << k);
    write_blocks(w, coded, [&](int k) {
      block4x4 scanned{};
      zigzag_scan_4x4(i4_levels_[static_cast<std::size_t>(k)], scanned);
      write_run_level(w, scanned);
    });
    MacroblockInfo& mb = info(mb_x, mb_y);
    mb = MacroblockInfo{};
    mb.type = mb_type::intra4x4;
    mb.qp = static_cast<std::uint8_t>(qp_);
    mb.modes = i4_modes_;
    mb.coded_blocks = coded;
  }

  Settings settings_;
  StreamHeader header_;
  int qp_ = 26;
  int lambda_ = 1;
  std::int64_t index_ = 0;
  Picture source_, current_, reference_;
  std::vector<MacroblockInfo> infos_;
  std::array<intra4x4_mode, 16> i4_modes_{};
  std::array<block4x4, 16> i4_levels_{};
  // Lane-layout working set of the current macroblock (macroblock_lanes.hpp).
  MacroblockLanes source_lanes_, inter_prediction_, levels_, reconstruction_;
  std::array<MacroblockLanes, 2> intra_prediction_{};
  std::array<std::uint16_t, 16> masks_{};  // scan_masks_lanes of levels_, by lane
};

}  // namespace smlm::codec

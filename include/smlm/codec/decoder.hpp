// The frame decoder for the bitstream of stream.hpp.
//
// Every syntax element is range-checked before use, every read is bounds-checked (bit_reader),
// and a failure returns a Status that names the frame, the macroblock, the byte, the field and its
// value. After an error the decoder's reference picture is whatever was constructed so far;
// callers normally stop at the first error. No input makes it read outside the span it is given,
// allocate after construction (except for an error message), or loop without consuming bits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <smlm/codec/bitstream.hpp>
#include <smlm/codec/deblock.hpp>
#include <smlm/codec/intra.hpp>
#include <smlm/codec/macroblock.hpp>
#include <smlm/codec/macroblock_lanes.hpp>
#include <smlm/codec/scan.hpp>
#include <smlm/codec/stream.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>

namespace smlm::codec {

class Decoder {
 public:
  /// A decoder for the stream whose header is `header` (read_stream_header).
  explicit Decoder(const StreamHeader& header) : header_(header) {
    const Geometry g = Geometry::of(header.width, header.height, header.grid_dx, header.grid_dy);
    current_.allocate(g);
    reference_.allocate(g);
    infos_.assign(g.mb_count(), MacroblockInfo{});
  }

  const StreamHeader& header() const noexcept { return header_; }
  const Geometry& geometry() const noexcept { return current_.geometry; }
  std::int64_t frames_decoded() const noexcept { return index_; }
  /// Side information of the last decoded frame's macroblocks, in raster order.
  std::span<const MacroblockInfo> macroblock_infos() const noexcept { return infos_; }

  /// Decodes the frame that starts at `data[0]` into `out` (height × width). Returns the number of
  /// bytes the frame took. `stream_offset` is only used in messages (the byte of data[0] in the
  /// whole stream).
  Expected<std::size_t> decode_frame(std::span<const std::uint8_t> data, ImageView<std::uint8_t> out,
                                     std::size_t stream_offset = 0) {
    SMLM_ASSERT(out.rows() == header_.height && out.cols() == header_.width, "Decoder::decode_frame: output size differs");
    bit_reader r(data);
    mb_x_ = mb_y_ = -1;
    offset_ = stream_offset;
    const std::uint32_t frame_type = r.get_ue();
    if (!r.ok()) return fail(r, "frame_type", 0);
    if (frame_type > 1) return fail(r, "frame_type", frame_type, " is not 0 (I) or 1 (P)");
    const bool intra = frame_type == 0;
    if (!intra && index_ == 0) return fail(r, "frame_type", frame_type, ": a P-frame needs an earlier frame");
    if (!intra && header_.intra_only) return fail(r, "frame_type", frame_type, ": the stream is intra-only");
    const std::int32_t qp_delta = r.get_se();
    if (!r.ok()) return fail(r, "frame_qp_delta", 0);
    const std::int64_t frame_qp = std::int64_t{header_.qp} + qp_delta;
    if (frame_qp < qp_min || frame_qp > qp_max) return fail(r, "frame_qp_delta", qp_delta, ": frame QP not in [0, 51]");
    int qp = static_cast<int>(frame_qp);
    const Geometry& g = geometry();
    for (mb_y_ = 0; mb_y_ < g.mb_rows; ++mb_y_)
      for (mb_x_ = 0; mb_x_ < g.mb_cols; ++mb_x_)
        if (Status s = decode_macroblock(r, intra, qp); !s.ok()) return s;
    mb_x_ = mb_y_ = -1;
    const std::size_t trailing = r.bit_position();
    if (!r.get_bit()) return fail(r, "rbsp_stop_one_bit", 0, r.ok() ? " is not 1" : "");
    while (!r.byte_aligned())
      if (r.get_bit()) return fail(r, "rbsp_alignment_zero_bit", 1, str_cat(" (bit ", trailing, ")"));
    if (header_.deblock) deblock_picture(current_, infos_);
    current_.store(out);
    std::swap(current_, reference_);
    ++index_;
    return r.bit_position() / 8;
  }

 private:
  /// The error for `field` = `value` at the reader's position; `detail` says what is wrong (when
  /// empty, the reader's own error: truncation, overlong code, range).
  Status fail(const bit_reader& r, const char* field, std::int64_t value, const std::string& detail = {}) const {
    std::string where = str_cat("codec stream: frame ", index_, mb_x_ >= 0 ? str_cat(", macroblock (", mb_x_, ", ", mb_y_, ")") : std::string{},
                                ", byte ", offset_ + r.bit_position() / 8, ": ");
    if (!r.ok()) return make_error(errc::format_error, where, field, ": ", to_string(r.error()));
    return make_error(errc::format_error, where, field, " ", value, detail);
  }

  /// Reads coded_block_pattern and the run–level blocks it announces; `put(k)` gives the sink
  /// read_run_level_into fills with the levels of block k (luma4x4BlkIdx), by scan position. Bit k
  /// of `coded` says block k has non-zero levels. The caller zeroes its levels beforehand.
  template <class Put>
  Status read_blocks(bit_reader& r, std::uint16_t& coded, Put put) {
    const std::uint32_t cbp = r.get_ue();
    if (!r.ok()) return fail(r, "coded_block_pattern", 0);
    if (cbp > 15) return fail(r, "coded_block_pattern", cbp, " is not in [0, 15]");
    coded = 0;
    for (int k = 0; k < 16; ++k) {
      if ((cbp >> (k / 4) & 1) == 0) continue;
      const int nonzero = read_run_level_into(r, 16, put(k));
      if (nonzero < 0) return fail(r, "residual_block", k);
      if (nonzero > 0) coded |= static_cast<std::uint16_t>(1u << k);
    }
    return {};
  }

  /// The sink that puts the levels of block k, scan position s + `first`, into levels_ (lane layout).
  auto lanes_put(int k, int first = 0) {
    return [this, lane = lane_of_block(k), first](int s, std::int16_t level) {
      levels_.at(zigzag_4x4[static_cast<std::size_t>(s + first)], lane) = level;
    };
  }

  Status decode_macroblock(bit_reader& r, bool intra_frame, int& qp) {
    const Geometry& g = geometry();
    MacroblockInfo& mb = infos_[static_cast<std::size_t>(mb_y_) * g.mb_cols + mb_x_];
    mb = MacroblockInfo{};
    mb.modes.fill(intra4x4_mode::dc);
    const std::uint32_t code = r.get_ue();
    if (!r.ok()) return fail(r, "mb_type", 0);
    if (code > (intra_frame ? 1u : 3u)) return fail(r, "mb_type", code, intra_frame ? " is not in [0, 1]" : " is not in [0, 3]");
    const mb_type type = intra_frame ? (code == 0 ? mb_type::intra16x16 : mb_type::intra4x4)
                                     : std::array{mb_type::skip, mb_type::inter, mb_type::intra16x16, mb_type::intra4x4}[code];
    mb.type = type;
    if (type == mb_type::skip) {
      mb.qp = static_cast<std::uint8_t>(qp);
      reconstruct_skip(current_, reference_, mb_x_, mb_y_);
      return {};
    }
    const std::int32_t delta = r.get_se();
    if (!r.ok()) return fail(r, "mb_qp_delta", 0);
    if (std::int64_t{qp} + delta < qp_min || std::int64_t{qp} + delta > qp_max)
      return fail(r, "mb_qp_delta", delta, str_cat(": QP ", std::int64_t{qp} + delta, " not in [0, 51]"));
    qp += delta;
    mb.qp = static_cast<std::uint8_t>(qp);

    if (type == mb_type::inter) {
      int pred_x = 0, pred_y = 0;
      predicted_motion_vector(infos_, g, mb_x_, mb_y_, pred_x, pred_y);
      const std::int32_t dx = r.get_se();
      const std::int32_t dy = r.get_se();
      if (!r.ok()) return fail(r, "mvd", 0);
      const std::int64_t mv_x = std::int64_t{pred_x} + dx, mv_y = std::int64_t{pred_y} + dy;
      const int range = header_.search_range;
      if (mv_x < -range || mv_x > range) return fail(r, "mv_x", mv_x, str_cat(" is not in [", -range, ", ", range, "]"));
      if (mv_y < -range || mv_y > range) return fail(r, "mv_y", mv_y, str_cat(" is not in [", -range, ", ", range, "]"));
      levels_.v.fill(0);
      SMLM_TRY(read_blocks(r, mb.coded_blocks, [this](int k) { return lanes_put(k); }));
      mb.mv_x = static_cast<std::int8_t>(mv_x);
      mb.mv_y = static_cast<std::int8_t>(mv_y);
      predict_inter16x16_lanes(reference_, mb_x_, mb_y_, static_cast<int>(mv_x), static_cast<int>(mv_y), prediction_);
      reconstruct_inter(current_, mb_x_, mb_y_, prediction_, levels_, mb.coded_blocks, qp, reconstruction_);
      return {};
    }

    if (type == mb_type::intra16x16) {
      const std::uint32_t mode = r.get_ue();
      if (!r.ok()) return fail(r, "intra16x16_pred_mode", 0);
      if (mode > 3) return fail(r, "intra16x16_pred_mode", mode, " is not in [0, 3]");
      const auto m = static_cast<intra16x16_mode>(mode);
      if (!intra16x16_mode_available(m, intra16x16_neighbours(current_, mb_x_, mb_y_)))
        return fail(r, "intra16x16_pred_mode", mode, ": needs neighbours outside the picture");
      const bool ac_coded = r.get_bit();
      block4x4 scanned{}, dc_levels{};
      if (read_run_level(r, scanned) < 0) return fail(r, "intra16x16_dc_levels", 0);
      zigzag_unscan_4x4(scanned, dc_levels);
      levels_.v.fill(0);
      if (ac_coded)
        for (int k = 0; k < 16; ++k) {
          const int nonzero = read_run_level_into(r, 15, lanes_put(k, 1));  // AC: scan positions 1..15
          if (nonzero < 0) return fail(r, "intra16x16_ac_levels", k);
          if (nonzero > 0) mb.coded_blocks |= static_cast<std::uint16_t>(1u << k);
        }
      predict_intra16x16_lanes(m, intra16x16_neighbours(current_, mb_x_, mb_y_), prediction_);
      reconstruct_intra16x16(current_, mb_x_, mb_y_, prediction_, levels_, dc_levels, qp, reconstruction_);
      return {};
    }

    // Intra4×4
    std::array<intra4x4_mode, 16> modes{};
    for (int k = 0; k < 16; ++k) {
      const int predicted = static_cast<int>(predicted_mode_of_block(infos_, g, mb_x_, mb_y_, modes, k));
      const bool use_predicted = r.get_bit();
      int mode = predicted;
      if (!use_predicted) {
        const int rem = static_cast<int>(r.get_bits(3));
        mode = rem < predicted ? rem : rem + 1;
      }
      if (!r.ok()) return fail(r, "intra4x4_pred_mode", k);
      modes[k] = static_cast<intra4x4_mode>(mode);
    }
    for (auto& levels : i4_levels_) levels.fill(0);
    SMLM_TRY(read_blocks(r, mb.coded_blocks, [this](int k) {
      return [&block = i4_levels_[static_cast<std::size_t>(k)]](int s, std::int16_t level) {
        block[zigzag_4x4[static_cast<std::size_t>(s)]] = level;
      };
    }));
    for (int k = 0; k < 16; ++k) {
      if (!intra4x4_mode_available(modes[k], intra4x4_neighbours(current_, mb_x_, mb_y_, k)))
        return fail(r, "intra4x4_pred_mode", static_cast<int>(modes[k]),
                    str_cat(" of block ", k, ": needs neighbours outside the picture"));
      reconstruct_intra4x4_block(current_, mb_x_, mb_y_, k, modes[k], i4_levels_[static_cast<std::size_t>(k)], qp);
    }
    mb.modes = modes;
    return {};
  }

  StreamHeader header_;
  Picture current_, reference_;
  std::vector<MacroblockInfo> infos_;
  std::array<block4x4, 16> i4_levels_{};  // Intra4×4 levels by luma4x4BlkIdx
  MacroblockLanes levels_, prediction_, reconstruction_;  // Intra16×16 and inter, lane layout
  std::int64_t index_ = 0;
  int mb_x_ = -1, mb_y_ = -1;
  std::size_t offset_ = 0;
};

}  // namespace smlm::codec

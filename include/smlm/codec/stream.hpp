// The smlmkit video bitstream: stream header, frame and macroblock syntax. docs/codec.md has the
// full description; the syntax, in the notation of H.264 §7.2 (u(n) fixed bits MSB first, ue/se
// Exp-Golomb, bitstream.hpp), is:
//
// stream_header (byte-aligned, at the start):
//   u(32) magic = 0x534D4C56 ("SMLV")   u(8) version = 1
//   ue width (1..8192)   ue height (1..8192)   ue frame_count (0..2^31−2; 0 = not known)
//   ue gop (1..65535)    ue qp (0..51)
//   u(1) deblock   u(1) intra_only   ue grid_dx (0..15)   ue grid_dy (0..15)
//   ue search_range (0..32): the largest |motion-vector component| a P-frame may use
//   rbsp_trailing_bits
// frame (byte-aligned; frames follow each other):
//   ue frame_type (0 = I, 1 = P; P needs an earlier frame and intra_only = 0)
//   se frame_qp − qp (frame QP in 0..51)
//   macroblock × mb_cols·mb_rows in raster order
//   rbsp_trailing_bits
// macroblock:
//   ue mb_type   I-frame: 0 Intra16×16, 1 Intra4×4;  P-frame: 0 skip, 1 inter, 2 Intra16×16, 3 Intra4×4
//   (skip: nothing follows; motion (0, 0), no residual, QP unchanged)
//   se mb_qp_delta (QP = previous macroblock's QP + delta, in 0..51; the first takes frame_qp)
//   Intra16×16: ue mode (0..3)  u(1) ac_coded  run_level(16) DC levels (zig-zag over the 4×4 block
//               grid)  [ac_coded: 16 × run_level(15) AC levels, scan positions 1..15, blocks in
//               luma4x4BlkIdx order]
//   Intra4×4:   16 × { u(1) prev_intra4x4_pred_mode_flag  [0: u(3) rem_intra4x4_pred_mode] }
//               (§7.4.5.1 / §8.3.1.1), ue coded_block_pattern (0..15, bit q: 8×8 quadrant q has
//               levels), then run_level(16) for each block of each coded quadrant
//   inter:      se mvd_x  se mvd_y (motion − prediction, predicted_motion_vector), ue
//               coded_block_pattern, run_level(16) blocks as for Intra4×4
//   run_level(n) is bitstream.hpp's block format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include <smlm/codec/bitstream.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/core/status.hpp>

namespace smlm::codec {

inline constexpr std::uint32_t stream_magic = 0x534D4C56u;  // "SMLV"
inline constexpr int stream_version = 1;
inline constexpr int stream_max_dimension = 8192;

struct StreamHeader {
  int width = 0, height = 0;
  std::uint32_t frame_count = 0;  ///< 0: not known when the header was written
  int gop = 1;
  int qp = 26;
  bool deblock = false;
  bool intra_only = false;
  int grid_dx = 0, grid_dy = 0;
  int search_range = 0;
  std::size_t size_bytes = 0;  ///< bytes the header takes (set by read_stream_header)
};

inline void write_stream_header(const StreamHeader& h, bit_writer& w) SMLM_NOEXCEPT {
  w.put_bits(stream_magic, 32);
  w.put_bits(static_cast<std::uint32_t>(stream_version), 8);
  w.put_ue(static_cast<std::uint32_t>(h.width));
  w.put_ue(static_cast<std::uint32_t>(h.height));
  w.put_ue(h.frame_count);
  w.put_ue(static_cast<std::uint32_t>(h.gop));
  w.put_ue(static_cast<std::uint32_t>(h.qp));
  w.put_bit(h.deblock);
  w.put_bit(h.intra_only);
  w.put_ue(static_cast<std::uint32_t>(h.grid_dx));
  w.put_ue(static_cast<std::uint32_t>(h.grid_dy));
  w.put_ue(static_cast<std::uint32_t>(h.search_range));
  w.put_trailing_bits();
}

/// Parses and checks the stream header at the start of `data`. Errors name the byte, the field
/// and its value.
inline Expected<StreamHeader> read_stream_header(std::span<const std::uint8_t> data) {
  bit_reader r(data);
  StreamHeader h;
  const auto where = [&] { return str_cat("codec stream: header byte ", r.bit_position() / 8, ": "); };
  const auto truncated = [&](const char* field) {
    return make_error(errc::format_error, where(), field, ": ", to_string(r.error()));
  };
  const std::uint32_t magic = r.get_bits(32);
  if (!r.ok()) return truncated("magic");
  if (magic != stream_magic)
    return make_error(errc::format_error, "codec stream: header byte 0: magic 0x", std::hex, magic, std::dec,
                      " is not 0x534D4C56 (\"SMLV\")");
  const std::uint32_t version = r.get_bits(8);
  if (!r.ok()) return truncated("version");
  if (version != static_cast<std::uint32_t>(stream_version))
    return make_error(errc::unsupported, "codec stream: header byte 4: version ", version, " is not ", stream_version);
  const auto field = [&](const char* name, std::uint32_t low, std::uint32_t high, auto& out) -> Status {
    const std::size_t byte = r.bit_position() / 8;
    const std::uint32_t v = r.get_ue();
    if (!r.ok()) return truncated(name);
    if (v < low || v > high)
      return make_error(errc::format_error, "codec stream: header byte ", byte, ": ", name, " ", v, " is not in [", low,
                        ", ", high, "]");
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
    return {};
  };
  SMLM_TRY(field("width", 1, stream_max_dimension, h.width));
  SMLM_TRY(field("height", 1, stream_max_dimension, h.height));
  SMLM_TRY(field("frame_count", 0, 0x7FFFFFFEu, h.frame_count));
  SMLM_TRY(field("gop", 1, 65535, h.gop));
  SMLM_TRY(field("qp", qp_min, qp_max, h.qp));
  h.deblock = r.get_bit();
  h.intra_only = r.get_bit();
  if (!r.ok()) return truncated("flags");
  SMLM_TRY(field("grid_dx", 0, grid_offset_max, h.grid_dx));
  SMLM_TRY(field("grid_dy", 0, grid_offset_max, h.grid_dy));
  SMLM_TRY(field("search_range", 0, search_range_max, h.search_range));
  const std::size_t trailing_byte = r.bit_position() / 8;
  if (!r.get_bit()) {
    if (!r.ok()) return truncated("rbsp_trailing_bits");
    return make_error(errc::format_error, "codec stream: header byte ", trailing_byte,
                      ": rbsp_stop_one_bit is 0");
  }
  while (!r.byte_aligned())
    if (r.get_bit())
      return make_error(errc::format_error, "codec stream: header byte ", trailing_byte,
                        ": rbsp_alignment_zero_bit is 1");
  h.size_bytes = r.bit_position() / 8;
  return h;
}

}  // namespace smlm::codec

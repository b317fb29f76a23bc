// Whole-macroblock kernels: the sixteen 4×4 blocks of a 16×16 macroblock side by side, one lane
// per block, so every per-block step (residual, core transform, quantization, scaling, inverse
// transform, SATD) is the same lane-wise arithmetic on sixteen positions, with no transposes.
//
// Layout (MacroblockLanes): v[16·p + l] holds raster position p = 4·i + j (row i, column j, as in
// block.hpp) of the block in block-row by, block-column bx of the macroblock, lane l = 4·by + bx
// (raster order over blocks, the order of the Intra16×16 DC matrix; luma4x4BlkIdx k is lane
// raster_index(block4x4_row[k], block4x4_column[k])). Values are int32; samples are 0…255.
//
// Each kernel has a `_ref` twin written with the 4×4 references of transform.hpp / quant.hpp /
// sad.hpp, block by block: the definition of behaviour. The `_simd` versions run the same int32
// formulas on xsimd batches of lanes (16 / wide::size batches per position), and bit for bit equal
// their references (tests/codec/macroblock_lanes_test.cpp). Moving samples between the picture and
// the lane layout (load_lanes / store_lanes) is a byte transpose; its fast version uses SSSE3/SSE4.1
// shuffles (xsimd 8 has no byte shuffle), with the scalar loop elsewhere.
//
// The kernels write only their outputs, allocate nothing and never fail.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <smlm/codec/block.hpp>
#include <smlm/codec/intra.hpp>
#include <smlm/codec/quant.hpp>
#include <smlm/codec/sad.hpp>
#include <smlm/codec/scan.hpp>
#include <smlm/codec/transform.hpp>
#include <smlm/core/config.hpp>

#if !defined(SMLM_NO_SIMD) && defined(__SSE4_1__)
#include <immintrin.h>
#define SMLM_CODEC_LANES_SHUFFLE 1
#else
#define SMLM_CODEC_LANES_SHUFFLE 0
#endif

namespace smlm::codec {

/// Sixteen 4×4 blocks of a macroblock in lane layout (see the file comment).
struct MacroblockLanes {
  alignas(64) std::array<std::int32_t, 256> v{};

  std::int32_t* position(int p) noexcept { return v.data() + 16 * p; }
  const std::int32_t* position(int p) const noexcept { return v.data() + 16 * p; }
  std::int32_t& at(int p, int lane) noexcept { return v[static_cast<std::size_t>(16 * p + lane)]; }
  std::int32_t at(int p, int lane) const noexcept { return v[static_cast<std::size_t>(16 * p + lane)]; }
};

/// Lane of the block with luma4x4BlkIdx `k`.
constexpr int lane_of_block(int k) noexcept { return raster_index(block4x4_row[k], block4x4_column[k]); }
/// lane_of_block as a table, for run-time indices.
inline constexpr std::array<std::uint8_t, 16> block_lanes = [] {
  std::array<std::uint8_t, 16> lanes{};
  for (int k = 0; k < 16; ++k) lanes[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(lane_of_block(k));
  return lanes;
}();

/// A mask over lanes (bit l) as a mask over luma4x4BlkIdx (bit k).
constexpr std::uint16_t lane_mask_to_blocks(std::uint16_t lanes) noexcept {
  std::uint16_t blocks = 0;
  for (int k = 0; k < 16; ++k)
    if ((lanes >> lane_of_block(k) & 1) != 0) blocks = static_cast<std::uint16_t>(blocks | 1u << k);
  return blocks;
}

/// Block `lane` as a raster int16 block, and back.
inline void get_block(const MacroblockLanes& m, int lane, std::span<std::int16_t, 16> block) noexcept {
  for (int p = 0; p < 16; ++p) block[p] = static_cast<std::int16_t>(m.at(p, lane));
}
inline void set_block(MacroblockLanes& m, int lane, std::span<const std::int16_t, 16> block) noexcept {
  for (int p = 0; p < 16; ++p) m.at(p, lane) = block[p];
}

/// Block `lane` in zig-zag scan order (scan.hpp): scanned[k] = block[zigzag_4x4[k]].
inline void scan_lane(const MacroblockLanes& m, int lane, std::span<std::int16_t, 16> scanned) noexcept {
  for (int k = 0; k < 16; ++k) scanned[k] = static_cast<std::int16_t>(m.at(zigzag_4x4[static_cast<std::size_t>(k)], lane));
}

// ---------------------------------------------------------------------------------------------
// Picture ↔ lanes

/// Reads the 16×16 samples at `mb` (row stride `stride`) into lane layout.
inline void load_lanes_ref(const std::uint8_t* mb, std::ptrdiff_t stride, MacroblockLanes& out) noexcept {
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) out.at(raster_index(y % 4, x % 4), raster_index(y / 4, x / 4)) = mb[y * stride + x];
}

/// Writes lane-layout samples (each in [0, 255]) to the 16×16 samples at `mb`.
inline void store_lanes_ref(const MacroblockLanes& in, std::uint8_t* mb, std::ptrdiff_t stride) noexcept {
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      mb[y * stride + x] = static_cast<std::uint8_t>(in.at(raster_index(y % 4, x % 4), raster_index(y / 4, x / 4)));
}

#if SMLM_CODEC_LANES_SHUFFLE
namespace detail {
/// Byte k of a 16-sample row goes to byte 4·(k % 4) + k / 4: the four samples of each block column
/// j (x = j, j + 4, j + 8, j + 12) become dword j. It is its own inverse.
inline __m128i lanes_row_shuffle() noexcept { return _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15); }

/// 4×4 transpose of dwords: out[a].dword(b) = in[b].dword(a).
inline void transpose_dwords(__m128i (&r)[4]) noexcept {
  const __m128i t0 = _mm_unpacklo_epi32(r[0], r[1]), t1 = _mm_unpackhi_epi32(r[0], r[1]);
  const __m128i t2 = _mm_unpacklo_epi32(r[2], r[3]), t3 = _mm_unpackhi_epi32(r[2], r[3]);
  r[0] = _mm_unpacklo_epi64(t0, t2);
  r[1] = _mm_unpackhi_epi64(t0, t2);
  r[2] = _mm_unpacklo_epi64(t1, t3);
  r[3] = _mm_unpackhi_epi64(t1, t3);
}
}  // namespace detail

/// load_lanes_ref by shuffles: for each in-block row i, the four macroblock rows 4·by + i are
/// regrouped by block column (lanes_row_shuffle) and dword-transposed, which leaves position
/// (i, j) of all sixteen blocks as sixteen bytes in lane order; they are then widened to int32.
inline void load_lanes_simd(const std::uint8_t* mb, std::ptrdiff_t stride, MacroblockLanes& out) noexcept {
  const __m128i shuffle = detail::lanes_row_shuffle();
  for (int i = 0; i < 4; ++i) {
    __m128i r[4];
    for (int by = 0; by < 4; ++by)
      r[by] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mb + (4 * by + i) * stride)), shuffle);
    detail::transpose_dwords(r);
    for (int j = 0; j < 4; ++j) {
      std::int32_t* dst = out.position(raster_index(i, j));
#if defined(__AVX512F__)
      _mm512_store_si512(dst, _mm512_cvtepu8_epi32(r[j]));
#else
      _mm_store_si128(reinterpret_cast<__m128i*>(dst), _mm_cvtepu8_epi32(r[j]));
      _mm_store_si128(reinterpret_cast<__m128i*>(dst + 4), _mm_cvtepu8_epi32(_mm_srli_si128(r[j], 4)));
      _mm_store_si128(reinterpret_cast<__m128i*>(dst + 8), _mm_cvtepu8_epi32(_mm_srli_si128(r[j], 8)));
      _mm_store_si128(reinterpret_cast<__m128i*>(dst + 12), _mm_cvtepu8_epi32(_mm_srli_si128(r[j], 12)));
#endif
    }
  }
}

/// store_lanes_ref by the inverse steps: narrow each position to bytes, dword-transpose,
/// shuffle back (the shuffle and the transpose are their own inverses).
inline void store_lanes_simd(const MacroblockLanes& in, std::uint8_t* mb, std::ptrdiff_t stride) noexcept {
  const __m128i shuffle = detail::lanes_row_shuffle();
  for (int i = 0; i < 4; ++i) {
    __m128i r[4];
    for (int j = 0; j < 4; ++j) {
      const std::int32_t* src = in.position(raster_index(i, j));
#if defined(__AVX512F__)
      r[j] = _mm512_cvtepi32_epi8(_mm512_load_si512(src));
#else
      const auto q = [&](int o) { return _mm_load_si128(reinterpret_cast<const __m128i*>(src + o)); };
      r[j] = _mm_packus_epi16(_mm_packus_epi32(q(0), q(4)), _mm_packus_epi32(q(8), q(12)));
#endif
    }
    detail::transpose_dwords(r);
    for (int by = 0; by < 4; ++by)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(mb + (4 * by + i) * stride), _mm_shuffle_epi8(r[by], shuffle));
  }
}
#define SMLM_CODEC_LANES_MOVE(name) name##_simd
#else
#define SMLM_CODEC_LANES_MOVE(name) name##_ref
#endif

inline void load_lanes(const std::uint8_t* mb, std::ptrdiff_t stride, MacroblockLanes& out) noexcept {
  SMLM_CODEC_LANES_MOVE(load_lanes)(mb, stride, out);
}
inline void store_lanes(const MacroblockLanes& in, std::uint8_t* mb, std::ptrdiff_t stride) noexcept {
  SMLM_CODEC_LANES_MOVE(store_lanes)(in, mb, stride);
}
#undef SMLM_CODEC_LANES_MOVE

// ---------------------------------------------------------------------------------------------
// References: block by block with the 4×4 kernels.

namespace detail {
/// Lane `lane` of a and b as two 4×4 blocks of 8-bit samples (raster, stride 4).
inline void lane_samples(const MacroblockLanes& a, const MacroblockLanes& b, int lane, std::array<std::uint8_t, 16>& sa,
                         std::array<std::uint8_t, 16>& sb) noexcept {
  for (int p = 0; p < 16; ++p) {
    sa[static_cast<std::size_t>(p)] = static_cast<std::uint8_t>(a.at(p, lane));
    sb[static_cast<std::size_t>(p)] = static_cast<std::uint8_t>(b.at(p, lane));
  }
}
}  // namespace detail

namespace detail {
/// Σ over the sixteen blocks of cost(source block, prediction block) for a 4×4 cost of sad.hpp.
template <class Cost>
inline int sum_over_blocks(const MacroblockLanes& source, const MacroblockLanes& prediction, Cost cost) noexcept {
  int sum = 0;
  for (int l = 0; l < 16; ++l) {
    std::array<std::uint8_t, 16> s{}, q{};
    detail::lane_samples(source, prediction, l, s, q);
    sum += cost(s.data(), std::ptrdiff_t{4}, q.data(), std::ptrdiff_t{4});
  }
  return sum;
}
}  // namespace detail

/// Σ over the sixteen blocks of satd_4x4_ref(source, prediction).
inline int satd_lanes_ref(const MacroblockLanes& source, const MacroblockLanes& prediction) noexcept {
  return detail::sum_over_blocks(source, prediction, satd_4x4_ref);
}

/// Σ over the sixteen blocks of sad_4x4_ref(source, prediction).
inline int sad_lanes_ref(const MacroblockLanes& source, const MacroblockLanes& prediction) noexcept {
  return detail::sum_over_blocks(source, prediction, sad_4x4_ref);
}

/// Residual source − prediction of every block, forward_4x4_ref, quantize_4x4_ref with `mode`
/// into `levels`. With `split_dc` (Intra16×16) position 0 is not coded: its coefficient goes to
/// dc[lane] (the Hadamard path's input) and its level is 0. Returns the lane mask of blocks with
/// non-zero levels.
inline std::uint16_t forward_quantize_lanes_ref(const MacroblockLanes& source, const MacroblockLanes& prediction, int qp,
                                                quant_mode mode, bool split_dc, MacroblockLanes& levels,
                                                std::span<std::int16_t, 16> dc) SMLM_NOEXCEPT {
  std::uint16_t mask = 0;
  for (int l = 0; l < 16; ++l) {
    std::array<std::uint8_t, 16> s{}, q{};
    detail::lane_samples(source, prediction, l, s, q);
    block4x4 coefficients{}, quantized{};
    forward_4x4_of_difference_ref(s.data(), 4, q.data(), 4, coefficients);
    quantize_4x4_ref(coefficients, quantized, qp, mode);
    if (split_dc) {
      dc[static_cast<std::size_t>(l)] = coefficients[0];
      quantized[0] = 0;
    }
    bool any = false;
    for (const std::int16_t v : quantized) any |= v != 0;
    if (any) mask = static_cast<std::uint16_t>(mask | 1u << l);
    set_block(levels, l, quantized);
  }
  return mask;
}

/// Reconstruction of every block (§8.5.12, §8.5.14): dequantize_4x4_ref of its levels, d_00 set to
/// dc[lane] when `dc` is given (Intra16×16, the dcY of dequantize_dc_4x4), inverse_4x4_ref, added
/// to the prediction with Clip1. A block without levels (and dcY 0) is its prediction.
inline void reconstruct_lanes_ref(const MacroblockLanes& levels, int qp, const std::int16_t* dc,
                                  const MacroblockLanes& prediction, MacroblockLanes& out) SMLM_NOEXCEPT {
  for (int l = 0; l < 16; ++l) {
    block4x4 c{}, d{}, r{};
    get_block(levels, l, c);
    dequantize_4x4_ref(c, d, qp);
    if (dc != nullptr) d[0] = dc[l];
    inverse_4x4_ref(d, r);
    for (int p = 0; p < 16; ++p) out.at(p, l) = clip_pixel(prediction.at(p, l) + r[static_cast<std::size_t>(p)]);
  }
}

/// Per block, which levels are non-zero in zig-zag scan order: bit k of masks[lane] is set when
/// the level at scan position k (raster zigzag_4x4[k]) is non-zero. Returns the lane mask of
/// blocks holding a level with |level| > 1.
inline std::uint16_t scan_masks_lanes_ref(const MacroblockLanes& levels, std::span<std::uint16_t, 16> masks) noexcept {
  std::uint16_t large = 0;
  for (int l = 0; l < 16; ++l) {
    block4x4 scanned{};
    scan_lane(levels, l, scanned);
    std::uint16_t mask = 0;
    for (int k = 0; k < 16; ++k) {
      if (scanned[static_cast<std::size_t>(k)] != 0) mask = static_cast<std::uint16_t>(mask | 1u << k);
      if (std::abs(int{scanned[static_cast<std::size_t>(k)]}) > 1) large = static_cast<std::uint16_t>(large | 1u << l);
    }
    masks[static_cast<std::size_t>(l)] = mask;
  }
  return large;
}

#if !defined(SMLM_NO_SIMD)
namespace detail {
inline constexpr int lane_batches = 16 / static_cast<int>(wide::size);

/// The sixteen positions of `lanes` for the lane batch starting at lane l0.
inline void load_positions(const MacroblockLanes& m, int l0, wide (&x)[16]) noexcept {
  for (int p = 0; p < 16; ++p) x[p] = wide::load_aligned(m.position(p) + l0);
}
inline void load_difference(const MacroblockLanes& a, const MacroblockLanes& b, int l0, wide (&x)[16]) noexcept {
  for (int p = 0; p < 16; ++p) x[p] = wide::load_aligned(a.position(p) + l0) - wide::load_aligned(b.position(p) + l0);
}
/// The butterfly along each row, then along each column, of the blocks held by x (lane-wise).
template <class Butterfly>
inline void lanes_rows_then_columns(wide (&x)[16], Butterfly butterfly) noexcept {
  for (int i = 0; i < 4; ++i) butterfly(x[4 * i], x[4 * i + 1], x[4 * i + 2], x[4 * i + 3]);
  for (int j = 0; j < 4; ++j) butterfly(x[j], x[4 + j], x[8 + j], x[12 + j]);
}
/// Bit l0 + t of the result: lane t of `any` is non-zero.
inline std::uint16_t lane_bits(const wide& any, int l0) noexcept {
  alignas(64) std::int32_t v[wide::size];
  any.store_aligned(v);
  std::uint16_t mask = 0;
  for (int t = 0; t < static_cast<int>(wide::size); ++t)
    if (v[t] != 0) mask = static_cast<std::uint16_t>(mask | 1u << (l0 + t));
  return mask;
}
}  // namespace detail

inline int satd_lanes_simd(const MacroblockLanes& source, const MacroblockLanes& prediction) noexcept {
  using detail::wide;
  int sum = 0;
  for (int l0 = 0; l0 < 16; l0 += static_cast<int>(wide::size)) {
    wide x[16];
    detail::load_difference(source, prediction, l0, x);
    detail::lanes_rows_then_columns(x, detail::hadamard_rows{});
    wide total = xsimd::abs(x[0]);
    for (int p = 1; p < 16; ++p) total += xsimd::abs(x[p]);
    sum += xsimd::hadd(total >> 1);  // the halving is per block, as in satd_4x4
  }
  return sum;
}

inline int sad_lanes_simd(const MacroblockLanes& source, const MacroblockLanes& prediction) noexcept {
  using detail::wide;
  wide total(0);
  for (int l0 = 0; l0 < 16; l0 += static_cast<int>(wide::size)) {
    wide x[16];
    detail::load_difference(source, prediction, l0, x);
    for (int p = 0; p < 16; ++p) total += xsimd::abs(x[p]);
  }
  return xsimd::hadd(total);
}

inline std::uint16_t forward_quantize_lanes_simd(const MacroblockLanes& source, const MacroblockLanes& prediction,
                                                 int qp, quant_mode mode, bool split_dc, MacroblockLanes& levels,
                                                 std::span<std::int16_t, 16> dc) SMLM_NOEXCEPT {
  using detail::wide;
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "forward_quantize_lanes: QP must be in [0, 51]");
  const auto& mf = quant_mf_4x4[qp % 6];
  const int shift = quant_shift(qp);
  const wide offset(quant_offset(qp, mode));
  std::uint16_t mask = 0;
  for (int l0 = 0; l0 < 16; l0 += static_cast<int>(wide::size)) {
    wide x[16];
    detail::load_difference(source, prediction, l0, x);
    detail::lanes_rows_then_columns(x, detail::forward_rows{});
    wide any(0);
    for (int p = 0; p < 16; ++p) {
      const wide magnitude = (xsimd::abs(x[p]) * wide(mf[static_cast<std::size_t>(p)]) + offset) >> shift;
      wide level = xsimd::select(x[p] < wide(0), -magnitude, magnitude);
      if (p == 0 && split_dc) {
        alignas(64) std::int32_t coefficient[wide::size];
        x[0].store_aligned(coefficient);
        for (int t = 0; t < static_cast<int>(wide::size); ++t)
          dc[static_cast<std::size_t>(l0 + t)] = static_cast<std::int16_t>(coefficient[t]);
        level = wide(0);
      }
      level.store_aligned(levels.position(p) + l0);
      any |= level;
    }
    mask = static_cast<std::uint16_t>(mask | detail::lane_bits(any, l0));
  }
  return mask;
}

inline void reconstruct_lanes_simd(const MacroblockLanes& levels, int qp, const std::int16_t* dc,
                                   const MacroblockLanes& prediction, MacroblockLanes& out) SMLM_NOEXCEPT {
  using detail::wide;
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "reconstruct_lanes: QP must be in [0, 51]");
  const auto& scale = level_scale_4x4[qp % 6];
  const int qp_per = qp / 6;
  const bool up = qp >= 24;
  const int up_shift = up ? qp_per - 4 : 0, down_shift = up ? 0 : 4 - qp_per;
  const wide round(up ? 0 : std::int32_t{1} << (3 - qp_per));
  for (int l0 = 0; l0 < 16; l0 += static_cast<int>(wide::size)) {
    wide x[16];
    for (int p = 0; p < 16; ++p) {
      const wide product = wide::load_aligned(levels.position(p) + l0) * wide(scale[static_cast<std::size_t>(p)]);
      const wide d = up ? product << up_shift : (product + round) >> down_shift;
      x[p] = xsimd::min(xsimd::max(d, wide(-32768)), wide(32767));
    }
    if (dc != nullptr) {
      alignas(64) std::int32_t d00[wide::size];
      for (int t = 0; t < static_cast<int>(wide::size); ++t) d00[t] = dc[l0 + t];
      x[0] = wide::load_aligned(d00);
    }
    detail::lanes_rows_then_columns(x, detail::inverse_rows{});
    for (int p = 0; p < 16; ++p) {
      const wide sample = wide::load_aligned(prediction.position(p) + l0) + ((x[p] + wide(32)) >> 6);
      xsimd::min(xsimd::max(sample, wide(0)), wide(255)).store_aligned(out.position(p) + l0);
    }
  }
}
inline std::uint16_t scan_masks_lanes_simd(const MacroblockLanes& levels, std::span<std::uint16_t, 16> masks) noexcept {
  using detail::wide;
  std::uint16_t large = 0;
  for (int l0 = 0; l0 < 16; l0 += static_cast<int>(wide::size)) {
    wide mask(0), big(0);
    for (int k = 0; k < 16; ++k) {
      const wide level = wide::load_aligned(levels.position(zigzag_4x4[static_cast<std::size_t>(k)]) + l0);
      mask |= xsimd::select(level != wide(0), wide(1 << k), wide(0));
      big |= xsimd::select(xsimd::abs(level) > wide(1), wide(1), wide(0));
    }
    alignas(64) std::int32_t m[wide::size];
    mask.store_aligned(m);
    for (int t = 0; t < static_cast<int>(wide::size); ++t) masks[static_cast<std::size_t>(l0 + t)] = static_cast<std::uint16_t>(m[t]);
    large = static_cast<std::uint16_t>(large | detail::lane_bits(big, l0));
  }
  return large;
}
#define SMLM_CODEC_LANES_SIMD(name) name##_simd
#else
#define SMLM_CODEC_LANES_SIMD(name) name##_ref
#endif

/// What the codec calls: the SIMD version where it is built, else the reference.
inline int satd_lanes(const MacroblockLanes& source, const MacroblockLanes& prediction) noexcept {
  return SMLM_CODEC_LANES_SIMD(satd_lanes)(source, prediction);
}
inline int sad_lanes(const MacroblockLanes& source, const MacroblockLanes& prediction) noexcept {
  return SMLM_CODEC_LANES_SIMD(sad_lanes)(source, prediction);
}
inline std::uint16_t forward_quantize_lanes(const MacroblockLanes& source, const MacroblockLanes& prediction, int qp,
                                            quant_mode mode, bool split_dc, MacroblockLanes& levels,
                                            std::span<std::int16_t, 16> dc) SMLM_NOEXCEPT {
  return SMLM_CODEC_LANES_SIMD(forward_quantize_lanes)(source, prediction, qp, mode, split_dc, levels, dc);
}
inline void reconstruct_lanes(const MacroblockLanes& levels, int qp, const std::int16_t* dc,
                              const MacroblockLanes& prediction, MacroblockLanes& out) SMLM_NOEXCEPT {
  SMLM_CODEC_LANES_SIMD(reconstruct_lanes)(levels, qp, dc, prediction, out);
}
inline std::uint16_t scan_masks_lanes(const MacroblockLanes& levels, std::span<std::uint16_t, 16> masks) noexcept {
  return SMLM_CODEC_LANES_SIMD(scan_masks_lanes)(levels, masks);
}
#undef SMLM_CODEC_LANES_SIMD

/// Intra16×16 prediction in lane layout (predict_intra16x16, then load_lanes).
inline void predict_intra16x16_lanes(intra16x16_mode mode, const Intra16x16Neighbours& n,
                                     MacroblockLanes& out) SMLM_NOEXCEPT {
  std::array<std::uint8_t, 256> raster;
  predict_intra16x16(mode, n, raster);
  load_lanes(raster.data(), 16, out);
}

}  // namespace smlm::codec

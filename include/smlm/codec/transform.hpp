// The H.264 4×4 integer transforms: the core transform and its inverse, and the 4×4 Hadamard
// transform of the sixteen luma DC coefficients of an Intra16×16 macroblock.
//
// Blocks are in the raster layout of block.hpp (index 4·i + j, i row, j column). Every kernel is
// written as the standard describes it: one 1-D butterfly applied to each row (horizontal pass),
// then to each column of the result (vertical pass), with int32 intermediates. Input and output
// may be the same block (each kernel copies its input first).
//
// The forward transforms are encoder-side and not normative; they follow the JM reference encoder
// (lencod block.c) and Malvar et al., "Low-complexity transform and quantization in H.264/AVC",
// IEEE TCSVT 13(7), 2003. The inverse transforms are normative (clause numbers from ITU-T H.264).
//
// Bit widths (8-bit video; g = (4, 6, 4, 6) are the absolute row sums of Cf):
//   forward_4x4           residual |x| ≤ 255 (9-bit signed) → |Y_ij| ≤ 255·g_i·g_j ≤ 9180 (15 bits
//                         signed). Exact for |x| ≤ 910; beyond, the int16 result wraps modulo 2^16
//                         (defined in C++20). Only +, − and ×2 are used, so int16 SIMD lanes give the
//                         same wrapped result.
//   inverse_4x4           any int16 input; intermediates ≤ 3.5²·2^15 < 2^19 in int32, output
//                         |r| ≤ 6272. Conforming streams keep d (§8.5.12.1) and every intermediate
//                         (§8.5.12.2) within 16 bits, where int16 arithmetic gives the same result;
//                         for other inputs a SIMD version must widen to match.
//   forward_hadamard_4x4  DC inputs |w| ≤ 16·255 = 4080 → |H·W·H| ≤ 65280 (17 bits: needs int32)
//                         → after the /2, ≤ 32640. Exact for |w| ≤ 4095; beyond, the int16 result
//                         wraps modulo 2^16. The sums before the /2 need 17 bits, so a SIMD version
//                         needs 32-bit lanes (or an equivalent) at least for the second pass.
//   inverse_hadamard_4x4  any int16 level; |H·c·H| ≤ 2^19 in int32, saturated to int16 on output.
//                         Conforming streams keep f within 16 bits (§8.5.10), so saturation never
//                         acts on them; it only makes non-conforming input well defined.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <smlm/codec/block.hpp>

#if !defined(SMLM_NO_SIMD)
#include <smlm/codec/detail/simd.hpp>
#endif

namespace smlm::codec {

namespace detail {

using block4x4_i32 = std::array<std::int32_t, 16>;

inline block4x4_i32 widen(std::span<const std::int16_t, 16> block) noexcept {
  block4x4_i32 out{};
  for (int k = 0; k < 16; ++k) out[k] = block[k];
  return out;
}

/// Applies the 1-D butterfly `f(a0, a1, a2, a3) → (b0, b1, b2, b3)` to every row, then to every
/// column of the result: the horizontal-then-vertical order of §8.5.12.2.
template <class Butterfly>
inline void rows_then_columns(block4x4_i32& m, Butterfly butterfly) noexcept {
  for (int i = 0; i < 4; ++i)
    butterfly(m[raster_index(i, 0)], m[raster_index(i, 1)], m[raster_index(i, 2)], m[raster_index(i, 3)]);
  for (int j = 0; j < 4; ++j)
    butterfly(m[raster_index(0, j)], m[raster_index(1, j)], m[raster_index(2, j)], m[raster_index(3, j)]);
}

/// One row of Cf = [1 1 1 1; 2 1 −1 −2; 1 −1 −1 1; 1 −2 2 −1] applied to (x0..x3).
inline void forward_butterfly(std::int32_t& x0, std::int32_t& x1, std::int32_t& x2, std::int32_t& x3) noexcept {
  const std::int32_t s03 = x0 + x3, d03 = x0 - x3;
  const std::int32_t s12 = x1 + x2, d12 = x1 - x2;
  x0 = s03 + s12;
  x1 = 2 * d03 + d12;
  x2 = s03 - s12;
  x3 = d03 - 2 * d12;
}

/// §8.5.12.2, one row (or column): e0 = d0 + d2, e1 = d0 − d2, e2 = (d1 >> 1) − d3,
/// e3 = d1 + (d3 >> 1); f = (e0 + e3, e1 + e2, e1 − e2, e0 − e3). `>>` is arithmetic (floor).
inline void inverse_butterfly(std::int32_t& d0, std::int32_t& d1, std::int32_t& d2, std::int32_t& d3) noexcept {
  const std::int32_t e0 = d0 + d2, e1 = d0 - d2;
  const std::int32_t e2 = (d1 >> 1) - d3, e3 = d1 + (d3 >> 1);
  d0 = e0 + e3;
  d1 = e1 + e2;
  d2 = e1 - e2;
  d3 = e0 - e3;
}

/// One row of the 4×4 Hadamard matrix H = [1 1 1 1; 1 1 −1 −1; 1 −1 −1 1; 1 −1 1 −1] of §8.5.10
/// (symmetric, H·H = 4·I), applied to (x0..x3).
inline void hadamard_butterfly(std::int32_t& x0, std::int32_t& x1, std::int32_t& x2, std::int32_t& x3) noexcept {
  const std::int32_t s03 = x0 + x3, d03 = x0 - x3;
  const std::int32_t s12 = x1 + x2, d12 = x1 - x2;
  x0 = s03 + s12;
  x1 = d03 + d12;
  x2 = s03 - s12;
  x3 = d03 - d12;
}

}  // namespace detail

/// Forward core transform Y = Cf·X·Cfᵀ (unnormalised; the scaling E_f is folded into
/// quantization, quant.hpp). `residual` in [−255, 255] per sample; see the bit widths above.
inline void forward_4x4_ref(std::span<const std::int16_t, 16> residual,
                            std::span<std::int16_t, 16> coefficients) noexcept {
  auto m = detail::widen(residual);
  detail::rows_then_columns(m, detail::forward_butterfly);
  for (int k = 0; k < 16; ++k) coefficients[k] = static_cast<std::int16_t>(m[k]);
}

/// Inverse core transform of scaled coefficients d (the output of dequantize_4x4) into residual
/// samples r_ij = (h_ij + 2^5) >> 6, H.264 §8.5.12.2: rows first, then columns, with the >> 1 on
/// the odd inputs of each butterfly. Adding r to the prediction (add_4x4) completes §8.5.14.
inline void inverse_4x4_ref(std::span<const std::int16_t, 16> coefficients,
                            std::span<std::int16_t, 16> residual) noexcept {
  auto m = detail::widen(coefficients);
  detail::rows_then_columns(m, detail::inverse_butterfly);
  for (int k = 0; k < 16; ++k) residual[k] = static_cast<std::int16_t>((m[k] + 32) >> 6);
}

/// forward_4x4 of the residual source − prediction of two 4×4 blocks of 8-bit samples (pointer
/// + row stride): subtract_4x4 then forward_4x4, the encoder's residual transform.
inline void forward_4x4_of_difference_ref(const std::uint8_t* source, std::ptrdiff_t source_stride,
                                          const std::uint8_t* prediction, std::ptrdiff_t prediction_stride,
                                          std::span<std::int16_t, 16> coefficients) noexcept {
  block4x4 residual;
  subtract_4x4_ref(source, source_stride, prediction, prediction_stride, residual);
  forward_4x4_ref(residual, coefficients);
}

/// Forward Hadamard of the sixteen DC coefficients W_D of an Intra16×16 macroblock (element
/// (i, j) = DC of the 4×4 block in block-row i, block-column j): Y_D = (H·W_D·H) >> 1, with the
/// floor division by 2 of the JM encoder (x264 rounds with (s + 1) >> 1 instead; we follow JM).
inline void forward_hadamard_4x4_ref(std::span<const std::int16_t, 16> dc,
                                     std::span<std::int16_t, 16> coefficients) noexcept {
  auto m = detail::widen(dc);
  detail::rows_then_columns(m, detail::hadamard_butterfly);
  for (int k = 0; k < 16; ++k) coefficients[k] = static_cast<std::int16_t>(m[k] >> 1);
}

/// Inverse Hadamard of the Intra16×16 DC levels c, f = H·c·H (H.264 §8.5.10, first step; no
/// rounding, no scaling — dequantize_dc_4x4 scales f afterwards). Output saturated to int16.
inline void inverse_hadamard_4x4_ref(std::span<const std::int16_t, 16> levels,
                                     std::span<std::int16_t, 16> f) noexcept {
  auto m = detail::widen(levels);
  detail::rows_then_columns(m, detail::hadamard_butterfly);
  for (int k = 0; k < 16; ++k) f[k] = saturate_int16(m[k]);
}

#if !defined(SMLM_NO_SIMD) && SMLM_CODEC_SIMD4
// SIMD versions (xsimd, four int32 lanes per row): the same butterflies on whole rows of the block,
// with in-register transposes between the passes, so each pass is one set of lane-wise
// operations. int32 lanes, as in the references, so results agree bit for bit on every input.
namespace detail {

struct forward_rows {
  template <class V>
  void operator()(V& x0, V& x1, V& x2, V& x3) const noexcept {
    const V s03 = x0 + x3, d03 = x0 - x3, s12 = x1 + x2, d12 = x1 - x2;
    x0 = s03 + s12;
    x1 = (d03 << 1) + d12;
    x2 = s03 - s12;
    x3 = d03 - (d12 << 1);
  }
};
struct inverse_rows {
  template <class V>
  void operator()(V& d0, V& d1, V& d2, V& d3) const noexcept {
    const V e0 = d0 + d2, e1 = d0 - d2, e2 = (d1 >> 1) - d3, e3 = d1 + (d3 >> 1);
    d0 = e0 + e3;
    d1 = e1 + e2;
    d2 = e1 - e2;
    d3 = e0 - e3;
  }
};
struct hadamard_rows {
  template <class V>
  void operator()(V& x0, V& x1, V& x2, V& x3) const noexcept {
    const V s03 = x0 + x3, d03 = x0 - x3, s12 = x1 + x2, d12 = x1 - x2;
    x0 = s03 + s12;
    x1 = d03 + d12;
    x2 = s03 - s12;
    x3 = d03 - d12;
  }
};

/// Horizontal pass (butterfly along each row: transpose, lane-wise butterfly), then vertical
/// pass (transpose back, lane-wise butterfly), as rows_then_columns does.
template <class Butterfly>
inline void rows_then_columns_simd(lanes4& r0, lanes4& r1, lanes4& r2, lanes4& r3, Butterfly butterfly) noexcept {
  transpose4(r0, r1, r2, r3);
  butterfly(r0, r1, r2, r3);
  transpose4(r0, r1, r2, r3);
  butterfly(r0, r1, r2, r3);
}

/// Stores four row batches into an int16 block with `finish` applied lane-wise first.
template <class Finish>
inline void store_rows(std::int16_t* block, const lanes4& r0, const lanes4& r1, const lanes4& r2, const lanes4& r3,
                       Finish finish) noexcept {
  alignas(16) std::int32_t out[16];
  finish(r0).store_aligned(out);
  finish(r1).store_aligned(out + 4);
  finish(r2).store_aligned(out + 8);
  finish(r3).store_aligned(out + 12);
  for (int k = 0; k < 16; ++k) block[k] = static_cast<std::int16_t>(out[k]);
}

/// Rows of a − b for two 4×4 blocks of 8-bit samples (pointer + row stride), widened to int32.
inline void load_difference_rows(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                                 std::ptrdiff_t b_stride, lanes4 (&d)[4]) noexcept {
  for (int i = 0; i < 4; ++i)
    d[i] = lanes4::load_unaligned(a + i * a_stride) - lanes4::load_unaligned(b + i * b_stride);
}

inline lanes4 saturate16(const lanes4& v) noexcept {
  return xsimd::min(xsimd::max(v, lanes4(-32768)), lanes4(32767));
}

}  // namespace detail

inline void forward_4x4_simd(std::span<const std::int16_t, 16> residual,
                             std::span<std::int16_t, 16> coefficients) noexcept {
  detail::lanes4 r0, r1, r2, r3;
  detail::load_rows(residual.data(), r0, r1, r2, r3);
  detail::rows_then_columns_simd(r0, r1, r2, r3, detail::forward_rows{});
  detail::store_rows(coefficients.data(), r0, r1, r2, r3, [](const detail::lanes4& v) { return v; });
}
/// forward_4x4_of_difference_ref in one pass from the samples, without the residual block.
inline void forward_4x4_of_difference_simd(const std::uint8_t* source, std::ptrdiff_t source_stride,
                                           const std::uint8_t* prediction, std::ptrdiff_t prediction_stride,
                                           std::span<std::int16_t, 16> coefficients) noexcept {
  detail::lanes4 d[4];
  detail::load_difference_rows(source, source_stride, prediction, prediction_stride, d);
  detail::rows_then_columns_simd(d[0], d[1], d[2], d[3], detail::forward_rows{});
  detail::store_rows(coefficients.data(), d[0], d[1], d[2], d[3], [](const detail::lanes4& v) { return v; });
}
inline void inverse_4x4_simd(std::span<const std::int16_t, 16> coefficients,
                             std::span<std::int16_t, 16> residual) noexcept {
  detail::lanes4 r0, r1, r2, r3;
  detail::load_rows(coefficients.data(), r0, r1, r2, r3);
  detail::rows_then_columns_simd(r0, r1, r2, r3, detail::inverse_rows{});
  detail::store_rows(residual.data(), r0, r1, r2, r3, [](const detail::lanes4& v) { return (v + 32) >> 6; });
}
inline void forward_hadamard_4x4_simd(std::span<const std::int16_t, 16> dc,
                                      std::span<std::int16_t, 16> coefficients) noexcept {
  detail::lanes4 r0, r1, r2, r3;
  detail::load_rows(dc.data(), r0, r1, r2, r3);
  detail::rows_then_columns_simd(r0, r1, r2, r3, detail::hadamard_rows{});
  detail::store_rows(coefficients.data(), r0, r1, r2, r3, [](const detail::lanes4& v) { return v >> 1; });
}
inline void inverse_hadamard_4x4_simd(std::span<const std::int16_t, 16> levels,
                                      std::span<std::int16_t, 16> f) noexcept {
  detail::lanes4 r0, r1, r2, r3;
  detail::load_rows(levels.data(), r0, r1, r2, r3);
  detail::rows_then_columns_simd(r0, r1, r2, r3, detail::hadamard_rows{});
  detail::store_rows(f.data(), r0, r1, r2, r3, detail::saturate16);
}
#define SMLM_CODEC_TRANSFORM_SIMD(name) name##_simd
#else
#define SMLM_CODEC_TRANSFORM_SIMD(name) name##_ref
#endif

/// What the codec calls: the SIMD version where it is built, else the reference.
inline void forward_4x4(std::span<const std::int16_t, 16> residual,
                        std::span<std::int16_t, 16> coefficients) noexcept {
  SMLM_CODEC_TRANSFORM_SIMD(forward_4x4)(residual, coefficients);
}
inline void forward_4x4_of_difference(const std::uint8_t* source, std::ptrdiff_t source_stride,
                                      const std::uint8_t* prediction, std::ptrdiff_t prediction_stride,
                                      std::span<std::int16_t, 16> coefficients) noexcept {
  SMLM_CODEC_TRANSFORM_SIMD(forward_4x4_of_difference)(source, source_stride, prediction, prediction_stride,
                                                       coefficients);
}
/// The reference, even where inverse_4x4_simd is built: GCC 12 -O3 -march=native vectorizes the
/// reference's two passes by itself, and bench_codec measured it faster (1.7 against 2.3 µs per
/// 256 blocks, docs/performance.md). Both stay bit-exact twins (tests/codec/simd_test.cpp).
inline void inverse_4x4(std::span<const std::int16_t, 16> coefficients,
                        std::span<std::int16_t, 16> residual) noexcept {
  inverse_4x4_ref(coefficients, residual);
}
inline void forward_hadamard_4x4(std::span<const std::int16_t, 16> dc,
                                 std::span<std::int16_t, 16> coefficients) noexcept {
  SMLM_CODEC_TRANSFORM_SIMD(forward_hadamard_4x4)(dc, coefficients);
}
inline void inverse_hadamard_4x4(std::span<const std::int16_t, 16> levels,
                                 std::span<std::int16_t, 16> f) noexcept {
  SMLM_CODEC_TRANSFORM_SIMD(inverse_hadamard_4x4)(levels, f);
}
#undef SMLM_CODEC_TRANSFORM_SIMD

}  // namespace smlm::codec

// Quantization (encoder) and scaling, i.e. dequantization (decoder, normative), for QP 0–51.
//
// Tables, period 6 in QP (QP/6 doubles the step, QP%6 selects a row); three position classes per
// row, in the order of H.264 §8.5.9 normAdjust4x4 (i, j = row, column of raster_index(i, j)):
//   class 0  i and j both even     (0,0) (0,2) (2,0) (2,2)
//   class 1  i and j both odd      (1,1) (1,3) (3,1) (3,3)
//   class 2  otherwise
// dequant_v is the standard's v_mn (§8.5.9); with flat weighting (Flat_4x4_16: weightScale4x4 =
// 16, the only weighting smlmkit uses) LevelScale4x4 = 16·v. quant_mf is the encoder's multiplication factor (JM lencod quant_coef, x264 quant4_scale,
// Malvar et al. 2003), chosen so that MF·v ≈ 2^17·w with w = 1, 16/25, 4/5 for the classes.
// Both were checked against JM (lencod block.c quant_coef / dequant_coef) and x264 (common/set.c
// quant4_scale / dequant4_scale, whose column order is class 0, 2, 1).
//
// Quantization (not normative; JM's form):
//   qbits = 15 + QP/6, f = 2^qbits/3 (intra) or 2^qbits/6 (inter), integer division
//   level = sign(Y)·((|Y|·MF + f) >> qbits)                      core coefficients
//   level = sign(Y)·((|Y|·MF(QP%6, class 0) + 2f) >> (qbits + 1)) Intra16×16 DC after the Hadamard
// Scaling (normative, flat weighting):
//   §8.5.12.1  d = (c·LS) << (QP/6 − 4) for QP ≥ 24, else (c·LS + 2^(3 − QP/6)) >> (4 − QP/6),
//              which equals c·v·2^(QP/6) exactly (JM's encoder-side form)
//   §8.5.10    dcY = (f·LS00) << (QP/6 − 6) for QP ≥ 36, else (f·LS00 + 2^(5 − QP/6)) >> (6 − QP/6),
//              which equals (f·v00·2^(QP/6) + 2) >> 2 exactly
//
// Bit widths: |Y| ≤ 2^15 and MF ≤ 13107 give |Y|·MF + 2f < 2^29 (int32); levels fit int16
// (|level| ≤ 13107 at QP 0 for any int16 input; for 8-bit residuals ≤ 1632 core and ≤ 6528 DC).
// Scaling any int16 level gives |c·LS·2^(QP/6−4)| < 2^28 in int32; the result is saturated to
// int16, which never acts on conforming streams (for 8-bit video the range constraints of
// §8.5.10 and §8.5.12 keep these values within 16 bits); it only makes other input well defined.
//
// All kernels take QP in [0, 51] (checked with SMLM_ASSERT) and allow input == output.
// Deviations: only the flat 4×4 scaling list; no chroma (grey-level video); no 8×8 transform.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <smlm/codec/block.hpp>
#include <smlm/core/config.hpp>

#if !defined(SMLM_NO_SIMD)
#include <smlm/codec/detail/simd.hpp>
#endif

namespace smlm::codec {

inline constexpr int qp_min = 0;
inline constexpr int qp_max = 51;

/// Dead-zone rounding offset of the quantizer: intra f = 2^qbits/3, inter f = 2^qbits/6.
enum class quant_mode : std::uint8_t { intra, inter };

/// Position class (0, 1, 2 as above) of raster index k of a 4×4 block.
constexpr int position_class(int k) noexcept {
  const int row_odd = (k >> 2) & 1, column_odd = k & 1;
  return row_odd == column_odd ? row_odd : 2;
}

/// MF[QP % 6][class]: quantization multiplication factors.
inline constexpr std::array<std::array<std::int32_t, 3>, 6> quant_mf = {{
    {13107, 5243, 8066},
    {11916, 4660, 7490},
    {10082, 4194, 6554},
    {9362, 3647, 5825},
    {8192, 3355, 5243},
    {7282, 2893, 4559},
}};

/// v[QP % 6][class]: the normAdjust4x4 rescale factors of H.264 §8.5.9.
inline constexpr std::array<std::array<std::int32_t, 3>, 6> dequant_v = {{
    {10, 16, 13},
    {11, 18, 14},
    {13, 20, 16},
    {14, 23, 18},
    {16, 25, 20},
    {18, 29, 23},
}};

namespace detail {
template <class Table>
constexpr std::array<std::array<std::int32_t, 16>, 6> expand_by_position(const Table& table) noexcept {
  std::array<std::array<std::int32_t, 16>, 6> out{};
  for (int m = 0; m < 6; ++m)
    for (int k = 0; k < 16; ++k) out[m][k] = table[m][position_class(k)];
  return out;
}
}  // namespace detail

/// quant_mf and LevelScale4x4 = 16·v expanded to all 16 raster positions (one row per QP % 6),
/// the form a SIMD version loads.
inline constexpr auto quant_mf_4x4 = detail::expand_by_position(quant_mf);
inline constexpr auto level_scale_4x4 = [] {
  auto scale = detail::expand_by_position(dequant_v);
  for (auto& row : scale)
    for (auto& value : row) value *= 16;
  return scale;
}();

/// qbits = 15 + QP/6.
constexpr int quant_shift(int qp) noexcept { return 15 + qp / 6; }

/// The dead-zone offset f for `qp` and `mode`.
constexpr std::int32_t quant_offset(int qp, quant_mode mode) noexcept {
  return (std::int32_t{1} << quant_shift(qp)) / (mode == quant_mode::intra ? 3 : 6);
}

/// Quantizes core-transform coefficients into levels. Returns the number of non-zero levels:
/// 0 means the block quantized to all zero.
inline int quantize_4x4_ref(std::span<const std::int16_t, 16> coefficients, std::span<std::int16_t, 16> levels,
                            int qp, quant_mode mode) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "quantize_4x4: QP must be in [0, 51]");
  const auto& mf = quant_mf_4x4[qp % 6];
  const int shift = quant_shift(qp);
  const std::int32_t offset = quant_offset(qp, mode);
  int nonzero = 0;
  for (int k = 0; k < 16; ++k) {
    const std::int32_t y = coefficients[k];
    const std::int32_t magnitude = (std::abs(y) * mf[k] + offset) >> shift;
    levels[k] = static_cast<std::int16_t>(y < 0 ? -magnitude : magnitude);
    nonzero += magnitude != 0;
  }
  return nonzero;
}

/// Quantizes the Hadamard-transformed Intra16×16 DC coefficients (forward_hadamard_4x4) with
/// MF(QP % 6, class 0), offset 2f and shift qbits + 1 for every position. Returns the number of
/// non-zero levels.
inline int quantize_dc_4x4_ref(std::span<const std::int16_t, 16> coefficients, std::span<std::int16_t, 16> levels,
                               int qp, quant_mode mode) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "quantize_dc_4x4: QP must be in [0, 51]");
  const std::int32_t mf = quant_mf[qp % 6][0];
  const int shift = quant_shift(qp) + 1;
  const std::int32_t offset = 2 * quant_offset(qp, mode);
  int nonzero = 0;
  for (int k = 0; k < 16; ++k) {
    const std::int32_t y = coefficients[k];
    const std::int32_t magnitude = (std::abs(y) * mf + offset) >> shift;
    levels[k] = static_cast<std::int16_t>(y < 0 ? -magnitude : magnitude);
    nonzero += magnitude != 0;
  }
  return nonzero;
}

/// Scales levels c into coefficients d for inverse_4x4 (H.264 §8.5.12.1, flat weighting), for
/// every raster position. In an Intra16×16 macroblock the caller then replaces d_00 with the
/// block's dcY from dequantize_dc_4x4 (the standard's "d_00 = c_00" case).
inline void dequantize_4x4_ref(std::span<const std::int16_t, 16> levels, std::span<std::int16_t, 16> coefficients,
                               int qp) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "dequantize_4x4: QP must be in [0, 51]");
  const auto& scale = level_scale_4x4[qp % 6];
  const int qp_per = qp / 6;
  for (int k = 0; k < 16; ++k) {
    const std::int32_t product = std::int32_t{levels[k]} * scale[k];
    const std::int32_t d = qp >= 24 ? product << (qp_per - 4)
                                    : (product + (std::int32_t{1} << (3 - qp_per))) >> (4 - qp_per);
    coefficients[k] = saturate_int16(d);
  }
}

/// Scales the inverse-Hadamard output f (inverse_hadamard_4x4) into the DC values dcY of the
/// sixteen 4×4 blocks of an Intra16×16 macroblock (H.264 §8.5.10, flat weighting). dcY(i, j) is
/// d_00 of the block in block-row i, block-column j.
inline void dequantize_dc_4x4_ref(std::span<const std::int16_t, 16> f, std::span<std::int16_t, 16> dc,
                                  int qp) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "dequantize_dc_4x4: QP must be in [0, 51]");
  const std::int32_t scale = level_scale_4x4[qp % 6][0];
  const int qp_per = qp / 6;
  for (int k = 0; k < 16; ++k) {
    const std::int32_t product = std::int32_t{f[k]} * scale;
    const std::int32_t d = qp >= 36 ? product << (qp_per - 6)
                                    : (product + (std::int32_t{1} << (5 - qp_per))) >> (6 - qp_per);
    dc[k] = saturate_int16(d);
  }
}

#if !defined(SMLM_NO_SIMD)
// SIMD versions: the same int32 formulas lane-wise over the default architecture's int32 batch
// (16 / size batches per block), so they agree with the references bit for bit on every input.
namespace detail {

/// level = sign(y)·((|y|·mf + offset) >> shift) for 16 values; returns the non-zero count.
inline int quantize_lanes(const std::int16_t* coefficients, const std::int32_t* mf, std::int32_t offset, int shift,
                          std::int16_t* levels) noexcept {
  int nonzero = 0;
  alignas(64) std::int32_t out[16];
  for (int k = 0; k < 16; k += static_cast<int>(wide::size)) {
    const wide y = wide::load_unaligned(coefficients + k);
    const wide magnitude = (xsimd::abs(y) * wide::load_unaligned(mf + k) + wide(offset)) >> shift;
    xsimd::select(y < wide(0), -magnitude, magnitude).store_aligned(out + k);
    nonzero += xsimd::hadd(xsimd::select(magnitude != wide(0), wide(1), wide(0)));
  }
  for (int k = 0; k < 16; ++k) levels[k] = static_cast<std::int16_t>(out[k]);
  return nonzero;
}

/// Saturate16(up ? product << up_shift : (product + round) >> down_shift) for 16 values.
inline void scale_lanes(const std::int16_t* levels, const std::int32_t* scale, bool up, int up_shift,
                        std::int32_t round, int down_shift, std::int16_t* coefficients) noexcept {
  alignas(64) std::int32_t out[16];
  for (int k = 0; k < 16; k += static_cast<int>(wide::size)) {
    const wide product = wide::load_unaligned(levels + k) * wide::load_unaligned(scale + k);
    const wide d = up ? product << up_shift : (product + wide(round)) >> down_shift;
    xsimd::min(xsimd::max(d, wide(-32768)), wide(32767)).store_aligned(out + k);
  }
  for (int k = 0; k < 16; ++k) coefficients[k] = static_cast<std::int16_t>(out[k]);
}

}  // namespace detail

inline int quantize_4x4_simd(std::span<const std::int16_t, 16> coefficients, std::span<std::int16_t, 16> levels,
                             int qp, quant_mode mode) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "quantize_4x4: QP must be in [0, 51]");
  return detail::quantize_lanes(coefficients.data(), quant_mf_4x4[qp % 6].data(), quant_offset(qp, mode),
                                quant_shift(qp), levels.data());
}
inline int quantize_dc_4x4_simd(std::span<const std::int16_t, 16> coefficients, std::span<std::int16_t, 16> levels,
                                int qp, quant_mode mode) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "quantize_dc_4x4: QP must be in [0, 51]");
  std::array<std::int32_t, 16> mf{};
  mf.fill(quant_mf[qp % 6][0]);
  return detail::quantize_lanes(coefficients.data(), mf.data(), 2 * quant_offset(qp, mode), quant_shift(qp) + 1,
                                levels.data());
}
inline void dequantize_4x4_simd(std::span<const std::int16_t, 16> levels, std::span<std::int16_t, 16> coefficients,
                                int qp) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "dequantize_4x4: QP must be in [0, 51]");
  const int qp_per = qp / 6;
  const bool up = qp >= 24;
  detail::scale_lanes(levels.data(), level_scale_4x4[qp % 6].data(), up, up ? qp_per - 4 : 0,
                      up ? 0 : std::int32_t{1} << (3 - qp_per), up ? 0 : 4 - qp_per, coefficients.data());
}
inline void dequantize_dc_4x4_simd(std::span<const std::int16_t, 16> f, std::span<std::int16_t, 16> dc,
                                   int qp) SMLM_NOEXCEPT {
  SMLM_ASSERT(qp >= qp_min && qp <= qp_max, "dequantize_dc_4x4: QP must be in [0, 51]");
  std::array<std::int32_t, 16> scale{};
  scale.fill(level_scale_4x4[qp % 6][0]);
  const int qp_per = qp / 6;
  const bool up = qp >= 36;
  detail::scale_lanes(f.data(), scale.data(), up, up ? qp_per - 6 : 0, up ? 0 : std::int32_t{1} << (5 - qp_per),
                      up ? 0 : 6 - qp_per, dc.data());
}
#define SMLM_CODEC_QUANT_SIMD(name) name##_simd
#else
#define SMLM_CODEC_QUANT_SIMD(name) name##_ref
#endif

/// What the codec calls: the SIMD version where it is built, else the reference.
inline int quantize_4x4(std::span<const std::int16_t, 16> coefficients, std::span<std::int16_t, 16> levels,
                        int qp, quant_mode mode) SMLM_NOEXCEPT {
  return SMLM_CODEC_QUANT_SIMD(quantize_4x4)(coefficients, levels, qp, mode);
}
inline int quantize_dc_4x4(std::span<const std::int16_t, 16> coefficients, std::span<std::int16_t, 16> levels,
                           int qp, quant_mode mode) SMLM_NOEXCEPT {
  return SMLM_CODEC_QUANT_SIMD(quantize_dc_4x4)(coefficients, levels, qp, mode);
}
inline void dequantize_4x4(std::span<const std::int16_t, 16> levels, std::span<std::int16_t, 16> coefficients,
                           int qp) SMLM_NOEXCEPT {
  SMLM_CODEC_QUANT_SIMD(dequantize_4x4)(levels, coefficients, qp);
}
inline void dequantize_dc_4x4(std::span<const std::int16_t, 16> f, std::span<std::int16_t, 16> dc,
                              int qp) SMLM_NOEXCEPT {
  SMLM_CODEC_QUANT_SIMD(dequantize_dc_4x4)(f, dc, qp);
}
#undef SMLM_CODEC_QUANT_SIMD

}  // namespace smlm::codec

// Distortion costs of a 4×4 block against its prediction, for mode decision and motion search.
//
//   SAD  = Σ |a_ij − b_ij|                         0 ≤ SAD  ≤ 16·255 = 4080
//   SATD = (Σ |(H·D·H)_ij|) / 2,  D = a − b        0 ≤ SATD ≤ 8160
//
// H is the 4×4 Hadamard matrix (transform.hpp, ±1 entries, unnormalised). SATD is x264's
// definition for 4×4 blocks (common/pixel.c, pixel_satd_4x4): the sum of absolute Hadamard
// coefficients halved. The halving is exact: every entry of H·D·H has the parity of Σ D, so their
// absolute sum is even. Since D = H·(H·D·H)·H / 16, SAD ≤ 2·SATD ≤ 16·SAD. SATD approximates the
// coded cost of the residual better than SAD because it measures energy in a transform domain
// close to the codec's.
//
// Blocks are read from 8-bit frames as pointer + row stride (in elements; any alignment).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <smlm/codec/block.hpp>
#include <smlm/codec/transform.hpp>

namespace smlm::codec {

/// Sum of absolute differences of two 4×4 blocks.
inline int sad_4x4_ref(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                       std::ptrdiff_t b_stride) noexcept {
  int sum = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) sum += std::abs(int{a[i * a_stride + j]} - int{b[i * b_stride + j]});
  return sum;
}

/// Sum of absolute Hadamard-transformed differences of two 4×4 blocks, halved (x264's SATD).
inline int satd_4x4_ref(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                        std::ptrdiff_t b_stride) noexcept {
  detail::block4x4_i32 d{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      d[raster_index(i, j)] = int{a[i * a_stride + j]} - int{b[i * b_stride + j]};
  detail::rows_then_columns(d, detail::hadamard_butterfly);
  int sum = 0;
  for (const std::int32_t value : d) sum += std::abs(value);
  return sum >> 1;
}

#if !defined(SMLM_NO_SIMD) && SMLM_CODEC_SIMD4
// SIMD versions: rows widened to four int32 lanes (detail::load_difference_rows, transform.hpp); SATD runs the Hadamard butterfly down the
// columns, transposes, and runs it again (the absolute sum does not depend on the orientation).
inline int sad_4x4_simd(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                        std::ptrdiff_t b_stride) noexcept {
  detail::lanes4 d[4];
  detail::load_difference_rows(a, a_stride, b, b_stride, d);
  return xsimd::hadd(xsimd::abs(d[0]) + xsimd::abs(d[1]) + xsimd::abs(d[2]) + xsimd::abs(d[3]));
}
inline int satd_4x4_simd(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                         std::ptrdiff_t b_stride) noexcept {
  detail::lanes4 d[4];
  detail::load_difference_rows(a, a_stride, b, b_stride, d);
  detail::hadamard_rows{}(d[0], d[1], d[2], d[3]);
  detail::transpose4(d[0], d[1], d[2], d[3]);
  detail::hadamard_rows{}(d[0], d[1], d[2], d[3]);
  return xsimd::hadd(xsimd::abs(d[0]) + xsimd::abs(d[1]) + xsimd::abs(d[2]) + xsimd::abs(d[3])) >> 1;
}
#define SMLM_CODEC_SAD_SIMD(name) name##_simd
#else
#define SMLM_CODEC_SAD_SIMD(name) name##_ref
#endif

/// What the codec calls: the SIMD version where it is built, else the reference.
inline int sad_4x4(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                   std::ptrdiff_t b_stride) noexcept {
  return SMLM_CODEC_SAD_SIMD(sad_4x4)(a, a_stride, b, b_stride);
}
inline int satd_4x4(const std::uint8_t* a, std::ptrdiff_t a_stride, const std::uint8_t* b,
                    std::ptrdiff_t b_stride) noexcept {
  return SMLM_CODEC_SAD_SIMD(satd_4x4)(a, a_stride, b, b_stride);
}
#undef SMLM_CODEC_SAD_SIMD

}  // namespace smlm::codec

// xsimd plumbing for the codec's SIMD kernels (internal). Never included under SMLM_NO_SIMD.
//
// Two batch shapes:
//  - lanes4: int32 batches of exactly four lanes (one row or column of a 4×4 block), on SSE2+
//    or NEON. The 4×4 transforms keep a block in four such batches and transpose it in registers
//    (zip_lo / zip_hi on 32-bit, then on 64-bit lanes). SMLM_CODEC_SIMD4 is 1 when available.
//  - wide: the default architecture's int32 batch (4, 8 or 16 lanes); element-wise kernels
//    (quantization, scaling) walk the 16 values of a block in 16 / size steps.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#if defined(SMLM_NO_SIMD)
#error "smlm/codec/detail/simd.hpp must not be included when SMLM_NO_SIMD is defined"
#endif

#include <cstdint>

#include <xsimd/xsimd.hpp>

namespace smlm::codec::detail {

#if XSIMD_WITH_SSE4_1
#define SMLM_CODEC_SIMD4 1
using arch4 = xsimd::sse4_1;
#elif XSIMD_WITH_SSE2
#define SMLM_CODEC_SIMD4 1
using arch4 = xsimd::sse2;
#elif XSIMD_WITH_NEON
#define SMLM_CODEC_SIMD4 1
using arch4 = xsimd::neon;
#else
#define SMLM_CODEC_SIMD4 0
#endif

#if SMLM_CODEC_SIMD4
using lanes4 = xsimd::batch<std::int32_t, arch4>;
static_assert(lanes4::size == 4, "arch4 must hold four int32 lanes");

/// In-register transpose of the 4×4 block held as rows r0..r3.
inline void transpose4(lanes4& r0, lanes4& r1, lanes4& r2, lanes4& r3) noexcept {
  using wide64 = xsimd::batch<std::int64_t, arch4>;
  const lanes4 t0 = xsimd::zip_lo(r0, r1), t1 = xsimd::zip_hi(r0, r1);
  const lanes4 t2 = xsimd::zip_lo(r2, r3), t3 = xsimd::zip_hi(r2, r3);
  const auto a0 = xsimd::bitwise_cast<wide64>(t0), a1 = xsimd::bitwise_cast<wide64>(t1);
  const auto a2 = xsimd::bitwise_cast<wide64>(t2), a3 = xsimd::bitwise_cast<wide64>(t3);
  r0 = xsimd::bitwise_cast<lanes4>(xsimd::zip_lo(a0, a2));
  r1 = xsimd::bitwise_cast<lanes4>(xsimd::zip_hi(a0, a2));
  r2 = xsimd::bitwise_cast<lanes4>(xsimd::zip_lo(a1, a3));
  r3 = xsimd::bitwise_cast<lanes4>(xsimd::zip_hi(a1, a3));
}

/// Loads the 4×4 int16 block (raster) as four int32 row batches.
inline void load_rows(const std::int16_t* block, lanes4& r0, lanes4& r1, lanes4& r2, lanes4& r3) noexcept {
  r0 = lanes4::load_unaligned(block);
  r1 = lanes4::load_unaligned(block + 4);
  r2 = lanes4::load_unaligned(block + 8);
  r3 = lanes4::load_unaligned(block + 12);
}
#endif

using wide = xsimd::batch<std::int32_t>;
static_assert(16 % wide::size == 0, "a 4x4 block must split into whole int32 batches");

}  // namespace smlm::codec::detail

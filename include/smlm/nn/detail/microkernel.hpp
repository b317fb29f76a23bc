// The register-blocked float micro-kernel of the stride-1 convolutions (internal).
//
// C (48 × 8, column j at c + j·ldc) += A (48 × kc) · B (kc × 8), A packed k-major in panels of
// 48 (a[k·48 + i]), B packed k-major in panels of 8 (b[k·8 + j]). The 48 × 8 block stays in 24
// AVX-512 registers for the whole kc loop: per k, 3 loads of A, 8 broadcasts of B and 24 FMAs.
// Eigen's GEBP kernel (48 × 4, 12 accumulators) reaches about 57 % of this machine's FMA peak
// even on square products (docs/performance.md); this one is what lifts the convolutions above
// half of peak. transpose16 serves the weight gradient's packing. micro_48x8_ref is the definition (fused multiply-adds in the same order, so the
// two agree bit for bit). SMLM_NN_MICROKERNEL is 1 where the kernel is compiled (AVX-512F).
#pragma once

#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>

#if !defined(SMLM_NO_SIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace smlm::nn::detail {

inline constexpr int micro_mr = 48, micro_nr = 8;

/// The definition: c[i + j·ldc] += Σ_k a[k·48 + i] · b[k·8 + j], each sum a chain of fmas from 0.
inline void micro_48x8_ref(std::ptrdiff_t kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc) noexcept {
  for (int j = 0; j < micro_nr; ++j)
    for (int i = 0; i < micro_mr; ++i) {
      float s = 0.0f;
      for (std::ptrdiff_t k = 0; k < kc; ++k) s = std::fma(a[k * micro_mr + i], b[k * micro_nr + j], s);
      c[i + j * ldc] += s;
    }
}

#if !defined(SMLM_NO_SIMD) && XSIMD_WITH_AVX512F
#define SMLM_NN_MICROKERNEL 1

/// micro_48x8_ref with the block in registers; a must be 64-byte aligned. Written with the
/// intrinsics themselves: the fused multiply-add must be one (xsimd::fma may compile to a
/// multiply and an add, which rounds differently from the reference's std::fma).
inline void micro_48x8(std::ptrdiff_t kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc) noexcept {
  __m512 acc[3][micro_nr];
#pragma GCC unroll 8
  for (int j = 0; j < micro_nr; ++j) acc[0][j] = acc[1][j] = acc[2][j] = _mm512_setzero_ps();
  for (std::ptrdiff_t k = 0; k < kc; ++k, a += micro_mr, b += micro_nr) {
    const __m512 a0 = _mm512_load_ps(a), a1 = _mm512_load_ps(a + 16), a2 = _mm512_load_ps(a + 32);
#pragma GCC unroll 8
    for (int j = 0; j < micro_nr; ++j) {
      const __m512 bj = _mm512_set1_ps(b[j]);
      acc[0][j] = _mm512_fmadd_ps(a0, bj, acc[0][j]);
      acc[1][j] = _mm512_fmadd_ps(a1, bj, acc[1][j]);
      acc[2][j] = _mm512_fmadd_ps(a2, bj, acc[2][j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < micro_nr; ++j) {
    float* cj = c + j * ldc;
    _mm512_storeu_ps(cj, _mm512_add_ps(_mm512_loadu_ps(cj), acc[0][j]));
    _mm512_storeu_ps(cj + 16, _mm512_add_ps(_mm512_loadu_ps(cj + 16), acc[1][j]));
    _mm512_storeu_ps(cj + 32, _mm512_add_ps(_mm512_loadu_ps(cj + 32), acc[2][j]));
  }
}

/// dst[i·ld_dst + r] = src_r[i] for r, i < 16: the 16 × 16 block whose row r starts at rows[r]
/// (any alignment), transposed.
inline void transpose16(const float* const* rows, float* dst, std::ptrdiff_t ld_dst) noexcept {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(rows[i]);
  for (int i = 0; i < 16; i += 2) {  // interleave 32-bit lanes of row pairs
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // then 64-bit lanes of pair pairs
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  // Now r[4a + b] holds, in its 128-bit lane L, element 4L + b of rows 4a .. 4a + 3: gather the
  // four row groups of each column.
  for (int b = 0; b < 4; ++b) {
    const __m512 x0 = _mm512_shuffle_f32x4(r[b], r[4 + b], 0x44), x1 = _mm512_shuffle_f32x4(r[b], r[4 + b], 0xee);
    const __m512 y0 = _mm512_shuffle_f32x4(r[8 + b], r[12 + b], 0x44), y1 = _mm512_shuffle_f32x4(r[8 + b], r[12 + b], 0xee);
    t[b] = _mm512_shuffle_f32x4(x0, y0, 0x88);       // lane 0 of each: column b
    t[4 + b] = _mm512_shuffle_f32x4(x0, y0, 0xdd);   // lane 1: column 4 + b
    t[8 + b] = _mm512_shuffle_f32x4(x1, y1, 0x88);   // lane 2: column 8 + b
    t[12 + b] = _mm512_shuffle_f32x4(x1, y1, 0xdd);  // lane 3: column 12 + b
  }
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ld_dst, t[i]);
}
#else
#define SMLM_NN_MICROKERNEL 0
#endif

}  // namespace smlm::nn::detail

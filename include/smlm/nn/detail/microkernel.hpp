// The register-blocked float micro-kernel of the stride-1 convolutions (internal).
//
// C (mr × nr, column j at c + j·ldc) += A (mr × kc) · B (kc × nr), A packed k-major in panels of
// mr (a[k·mr + i]), B packed k-major in panels of nr (b[k·nr + j]). The block stays in registers
// for the whole kc loop. The shape follows the instruction set the build targets:
//   AVX-512F        48 × 8: 24 zmm accumulators; per k 3 loads of A, 8 broadcasts of B, 24 FMAs.
//   AVX2 + FMA      24 × 4: 12 ymm accumulators; per k 3 loads of A, 4 broadcasts of B, 12 FMAs
//                   (16 registers: 12 + 3 + 1).
// Eigen's GEBP kernel (48 × 4 / 24 × 4) needs its own packed copy of an im2col matrix; this one
// reads slices of the padded input directly (conv2d.hpp). micro_kernel_ref is the definition
// (fused multiply-adds in the same order, so the two agree bit for bit). SMLM_NN_MICROKERNEL is 1
// where a kernel is compiled. transpose_block (16 × 16 on AVX-512, 8 × 8 on AVX2; block
// `transpose_lanes`) serves the weight gradient's packing.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>

#if !defined(SMLM_NO_SIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace smlm::nn::detail {

#if !defined(SMLM_NO_SIMD) && XSIMD_WITH_AVX512F
#define SMLM_NN_MICROKERNEL 1
inline constexpr int micro_mr = 48, micro_nr = 8, transpose_lanes = 16;
#elif !defined(SMLM_NO_SIMD) && XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
#define SMLM_NN_MICROKERNEL 1
inline constexpr int micro_mr = 24, micro_nr = 4, transpose_lanes = 8;
#else
#define SMLM_NN_MICROKERNEL 0
inline constexpr int micro_mr = 48, micro_nr = 8, transpose_lanes = 16;  // the layout, tested without a kernel
#endif
static_assert(micro_mr % transpose_lanes == 0 && transpose_lanes % micro_nr == 0);

/// The definition of transpose_block: dst[i·ld_dst + r] = rows[r][i] for r, i < transpose_lanes.
inline void transpose_block_ref(const float* const* rows, float* dst, std::ptrdiff_t ld_dst) noexcept {
  for (int r = 0; r < transpose_lanes; ++r)
    for (int i = 0; i < transpose_lanes; ++i) dst[i * ld_dst + r] = rows[r][i];
}

/// The definition: c[i + j·ldc] += Σ_k a[k·mr + i] · b[k·nr + j], each sum a chain of fmas from 0.
inline void micro_kernel_ref(std::ptrdiff_t kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc) noexcept {
  for (int j = 0; j < micro_nr; ++j)
    for (int i = 0; i < micro_mr; ++i) {
      float s = 0.0f;
      for (std::ptrdiff_t k = 0; k < kc; ++k) s = std::fma(a[k * micro_mr + i], b[k * micro_nr + j], s);
      c[i + j * ldc] += s;
    }
}

#if !defined(SMLM_NO_SIMD) && XSIMD_WITH_AVX512F
/// Register traits of micro_kernel: a packet of 16 floats.
struct MicroRegs {
  using reg = __m512;
  static reg zero() noexcept { return _mm512_setzero_ps(); }
  static reg load(const float* p) noexcept { return _mm512_load_ps(p); }
  static reg loadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static reg broadcast(const float* p) noexcept { return _mm512_set1_ps(*p); }
  static reg fmadd(reg a, reg b, reg c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) noexcept { return _mm512_add_ps(a, b); }
  static void storeu(float* p, reg v) noexcept { _mm512_storeu_ps(p, v); }
};

/// dst[i·ld_dst + r] = src_r[i] for r, i < 16: the 16 × 16 block whose row r starts at rows[r]
/// (any alignment), transposed.
inline void transpose_block(const float* const* rows, float* dst, std::ptrdiff_t ld_dst) noexcept {
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
#elif SMLM_NN_MICROKERNEL
/// Register traits of micro_kernel: a packet of 8 floats.
struct MicroRegs {
  using reg = __m256;
  static reg zero() noexcept { return _mm256_setzero_ps(); }
  static reg load(const float* p) noexcept { return _mm256_load_ps(p); }
  static reg loadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static reg broadcast(const float* p) noexcept { return _mm256_broadcast_ss(p); }
  static reg fmadd(reg a, reg b, reg c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) noexcept { return _mm256_add_ps(a, b); }
  static void storeu(float* p, reg v) noexcept { _mm256_storeu_ps(p, v); }
};

/// dst[i·ld_dst + r] = src_r[i] for r, i < 8: the 8 × 8 block whose row r starts at rows[r]
/// (any alignment), transposed.
inline void transpose_block(const float* const* rows, float* dst, std::ptrdiff_t ld_dst) noexcept {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows[i]);
  for (int i = 0; i < 8; i += 2) {  // interleave 32-bit elements of row pairs, per 128-bit lane
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // then 64-bit pairs: r[i + b] holds columns b | 4 + b of rows i .. i + 3
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int b = 0; b < 4; ++b) {  // join the halves of rows 0 .. 3 and 4 .. 7
    t[b] = _mm256_permute2f128_ps(r[b], r[4 + b], 0x20);
    t[4 + b] = _mm256_permute2f128_ps(r[b], r[4 + b], 0x31);
  }
  for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + i * ld_dst, t[i]);
}
#endif

#if SMLM_NN_MICROKERNEL
/// micro_kernel_ref with the block in registers: 3 packets of A (mr = 3 · packet) times nr
/// broadcasts of B; a must be aligned to the packet. Written with the intrinsics themselves:
/// the fused multiply-add must be one (xsimd::fma may compile to a multiply and an add, which
/// rounds differently from the reference's std::fma).
inline void micro_kernel(std::ptrdiff_t kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc) noexcept {
  using R = MicroRegs;
  constexpr int p = micro_mr / 3;  // floats per packet
  typename R::reg acc[3][micro_nr];
#pragma GCC unroll 8
  for (int j = 0; j < micro_nr; ++j) acc[0][j] = acc[1][j] = acc[2][j] = R::zero();
  for (std::ptrdiff_t k = 0; k < kc; ++k, a += micro_mr, b += micro_nr) {
    typename R::reg a0 = R::load(a), a1 = R::load(a + p), a2 = R::load(a + 2 * p);
    // Keep the three packets in registers. With all 16 ymm registers in use GCC 12 otherwise
    // folds the loads into the FMAs, loading each packet once per broadcast (12 loads of A per k
    // instead of 3): 1.2-1.5x slower convolutions on AVX2 (docs/performance.md). On AVX-512
    // (32 registers) it kept them anyway; the generated instructions are the same.
    asm("" : "+v"(a0), "+v"(a1), "+v"(a2));
#pragma GCC unroll 8
    for (int j = 0; j < micro_nr; ++j) {
      const typename R::reg bj = R::broadcast(b + j);
      acc[0][j] = R::fmadd(a0, bj, acc[0][j]);
      acc[1][j] = R::fmadd(a1, bj, acc[1][j]);
      acc[2][j] = R::fmadd(a2, bj, acc[2][j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < micro_nr; ++j) {
    float* cj = c + j * ldc;
    for (int i = 0; i < 3; ++i) R::storeu(cj + i * p, R::add(R::loadu(cj + i * p), acc[i][j]));
  }
}
#endif

}  // namespace smlm::nn::detail

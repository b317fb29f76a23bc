// Philox4x32-10 for many counters at once, lane by lane: lane j computes
// Philox4x32::block({c0[j], c1[j], c2, c3}, key) (rng.hpp) and returns the four words as four
// vectors (structure of arrays), the layout a sampler working on one pixel per lane wants.
//
// philox_lanes_ref is the scalar definition; philox_lanes (xsimd, absent under SMLM_NO_SIMD)
// must equal it bit for bit (tests/simd/philox_test.cpp). The vector version holds each 32-bit
// word in a 64-bit lane so that the 32 × 32 → 64-bit products of the rounds are plain 64-bit
// multiplications.
#pragma once

#include <cstddef>
#include <cstdint>
#include <smlm/core/rng.hpp>
#include <type_traits>

#if !defined(SMLM_NO_SIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace smlm::simd {

/// words[w][j] = word w of Philox4x32::block({c0[j], c1[j], c2, c3}, key), j < n.
inline void philox_lanes_ref(const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2, std::uint32_t c3,
                             Philox4x32::key_type key, std::size_t n, std::uint32_t* const words[4]) noexcept {
  for (std::size_t j = 0; j < n; ++j) {
    const auto b = Philox4x32::block({c0[j], c1[j], c2, c3}, key);
    for (int w = 0; w < 4; ++w) words[w][j] = b[static_cast<std::size_t>(w)];
  }
}

#if !defined(SMLM_NO_SIMD)
/// a·b for lanes holding 32-bit values: one vpmuludq (AVX-512 / AVX2) instead of a 64-bit
/// multiply where the instruction set has it.
template <class A>
inline xsimd::batch<std::uint64_t, A> mul_32x32(xsimd::batch<std::uint64_t, A> a, xsimd::batch<std::uint64_t, A> b) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, A>) return xsimd::batch<std::uint64_t, A>(_mm512_mul_epu32(a, b));
#endif
#if defined(__AVX2__)
  if constexpr (std::is_same_v<A, xsimd::avx2> || std::is_same_v<A, xsimd::fma3<xsimd::avx2>>)
    return xsimd::batch<std::uint64_t, A>(_mm256_mul_epu32(a, b));
#endif
  return a * b;
}

/// The same for one batch of counters: lane j of c0, c1 holds a 32-bit counter word (upper half
/// zero); out[w] receives word w in each lane (upper half zero).
template <class A>
inline void philox_lanes(xsimd::batch<std::uint64_t, A> c0, xsimd::batch<std::uint64_t, A> c1, std::uint32_t c2,
                         std::uint32_t c3, Philox4x32::key_type key, xsimd::batch<std::uint64_t, A> out[4]) noexcept {
  using U = xsimd::batch<std::uint64_t, A>;
  const U mask(0xFFFFFFFFull), m0(0xD2511F53ull), m1(0xCD9E8D57ull);
  U x0 = c0, x1 = c1, x2(static_cast<std::uint64_t>(c2)), x3(static_cast<std::uint64_t>(c3));
  std::uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const U p0 = mul_32x32(m0, x0), p1 = mul_32x32(m1, x2);
    const U n0 = (p1 >> 32) ^ x1 ^ U(static_cast<std::uint64_t>(k0));
    const U n2 = (p0 >> 32) ^ x3 ^ U(static_cast<std::uint64_t>(k1));
    x0 = n0;
    x1 = p1 & mask;
    x2 = n2;
    x3 = p0 & mask;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}
#endif

}  // namespace smlm::simd

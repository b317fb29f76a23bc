// Philox4x32-10 for many counters at once, lane by lane: lane j computes
// Philox4x32::block({c0[j], c1[j], c2, c3}, key) (rng.hpp) and returns the four words as four
// vectors (structure of arrays), the layout a sampler working on one pixel per lane wants.
//
// philox_lanes_ref is the scalar definition; philox_lanes (xsimd, absent under SMLM_NO_SIMD)
// must equal it bit for bit (tests/simd/philox_test.cpp). The vector version holds each 32-bit
// word in a 64-bit lane so that the 32 × 32 → 64-bit products of the rounds are plain 64-bit
// multiplications.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <array>
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
/// The 64-bit product of the low 32-bit halves of a and b lane by lane (the upper halves are
/// ignored): one vpmuludq (AVX-512 / AVX2) where the instruction set has it.
template <class A>
inline xsimd::batch<std::uint64_t, A> mul_32x32(xsimd::batch<std::uint64_t, A> a, xsimd::batch<std::uint64_t, A> b) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, A>) return xsimd::batch<std::uint64_t, A>(_mm512_mul_epu32(a, b));
#endif
#if defined(__AVX2__)
  if constexpr (std::is_same_v<A, xsimd::avx2> || std::is_same_v<A, xsimd::fma3<xsimd::avx2>>)
    return xsimd::batch<std::uint64_t, A>(_mm256_mul_epu32(a, b));
#endif
  const xsimd::batch<std::uint64_t, A> low(0xFFFFFFFFull);
  return (a & low) * (b & low);
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
    // mul_32x32 reads only the low halves of x0 and x2, and x1, x3 reach the products only
    // through x0, x2: the upper halves may hold garbage until the final mask.
    const U p0 = mul_32x32(m0, x0), p1 = mul_32x32(m1, x2);
    x0 = (p1 >> 32) ^ x1 ^ U(static_cast<std::uint64_t>(k0));
    x1 = p1;
    x2 = (p0 >> 32) ^ x3 ^ U(static_cast<std::uint64_t>(k1));
    x3 = p0;
  }
  out[0] = x0 & mask;
  out[1] = x1 & mask;
  out[2] = x2 & mask;
  out[3] = x3 & mask;
}
#endif

/// The output stream of Philox4x32(seed, frame, purpose), word for word, with its blocks made
/// `blocks` at a time: for serial loops that draw a few words per item from one stream (the
/// simulator's blinking states, one per fluorophore and frame), where the engine's one block at
/// a time is a chain of 10 dependent rounds between draws; independent blocks side by side
/// overlap (plain Philox4x32::block per block, so no vector code and no separate reference). A
/// bit_engine; tests/simd/philox_test.cpp compares it with Philox4x32.
class philox_stream {
 public:
  using result_type = std::uint32_t;
  static constexpr std::size_t blocks = 8;

  philox_stream(std::uint64_t seed, std::uint32_t frame, rng_purpose purpose) noexcept
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        frame_(frame), purpose_(static_cast<std::uint32_t>(purpose)) {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return 0xFFFFFFFFu; }

  result_type operator()() noexcept {
    if (used_ == 4 * blocks) refill();
    return words_[used_++];
  }
  std::uint64_t next_u64() noexcept {
    const std::uint64_t hi = (*this)();
    return (hi << 32) | (*this)();
  }

 private:
  void refill() noexcept {
    for (std::size_t j = 0; j < blocks; ++j) {
      const std::uint64_t b = next_ + j;
      const auto w = Philox4x32::block({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32), frame_, purpose_}, key_);
      for (std::size_t k = 0; k < 4; ++k) words_[4 * j + k] = w[k];
    }
    next_ += blocks;
    used_ = 0;
  }

  Philox4x32::key_type key_;
  std::uint32_t frame_, purpose_;
  std::uint64_t next_ = 0;  // index of the first block not yet made
  std::array<std::uint32_t, 4 * blocks> words_{};
  std::size_t used_ = 4 * blocks;
};

static_assert(bit_engine<philox_stream>);

}  // namespace smlm::simd

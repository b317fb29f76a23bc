// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC'11) and the 32-bit → [0, 1) conversion. The samplers
// (normal, Poisson, gamma, binomial, ...) are in distributions.hpp.
//
// A stream is addressed by (seed, frame, purpose): the 128-bit counter is
// {block_lo, block_hi, frame, purpose} and the 64-bit key is {seed_lo, seed_hi}. Every frame and
// every use (emitter placement, blinking, photon counts, camera noise, codec, training) therefore
// has its own independent stream, and a simulation gives identical output on 1 or N threads
// whatever order the frames are processed in. Each stream has 2^64 blocks of four 32-bit outputs.
//
// Reproducibility contract (never change it): output i of stream (seed, frame, purpose) is word
// i mod 4 of Philox4x32::block({i/4 mod 2^32, i/4 >> 32, frame, purpose},
// {seed mod 2^32, seed >> 32}). The engine is checked against the Random123 known-answer vectors
// in tests/core/rng_test.cpp.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <limits>

namespace smlm {

/// The `purpose` word of a stream address. Values are part of the reproducibility contract:
/// never renumber them; add new ones at the end.
enum class rng_purpose : std::uint32_t {
  emitters = 1,  ///< structure / emitter positions
  blinking = 2,  ///< fluorophore kinetics
  photons = 3,   ///< photon numbers per emission
  camera = 4,    ///< shot noise, gain, read noise
  codec = 5,     ///< grid offsets and other codec randomness
  training = 6,  ///< training-pair generation
  init = 7,      ///< network weight initialisation
  dropout = 8,   ///< dropout masks
  drift = 9,     ///< random-walk stage drift (simulator)
  user = 1024,   ///< first value free for applications
};

/// What every sampler needs from an engine: `r()` returns 32 uniformly random bits and
/// `r.next_u64()` 64, neither throws. Philox4x32 is the library's model; a user's engine (a
/// hardware RNG, a test stub) qualifies by providing the two members.
template <class R>
concept bit_engine = requires(R& r) {
  { r() } noexcept -> std::same_as<std::uint32_t>;
  { r.next_u64() } noexcept -> std::same_as<std::uint64_t>;
};

class Philox4x32 {
 public:
  using result_type = std::uint32_t;
  using block_type = std::array<std::uint32_t, 4>;
  using key_type = std::array<std::uint32_t, 2>;

  constexpr Philox4x32(std::uint64_t seed, std::uint32_t frame, rng_purpose purpose) noexcept
      : Philox4x32(seed, frame, static_cast<std::uint32_t>(purpose)) {}
  constexpr Philox4x32(std::uint64_t seed, std::uint32_t frame, std::uint32_t purpose) noexcept
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        counter_{0, 0, frame, purpose} {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  /// The next 32 random bits of this stream.
  constexpr result_type operator()() noexcept {
    if (used_ == 4) {
      buffer_ = block(counter_, key_);
      if (++counter_[0] == 0) ++counter_[1];
      used_ = 0;
    }
    return buffer_[used_++];
  }

  /// The next 64 random bits (two 32-bit outputs, high word first).
  constexpr std::uint64_t next_u64() noexcept {
    const std::uint64_t hi = (*this)();
    return (hi << 32) | (*this)();
  }

  /// Drops what is left of the current block (if one is partly used) and skips `blocks` further
  /// blocks of four outputs: after drawing j outputs, the next output is output
  /// 4·(⌈j/4⌉ + blocks) of the stream. Block indices wrap modulo 2^64.
  constexpr void discard_blocks(std::uint64_t blocks) noexcept {
    const std::uint64_t c = (std::uint64_t(counter_[1]) << 32 | counter_[0]) + blocks;
    counter_[0] = static_cast<std::uint32_t>(c);
    counter_[1] = static_cast<std::uint32_t>(c >> 32);
    used_ = 4;
  }

  /// The stream's key {seed mod 2^32, seed >> 32}.
  constexpr key_type key() const noexcept { return key_; }
  /// The counter of the next block the engine generates ({block_lo, block_hi, frame, purpose});
  /// the words of a partly used block, if any, come before it.
  constexpr block_type counter() const noexcept { return counter_; }

  /// The Philox4x32-R bijection of Salmon et al. (2011), R = 10 for the engine: R rounds of
  ///   (c0, c1, c2, c3) ← (hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0))
  /// with M0 = 0xD2511F53, M1 = 0xCD9E8D57, the key bumped by the Weyl constants
  /// (0x9E3779B9, 0xBB67AE85) before every round after the first. Word order and key schedule
  /// follow Random123's philox.h, so `block` reproduces its kat_vectors exactly.
  template <int Rounds = 10>
  static constexpr block_type block(block_type ctr, key_type key) noexcept {
    static_assert(Rounds >= 1 && Rounds <= 16, "Philox4x32 is defined for 1..16 rounds");
    constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
    constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
    for (int round = 0; round < Rounds; ++round) {
      if (round > 0) {
        key[0] += w0;
        key[1] += w1;
      }
      const std::uint64_t p0 = std::uint64_t(m0) * ctr[0];
      const std::uint64_t p1 = std::uint64_t(m1) * ctr[2];
      ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
             static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
    }
    return ctr;
  }

 private:
  key_type key_;
  block_type counter_;
  block_type buffer_{};
  int used_ = 4;
};

static_assert(bit_engine<Philox4x32>);

/// Uniform on [0, 1): the top 24 bits of one output for float, the top 53 bits of next_u64()
/// for double; every value is a multiple of 2^-24 (2^-53), so 1 is never returned.
template <class T, bit_engine Rng>
constexpr T uniform01(Rng& rng) noexcept {
  if constexpr (sizeof(T) <= 4) {
    return static_cast<T>(rng() >> 8) * T(0x1.0p-24);
  } else {
    return static_cast<T>(rng.next_u64() >> 11) * T(0x1.0p-53);
  }
}

}  // namespace smlm

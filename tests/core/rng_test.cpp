// Philox4x32-10: known answers, the stream-address contract, discard_blocks, thread-count
// independence, and independence of neighbouring streams.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/parallel.hpp>
#include <smlm/core/rng.hpp>

namespace {

using smlm::Philox4x32;
using block = Philox4x32::block_type;
using key = Philox4x32::key_type;

// Known-answer vectors of Random123 (D. E. Shaw Research), file tests/kat_vectors of the
// Random123 distribution, lines "philox4x32 R ctr[4] key[2] -> out[4]", as reproduced in
// DEShawResearch/Random123-Boost libs/random/test/test_philox.cpp ("cut-and-pasted from the
// kat_vectors file in the original Random123 distribution").
struct kat {
  block ctr;
  key k;
  block expected;
};
constexpr kat kat10[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};
constexpr kat kat7[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000},
     {0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}},
};

// The bijection is constexpr: the known answers hold at compile time too.
static_assert(Philox4x32::block(kat10[0].ctr, kat10[0].k) == kat10[0].expected);
static_assert(Philox4x32::block(kat10[2].ctr, kat10[2].k) == kat10[2].expected);
static_assert(Philox4x32::block<7>(kat7[1].ctr, kat7[1].k) == kat7[1].expected);

// Output i of stream (seed, frame, purpose) by the documented contract.
std::uint32_t reference_output(std::uint64_t seed, std::uint32_t frame, std::uint32_t purpose, std::uint64_t i) {
  const std::uint64_t b = i / 4;
  const block out = Philox4x32::block({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32), frame, purpose},
                                      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  return out[i % 4];
}

// Pearson correlation of two equally long samples.
double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

std::vector<double> uniforms(Philox4x32 rng, std::size_t n) {
  std::vector<double> u(n);
  for (auto& x : u) x = smlm::uniform01<double>(rng);
  return u;
}

// An engine that always returns the same bits: drives the conversions to their extremes.
struct constant_engine {
  std::uint32_t bits;
  std::uint32_t operator()() noexcept { return bits; }
  std::uint64_t next_u64() noexcept { return std::uint64_t{bits} << 32 | bits; }
};
static_assert(smlm::bit_engine<constant_engine>);

}  // namespace

TEST_CASE("Philox4x32 block reproduces the Random123 known-answer vectors") {
  for (const auto& v : kat10) {
    CAPTURE(v.ctr[0]);
    CHECK(Philox4x32::block(v.ctr, v.k) == v.expected);
    CHECK(Philox4x32::block<10>(v.ctr, v.k) == v.expected);
  }
  for (const auto& v : kat7) {
    CAPTURE(v.ctr[0]);
    CHECK(Philox4x32::block<7>(v.ctr, v.k) == v.expected);
  }
}

TEST_CASE("the engine's stream address maps onto the Philox counter and key") {
  // ctr = {block lo, block hi, frame, purpose}, key = {seed lo, seed hi}: each KAT input is
  // reached by choosing seed, frame, purpose and skipping to the block index.
  for (const auto& v : kat10) {
    CAPTURE(v.ctr[0]);
    const std::uint64_t seed = std::uint64_t{v.k[1]} << 32 | v.k[0];
    Philox4x32 rng(seed, v.ctr[2], v.ctr[3]);
    rng.discard_blocks(std::uint64_t{v.ctr[1]} << 32 | v.ctr[0]);
    for (int i = 0; i < 4; ++i) CHECK(rng() == v.expected[static_cast<std::size_t>(i)]);
  }
}

TEST_CASE("output i of a stream is word i mod 4 of block i / 4") {
  const std::uint64_t seed = 0x0123456789ABCDEFull;
  CAPTURE(seed);
  Philox4x32 rng(seed, 17, smlm::rng_purpose::camera);
  for (std::uint64_t i = 0; i < 64; ++i) {
    CAPTURE(i);
    CHECK(rng() == reference_output(seed, 17, 4, i));
  }
  // next_u64 is two outputs, the first one high.
  const std::uint64_t both = rng.next_u64();
  CHECK((both >> 32) == reference_output(seed, 17, 4, 64));
  CHECK((both & 0xFFFFFFFFu) == reference_output(seed, 17, 4, 65));
  // The purpose enum and its numeric value address the same stream.
  Philox4x32 a(seed, 3, smlm::rng_purpose::blinking), b(seed, 3, std::uint32_t{2});
  for (int i = 0; i < 8; ++i) CHECK(a() == b());
}

TEST_CASE("the block counter carries from its low word into its high word") {
  const std::uint64_t seed = 99;
  CAPTURE(seed);
  Philox4x32 rng(seed, 5, smlm::rng_purpose::photons);
  rng.discard_blocks(0xFFFFFFFFull);  // next block: {0xFFFFFFFF, 0}, then {0, 1}
  for (std::uint64_t i = 0; i < 8; ++i) CHECK(rng() == reference_output(seed, 5, 3, 4 * 0xFFFFFFFFull + i));
  // Block indices wrap modulo 2^64: skipping 2^64 − 1 more blocks from block 2^32 + 1 lands on 2^32.
  Philox4x32 wrap(seed, 5, smlm::rng_purpose::photons);
  wrap.discard_blocks(0x100000001ull);
  wrap.discard_blocks(~std::uint64_t{0});
  CHECK(wrap() == reference_output(seed, 5, 3, 4 * 0x100000000ull));
}

TEST_CASE("the same address gives the same sequence, any other address another one") {
  const std::uint64_t seed = 20240601;
  CAPTURE(seed);
  auto first = [](Philox4x32 rng) {
    std::vector<std::uint32_t> v(256);
    for (auto& x : v) x = rng();
    return v;
  };
  const auto base = first(Philox4x32(seed, 7, smlm::rng_purpose::camera));
  CHECK(first(Philox4x32(seed, 7, smlm::rng_purpose::camera)) == base);
  CHECK(first(Philox4x32(seed + 1, 7, smlm::rng_purpose::camera)) != base);
  CHECK(first(Philox4x32(seed + (std::uint64_t{1} << 32), 7, smlm::rng_purpose::camera)) != base);
  CHECK(first(Philox4x32(seed, 8, smlm::rng_purpose::camera)) != base);
  CHECK(first(Philox4x32(seed, 7, smlm::rng_purpose::codec)) != base);
}

TEST_CASE("discard_blocks agrees with drawing") {
  const std::uint64_t seed = 42;
  CAPTURE(seed);
  for (std::uint64_t drawn : {0u, 1u, 3u, 4u, 5u, 8u, 17u}) {
    for (std::uint64_t skip : {0u, 1u, 2u, 5u, 100u}) {
      CAPTURE(drawn);
      CAPTURE(skip);
      Philox4x32 skipped(seed, 1, smlm::rng_purpose::emitters);
      Philox4x32 walked(seed, 1, smlm::rng_purpose::emitters);
      for (std::uint64_t i = 0; i < drawn; ++i) {
        skipped();
        walked();
      }
      skipped.discard_blocks(skip);
      // Documented position: the rest of a partly used block is dropped, then `skip` blocks.
      const std::uint64_t next = 4 * ((drawn + 3) / 4 + skip);
      for (std::uint64_t i = drawn; i < next; ++i) walked();
      for (int i = 0; i < 12; ++i) CHECK(skipped() == walked());
    }
  }
}

TEST_CASE("uniform01 stays in [0, 1) with the documented resolution") {
  constant_engine ones{0xFFFFFFFFu}, zeros{0};
  CHECK(smlm::uniform01<float>(ones) == 1.0f - 0x1.0p-24f);
  CHECK(smlm::uniform01<double>(ones) == 1.0 - 0x1.0p-53);
  CHECK(smlm::uniform01<float>(zeros) == 0.0f);
  CHECK(smlm::uniform01<double>(zeros) == 0.0);
  static_assert(noexcept(smlm::uniform01<float>(ones)));

  Philox4x32 rng(7, 0, smlm::rng_purpose::user);
  for (int i = 0; i < 10000; ++i) {
    const float f = smlm::uniform01<float>(rng);
    const double d = smlm::uniform01<double>(rng);
    REQUIRE(f >= 0.0f);
    REQUIRE(f < 1.0f);
    REQUIRE(d >= 0.0);
    REQUIRE(d < 1.0);
    REQUIRE(std::ldexp(static_cast<double>(f), 24) == std::floor(std::ldexp(static_cast<double>(f), 24)));
  }
}

TEST_CASE("a simulation gives bit-identical frames on 1 and 2 threads") {
  // Each frame draws from its own (seed, frame, purpose) stream, mixing samplers with fixed and
  // with random numbers of draws; the assignment of frames to threads must not matter.
  const std::uint64_t seed = 31337;
  CAPTURE(seed);
  constexpr std::ptrdiff_t frames = 48;
  constexpr std::size_t pixels = 32 * 32;
  auto simulate = [&](int threads) {
    std::vector<float> out(static_cast<std::size_t>(frames) * pixels);
    smlm::parallel_for(frames, threads, [&](std::ptrdiff_t f, int) {
      smlm::Philox4x32 rng(seed, static_cast<std::uint32_t>(f), smlm::rng_purpose::camera);
      float* frame = out.data() + static_cast<std::size_t>(f) * pixels;
      for (std::size_t i = 0; i < pixels; ++i) {
        const float mean = 0.5f + static_cast<float>(i % 97) * 3.0f;  // both Poisson methods
        frame[i] = static_cast<float>(smlm::poisson(rng, mean)) + smlm::normal<float>(rng, 0.0f, 1.5f) +
                   smlm::gamma(rng, 2.0f, 1.0f) + static_cast<float>(smlm::binomial(rng, 40, 0.4f));
      }
    });
    return out;
  };
  const auto one = simulate(1);
  const auto two = simulate(2);
  REQUIRE(one.size() == two.size());
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  CHECK(simulate(0) == one);
}

TEST_CASE("neighbouring streams are uncorrelated") {
  // Sample correlation of n paired uniforms: |r| ≤ 4/√n, 4 standard errors under independence.
  const std::size_t n = 1'000'000;
  const double bound = 4 / std::sqrt(static_cast<double>(n));
  const std::uint64_t seed = 0x5EED;
  CAPTURE(seed);
  CAPTURE(n);
  const auto base = uniforms(Philox4x32(seed, 10, smlm::rng_purpose::camera), n);
  Philox4x32 later(seed, 10, smlm::rng_purpose::camera);
  later.discard_blocks(1);
  const struct {
    const char* what;
    Philox4x32 rng;
  } neighbours[] = {
      {"seed + 1", Philox4x32(seed + 1, 10, smlm::rng_purpose::camera)},
      {"seed + 2^32", Philox4x32(seed + (std::uint64_t{1} << 32), 10, smlm::rng_purpose::camera)},
      {"frame + 1", Philox4x32(seed, 11, smlm::rng_purpose::camera)},
      {"purpose + 1", Philox4x32(seed, 10, smlm::rng_purpose::codec)},
      {"one block later in the same stream", later},
  };
  for (const auto& neighbour : neighbours) {
    CAPTURE(neighbour.what);
    CHECK(std::abs(correlation(base, uniforms(neighbour.rng, n))) <= bound);
  }
  const std::vector<double> head(base.begin(), base.end() - 1), tail(base.begin() + 1, base.end());
  CHECK(std::abs(correlation(head, tail)) <= bound);  // lag 1 within the stream
}

// simd/philox.hpp: the lane-wise Philox equals Philox4x32::block bit for bit.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <smlm/core/rng.hpp>
#include <smlm/simd/philox.hpp>
#include <vector>

TEST_CASE("philox_lanes_ref and philox_lanes equal Philox4x32::block") {
  const std::uint64_t seed = 0x9A11;
  MESSAGE("seed " << seed);
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  constexpr std::size_t n = 256;
  std::vector<std::uint32_t> c0(n), c1(n);
  for (std::size_t j = 0; j < n; ++j) {
    c0[j] = rng();
    c1[j] = j % 3 == 0 ? 0u : j % 3 == 1 ? 0xFFFFFFFFu : rng();  // adversarial: all-zero, all-one words
  }
  c0[0] = 0;
  c0[1] = 0xFFFFFFFFu;
  const smlm::Philox4x32::key_type key{0xDEADBEEFu, 0xFFFFFFFFu};
  std::array<std::vector<std::uint32_t>, 4> ref;
  for (auto& r : ref) r.resize(n);
  std::uint32_t* const out[4] = {ref[0].data(), ref[1].data(), ref[2].data(), ref[3].data()};
  smlm::simd::philox_lanes_ref(c0.data(), c1.data(), 7, 4, key, n, out);
  std::size_t bad_ref = 0, bad_simd = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const auto b = smlm::Philox4x32::block({c0[j], c1[j], 7, 4}, key);
    for (std::size_t w = 0; w < 4; ++w) bad_ref += ref[w][j] != b[w];
  }
  CHECK(bad_ref == 0);
#if !defined(SMLM_NO_SIMD)
  using U = xsimd::batch<std::uint64_t>;
  for (std::size_t j0 = 0; j0 + U::size <= n; j0 += U::size) {
    alignas(64) std::array<std::uint64_t, U::size> a{}, b{};
    for (std::size_t l = 0; l < U::size; ++l) {
      a[l] = c0[j0 + l];
      b[l] = c1[j0 + l];
    }
    U words[4];
    smlm::simd::philox_lanes(U::load_aligned(a.data()), U::load_aligned(b.data()), 7, 4, key, words);
    for (std::size_t w = 0; w < 4; ++w) {
      alignas(64) std::array<std::uint64_t, U::size> got{};
      words[w].store_aligned(got.data());
      for (std::size_t l = 0; l < U::size; ++l) bad_simd += got[l] != ref[w][j0 + l];
    }
  }
  CHECK(bad_simd == 0);
#endif
}

TEST_CASE("Philox4x32 exposes its key and next counter") {
  smlm::Philox4x32 rng(0x1234567890ABCDEFull, 9, smlm::rng_purpose::camera);
  CHECK(rng.key() == smlm::Philox4x32::key_type{0x90ABCDEFu, 0x12345678u});
  CHECK(rng.counter() == smlm::Philox4x32::block_type{0, 0, 9, 4});
  rng();
  CHECK(rng.counter() == smlm::Philox4x32::block_type{1, 0, 9, 4});
  rng.discard_blocks(0xFFFFFFFFull);
  CHECK(rng.counter() == smlm::Philox4x32::block_type{0, 1, 9, 4});
}

TEST_CASE("philox_stream gives Philox4x32's words in order") {
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x9A11}, ~std::uint64_t{0}}) {
    MESSAGE("seed " << seed);
    smlm::Philox4x32 ref(seed, 77, smlm::rng_purpose::blinking);
    smlm::simd::philox_stream got(seed, 77, smlm::rng_purpose::blinking);
    std::size_t bad = 0;
    // words one by one and in 64-bit pairs, across many refills, starting at odd offsets
    for (std::size_t i = 0; i < 1000; ++i) bad += got() != ref();
    for (std::size_t i = 0; i < 1000; ++i) bad += got.next_u64() != ref.next_u64();
    CHECK(bad == 0);
  }
  // A different frame or purpose is a different stream.
  smlm::simd::philox_stream a(5, 1, smlm::rng_purpose::blinking), b(5, 2, smlm::rng_purpose::blinking),
      c(5, 1, smlm::rng_purpose::photons);
  const std::uint32_t x = a();
  CHECK(x != b());
  CHECK(x != c());
}

// simd/samplers.hpp: the vector word → number conversions against their references, on random
// (printed seed) and adversarial words; normal7 against the library's double normal quantile.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/simd/samplers.hpp>
#include <vector>

namespace {
std::vector<std::uint32_t> test_words(std::uint64_t seed) {
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  std::vector<std::uint32_t> w = {0u, 1u, 2u, 0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFFu, 0xFFFFFFFEu,
                                  0x0000FFFFu, 0x7FFFFF00u, 0x13333333u, 0x93333333u};
  for (int i = 0; i < 4096; ++i) w.push_back(rng());
  while (w.size() % 16 != 0) w.push_back(rng());
  return w;
}
}  // namespace

TEST_CASE("normal7_ref: the PPND7 quantile within its stated error, symmetric, finite") {
  const std::uint64_t seed = 0x5A3;
  MESSAGE("seed " << seed);
  double worst = 0;
  for (const std::uint32_t w : test_words(seed)) {
    const double z = smlm::simd::normal7_ref(w);
    REQUIRE(std::isfinite(z));
    const double p = static_cast<double>((w & 0x7FFFFFFFu) | 1u) * 0x1.0p-32;
    const double exact = smlm::normal_quantile(p);  // PPND16
    const double err = std::abs(std::abs(z) - std::abs(exact)) / (1 + std::abs(exact));
    worst = std::max(worst, err);
    CHECK(smlm::simd::normal7_ref(w ^ 0x80000000u) == -z);
  }
  CAPTURE(worst);
  CHECK(worst <= 3.5e-7);
  CHECK(std::abs(smlm::simd::normal7_ref(0x7FFFFFFFu)) < 1e-9);       // p at ½
  CHECK(smlm::simd::normal7_ref(0u) == doctest::Approx(-6.23).epsilon(1e-3));  // the tail's end
  CHECK(smlm::simd::uniform24_ref(0xFFFFFFFFu) < 1.0);
  CHECK(smlm::simd::uniform32_ref(0xFFFFFFFFu) < 1.0);
  CHECK(smlm::simd::uniform_nonzero_ref(0u) > 0.0);
}

#if !defined(SMLM_NO_SIMD)
namespace {
/// Calls f(lanes, batch) for each whole batch of the test words (as 64-bit lanes).
template <class F>
void for_each_word_batch(const std::vector<std::uint32_t>& words, F&& f) {
  using U = xsimd::batch<std::uint64_t>;
  for (std::size_t j0 = 0; j0 + U::size <= words.size(); j0 += U::size) {
    alignas(64) std::array<std::uint64_t, U::size> in{};
    for (std::size_t l = 0; l < U::size; ++l) in[l] = words[j0 + l];
    f(in, U::load_aligned(in.data()));
  }
}
}  // namespace

TEST_CASE("xsimd samplers equal their references (uniforms bit for bit, normal7 within 2 ulp)") {
  const std::uint64_t seed = 0x5A4;
  MESSAGE("seed " << seed);
  using D = xsimd::batch<double>;
  std::size_t bad_uniform = 0, bad_normal = 0;
  double worst_ulp = 0;
  for_each_word_batch(test_words(seed), [&](const auto& in, const auto& w) {
    alignas(64) std::array<double, D::size> u24{}, u32{}, unz{}, z{};
    smlm::simd::uniform24(w).store_aligned(u24.data());
    smlm::simd::uniform32(w).store_aligned(u32.data());
    smlm::simd::uniform_nonzero(w).store_aligned(unz.data());
    smlm::simd::normal7(w).store_aligned(z.data());
    for (std::size_t l = 0; l < in.size(); ++l) {
      const auto x = static_cast<std::uint32_t>(in[l]);
      bad_uniform += u24[l] != smlm::simd::uniform24_ref(x);
      bad_uniform += u32[l] != smlm::simd::uniform32_ref(x);
      bad_uniform += unz[l] != smlm::simd::uniform_nonzero_ref(x);
      const double r = smlm::simd::normal7_ref(x);
      if (!std::isfinite(z[l])) ++bad_normal;
      const double ulp = std::abs(z[l] - r) / (std::nextafter(std::abs(r), 1e300) - std::abs(r));
      worst_ulp = std::max(worst_ulp, ulp);
    }
  });
  CAPTURE(worst_ulp);
  CHECK(bad_uniform == 0);
  CHECK(bad_normal == 0);
  // The central region is the same rational function; the tails go through xsimd's log.
  CHECK(worst_ulp <= 8);
}
TEST_CASE("normal7_centre and normal7_tail together equal normal7 bit for bit") {
  const std::uint64_t seed = 0x5A5;
  MESSAGE("seed " << seed);
  using D = xsimd::batch<double>;
  std::size_t differ = 0, tails = 0;
  for_each_word_batch(test_words(seed), [&](const auto& in, const auto& w) {
    xsimd::batch_bool<double> tail;
    const D centre = smlm::simd::normal7_centre(w, tail);
    alignas(64) std::array<double, D::size> z{}, split{}, is_tail{};
    smlm::simd::normal7(w).store_aligned(z.data());
    xsimd::select(tail, smlm::simd::normal7_tail(w), centre).store_aligned(split.data());
    xsimd::select(tail, D(1), D(0)).store_aligned(is_tail.data());
    for (std::size_t l = 0; l < in.size(); ++l) {
      differ += z[l] != split[l];
      tails += is_tail[l] != 0;
    }
  });
  CHECK(differ == 0);
  CHECK(tails > 0);
}
TEST_CASE("log_normal equals xsimd::log bit for bit on 0 and finite normal arguments") {
  using D = xsimd::batch<double>;
  smlm::Philox4x32 rng(0x5A6, 0, smlm::rng_purpose::user);
  std::vector<double> x = {0.0, 0x1.0p-1022, 0x1.0p-32, 0x1.0p-24, 0.5, 1.0, 1.0 - 0x1.0p-53, 1.0 + 0x1.0p-52, 2.0, 12.0,
                           0x1.6a09e667f3bcdp-1, 0x1.6a09e667f3bcdp0, 1e300, 0x1.fffffffffffffp1023};
  for (int i = 0; i < 20000; ++i) {
    const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53;
    x.push_back(i % 2 == 0 ? u : std::ldexp(u + 0.5, static_cast<int>(rng() % 2000) - 1000));
  }
  while (x.size() % D::size != 0) x.push_back(1.0);
  std::size_t differ = 0;
  for (std::size_t j0 = 0; j0 < x.size(); j0 += D::size) {
    const D v = D::load_unaligned(x.data() + j0);
    alignas(64) std::array<double, D::size> a{}, b{};
    smlm::simd::log_normal(v).store_aligned(a.data());
    xsimd::log(v).store_aligned(b.data());
    for (std::size_t l = 0; l < D::size; ++l) differ += a[l] != b[l] && !(std::isnan(a[l]) && std::isnan(b[l]));
  }
  CHECK(differ == 0);
}
#endif

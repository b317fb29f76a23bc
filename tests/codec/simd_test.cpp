// The xsimd kernels against their scalar references, bit for bit: random blocks (printed seed)
// over the whole int16 range and the 8-bit residual range, adversarial blocks (all 255, all 0,
// ±extremes, checkerboards, single spikes), every QP and both dead zones, and unaligned data.
// Under SMLM_NO_SIMD the unsuffixed kernels are the references and this file checks nothing extra.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include <smlm/codec/quant.hpp>
#include <smlm/codec/sad.hpp>
#include <smlm/codec/transform.hpp>

namespace codec = smlm::codec;
using codec::block4x4;

#if !defined(SMLM_NO_SIMD)

namespace {

std::vector<block4x4> test_blocks(std::uint32_t seed) {
  std::vector<block4x4> blocks;
  const auto make = [&](auto value_of) {
    block4x4 b{};
    for (int k = 0; k < 16; ++k) b[k] = static_cast<std::int16_t>(value_of(k >> 2, k & 3));
    blocks.push_back(b);
  };
  for (const int v : {0, 255, -255, 32767, -32768, 1, -1, 910, -910, 4095, -4096})
    make([v](int, int) { return v; });
  for (const int v : {255, 32767, -32768}) {
    make([v](int i, int j) { return (i + j) % 2 ? v : 0; });
    make([v](int i, int j) { return (i + j) % 2 ? -v : v; });
    make([v](int i, int) { return i < 2 ? v : -v; });
    for (int k = 0; k < 16; ++k) make([v, k](int i, int j) { return 4 * i + j == k ? v : 0; });
  }
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> full(-32768, 32767), residual(-255, 255), small(-20, 20);
  for (int n = 0; n < 400; ++n) {
    make([&](int, int) { return full(rng); });
    make([&](int, int) { return residual(rng); });
    make([&](int, int) { return small(rng); });
  }
  return blocks;
}

/// A copy of `b` at an odd int16 offset inside a larger buffer: an unaligned span.
struct Unaligned {
  std::array<std::int16_t, 20> storage{};
  std::span<std::int16_t, 16> view() { return std::span<std::int16_t, 16>(storage.data() + 1, 16); }
  explicit Unaligned(const block4x4& b) { std::copy(b.begin(), b.end(), storage.begin() + 1); }
};

}  // namespace

TEST_CASE("simd: transforms equal their references on every test block, aligned or not") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  for (const block4x4& b : test_blocks(seed)) {
    CAPTURE(b);
    block4x4 ref{}, simd{};
    codec::forward_4x4_ref(b, ref);
    codec::forward_4x4_simd(b, simd);
    CHECK(ref == simd);
    codec::inverse_4x4_ref(b, ref);
    codec::inverse_4x4_simd(b, simd);
    CHECK(ref == simd);
    codec::forward_hadamard_4x4_ref(b, ref);
    codec::forward_hadamard_4x4_simd(b, simd);
    CHECK(ref == simd);
    codec::inverse_hadamard_4x4_ref(b, ref);
    codec::inverse_hadamard_4x4_simd(b, simd);
    CHECK(ref == simd);
    Unaligned in(b), out(block4x4{});
    codec::inverse_4x4_simd(in.view(), out.view());
    codec::inverse_4x4_ref(b, ref);
    CHECK(std::equal(ref.begin(), ref.end(), out.view().begin()));
  }
}

TEST_CASE("simd: quantization and scaling equal their references at every QP and dead zone") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  const auto blocks = test_blocks(seed);
  for (int qp = codec::qp_min; qp <= codec::qp_max; ++qp) {
    CAPTURE(qp);
    for (const block4x4& b : blocks) {
      for (const auto mode : {codec::quant_mode::intra, codec::quant_mode::inter}) {
        block4x4 ref{}, simd{};
        const int n_ref = codec::quantize_4x4_ref(b, ref, qp, mode);
        const int n_simd = codec::quantize_4x4_simd(b, simd, qp, mode);
        CHECK(n_ref == n_simd);
        CHECK(ref == simd);
        CHECK(codec::quantize_dc_4x4_ref(b, ref, qp, mode) == codec::quantize_dc_4x4_simd(b, simd, qp, mode));
        CHECK(ref == simd);
      }
      block4x4 ref{}, simd{};
      codec::dequantize_4x4_ref(b, ref, qp);
      codec::dequantize_4x4_simd(b, simd, qp);
      CHECK(ref == simd);
      codec::dequantize_dc_4x4_ref(b, ref, qp);
      codec::dequantize_dc_4x4_simd(b, simd, qp);
      CHECK(ref == simd);
      Unaligned in(b), out(block4x4{});
      codec::dequantize_4x4_simd(in.view(), out.view(), qp);
      codec::dequantize_4x4_ref(b, ref, qp);
      CHECK(std::equal(ref.begin(), ref.end(), out.view().begin()));
    }
  }
}

TEST_CASE("simd: SAD, SATD and the residual transform equal their references on random, extreme and unaligned samples") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> a(7 * 40), b(7 * 40);
  const auto check_at = [&](int offset_a, int offset_b, std::ptrdiff_t stride) {
    CAPTURE(offset_a);
    CAPTURE(offset_b);
    CHECK(codec::sad_4x4_ref(a.data() + offset_a, stride, b.data() + offset_b, stride) ==
          codec::sad_4x4_simd(a.data() + offset_a, stride, b.data() + offset_b, stride));
    CHECK(codec::satd_4x4_ref(a.data() + offset_a, stride, b.data() + offset_b, stride) ==
          codec::satd_4x4_simd(a.data() + offset_a, stride, b.data() + offset_b, stride));
    block4x4 ref{}, simd{};
    codec::forward_4x4_of_difference_ref(a.data() + offset_a, stride, b.data() + offset_b, stride, ref);
    codec::forward_4x4_of_difference_simd(a.data() + offset_a, stride, b.data() + offset_b, stride, simd);
    CHECK(ref == simd);
  };
  const auto fill = [&](auto va, auto vb) {
    for (std::size_t k = 0; k < a.size(); ++k) {
      a[k] = static_cast<std::uint8_t>(va(k));
      b[k] = static_cast<std::uint8_t>(vb(k));
    }
    for (int oa = 0; oa < 4; ++oa)
      for (int ob = 0; ob < 4; ++ob) check_at(oa, ob + 3, 40);
  };
  fill([](std::size_t) { return 255; }, [](std::size_t) { return 0; });
  fill([](std::size_t) { return 0; }, [](std::size_t) { return 255; });
  fill([](std::size_t k) { return (k + k / 40) % 2 ? 255 : 0; }, [](std::size_t) { return 0; });
  fill([](std::size_t k) { return (k + k / 40) % 2 ? 255 : 0; }, [](std::size_t k) { return (k + k / 40) % 2 ? 0 : 255; });
  for (int trial = 0; trial < 50; ++trial) fill([&](std::size_t) { return rng() & 0xFF; }, [&](std::size_t) { return rng() & 0xFF; });
  // The worst SATD: ±255 in a Hadamard basis pattern.
  fill([](std::size_t k) { return ((k % 40) < 2) == ((k / 40) < 2) ? 255 : 0; }, [](std::size_t) { return 0; });
}

#endif

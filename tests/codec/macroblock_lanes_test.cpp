// The lane layout of a macroblock (known positions, load/store round trips at odd strides and
// offsets) and the whole-macroblock kernels against their block-by-block references, bit for bit:
// random macroblocks (printed seed) and adversarial ones (all 0, all 255, checkerboards, spikes),
// every QP, both dead zones, with and without the Intra16×16 DC split.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include <smlm/codec/macroblock_lanes.hpp>

namespace codec = smlm::codec;
using codec::MacroblockLanes;

namespace {

/// A 16×16 macroblock of samples inside a wider buffer (stride 37, odd offset 3): unaligned.
struct Samples {
  static constexpr std::ptrdiff_t stride = 37;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(3 + 16 * stride, 0);
  std::uint8_t* mb() { return buffer.data() + 3; }
  std::uint8_t& operator()(int y, int x) { return mb()[y * stride + x]; }
};

template <class Value>
MacroblockLanes lanes_of(Value value) {
  MacroblockLanes m;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) m.at(codec::raster_index(y % 4, x % 4), codec::raster_index(y / 4, x / 4)) = value(y, x);
  return m;
}

std::vector<MacroblockLanes> sample_macroblocks(std::uint32_t seed) {
  std::vector<MacroblockLanes> out;
  for (const int v : {0, 255, 1, 128}) out.push_back(lanes_of([v](int, int) { return v; }));
  out.push_back(lanes_of([](int y, int x) { return (x + y) % 2 ? 255 : 0; }));
  out.push_back(lanes_of([](int y, int x) { return (x / 4 + y / 4) % 2 ? 255 : 0; }));
  out.push_back(lanes_of([](int y, int) { return y < 8 ? 255 : 0; }));
  out.push_back(lanes_of([](int y, int x) { return y == 5 && x == 9 ? 255 : 0; }));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> full(0, 255), near(100, 140);
  for (int n = 0; n < 60; ++n) {
    out.push_back(lanes_of([&](int, int) { return full(rng); }));
    out.push_back(lanes_of([&](int, int) { return near(rng); }));
  }
  return out;
}

}  // namespace

TEST_CASE("lanes: sample (y, x) sits at position (y % 4, x % 4) of lane (y / 4, x / 4)") {
  Samples s;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) s(y, x) = static_cast<std::uint8_t>(16 * y + x);
  MacroblockLanes ref, fast;
  codec::load_lanes_ref(s.mb(), Samples::stride, ref);
  codec::load_lanes(s.mb(), Samples::stride, fast);
  CHECK(ref.at(0, 0) == 0);
  CHECK(ref.at(1, 0) == 1);             // (0, 1)
  CHECK(ref.at(4, 0) == 16);            // (1, 0)
  CHECK(ref.at(0, 1) == 4);             // (0, 4): block column 1
  CHECK(ref.at(0, 4) == 64);            // (4, 0): block row 1
  CHECK(ref.at(15, 15) == 255);         // (15, 15)
  CHECK(ref.at(codec::raster_index(2, 3), codec::raster_index(1, 2)) == 16 * 6 + 11);
  CHECK(ref.v == fast.v);

  Samples back_ref, back_fast;
  codec::store_lanes_ref(ref, back_ref.mb(), Samples::stride);
  codec::store_lanes(ref, back_fast.mb(), Samples::stride);
  CHECK(back_ref.buffer == s.buffer);   // the round trip restores every sample and writes nothing else
  CHECK(back_fast.buffer == s.buffer);
}

TEST_CASE("lanes: block masks and lane numbering follow luma4x4BlkIdx") {
  CHECK(codec::lane_of_block(0) == 0);
  CHECK(codec::lane_of_block(1) == 1);
  CHECK(codec::lane_of_block(2) == 4);
  CHECK(codec::lane_of_block(4) == 2);
  CHECK(codec::lane_of_block(15) == 15);
  CHECK(codec::lane_mask_to_blocks(0) == 0);
  CHECK(codec::lane_mask_to_blocks(0xFFFF) == 0xFFFF);
  CHECK(codec::lane_mask_to_blocks(1u << 2) == 1u << 4);  // lane 2 = block-row 0, column 2 = BlkIdx 4
  CHECK(codec::lane_mask_to_blocks(1u << 4) == 1u << 2);
  CHECK(codec::lane_mask_to_blocks(1u << 10) == 1u << 12);
}

TEST_CASE("lanes: load/store SIMD equal the references on random macroblocks") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  for (int n = 0; n < 50; ++n) {
    Samples s;
    for (auto& v : s.buffer) v = static_cast<std::uint8_t>(rng());
    MacroblockLanes ref, fast;
    codec::load_lanes_ref(s.mb(), Samples::stride, ref);
    codec::load_lanes(s.mb(), Samples::stride, fast);
    REQUIRE(ref.v == fast.v);
    Samples a = s, b = s;
    codec::store_lanes_ref(ref, a.mb(), Samples::stride);
    codec::store_lanes(ref, b.mb(), Samples::stride);
    REQUIRE(a.buffer == s.buffer);
    REQUIRE(b.buffer == s.buffer);
  }
}

#if !defined(SMLM_NO_SIMD)
TEST_CASE("lanes: SATD, SAD, forward+quantize and reconstruction equal their references") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  const auto blocks = sample_macroblocks(seed);
  std::mt19937 rng(seed + 1);
  for (std::size_t a = 0; a < blocks.size(); ++a) {
    const MacroblockLanes& source = blocks[a];
    const MacroblockLanes& prediction = blocks[(a * 7 + 3) % blocks.size()];
    CAPTURE(a);
    REQUIRE(codec::satd_lanes_simd(source, prediction) == codec::satd_lanes_ref(source, prediction));
    REQUIRE(codec::sad_lanes_simd(source, prediction) == codec::sad_lanes_ref(source, prediction));
    for (int qp = codec::qp_min; qp <= codec::qp_max; ++qp) {
      CAPTURE(qp);
      for (const auto mode : {codec::quant_mode::intra, codec::quant_mode::inter})
        for (const bool split : {false, true}) {
          MacroblockLanes ref, fast;
          std::array<std::int16_t, 16> dc_ref{}, dc_fast{};
          const auto mask_ref = codec::forward_quantize_lanes_ref(source, prediction, qp, mode, split, ref, dc_ref);
          const auto mask_fast = codec::forward_quantize_lanes_simd(source, prediction, qp, mode, split, fast, dc_fast);
          REQUIRE(mask_ref == mask_fast);
          REQUIRE(ref.v == fast.v);
          if (split) REQUIRE(dc_ref == dc_fast);
        }
      // Reconstruction from the levels of this residual, and from arbitrary int16 levels and DCs.
      MacroblockLanes levels;
      std::array<std::int16_t, 16> dc{};
      codec::forward_quantize_lanes_ref(source, prediction, qp, codec::quant_mode::intra, true, levels, dc);
      std::uniform_int_distribution<int> any16(-32768, 32767), small(-40, 40);
      MacroblockLanes wild;
      for (auto& v : wild.v) v = rng() % 4 == 0 ? any16(rng) : small(rng);
      std::array<std::int16_t, 16> wild_dc{};
      for (auto& v : wild_dc) v = static_cast<std::int16_t>(any16(rng));
      for (const MacroblockLanes* l : {&levels, &wild})
        for (const std::int16_t* d : std::array<const std::int16_t*, 3>{nullptr, dc.data(), wild_dc.data()}) {
          MacroblockLanes ref, fast;
          codec::reconstruct_lanes_ref(*l, qp, d, prediction, ref);
          codec::reconstruct_lanes_simd(*l, qp, d, prediction, fast);
          REQUIRE(ref.v == fast.v);
        }
    }
  }
}
#endif

TEST_CASE("lanes: zero levels reconstruct the prediction; the DC alone adds (dc + 32) >> 6 everywhere") {
  const auto prediction = lanes_of([](int y, int x) { return (7 * y + 3 * x) % 256; });
  MacroblockLanes zero, out;
  codec::reconstruct_lanes(zero, 30, nullptr, prediction, out);
  CHECK(out.v == prediction.v);
  std::array<std::int16_t, 16> dc{};
  for (int l = 0; l < 16; ++l) dc[static_cast<std::size_t>(l)] = static_cast<std::int16_t>(64 * (l - 8));
  codec::reconstruct_lanes(zero, 30, dc.data(), prediction, out);
  for (int p = 0; p < 16; ++p)
    for (int l = 0; l < 16; ++l) CHECK(out.at(p, l) == codec::clip_pixel(prediction.at(p, l) + ((dc[l] + 32) >> 6)));
}

TEST_CASE("lanes: a flat residual of +10 quantizes to one DC coefficient per block (intra, QP 20)") {
  const auto prediction = lanes_of([](int, int) { return 100; });
  const auto source = lanes_of([](int, int) { return 110; });
  MacroblockLanes levels;
  std::array<std::int16_t, 16> dc{};
  // Y_00 = 16·10 = 160 and all AC zero; with the DC split every AC level is zero.
  CHECK(codec::forward_quantize_lanes(source, prediction, 20, codec::quant_mode::intra, true, levels, dc) == 0);
  for (const std::int16_t v : dc) CHECK(v == 160);
  // Without it, level_00 = (160·MF(20 % 6 = 2, class 0) + f) >> qbits = (160·10082 + 2^18/3) >> 18 = 6.
  CHECK(codec::forward_quantize_lanes(source, prediction, 20, codec::quant_mode::intra, false, levels, dc) == 0xFFFF);
  for (int l = 0; l < 16; ++l) {
    CHECK(levels.at(0, l) == 6);
    for (int p = 1; p < 16; ++p) CHECK(levels.at(p, l) == 0);
  }
  CHECK(codec::satd_lanes(source, prediction) == 16 * 80);  // per block Σ|H·D·H| = 160, halved
  CHECK(codec::sad_lanes(source, prediction) == 2560);
}

#if !defined(SMLM_NO_SIMD)
TEST_CASE("lanes: scan masks and large-level lanes equal the reference") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(-3, 3), any16(-32768, 32767);
  for (int n = 0; n < 200; ++n) {
    MacroblockLanes m;
    const int density = n % 5;  // from all-zero to dense
    for (auto& v : m.v) v = static_cast<int>(rng() % 5) < density ? (n % 7 == 0 ? any16(rng) : level(rng)) : 0;
    std::array<std::uint16_t, 16> ref{}, fast{};
    const auto large_ref = codec::scan_masks_lanes_ref(m, ref);
    const auto large_fast = codec::scan_masks_lanes_simd(m, fast);
    REQUIRE(large_ref == large_fast);
    REQUIRE(ref == fast);
  }
}
#endif

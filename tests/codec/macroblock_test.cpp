// reconstruct_4x4 against the clause path written out (dequantize_4x4_ref, d_00 = dc,
// inverse_4x4_ref, add_4x4_ref): its shortcuts for blocks without levels (prediction kept, or the
// constant residual (dc + 32) >> 6 of a DC-only Intra16×16 block) must give the same samples.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>

#include <smlm/codec/macroblock.hpp>

namespace codec = smlm::codec;
using codec::block4x4;

namespace {

std::array<std::uint8_t, 16> clause_path(const block4x4& levels, int qp, const std::int16_t* dc,
                                         const std::array<std::uint8_t, 16>& prediction) {
  block4x4 d{}, r{};
  codec::dequantize_4x4_ref(levels, d, qp);
  if (dc != nullptr) d[0] = *dc;
  codec::inverse_4x4_ref(d, r);
  std::array<std::uint8_t, 16> out{};
  codec::add_4x4_ref(r, prediction.data(), 4, out.data(), 4);
  return out;
}

}  // namespace

TEST_CASE("reconstruct_4x4 equals dequantize + inverse transform + add, with and without levels or DC") {
  const std::uint32_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> sample(0, 255), dc_value(-32768, 32767), small_dc(-200, 200), level(-3, 3);
  int dc_only_changed = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    const int qp = trial % 52;
    std::array<std::uint8_t, 16> prediction{};
    for (auto& p : prediction) p = static_cast<std::uint8_t>(trial % 7 == 0 ? 255 * (trial % 2) : sample(rng));
    block4x4 levels{};
    if (trial % 3 == 0)  // a few levels; otherwise none, the shortcut
      for (auto& v : levels) v = static_cast<std::int16_t>(rng() % 4 == 0 ? level(rng) : 0);
    const std::int16_t dc = static_cast<std::int16_t>(trial % 2 ? dc_value(rng) : small_dc(rng));
    for (const bool with_dc : {false, true}) {
      CAPTURE(trial);
      CAPTURE(qp);
      CAPTURE(dc);
      const std::int16_t* dcp = with_dc ? &dc : nullptr;
      const auto expected = clause_path(levels, qp, dcp, prediction);
      auto samples = prediction;
      codec::reconstruct_4x4(levels, qp, dcp, samples.data(), 4);
      CHECK(samples == expected);
      dc_only_changed += with_dc && levels == block4x4{} && expected != prediction;
    }
  }
  CHECK(dc_only_changed > 100);  // the DC-only shortcut was exercised with a non-zero residual
}

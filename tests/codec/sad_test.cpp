// SAD and SATD of 4×4 blocks. Known answers by hand: for a difference D that is one Hadamard
// basis pattern times k (constant, checkerboard) H·D·H has a single entry 16·k, so SATD = 8·|k|;
// a single differing sample gives |H·D·H| = |k| in all 16 entries, SATD = 8·|k| too. Random
// blocks are checked against a matrix-product oracle and the bounds SAD ≤ 2·SATD ≤ 16·SAD.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <utility>
#include <vector>

#include <smlm/codec/sad.hpp>

namespace codec = smlm::codec;

namespace {

/// Two 4×4 blocks inside larger frames with different strides and unaligned offsets.
struct block_pair {
  static constexpr std::ptrdiff_t a_stride = 13, b_stride = 7;
  std::vector<std::uint8_t> a_frame = std::vector<std::uint8_t>(5 * a_stride, 0xEE);
  std::vector<std::uint8_t> b_frame = std::vector<std::uint8_t>(5 * b_stride, 0x11);
  std::uint8_t* a() { return a_frame.data() + a_stride + 3; }
  std::uint8_t* b() { return b_frame.data() + b_stride + 1; }
  void set(int i, int j, int a_value, int b_value) {
    a()[i * a_stride + j] = static_cast<std::uint8_t>(a_value);
    b()[i * b_stride + j] = static_cast<std::uint8_t>(b_value);
  }
  template <class F>
  void fill(F values) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const auto [x, y] = values(i, j);
        set(i, j, x, y);
      }
  }
  int sad() { return codec::sad_4x4(a(), a_stride, b(), b_stride); }
  int satd() { return codec::satd_4x4(a(), a_stride, b(), b_stride); }
  int satd_swapped() { return codec::satd_4x4_ref(b(), b_stride, a(), a_stride); }
};

int satd_oracle(block_pair& p) {
  constexpr int h[4][4] = {{1, 1, 1, 1}, {1, 1, -1, -1}, {1, -1, -1, 1}, {1, -1, 1, -1}};
  int d[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) d[i][j] = int{p.a()[i * p.a_stride + j]} - int{p.b()[i * p.b_stride + j]};
  int sum = 0;
  for (int u = 0; u < 4; ++u)
    for (int v = 0; v < 4; ++v) {
      int y = 0;
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) y += h[u][i] * d[i][j] * h[j][v];
      sum += std::abs(y);
    }
  return sum / 2;
}

}  // namespace

TEST_CASE("SAD and SATD: hand-computed blocks") {
  block_pair p;
  p.fill([](int i, int j) { return std::pair{17 * i + j, 17 * i + j}; });
  CHECK(p.sad() == 0);
  CHECK(p.satd() == 0);

  p.fill([](int, int) { return std::pair{255, 0}; });  // constant difference 255
  CHECK(p.sad() == 4080);
  CHECK(p.satd() == 2040);
  p.fill([](int, int) { return std::pair{0, 255}; });
  CHECK(p.sad() == 4080);
  CHECK(p.satd() == 2040);

  p.fill([](int, int) { return std::pair{100, 100}; });
  p.set(2, 1, 100, 91);  // one sample differs by 9
  CHECK(p.sad() == 9);
  CHECK(p.satd() == 72);

  // ±k checkerboard: D = k·v·vᵀ, v = (1, −1, 1, −1), so H·D·H = 16·k at (3, 3) only.
  p.fill([](int i, int j) { return (i + j) % 2 ? std::pair{0, 40} : std::pair{40, 0}; });
  CHECK(p.sad() == 640);
  CHECK(p.satd() == 320);

  // 255/0 checkerboard against 0: D = 127.5·(all ones + checkerboard), H·D·H = 2040 at (0, 0)
  // and at (3, 3); SATD = 4080 / 2.
  p.fill([](int i, int j) { return std::pair{(i + j) % 2 ? 0 : 255, 0}; });
  CHECK(p.sad() == 2040);
  CHECK(p.satd() == 2040);

  // A horizontal ramp d_ij = j: H·D·H = (4, 0, 0, 0)ᵀ·(6, −4, 0, −2) → Σ|·| = 48.
  p.fill([](int, int j) { return std::pair{10 + j, 10}; });
  CHECK(p.sad() == 24);
  CHECK(p.satd() == 24);
}

TEST_CASE("SATD: oracle, non-negativity, symmetry and SAD ≤ 2·SATD ≤ 16·SAD on random blocks") {
  const unsigned seed = 2718;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  bool all = true;
  for (int n = 0; n < 3000; ++n) {
    block_pair p;
    const int spread = n % 3 == 0 ? 256 : (n % 3 == 1 ? 8 : 2);
    const int base = static_cast<int>(rng() % 256);
    p.fill([&](int, int) {
      const int a = spread == 256 ? static_cast<int>(rng() % 256) : std::clamp(base + static_cast<int>(rng() % spread), 0, 255);
      const int b = spread == 256 ? static_cast<int>(rng() % 256) : std::clamp(base + static_cast<int>(rng() % spread), 0, 255);
      return std::pair{a, b};
    });
    const int sad = p.sad(), satd = p.satd();
    all = all && satd == satd_oracle(p) && satd >= 0 && satd == p.satd_swapped();
    all = all && sad == codec::sad_4x4_ref(p.b(), p.b_stride, p.a(), p.a_stride);
    all = all && sad <= 2 * satd && 2 * satd <= 16 * sad && satd <= 8160 && sad <= 4080;
  }
  CHECK(all);
}
